#include "storage/detail/schema.hpp"

#include <rocksdb/db.h>

#include <memory>

#include "storage/detail/varint.hpp"

namespace storage::detail {

std::error_code to_error(const rocksdb::Status& s) noexcept {
  if (s.ok()) return {};
  if (s.IsNotFound()) return storage_errc::not_found;
  return storage_errc::io_error;
}

std::string id_key(std::uint64_t id) {
  std::string k;
  k.reserve(8);
  put_u64_be(k, id);
  return k;
}

std::string deadline_key(std::int64_t deliver_by_us, std::uint64_t id) {
  std::string k;
  k.reserve(16);
  put_u64_be(k, static_cast<std::uint64_t>(deliver_by_us));
  put_u64_be(k, id);
  return k;
}

std::string smsc_index_key(std::string_view smsc, std::string_view id_key) {
  std::string k;
  k.reserve(smsc.size() + 1 + id_key.size());
  k.append(smsc);
  k.push_back('\0');
  k.append(id_key);
  return k;
}

std::string part_value(std::uint64_t id, std::uint16_t part) {
  std::string v = id_key(id);
  v.push_back(static_cast<char>(part >> 8));
  v.push_back(static_cast<char>(part));
  return v;
}

bool read_part_value(std::string_view v, std::uint64_t& id, std::uint16_t& part) noexcept {
  if (v.size() != 10) return false;
  id = read_u64_be(v);
  part = static_cast<std::uint16_t>((static_cast<std::uint8_t>(v[8]) << 8) |
                                    static_cast<std::uint8_t>(v[9]));
  return true;
}

std::string address_key(std::string_view address) {
  std::string k;
  for (char c : address)
    if (c >= '0' && c <= '9') k.push_back(c);
  if (k.size() > 2 && k[0] == '0' && k[1] == '0') k.erase(0, 2);
  return k;
}

std::string recipient_prefix(std::string_view address_key) {
  std::string k(address_key);
  k.push_back('\0');
  return k;
}

std::string recipient_key(std::string_view address_key, std::int64_t queued_us, std::uint64_t id) {
  std::string k = recipient_prefix(address_key);
  put_u64_be(k, static_cast<std::uint64_t>(queued_us));
  put_u64_be(k, id);
  return k;
}

std::string in_doubt_prefix(std::string_view smsc, std::string_view address_key) {
  std::string k(smsc);
  k.push_back('\0');
  k.append(address_key);
  k.push_back('\0');
  return k;
}

std::string in_doubt_key(std::string_view smsc, std::string_view address_key,
                         std::int64_t submitted_us, std::uint64_t id, std::uint16_t part) {
  std::string k = in_doubt_prefix(smsc, address_key);
  put_u64_be(k, static_cast<std::uint64_t>(submitted_us));
  put_u64_be(k, id);
  k.push_back(static_cast<char>(part >> 8));
  k.push_back(static_cast<char>(part));
  return k;
}

std::string part_smsc_key(const part_record& p) {
  if (p.smsc_message_id.empty()) return {};
  return smsc_index_key(p.smsc, resp_id_key(p.smsc_message_id, p.resp_format));
}

std::string stats_key(char kind, std::string_view name) {
  std::string k(1, kind);
  k.append(name);
  return k;
}

namespace {

constexpr std::uint8_t stats_version = 2;

std::uint64_t zigzag(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) noexcept {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

}  // namespace

// stats: version 1 octet, state_count zigzag varints, removed,
// orphans_expired varints, in_doubt zigzag varint, two histograms
// (latency_histogram::encode), then (version 2) a count and that many
// varints of suppressed_by. Version 1 is still read (none suppressed by
// cause); a newer writer's extra causes are dropped.
void encode_stats(const stats& s, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(stats_version));
  for (std::int64_t c : s.counts) put_varint(out, zigzag(c));
  put_varint(out, s.removed);
  put_varint(out, s.orphans_expired);
  put_varint(out, zigzag(s.in_doubt));
  s.submit_to_resp.encode(out);
  s.submit_to_receipt.encode(out);
  put_varint(out, s.suppressed_by.size());
  for (std::uint64_t n : s.suppressed_by) put_varint(out, n);
}

bool decode_stats(std::string_view in, stats& s) {
  varint_reader rd(in);
  const std::uint8_t version = rd.byte();
  if (version != 1 && version != stats_version) return false;
  stats out;
  for (std::int64_t& c : out.counts) c = unzigzag(rd.varint());
  out.removed = rd.varint();
  out.orphans_expired = rd.varint();
  out.in_doubt = unzigzag(rd.varint());
  if (!rd.ok()) return false;
  std::string_view rest = rd.rest();
  if (!out.submit_to_resp.decode(rest) || !out.submit_to_receipt.decode(rest)) return false;
  if (version >= 2) {
    varint_reader tail(rest);
    const std::uint64_t n = tail.varint();
    for (std::uint64_t i = 0; i < n && tail.ok(); ++i) {
      const std::uint64_t v = tail.varint();
      if (i < out.suppressed_by.size()) out.suppressed_by[i] = v;
    }
    if (!tail.ok()) return false;
    rest = tail.rest();
  }
  if (!rest.empty()) return false;
  s = out;
  return true;
}

// cursor: row varint, count varint, then each row above as the gap from
// the previous one (varints).
void encode_cursor(const cursor_value& c, std::string& out) {
  out.clear();
  put_varint(out, c.row);
  put_varint(out, c.above.size());
  std::uint64_t prev = c.row;
  for (std::uint64_t r : c.above) {
    put_varint(out, r - prev);
    prev = r;
  }
}

bool decode_cursor(std::string_view in, cursor_value& c) {
  varint_reader rd(in);
  cursor_value out;
  out.row = rd.varint();
  const std::uint64_t n = rd.varint();
  if (!rd.ok() || n > in.size()) return false;
  std::uint64_t prev = out.row;
  for (std::uint64_t i = 0; i < n; ++i) {
    prev += rd.varint();
    out.above.push_back(prev);
  }
  if (!rd.ok() || !rd.at_end()) return false;
  c = std::move(out);
  return true;
}

std::string orphan_key(std::int64_t parked_us, std::uint64_t seq) {
  std::string k;
  k.reserve(16);
  put_u64_be(k, static_cast<std::uint64_t>(parked_us));
  put_u64_be(k, seq);
  return k;
}

// parked receipt: version 1 octet, smsc, receipt_id strings, format,
// state octets, error_code, done_us, submit_us, parked_us varints,
// destination, text_prefix strings.
void encode_parked(const parked_receipt& p, std::string& out) {
  out.clear();
  out.push_back(1);
  put_string(out, p.smsc);
  put_string(out, p.receipt_id);
  out.push_back(static_cast<char>(p.receipt_format));
  out.push_back(static_cast<char>(p.st));
  put_varint(out, p.error_code);
  put_varint(out, static_cast<std::uint64_t>(p.done_us));
  put_varint(out, static_cast<std::uint64_t>(p.submit_us));
  put_varint(out, static_cast<std::uint64_t>(p.parked_us));
  put_string(out, p.destination);
  put_string(out, p.text_prefix);
}

bool decode_parked(std::string_view in, parked_receipt& p) {
  varint_reader rd(in);
  if (rd.byte() != 1) return false;
  parked_receipt out;
  out.smsc = rd.string();
  out.receipt_id = rd.string();
  const std::uint8_t f = rd.byte();
  const std::uint8_t st = rd.byte();
  out.error_code = static_cast<std::uint32_t>(rd.varint());
  out.done_us = static_cast<std::int64_t>(rd.varint());
  out.submit_us = static_cast<std::int64_t>(rd.varint());
  out.parked_us = static_cast<std::int64_t>(rd.varint());
  out.destination = rd.string();
  out.text_prefix = rd.string();
  if (!rd.ok() || !rd.at_end() || f > static_cast<std::uint8_t>(id_format::string) ||
      st >= state_count)
    return false;
  out.receipt_format = static_cast<id_format>(f);
  out.st = static_cast<state>(st);
  p = std::move(out);
  return true;
}

std::optional<message_record> get_record(const db_handles& h, std::uint64_t id,
                                         std::error_code& ec) {
  std::string value;
  const rocksdb::Status st =
      h.db->Get(rocksdb::ReadOptions(), h.cfs[cf_messages], id_key(id), &value);
  if ((ec = to_error(st))) return std::nullopt;
  message_record r;
  if ((ec = decode_record(value, r))) return std::nullopt;
  return r;
}

std::optional<std::uint64_t> get_idempotent(const db_handles& h, std::string_view key,
                                            std::error_code& ec) {
  std::string value;
  const rocksdb::Status st = h.db->Get(rocksdb::ReadOptions(), h.cfs[cf_idempotency],
                                       rocksdb::Slice(key.data(), key.size()), &value);
  ec.clear();
  if (st.IsNotFound()) return std::nullopt;
  if ((ec = to_error(st))) return std::nullopt;
  if (value.size() != 8) {
    ec = storage_errc::corrupt_record;
    return std::nullopt;
  }
  return read_u64_be(value);
}

std::vector<std::uint64_t> messages_to(const db_handles& h, std::string_view recipient,
                                       std::int64_t since_us, std::int64_t until_us,
                                       std::size_t limit, std::error_code& ec) {
  std::vector<std::uint64_t> ids;
  ec.clear();
  const std::string address = address_key(recipient);
  if (address.empty() || limit == 0 || until_us < since_us) return ids;
  // Newest first: from the end of the window back to its start.
  const std::string lower = recipient_key(address, since_us, 0);
  const std::string upper = recipient_key(address, until_us, UINT64_MAX);
  rocksdb::ReadOptions ro;
  const rocksdb::Slice lower_slice(lower);
  ro.iterate_lower_bound = &lower_slice;
  std::unique_ptr<rocksdb::Iterator> it(h.db->NewIterator(ro, h.cfs[cf_recipients]));
  for (it->SeekForPrev(upper); it->Valid() && ids.size() < limit; it->Prev()) {
    const std::string_view k = it->key().ToStringView();
    if (k.size() != address.size() + 17) continue;
    ids.push_back(read_u64_be(k.substr(address.size() + 9)));
  }
  ec = to_error(it->status());
  return ids;
}

stats get_stats(const db_handles& h, char kind, std::string_view name, std::error_code& ec) {
  stats s;
  std::string value;
  const rocksdb::Status st =
      h.db->Get(rocksdb::ReadOptions(), h.cfs[cf_stats], stats_key(kind, name), &value);
  ec.clear();
  if (st.IsNotFound()) return s;
  if ((ec = to_error(st))) return s;
  if (!decode_stats(value, s)) ec = storage_errc::corrupt_record;
  return s;
}

}  // namespace storage::detail
