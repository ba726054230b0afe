#include "storage/reply_store.hpp"

#include <rocksdb/db.h>

#include <algorithm>
#include <limits>
#include <memory>

#include "storage/detail/log_access.hpp"
#include "storage/detail/schema.hpp"
#include "storage/detail/varint.hpp"

namespace storage {

namespace {

using namespace detail;

constexpr std::uint8_t format_version = 1;
constexpr char reply_prefix = 'r';
constexpr char customer_prefix = 'c';
constexpr char part_prefix = 'p';
constexpr char seen_prefix = 's';
constexpr char conversation_prefix = 'v';
constexpr char conversation_customer_prefix = 'w';
constexpr char conversation_campaign_prefix = 'k';
constexpr char outbox_prefix = 'o';
constexpr char dead_prefix = 'x';
constexpr char message_outbox_prefix = 'm';
constexpr char message_dead_prefix = 'n';
constexpr char answer_prefix = 'a';

std::string answer_key(std::string_view customer) {
  std::string k(1, answer_prefix);
  k.append(address_key(customer));
  return k;
}

std::string reply_key(std::uint64_t id) {
  std::string k(1, reply_prefix);
  put_u64_be(k, id);
  return k;
}

std::string customer_prefix_of(std::string_view customer) {
  std::string k(1, customer_prefix);
  k.append(address_key(customer));
  k.push_back('\0');
  return k;
}

std::string customer_key(const reply_record& r) {
  std::string k = customer_prefix_of(r.from);
  put_u64_be(k, static_cast<std::uint64_t>(r.received_us));
  put_u64_be(k, r.id);
  return k;
}

std::string conversation_key(std::uint64_t id) {
  std::string k(1, conversation_prefix);
  put_u64_be(k, id);
  return k;
}

std::string conversation_customer_prefix_of(std::string_view customer) {
  std::string k(1, conversation_customer_prefix);
  k.append(address_key(customer));
  k.push_back('\0');
  return k;
}

std::string conversation_campaign_prefix_of(std::string_view campaign) {
  std::string k(1, conversation_campaign_prefix);
  k.append(campaign);
  k.push_back('\0');
  return k;
}

std::string be_value(std::int64_t v) {
  std::string out;
  put_u64_be(out, static_cast<std::uint64_t>(v));
  return out;
}

}  // namespace

std::string_view name(message_event e) noexcept {
  switch (e) {
    case message_event::none: return "none";
    case message_event::delivered: return "delivered";
    case message_event::failed: return "failed";
    case message_event::undelivered_by_deadline: return "undelivered_by_deadline";
  }
  return "invalid";
}

std::string outbox_key(const outbox_entry& e, bool dead) {
  if (e.event == message_event::none) {
    std::string k(1, dead ? dead_prefix : outbox_prefix);
    put_u64_be(k, e.reply_id);
    k.append(e.webhook);
    return k;
  }
  std::string k(1, dead ? message_dead_prefix : message_outbox_prefix);
  put_u64_be(k, e.message_id);
  k.push_back(static_cast<char>(e.event));
  k.append(e.webhook);
  return k;
}

void encode_outbox(const outbox_entry& e, std::string& out) {
  out.assign(1, static_cast<char>(format_version));
  put_varint(out, e.attempts);
  put_varint(out, static_cast<std::uint64_t>(e.next_us));
  put_string(out, e.last_error);
  if (e.event == message_event::none) return;
  out.push_back(static_cast<char>(e.st));
  out.push_back(static_cast<char>(e.settled_by));
  put_varint(out, e.error_code);
  put_varint(out, e.command_status);
  put_varint(out, static_cast<std::uint64_t>(e.at_us));
}

std::error_code decode_outbox(std::string_view key, std::string_view value, outbox_entry& e) {
  e = outbox_entry{};
  if (key.empty()) return storage_errc::corrupt_record;
  const bool message = key[0] == message_outbox_prefix || key[0] == message_dead_prefix;
  if (!message && key[0] != outbox_prefix && key[0] != dead_prefix) return storage_errc::corrupt_record;
  if (key.size() < (message ? 10u : 9u)) return storage_errc::corrupt_record;
  if (message) {
    e.message_id = read_u64_be(key.substr(1, 8));
    const auto ev = static_cast<std::uint8_t>(key[9]);
    if (ev == 0 || ev >= message_event_count) return storage_errc::corrupt_record;
    e.event = static_cast<message_event>(ev);
    e.webhook = std::string(key.substr(10));
  } else {
    e.reply_id = read_u64_be(key.substr(1, 8));
    e.webhook = std::string(key.substr(9));
  }
  varint_reader rd(value);
  const std::uint8_t version = rd.byte();
  if (!rd.ok()) return storage_errc::corrupt_record;
  if (version != format_version) return storage_errc::unknown_version;
  const std::uint64_t attempts = rd.varint();
  e.attempts = static_cast<std::uint32_t>(attempts);
  e.next_us = static_cast<std::int64_t>(rd.varint());
  e.last_error = rd.string();
  bool ok = attempts <= 0xFFFFFFFF;
  if (message) {
    const std::uint8_t st = rd.byte(), c = rd.byte();
    const std::uint64_t error = rd.varint(), status = rd.varint();
    e.at_us = static_cast<std::int64_t>(rd.varint());
    ok = ok && st < state_count && c < cause_count && error <= 0xFFFFFFFF && status <= 0xFFFFFFFF;
    e.st = static_cast<state>(st);
    e.settled_by = static_cast<cause>(c);
    e.error_code = static_cast<std::uint32_t>(error);
    e.command_status = static_cast<std::uint32_t>(status);
  }
  if (!rd.ok() || !rd.at_end() || !ok) return storage_errc::corrupt_record;
  return {};
}

outbox_entry message_outbox_entry(message_event event, const message_record& r, std::string webhook,
                                  std::int64_t at_us) {
  outbox_entry o;
  o.event = event;
  o.message_id = r.id;
  o.webhook = std::move(webhook);
  o.st = r.st;
  o.at_us = at_us;
  // The part that decided the message's state: the first in it (a
  // message is in the state of its most severe part).
  for (const part_record& p : r.parts)
    if (p.st == r.st) {
      o.settled_by = p.settled_by;
      o.error_code = p.error_code;
      o.command_status = p.command_status;
      break;
    }
  return o;
}

std::string_view name(reply_keyword k) noexcept {
  switch (k) {
    case reply_keyword::none: return "none";
    case reply_keyword::opt_out: return "opt_out";
    case reply_keyword::opt_in: return "opt_in";
    case reply_keyword::help: return "help";
  }
  return "none";
}

std::string_view name(match_method m) noexcept {
  switch (m) {
    case match_method::none: return "none";
    case match_method::number: return "number";
    case match_method::code: return "code";
    case match_method::recent: return "recent";
  }
  return "none";
}

void encode_part(const inbound_part& p, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(format_version));
  put_string(out, p.smsc);
  put_string(out, p.source);
  put_string(out, p.destination);
  out.push_back(static_cast<char>(p.esm_class));
  out.push_back(static_cast<char>(p.data_coding));
  out.push_back(static_cast<char>(p.data_sm ? 1 : 0));
  put_varint(out, p.sar_reference);
  out.push_back(static_cast<char>(p.sar_total));
  out.push_back(static_cast<char>(p.sar_seqnum));
  put_varint(out, static_cast<std::uint64_t>(p.received_us));
  put_string(out, p.short_message);
}

