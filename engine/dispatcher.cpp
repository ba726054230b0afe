#include "engine/dispatcher.hpp"

#include <boost/asio/post.hpp>
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "logging/logger.hpp"
#include "smpp/receipt.hpp"

namespace engine {

namespace asio = boost::asio;
namespace lg = logging;
using lg::component;

namespace {

// SMPP relative time (7.1.2): "YYMMDDhhmmss000R", written into `buf`
// (16 characters: one more than a std::string holds without allocating).
std::string_view relative_validity(std::chrono::seconds v, std::array<char, 32>& buf) {
  const long long total = std::clamp<long long>(v.count(), 0, 99LL * 86400 + 86399);
  const int days = static_cast<int>(total / 86400), rest = static_cast<int>(total % 86400);
  const int n = std::snprintf(buf.data(), buf.size(), "0000%02d%02d%02d%02d000R", days, rest / 3600,
                              rest / 60 % 60, rest % 60);
  return {buf.data(), static_cast<std::size_t>(n)};
}

// Who a sender address is to the SMSC (SMPP 5.2.5, 5.2.6): "+" and digits
// or 9+ digits an international number, fewer digits a short code
// (network specific), anything else an alphanumeric name.
void set_source(smpp::sm_body& b, const std::string& from) {
  const bool plus = !from.empty() && from[0] == '+';
  const bool numeric = !from.empty() && std::all_of(from.begin() + plus, from.end(),
                                                    [](char c) { return c >= '0' && c <= '9'; });
  if (numeric && (plus || from.size() >= 9)) {
    b.source_addr_ton = 1;  // international
    b.source_addr_npi = 1;  // E.164
    b.source_addr = std::string_view(from).substr(plus);
  } else if (numeric) {
    b.source_addr_ton = 3;  // network specific: a short code
    b.source_addr_npi = 0;
    b.source_addr = from;
  } else {
    b.source_addr_ton = 5;  // alphanumeric
    b.source_addr_npi = 0;
    b.source_addr = from;
  }
}

storage::state state_of(smpp::message_state s) {
  switch (s) {
    case smpp::message_state::delivered: return storage::state::delivered;
    case smpp::message_state::expired: return storage::state::expired;
    case smpp::message_state::deleted: return storage::state::deleted;
    case smpp::message_state::undeliverable: return storage::state::undeliverable;
    case smpp::message_state::rejected: return storage::state::rejected;
    default: return storage::state::unknown;
  }
}

std::int64_t receipt_time_us(const std::optional<smpp::receipt_time>& t) {
  if (!t) return 0;
  // Receipt dates carry no zone unless in the 16-character form; they are
  // taken as UTC (the fallback match allows for skew).
  std::tm tm{};
  tm.tm_year = 100 + t->year;
  tm.tm_mon = t->month - 1;
  tm.tm_mday = t->day;
  tm.tm_hour = t->hour;
  tm.tm_min = t->minute;
  tm.tm_sec = t->second.value_or(0);
  std::int64_t s = timegm(&tm);
  if (t->utc_offset) s -= static_cast<std::int64_t>(*t->utc_offset) * 15 * 60;
  return s * 1'000'000;
}

// The per-SMSC counters have one writer (the io thread): a load and a
// store, no locked instruction.
void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

void add_resp_latency(smsc_counters& c, std::int64_t us) {
  us = std::max<std::int64_t>(us, 0);
  // The bounds are sorted: the bucket is how many lie below. Counted
  // without branches (7 ns a resp against 22 ns for a search that stops,
  // whose exit mispredicts on real latencies).
  std::size_t b = 0;
  for (std::int64_t bound : c.resp_bounds_us) b += us > bound;
  bump(c.resp_buckets[b]);
  bump(c.resp_sum_us, static_cast<std::uint64_t>(us));
}

// A linear search: an operator's SMSCs answer with a handful of statuses.
void count_status(status_counts& c, std::uint32_t status) {
  const std::size_t used = c.used.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < used; ++i)
    if (c.status[i].load(std::memory_order_relaxed) == status) {
      bump(c.count[i]);
      return;
    }
  if (used == c.slots) {
    bump(c.other);
    return;
  }
  c.status[used].store(status, std::memory_order_relaxed);
  bump(c.count[used]);
  c.used.store(used + 1, std::memory_order_release);
}

}  // namespace

// Tells the dispatcher which SMSC a bind pool's event comes from.
class dispatcher::pool_relay : public smpp::session_handler {
 public:
  pool_relay(dispatcher& d, std::size_t smsc) : d_(d), smsc_(smsc) {}
  void on_bound(std::uint32_t s, std::string_view id) override { at().on_bound(s, id); }
  void on_bind_failed(std::uint32_t s, std::error_code ec, smpp::command_status st) override {
    at().on_bind_failed(s, ec, st);
  }
  void on_response(std::uint32_t s, std::uint64_t tag, const smpp::response& r) override {
    at().on_response(s, tag, r);
  }
  void on_inbound(std::uint32_t s, smpp::inbound_token t, const smpp::pdu& p) override {
    at().on_inbound(s, t, p);
  }
  void on_closed(std::uint32_t s, std::error_code ec) override { at().on_closed(s, ec); }
  void on_ready(std::uint32_t s) override { at().on_ready(s); }

 private:
  dispatcher& at() {
    d_.current_smsc_ = smsc_;
    return d_;
  }
  dispatcher& d_;
  std::size_t smsc_;
};

