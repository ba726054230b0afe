#include "engine/duplicate_check.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>

namespace engine {

namespace {

std::uint64_t mix(std::uint64_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

// A message to the number may sit this far back in the recipient index
// (notifications to it come in between); beyond that a repeat could only
// be missed for someone sent more than this many messages since.
constexpr std::size_t max_messages_looked_at = 4096;

}  // namespace

duplicate_check::duplicate_check(std::string campaign, const storage::message_log& log, std::uint64_t expected)
    : campaign_(std::move(campaign)), log_(log) {
  // About 16 bits a number (7 probes: about 0.1% false positives), between
  // 128 KiB and max_filter_bytes, a power of two of 64-bit words. A capped
  // filter has fewer bits a number: the probes that give the fewest false
  // positives then are bits x ln 2 (5 at 10 million numbers in 8 MiB).
  const std::uint64_t numbers = std::max<std::uint64_t>(expected, 1);
  const std::uint64_t max_bits = max_filter_bytes * 8;
  const std::uint64_t bits = std::clamp<std::uint64_t>(std::bit_ceil(numbers * 16), std::uint64_t{1} << 20, max_bits);
  bits_.assign(bits / 64, 0);
  bit_mask_ = bits - 1;
  const double bits_per_number = static_cast<double>(bits) / static_cast<double>(numbers);
  probes_ = std::clamp(static_cast<int>(std::lround(bits_per_number * std::numbers::ln2)), 1, 7);
}

duplicate_check::hashes duplicate_check::hash(std::string_view s) noexcept {
  // FNV-1a over the number, then two independent mixes of it.
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return {mix(h), mix(h ^ 0x9e3779b97f4a7c15ull) | 1};
}

bool duplicate_check::maybe_has(const hashes& h) const noexcept {
  for (int i = 0; i < probes_; ++i) {
    const std::uint64_t bit = (h.a + static_cast<std::uint64_t>(i) * h.b) & bit_mask_;
    if (!(bits_[bit >> 6] & (std::uint64_t{1} << (bit & 63)))) return false;
  }
  return true;
}

void duplicate_check::add(const hashes& h) noexcept {
  for (int i = 0; i < probes_; ++i) {
    const std::uint64_t bit = (h.a + static_cast<std::uint64_t>(i) * h.b) & bit_mask_;
    bits_[bit >> 6] |= std::uint64_t{1} << (bit & 63);
  }
}

void duplicate_check::recorded(std::string_view e164) { add(hash(e164)); }

void duplicate_check::forget_durable() {
  const std::uint64_t durable = log_.durable_ticket();
  while (!pending_.empty() && pending_.front().ticket != 0 && pending_.front().ticket <= durable) {
    uncount(pending_.front().key);
    pending_.pop_front();
  }
}

void duplicate_check::uncount(std::uint64_t key) {
  auto it = pending_count_.find(key);
  if (--it->second == 0) pending_count_.erase(it);
}

bool duplicate_check::is_pending(std::uint64_t key, std::string_view e164) const {
  if (!pending_count_.contains(key)) return false;
  // Newest first: a repeat usually follows its number closely.
  return std::any_of(pending_.rbegin(), pending_.rend(),
                     [&](const pending_number& p) { return p.key == key && p.e164 == e164; });
}

bool duplicate_check::in_log(std::string_view e164) {
  ++log_lookups_;
  std::error_code ec;
  const auto ids = log_.messages_to(e164, 0, INT64_MAX, max_messages_looked_at, ec);
  for (std::uint64_t id : ids) {
    auto r = log_.get(id, ec);
    if (r && r->campaign == campaign_) return true;
  }
  return false;
}

bool duplicate_check::seen_before(std::string_view e164) {
  // The number let through last time but never appended (its message was
  // not recorded after all) is not the campaign's.
  if (!pending_.empty() && pending_.back().ticket == 0) {
    uncount(pending_.back().key);
    pending_.pop_back();
  }
  forget_durable();
  const hashes h = hash(e164);
  if (maybe_has(h)) {
    if (is_pending(h.a, e164) || in_log(e164)) return true;
  } else {
    add(h);
  }
  pending_.push_back(pending_number{h.a, std::string(e164), 0});
  ++pending_count_[h.a];
  return false;
}

void duplicate_check::appended(std::uint64_t ticket) {
  // The number seen_before() let through last is the newest pending one.
  if (!pending_.empty() && pending_.back().ticket == 0) pending_.back().ticket = ticket;
}

}  // namespace engine
