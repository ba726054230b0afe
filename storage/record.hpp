// A message as the log stores it, and its versioned binary form.
//
// Format, version 4 (all integers LEB128 varints unless noted; strings are
// a varint length then the octets):
//   version        1 octet, = 4 (1 to 3 are still read: 1 lacks the three
//                  trailing part fields, 1 and 2 the send window, 1 to 3
//                  the delivery deadline; those take their defaults)
//   id             varint
//   origin         1 octet (0 api, 1 campaign)
//   campaign       string      (empty for api)
//   row            varint      (campaign row; 0 for api)
//   idempotency    string      (api Idempotency-Key; may be empty)
//   recipient      string      (E.164)
//   sender         string
//   text           string      (UTF-8 as accepted)
//   queued_us      varint      (microseconds since the Unix epoch)
//   valid_until_us varint      (0: no deadline)
//   (version 3) window_zone string (IANA name; empty: no send window),
//                  window_start, window_end varints (minutes of the local day)
//   (version 4) deliver_by_us varint (0: no delivery deadline)
//   state          1 octet     (storage::state, derived from the parts)
//   part_count     varint, then per part:
//     state 1 octet, attempts varint, smsc string, smsc_message_id string,
//     submitted_us, resp_us, receipt_us varints, command_status varint,
//     error_code varint,
//     (version 2) resp_format 1 octet (storage::id_format), text_offset
//     varint, settled_by 1 octet (storage::cause)
// A reader refuses an unknown version or any field running past the end.
// Values, no threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "storage/message_id.hpp"
#include "storage/state.hpp"

namespace storage {

// What moved a part into its current state, kept for the message's
// timeline ("delivered, receipt matched by destination and text").
enum class cause : std::uint8_t {
  engine = 0,            // an event the engine reported (submit, resp, its own verdict)
  receipt = 1,           // a receipt found the part by its SMSC message id
  receipt_fallback = 2,  // a receipt found the in-doubt part by destination, time and text
  parked_receipt = 3,    // a receipt that came before the resp, applied when the resp came
  recovery = 4,          // restart: the in-doubt policy or an overdue receipt
  // Why a message was suppressed, never sent:
  send_window = 5,       // its validity ends before its send window opens
  validity = 6,          // its validity ended while it waited (a bind, a retry, the throttle)
  duplicate = 7,         // its recipient is in the campaign already
  opted_out = 8,         // the recipient had opted out (two-way keywords)
  no_consent = 9,        // the campaign requires consent and the recipient has none
};
inline constexpr std::uint8_t cause_count = 10;
std::string_view name(cause c) noexcept;

struct part_record {
  state st = state::queued;
  std::uint32_t attempts = 0;
  std::string smsc;             // the SMSC (account) it went through
  std::string smsc_message_id;  // as the submit_sm_resp gave it
  std::int64_t submitted_us = 0, resp_us = 0, receipt_us = 0;  // 0: not yet
  std::uint32_t command_status = 0;  // of the last resp
  std::uint32_t error_code = 0;      // from the receipt (err: or network_error_code)
  // How the resp's id was read, so that its index key can be rebuilt when
  // the message is removed.
  id_format resp_format = id_format::automatic;
  // Where this part's text starts in message_record::text (octets), for
  // matching a receipt's "text:" field to the right part.
  std::uint32_t text_offset = 0;
  cause settled_by = cause::engine;  // what set the current state
  bool operator==(const part_record&) const = default;
};

enum class origin : std::uint8_t { api = 0, campaign = 1 };

struct message_record {
  std::uint64_t id = 0;
  storage::origin origin = origin::api;
  std::string campaign;
  std::uint64_t row = 0;
  std::string idempotency_key;
  std::string recipient;
  std::string sender;
  std::string text;
  std::int64_t queued_us = 0;
  std::int64_t valid_until_us = 0;
  // The send window it was given: local hours in this zone; "" for none.
  std::string window_zone;
  std::uint16_t window_start = 0, window_end = 0;  // minutes of the local day
  // Not delivered by then: the webhooks that ask are told once (0: no
  // deadline). Unlike valid_until_us, it stops nothing.
  std::int64_t deliver_by_us = 0;
  state st = state::queued;
  std::vector<part_record> parts;
  bool operator==(const message_record&) const = default;
};

enum class storage_errc {
  corrupt_record = 1,    // a stored record does not parse
  unknown_version,       // written by a newer smppd
  io_error,              // RocksDB reported an I/O or corruption error
  not_found,
  backlog_full,          // the writer is behind; try again shortly
  closed,
  duplicate_key,         // the idempotency key names another message already
  invalid_argument,      // an event the log cannot apply (see the function's contract)
};
const std::error_category& storage_category() noexcept;
inline std::error_code make_error_code(storage_errc e) noexcept {
  return {static_cast<int>(e), storage_category()};
}

void encode_record(const message_record& r, std::string& out);
[[nodiscard]] std::error_code decode_record(std::string_view in, message_record& out);

}  // namespace storage

template <>
struct std::is_error_code_enum<storage::storage_errc> : std::true_type {};
