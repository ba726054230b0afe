// A campaign's duplicate-recipient check with memory that stays flat
// however many recipients the campaign has.
//
// An exact set of every number read would cost 8-16 octets a recipient
// (160 MB for 10 million). Instead:
// - a Bloom filter, sized from the recipients file (16 bits a number, at
//   most 8 MiB: about 4% false positives once 10 million numbers are in it,
//   1.3% of a 10-million file's rows on average, each costing a look in
//   the log), answers "certainly new" for almost every row without
//   touching anything else;
// - when it answers "maybe", the message log decides: its recipient index
//   holds every message to the number, and the campaign is in each record;
// - numbers handed to the log but not yet durable there (the writer's
//   backlog, bounded by the log's back-pressure) are held in an exact
//   set until the log has them.
// So a repeated number is always caught, and a new number is never taken
// for a repeat.
//
// Threads: one campaign runner thread uses it.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storage/message_log.hpp"

namespace engine {

class duplicate_check {
 public:
  static constexpr std::size_t max_filter_bytes = std::size_t{8} << 20;

  // `expected` recipients size the filter (a guess is fine: more only
  // raises the false-positive rate, which costs log lookups, not errors).
  duplicate_check(std::string campaign, const storage::message_log& log, std::uint64_t expected);

  // A number the log already holds for this campaign (rows a previous run
  // recorded): the filter learns it; the log answers for it.
  void recorded(std::string_view e164);

  // True when the campaign already has a message to `e164`. Otherwise the
  // number counts as the campaign's from now on: the caller appends its
  // message and reports the log's ticket with appended() before the next
  // call (a number never appended is forgotten then).
  bool seen_before(std::string_view e164);
  void appended(std::uint64_t ticket);

  // What the check holds now, for tests and status.
  std::size_t filter_bytes() const noexcept { return bits_.size() * sizeof(std::uint64_t); }
  int probes() const noexcept { return probes_; }
  std::size_t pending() const noexcept { return pending_.size(); }
  std::uint64_t log_lookups() const noexcept { return log_lookups_; }

 private:
  struct hashes {
    std::uint64_t a, b;
  };
  static hashes hash(std::string_view s) noexcept;
  bool maybe_has(const hashes& h) const noexcept;
  void add(const hashes& h) noexcept;
  bool in_log(std::string_view e164);
  // Whether the number (its hash `key`) is among the pending ones.
  bool is_pending(std::uint64_t key, std::string_view e164) const;
  void forget_durable();
  void uncount(std::uint64_t key);

  std::string campaign_;
  const storage::message_log& log_;
  std::vector<std::uint64_t> bits_;
  std::uint64_t bit_mask_ = 0;
  int probes_ = 7;
  std::uint64_t log_lookups_ = 0;

  // Numbers not yet durable in the log, oldest first, with their tickets
  // (0 until appended() tells it) and hashes. The count by hash answers
  // "not pending" for nearly every number without comparing strings;
  // equal hashes are told apart by the numbers themselves.
  struct pending_number {
    std::uint64_t key = 0;
    std::string e164;
    std::uint64_t ticket = 0;
  };
  std::deque<pending_number> pending_;
  std::unordered_map<std::uint64_t, std::uint32_t> pending_count_;
};

}  // namespace engine