std::error_code decode_part(std::string_view in, inbound_part& p) {
  varint_reader rd(in);
  const std::uint8_t version = rd.byte();
  if (!rd.ok()) return storage_errc::corrupt_record;
  if (version != format_version) return storage_errc::unknown_version;
  p.smsc = rd.string();
  p.source = rd.string();
  p.destination = rd.string();
  p.esm_class = rd.byte();
  p.data_coding = rd.byte();
  const std::uint8_t flags = rd.byte();
  p.data_sm = flags & 1;
  const std::uint64_t ref = rd.varint();
  p.sar_reference = static_cast<std::uint16_t>(ref);
  p.sar_total = rd.byte();
  p.sar_seqnum = rd.byte();
  p.received_us = static_cast<std::int64_t>(rd.varint());
  p.short_message = rd.string();
  if (!rd.ok() || !rd.at_end() || ref > 0xFFFF || flags > 1) return storage_errc::corrupt_record;
  return {};
}

void encode_reply(const reply_record& r, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(format_version));
  put_varint(out, r.id);
  put_string(out, r.smsc);
  put_string(out, r.from);
  put_string(out, r.to);
  put_string(out, r.text);
  out.push_back(static_cast<char>(r.parts_total));
  out.push_back(static_cast<char>(r.parts_received));
  put_varint(out, static_cast<std::uint64_t>(r.received_us));
  out.push_back(static_cast<char>(r.keyword));
  put_varint(out, r.conversation);
  out.push_back(static_cast<char>(r.method));
  put_string(out, r.answer);
}

void encode_conversation(const conversation_record& c, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(format_version));
  put_varint(out, c.id);
  put_string(out, c.customer);
  put_string(out, c.number);
  put_string(out, c.code);
  put_varint(out, c.message_id);
  put_varint(out, static_cast<std::uint64_t>(c.opened_us));
  put_varint(out, static_cast<std::uint64_t>(c.expires_us));
  put_string(out, c.answer);
  put_varint(out, c.replies);
  put_varint(out, static_cast<std::uint64_t>(c.last_reply_us));
  put_string(out, c.campaign);
}

std::error_code decode_conversation(std::string_view in, conversation_record& c) {
  varint_reader rd(in);
  const std::uint8_t version = rd.byte();
  if (!rd.ok()) return storage_errc::corrupt_record;
  if (version != format_version) return storage_errc::unknown_version;
  c.id = rd.varint();
  c.customer = rd.string();
  c.number = rd.string();
  c.code = rd.string();
  c.message_id = rd.varint();
  c.opened_us = static_cast<std::int64_t>(rd.varint());
  c.expires_us = static_cast<std::int64_t>(rd.varint());
  c.answer = rd.string();
  c.replies = rd.varint();
  c.last_reply_us = static_cast<std::int64_t>(rd.varint());
  c.campaign.clear();
  if (rd.ok() && !rd.at_end()) c.campaign = rd.string();
  if (!rd.ok() || !rd.at_end()) return storage_errc::corrupt_record;
  return {};
}

