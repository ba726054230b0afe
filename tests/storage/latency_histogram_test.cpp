#include "storage/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <random>

namespace {

using storage::latency_histogram;
using us = std::chrono::microseconds;

TEST(latency_histogram, keeps_small_values_exact_and_large_ones_within_a_bucket) {
  for (std::int64_t v : {0, 1, 7}) EXPECT_EQ(latency_histogram::bucket_middle(latency_histogram::bucket_of(us(v))), us(v));
  // Every value lands in a bucket whose middle is within 6.25% of it.
  for (std::int64_t v = 8; v < (std::int64_t{1} << 46); v = v * 3 / 2 + 1) {
    SCOPED_TRACE(v);
    const auto mid = latency_histogram::bucket_middle(latency_histogram::bucket_of(us(v))).count();
    EXPECT_LE(std::abs(mid - v), v / 16 + 1);
  }
  EXPECT_EQ(latency_histogram::bucket_of(us(-5)), 0u);
  EXPECT_EQ(latency_histogram::bucket_of(us(INT64_MAX)), latency_histogram::bucket_count - 1);
}

TEST(latency_histogram, buckets_are_ordered_and_contiguous) {
  std::size_t prev = 0;
  for (std::int64_t v = 0; v < 100000; ++v) {
    const std::size_t b = latency_histogram::bucket_of(us(v));
    ASSERT_TRUE(b == prev || b == prev + 1) << v;
    prev = b;
  }
}

TEST(latency_histogram, tells_the_largest_value_of_each_bucket) {
  for (std::size_t b = 0; b + 1 < latency_histogram::bucket_count; ++b) {
    SCOPED_TRACE(b);
    const us top = latency_histogram::bucket_top(b);
    EXPECT_EQ(latency_histogram::bucket_of(top), b);
    EXPECT_EQ(latency_histogram::bucket_of(top + us(1)), b + 1);
  }
  EXPECT_EQ(latency_histogram::bucket_top(latency_histogram::bucket_count - 1), us::max());
  latency_histogram h;
  h.add(us(1500));
  h.add(us(1500));
  EXPECT_EQ(h.in_bucket(latency_histogram::bucket_of(us(1500))), 2u);
  EXPECT_EQ(h.in_bucket(latency_histogram::bucket_of(us(3000))), 0u);
}

TEST(latency_histogram, reads_percentiles_of_a_known_distribution) {
  latency_histogram h;
  EXPECT_EQ(h.percentile(0.5), us(0));
  // 1 ms .. 1000 ms, one sample each.
  for (int ms = 1; ms <= 1000; ++ms) h.add(std::chrono::milliseconds(ms));
  EXPECT_EQ(h.count(), 1000u);
  auto near = [](us got, double want_ms) {
    EXPECT_NEAR(static_cast<double>(got.count()) / 1000.0, want_ms, want_ms * 0.07);
  };
  near(h.percentile(0.5), 500);
  near(h.percentile(0.9), 900);
  near(h.percentile(0.99), 990);
  near(h.max(), 1000);
}

TEST(latency_histogram, round_trips_its_stored_form_and_refuses_garbage) {
  latency_histogram h;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 5000; ++i) h.add(us(static_cast<std::int64_t>(rng() % 100'000'000)));
  std::string bytes = "x";  // encode appends
  h.encode(bytes);
  std::string_view in = std::string_view(bytes).substr(1);
  latency_histogram back;
  ASSERT_TRUE(back.decode(in));
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(back, h);
  for (std::size_t n = 0; n + 1 < bytes.size() - 1; ++n) {
    std::string_view cut = std::string_view(bytes).substr(1, n);
    latency_histogram partial;
    EXPECT_FALSE(partial.decode(cut)) << n;
    EXPECT_EQ(partial.count(), 0u);
  }
}

TEST(latency_histogram, merges_by_adding_counts) {
  latency_histogram a, b;
  a.add(us(100));
  b.add(us(100));
  b.add(us(5000));
  a.merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.percentile(0.5), latency_histogram::bucket_middle(latency_histogram::bucket_of(us(100))));
}

}  // namespace
