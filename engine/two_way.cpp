#include "engine/two_way.hpp"

#include <algorithm>
#include <cstdio>
#include <mutex>

#include "engine/webhooks.hpp"
#include "logging/logger.hpp"
#include "smpp/text.hpp"

namespace engine {

namespace lg = logging;
using lg::component;

namespace {

std::int64_t system_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::span<const std::uint8_t> octets(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::optional<smpp::sar_info> sar_of(const storage::inbound_part& p) {
  if (p.sar_total == 0) return std::nullopt;
  return smpp::sar_info{p.sar_reference, p.sar_total, p.sar_seqnum};
}

// The concatenation a part belongs to (reference, total), if it is one
// of several.
std::optional<std::pair<std::uint16_t, std::uint8_t>> concatenation_of(const storage::inbound_part& p) {
  if (p.esm_class & 0x40) {
    smpp::udh_info udh;
    if (!smpp::parse_udh(octets(p.short_message), udh) && udh.concatenated && udh.total > 1)
      return std::pair{udh.reference, udh.total};
  }
  if (p.sar_total > 1) return std::pair{p.sar_reference, p.sar_total};
  return std::nullopt;
}

// A customer's phone number, as far as an address tells: digits only
// (after an optional '+'), 7 to 15 of them. Letters are an alphanumeric
// sender; fewer digits a short code (a service, not a person).
bool phone_like(std::string_view address) {
  if (address.starts_with('+')) address.remove_prefix(1);
  return address.size() >= 7 && address.size() <= 15 &&
         std::all_of(address.begin(), address.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string reassembly_key(const storage::inbound_part& p) {
  std::string k = p.smsc;
  k.push_back('\0');
  k.append(p.source);
  k.push_back('\0');
  k.append(p.destination);
  return k;
}

}  // namespace

// ---- opt_out_list -------------------------------------------------------

std::string opt_out_list::key(std::string_view number) {
  std::string k;
  for (char c : number)
    if (c >= '0' && c <= '9') k.push_back(c);
  if (k.size() > 2 && k[0] == '0' && k[1] == '0') k.erase(0, 2);
  return k;
}

bool opt_out_list::contains(std::string_view number) const {
  // Checked before every submit: nothing to look up while nobody opted out.
  if (count_.load(std::memory_order_acquire) == 0) return false;
  const std::string k = key(number);
  std::shared_lock lock(mutex_);
  return numbers_.contains(k);
}

void opt_out_list::set(std::string_view number, bool opted_out) {
  std::string k = key(number);
  if (k.empty()) return;
  std::unique_lock lock(mutex_);
  if (opted_out)
    numbers_.insert(std::move(k));
  else
    numbers_.erase(k);
  count_.store(numbers_.size(), std::memory_order_release);
}

std::size_t opt_out_list::size() const {
  std::shared_lock lock(mutex_);
  return numbers_.size();
}

std::string_view name(ack_skip s) noexcept {
  switch (s) {
    case ack_skip::keyword: return "keyword";
    case ack_skip::answer: return "answer";
    case ack_skip::sender: return "sender";
    case ack_skip::automatic: return "automatic";
    case ack_skip::opted_out: return "opted_out";
    case ack_skip::loop_guard: return "loop_guard";
    case ack_skip::period: return "period";
    case ack_skip::not_queued: return "not_queued";
  }
  return "keyword";
}

// ---- two_way ------------------------------------------------------------

two_way::two_way(boost::asio::io_context& io, storage::message_log& log, two_way_options options,
                 opt_out_list& opt_outs)
    : log_(log),
      options_(std::move(options)),
      opt_outs_(opt_outs),
      keywords_(options_.config),
      store_(log),
      timer_(io) {
  if (!options_.now_us) options_.now_us = system_now_us;
  for (const auto& [number, text] : options_.config.auto_ack.numbers) ack_by_number_[opt_out_list::key(number)] = text;
  std::error_code ec;
  for (const auto& [number, entry] : store_.opt_outs(ec))
    if (entry.opted_out) opt_outs_.set(number, true);
  if (ec) throw std::system_error(ec, "reading the opt-out list");
}

void two_way::start() {
  std::error_code ec;
  auto parts = store_.waiting_parts(ec);
  if (ec) lg::error(component::replies, "cannot read the reply parts a previous run kept", {{"error", ec}});
  if (!parts.empty())
    lg::info(component::replies, "parts of concatenated replies wait for the rest of their messages",
             {{"parts", parts.size()}});
  for (auto& [key, part] : parts) (void)assemble(part, std::move(key), ec);
  arm_timer();
}

void two_way::stop() {
  stopped_ = true;
  timer_.cancel();
}

smpp::decode_options two_way::decoding(std::string_view smsc) const {
  smpp::decode_options o;
  if (auto it = options_.dc0.find(std::string(smsc)); it != options_.dc0.end()) o.dc0 = it->second;
  return o;
}

mo_verdict two_way::on_mo(std::string_view smsc, const smpp::pdu& pdu) {
  counters_.parts.fetch_add(1, std::memory_order_relaxed);
  storage::inbound_part p;
  p.smsc = std::string(smsc);
  p.received_us = now_us();
  auto take = [&p, this](const auto& b, std::string_view short_message) {
    // An international number (TON 1) is kept in E.164 with its '+', as
    // the messages we send name their recipients; a national one (TON 2)
    // is read with the numbering settings. Unknown TON stays as written:
    // "8613..." may be Chinese or national Lithuanian, and only the SMSC knows.
    p.source = b.source_addr_ton == 1 && !b.source_addr.starts_with('+') ? "+" + std::string(b.source_addr)
                                                                          : std::string(b.source_addr);
    if (b.source_addr_ton == 2)
      if (auto n = normalise_number(b.source_addr, options_.numbering); n.ok()) p.source = std::move(n.e164);
    p.destination = std::string(b.destination_addr);
    p.esm_class = b.esm_class;
    p.data_coding = b.data_coding;
    p.short_message = std::string(b.tlvs.message_payload ? *b.tlvs.message_payload : short_message);
    if (b.tlvs.sar_msg_ref_num && b.tlvs.sar_total_segments && b.tlvs.sar_segment_seqnum) {
      p.sar_reference = *b.tlvs.sar_msg_ref_num;
      p.sar_total = *b.tlvs.sar_total_segments;
      p.sar_seqnum = *b.tlvs.sar_segment_seqnum;
    }
  };
  if (auto* d = pdu.get<smpp::deliver_sm>()) {
    take(*d, d->short_message);
  } else if (auto* d = pdu.get<smpp::data_sm>()) {
    take(*d, {});
    p.data_sm = true;
  } else {
    return {};
  }

  const std::string seen = storage::reply_store::seen_key(p);
  std::error_code ec;
  const auto window = std::chrono::duration_cast<std::chrono::microseconds>(options_.config.redelivery_window);
  forget_written_seen();
  if (unwritten_seen_.contains(seen)) {
    counters_.redelivered.fetch_add(1, std::memory_order_relaxed);
    return {smpp::command_status::ESME_ROK, log_.issued_ticket()};
  }
  if (auto at = store_.seen(seen, ec); at && p.received_us - *at < window.count()) {
    // Stored already (perhaps not yet durable: answered once it is).
    counters_.redelivered.fetch_add(1, std::memory_order_relaxed);
    return {smpp::command_status::ESME_ROK, log_.issued_ticket()};
  }

  smpp::decoded_text text;
  if (const auto derr = smpp::decode_short_message(octets(p.short_message), p.esm_class & 0x40, p.data_coding,
                                                   decoding(smsc), text)) {
    counters_.undecodable.fetch_add(1, std::memory_order_relaxed);
    lg::warn(component::replies, "a reply cannot be decoded; refused",
             {{"smsc", p.smsc}, {"data_coding", static_cast<unsigned>(p.data_coding)},
              {"octets", p.short_message.size()}, {"error", derr}});
    return {smpp::command_status::ESME_RX_P_APPN, 0};
  }

  std::uint64_t ticket = 0;
  if (!concatenation_of(p)) {
    smpp::reassembled whole{reassembly_key(p), 0, std::move(text.utf8), 1, 1};
    ticket = store_reply(whole, p, {}, seen, ec);
  } else {
    std::string key;
    ticket = store_.add_part(p, key, ec);
    if (!ec) ticket = std::max(ticket, assemble(p, std::move(key), ec));
  }
  if (ec == storage::storage_errc::backlog_full || ec == storage::storage_errc::closed || ticket == 0)
    return {smpp::command_status::ESME_RX_T_APPN, 0};  // not stored: the SMSC delivers it again later
  remember_seen(seen, ticket);
  return {smpp::command_status::ESME_ROK, ticket};
}

void two_way::remember_seen(std::string key, std::uint64_t ticket) {
  if (unwritten_seen_.insert(key).second) unwritten_order_.emplace_back(ticket, std::move(key));
}

void two_way::forget_written_seen() {
  const std::uint64_t durable = log_.durable_ticket();
  while (!unwritten_order_.empty() && unwritten_order_.front().first <= durable) {
    unwritten_seen_.erase(unwritten_order_.front().second);
    unwritten_order_.pop_front();
  }
}

std::uint64_t two_way::assemble(const storage::inbound_part& p, std::string part_key, std::error_code& ec) {
  const auto concat = concatenation_of(p);
  if (!concat) return 0;
  const std::string key = reassembly_key(p);
  auto& w = waiting_[concat_id{key, concat->first, concat->second}];
  if (w.part_keys.empty()) {
    w.first = p;
    w.since = clock::now();
  }
  w.part_keys.push_back(std::move(part_key));
  std::error_code derr;
  auto done = reassembler_.add(key, octets(p.short_message), p.esm_class & 0x40, p.data_coding, decoding(p.smsc),
                               sar_of(p), clock::now(), derr);
  if (!done) return 0;
  auto it = waiting_.find(concat_id{key, done->reference, done->total});
  if (it == waiting_.end()) return 0;
  waiting found = std::move(it->second);
  waiting_.erase(it);
  return store_reply(*done, found.first, std::move(found.part_keys), {}, ec);
}

std::uint64_t two_way::store_reply(const smpp::reassembled& r, const storage::inbound_part& first,
                                   std::vector<std::string> part_keys, std::string_view seen, std::error_code& ec) {
  storage::reply_record rec;
  rec.smsc = first.smsc;
  rec.from = first.source;
  rec.to = first.destination;
  rec.text = r.utf8;
  rec.parts_total = r.total;
  rec.parts_received = r.received;
  rec.received_us = first.received_us;
  // Only a whole reply can be a keyword: "STOP" cut short is not one.
  const auto kw = r.complete() ? keywords_.match(rec.text) : std::nullopt;
  if (kw) rec.keyword = kw->kind;
  if (!kw && conversations_) {
    const auto m = conversations_->match(rec.from, rec.to, rec.text);
    rec.conversation = m.conversation;
    rec.method = m.method;
    if (m.conversation && r.complete()) rec.answer = keywords_.confirmation(rec.text).value_or("");
  }
  // The events for the team's webhooks go in the reply's batch.
  const auto hooks = webhook_sender::targets(options_.config, rec);
  // So does the time of its auto-acknowledgement, decided now.
  auto [ack, ack_source] = ack_text(rec);
  std::optional<storage::answer_mark> mark, before;
  std::optional<ack_skip> skipped;
  if (!ack.empty()) {
    before = answered(rec.from);
    if (before && !(skipped = ack_refusal(rec, kw.has_value(), *before))) {
      mark = before;
      mark->ack_us = mark->answer_us = now_us();
    }
  }
  std::uint64_t ticket = store_.add_reply(rec, part_keys, seen, ec, hooks, mark ? &*mark : nullptr);
  if (ec) {
    lg::error(component::replies, "a reply could not be stored", {{"error", ec}});
    return 0;
  }
  if (mark) answered_[opt_out_list::key(rec.from)] = *mark;
  counters_.replies.fetch_add(1, std::memory_order_relaxed);
  if (!r.complete()) {
    counters_.incomplete.fetch_add(1, std::memory_order_relaxed);
    lg::info(component::replies, "reply kept incomplete: the rest of its parts did not come in time",
             {{"reply", rec.id}, {"parts", r.received}, {"of", r.total}});
  }
  if (rec.conversation) {
    counters_.matched.fetch_add(1, std::memory_order_relaxed);
    ticket = std::max(ticket, conversations_->record_reply(rec.from, rec.conversation, rec.answer, rec.received_us, ec));
    lg::info(component::replies, "reply matched a conversation",
             {{"reply", rec.id}, {"conversation", rec.conversation}, {"method", storage::name(rec.method)},
              {"answer", rec.answer}});
  }
  if (kw) ticket = std::max(ticket, act_on_keyword(rec, *kw, ec));
  if (mark && !(options_.send && options_.send(two_way_send{rec.from, rec.to, ack}))) {
    // Not sent after all: the mark goes back to what it was, so that the
    // customer's next reply may be acknowledged.
    skipped = ack_skip::not_queued;
    answered_[opt_out_list::key(rec.from)] = *before;
    std::error_code mec;
    ticket = std::max(ticket, store_.set_answered(rec.from, *before, mec));
  }
  if (skipped) {
    counters_.auto_acks_skipped[static_cast<std::size_t>(*skipped)].fetch_add(1, std::memory_order_relaxed);
    if (*skipped == ack_skip::not_queued)
      lg::warn(component::replies, "the auto-acknowledgement could not be queued", {{"reply", rec.id}});
    else
      lg::debug(component::replies, "no auto-acknowledgement", {{"reply", rec.id}, {"reason", name(*skipped)}});
  } else if (mark) {
    counters_.auto_acks.fetch_add(1, std::memory_order_relaxed);
    lg::info(component::replies, "auto-acknowledgement sent", {{"reply", rec.id}, {"text", ack_source}});
  }
  return ticket;
}

std::pair<std::string, std::string_view> two_way::ack_text(const storage::reply_record& r) const {
  if (r.conversation && conversations_ && campaign_acks_) {
    // The campaign that opened the conversation.
    std::error_code ec;
    const auto c = conversations_->get(r.conversation, ec);
    if (c && !c->campaign.empty())
      if (std::string text = campaign_acks_(c->campaign); !text.empty()) return {std::move(text), "campaign"};
  }
  if (!ack_by_number_.empty())
    if (auto it = ack_by_number_.find(opt_out_list::key(r.to)); it != ack_by_number_.end())
      return {it->second, "number"};
  return {options_.config.auto_ack.text, "default"};
}

std::optional<ack_skip> two_way::ack_refusal(const storage::reply_record& r, bool keyword,
                                             const storage::answer_mark& last) const {
  const auto& cfg = options_.config.auto_ack;
  if (keyword) return ack_skip::keyword;
  if (!r.answer.empty()) return ack_skip::answer;
  if (!phone_like(r.from)) return ack_skip::sender;
  if (looks_automatic(r.text)) return ack_skip::automatic;
  if (opt_outs_.contains(r.from)) return ack_skip::opted_out;
  const auto us = [](std::chrono::milliseconds d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  };
  // A reply that came before our answer went out counts as within both.
  if (last.answer_us && r.received_us - last.answer_us < us(cfg.loop_guard)) return ack_skip::loop_guard;
  if (last.ack_us && r.received_us - last.ack_us < us(cfg.period)) return ack_skip::period;
  return std::nullopt;
}

std::optional<storage::answer_mark> two_way::answered(std::string_view customer) {
  if (auto it = answered_.find(opt_out_list::key(customer)); it != answered_.end()) return it->second;
  std::error_code ec;
  auto stored = store_.answered(customer, ec);
  if (ec) {
    // Unknown: no acknowledgement rather than a second one.
    lg::error(component::replies, "cannot read when a customer was last answered", {{"error", ec}});
    return std::nullopt;
  }
  return stored.value_or(storage::answer_mark{});
}

std::uint64_t two_way::act_on_keyword(const storage::reply_record& r, const keyword_match& kw,
                                      std::error_code& ec) {
  using storage::reply_keyword;
  std::uint64_t ticket = 0;
  bool answer = true;
  if (kw.kind == reply_keyword::opt_out || kw.kind == reply_keyword::opt_in) {
    const bool out = kw.kind == reply_keyword::opt_out;
    // One confirmation per change: a second STOP changes nothing and is
    // not answered (nor is anything that could be an auto-reply loop).
    answer = opt_outs_.contains(r.from) != out;
    opt_outs_.set(r.from, out);
    ticket = store_.set_opt_out(r.from, storage::opt_out_entry{out, r.received_us, r.id, r.text}, ec);
    if (!ec) unwritten_opt_outs_[opt_out_list::key(r.from)] = ticket;
    (out ? counters_.opt_outs : counters_.opt_ins).fetch_add(1, std::memory_order_relaxed);
    lg::info(component::replies, out ? "opted out" : "opted in", {{"reply", r.id}, {"language", kw.language}});
  } else {
    counters_.help.fetch_add(1, std::memory_order_relaxed);
  }
  const std::string& text = keywords_.answer(kw);
  if (!answer || text.empty() || !options_.send) return ticket;
  if (!options_.send(two_way_send{r.from, r.to, text})) {
    lg::warn(component::replies, "the answer to a reply could not be queued", {{"reply", r.id}});
    return ticket;
  }
  // Remembered for the auto-acknowledgement's loop guard: a machine
  // answering this answer gets nothing back.
  if (auto mark = answered(r.from)) {
    mark->answer_us = now_us();
    answered_[opt_out_list::key(r.from)] = *mark;
    std::error_code mec;
    ticket = std::max(ticket, store_.set_answered(r.from, *mark, mec));
    if (mec) lg::warn(component::replies, "when a customer was answered could not be stored", {{"error", mec}});
  }
  return ticket;
}

void two_way::arm_timer() {
  if (stopped_) return;
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([this](const boost::system::error_code& e) {
    if (e || stopped_) return;
    expire();
    arm_timer();
  });
}

void two_way::expire() {
  const auto now = clock::now();
  std::error_code ec;
  forget_written_seen();
  for (const auto& r : reassembler_.expire(now, options_.config.reassembly_timeout)) {
    auto it = waiting_.find(concat_id{r.key, r.reference, r.total});
    if (it == waiting_.end()) continue;
    waiting found = std::move(it->second);
    waiting_.erase(it);
    (void)store_reply(r, found.first, std::move(found.part_keys), {}, ec);
  }
  // A part the reassembler took as a duplicate of one already joined left
  // an entry it will never release: its stored copy goes.
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (now - it->second.since > 2 * options_.config.reassembly_timeout) {
      (void)store_.drop_parts(it->second.part_keys, ec);
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
  // Answer marks stop mattering once both period and loop_guard passed.
  if (now - last_forget_answered_ >= std::chrono::hours(1) || last_forget_answered_ == clock::time_point{}) {
    last_forget_answered_ = now;
    const auto keep = std::chrono::duration_cast<std::chrono::microseconds>(
        std::max(options_.config.auto_ack.period, options_.config.auto_ack.loop_guard));
    const std::int64_t cutoff = now_us() - keep.count();
    std::erase_if(answered_,
                  [cutoff](const auto& e) { return std::max(e.second.ack_us, e.second.answer_us) < cutoff; });
    (void)store_.forget_answered_before(
        cutoff, [this](std::string_view digits) { return answered_.contains(std::string(digits)); }, ec);
  }
  if (now - last_forget_ >= std::chrono::minutes(1)) {
    last_forget_ = now;
    const auto window = std::chrono::duration_cast<std::chrono::microseconds>(options_.config.redelivery_window);
    (void)store_.forget_seen_before(now_us() - window.count(), ec);
  }
  retain(now);
}

void two_way::retain(clock::time_point now) {
  const auto keep = options_.config.reply_retention;
  if (keep.count() <= 0) return;
  const std::uint64_t durable = log_.durable_ticket();
  std::erase_if(unwritten_opt_outs_, [durable](const auto& e) { return e.second <= durable; });
  if (!retention_) {
    if (last_retention_ != clock::time_point{} && now - last_retention_ < std::chrono::hours(1)) return;
    last_retention_ = now;
    storage::retention_pass pass;
    pass.cutoff_us = now_us() - std::chrono::duration_cast<std::chrono::microseconds>(keep).count();
    pass.keep_conversation = [this](const storage::conversation_record& c) {
      return conversations_ && conversations_->is_open(c.customer, c.id);
    };
    pass.keep_number = [this](std::string_view digits) {
      return unwritten_opt_outs_.contains(std::string(digits));
    };
    retention_ = std::move(pass);
  }
  const storage::retention_counts before = retention_->removed;
  std::error_code ec;
  (void)store_.remove_step(*retention_, retention_step_entries, ec);
  if (ec == storage::storage_errc::backlog_full) return;  // tried again at the next tick, once it drains
  if (ec) {
    // Given up until the next pass is due.
    lg::warn(component::replies, "a retention pass failed", {{"error", ec}});
    retention_.reset();
    return;
  }
  const storage::retention_counts& after = retention_->removed;
  counters_.removed_replies.fetch_add(after.replies - before.replies, std::memory_order_relaxed);
  counters_.removed_conversations.fetch_add(after.conversations - before.conversations, std::memory_order_relaxed);
  counters_.removed_opt_ins.fetch_add(after.opt_ins - before.opt_ins, std::memory_order_relaxed);
  counters_.removed_dead_letters.fetch_add(after.dead_letters - before.dead_letters, std::memory_order_relaxed);
  if (!retention_->done()) return;
  if (after != storage::retention_counts{})
    lg::info(component::replies, "two-way data older than the retention removed",
             {{"replies", after.replies}, {"conversations", after.conversations}, {"opt_ins", after.opt_ins},
              {"dead_letters", after.dead_letters}});
  retention_.reset();
}

}  // namespace engine