dispatcher::dispatcher(asio::io_context& io, dispatcher_options options, storage::message_log& log,
                       storage::reconciler& reconciler)
    : io_(io),
      options_(std::move(options)),
      log_(log),
      reconciler_(reconciler),
      router_(options_.operators, options_.default_operator),
      timer_(io),
      tick_timer_(io),
      smsc_counters_(std::make_unique<smsc_counters[]>(max_smscs)) {
  const auto now = clock::now();
  smscs_.reserve(options_.smscs.size());
  for (const auto& setup : options_.smscs) add_smsc(setup);
  smsc_count_.store(smscs_.size(), std::memory_order_release);
  ops_.reserve(max_operators);
  for (std::size_t i = 0; i < options_.operators.size() && i < max_operators; ++i) {
    auto op = std::make_unique<operator_state>();
    const double tps = i < options_.operator_tps.size() ? options_.operator_tps[i] : 0;
    op->bucket = token_bucket(tps, std::max(1.0, tps / 10), now);
    ops_.push_back(std::move(op));
  }
  op_count_.store(ops_.size(), std::memory_order_release);
}

dispatcher::~dispatcher() = default;

void dispatcher::add_smsc(const smsc_setup& setup) {
  const auto now = clock::now();
  auto& s = smscs_.emplace_back();
  s.setup = setup;
  smsc_counters_[smscs_.size() - 1].rate.store(setup.tps, std::memory_order_relaxed);
  relays_.push_back(std::make_unique<pool_relay>(*this, smscs_.size() - 1));
  s.pool = std::make_unique<smpp::bind_pool>(io_, s.setup.pool, *relays_.back());
  s.rate = adaptive_rate(s.setup.tps, now);
  s.bucket = token_bucket(s.setup.tps, std::max(1.0, s.setup.tps / 10), now);
  s.binds.resize(s.pool->size());
  staged_parts_.push_back(0);
}

void dispatcher::reconfigure(dispatcher_options next, std::function<void(bool)> done) {
  asio::post(io_, [this, next = std::move(next), done = std::move(done)]() mutable {
    if (stopping_ || next.operators.size() > max_operators || next.smscs.size() > max_smscs ||
        next.smscs.size() < smscs_.size() ||
        next.operators.size() < ops_.size()) {
      if (done) done(false);
      return;
    }
    const auto now = clock::now();
    const std::size_t old_smscs = smscs_.size();
    for (std::size_t i = 0; i < next.smscs.size(); ++i) {
      if (i >= old_smscs) {
        add_smsc(next.smscs[i]);
        smsc_count_.store(smscs_.size(), std::memory_order_release);
        if (!next.smscs[i].retired) smscs_.back().pool->start();
        continue;
      }
      auto& s = smscs_[i];
      const auto& n = next.smscs[i];
      if (s.setup.retired) continue;
      if (n.retired) {
        s.setup.retired = true;
        s.pool->stop(std::chrono::seconds(5));  // parts in flight get their resps
        continue;
      }
      if (n.tps != s.setup.tps) {
        s.rate = adaptive_rate(n.tps, now);
        s.bucket = token_bucket(n.tps, std::max(1.0, n.tps / 10), now);
        smsc_counters_[i].rate.store(n.tps, std::memory_order_relaxed);
      }
      s.setup.tps = n.tps;
      s.setup.ids = n.ids;
    }
    for (std::size_t i = 0; i < next.operators.size(); ++i) {
      const double tps = i < next.operator_tps.size() ? next.operator_tps[i] : 0;
      const double old_tps = i < options_.operator_tps.size() ? options_.operator_tps[i] : -1;
      if (i >= ops_.size()) {
        ops_.push_back(std::make_unique<operator_state>());
        op_count_.store(ops_.size(), std::memory_order_release);
      }
      if (tps != old_tps) ops_[i]->bucket = token_bucket(tps, std::max(1.0, tps / 10), now);
    }
    options_.smscs.clear();
    for (const auto& s : smscs_) options_.smscs.push_back(s.setup);
    options_.operators = std::move(next.operators);
    options_.operator_tps = std::move(next.operator_tps);
    options_.default_operator = next.default_operator;
    // Retries already waiting keep their time; the next failure uses these.
    options_.max_attempts = next.max_attempts;
    options_.retry_initial = next.retry_initial;
    options_.retry_max = next.retry_max;
    router_ = router(options_.operators, options_.default_operator);
    if (done) done(true);
    pump();
  });
}

void dispatcher::reroute(outbound_message& m) {
  if (auto op = router_.route(m.to); op && !options_.operators[*op].removed) {
    m.op = *op;
    ready_for(m).push_back(&m);
    return;
  }
  lg::warn(component::dispatch, "message failed: its operator was removed and no other serves its number",
           {{"message", m.id}, {"campaign", m.campaign}});
  auto parts = std::move(m.pending);
  m.pending.clear();
  log_parts(m.id, parts, storage::state::failed, now_us());
  counters_.failed.fetch_add(parts.size(), std::memory_order_relaxed);
  bump(ops_[m.op]->counters.parts_failed, parts.size());
  for (std::uint16_t part : parts)
    if (part_final(m, part, storage::state::failed)) break;
}

void dispatcher::start() {
  for (auto& s : smscs_) s.pool->start();
  tick();
}

