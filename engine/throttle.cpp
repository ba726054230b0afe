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

bool adaptive_rate::on_throttled(clock::time_point now) {
  if (configured_ <= 0) return false;  // unlimited: nothing to adapt (the window still bounds us)
  if (throttled_ever_ && now - last_throttle_ < cooldown) return false;
  throttled_ever_ = true;
  last_throttle_ = now;
  last_step_ = now;
  const double lowered = std::max(current_ * decrease, configured_ * floor_fraction);
  const bool changed = lowered < current_;
  current_ = lowered;
  return changed;
}

bool adaptive_rate::on_tick(clock::time_point now) {
  if (!reduced() || now - last_throttle_ < cooldown || now - last_step_ < step) return false;
  last_step_ = now;
  current_ = std::min(configured_, current_ + configured_ * increase_fraction);
  return true;
}

}  // namespace engine
