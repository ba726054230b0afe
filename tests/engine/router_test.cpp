// Tests of engine/router.hpp: longest prefix, the default operator,
// weighted picks between SMSCs and failover to a live one.
#include "engine/router.hpp"

#include <gtest/gtest.h>

#include <map>

namespace {

engine::router make() {
  return engine::router({{"opa", {"+3706"}, {{0, 1}, {1, 3}}},
                         {"opb", {"+37065", "+3708"}, {{2, 1}}},
                         {"intl", {"+1"}, {{2, 1}}}},
                        std::nullopt);
}

TEST(router, takes_the_longest_matching_prefix) {
  auto r = make();
  EXPECT_EQ(r.route("+37060000001"), 0u);
  EXPECT_EQ(r.route("+37065000001"), 1u);  // +37065 beats +3706
  EXPECT_EQ(r.route("+37080000001"), 1u);
  EXPECT_EQ(r.route("+14155552671"), 2u);
  EXPECT_FALSE(r.route("+4915123456789"));
}

TEST(router, falls_back_to_the_default_operator) {
  engine::router r({{"opa", {"+3706"}, {{0, 1}}}}, 0);
  EXPECT_EQ(r.route("+4915123456789"), 0u);
}

TEST(router, shares_picks_by_weight_interleaved) {
  auto r = make();
  std::map<std::size_t, int> count;
  std::string sequence;
  for (int i = 0; i < 400; ++i) {
    auto s = r.pick(0, [](std::size_t) { return true; });
    ASSERT_TRUE(s);
    ++count[*s];
    if (i < 8) sequence += std::to_string(*s);
  }
  EXPECT_EQ(count[0], 100);
  EXPECT_EQ(count[1], 300);
  EXPECT_EQ(sequence, "10111011");  // smooth: never four of one in a row
}

TEST(router, fails_over_to_a_live_smsc_and_back) {
  auto r = make();
  bool first_up = false;
  auto live = [&](std::size_t s) { return s != 0 || first_up; };
  for (int i = 0; i < 10; ++i) EXPECT_EQ(r.pick(0, live), 1u);
  first_up = true;
  int zeros = 0;
  for (int i = 0; i < 40; ++i) zeros += r.pick(0, live) == 0u;
  EXPECT_EQ(zeros, 10);
  EXPECT_FALSE(r.pick(1, [](std::size_t) { return false; }));
}

}  // namespace