std::error_code decode_reply(std::string_view in, reply_record& r) {
  varint_reader rd(in);
  const std::uint8_t version = rd.byte();
  if (!rd.ok()) return storage_errc::corrupt_record;
  if (version != format_version) return storage_errc::unknown_version;
  r.id = rd.varint();
  r.smsc = rd.string();
  r.from = rd.string();
  r.to = rd.string();
  r.text = rd.string();
  r.parts_total = rd.byte();
  r.parts_received = rd.byte();
  r.received_us = static_cast<std::int64_t>(rd.varint());
  const std::uint8_t k = rd.byte();
  r.keyword = static_cast<reply_keyword>(k);
  r.conversation = rd.varint();
  const std::uint8_t m = rd.byte();
  r.method = static_cast<match_method>(m);
  r.answer = rd.string();
  if (!rd.ok() || !rd.at_end() || k >= reply_keyword_count || m >= match_method_count)
    return storage_errc::corrupt_record;
  return {};
}

void encode_opt_out(const opt_out_entry& e, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(format_version));
  out.push_back(static_cast<char>(e.opted_out ? 1 : 0));
  put_varint(out, static_cast<std::uint64_t>(e.since_us));
  put_varint(out, e.reply_id);
  put_string(out, e.word);
}

std::error_code decode_opt_out(std::string_view in, opt_out_entry& e) {
  varint_reader rd(in);
  const std::uint8_t version = rd.byte();
  if (!rd.ok()) return storage_errc::corrupt_record;
  if (version != format_version) return storage_errc::unknown_version;
  const std::uint8_t flag = rd.byte();
  e.opted_out = flag == 1;
  e.since_us = static_cast<std::int64_t>(rd.varint());
  e.reply_id = rd.varint();
  e.word = rd.string();
  if (!rd.ok() || !rd.at_end() || flag > 1) return storage_errc::corrupt_record;
  return {};
}

void encode_answer_mark(const answer_mark& m, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(format_version));
  put_varint(out, static_cast<std::uint64_t>(m.ack_us));
  put_varint(out, static_cast<std::uint64_t>(m.answer_us));
}

std::error_code decode_answer_mark(std::string_view in, answer_mark& m) {
  varint_reader rd(in);
  const std::uint8_t version = rd.byte();
  if (!rd.ok()) return storage_errc::corrupt_record;
  if (version != format_version) return storage_errc::unknown_version;
  m.ack_us = static_cast<std::int64_t>(rd.varint());
  m.answer_us = static_cast<std::int64_t>(rd.varint());
  if (!rd.ok() || !rd.at_end()) return storage_errc::corrupt_record;
  return {};
}

namespace detail {

std::optional<reply_record> get_reply(const db_handles& h, std::uint64_t id, std::error_code& ec) {
  ec.clear();
  if (!h.cfs[cf_replies]) return std::nullopt;
  std::string v;
  const rocksdb::Status st = h.db->Get(rocksdb::ReadOptions(), h.cfs[cf_replies], reply_key(id), &v);
  if (st.IsNotFound()) return std::nullopt;
  if (!st.ok()) {
    ec = to_error(st);
    return std::nullopt;
  }
  reply_record r;
  if ((ec = decode_reply(v, r))) return std::nullopt;
  return r;
}

std::vector<reply_record> replies_from(const db_handles& h, std::string_view customer, std::size_t limit,
                                       std::error_code& ec) {
  ec.clear();
  std::vector<reply_record> out;
  if (!h.cfs[cf_replies] || address_key(customer).empty()) return out;
  const std::string prefix = customer_prefix_of(customer);
  std::string upper = prefix;
  upper.back() = '\1';  // just past every key of the prefix
  std::unique_ptr<rocksdb::Iterator> it(h.db->NewIterator(rocksdb::ReadOptions(), h.cfs[cf_replies]));
  for (it->SeekForPrev(upper); it->Valid() && out.size() < limit; it->Prev()) {
    const std::string_view k = it->key().ToStringView();
    if (!k.starts_with(prefix)) break;
    if (k.size() != prefix.size() + 16) continue;
    auto r = get_reply(h, read_u64_be(k.substr(prefix.size() + 8)), ec);
    if (ec) return out;
    if (r) out.push_back(std::move(*r));
  }
  if (!ec) ec = to_error(it->status());
  return out;
}

}  // namespace detail

