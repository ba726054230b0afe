// What smppd tells systemd when it runs as a Type=notify service
// (sd_notify(3), libsystemd):
//
//   READY=1       once it serves: log open, recovery done, dispatcher and
//                 API running; again after each reload
//   RELOADING=1   when a SIGHUP reload begins
//   STOPPING=1    when the graceful stop begins
//   WATCHDOG=1    every half WATCHDOG_USEC, only while the main loop runs
//                 and the io thread's heartbeat moved within that half
//   STATUS=...    a line for `systemctl status` (open messages, queues)
//
// Outside systemd (NOTIFY_SOCKET unset) every call does nothing.
// Threads: the daemon's main thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace engine {

class dispatcher;

class service_notify {
 public:
  using clock = std::chrono::steady_clock;

  // Reads NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID once.
  service_notify();

  bool active() const noexcept { return active_; }
  // The watchdog interval systemd asked for; zero when there is none.
  std::chrono::microseconds watchdog_interval() const noexcept { return watchdog_; }

  // READY=1 with the dispatcher's numbers as STATUS.
  void ready(const dispatcher& d);
  void reloading();
  void stopping();

  // Called by the main loop on each turn (every 100 ms): pets the watchdog
  // while the dispatcher's io thread is making progress (its tick counter
  // moves) and refreshes STATUS when the numbers changed, at most every
  // few seconds.
  void running(const dispatcher& d, clock::time_point now = clock::now());

 private:
  void send(const std::string& state);
  static std::string status_of(const dispatcher& d);

  bool active_ = false;
  std::chrono::microseconds watchdog_{0};
  clock::time_point last_ping_{};
  std::uint64_t last_heartbeat_ = 0;
  clock::time_point heartbeat_moved_{};
  clock::time_point last_status_{};
  std::string status_;
};

}  // namespace engine
