// The window of outstanding requests of one SMPP session: requests this
// side sent and whose response has not come yet, keyed by sequence number.
//
// Responses arrive in any order (SMPP 3.4 section 2.7, "asynchronous
// operation"), so they are matched by sequence number only. Each request
// carries its own deadline. A request whose deadline passed is removed and
// reported once; its sequence number is remembered for a while, so that
// the response that arrives after it is recognised as late, attributed to
// that request and never to another.
//
// Fixed capacity, no allocation after construction: slots hold the
// entries, an open-addressing table (linear probing, backward-shift
// deletion) maps sequence numbers to slots. Expiry scans the slots; the
// caller runs it from a coarse tick, so its cost is O(capacity) a few
// times a second, not per request.
//
// Not thread-safe: owned by one session on one io_context.
#pragma once

#include <algorithm>
#include <bit>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace smpp {

template <class T, class Clock = std::chrono::steady_clock>
class window {
 public:
  using time_point = typename Clock::time_point;

  struct entry {
    std::uint32_t sequence_number = 0;
    time_point deadline{};
    T value{};
  };

  explicit window(std::size_t capacity)
      : slots_(capacity),
        index_(std::bit_ceil(capacity * 2 + 2), 0),
        mask_(index_.size() - 1) {
    free_.reserve(capacity);
    for (std::size_t i = capacity; i > 0; --i) free_.push_back(static_cast<std::uint32_t>(i - 1));
  }

  std::size_t size() const noexcept { return slots_.size() - free_.size(); }
  std::size_t capacity() const noexcept { return slots_.size(); }
  bool full() const noexcept { return free_.empty(); }
  bool empty() const noexcept { return free_.size() == slots_.size(); }

  bool contains(std::uint32_t seq) const noexcept { return find(seq) != npos; }

  // Adds a request. False when the window is full or `seq` is outstanding.
  bool insert(std::uint32_t seq, time_point deadline, T value) {
    if (free_.empty() || contains(seq)) return false;
    std::uint32_t slot = free_.back();
    free_.pop_back();
    slots_[slot] = entry{seq, deadline, std::move(value)};
    std::size_t i = hash(seq);
    while (index_[i] != 0) i = (i + 1) & mask_;
    index_[i] = slot + 1;
    return true;
  }

  // Removes and returns the request `seq` answers; nullopt if none is
  // outstanding (see take_timed_out for a late response).
  std::optional<entry> take(std::uint32_t seq) {
    std::size_t i = find(seq);
    if (i == npos) return std::nullopt;
    std::uint32_t slot = index_[i] - 1;
    erase_index(i);
    free_.push_back(slot);
    return std::move(slots_[slot]);
  }

  // Removes every request whose deadline is at or before `now` and calls
  // f(entry&&) for each. Their sequence numbers are remembered as timed out.
  template <class F>
  std::size_t expire(time_point now, F&& f) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < index_.size(); ++i) {
      // Backward-shift deletion may move a later entry into i: look again.
      while (index_[i] != 0 && slots_[index_[i] - 1].deadline <= now) {
        std::uint32_t slot = index_[i] - 1;
        erase_index(i);
        free_.push_back(slot);
        ++n;
        remember_timeout(slots_[slot]);
        entry e = std::move(slots_[slot]);  // f may insert and reuse the slot
        f(std::move(e));
      }
    }
    return n;
  }

  // Removes every request, in sequence order, calling f(entry&&) for each
  // (the connection is gone).
  template <class F>
  void drain(F&& f) {
    std::vector<std::uint32_t> live;
    live.reserve(size());
    for (std::uint32_t v : index_)
      if (v != 0) live.push_back(v - 1);
    std::sort(live.begin(), live.end(), [&](std::uint32_t a, std::uint32_t b) {
      return slots_[a].sequence_number < slots_[b].sequence_number;
    });
    std::fill(index_.begin(), index_.end(), 0);
    for (std::uint32_t slot : live) {
      free_.push_back(slot);
      entry e = std::move(slots_[slot]);
      f(std::move(e));
    }
  }

  // The earliest deadline, if any request is outstanding.
  std::optional<time_point> next_deadline() const noexcept {
    std::optional<time_point> best;
    for (std::uint32_t v : index_)
      if (v != 0 && (!best || slots_[v - 1].deadline < *best)) best = slots_[v - 1].deadline;
    return best;
  }

  // The request `seq` answers if it timed out recently (the last
  // late_memory timeouts are remembered), removed from that memory: its
  // response is late. nullopt for a sequence number never timed out.
  std::optional<entry> take_timed_out(std::uint32_t seq) {
    for (entry& e : timed_out_)
      if (e.sequence_number == seq) {
        entry out = std::move(e);
        e.sequence_number = 0;
        return out;
      }
    return std::nullopt;
  }

  static constexpr std::size_t late_memory = 1024;

 private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  std::size_t hash(std::uint32_t seq) const noexcept {
    // Sequence numbers are mostly consecutive: a multiplicative hash
    // spreads neighbours over the table.
    return (seq * 0x9E3779B1u) & mask_;
  }

  std::size_t find(std::uint32_t seq) const noexcept {
    for (std::size_t i = hash(seq);; i = (i + 1) & mask_) {
      std::uint32_t v = index_[i];
      if (v == 0) return npos;
      if (slots_[v - 1].sequence_number == seq) return i;
    }
  }

  void erase_index(std::size_t hole) noexcept {
    index_[hole] = 0;
    for (std::size_t i = (hole + 1) & mask_; index_[i] != 0; i = (i + 1) & mask_) {
      std::size_t home = hash(slots_[index_[i] - 1].sequence_number);
      // Move the entry back into the hole if its home is not within (hole, i].
      bool stays = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
      if (!stays) {
        index_[hole] = index_[i];
        index_[i] = 0;
        hole = i;
      }
    }
  }

  void remember_timeout(const entry& e) {
    timed_out_[timed_out_next_] = e;
    timed_out_next_ = (timed_out_next_ + 1) % late_memory;
  }

  std::vector<entry> slots_;
  std::vector<std::uint32_t> index_;  // slot + 1; 0 is empty
  std::size_t mask_;
  std::vector<std::uint32_t> free_;   // free slots
  std::vector<entry> timed_out_ = std::vector<entry>(late_memory);  // sequence 0: unused
  std::size_t timed_out_next_ = 0;
};

}  // namespace smpp