reply_store::reply_store(message_log& log) : log_(log) {
  const db_handles& h = log_access::handles(log);
  std::unique_ptr<rocksdb::Iterator> it(h.db->NewIterator(rocksdb::ReadOptions(), h.cfs[cf_replies]));
  it->SeekForPrev(std::string(1, reply_prefix + 1));
  if (it->Valid() && it->key().size() == 9 && it->key()[0] == reply_prefix)
    next_id_ = read_u64_be(it->key().ToStringView().substr(1));
  it->SeekForPrev(std::string(1, conversation_prefix + 1));
  if (it->Valid() && it->key().size() == 9 && it->key()[0] == conversation_prefix)
    max_conversation_ = read_u64_be(it->key().ToStringView().substr(1));
}

std::uint64_t reply_store::put_conversation(const conversation_record& c, std::error_code& ec) {
  log_event e;
  e.kind = event_kind::write;
  std::string value;
  encode_conversation(c, value);
  e.writes.push_back(kv_write{cf_replies, conversation_key(c.id), std::move(value)});
  std::string index = conversation_customer_prefix_of(c.customer);
  put_u64_be(index, static_cast<std::uint64_t>(c.opened_us));
  put_u64_be(index, c.id);
  e.writes.push_back(kv_write{cf_replies, std::move(index), {}});
  if (!c.campaign.empty()) {
    std::string by_campaign = conversation_campaign_prefix_of(c.campaign);
    put_u64_be(by_campaign, c.id);
    e.writes.push_back(kv_write{cf_replies, std::move(by_campaign), {}});
  }
  return log_access::enqueue(log_, std::span(&e, 1), ec);
}

std::vector<conversation_record> reply_store::conversations_of_campaign(std::string_view campaign,
                                                                        std::uint64_t after_id, std::size_t limit,
                                                                        std::error_code& ec) const {
  ec.clear();
  std::vector<conversation_record> out;
  if (campaign.empty()) return out;
  const db_handles& h = log_access::handles(log_);
  const std::string prefix = conversation_campaign_prefix_of(campaign);
  std::string from = prefix;
  put_u64_be(from, after_id + 1);
  std::unique_ptr<rocksdb::Iterator> it(h.db->NewIterator(rocksdb::ReadOptions(), h.cfs[cf_replies]));
  for (it->Seek(from); it->Valid() && out.size() < limit; it->Next()) {
    const std::string_view k = it->key().ToStringView();
    if (!k.starts_with(prefix)) break;
    if (k.size() != prefix.size() + 8) continue;
    auto c = conversation(read_u64_be(k.substr(prefix.size())), ec);
    if (ec) return out;
    if (c) out.push_back(std::move(*c));
  }
  if (!ec) ec = to_error(it->status());
  return out;
}

std::optional<conversation_record> reply_store::conversation(std::uint64_t id, std::error_code& ec) const {
  ec.clear();
  const db_handles& h = log_access::handles(log_);
  std::string v;
  const rocksdb::Status st = h.db->Get(rocksdb::ReadOptions(), h.cfs[cf_replies], conversation_key(id), &v);
  if (st.IsNotFound()) return std::nullopt;
  if (!st.ok()) {
    ec = to_error(st);
    return std::nullopt;
  }
  conversation_record c;
  if ((ec = decode_conversation(v, c))) return std::nullopt;
  return c;
}

std::vector<conversation_record> reply_store::conversations_of(std::string_view customer, std::size_t limit,
                                                               std::error_code& ec) const {
  ec.clear();
  std::vector<conversation_record> out;
  if (address_key(customer).empty()) return out;
  const db_handles& h = log_access::handles(log_);
  const std::string prefix = conversation_customer_prefix_of(customer);
  std::string upper = prefix;
  upper.back() = '\1';
  std::unique_ptr<rocksdb::Iterator> it(h.db->NewIterator(rocksdb::ReadOptions(), h.cfs[cf_replies]));
  for (it->SeekForPrev(upper); it->Valid() && out.size() < limit; it->Prev()) {
    const std::string_view k = it->key().ToStringView();
    if (!k.starts_with(prefix)) break;
    if (k.size() != prefix.size() + 16) continue;
    auto c = conversation(read_u64_be(k.substr(prefix.size() + 8)), ec);
    if (ec) return out;
    if (c) out.push_back(std::move(*c));
  }
  if (!ec) ec = to_error(it->status());
  return out;
}

std::vector<conversation_record> reply_store::conversations_since(std::int64_t since_us, std::error_code& ec) const {
  std::vector<conversation_record> out;
  const db_handles& h = log_access::handles(log_);
  std::unique_ptr<rocksdb::Iterator> it(h.db->NewIterator(rocksdb::ReadOptions(), h.cfs[cf_replies]));
  for (it->Seek(std::string(1, conversation_prefix)); it->Valid(); it->Next()) {
    const std::string_view k = it->key().ToStringView();
    if (k.empty() || k[0] != conversation_prefix) break;
    conversation_record c;
    if ((ec = decode_conversation(it->value().ToStringView(), c))) return out;
    if (c.opened_us >= since_us) out.push_back(std::move(c));
  }
  ec = to_error(it->status());
  return out;
}

std::vector<reply_record> reply_store::replies_of(const conversation_record& c, std::error_code& ec) const {
  // The customer's replies since the conversation opened that name it.
  std::vector<reply_record> out;
  for (auto& r : replies_from(c.customer, 1000, ec))
    if (r.conversation == c.id) out.push_back(std::move(r));
  std::reverse(out.begin(), out.end());
  return out;
}