void dispatcher::stop(std::chrono::milliseconds drain, std::function<void()> done) {
  asio::post(io_, [this, drain, done = std::move(done)]() mutable {
    stopping_ = true;
    timer_.cancel();
    tick_timer_.cancel();
    // Parts marked submitting whose PDUs were not written yet (the mark
    // was not durable) will not be written now: they go back to retrying,
    // so the next run sends them instead of taking them for in doubt.
    const std::int64_t now = now_us();
    for (auto* q : {&staged_urgent_, &staged_}) {
      for (auto& st : *q) {
        log_parts(st.message->id, st.parts, storage::state::retrying, now);
        staged_parts_[st.smsc] -= st.parts.size();
        st.message->pending.insert(st.message->pending.end(), st.parts.begin(), st.parts.end());
      }
      q->clear();
    }
    auto remaining = std::make_shared<std::size_t>(smscs_.size());
    auto finish = std::make_shared<std::function<void()>>(std::move(done));
    if (smscs_.empty()) {
      if (*finish) (*finish)();
      return;
    }
    for (auto& s : smscs_)
      s.pool->stop(drain, [this, remaining, finish] {
        if (--*remaining > 0) return;
        // Last words: answers for receipts already durable, events still held.
        flush_log_backlog();
        ack_durable();
        if (*finish) (*finish)();
      });
  });
}

std::size_t dispatcher::queued(lane l) const noexcept {
  std::size_t n = 0;
  const std::size_t count = op_count_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < count; ++i) n += ops_[i]->depth[static_cast<std::size_t>(l)].load(std::memory_order_relaxed);
  return n;
}

bool dispatcher::enqueue(std::unique_ptr<outbound_message>&& m) {
  if (m->op >= op_count_.load(std::memory_order_acquire)) return false;
  auto& op = *ops_[m->op];
  const auto l = static_cast<std::size_t>(m->priority);
  if (op.depth[l].load(std::memory_order_relaxed) >= options_.lane_capacity) return false;
  if (m->pending.empty())
    for (std::uint16_t i = 0; i < m->text.parts.size(); ++i) m->pending.push_back(i);
  op.depth[l].fetch_add(1, std::memory_order_relaxed);
  open_count_.fetch_add(1, std::memory_order_relaxed);
  op.lanes[l].enqueue(std::move(m));
  wake();
  return true;
}

void dispatcher::wake() {
  if (wake_posted_.exchange(true)) return;
  asio::post(io_, [this] {
    wake_posted_.store(false);
    pump();
  });
}

std::int64_t dispatcher::now_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool dispatcher::log_update(storage::part_update u, storage::urgency how) {
  // An urgent event (a notification's first submit) has nothing of its
  // message in log_backlog_ before it: it may go ahead of what waits there.
  if (log_backlog_.empty() || how == storage::urgency::urgent) {
    std::error_code ec;
    (void)log_.update(u, ec, how);
    if (!ec) return true;
    if (ec != storage::storage_errc::backlog_full) {
      lg::error(component::storage, "message log refused an event",
                {{"message", u.message_id}, {"part", u.part}, {"to", storage::name(u.to)}, {"error", ec}});
      return true;
    }
  }
  // The writer is behind: keep the event (in order) and stop sending until
  // it is taken. Bounded by the windows: nothing new goes out meanwhile.
  log_backlog_.push_back(std::move(u));
  return false;
}

bool dispatcher::log_parts(std::uint64_t id, const std::vector<std::uint16_t>& parts, storage::state to,
                           std::int64_t at_us, const std::string& smsc, storage::cause why, storage::urgency how) {
  bool queued = true;
  for (std::uint16_t part : parts) {
    storage::part_update u;
    u.message_id = id;
    u.part = part;
    u.to = to;
    u.at_us = at_us;
    u.smsc = smsc;
    u.cause = why;
    queued = log_update(std::move(u), how) && queued;
  }
  return queued;
}

bool dispatcher::flush_log_backlog() {
  if (log_backlog_.empty()) return true;
  while (!log_backlog_.empty()) {
    std::error_code ec;
    (void)log_.update(log_backlog_.front(), ec);
    if (ec == storage::storage_errc::backlog_full) return false;
    log_backlog_.pop_front();
  }
  // Staged parts whose events were held back now have a ticket (a normal
  // one: durable, it covers the urgent events queued before it too).
  for (auto* q : {&staged_, &staged_urgent_})
    for (auto& st : *q)
      if (st.ticket == unknown_ticket) st.ticket = log_.issued_ticket();
  return true;
}

