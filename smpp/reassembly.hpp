// Reassembly of concatenated received messages (MO replies, data_sm):
// parts identified by a UDH (IEI 0x00 / 0x08) or by SAR TLVs, arriving in
// any order, joined into one text once every part is in. Parts that wait
// too long are handed out as they are, so a reply is never lost because
// one of its parts was.
//
// Not thread-safe: one reassembler per session (io_context). Memory is
// bounded by `max_pending` messages; the oldest is released first.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include "smpp/detail/text_units.hpp"
#include "smpp/text.hpp"

namespace smpp {

// Concatenation carried in SAR TLVs instead of a UDH.
struct sar_info {
  std::uint16_t reference = 0;
  std::uint8_t total = 0;
  std::uint8_t seqnum = 0;
};

struct reassembled {
  std::string key;
  std::uint16_t reference = 0;  // of the concatenation (0 for one part)
  std::string utf8;           // the parts that arrived, in order
  std::uint8_t total = 1;     // parts the sender announced
  std::uint8_t received = 1;  // parts that arrived
  bool complete() const noexcept { return received == total; }
};

class reassembler {
 public:
  using clock = std::chrono::steady_clock;

  explicit reassembler(std::size_t max_pending = 10000) : max_pending_(max_pending) {}

  // Feeds one received short message. `key` names the conversation the
  // parts belong to (typically source and destination address). Returns
  // the message when this part completed it, at once for a message that
  // was not concatenated, and nothing while parts are missing. A duplicate
  // part is ignored, also when it comes after its message completed (an
  // SMSC resending a deliver_sm whose resp it missed); a part with the same
  // numbers but other content starts a new message. All parts are decoded
  // with the data_coding of the first to arrive. On a decoding error
  // nothing is stored.
  std::optional<reassembled> add(std::string_view key, std::span<const std::uint8_t> short_message,
                                 bool udhi, std::uint8_t data_coding,
                                 const decode_options& options, std::optional<sar_info> sar,
                                 clock::time_point now, std::error_code& ec);

  // Releases every message whose first part arrived at least max_wait ago
  // (and, past max_pending, the oldest), with what arrived of it. Forgets
  // completed messages after max_wait too.
  std::vector<reassembled> expire(clock::time_point now, clock::duration max_wait);

  std::size_t pending() const noexcept { return pending_.size(); }

 private:
  struct entry {
    clock::time_point first_seen;
    detail::alphabet kind = detail::alphabet::gsm7;
    national_language locking = national_language::none;
    national_language single = national_language::none;
    std::vector<std::optional<std::vector<std::uint8_t>>> parts;  // by seqnum - 1
    std::uint8_t received = 0;
  };
  using id = std::tuple<std::string, std::uint16_t, std::uint8_t>;  // key, reference, total

  // What stays of a completed message, to recognise late duplicates.
  struct completed {
    clock::time_point at;
    std::vector<std::size_t> part_hashes;  // by seqnum - 1
  };

  static reassembled finish(const id& k, const entry& e);
  static std::size_t hash_units(const std::vector<std::uint8_t>& units) noexcept;

  std::size_t max_pending_;
  std::map<id, entry> pending_;
  std::map<id, completed> completed_;
};

}  // namespace smpp