std::string reply_store::seen_key(const inbound_part& p) {
  std::string k(1, seen_prefix);
  k.append(p.smsc);
  k.push_back('\0');
  k.append(address_key(p.source));
  k.push_back('\0');
  k.append(address_key(p.destination));
  k.push_back('\0');
  k.push_back(static_cast<char>(p.esm_class & 0x40));
  k.push_back(static_cast<char>(p.data_coding));
  put_varint(k, p.sar_reference);
  k.push_back(static_cast<char>(p.sar_total));
  k.push_back(static_cast<char>(p.sar_seqnum));
  k.append(p.short_message);
  return k;
}

std::uint64_t reply_store::add_part(const inbound_part& p, std::string& key, std::error_code& ec) {
  log_event e;
  e.kind = event_kind::write;
  key.assign(1, part_prefix);
  put_u64_be(key, static_cast<std::uint64_t>(p.received_us));
  put_u64_be(key, ++next_part_);
  std::string value;
  encode_part(p, value);
  e.writes.push_back(kv_write{cf_inbound, key, std::move(value)});
  e.writes.push_back(kv_write{cf_inbound, seen_key(p), be_value(p.received_us)});
  return log_access::enqueue(log_, std::span(&e, 1), ec);
}

std::uint64_t reply_store::add_reply(reply_record& r, std::span<const std::string> part_keys,
                                     std::string_view seen, std::error_code& ec,
                                     std::span<const std::string> webhooks, const answer_mark* mark) {
  log_event e;
  e.kind = event_kind::write;
  const std::uint64_t id = ++next_id_;
  r.id = id;
  std::string value;
  encode_reply(r, value);
  e.writes.push_back(kv_write{cf_replies, reply_key(id), std::move(value)});
  e.writes.push_back(kv_write{cf_replies, customer_key(r), {}});
  for (const auto& k : part_keys) e.writes.push_back(kv_write{cf_inbound, k, {}, true});
  if (!seen.empty()) e.writes.push_back(kv_write{cf_inbound, std::string(seen), be_value(r.received_us)});
  for (const auto& w : webhooks) {
    outbox_entry o;
    o.reply_id = id;
    o.webhook = w;
    std::string v;
    encode_outbox(o, v);
    e.writes.push_back(kv_write{cf_replies, outbox_key(o, false), std::move(v)});
  }
  if (mark && !address_key(r.from).empty()) {
    std::string v;
    encode_answer_mark(*mark, v);
    e.writes.push_back(kv_write{cf_replies, answer_key(r.from), std::move(v)});
  }
  return log_access::enqueue(log_, std::span(&e, 1), ec);
}

std::optional<answer_mark> reply_store::answered(std::string_view customer, std::error_code& ec) const {
  ec.clear();
  if (address_key(customer).empty()) return std::nullopt;
  const db_handles& h = log_access::handles(log_);
  std::string v;
  const rocksdb::Status st = h.db->Get(rocksdb::ReadOptions(), h.cfs[cf_replies], answer_key(customer), &v);
  if (st.IsNotFound()) return std::nullopt;
  if (!st.ok()) {
    ec = to_error(st);
    return std::nullopt;
  }
  answer_mark m;
  if ((ec = decode_answer_mark(v, m))) return std::nullopt;
  return m;
}

std::uint64_t reply_store::set_answered(std::string_view customer, const answer_mark& m, std::error_code& ec) {
  ec.clear();
  if (address_key(customer).empty()) return 0;
  log_event e;
  e.kind = event_kind::write;
  std::string v;
  encode_answer_mark(m, v);
  e.writes.push_back(kv_write{cf_replies, answer_key(customer), std::move(v)});
  return log_access::enqueue(log_, std::span(&e, 1), ec);
}

std::size_t reply_store::forget_answered_before(std::int64_t cutoff_us,
                                                const std::function<bool(std::string_view)>& queued,
                                                std::error_code& ec) {
  const db_handles& h = log_access::handles(log_);
  log_event e;
  e.kind = event_kind::write;
  std::unique_ptr<rocksdb::Iterator> it(h.db->NewIterator(rocksdb::ReadOptions(), h.cfs[cf_replies]));
  for (it->Seek(std::string(1, answer_prefix)); it->Valid(); it->Next()) {
    const std::string_view k = it->key().ToStringView();
    if (k.empty() || k[0] != answer_prefix) break;
    answer_mark m;
    if (!decode_answer_mark(it->value().ToStringView(), m) && std::max(m.ack_us, m.answer_us) >= cutoff_us) continue;
    if (queued && queued(k.substr(1))) continue;
    e.writes.push_back(kv_write{cf_replies, std::string(k), {}, true});
  }
  ec = to_error(it->status());
  if (ec || e.writes.empty()) return 0;
  const std::size_t n = e.writes.size();
  (void)log_access::enqueue(log_, std::span(&e, 1), ec);
  return ec ? 0 : n;
}