void dispatcher::pump() {
  if (stopping_) return;
  if (!flush_log_backlog()) {
    counters_.backlog_waits.fetch_add(1, std::memory_order_relaxed);
    return;  // the tick tries again
  }
  const auto now = clock::now();
  const std::int64_t now_s = now_us() / 1'000'000;
  while (!window_held_.empty() && window_held_.begin()->first <= now_s) {
    ready_for(*window_held_.begin()->second).push_back(window_held_.begin()->second);
    window_held_.erase(window_held_.begin());
    window_held_count_.fetch_sub(1, std::memory_order_relaxed);
  }
  while (!retries_.empty() && retries_.top().due <= now) {
    outbound_message* m = retries_.top().message;
    retries_.pop();
    m->retry_pending = false;
    ready_for(*m).push_back(m);
  }
  std::optional<clock::time_point> wait_until;
  // Lane by lane, notifications strictly before campaigns: in each, first
  // what is due again (the oldest work: retries, messages let go by their
  // send window or a resumed campaign), then each operator's lane in turn.
  // An operator whose message cannot go now (no room, its rate) sends
  // nothing after it in this pass: a notification waiting keeps its
  // campaigns waiting too.
  op_blocked_.assign(ops_.size(), 0);
  for (std::size_t l = 0; l < lane_count; ++l) {
    auto& again = ready_[l];
    for (std::size_t k = again.size(); k > 0 && !again.empty(); --k) {
      outbound_message* m = again.front();
      again.pop_front();
      const bool known = m->op < op_blocked_.size();
      if ((known && op_blocked_[m->op]) || !try_send(*m, now, wait_until)) {
        again.push_back(m);
        if (known) op_blocked_[m->op] = 1;
      }
    }
    for (std::size_t k = 0; k < ops_.size(); ++k) {
      const std::size_t o = (next_op_ + k) % ops_.size();
      if (op_blocked_[o]) continue;
      auto& op = *ops_[o];
      const bool removed = o < options_.operators.size() && options_.operators[o].removed;
      for (;;) {
        outbound_message* m = op.head[l];
        if (!m) {
          // Enough on hold for their window: campaign readers wait (back-pressure).
          if (l == static_cast<std::size_t>(lane::campaign) && window_held_.size() >= options_.max_window_held) break;
          std::unique_ptr<outbound_message> taken;
          if (!op.lanes[l].try_dequeue(taken)) break;
          op.depth[l].fetch_sub(1, std::memory_order_relaxed);
          m = taken.get();
          auto& e = messages_[m->id];
          e.part_states.assign(m->text.parts.size(), storage::state::queued);
          e.parts_open = static_cast<std::uint16_t>(m->text.parts.size());
          e.message = std::move(taken);
        }
        if (removed) {
          op.head[l] = nullptr;
          reroute(*m);
          continue;
        }
        if (!try_send(*m, now, wait_until)) {
          op.head[l] = m;
          op_blocked_[o] = 1;
          break;
        }
        op.head[l] = nullptr;
      }
    }
  }
  next_op_ = ops_.empty() ? 0 : (next_op_ + 1) % ops_.size();
  if (wait_until) {
    timer_.expires_at(*wait_until);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) pump();
    });
  }
}

