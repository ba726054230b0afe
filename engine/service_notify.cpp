#include "engine/service_notify.hpp"

#include <systemd/sd-daemon.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "engine/dispatcher.hpp"
#include "logging/logger.hpp"

namespace engine {

namespace {

// systemd's RELOADING=1 carries the CLOCK_MONOTONIC time the reload began.
std::uint64_t monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

constexpr auto status_every = std::chrono::seconds(5);

}  // namespace

service_notify::service_notify() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  active_ = socket && *socket;
  if (!active_) return;
  std::uint64_t usec = 0;
  // Also checks that WATCHDOG_PID, when set, names this process.
  if (sd_watchdog_enabled(0, &usec) > 0) watchdog_ = std::chrono::microseconds(usec);
  heartbeat_moved_ = clock::now();
}

void service_notify::send(const std::string& state) {
  if (!active_) return;
  // A failure only costs systemd's view of us; the daemon goes on.
  if (const int rc = sd_notify(0, state.c_str()); rc < 0)
    logging::warn(logging::component::main, "cannot notify systemd",
                  {{"state", std::string_view(state).substr(0, state.find('\n'))}, {"error", std::strerror(-rc)}});
}

std::string service_notify::status_of(const dispatcher& d) {
  return "sending: " + std::to_string(d.open_messages()) + " open messages (" + std::to_string(d.held_messages()) +
         " held), queued " + std::to_string(d.queued(lane::notification)) + " notifications, " +
         std::to_string(d.queued(lane::campaign)) + " campaign messages";
}

void service_notify::ready(const dispatcher& d) {
  if (!active_) return;
  status_ = status_of(d);
  last_status_ = clock::now();
  send("READY=1\nSTATUS=" + status_);
}

void service_notify::reloading() {
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()) + "\nSTATUS=reloading the configuration");
}

void service_notify::stopping() {
  send("STOPPING=1\nSTATUS=stopping: campaigns stop reading, binds drain their windows");
}

void service_notify::running(const dispatcher& d, clock::time_point now) {
  if (!active_) return;
  if (const auto beat = d.ticks(); beat != last_heartbeat_) {
    last_heartbeat_ = beat;
    heartbeat_moved_ = now;
  }
  // An io thread stuck for half the interval gets no ping: systemd then
  // restarts the service (Restart=on-failure) instead of it hanging.
  if (watchdog_.count() > 0) {
    const auto half = watchdog_ / 2;
    if (now - last_ping_ >= half && now - heartbeat_moved_ < half) {
      send("WATCHDOG=1");
      last_ping_ = now;
    }
  }
  if (now - last_status_ < status_every) return;
  last_status_ = now;
  std::string line = status_of(d);
  if (line == status_) return;
  status_ = std::move(line);
  send("STATUS=" + status_);
}

}  // namespace engine
