// The dispatch stage: messages ready to send wait in per-operator queues,
// one lane per priority (notifications strictly ahead of campaigns), pass
// the operator's and the SMSC's token buckets and go out through the SMSC
// account's bind pool. Responses and receipts come back here and are
// turned into message-log events; receipts are reconciled and answered
// only once their event is durable.
//
//   enqueue (any thread) --lock-free queue per operator and lane-->
//   pump (io thread): route to a live SMSC with room, throttle, submit
//   a message whose validity ended while it waited is suppressed, not sent
//   a message with a send window (local hours in its recipient's zone)
//     is held, alone, while its window is closed and goes out when it
//     opens; one whose validity would end first is suppressed at once
//     (cause send_window). Campaign lanes stop being read while
//     max_window_held messages are on hold (memory stays bounded)
//   a paused campaign's messages are held until resumed; a cancelled
//     campaign's unsent parts are cancelled (those on hold too)
//   responses: accepted -> reconciler.on_resp; temporary -> retrying and
//     a later attempt (THROTTLED also lowers that SMSC's rate); permanent
//     -> failed; in doubt (written, no resp) -> the in-doubt policy;
//     never written -> sent again at once
//   receipts: parsed, reconciled, deliver_sm_resp after the log has them
//
// Logs (component smsc): each bind's up, down, refusal and connect failure
// with its SMSC and index, a failure repeated before the bind came back at
// debug. Component dispatch: rate lowered after ESME_RTHROTTLED (warn) and
// back to the configured rate (info); each part's retry, failure, in-doubt
// outcome and throttle at debug only.
//
// Threads: everything except enqueue() and the counters runs on the
// io_context given (one thread); all binds of all SMSCs live on it. A
// message belongs to the dispatcher from enqueue() until its last part is
// final, when on_final runs (on the io thread).
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <concurrentqueue/concurrentqueue.h>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/campaign_gate.hpp"
#include "engine/router.hpp"
#include "engine/throttle.hpp"
#include "engine/time_zone.hpp"
#include "smpp/bind_pool.hpp"
#include "smpp/text.hpp"
#include "storage/message_log.hpp"
#include "storage/reconciler.hpp"

