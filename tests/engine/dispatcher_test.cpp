// Tests of engine/dispatcher.hpp that need no SMSC: admission to the
// per-operator lanes (back-pressure keeps the caller's message), and what
// happens to messages that cannot go now: validity over, send window
// closed (held alone, or suppressed when the validity ends first), a
// cancelled campaign's held messages. And, against smsc-sim, that a
// notification dispatched before its record is durable is sent only after,
// that a notification goes before campaign messages due again, and how
// failures end: temporary ones retried with doubling delays until the
// attempts run out, permanent ones final at once, a retry past the
// validity suppressed.
#include "engine/dispatcher.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <fstream>
#include <functional>
#include <optional>
#include <thread>

#include "engine/recipient_zone.hpp"
#include "smpp/text.hpp"
#include "storage/message_log.hpp"
#include "storage/reconciler.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

// A real message log in a temporary directory and one operator without
// SMSCs: nothing can be sent, which is what these tests need.
class dispatcher_without_smscs : public ::testing::Test {
 protected:
  smppd::test::temp_dir dir{"smppd-dispatcher-test"};
  storage::message_log log{[this] {
    storage::log_options lo;
    lo.dir = dir / "log";
    lo.sync = storage::sync_policy::never;
    return lo;
  }()};
  storage::reconciler reconciler{log};
  boost::asio::io_context io;

  std::unique_ptr<engine::dispatcher> make(std::size_t lane_capacity = 20000) {
    engine::dispatcher_options o;
    o.operators.push_back({"lt", {"+370"}, {}});
    o.lane_capacity = lane_capacity;
    return std::make_unique<engine::dispatcher>(io, o, log, reconciler);
  }
};

TEST_F(dispatcher_without_smscs, a_full_lane_refuses_a_message_and_leaves_it_with_the_caller) {
  auto dp = make(1);
  auto& d = *dp;

  auto make = [](std::uint64_t id, engine::lane l) {
    auto m = std::make_unique<engine::outbound_message>();
    m->id = id;
    m->priority = l;
    return m;
  };
  auto first = make(1, engine::lane::campaign);
  ASSERT_TRUE(d.enqueue(std::move(first)));
  EXPECT_FALSE(first);  // taken
  auto second = make(2, engine::lane::campaign);
  EXPECT_FALSE(d.enqueue(std::move(second)));
  ASSERT_TRUE(second);  // still the caller's, to offer again
  EXPECT_EQ(second->id, 2u);
  // The notification lane has its own room.
  auto otp = make(3, engine::lane::notification);
  EXPECT_TRUE(d.enqueue(std::move(otp)));
  EXPECT_EQ(d.queued(engine::lane::campaign), 1u);
  EXPECT_EQ(d.queued(engine::lane::notification), 1u);
  // An operator the dispatcher does not know refuses too, keeping it.
  auto stray = make(4, engine::lane::campaign);
  stray->op = 7;
  EXPECT_FALSE(d.enqueue(std::move(stray)));
  EXPECT_TRUE(stray);
}

TEST_F(dispatcher_without_smscs, suppresses_a_message_whose_validity_ended_before_it_could_go) {
  auto dp = make();
  auto& d = *dp;
  std::vector<engine::final_event> finals;
  d.on_final = [&](const engine::final_event& e) { finals.push_back(e); };

  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  storage::message_record r;
  r.id = 1;
  r.recipient = "+37060000001";
  r.queued_us = now_us - 2'000'000;  // queued two seconds ago, valid for one
  r.parts.resize(2);
  std::error_code ec;
  log.wait_durable(log.append(r, ec));
  ASSERT_FALSE(ec);
  auto m = std::make_unique<engine::outbound_message>();
  m->id = 1;
  m->validity = std::chrono::seconds(1);
  m->queued_us = r.queued_us;
  m->text.parts.resize(2);
  ASSERT_TRUE(d.enqueue(std::move(m)));
  d.start();
  io.run_for(std::chrono::milliseconds(300));
  ASSERT_EQ(finals.size(), 1u);
  EXPECT_EQ(finals[0].state, storage::state::suppressed);
  EXPECT_EQ(d.counters().expired_unsent.load(), 2u);
  EXPECT_EQ(d.open_messages(), 0u);
  log.wait_durable(log.issued_ticket());
  auto stored = log.get(1, ec);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->st, storage::state::suppressed);
}

std::int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A UTC window that opens in two hours and closes in three: closed now
// and for the test's length.
engine::send_hours closed_window() {
  const int minute = static_cast<int>(wall_us() / 60'000'000 % 1440);
  return engine::send_hours{engine::cached_zone("UTC"), static_cast<std::int16_t>((minute + 120) % 1440),
                            static_cast<std::int16_t>((minute + 180) % 1440)};
}

