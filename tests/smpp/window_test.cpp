// Tests of smpp/window.hpp: matching by sequence number in any order,
// deadlines, late responses, capacity, and the hash table under churn.
#include "smpp/window.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
const clock_type::time_point t0{};

TEST(window, matches_responses_in_any_order) {
  smpp::window<int> w(4);
  ASSERT_TRUE(w.insert(1, t0 + 1s, 10));
  ASSERT_TRUE(w.insert(2, t0 + 1s, 20));
  ASSERT_TRUE(w.insert(3, t0 + 1s, 30));
  EXPECT_EQ(w.size(), 3u);
  EXPECT_EQ(w.take(2)->value, 20);
  EXPECT_EQ(w.take(3)->value, 30);
  EXPECT_FALSE(w.take(2));
  EXPECT_EQ(w.take(1)->value, 10);
  EXPECT_TRUE(w.empty());
}

TEST(window, refuses_when_full_or_duplicate) {
  smpp::window<int> w(2);
  ASSERT_TRUE(w.insert(7, t0, 1));
  EXPECT_FALSE(w.insert(7, t0, 2));
  ASSERT_TRUE(w.insert(8, t0, 2));
  EXPECT_TRUE(w.full());
  EXPECT_FALSE(w.insert(9, t0, 3));
  w.take(7);
  EXPECT_TRUE(w.insert(9, t0, 3));
}

TEST(window, expires_each_request_at_its_own_deadline) {
  smpp::window<int> w(8);
  w.insert(1, t0 + 100ms, 1);
  w.insert(2, t0 + 300ms, 2);
  w.insert(3, t0 + 200ms, 3);
  EXPECT_EQ(*w.next_deadline(), t0 + 100ms);
  std::vector<int> expired;
  w.expire(t0 + 250ms, [&](auto&& e) { expired.push_back(e.value); });
  std::sort(expired.begin(), expired.end());
  EXPECT_EQ(expired, (std::vector<int>{1, 3}));
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(*w.next_deadline(), t0 + 300ms);
}

TEST(window, a_response_after_the_timeout_is_late_and_names_its_own_request) {
  smpp::window<int> w(8);
  w.insert(5, t0 + 1s, 50);
  w.insert(6, t0 + 9s, 60);
  w.expire(t0 + 2s, [](auto&&) {});
  EXPECT_FALSE(w.take(5));  // no longer outstanding
  auto late = w.take_timed_out(5);
  ASSERT_TRUE(late);
  EXPECT_EQ(late->value, 50);
  EXPECT_FALSE(w.take_timed_out(5));  // reported once
  EXPECT_FALSE(w.take_timed_out(6));  // still outstanding, not late
  EXPECT_FALSE(w.take_timed_out(77));  // never sent: a stray
  EXPECT_EQ(w.take(6)->value, 60);
}

TEST(window, drain_hands_back_everything_in_sequence_order) {
  smpp::window<int> w(8);
  for (std::uint32_t s : {9u, 3u, 7u, 1u}) w.insert(s, t0, static_cast<int>(s));
  std::vector<int> order;
  w.drain([&](auto&& e) { order.push_back(e.value); });
  EXPECT_EQ(order, (std::vector<int>{1, 3, 7, 9}));
  EXPECT_TRUE(w.empty());
  EXPECT_TRUE(w.insert(3, t0, 3));
}

TEST(window, stays_consistent_with_a_reference_map_under_random_churn) {
  // Backward-shift deletion is the subtle part: check every lookup
  // against a std::map through a long random sequence.
  smpp::window<std::uint32_t> w(64);
  std::map<std::uint32_t, std::uint32_t> ref;
  std::mt19937 rng(7);
  std::uint32_t next = 0x7FFFFF00u;  // crosses the wrap point
  for (int step = 0; step < 200000; ++step) {
    if (rng() % 2 && !w.full()) {
      next = next >= 0x7FFFFFFFu ? 1 : next + 1;
      ASSERT_TRUE(w.insert(next, t0 + std::chrono::milliseconds(rng() % 1000), next * 3));
      ref[next] = next * 3;
    } else if (!ref.empty()) {
      auto it = ref.begin();
      std::advance(it, rng() % ref.size());
      auto got = w.take(it->first);
      ASSERT_TRUE(got) << "seq " << it->first;
      ASSERT_EQ(got->value, it->second);
      ref.erase(it);
    }
    if (step % 5000 == 0) {
      auto now = t0 + std::chrono::milliseconds(rng() % 1000);
      w.expire(now, [&](auto&& e) {
        ASSERT_LE(e.deadline, now);
        ASSERT_EQ(ref.erase(e.sequence_number), 1u);
      });
    }
    ASSERT_EQ(w.size(), ref.size());
  }
  for (auto& [seq, value] : ref) ASSERT_EQ(w.take(seq)->value, value);
}

}  // namespace
