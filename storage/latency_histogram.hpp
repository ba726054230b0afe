// A compact histogram of latencies (submit -> resp, submit -> receipt),
// kept per campaign and per SMSC account so that reports give percentiles
// without reading the messages.
//
// Buckets: values below 8 us are exact; above, each octave is cut into 8
// buckets, so a bucket is at most 12.5% wide and a percentile read from
// its middle is within about 6% of the true value. The top bucket starts
// at 2^47 us (about 4.5 years): anything longer lands there. Only
// non-empty buckets are stored (a few dozen octets for a typical
// campaign). Negative durations (clock steps) count as 0.
//
// A value type; no threads of its own.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace storage {

class latency_histogram {
 public:
  static constexpr std::size_t bucket_count = 8 + 45 * 8;

  void add(std::chrono::microseconds d) noexcept;
  void merge(const latency_histogram& other) noexcept;
  std::uint64_t count() const noexcept { return count_; }
  // The value below which a fraction p (0..1) of the samples lie, as the
  // middle of its bucket; 0 when empty.
  std::chrono::microseconds percentile(double p) const noexcept;
  // The largest sample's bucket middle; 0 when empty.
  std::chrono::microseconds max() const noexcept;

  // Appends the stored form: a varint count of non-empty buckets, then per
  // bucket the gap from the previous one and its count (varints).
  void encode(std::string& out) const;
  // Reads the stored form from the front of `in` and advances it; false
  // (histogram unchanged) on malformed input.
  [[nodiscard]] bool decode(std::string_view& in);

  static std::size_t bucket_of(std::chrono::microseconds d) noexcept;
  static std::chrono::microseconds bucket_middle(std::size_t b) noexcept;
  // The largest value bucket b holds (the top bucket: the largest there is).
  static std::chrono::microseconds bucket_top(std::size_t b) noexcept;
  // Samples in bucket b (below bucket_count).
  std::uint64_t in_bucket(std::size_t b) const noexcept { return buckets_[b]; }

  bool operator==(const latency_histogram&) const = default;

 private:
  std::array<std::uint64_t, bucket_count> buckets_{};
  std::uint64_t count_ = 0;
};

}  // namespace storage