class dispatcher_windows : public dispatcher_without_smscs {
 protected:
  std::vector<engine::final_event> finals;

  // A message in the log and for the dispatcher, queued now.
  std::unique_ptr<engine::outbound_message> message(std::uint64_t id, std::chrono::seconds validity,
                                                    std::optional<engine::send_hours> window,
                                                    const engine::campaign_gate* gate = nullptr) {
    storage::message_record r;
    r.id = id;
    r.origin = storage::origin::campaign;
    r.campaign = "c";
    r.recipient = "+37060000001";
    r.queued_us = wall_us();
    r.valid_until_us = validity.count() ? r.queued_us + validity.count() * 1'000'000 : 0;
    r.parts.resize(1);
    std::error_code ec;
    log.wait_durable(log.append(r, ec));
    EXPECT_FALSE(ec);
    auto m = std::make_unique<engine::outbound_message>();
    m->id = id;
    m->campaign = "c";
    m->gate = gate;
    m->to = r.recipient;
    m->validity = validity;
    m->queued_us = r.queued_us;
    m->window = window;
    m->text.parts.resize(1);
    return m;
  }

  storage::message_record stored(std::uint64_t id) {
    log.wait_durable(log.issued_ticket());
    std::error_code ec;
    auto r = log.get(id, ec);
    EXPECT_TRUE(r) << id;
    return r ? *r : storage::message_record{};
  }
};

TEST_F(dispatcher_windows, holds_a_message_outside_its_window_without_holding_up_the_next) {
  auto dp = make();
  auto& d = *dp;
  d.on_final = [&](const engine::final_event& e) { finals.push_back(e); };
  // The first waits for its window (no validity to run out); the one
  // behind it in the same lane is looked at anyway: its validity is over.
  ASSERT_TRUE(d.enqueue(message(1, std::chrono::seconds(0), closed_window())));
  auto late = message(2, std::chrono::seconds(1), std::nullopt);
  late->queued_us -= 2'000'000;
  ASSERT_TRUE(d.enqueue(std::move(late)));
  d.start();
  io.run_for(std::chrono::milliseconds(300));
  EXPECT_EQ(d.held_for_window(), 1u);
  EXPECT_EQ(d.counters().window_holds.load(), 1u);
  ASSERT_EQ(finals.size(), 1u);
  EXPECT_EQ(finals[0].id, 2u);
  EXPECT_EQ(stored(1).st, storage::state::queued);
  const auto r2 = stored(2);
  EXPECT_EQ(r2.st, storage::state::suppressed);
  EXPECT_EQ(r2.parts[0].settled_by, storage::cause::validity);
  EXPECT_EQ(d.open_messages(), 1u);
}

TEST_F(dispatcher_windows, suppresses_at_once_a_message_whose_validity_ends_before_its_window_opens) {
  auto dp = make();
  auto& d = *dp;
  d.on_final = [&](const engine::final_event& e) { finals.push_back(e); };
  // The window opens in two hours; the message is valid for one.
  ASSERT_TRUE(d.enqueue(message(1, std::chrono::hours(1), closed_window())));
  // Valid for three: held.
  ASSERT_TRUE(d.enqueue(message(2, std::chrono::hours(3), closed_window())));
  d.start();
  io.run_for(std::chrono::milliseconds(300));
  ASSERT_EQ(finals.size(), 1u);
  EXPECT_EQ(finals[0].id, 1u);
  EXPECT_EQ(finals[0].state, storage::state::suppressed);
  const auto r1 = stored(1);
  EXPECT_EQ(r1.st, storage::state::suppressed);
  EXPECT_EQ(r1.parts[0].settled_by, storage::cause::send_window);
  EXPECT_EQ(storage::name(r1.parts[0].settled_by), "outside_send_window");
  EXPECT_EQ(d.counters().window_suppressed.load(), 1u);
  EXPECT_EQ(d.counters().expired_unsent.load(), 0u);
  EXPECT_EQ(d.held_for_window(), 1u);
  EXPECT_EQ(stored(2).st, storage::state::queued);
}