bool dispatcher::gated(outbound_message& m) {
  if (!m.gate) return false;
  const auto st = m.gate->get();
  if (st == campaign_state::running) return false;
  if (st != campaign_state::cancelled) {
    held_[m.gate].push_back(&m);
    held_count_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  settle_unsent(m, storage::state::cancelled, storage::cause::engine, counters_.cancelled);
  return true;
}

void dispatcher::settle_unsent(outbound_message& m, storage::state st, storage::cause why,
                               std::atomic<std::uint64_t>& counter) {
  auto parts = std::move(m.pending);
  m.pending.clear();
  log_parts(m.id, parts, st, now_us(), {}, why);
  counter.fetch_add(parts.size(), std::memory_order_relaxed);
  for (std::uint16_t part : parts)
    if (part_final(m, part, st)) break;
}

bool dispatcher::outside_window(outbound_message& m) {
  if (!m.window) return false;
  const std::int64_t now = now_us();
  const std::int64_t opens = opens_at(*m.window, now / 1'000'000);
  if (opens * 1'000'000 <= now) return false;
  if (m.validity.count() > 0 && m.queued_us + m.validity.count() * 1'000'000 <= opens * 1'000'000) {
    settle_unsent(m, storage::state::suppressed, storage::cause::send_window, counters_.window_suppressed);
    return true;
  }
  window_held_.emplace(opens, &m);
  window_held_count_.fetch_add(1, std::memory_order_relaxed);
  counters_.window_holds.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void dispatcher::campaign_changed(const campaign_gate* gate) {
  asio::post(io_, [this, gate] {
    if (gate->cancelled()) {
      // Those waiting for their send window are cancelled now, not when it opens.
      for (auto w = window_held_.begin(); w != window_held_.end();) {
        if (w->second->gate != gate) {
          ++w;
          continue;
        }
        ready_for(*w->second).push_front(w->second);
        w = window_held_.erase(w);
        window_held_count_.fetch_sub(1, std::memory_order_relaxed);
      }
      pump();
    }
    auto it = held_.find(gate);
    if (it == held_.end() || gate->holds()) return;
    // Back in front: they are older than anything still in the lanes.
    for (auto m = it->second.rbegin(); m != it->second.rend(); ++m) ready_for(**m).push_front(*m);
    held_count_.fetch_sub(it->second.size(), std::memory_order_relaxed);
    held_.erase(it);
    pump();
  });
}

void dispatcher::status(std::function<void(dispatcher_status)> done) {
  asio::post(io_, [this, done = std::move(done)] {
    dispatcher_status st;
    for (const auto& s : smscs_)
      st.smscs.push_back(smsc_status{s.setup.name, s.pool->size(), s.pool->bound_senders(), s.pool->outstanding(),
                                     s.rate.configured(), s.rate.current(),
                                     s.pool->size() * s.setup.pool.client.session.window});
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      operator_status o;
      o.name = options_.operators[i].name;
      o.tps = i < options_.operator_tps.size() ? options_.operator_tps[i] : 0;
      // The head of a lane (taken, waiting for a bind or a throttle) counts as queued.
      o.queued_notifications = ops_[i]->depth[0].load(std::memory_order_relaxed) + (ops_[i]->head[0] != nullptr);
      o.queued_campaign = ops_[i]->depth[1].load(std::memory_order_relaxed) + (ops_[i]->head[1] != nullptr);
      for (const auto& t : options_.operators[i].smscs) o.smscs.push_back(t.smsc);
      st.operators.push_back(std::move(o));
    }
    st.open_messages = open_count_.load(std::memory_order_relaxed);
    st.held_messages = held_count_.load(std::memory_order_relaxed);
    st.window_held = window_held_.size();
    st.retry_waiting = retries_.size();
    done(std::move(st));
  });
}

bool dispatcher::try_send(outbound_message& m, clock::time_point now,
                          std::optional<clock::time_point>& wait_until) {
  if (m.pending.empty()) return true;  // its parts went with an earlier attempt
  if (!m.ignores_opt_out && opted_out && opted_out(m.to)) {
    // Checked here, not only when the message was accepted: an opt-out
    // that came while it waited still stops it.
    auto parts = std::move(m.pending);
    m.pending.clear();
    for (std::uint16_t part : parts) {
      storage::part_update u;
      u.message_id = m.id;
      u.part = part;
      u.to = storage::state::suppressed;
      u.at_us = now_us();
      u.cause = storage::cause::opted_out;
      log_update(std::move(u));
    }
    counters_.opted_out.fetch_add(parts.size(), std::memory_order_relaxed);
    for (std::uint16_t part : parts)
      if (part_final(m, part, storage::state::suppressed)) break;
    return true;
  }
  if (gated(m)) return true;
  if (m.validity.count() > 0 && now_us() >= m.queued_us + m.validity.count() * 1'000'000) {
    // It can no longer go out before its validity ends (it waited for a
    // send window, a bind, a retry or the throttle): suppressed, never sent late.
    lg::debug(component::dispatch, "parts suppressed: their validity ended before they could go",
              {{"message", m.id}, {"parts", m.pending.size()}, {"campaign", m.campaign}});
    settle_unsent(m, storage::state::suppressed, storage::cause::validity, counters_.expired_unsent);
    return true;
  }
  // Checked at each attempt: a retry or a message that waited in its lane
  // does not go out after its window closed.
  if (outside_window(m)) return true;
  const double n = static_cast<double>(m.pending.size());
  // Campaigns leave a sixteenth of a bind's window free (at least one
  // slot; none in windows under 4, and never so much that the message
  // could not go at all) for notifications: an OTP that comes while a
  // campaign fills the windows goes out at once instead of waiting for
  // resps to free room.
  const bool bulk = m.priority == lane::campaign;
  auto smsc = router_.pick(m.op, [&](std::size_t s) {
    const std::size_t window = smscs_[s].setup.pool.client.session.window;
    std::size_t keep = bulk && window >= 4 ? std::max<std::size_t>(1, window / 16) : 0;
    keep = std::min(keep, window > m.pending.size() ? window - m.pending.size() : 0);
    return smscs_[s].pool->max_room() >= m.pending.size() + staged_parts_[s] + keep;
  });
  if (!smsc) return false;  // on_ready wakes us when room appears
  auto& s = smscs_[*smsc];
  auto& op = *ops_[m.op];
  const auto ready_at = std::max(op.bucket.available_at(n, now), s.bucket.available_at(n, now));
  if (ready_at > now) {
    if (!wait_until || ready_at < *wait_until) wait_until = ready_at;
    return false;
  }
  op.bucket.try_take(n, now);
  s.bucket.try_take(n, now);
  return send(m, *smsc);
}

bool dispatcher::send(outbound_message& m, std::size_t smsc) {
  auto& s = smscs_[smsc];
  const std::int64_t now = now_us();
  // The parts become "submitting" in the log first; their PDUs are written
  // only once that is durable (submit_staged), so that after a crash no
  // part that reached the SMSC looks unsent and goes out twice.
  // A notification's first submit goes through the log's urgent lane when
  // its record did: it does not wait behind a campaign's events (nothing of
  // its message is in the normal lane yet; a retry's marks follow its
  // earlier events there, as do those of a message whose record went
  // through the normal lane).
  const auto how = m.urgent_log && m.priority == lane::notification && m.attempts == 0 ? storage::urgency::urgent
                                                                                       : storage::urgency::normal;
  const bool queued = log_parts(m.id, m.pending, storage::state::submitting, now, s.setup.name,
                                storage::cause::engine, how);
  staged_parts_[smsc] += m.pending.size();
  auto& q = how == storage::urgency::urgent ? staged_urgent_ : staged_;
  q.push_back(staged{queued ? log_.issued_ticket(how) : unknown_ticket, &m, smsc, std::move(m.pending)});
  m.pending.clear();
  ++m.attempts;
  if (q.back().ticket != unknown_ticket && log_.is_durable(q.back().ticket)) submit_staged();
  return true;
}

void dispatcher::submit_staged() {
  submit_from(staged_urgent_);
  submit_from(staged_);
}

void dispatcher::submit_from(std::deque<staged>& q) {
  while (!q.empty() && q.front().ticket != unknown_ticket && log_.is_durable(q.front().ticket)) {
    staged st = std::move(q.front());
    q.pop_front();
    staged_parts_[st.smsc] -= st.parts.size();
    outbound_message& m = *st.message;
    auto& s = smscs_[st.smsc];
    const std::string_view to = std::string_view(m.to).substr(m.to.starts_with('+') ? 1 : 0);
    std::array<char, 32> validity_buf;
    // The SMSC gets what is left of the validity (a message held for its
    // send window has used some), at least a second.
    const std::int64_t left_us = m.queued_us + m.validity.count() * 1'000'000 - now_us();
    const std::string_view validity =
        m.validity.count() > 0
            ? relative_validity(std::chrono::seconds(std::max<std::int64_t>(1, (left_us + 999'999) / 1'000'000)),
                                validity_buf)
            : "";
    // Reused between messages: no allocation per message once warm.
    auto& bodies = bodies_;
    auto& tags = tags_;
    bodies.clear();
    tags.clear();
    for (std::uint16_t part : st.parts) {
      smpp::submit_sm b;
      set_source(b, m.from);
      b.dest_addr_ton = 1;
      b.dest_addr_npi = 1;
      b.destination_addr = to;
      b.registered_delivery = m.receipts ? 1 : 0;
      b.validity_period = validity;
      smpp::set_part(b, m.text, part);
      bodies.push_back(b);
      tags.push_back(next_tag_++);
    }
    const std::int64_t now = now_us();
    auto ec = s.pool->submit(bodies, tags);
    if (ec == smpp::session_errc::window_full || ec == smpp::session_errc::not_bound) {
      // The bind went away while the log caught up: nothing was written;
      // the parts wait for another attempt.
      log_parts(m.id, st.parts, storage::state::retrying, now);
      m.pending.insert(m.pending.end(), st.parts.begin(), st.parts.end());
      schedule_retry(m, std::chrono::milliseconds(0));
      continue;
    }
    if (ec) {
      // A part the codec refuses (a field out of range): it can never go.
      lg::warn(component::dispatch, "message cannot be submitted; failed",
               {{"message", m.id}, {"smsc", s.setup.name}, {"campaign", m.campaign}, {"error", ec}});
      log_parts(m.id, st.parts, storage::state::failed, now);
      counters_.failed.fetch_add(st.parts.size(), std::memory_order_relaxed);
      bump(smsc_counters_[st.smsc].failed, st.parts.size());
      bump(ops_[m.op]->counters.parts_failed, st.parts.size());
      for (std::uint16_t part : st.parts)
        if (part_final(m, part, storage::state::failed)) break;
      continue;
    }
    for (std::size_t i = 0; i < tags.size(); ++i) in_flight_[tags[i]] = in_flight{&m, st.parts[i], st.smsc, now};
    counters_.submitted.fetch_add(tags.size(), std::memory_order_relaxed);
    bump(smsc_counters_[st.smsc].submitted, tags.size());
    auto& oc = ops_[m.op]->counters;
    bump(oc.parts_submitted, tags.size());
    if (!m.written) bump(oc.messages_submitted);
    m.written = true;
  }
}

void dispatcher::schedule_retry(outbound_message& m, std::chrono::milliseconds delay) {
  if (m.retry_pending) return;  // the parts join the attempt already planned
  m.retry_pending = true;
  retries_.push(retry_entry{clock::now() + delay, &m});
}

bool dispatcher::part_final(outbound_message& m, std::uint16_t part, storage::state st) {
  auto it = messages_.find(m.id);
  if (it == messages_.end()) return false;
  auto& e = it->second;
  e.part_states[part] = st;
  if (--e.parts_open > 0) return false;
  final_event f{m.id, m.campaign, storage::derive_message_state(e.part_states)};
  const auto& ps = e.part_states;
  auto& oc = ops_[m.op]->counters;
  if (std::all_of(ps.begin(), ps.end(), [](storage::state p) { return p == storage::state::accepted; }))
    bump(oc.messages_accepted);
  else if (std::find(ps.begin(), ps.end(), storage::state::failed) != ps.end())
    bump(oc.messages_failed);
  messages_.erase(it);  // `m` is gone from here on
  open_count_.fetch_sub(1, std::memory_order_relaxed);
  if (on_final) on_final(f);
  return true;
}

void dispatcher::on_response(std::uint32_t, std::uint64_t tag, const smpp::response& r) {
  auto it = in_flight_.find(tag);
  if (it == in_flight_.end()) return;  // a late resp after the policy decided
  const in_flight f = it->second;
  in_flight_.erase(it);
  outbound_message& m = *f.message;
  auto& s = smscs_[f.smsc];
  auto& sc = smsc_counters_[f.smsc];
  const std::int64_t now = now_us();
  storage::part_update u;
  u.message_id = m.id;
  u.part = f.part;
  u.at_us = now;

  if (r.ec == smpp::session_errc::not_sent) {
    // Never reached the socket: safe to send again at once.
    u.to = storage::state::retrying;
    log_update(std::move(u));
    m.pending.push_back(f.part);
    schedule_retry(m, std::chrono::milliseconds(0));
    return;
  }
  if (r.ec) {
    // Written, no resp: the SMSC may have it.
    counters_.in_doubt.fetch_add(1, std::memory_order_relaxed);
    bump(sc.in_doubt);
    lg::debug(component::dispatch, "part in doubt: written, no response",
              {{"message", m.id}, {"part", f.part}, {"smsc", s.setup.name}, {"error", r.ec}});
    if (options_.in_doubt == in_doubt_action::resend && m.attempts < options_.max_attempts) {
      u.to = storage::state::retrying;
      log_update(std::move(u));
      m.pending.push_back(f.part);
      schedule_retry(m, options_.retry_initial);
    } else {
      u.to = storage::state::unknown;  // a receipt may still settle it (fallback match)
      log_update(std::move(u));
      part_final(m, f.part, storage::state::unknown);
    }
    return;
  }

  add_resp_latency(sc, now - f.sent_us);
  u.command_status = static_cast<std::uint32_t>(r.status);
  auto& oc = ops_[m.op]->counters;
  count_status(oc.responses, u.command_status);
  const auto verdict = smpp::classify(r.status);
  if (verdict.kind == smpp::status_class::success) {
    counters_.accepted.fetch_add(1, std::memory_order_relaxed);
    bump(sc.accepted);
    bump(oc.parts_accepted);
    storage::resp_event ev;
    ev.part = storage::part_ref{m.id, f.part};
    ev.smsc = s.setup.name;
    ev.smsc_message_id = r.message_id;
    ev.resp_format = s.setup.ids;
    ev.command_status = u.command_status;
    ev.at_us = now;
    std::error_code ec;
    (void)reconciler_.on_resp(ev, ec);
    if (ec) {
      // The log is behind: record the resp as a plain event (the parked
      // receipt, if any, is matched by its id later).
      u.to = storage::state::accepted;
      u.smsc_message_id = std::string(r.message_id);
      u.resp_format = s.setup.ids;
      log_update(std::move(u));
    }
    // The dispatcher's part is done; its receipt is the reconciler's.
    part_final(m, f.part, storage::state::accepted);
    return;
  }
  if (verdict.slow_down) {
    counters_.throttled.fetch_add(1, std::memory_order_relaxed);
    bump(sc.throttled);
    lg::debug(component::dispatch, "throttled by the SMSC",
              {{"smsc", s.setup.name}, {"message", m.id}, {"part", f.part}, {"command_status", smpp::name(r.status)}});
    if (s.rate.on_throttled(clock::now(), sc.submitted.load(std::memory_order_relaxed))) {
      s.bucket.set_rate(s.rate.current(), clock::now());
      bump(sc.rate_reductions);
      sc.rate.store(s.rate.current(), std::memory_order_relaxed);
      lg::warn(component::dispatch, "rate lowered: the SMSC throttles",
               {{"smsc", s.setup.name}, {"command_status", smpp::name(r.status)}, {"rate", s.rate.current()},
                {"configured", s.rate.configured()}});
    }
  }
  if (verdict.kind == smpp::status_class::temporary && m.attempts < options_.max_attempts) {
    counters_.retried.fetch_add(1, std::memory_order_relaxed);
    bump(sc.retried);
    u.to = storage::state::retrying;
    log_update(std::move(u));
    m.pending.push_back(f.part);
    auto delay = options_.retry_initial;
    for (std::uint32_t i = 1; i < m.attempts && delay < options_.retry_max; ++i) delay *= 2;
    delay = std::min(delay, options_.retry_max);
    lg::debug(component::dispatch, "part to retry",
              {{"message", m.id}, {"part", f.part}, {"smsc", s.setup.name}, {"command_status", smpp::name(r.status)},
               {"attempt", m.attempts}, {"delay_ms", delay.count()}});
    schedule_retry(m, delay);
    return;
  }
  counters_.failed.fetch_add(1, std::memory_order_relaxed);
  bump(sc.failed);
  bump(oc.parts_failed);
  lg::debug(component::dispatch, "part failed",
            {{"message", m.id}, {"part", f.part}, {"smsc", s.setup.name}, {"command_status", smpp::name(r.status)},
             {"attempts", m.attempts}, {"campaign", m.campaign}});
  u.to = storage::state::failed;
  log_update(std::move(u));
  part_final(m, f.part, storage::state::failed);
}

void dispatcher::on_inbound(std::uint32_t, smpp::inbound_token token, const smpp::pdu& p) {
  auto& s = smscs_[current_smsc_];
  smpp::delivery_receipt dr;
  std::uint8_t esm_class = 0;
  std::string_view source;
  std::error_code perr;
  if (auto* d = p.get<smpp::deliver_sm>()) {
    esm_class = d->esm_class;
    source = d->source_addr;
    perr = smpp::parse_receipt(*d, dr);
  } else if (auto* d = p.get<smpp::data_sm>()) {
    esm_class = d->esm_class;
    source = d->source_addr;
    perr = smpp::parse_receipt(*d, dr);
  }
  const auto kind = smpp::receipt_kind_of(esm_class);
  if (kind == smpp::receipt_kind::none) {
    // A customer's reply (MO): answered once two-way handling has it
    // stored durably.
    counters_.mo.fetch_add(1, std::memory_order_relaxed);
    bump(smsc_counters_[current_smsc_].mo);
    const mo_verdict v = on_mo ? on_mo(s.setup.name, p) : mo_verdict{};
    if (v.ticket == 0 || v.status != smpp::command_status::ESME_ROK) {
      (void)s.pool->respond(token, v.status);
      return;
    }
    acks_.push_back(pending_ack{v.ticket, token, current_smsc_});
    ack_durable();
    return;
  }
  if (kind != smpp::receipt_kind::smsc_delivery_receipt || perr || !dr.state ||
      *dr.state == smpp::message_state::enroute || *dr.state == smpp::message_state::accepted) {
    // Intermediate notifications and receipts without an id or outcome
    // settle nothing; they are acknowledged so the SMSC stops resending.
    (void)s.pool->respond(token, smpp::command_status::ESME_ROK);
    return;
  }
  counters_.receipts.fetch_add(1, std::memory_order_relaxed);
  bump(smsc_counters_[current_smsc_].receipts);
  storage::receipt_event ev;
  ev.smsc = s.setup.name;
  ev.receipt_id = dr.message_id;
  ev.receipt_format = s.setup.ids;
  ev.final_state = state_of(*dr.state);
  if (dr.network_error_code) ev.error_code = (*dr.network_error_code)[1] << 8 | (*dr.network_error_code)[2];
  else std::from_chars(dr.err.data(), dr.err.data() + dr.err.size(), ev.error_code);
  ev.done_us = receipt_time_us(dr.done_date);
  ev.submit_us = receipt_time_us(dr.submit_date);
  ev.destination = source;
  ev.text_prefix = dr.text;
  std::error_code ec;
  (void)reconciler_.on_receipt(ev, ec);
  if (ec == storage::storage_errc::backlog_full || ec == storage::storage_errc::closed) {
    // Not recorded: a temporary refusal makes the SMSC send it again later.
    (void)s.pool->respond(token, smpp::command_status::ESME_RX_T_APPN);
    return;
  }
  // Answered once what the reconciler wrote is durable.
  acks_.push_back(pending_ack{log_.issued_ticket(), token, current_smsc_});
  ack_durable();
}

void dispatcher::on_durable() {
  if (durable_posted_.exchange(true)) return;
  asio::post(io_, [this] {
    durable_posted_.store(false);
    submit_staged();
    ack_durable();
  });
}

void dispatcher::ack_durable() {
  const std::uint64_t durable = log_.durable_ticket();
  while (!acks_.empty() && acks_.front().ticket <= durable) {
    auto& a = acks_.front();
    (void)smscs_[a.smsc].pool->respond(a.token, smpp::command_status::ESME_ROK);
    acks_.pop_front();
  }
}

void dispatcher::on_bound(std::uint32_t session, std::string_view smsc_system_id) {
  auto& s = smscs_[current_smsc_];
  auto& b = s.binds[session];
  const auto& client = s.pool->bind(session);
  lg::info(component::smsc, client.stats().binds > 1 ? "bound again" : "bound",
           {{"smsc", s.setup.name}, {"bind", session}, {"type", smpp::name(client.options().session.type)},
            {"host", client.options().host}, {"port", client.options().port}, {"smsc_system_id", smsc_system_id},
            {"failures_before", b.failures_in_row}});
  b.bound = true;
  b.failures_in_row = 0;
  wake();
}

void dispatcher::on_bind_failed(std::uint32_t session, std::error_code ec, smpp::command_status st) {
  auto& s = smscs_[current_smsc_];
  auto& b = s.binds[session];
  const auto level = ++b.failures_in_row == 1 ? lg::level::warn : lg::level::debug;
  if (st == smpp::command_status::ESME_ROK)  // no bind_resp: a timeout or a broken link
    lg::write(component::smsc, level, "bind failed; retrying",
              {{"smsc", s.setup.name}, {"bind", session}, {"error", ec}, {"failures", b.failures_in_row}});
  else
    lg::write(component::smsc, level, "bind refused; retrying",
              {{"smsc", s.setup.name}, {"bind", session}, {"command_status", smpp::name(st)},
               {"failures", b.failures_in_row}});
}

void dispatcher::on_closed(std::uint32_t session, std::error_code ec) {
  auto& s = smscs_[current_smsc_];
  auto& b = s.binds[session];
  if (b.bound) {
    b.bound = false;
    if (stopping_ || s.setup.retired)
      lg::info(component::smsc, "unbound", {{"smsc", s.setup.name}, {"bind", session}});
    else
      lg::warn(component::smsc, "bind lost; reconnecting", {{"smsc", s.setup.name}, {"bind", session}, {"error", ec}});
  } else {
    lg::debug(component::smsc, "connection closed", {{"smsc", s.setup.name}, {"bind", session}, {"error", ec}});
  }
  wake();
}

// Connect failures never reach the session handler; the clients count them.
void dispatcher::log_connect_failures(std::size_t smsc) {
  auto& s = smscs_[smsc];
  for (std::size_t i = 0; i < s.binds.size(); ++i) {
    const auto& stats = s.pool->bind(i).stats();
    auto& b = s.binds[i];
    if (stats.connect_failures == b.connect_failures) continue;
    b.connect_failures = stats.connect_failures;
    const bool first = ++b.failures_in_row == 1;
    lg::write(component::smsc, first ? lg::level::warn : lg::level::debug, "cannot connect; retrying",
              {{"smsc", s.setup.name}, {"bind", i}, {"host", s.pool->bind(i).options().host},
               {"port", s.pool->bind(i).options().port}, {"error", stats.last_error}, {"failures", b.failures_in_row}});
  }
}
void dispatcher::on_ready(std::uint32_t) { wake(); }

void dispatcher::tick() {
  if (stopping_) return;
  const auto now = clock::now();
  for (std::size_t i = 0; i < smscs_.size(); ++i) {
    auto& s = smscs_[i];
    s.rate.observe(smsc_counters_[i].submitted.load(std::memory_order_relaxed), now);
    if (s.rate.on_tick(now)) {
      s.bucket.set_rate(s.rate.current(), now);
      if (!s.rate.reduced())
        lg::info(component::dispatch, "rate back to the configured one", {{"smsc", s.setup.name}, {"rate", s.rate.current()}});
      else
        lg::debug(component::dispatch, "rate raised", {{"smsc", s.setup.name}, {"rate", s.rate.current()},
                                                       {"configured", s.rate.configured()}});
    }
    if (!s.setup.retired) log_connect_failures(i);
    // What the metrics show of the binds and the rate (read on another thread).
    auto& c = smsc_counters_[i];
    std::uint32_t bound = 0;
    for (std::size_t b = 0; b < s.pool->size(); ++b) bound += s.pool->bind(b).bound();
    c.binds_bound.store(bound, std::memory_order_relaxed);
    c.window_in_use.store(static_cast<std::uint32_t>(s.pool->outstanding()), std::memory_order_relaxed);
    c.rate.store(s.rate.current(), std::memory_order_relaxed);
  }
  if (++ticks_ % 100 == 0) {
    std::error_code ec;
    reconciler_.tick(ec);
  }
  flush_log_backlog();
  submit_staged();
  ack_durable();
  pump();
  tick_timer_.expires_after(std::chrono::milliseconds(100));
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick();
  });
}

}  // namespace engine