namespace {

// Appends up to `limit` entries whose keys start with `prefix`.
void scan_outbox(const db_handles& h, char prefix, std::size_t limit, std::vector<outbox_entry>& out,
                 std::error_code& ec) {
  std::unique_ptr<rocksdb::Iterator> it(h.db->NewIterator(rocksdb::ReadOptions(), h.cfs[cf_replies]));
  std::size_t n = 0;
  for (it->Seek(std::string(1, prefix)); it->Valid() && n < limit; it->Next()) {
    const std::string_view k = it->key().ToStringView();
    if (k.empty() || k[0] != prefix) break;
    outbox_entry e;
    if ((ec = decode_outbox(k, it->value().ToStringView(), e))) return;
    out.push_back(std::move(e));
    ++n;
  }
  ec = to_error(it->status());
}

// Replies' events, then messages' (each form up to `limit`, so that neither
// hides the other).
std::vector<outbox_entry> scan_both(const db_handles& h, bool dead, std::size_t limit, std::error_code& ec) {
  std::vector<outbox_entry> out;
  scan_outbox(h, dead ? dead_prefix : outbox_prefix, limit, out, ec);
  if (!ec) scan_outbox(h, dead ? message_dead_prefix : message_outbox_prefix, limit, out, ec);
  return out;
}

kv_write put_outbox(const outbox_entry& o, bool dead) {
  std::string v;
  encode_outbox(o, v);
  return kv_write{cf_replies, outbox_key(o, dead), std::move(v)};
}

kv_write erase_outbox(const outbox_entry& o, bool dead) { return kv_write{cf_replies, outbox_key(o, dead), {}, true}; }

}  // namespace

std::vector<outbox_entry> reply_store::outbox(std::size_t limit, std::error_code& ec) const {
  return scan_both(log_access::handles(log_), false, limit, ec);
}

std::vector<outbox_entry> reply_store::dead_letters(std::size_t limit, std::error_code& ec) const {
  return scan_both(log_access::handles(log_), true, limit, ec);
}

std::uint64_t reply_store::outbox_delivered(const outbox_entry& o, std::error_code& ec) {
  log_event e;
  e.kind = event_kind::write;
  e.writes.push_back(erase_outbox(o, false));
  return log_access::enqueue(log_, std::span(&e, 1), ec);
}

std::uint64_t reply_store::outbox_failed(const outbox_entry& o, std::error_code& ec) {
  log_event e;
  e.kind = event_kind::write;
  e.writes.push_back(put_outbox(o, false));
  return log_access::enqueue(log_, std::span(&e, 1), ec);
}

std::uint64_t reply_store::outbox_dead(const outbox_entry& o, std::error_code& ec) {
  log_event e;
  e.kind = event_kind::write;
  e.writes.push_back(erase_outbox(o, false));
  e.writes.push_back(put_outbox(o, true));
  return log_access::enqueue(log_, std::span(&e, 1), ec);
}

std::size_t reply_store::retry_dead_letters(std::error_code& ec) {
  auto dead = dead_letters(std::numeric_limits<std::size_t>::max(), ec);
  if (ec || dead.empty()) return 0;
  log_event e;
  e.kind = event_kind::write;
  for (auto& o : dead) {
    e.writes.push_back(erase_outbox(o, true));
    o.attempts = 0;
    o.next_us = 0;
    e.writes.push_back(put_outbox(o, false));
  }
  const std::uint64_t ticket = log_access::enqueue(log_, std::span(&e, 1), ec);
  if (!ec) log_.wait_durable(ticket);
  return ec ? 0 : dead.size();
}

std::vector<deadline_entry> reply_store::due_deadlines(std::int64_t now_us, std::size_t limit,
                                                       std::error_code& ec) const {
  std::vector<deadline_entry> out;
  const db_handles& h = log_access::handles(log_);
  std::unique_ptr<rocksdb::Iterator> it(h.db->NewIterator(rocksdb::ReadOptions(), h.cfs[cf_deadlines]));
  for (it->SeekToFirst(); it->Valid() && out.size() < limit; it->Next()) {
    const std::string_view k = it->key().ToStringView();
    if (k.size() != 16) {
      ec = storage_errc::corrupt_record;
      return out;
    }
    const auto by = static_cast<std::int64_t>(read_u64_be(k.substr(0, 8)));
    if (by > now_us) break;
    out.push_back(deadline_entry{by, read_u64_be(k.substr(8))});
  }
  ec = to_error(it->status());
  return out;
}

std::uint64_t reply_store::deadline_passed(const deadline_entry& d, std::span<const outbox_entry> events,
                                           std::error_code& ec) {
  log_event e;
  e.kind = event_kind::write;
  e.writes.push_back(kv_write{cf_deadlines, deadline_key(d.deliver_by_us, d.message_id), {}, true});
  for (const auto& o : events) e.writes.push_back(put_outbox(o, false));
  return log_access::enqueue(log_, std::span(&e, 1), ec);
}