TEST_F(dispatcher_windows, cancelling_a_campaign_cancels_its_messages_on_hold_at_once) {
  auto dp = make();
  auto& d = *dp;
  d.on_final = [&](const engine::final_event& e) { finals.push_back(e); };
  engine::campaign_gate gate("c", engine::campaign_state::running);
  engine::campaign_gate other("o", engine::campaign_state::running);
  ASSERT_TRUE(d.enqueue(message(1, std::chrono::seconds(0), closed_window(), &gate)));
  ASSERT_TRUE(d.enqueue(message(2, std::chrono::seconds(0), closed_window(), &other)));
  d.start();
  io.run_for(std::chrono::milliseconds(200));
  ASSERT_EQ(d.held_for_window(), 2u);
  gate.state.store(engine::campaign_state::cancelled);
  d.campaign_changed(&gate);
  io.run_for(std::chrono::milliseconds(200));
  ASSERT_EQ(finals.size(), 1u);
  EXPECT_EQ(finals[0].id, 1u);
  EXPECT_EQ(finals[0].state, storage::state::cancelled);
  EXPECT_EQ(stored(1).st, storage::state::cancelled);
  EXPECT_EQ(d.held_for_window(), 1u);  // the other campaign's stays on hold
  EXPECT_EQ(stored(2).st, storage::state::queued);
}

TEST_F(dispatcher_windows, stops_reading_campaign_lanes_while_too_many_are_on_hold) {
  engine::dispatcher_options o;
  o.operators.push_back({"lt", {"+370"}, {}});
  o.max_window_held = 2;
  engine::dispatcher d(io, o, log, reconciler);
  for (std::uint64_t id = 1; id <= 5; ++id) ASSERT_TRUE(d.enqueue(message(id, std::chrono::seconds(0), closed_window())));
  d.start();
  io.run_for(std::chrono::milliseconds(300));
  EXPECT_EQ(d.held_for_window(), 2u);
  EXPECT_EQ(d.queued(engine::lane::campaign), 3u);  // left in the lane: the reader feels it
}

}  // namespace

namespace {

const std::string bin_dir = SMPPD_BIN_DIR;

// A dispatcher with one operator whose SMSC is a real smsc-sim on
// loopback, which notes every submit it decodes (destination, time) in an
// arrivals file; a real message log that tells the dispatcher what is
// durable, and can be held in that callback.
class dispatcher_with_sim : public ::testing::Test {
 protected:
  smppd::test::temp_dir dir{"smppd-dispatcher-sim-test"};
  std::optional<smppd::test::child_process> sim;
  std::atomic<bool> hold{false}, held{false};
  std::atomic<engine::dispatcher*> sink{nullptr};
  std::unique_ptr<storage::message_log> log;
  std::unique_ptr<storage::reconciler> reconciler;
  boost::asio::io_context io;
  std::unique_ptr<engine::dispatcher> d;

  std::vector<engine::final_event> finals;

  // `sim_flags` for smsc-sim; `tweak` changes the dispatcher's options.
  void start(std::size_t window, std::vector<std::string> sim_flags = {},
             const std::function<void(engine::dispatcher_options&)>& tweak = {}) {
    sim_flags.insert(sim_flags.end(), {"--arrivals-file", (dir / "arrivals").string(), "--arrivals-prefix", "3706"});
    const std::uint16_t port = smppd::test::start_smsc_sim(sim, bin_dir + "/smsc-sim", sim_flags);
    ASSERT_NE(port, 0);
    storage::log_options lo;
    lo.dir = dir / "log";
    lo.sync = storage::sync_policy::never;
    lo.on_durable = [this](std::uint64_t) {
      while (hold.load()) {
        held.store(true);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (auto* p = sink.load()) p->on_durable();
    };
    log = std::make_unique<storage::message_log>(lo);
    reconciler = std::make_unique<storage::reconciler>(*log);
    engine::dispatcher_options o;
    engine::smsc_setup s;
    s.name = "sim";
    s.pool.client.host = "127.0.0.1";
    s.pool.client.port = port;
    s.pool.client.session.system_id = "acme";
    s.pool.client.session.password = "secret";
    s.pool.client.session.window = window;
    o.smscs.push_back(s);
    o.operators.push_back({"lt", {"+370"}, {{0, 1}}});
    if (tweak) tweak(o);
    d = std::make_unique<engine::dispatcher>(io, o, *log, *reconciler);
    d->on_final = [this](const engine::final_event& e) { finals.push_back(e); };
    sink.store(d.get());
    d->start();
    ASSERT_TRUE(run_until([&] { return d->counters(0).binds_bound.load() > 0; }, std::chrono::seconds(10)));
  }

  void TearDown() override {
    if (d) {
      bool stopped = false;
      d->stop(std::chrono::seconds(1), [&] { stopped = true; });
      run_until([&] { return stopped; }, std::chrono::seconds(5));
    }
    sink.store(nullptr);
    d.reset();
    if (sim) sim->stop();
  }

  template <class Done>
  bool run_until(Done&& done, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < end) io.run_for(std::chrono::milliseconds(20));
    return done();
  }

