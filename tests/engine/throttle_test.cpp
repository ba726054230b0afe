// Tests of engine/throttle.hpp with chosen instants: the bucket's rate
// and burst, the dispatcher's pacing replayed on a fake clock (accurate
// to 2% over 10 s), and the adaptive rate's decrease on THROTTLED and
// recovery.
#include "engine/throttle.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <string>

namespace {

using namespace std::chrono_literals;
const engine::token_bucket::clock::time_point t0{std::chrono::hours(1)};

TEST(token_bucket, allows_the_burst_then_the_rate) {
  engine::token_bucket b(100, 10, t0);
  int taken = 0;
  while (b.try_take(1, t0)) ++taken;
  EXPECT_EQ(taken, 10);
  EXPECT_FALSE(b.try_take(1, t0 + 5ms));
  EXPECT_TRUE(b.try_take(1, t0 + 10ms));
  EXPECT_EQ(b.available_at(1, t0 + 10ms), t0 + 20ms);
  // A long pause saves up no more than the burst.
  taken = 0;
  while (b.try_take(1, t0 + 10s)) ++taken;
  EXPECT_EQ(taken, 10);
}

TEST(token_bucket, takes_all_parts_of_a_message_at_once) {
  engine::token_bucket b(10, 5, t0);
  EXPECT_TRUE(b.try_take(3, t0));
  EXPECT_FALSE(b.try_take(3, t0));  // two left: all or nothing
  EXPECT_TRUE(b.try_take(2, t0));
}

TEST(token_bucket, a_message_larger_than_the_burst_still_goes_and_the_rate_holds) {
  // 2 parts per second with a burst of 1: a 3-part text waits for a full
  // bucket, goes, and the debt delays what follows by 1.5 s.
  engine::token_bucket b(2, 1, t0);
  EXPECT_EQ(b.available_at(3, t0), t0);
  EXPECT_TRUE(b.try_take(3, t0));
  EXPECT_EQ(b.available_at(1, t0 + 1s), t0 + 1500ms);
  EXPECT_FALSE(b.try_take(1, t0 + 1400ms));
  EXPECT_TRUE(b.try_take(1, t0 + 1500ms));
  // Over a long run the rate is exact whatever the sizes.
  auto t = t0 + 2s;
  double sent = 0;
  const auto end = t + 100s;
  for (int n = 1; t < end; n = n % 4 + 1) {
    t = b.available_at(n, t);
    if (t >= end) break;
    ASSERT_TRUE(b.try_take(n, t));
    sent += n;
  }
  EXPECT_NEAR(sent, 200, 4);
}

TEST(token_bucket, rate_zero_is_unlimited) {
  engine::token_bucket b(0, 0, t0);
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(b.try_take(1, t0));
}

TEST(adaptive_rate, lowers_on_throttled_once_per_cooldown) {
  engine::adaptive_rate a(1000, t0);
  EXPECT_TRUE(a.on_throttled(t0));
  EXPECT_DOUBLE_EQ(a.current(), 700);
  EXPECT_FALSE(a.on_throttled(t0 + 10ms));  // the same burst of refusals
  EXPECT_DOUBLE_EQ(a.current(), 700);
  EXPECT_TRUE(a.on_throttled(t0 + 1s));
  EXPECT_DOUBLE_EQ(a.current(), 490);
  EXPECT_TRUE(a.reduced());
}

TEST(adaptive_rate, never_goes_below_the_floor) {
  engine::adaptive_rate a(1000, t0);
  for (int i = 0; i < 100; ++i) a.on_throttled(t0 + std::chrono::seconds(i));
  EXPECT_DOUBLE_EQ(a.current(), 50);
}

TEST(adaptive_rate, recovers_step_by_step_after_a_quiet_time) {
  engine::adaptive_rate a(1000, t0);
  a.on_throttled(t0);
  EXPECT_FALSE(a.on_tick(t0 + 500ms));  // still in the cooldown
  auto t = t0 + 1s;
  int steps = 0;
  while (a.reduced() && steps < 100) {
    if (a.on_tick(t)) ++steps;
    t += 1s;
  }
  EXPECT_EQ(steps, 6);  // 700 -> 750 ... -> 1000
  EXPECT_DOUBLE_EQ(a.current(), 1000);
  EXPECT_FALSE(a.on_tick(t));
}

// An SMSC with no configured rate that throttles: lowered from the rate it
// was sent at over the last second, raised back step by step, then
// unlimited again.
TEST(adaptive_rate, lowers_an_unlimited_smsc_from_the_rate_it_was_sent_at_and_frees_it_again) {
  engine::adaptive_rate a(0, t0);
  a.observe(0, t0);
  EXPECT_FALSE(a.on_throttled(t0 + 50ms, 100));  // too little in view: no rate to lower
  EXPECT_FALSE(a.on_throttled(t0 + 500ms, 0));   // nothing sent
  EXPECT_DOUBLE_EQ(a.current(), 0);
  a.observe(2000, t0 + 1s);
  EXPECT_DOUBLE_EQ(a.observed(2000, t0 + 1s), 2000);
  EXPECT_TRUE(a.on_throttled(t0 + 1s, 2000));
  EXPECT_DOUBLE_EQ(a.current(), 1400);
  EXPECT_TRUE(a.reduced());
  EXPECT_DOUBLE_EQ(a.configured(), 0);
  // Another throttle a second later lowers it again; what it is sent at
  // now does not move the rate it returns to.
  a.observe(3400, t0 + 2s);
  EXPECT_TRUE(a.on_throttled(t0 + 2s, 3400));
  EXPECT_DOUBLE_EQ(a.current(), 980);
  auto t = t0 + 3s;
  int steps = 0;
  while (a.reduced() && steps < 100) {
    if (a.on_tick(t)) ++steps;
    t += 1s;
  }
  EXPECT_EQ(steps, 11);  // 980 + 100 a step, then unlimited at 2000
  EXPECT_DOUBLE_EQ(a.current(), 0);
  EXPECT_FALSE(a.reduced());
}

// A burst throttled early in a second counts at its own rate.
TEST(adaptive_rate, takes_an_early_burst_at_its_rate) {
  engine::adaptive_rate a(0, t0);
  a.observe(0, t0);
  EXPECT_DOUBLE_EQ(a.observed(3000, t0 + 250ms), 12000);
  EXPECT_TRUE(a.on_throttled(t0 + 250ms, 3000));
  EXPECT_DOUBLE_EQ(a.current(), 8400);
}

// A bucket limited after being unlimited saves up a tenth of a second.
TEST(token_bucket, limited_after_unlimited_saves_a_tenth_of_a_second) {
  engine::token_bucket b(0, 0, t0);
  b.set_rate(1000, t0);
  EXPECT_FALSE(b.unlimited());
  EXPECT_TRUE(b.try_take(1, t0));  // the one token an unlimited bucket had
  EXPECT_FALSE(b.try_take(1, t0));
  int taken = 0;
  while (b.try_take(1, t0 + 1s)) ++taken;
  EXPECT_EQ(taken, 100);
}

struct pacing_case {
  double operator_tps, smsc_tps;  // 0: no limit
  int max_parts;                  // messages of 1..max_parts parts, in turn
};

void PrintTo(const pacing_case& c, std::ostream* os) {
  *os << "operator " << c.operator_tps << " tps, smsc " << c.smsc_tps << " tps, 1-" << c.max_parts << " parts";
}

class dispatcher_pacing : public ::testing::TestWithParam<pacing_case> {};

// What the dispatcher does for each message (try_send): wait until both
// its operator's and its SMSC's bucket have a token per part, then take
// them. Buckets as the dispatcher makes them (a tenth of a second's worth
// of burst, at least one); its timer wakes up to a millisecond late.
TEST_P(dispatcher_pacing, sends_within_2_percent_of_the_rate_over_10_seconds) {
  const auto c = GetParam();
  auto bucket = [](double tps) { return engine::token_bucket(tps, std::max(1.0, tps / 10), t0); };
  engine::token_bucket op = bucket(c.operator_tps), smsc = bucket(c.smsc_tps);
  std::uint32_t lcg = 12345;
  auto t = t0;
  const auto end = t0 + 10s;
  double parts = 0;
  for (int i = 0;; ++i) {
    const double n = 1 + i % c.max_parts;
    auto ready = std::max(op.available_at(n, t), smsc.available_at(n, t));
    if (ready > t) {
      lcg = lcg * 1664525u + 1013904223u;
      ready += std::chrono::microseconds(lcg % 1000);  // the timer's lateness
      t = ready;
    }
    if (t >= end) break;
    ASSERT_TRUE(op.try_take(n, t));
    ASSERT_TRUE(smsc.try_take(n, t));
    parts += n;
  }
  const double rate = c.operator_tps == 0 ? c.smsc_tps
                      : c.smsc_tps == 0   ? c.operator_tps
                                          : std::min(c.operator_tps, c.smsc_tps);
  EXPECT_NEAR(parts, rate * 10, rate * 10 * 0.02) << "operator " << c.operator_tps << " smsc " << c.smsc_tps;
}

INSTANTIATE_TEST_SUITE_P(rates, dispatcher_pacing,
                         ::testing::Values(pacing_case{5, 0, 1}, pacing_case{0, 20, 1}, pacing_case{100, 0, 1},
                                           pacing_case{50, 40, 3}, pacing_case{300, 1000, 2},
                                           pacing_case{1000, 1000, 3}, pacing_case{3000, 2500, 1}),
                         [](const ::testing::TestParamInfo<pacing_case>& i) {
                           return "operator_" + std::to_string(static_cast<int>(i.param.operator_tps)) + "_smsc_" +
                                  std::to_string(static_cast<int>(i.param.smsc_tps)) + "_parts_" +
                                  std::to_string(i.param.max_parts);
                         });

}  // namespace