std::uint64_t reply_store::drop_parts(std::span<const std::string> part_keys, std::error_code& ec) {
  log_event e;
  e.kind = event_kind::write;
  for (const auto& k : part_keys) e.writes.push_back(kv_write{cf_inbound, k, {}, true});
  return log_access::enqueue(log_, std::span(&e, 1), ec);
}

std::optional<std::int64_t> reply_store::seen(std::string_view key, std::error_code& ec) const {
  ec.clear();
  const db_handles& h = log_access::handles(log_);
  std::string v;
  const rocksdb::Status st =
      h.db->Get(rocksdb::ReadOptions(), h.cfs[cf_inbound], rocksdb::Slice(key.data(), key.size()), &v);
  if (st.IsNotFound()) return std::nullopt;
  if (!st.ok() || v.size() != 8) {
    ec = st.ok() ? make_error_code(storage_errc::corrupt_record) : to_error(st);
    return std::nullopt;
  }
  return static_cast<std::int64_t>(read_u64_be(v));
}

std::size_t reply_store::forget_seen_before(std::int64_t cutoff_us, std::error_code& ec) {
  const db_handles& h = log_access::handles(log_);
  log_event e;
  e.kind = event_kind::write;
  std::unique_ptr<rocksdb::Iterator> it(h.db->NewIterator(rocksdb::ReadOptions(), h.cfs[cf_inbound]));
  for (it->Seek(std::string(1, seen_prefix)); it->Valid(); it->Next()) {
    const std::string_view k = it->key().ToStringView();
    if (k.empty() || k[0] != seen_prefix) break;
    const std::string_view v = it->value().ToStringView();
    if (v.size() == 8 && static_cast<std::int64_t>(read_u64_be(v)) >= cutoff_us) continue;
    e.writes.push_back(kv_write{cf_inbound, std::string(k), {}, true});
  }
  ec = to_error(it->status());
  if (ec || e.writes.empty()) return 0;
  const std::size_t n = e.writes.size();
  (void)log_access::enqueue(log_, std::span(&e, 1), ec);
  return ec ? 0 : n;
}

std::vector<std::pair<std::string, inbound_part>> reply_store::waiting_parts(std::error_code& ec) const {
  const db_handles& h = log_access::handles(log_);
  std::vector<std::pair<std::string, inbound_part>> out;
  std::unique_ptr<rocksdb::Iterator> it(h.db->NewIterator(rocksdb::ReadOptions(), h.cfs[cf_inbound]));
  for (it->Seek(std::string(1, part_prefix)); it->Valid(); it->Next()) {
    const std::string_view k = it->key().ToStringView();
    if (k.empty() || k[0] != part_prefix) break;
    inbound_part p;
    if ((ec = decode_part(it->value().ToStringView(), p))) return out;
    out.emplace_back(std::string(k), std::move(p));
  }
  ec = to_error(it->status());
  return out;
}

std::uint64_t reply_store::set_opt_out(std::string_view address, const opt_out_entry& entry,
                                       std::error_code& ec) {
  log_event e;
  e.kind = event_kind::write;
  std::string value;
  encode_opt_out(entry, value);
  e.writes.push_back(kv_write{cf_suppression, address_key(address), std::move(value)});
  return log_access::enqueue(log_, std::span(&e, 1), ec);
}

