// Rate limits: a token bucket per operator and per SMSC, and the adaptive
// part that reacts to an SMSC's ESME_RTHROTTLED.
//
// token_bucket: `rate` tokens per second, at most `burst` saved up; a
// submit takes one token per part. A rate of 0 means no limit.
//
// adaptive_rate: multiplicative decrease on each THROTTLED (at most once
// per `cooldown`, so one burst of refusals counts once), additive
// increase back towards the configured rate after a quiet period; never
// below `floor_fraction` of the configured rate. The bucket follows it.
// An SMSC without a configured rate (unlimited) is treated alike from the
// rate it was sent at when the first THROTTLED came (parts per second over
// the last second, from observe()): lowered from that, raised back towards
// it, and unlimited again once there.
//
// Time comes from the caller (steady clock in the engine, chosen instants
// in tests). One thread (the dispatcher).
#pragma once

#include <chrono>
#include <cstdint>

namespace engine {

class token_bucket {
 public:
  using clock = std::chrono::steady_clock;

  token_bucket() = default;
  token_bucket(double rate, double burst, clock::time_point now);

  bool unlimited() const noexcept { return rate_ <= 0; }
  double rate() const noexcept { return rate_; }
  void set_rate(double rate, clock::time_point now);

  // Takes n tokens if there are that many.
  bool try_take(double n, clock::time_point now);
  // When n tokens will be there (now if already).
  clock::time_point available_at(double n, clock::time_point now);

 private:
  void refill(clock::time_point now);
  double rate_ = 0, burst_ = 0, tokens_ = 0;
  clock::time_point last_{};
};

class adaptive_rate {
 public:
  using clock = std::chrono::steady_clock;

  adaptive_rate(double configured, clock::time_point now);

  // 0: unlimited.
  double current() const noexcept { return current_; }
  double configured() const noexcept { return configured_; }
  bool reduced() const noexcept { return current_ > 0 && (configured_ <= 0 || current_ < configured_); }

  // The parts sent so far (a running total), for the rate an unlimited
  // SMSC is sent at; called periodically (every 100 ms in the engine).
  void observe(std::uint64_t parts_sent, clock::time_point now);
  // Parts per second over the last full second, or over the part of this
  // one gone by (100 ms at least) when that is higher: a burst throttled
  // early in a second counts at its rate.
  double observed(std::uint64_t parts_sent, clock::time_point now) const noexcept;

  // An ESME_RTHROTTLED arrived (`parts_sent`: the running total as for
  // observe()). True when the rate was lowered.
  bool on_throttled(clock::time_point now, std::uint64_t parts_sent = 0);
  // Periodic: raises the rate again after a quiet time. True when it changed.
  bool on_tick(clock::time_point now);

  static constexpr double decrease = 0.7;           // keep 70% on each throttle
  static constexpr double increase_fraction = 0.05;  // of configured, per step
  static constexpr double floor_fraction = 0.05;
  static constexpr std::chrono::milliseconds cooldown{1000};
  static constexpr std::chrono::milliseconds step{1000};

 private:
  // The rate to return to: the configured one, else the one observed at
  // the first THROTTLED.
  double ceiling() const noexcept { return configured_ > 0 ? configured_ : base_; }

  double configured_, current_;
  double base_ = 0;
  clock::time_point last_throttle_{}, last_step_{};
  bool throttled_ever_ = false;
  double observed_ = 0;  // parts per second over the last full second
  clock::time_point window_start_{};
  std::uint64_t window_parts_ = 0;
};

}  // namespace engine
