#include "storage/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include "storage/detail/varint.hpp"

namespace storage {

std::size_t latency_histogram::bucket_of(std::chrono::microseconds d) noexcept {
  const std::int64_t c = d.count();
  if (c < 8) return c < 0 ? 0 : static_cast<std::size_t>(c);
  const auto v = static_cast<std::uint64_t>(c);
  const int e = std::bit_width(v) - 1;  // 2^e <= v < 2^(e+1), e >= 3
  if (e >= 48) return bucket_count - 1;
  const auto sub = static_cast<std::size_t>((v >> (e - 3)) & 7);
  return 8 + static_cast<std::size_t>(e - 3) * 8 + sub;
}

std::chrono::microseconds latency_histogram::bucket_middle(std::size_t b) noexcept {
  if (b < 8) return std::chrono::microseconds(static_cast<std::int64_t>(b));
  const std::size_t e = (b - 8) / 8 + 3, sub = (b - 8) % 8;
  const std::uint64_t width = std::uint64_t{1} << (e - 3);
  const std::uint64_t low = (8 + sub) * width;
  return std::chrono::microseconds(static_cast<std::int64_t>(low + width / 2));
}

std::chrono::microseconds latency_histogram::bucket_top(std::size_t b) noexcept {
  if (b < 8) return std::chrono::microseconds(static_cast<std::int64_t>(b));
  if (b >= bucket_count - 1) return std::chrono::microseconds::max();
  const std::size_t e = (b - 8) / 8 + 3, sub = (b - 8) % 8;
  const std::uint64_t width = std::uint64_t{1} << (e - 3);
  return std::chrono::microseconds(static_cast<std::int64_t>((9 + sub) * width - 1));
}

void latency_histogram::add(std::chrono::microseconds d) noexcept {
  ++buckets_[bucket_of(d)];
  ++count_;
}

void latency_histogram::merge(const latency_histogram& other) noexcept {
  for (std::size_t i = 0; i < bucket_count; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
}

std::chrono::microseconds latency_histogram::percentile(double p) const noexcept {
  if (count_ == 0) return {};
  p = std::clamp(p, 0.0, 1.0);
  // The rank of the sample asked for, 1-based: p = 0.5 of 10 samples is
  // the 5th.
  auto rank = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < bucket_count; ++b) {
    seen += buckets_[b];
    if (seen >= rank) return bucket_middle(b);
  }
  return bucket_middle(bucket_count - 1);
}

std::chrono::microseconds latency_histogram::max() const noexcept {
  for (std::size_t b = bucket_count; b-- > 0;)
    if (buckets_[b] != 0) return bucket_middle(b);
  return {};
}

void latency_histogram::encode(std::string& out) const {
  std::uint64_t used = 0;
  for (std::uint64_t n : buckets_) used += n != 0;
  detail::put_varint(out, used);
  std::size_t prev = 0;
  for (std::size_t b = 0; b < bucket_count; ++b) {
    if (buckets_[b] == 0) continue;
    detail::put_varint(out, b - prev);
    detail::put_varint(out, buckets_[b]);
    prev = b;
  }
}

bool latency_histogram::decode(std::string_view& in) {
  detail::varint_reader rd(in);
  latency_histogram h;
  const std::uint64_t used = rd.varint();
  if (!rd.ok() || used > bucket_count) return false;
  std::uint64_t b = 0;
  for (std::uint64_t i = 0; i < used; ++i) {
    b += rd.varint();
    const std::uint64_t n = rd.varint();
    if (!rd.ok() || b >= bucket_count) return false;
    h.buckets_[b] += n;
    h.count_ += n;
  }
  in = rd.rest();
  *this = h;
  return true;
}

}  // namespace storage