std::map<std::string, opt_out_entry> reply_store::opt_outs(std::error_code& ec) const {
  const db_handles& h = log_access::handles(log_);
  std::map<std::string, opt_out_entry> out;
  std::unique_ptr<rocksdb::Iterator> it(h.db->NewIterator(rocksdb::ReadOptions(), h.cfs[cf_suppression]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    opt_out_entry e;
    if ((ec = decode_opt_out(it->value().ToStringView(), e))) return out;
    out.emplace(it->key().ToString(), std::move(e));
  }
  ec = to_error(it->status());
  return out;
}

std::optional<reply_record> reply_store::get(std::uint64_t id, std::error_code& ec) const {
  return get_reply(log_access::handles(log_), id, ec);
}

std::vector<reply_record> reply_store::replies_from(std::string_view customer, std::size_t limit,
                                                    std::error_code& ec) const {
  return detail::replies_from(log_access::handles(log_), customer, limit, ec);
}

// ---- retention ------------------------------------------------------------

namespace {

enum retention_phase : std::uint8_t {
  phase_conversations = 0,
  phase_replies,
  phase_reply_dead,
  phase_message_dead,
  phase_opt_ins,
  phase_done,
};

// The first key of `prefix` after `after` ("" : the first of all).
void seek_after(rocksdb::Iterator& it, std::string_view prefix, const std::string& after) {
  if (after.empty()) {
    it.Seek(rocksdb::Slice(prefix.data(), prefix.size()));
    return;
  }
  it.Seek(after);
  if (it.Valid() && it.key().ToStringView() == after) it.Next();
}

// Deletes every key of cf_replies that starts with `prefix`.
void erase_prefixed(rocksdb::Iterator& it, const std::string& prefix, std::vector<kv_write>& out) {
  for (it.Seek(prefix); it.Valid(); it.Next()) {
    const std::string_view k = it.key().ToStringView();
    if (!k.starts_with(prefix)) break;
    out.push_back(kv_write{cf_replies, std::string(k), {}, true});
  }
}

}  // namespace

bool retention_pass::done() const noexcept { return phase >= phase_done; }

std::uint64_t reply_store::remove_step(retention_pass& pass, std::size_t budget, std::error_code& ec) {
  ec.clear();
  if (pass.done()) return 0;
  const db_handles& h = log_access::handles(log_);
  log_event e;
  e.kind = event_kind::write;
  retention_counts removed = pass.removed;
  std::uint8_t phase = pass.phase;
  std::string after = pass.after;
  const auto next_phase = [&] {
    ++phase;
    after.clear();
  };
  std::unique_ptr<rocksdb::Iterator> related(h.db->NewIterator(rocksdb::ReadOptions(), h.cfs[cf_replies]));
  std::size_t looked = 0;
  while (phase < phase_done && looked < budget) {
    const bool suppression = phase == phase_opt_ins;
    std::unique_ptr<rocksdb::Iterator> it(
        h.db->NewIterator(rocksdb::ReadOptions(), h.cfs[suppression ? cf_suppression : cf_replies]));
    const char prefix = phase == phase_conversations ? conversation_prefix
                        : phase == phase_replies     ? reply_prefix
                        : phase == phase_reply_dead  ? dead_prefix
                                                     : message_dead_prefix;
    seek_after(*it, suppression ? std::string_view() : std::string_view(&prefix, 1), after);
    bool finished = true;  // the phase ran out of entries (or reached recent ones)
    for (; it->Valid(); it->Next()) {
      if (looked >= budget) {
        finished = false;
        break;
      }
      const std::string_view k = it->key().ToStringView();
      const std::string_view v = it->value().ToStringView();
      if (!suppression && (k.empty() || k[0] != prefix)) break;
      ++looked;
      after.assign(k);
      if (phase == phase_conversations) {
        conversation_record c;
        if (k.size() != 9 || decode_conversation(v, c)) continue;
        // Ids follow the time conversations open: the rest are newer.
        if (c.opened_us >= pass.cutoff_us) break;
        if (std::max({c.opened_us, c.last_reply_us, c.expires_us}) >= pass.cutoff_us) continue;
        if (pass.keep_conversation && pass.keep_conversation(c)) continue;
        e.writes.push_back(kv_write{cf_replies, std::string(k), {}, true});
        std::string index = conversation_customer_prefix_of(c.customer);
        put_u64_be(index, static_cast<std::uint64_t>(c.opened_us));
        put_u64_be(index, c.id);
        e.writes.push_back(kv_write{cf_replies, std::move(index), {}, true});
        if (!c.campaign.empty()) {
          std::string by_campaign = conversation_campaign_prefix_of(c.campaign);
          put_u64_be(by_campaign, c.id);
          e.writes.push_back(kv_write{cf_replies, std::move(by_campaign), {}, true});
        }
        ++removed.conversations;
      } else if (phase == phase_replies) {
        reply_record r;
        if (k.size() != 9 || decode_reply(v, r)) continue;
        // Ids follow the time replies are stored: the rest are newer.
        if (r.received_us >= pass.cutoff_us) break;
        e.writes.push_back(kv_write{cf_replies, std::string(k), {}, true});
        e.writes.push_back(kv_write{cf_replies, customer_key(r), {}, true});
        for (const char form : {outbox_prefix, dead_prefix}) {
          std::string events(1, form);
          put_u64_be(events, r.id);
          erase_prefixed(*related, events, e.writes);
        }
        ++removed.replies;
      } else if (phase == phase_reply_dead) {
        // A reply's dead letters go with it; one left behind (the webhook
        // sender gave up on an event as its reply was being removed) goes
        // on its own.
        if (k.size() < 9) continue;
        std::error_code gec;
        if (get_reply(h, read_u64_be(k.substr(1, 8)), gec) || gec) continue;
        e.writes.push_back(kv_write{cf_replies, std::string(k), {}, true});
        ++removed.dead_letters;
      } else if (phase == phase_message_dead) {
        outbox_entry o;
        if (decode_outbox(k, v, o) || o.at_us >= pass.cutoff_us) continue;
        e.writes.push_back(kv_write{cf_replies, std::string(k), {}, true});
        ++removed.dead_letters;
      } else {
        opt_out_entry o;
        if (decode_opt_out(v, o) || o.opted_out || o.since_us >= pass.cutoff_us) continue;
        if (pass.keep_number && pass.keep_number(k)) continue;
        e.writes.push_back(kv_write{cf_suppression, std::string(k), {}, true});
        ++removed.opt_ins;
      }
    }
    if ((ec = to_error(it->status())) || (ec = to_error(related->status()))) return 0;
    if (finished) next_phase();
  }
  std::uint64_t ticket = 0;
  if (!e.writes.empty()) {
    ticket = log_access::enqueue(log_, std::span(&e, 1), ec);
    if (ec) return 0;
  }
  pass.removed = removed;
  pass.phase = phase;
  pass.after = std::move(after);
  return ticket;
}

}  // namespace storage
