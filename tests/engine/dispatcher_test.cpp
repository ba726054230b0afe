// Tests of engine/dispatcher.hpp that need no SMSC: admission to the
// per-operator lanes (back-pressure keeps the caller's message).
#include "engine/dispatcher.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "storage/message_log.hpp"
#include "storage/reconciler.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

TEST(dispatcher, a_full_lane_refuses_a_message_and_leaves_it_with_the_caller) {
  smppd::test::temp_dir dir{"smppd-dispatcher-test"};
  storage::log_options lo;
  lo.dir = dir / "log";
  lo.sync = storage::sync_policy::never;
  storage::message_log log(lo);
  storage::reconciler reconciler(log);
  boost::asio::io_context io;
  engine::dispatcher_options o;
  o.operators.push_back({"lt", {"+370"}, {}});
  o.lane_capacity = 1;
  engine::dispatcher d(io, o, log, reconciler);

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

}  // namespace
