#include "smpp/detail/sim_shared.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <utility>

namespace smpp::detail {

void status_counts::to_json(const std::vector<const status_counts*>& all, std::string& json) {
  if (all.empty()) return;
  const status_counts& first = *all.front();
  bool comma = false;
  for (std::size_t i = 0; i < first.slots_.size(); ++i) {
    std::uint64_t n = 0;
    for (const status_counts* c : all) n += c->slots_[i].load(std::memory_order_relaxed);
    if (n == 0) continue;
    char label[16];
    std::string_view key;
    if (i + 1 == first.slots_.size()) {
      key = "other";
    } else {
      const std::uint32_t status =
          i < 256 ? static_cast<std::uint32_t>(i)
                  : static_cast<std::uint32_t>((*first.rejects_)[i - 256].status);
      key = name(static_cast<command_status>(status));
      if (key.empty()) {
        std::snprintf(label, sizeof label, "0x%08X", status);
        key = label;
      }
    }
    if (comma) json += ',';
    comma = true;
    json += '"';
    json += key;
    json += "\":";
    json += std::to_string(n);
  }
}

bool sim_system::admit(std::uint32_t cap, sim_clock::time_point now) noexcept {
  // A fixed one-second window: simple, and what many SMSCs do. Two threads
  // racing over a window change may let a few extra submits through; the
  // cap is a fault injector, not an accounting device.
  const std::int64_t second =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::int64_t window = tps_window.load(std::memory_order_relaxed);
  if (window != second &&
      tps_window.compare_exchange_strong(window, second, std::memory_order_relaxed))
    tps_used.store(0, std::memory_order_relaxed);
  return tps_used.fetch_add(1, std::memory_order_relaxed) < cap;
}

sim_registry::bind_result sim_registry::bind(std::string_view system_id,
                                             std::weak_ptr<sim_peer> receiver,
                                             sim_clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = systems_.find(system_id);
  if (it == systems_.end()) {
    auto s = std::make_shared<sim_system>();
    s->system_id = std::string(system_id);
    it = systems_.emplace(s->system_id, std::move(s)).first;
  }
  sim_system& s = *it->second;
  while (!s.stale_until.empty() && s.stale_until.front() <= now) s.stale_until.pop_front();
  if (options_.max_binds != 0 && s.active + s.stale_until.size() >= options_.max_binds)
    return {command_status::ESME_RALYBND, nullptr, {}};
  ++s.active;
  bind_result r{command_status::ESME_ROK, it->second, {}};
  if (!receiver.expired()) {
    s.receivers.push_back(receiver);
    r.held.assign(s.held.begin(), s.held.end());
    s.held.clear();
  }
  return r;
}

void sim_registry::unbind(sim_system& s, const sim_peer* self, bool clean,
                          sim_clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (s.active > 0) --s.active;
  std::erase_if(s.receivers, [self](const std::weak_ptr<sim_peer>& w) {
    const auto p = w.lock();
    return !p || p.get() == self;
  });
  // Real SMSCs notice a vanished ESME only when their own keep-alive
  // fails, so its bind keeps counting for a while; clients reconnecting
  // at once then see ESME_RALYBND.
  if (!clean && options_.stale_bind_hold.count() > 0)
    s.stale_until.push_back(now + options_.stale_bind_hold);
}

std::shared_ptr<sim_peer> sim_registry::pick_locked(sim_system& s) {
  while (!s.receivers.empty()) {
    const std::size_t i = s.next_receiver++ % s.receivers.size();
    if (auto p = s.receivers[i].lock()) return p;
    s.receivers.erase(s.receivers.begin() + static_cast<std::ptrdiff_t>(i));
  }
  return nullptr;
}

void sim_registry::route(sim_system& s, std::span<const receipt_item> receipts) {
  if (receipts.empty()) return;
  std::shared_ptr<sim_peer> peer;
  {
    std::lock_guard lock(mutex_);
    peer = pick_locked(s);
    if (!peer) {
      std::size_t dropped = 0;
      for (const receipt_item& r : receipts) {
        if (s.held.size() < options_.receipt_queue_limit)
          s.held.push_back(r);
        else
          ++dropped;
      }
      if (dropped) bump(counters_.receipts_dropped, dropped);
      return;
    }
  }
  peer->deliver(receipts, {});
}

std::shared_ptr<sim_peer> sim_registry::any_receiver() {
  std::lock_guard lock(mutex_);
  if (systems_.empty()) return nullptr;
  // Round robin over systems, then over a system's receivers.
  for (std::size_t tries = 0; tries < systems_.size(); ++tries) {
    auto it = systems_.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(next_system_++ % systems_.size()));
    if (auto p = pick_locked(*it->second)) return p;
  }
  return nullptr;
}

std::size_t sim_registry::held_receipts() {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& [id, s] : systems_) n += s->held.size();
  return n;
}

sim_shared::sim_shared(const smsc_sim_options& o, sim_counters& control_counters)
    : options(o), registry(o, control_counters) {
  std::uint32_t sum = 0;
  for (const sim_receipt_weight& w : o.receipt_mix) {
    sum += w.weight;
    mix_cumulative.push_back(sum);
  }
  if (sum == 0) mix_cumulative.clear();
  // Ids start at the microseconds since the epoch: they grow across
  // restarts of the simulator (as long as it hands out fewer than a million
  // a second), so a client's id index never sees one id twice.
  next_id_block = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
}

void sim_shared::mo_unacked(std::vector<mo_part>&& parts) {
  std::lock_guard lock(unacked_mutex_);
  for (auto& p : parts) unacked_.push_back(std::move(p));
}

std::vector<mo_part> sim_shared::take_mo_unacked() {
  std::lock_guard lock(unacked_mutex_);
  return std::exchange(unacked_, {});
}

std::unique_ptr<sim_arrivals> sim_arrivals::open(const std::string& file, std::string prefix, std::error_code& ec) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    ec = std::error_code(errno, std::generic_category());
    return nullptr;
  }
  return std::unique_ptr<sim_arrivals>(new sim_arrivals(fd, std::move(prefix)));
}

sim_arrivals::~sim_arrivals() { ::close(fd_); }

void sim_arrivals::note(std::string_view destination) const {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  // destination_addr is at most 20 characters (a submit_multi's too).
  char line[64];
  const std::size_t n = std::min<std::size_t>(destination.size(), 32);
  std::copy_n(destination.data(), n, line);
  line[n] = ' ';
  auto [end, ec] = std::to_chars(line + n + 1, line + sizeof line - 1, us);
  if (ec != std::errc()) return;
  *end++ = '\n';
  // A lost line shows as a missing arrival; nothing better to do here.
  (void)!::write(fd_, line, static_cast<std::size_t>(end - line));
}

}  // namespace smpp::detail