  // The destinations smsc-sim received, in the order it decoded them.
  std::vector<std::string> arrivals() {
    std::vector<std::string> out;
    for (auto& [to, us] : arrivals_at()) out.push_back(to);
    return out;
  }
  // The same with the time each arrived (Unix microseconds).
  std::vector<std::pair<std::string, std::int64_t>> arrivals_at() {
    std::ifstream in(dir / "arrivals");
    std::vector<std::pair<std::string, std::int64_t>> out;
    std::string to;
    std::int64_t us = 0;
    while (in >> to >> us) out.emplace_back(to, us);
    return out;
  }

  // A message with its record in the log (durable unless the writer is held).
  std::unique_ptr<engine::outbound_message> message(std::uint64_t id, std::string to, engine::lane priority,
                                                    storage::urgency how = storage::urgency::normal,
                                                    std::uint64_t* ticket = nullptr) {
    storage::message_record r;
    r.id = id;
    r.recipient = to;
    r.queued_us = wall_us();
    r.parts.resize(1);
    std::error_code ec;
    const std::uint64_t t = log->append(r, ec, how);
    EXPECT_FALSE(ec);
    if (ticket) *ticket = t;
    auto m = std::make_unique<engine::outbound_message>();
    m->id = id;
    m->priority = priority;
    m->to = std::move(to);
    m->from = "ACME";
    m->queued_us = r.queued_us;
    EXPECT_FALSE(smpp::encode_text("Your code is 1234", {}, m->text));
    return m;
  }
};

// A notification from the API reaches the dispatcher as soon as its record
// is queued in the log's urgent lane, before it is durable; its PDU must
// still wait for that. The log's writer is held (in its durability
// callback) while the record is queued and the message dispatched: nothing
// reaches smsc-sim until the writer goes on, then the submit goes out and
// the record and its parts' states are all in the log.
TEST_F(dispatcher_with_sim, dispatches_a_notification_before_its_record_is_durable_but_sends_it_only_after) {
  ASSERT_NO_FATAL_FAILURE(start(64));

  // The writer is held after writing a first record.
  hold.store(true);
  storage::message_record first;
  first.id = 1;
  first.recipient = "+37060000001";
  first.parts.resize(1);
  std::error_code ec;
  (void)log->append(first, ec, storage::urgency::urgent);
  ASSERT_FALSE(ec);
  while (!held.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  std::uint64_t record_ticket = 0;
  auto m = message(2, "+37060000002", engine::lane::notification, storage::urgency::urgent, &record_ticket);
  m->urgent_log = true;
  ASSERT_TRUE(d->enqueue(std::move(m)));
  io.run_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(log->is_durable(record_ticket));
  EXPECT_TRUE(arrivals().empty()) << "a PDU went out before its record was durable";
  EXPECT_EQ(d->counters().submitted.load(), 0u);

  hold.store(false);
  ASSERT_TRUE(run_until([&] { return arrivals().size() == 1 && d->counters().accepted.load() == 1; },
                        std::chrono::seconds(10)));
  log->wait_durable(log->issued_ticket(storage::urgency::urgent));
  log->wait_durable(log->issued_ticket());
  const auto stored = log->get(2, ec);
  ASSERT_TRUE(stored) << ec.message();
  EXPECT_EQ(stored->recipient, "+37060000002");
  EXPECT_NE(stored->parts[0].st, storage::state::queued);
  EXPECT_NE(stored->parts[0].submitted_us, 0);
  EXPECT_EQ(log->counters().unknown_messages.load(), 0u);
}

// Campaign messages taken from their lane and due again (here a paused
// campaign's, let go when it resumes; retries and those whose send window
// opens take the same way) do not go ahead of a notification waiting: with
// room for one PDU at a time, the OTP that was queued when the campaign
// resumed is the first to reach the SMSC.
TEST_F(dispatcher_with_sim, sends_a_waiting_notification_before_a_resumed_campaigns_messages) {
  ASSERT_NO_FATAL_FAILURE(start(1));
  engine::campaign_gate gate("c", engine::campaign_state::paused);
  for (std::uint64_t id = 1; id <= 5; ++id) {
    auto m = message(id, "+3706000000" + std::to_string(id), engine::lane::campaign);
    m->campaign = "c";
    m->gate = &gate;
    ASSERT_TRUE(d->enqueue(std::move(m)));
  }
  ASSERT_TRUE(run_until([&] { return d->held_messages() == 5; }, std::chrono::seconds(5)));
  log->wait_durable(log->issued_ticket());

  // Resumed, and an OTP queued, before the dispatcher's thread looks again.
  gate.state.store(engine::campaign_state::running);
  d->campaign_changed(&gate);
  ASSERT_TRUE(d->enqueue(message(9, "+37069999999", engine::lane::notification)));
  log->wait_durable(log->issued_ticket());
  ASSERT_TRUE(run_until([&] { return arrivals().size() == 6; }, std::chrono::seconds(10)));
  const auto order = arrivals();
  EXPECT_EQ(order.front(), "37069999999");
  EXPECT_EQ(std::vector<std::string>(order.begin() + 1, order.end()),
            (std::vector<std::string>{"37060000001", "37060000002", "37060000003", "37060000004", "37060000005"}));
}

// A temporary failure (ESME_RSYSERR) is retried after the initial delay,
// then after twice and four times it, until the attempts run out: then the
// part is failed, after exactly max_attempts submits.
TEST_F(dispatcher_with_sim, retries_a_temporary_failure_with_doubling_delays_until_its_attempts_run_out) {
  ASSERT_NO_FATAL_FAILURE(start(8, {"--reject", "1:ESME_RSYSERR"}, [](engine::dispatcher_options& o) {
    o.retry_initial = std::chrono::milliseconds(100);
    o.max_attempts = 4;
  }));
  ASSERT_TRUE(d->enqueue(message(1, "+37060000001", engine::lane::notification)));
  ASSERT_TRUE(run_until([&] { return !finals.empty(); }, std::chrono::seconds(10)));
  EXPECT_EQ(finals[0].state, storage::state::failed);
  const auto at = arrivals_at();
  ASSERT_EQ(at.size(), 4u);
  for (std::size_t i = 1; i < at.size(); ++i) {
    const std::int64_t gap = at[i].second - at[i - 1].second, wanted = 100'000 << (i - 1);
    EXPECT_GE(gap, wanted) << "retry " << i;
  }
  EXPECT_EQ(d->counters().retried.load(), 3u);
  log->wait_durable(log->issued_ticket());
  std::error_code ec;
  const auto r = log->get(1, ec);
  ASSERT_TRUE(r) << ec.message();
  EXPECT_EQ(r->st, storage::state::failed);
  EXPECT_EQ(r->parts[0].attempts, 4u);
}

// A permanent failure (ESME_RINVDSTADR) is final at once: one submit.
TEST_F(dispatcher_with_sim, fails_a_part_at_once_on_a_permanent_error) {
  ASSERT_NO_FATAL_FAILURE(start(8, {"--reject", "1:ESME_RINVDSTADR"}, [](engine::dispatcher_options& o) {
    o.retry_initial = std::chrono::milliseconds(100);
  }));
  ASSERT_TRUE(d->enqueue(message(1, "+37060000001", engine::lane::notification)));
  ASSERT_TRUE(run_until([&] { return !finals.empty(); }, std::chrono::seconds(10)));
  EXPECT_EQ(finals[0].state, storage::state::failed);
  io.run_for(std::chrono::milliseconds(300));  // no retry follows
  EXPECT_EQ(arrivals().size(), 1u);
  EXPECT_EQ(d->counters().retried.load(), 0u);
}

// A retry that would come after the message's validity ends does not go:
// the part is suppressed (validity) when its retry is due.
TEST_F(dispatcher_with_sim, suppresses_a_retry_due_after_the_validity) {
  ASSERT_NO_FATAL_FAILURE(start(8, {"--reject", "1:ESME_RSYSERR"}, [](engine::dispatcher_options& o) {
    o.retry_initial = std::chrono::milliseconds(1500);
  }));
  auto m = message(1, "+37060000001", engine::lane::notification);
  m->validity = std::chrono::seconds(1);
  ASSERT_TRUE(d->enqueue(std::move(m)));
  ASSERT_TRUE(run_until([&] { return !finals.empty(); }, std::chrono::seconds(10)));
  EXPECT_EQ(finals[0].state, storage::state::suppressed);
  EXPECT_EQ(arrivals().size(), 1u);
  log->wait_durable(log->issued_ticket());
  std::error_code ec;
  const auto r = log->get(1, ec);
  ASSERT_TRUE(r) << ec.message();
  EXPECT_EQ(r->st, storage::state::suppressed);
  EXPECT_EQ(r->parts[0].settled_by, storage::cause::validity);
}

}  // namespace
