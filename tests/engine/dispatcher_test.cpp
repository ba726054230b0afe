// Tests of engine/dispatcher.hpp that need no SMSC: admission to the
// per-operator lanes (back-pressure keeps the caller's message).
#include "engine/dispatcher.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "storage/message_log.hpp"
#include "storage/reconciler.hpp"
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

}  // namespace
