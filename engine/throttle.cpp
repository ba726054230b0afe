#include "engine/throttle.hpp"

#include <algorithm>

namespace engine {

token_bucket::token_bucket(double rate, double burst, clock::time_point now)
    : rate_(rate), burst_(std::max(burst, 1.0)), tokens_(std::max(burst, 1.0)), last_(now) {}

void token_bucket::refill(clock::time_point now) {
  if (now <= last_) return;
  tokens_ = std::min(burst_, tokens_ + rate_ * std::chrono::duration<double>(now - last_).count());
  last_ = now;
}

void token_bucket::set_rate(double rate, clock::time_point now) {
  refill(now);
  // Limited from unlimited (an unlimited SMSC that throttles): a tenth of
  // a second saved up at most, as a configured rate has.
  if (unlimited()) burst_ = std::max(burst_, rate / 10);
  rate_ = rate;
}

// A take larger than the burst (a long text at a low rate) waits for a
// full bucket and leaves it in debt, which later takes repay: the rate
// over time stays exact and such a message is never stuck.
bool token_bucket::try_take(double n, clock::time_point now) {
  if (unlimited()) return true;
  refill(now);
  if (tokens_ + 1e-9 < std::min(n, burst_)) return false;
  tokens_ -= n;
  return true;
}

token_bucket::clock::time_point token_bucket::available_at(double n, clock::time_point now) {
  if (unlimited()) return now;
  refill(now);
  const double need = std::min(n, burst_);
  if (tokens_ + 1e-9 >= need) return now;
  // Rounded up: at the instant returned the tokens are there (rounded
  // down, a take then fell short by a few billionths and the caller,
  // told "now" again, sent without taking: over the rate).
  return now + std::chrono::ceil<clock::duration>(std::chrono::duration<double>((need - tokens_) / rate_));
}

adaptive_rate::adaptive_rate(double configured, clock::time_point now)
    : configured_(configured), current_(configured), last_step_(now) {}

void adaptive_rate::observe(std::uint64_t parts_sent, clock::time_point now) {
  if (window_start_ == clock::time_point{} || parts_sent < window_parts_) {
    window_start_ = now;
    window_parts_ = parts_sent;
    return;
  }
  const std::chrono::duration<double> elapsed = now - window_start_;
  if (elapsed < std::chrono::seconds(1)) return;
  observed_ = static_cast<double>(parts_sent - window_parts_) / elapsed.count();
  window_start_ = now;
  window_parts_ = parts_sent;
}

double adaptive_rate::observed(std::uint64_t parts_sent, clock::time_point now) const noexcept {
  const std::chrono::duration<double> span = now - window_start_;
  if (window_start_ == clock::time_point{} || parts_sent < window_parts_ || span < std::chrono::milliseconds(100))
    return observed_;
  return std::max(observed_, static_cast<double>(parts_sent - window_parts_) / span.count());
}

bool adaptive_rate::on_throttled(clock::time_point now, std::uint64_t parts_sent) {
  if (throttled_ever_ && now - last_throttle_ < cooldown) return false;
  if (configured_ <= 0 && current_ <= 0) {
    // Unlimited until now: lowered from what it was sent at. Nothing sent
    // in view yet: the window still bounds it.
    const double sent_at = observed(parts_sent, now);
    if (sent_at <= 0) return false;
    base_ = sent_at;
    current_ = base_;
  }
  throttled_ever_ = true;
  last_throttle_ = now;
  last_step_ = now;
  const double lowered = std::max(current_ * decrease, ceiling() * floor_fraction);
  const bool changed = lowered < current_;
  current_ = lowered;
  return changed;
}

bool adaptive_rate::on_tick(clock::time_point now) {
  if (!reduced() || now - last_throttle_ < cooldown || now - last_step_ < step) return false;
  last_step_ = now;
  current_ += ceiling() * increase_fraction;
  if (current_ >= ceiling()) current_ = configured_;  // back to the configured rate (0: unlimited)
  return true;
}

}  // namespace engine