namespace engine {

enum class lane : std::uint8_t { notification = 0, campaign = 1 };
inline constexpr std::size_t lane_count = 2;

// One message, encoded for its operator's SMSCs, on its way out.
struct outbound_message {
  std::uint64_t id = 0;
  lane priority = lane::campaign;
  std::size_t op = 0;  // operator index (router)
  std::string to;      // E.164 with '+'
  std::string from;
  smpp::encoded_text text;
  bool receipts = true;
  std::chrono::seconds validity{0};    // 0: the SMSC's default; counted from queued_us
  std::optional<send_hours> window;    // when it may go out; none: any time
  std::string campaign;                // "" for notifications
  const campaign_gate* gate = nullptr; // the campaign's control state; null for notifications
  std::vector<std::uint16_t> pending;  // parts still to (re)send
  std::uint32_t attempts = 0;
  std::int64_t queued_us = 0;
  bool ignores_opt_out = false;  // the confirmation of an opt-out itself
  // Its record went through the message log's urgent lane (queued before
  // the message came here, perhaps not yet durable): its first submit
  // marks may take that lane too (nothing of the message waits in the
  // normal lane before them), and being behind the record in that lane's
  // numbering, a mark is durable only once the record is.
  bool urgent_log = false;
  bool retry_pending = false;  // the dispatcher's: an attempt is planned
  bool written = false;        // the dispatcher's: a part has reached an SMSC
};

enum class in_doubt_action : std::uint8_t { mark_unknown, resend };

struct smsc_setup {
  std::string name;  // the account; receipts are matched per account
  smpp::pool_options pool;
  double tps = 0;
  storage::id_format ids = storage::id_format::automatic;
  bool retired = false;  // gone from the configuration (reload): drained and unbound
};

struct dispatcher_options {
  std::vector<smsc_setup> smscs;
  // smscs[].smsc index into `smscs`. An operator a reload removed sends
  // nothing: its waiting messages are routed again.
  std::vector<operator_route_table> operators;
  std::vector<double> operator_tps;             // per operator; 0: no limit
  std::optional<std::size_t> default_operator;
  in_doubt_action in_doubt = in_doubt_action::mark_unknown;
  std::uint32_t max_attempts = 5;
  std::chrono::milliseconds retry_initial{2000};
  std::chrono::milliseconds retry_max{300000};
  std::size_t lane_capacity = 20000;  // messages waiting per operator and lane
  // Messages on hold for their send window before the campaign lanes stop
  // being read (a few hundred octets each).
  std::size_t max_window_held = 200000;
};

// What became of a message, for the engine's bookkeeping (campaign
// progress, the API). Runs on the io thread.
struct final_event {
  std::uint64_t id = 0;
  std::string campaign;
  storage::state state = storage::state::delivered;
};

struct dispatcher_counters {
  std::atomic<std::uint64_t> submitted{0};  // parts written
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> retried{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> in_doubt{0};
  std::atomic<std::uint64_t> throttled{0};
  std::atomic<std::uint64_t> receipts{0};
  std::atomic<std::uint64_t> mo{0};
  std::atomic<std::uint64_t> backlog_waits{0};  // pumps held back by the log's back-pressure
  std::atomic<std::uint64_t> expired_unsent{0};  // parts suppressed: validity over before they could go
  std::atomic<std::uint64_t> cancelled{0};       // parts of cancelled campaigns that never went
  std::atomic<std::uint64_t> window_holds{0};    // messages put on hold until their send window opened
  std::atomic<std::uint64_t> window_suppressed{0};  // parts suppressed: validity over before their window opens
  std::atomic<std::uint64_t> opted_out{0};       // parts suppressed: the recipient opted out
};

// The answer to a customer's message (MO): `status`, sent once the log's
// durable ticket reaches `ticket` (0: at once).
struct mo_verdict {
  smpp::command_status status = smpp::command_status::ESME_ROK;
  std::uint64_t ticket = 0;
};

// Whether throttling holds an SMSC's rate (`now`, 0: none) below the
// configured one (0: none, so any limit is one throttling set).
constexpr bool rate_is_reduced(double configured, double now) noexcept {
  return now > 0 && (configured <= 0 || now < configured);
}

// What the dispatcher's SMSCs and operators look like now (status).
struct smsc_status {
  std::string name;
  std::size_t binds = 0;         // configured sessions
  std::size_t bound_senders = 0; // sessions bound and able to submit
  std::size_t outstanding = 0;   // submits waiting for their resp
  double tps = 0;                // configured; 0: no limit
  double rate = 0;               // now (lowered after ESME_RTHROTTLED); 0: no limit
  std::size_t window = 0;        // outstanding requests allowed, over all binds
  bool rate_reduced() const noexcept { return rate_is_reduced(tps, rate); }
};
struct operator_status {
  std::string name;
  double tps = 0;
  std::size_t queued_notifications = 0;
  std::size_t queued_campaign = 0;
  std::vector<std::size_t> smscs;  // indexes into dispatcher_status::smscs
};
struct dispatcher_status {
  std::vector<smsc_status> smscs;
  std::vector<operator_status> operators;
  std::size_t open_messages = 0;
  std::size_t held_messages = 0;  // of paused or not yet started campaigns
  std::size_t window_held = 0;    // waiting for their send window
  std::size_t retry_waiting = 0;
};

// One SMSC account's share, for the metrics. Written on the io thread
// only (a load and a store: no locked instruction on the hot path), read
// from any thread. The gauges are sampled every tick (100 ms).
struct smsc_counters {
  std::atomic<std::uint64_t> submitted{0};  // parts written
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> retried{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> in_doubt{0};
  std::atomic<std::uint64_t> throttled{0};
  std::atomic<std::uint64_t> receipts{0};
  std::atomic<std::uint64_t> mo{0};
  std::atomic<std::uint64_t> rate_reductions{0};  // the adaptive rate lowered
  std::atomic<std::uint32_t> binds_bound{0};      // gauge: connections bound now
  std::atomic<std::uint32_t> window_in_use{0};    // gauge: requests outstanding, all binds
  std::atomic<double> rate{0};                    // gauge: current adaptive rate; 0 unlimited
  // submit_sm -> submit_sm_resp, in buckets up to each bound (the last
  // one unbounded); not cumulative.
  static constexpr std::array<std::int64_t, 14> resp_bounds_us{
      500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
  std::array<std::atomic<std::uint64_t>, resp_bounds_us.size() + 1> resp_buckets{};
  std::atomic<std::uint64_t> resp_sum_us{0};
};

// submit_sm_resp statuses by command_status, for the metrics: the first
// `slots` distinct values seen get a slot each, any further one counts in
// `other` (an SMSC's vendor codes cannot grow the series without bound).
// Written on the io thread only, read from any thread: a slot's status is
// stored before `used` counts it (release/acquire).
struct status_counts {
  static constexpr std::size_t slots = 24;
  std::array<std::atomic<std::uint32_t>, slots> status{};
  std::array<std::atomic<std::uint64_t>, slots> count{};
  std::atomic<std::uint64_t> other{0};
  std::atomic<std::size_t> used{0};
};

// One operator's share, for the metrics; written on the io thread only.
// A message counts as submitted when its first part is written, accepted
// when the SMSC accepted every part, failed when a part failed.
struct operator_counters {
  std::atomic<std::uint64_t> messages_submitted{0};
  std::atomic<std::uint64_t> messages_accepted{0};
  std::atomic<std::uint64_t> messages_failed{0};
  std::atomic<std::uint64_t> parts_submitted{0};
  std::atomic<std::uint64_t> parts_accepted{0};
  std::atomic<std::uint64_t> parts_failed{0};
  status_counts responses;
};

class dispatcher : private smpp::session_handler {
 public:
  dispatcher(boost::asio::io_context& io, dispatcher_options options, storage::message_log& log,
             storage::reconciler& reconciler);
  ~dispatcher() override;

  void start();
  // Graceful: stops pulling, drains the windows within `drain`, unbinds.
  void stop(std::chrono::milliseconds drain, std::function<void()> done);

  // Any thread. Takes the message (and empties `m`) only when it returns
  // true; false when that operator's lane is full: `m` is left as it was,
  // to try again later (the caller stops reading its source: back-pressure).
  bool enqueue(std::unique_ptr<outbound_message>&& m);

  std::function<void(const final_event&)> on_final;  // set before start()
  // Set before start(), called on the io thread. Customers' messages
  // (deliver_sm / data_sm that are not receipts), by SMSC account; without
  // it they are counted and accepted.
  std::function<mo_verdict(std::string_view smsc, const smpp::pdu& p)> on_mo;
  // Set before start(), called on the io thread before each submit: a
  // message to a number this says opted out is suppressed (cause opted_out).
  std::function<bool(const std::string& to)> opted_out;

  // Any thread (reload): new SMSCs, operators, routes and rates. Indexes
  // are stable: `next` keeps every SMSC and operator at its index (marking
  // those gone: retired SMSCs, removed operators) and adds new ones
  // after them. An SMSC whose connection settings changed is retired and
  // added again under the same name. Binds of unchanged SMSCs stay up.
  // `done` runs on the io thread once it is in force; false when it was
  // refused (more operators than max_operators).
  void reconfigure(dispatcher_options next, std::function<void(bool)> done);
  static constexpr std::size_t max_operators = 4096;
  static constexpr std::size_t max_smscs = 1024;

  // Any thread: a campaign's gate changed. Its held messages are looked at
  // again (sent when it runs, cancelled when it was cancelled).
  void campaign_changed(const campaign_gate* gate);
  // Any thread: `done` gets a snapshot, called on the io thread.
  void status(std::function<void(dispatcher_status)> done);
  std::size_t held_messages() const noexcept { return held_count_.load(std::memory_order_relaxed); }
  // Any thread: messages on hold now until their send window opens.
  std::size_t held_for_window() const noexcept { return window_held_count_.load(std::memory_order_relaxed); }
  // Any thread: counts the io thread's 100 ms ticks; a value that stops
  // moving means the io thread is stuck (the service watchdog).
  std::uint64_t ticks() const noexcept { return ticks_.load(std::memory_order_relaxed); }

  // Any thread (the log's on_durable callback): receipts waiting for
  // durability may be answered.
  void on_durable();

  // Messages this dispatcher holds (queued, in flight, retrying or waiting
  // for receipts). Any thread.
  std::size_t open_messages() const noexcept { return open_count_.load(std::memory_order_relaxed); }
  std::size_t queued(lane l) const noexcept;  // over all operators
  std::size_t lane_capacity() const noexcept { return options_.lane_capacity; }
  const dispatcher_counters& counters() const noexcept { return counters_; }
  const smsc_counters& counters(std::size_t smsc) const noexcept { return smsc_counters_[smsc]; }
  // Below operator_count().
  const operator_counters& op_counters(std::size_t op) const noexcept { return ops_[op]->counters; }
  std::size_t operator_count() const noexcept { return op_count_.load(std::memory_order_acquire); }
  std::size_t queued(std::size_t op, lane l) const noexcept {
    return ops_[op]->depth[static_cast<std::size_t>(l)].load(std::memory_order_relaxed);
  }
  std::size_t smsc_count() const noexcept { return smsc_count_.load(std::memory_order_acquire); }
  // Current (possibly adaptively lowered) rate of an SMSC; 0 when unlimited.
  // Any thread: the copy kept for the metrics follows every change.
  double smsc_rate(std::size_t smsc) const { return smsc_counters_[smsc].rate.load(std::memory_order_relaxed); }

 private:
  using clock = std::chrono::steady_clock;
  // What the log last said of a bind: up/down changes are logged once,
  // repeated failures in a row at debug after the first.
  struct bind_log {
    bool bound = false;
    std::uint64_t connect_failures = 0;  // the client's count, last seen
    std::uint32_t failures_in_row = 0;   // connects and binds since it was last bound
  };
  struct smsc_state {
    smsc_setup setup;
    std::unique_ptr<smpp::bind_pool> pool;
    token_bucket bucket;
    adaptive_rate rate{0, {}};
    std::vector<bind_log> binds;  // by bind index
  };
  struct operator_state {
    token_bucket bucket;
    std::array<moodycamel::ConcurrentQueue<std::unique_ptr<outbound_message>>, lane_count> lanes;
    std::array<std::atomic<std::size_t>, lane_count> depth{};
    std::array<outbound_message*, lane_count> head{};  // taken (owned by messages_), not yet sent
    operator_counters counters;
  };
  struct in_flight {
    outbound_message* message = nullptr;
    std::uint16_t part = 0;
    std::size_t smsc = 0;
    std::int64_t sent_us = 0;
  };
  struct retry_entry {
    clock::time_point due;
    outbound_message* message;
    bool operator>(const retry_entry& o) const { return due > o.due; }
  };
  struct message_entry {
    std::unique_ptr<outbound_message> message;
    std::uint16_t parts_open = 0;
    std::vector<storage::state> part_states;
  };
  struct staged {
    std::uint64_t ticket;  // the parts' submitting events; unknown_ticket while held back
    outbound_message* message;
    std::size_t smsc;
    std::vector<std::uint16_t> parts;
  };
  static constexpr std::uint64_t unknown_ticket = ~std::uint64_t{0};
  void submit_from(std::deque<staged>& q);  // its front parts whose marks are durable
  struct pending_ack {
    std::uint64_t ticket;
    smpp::inbound_token token;
    std::size_t smsc;
  };

  // session_handler
  void on_bound(std::uint32_t session, std::string_view smsc_system_id) override;
  void on_bind_failed(std::uint32_t session, std::error_code ec, smpp::command_status status) override;
  void on_response(std::uint32_t session, std::uint64_t tag, const smpp::response& r) override;
  void on_inbound(std::uint32_t session, smpp::inbound_token token, const smpp::pdu& p) override;
  void on_closed(std::uint32_t session, std::error_code ec) override;
  void on_ready(std::uint32_t session) override;

  void wake();  // any thread: schedule a pump
  void add_smsc(const smsc_setup& setup);
  // A message of a removed operator: routed again, or failed.
  void reroute(outbound_message& m);
  void pump();
  bool try_send(outbound_message& m, clock::time_point now, std::optional<clock::time_point>& wait_until);
  bool send(outbound_message& m, std::size_t smsc);  // stages the parts
  // The campaign's gate decides: true when `m` is dealt with (held or
  // cancelled) and must not be sent now.
  bool gated(outbound_message& m);
  // Outside its send window: held until it opens, or suppressed when its
  // validity ends first. True when `m` is dealt with.
  bool outside_window(outbound_message& m);
  // Every pending part final as `st`, for `why`; counted in `counter`.
  void settle_unsent(outbound_message& m, storage::state st, storage::cause why, std::atomic<std::uint64_t>& counter);
  void submit_staged();                              // writes the durable ones
  void schedule_retry(outbound_message& m, std::chrono::milliseconds delay);
  // Records a part's outcome; true when that ended the message (`m` is gone).
  bool part_final(outbound_message& m, std::uint16_t part, storage::state st);
  // False when the writer was behind and the event waits in log_backlog_.
  bool log_update(storage::part_update u, storage::urgency how = storage::urgency::normal);
  bool log_parts(std::uint64_t id, const std::vector<std::uint16_t>& parts, storage::state to, std::int64_t at_us,
                 const std::string& smsc = {}, storage::cause why = storage::cause::engine,
                 storage::urgency how = storage::urgency::normal);
  bool flush_log_backlog();
  void tick();
  void log_connect_failures(std::size_t smsc);
  void ack_durable();
  std::int64_t now_us() const;

  boost::asio::io_context& io_;
  dispatcher_options options_;
  storage::message_log& log_;
  storage::reconciler& reconciler_;
  router router_;
  std::vector<smsc_state> smscs_;
  // Never reallocated (reserved for max_operators): enqueue() reads it
  // from other threads up to op_count_ while a reload appends.
  std::vector<std::unique_ptr<operator_state>> ops_;
  std::atomic<std::size_t> op_count_{0};
  // Which pool a session handler call comes from: each pool gets its own relay.
  class pool_relay;
  std::vector<std::unique_ptr<pool_relay>> relays_;
  std::size_t current_smsc_ = 0;  // set by the relay around each callback

  std::unordered_map<std::uint64_t, in_flight> in_flight_;  // by tag
  std::uint64_t next_tag_ = 1;
  std::unordered_map<std::uint64_t, message_entry> messages_;  // by message id
  std::priority_queue<retry_entry, std::vector<retry_entry>, std::greater<>> retries_;
  // Taken from their lanes and due again (retries, those let go by their
  // send window, a resumed campaign's, rerouted ones), by priority.
  std::array<std::deque<outbound_message*>, lane_count> ready_;
  std::deque<outbound_message*>& ready_for(const outbound_message& m) {
    return ready_[static_cast<std::size_t>(m.priority)];
  }
  std::vector<char> op_blocked_;  // pump's scratch: an operator's older work waits
  std::unordered_map<const campaign_gate*, std::vector<outbound_message*>> held_;  // paused campaigns'
  std::atomic<std::size_t> held_count_{0};
  std::multimap<std::int64_t, outbound_message*> window_held_;  // by when their window opens (Unix seconds)
  std::atomic<std::size_t> window_held_count_{0};
  std::deque<storage::part_update> log_backlog_;  // events the log refused for now
  std::deque<pending_ack> acks_;                  // receipts answered once durable
  std::deque<staged> staged_;                     // parts waiting for their submitting event
  std::deque<staged> staged_urgent_;              // the same, marked in the log's urgent lane
  std::vector<std::size_t> staged_parts_;         // per SMSC
  std::vector<smpp::pdu_body> bodies_;            // submit_staged's scratch
  std::vector<std::uint64_t> tags_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer tick_timer_;
  std::atomic<bool> wake_posted_{false};
  std::atomic<bool> durable_posted_{false};
  std::atomic<std::size_t> open_count_{0};
  bool stopping_ = false;
  std::size_t next_op_ = 0;
  std::atomic<std::uint64_t> ticks_{0};
  dispatcher_counters counters_;
  // By SMSC, room for max_smscs (never reallocated: other threads read it
  // up to smsc_count_ while a reload adds SMSCs).
  std::unique_ptr<smsc_counters[]> smsc_counters_;
  std::atomic<std::size_t> smsc_count_{0};
};

}  // namespace engine
