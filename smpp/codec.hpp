// The SMPP 3.4 wire codec: framing of a byte stream, decoding of one PDU
// into views over its bytes, and encoding into a caller-owned buffer.
//
// Header (section 3.2), all integers big-endian:
//   command_length  4  whole PDU including this field, >= 16
//   command_id      4  section 5.1.2.1
//   command_status  4  section 5.1.3 (0 in requests)
//   sequence_number 4  1..0x7FFFFFFF
// Body: mandatory fields in the order of section 4 (C-Octet Strings are
// NUL-terminated and bounded by the maximum size the spec gives, NUL
// included), then optional TLVs (section 3.2.4): tag 2, length 2, value.
//
// Nothing here allocates, blocks or throws; any thread may call it on its
// own buffers. Decoding never reads outside the span it is given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

#include "smpp/command_status.hpp"
#include "smpp/pdu.hpp"

namespace smpp {

enum class codec_errc {
  bad_command_length = 1,  // < 16 or above the configured maximum: the stream cannot be resynced
  unknown_command_id,      // command_id names no SMPP 3.4 command
  truncated,               // the body ends inside a mandatory field
  trailing_bytes,          // bytes after the last field of a PDU that takes no TLVs
  invalid_field,           // a field's value or length is out of range
  invalid_tlv,             // TLV stream malformed, or a TLV's length wrong for its tag
  too_many_tlvs,           // more unknown TLVs than a PDU can hold (max_unknown_tlvs)
  buffer_too_small,        // encoding: the output span is shorter than encoded_size()
};
const std::error_category& codec_category() noexcept;
inline std::error_code make_error_code(codec_errc e) noexcept {
  return {static_cast<int>(e), codec_category()};
}

// Default for the largest PDU accepted. A submit with a full message_payload
// of 64 KiB fits; a length beyond it is treated as a broken stream.
inline constexpr std::uint32_t default_max_command_length = 70000;

// ---- Framing ------------------------------------------------------------

struct frame {
  enum class state : std::uint8_t {
    need_more,   // fewer than `length` octets available (length is 16 until the header is in)
    complete,    // buf[0, length) is one PDU
    bad_length,  // command_length impossible: close the connection
  };
  state status = state::need_more;
  std::uint32_t length = 0;
};

// Looks at the front of `buf` without consuming it.
frame next_frame(std::span<const std::uint8_t> buf,
                 std::uint32_t max_command_length = default_max_command_length) noexcept;

// ---- Decoding -----------------------------------------------------------

struct decode_result {
  std::error_code ec;      // empty on success
  pdu_header header;       // filled whenever 16 octets were there, even on error
  command_status status = command_status::ESME_ROK;  // what to nack with on error
  std::string_view field;  // the field that failed ("" for header faults)
  std::size_t offset = 0;  // octet offset in the PDU where it failed
  explicit operator bool() const noexcept { return !ec; }
};

// Decodes exactly one PDU occupying all of `bytes` (as delimited by
// next_frame). On success `out` holds views into `bytes`. On failure the
// header (and so the sequence number for a generic_nack or error resp) is
// still reported when it was readable.
[[nodiscard]] decode_result decode(std::span<const std::uint8_t> bytes, pdu& out) noexcept;

// Must the connection be dropped after this decode failure? Only when the
// framing itself is lost; every other fault is answered with a nack or an
// error resp on the same bind.
inline bool is_fatal(const decode_result& r) noexcept {
  return r.ec == make_error_code(codec_errc::bad_command_length);
}

// What to answer a request that failed to decode: its own resp when the
// command_id is known and is a request, otherwise generic_nack (5.1.2.1).
command_id nack_command_for(const decode_result& r) noexcept;

// ---- Encoding -----------------------------------------------------------

struct encode_result {
  std::error_code ec;
  std::size_t size = 0;    // octets written (== command_length)
  std::string_view field;  // the offending field when a value cannot be encoded
  explicit operator bool() const noexcept { return !ec; }
};

// The exact command_length `p` encodes to (0 if a field is out of range).
std::size_t encoded_size(const pdu& p) noexcept;

// Encodes `p` at the start of `out`. Validates every field against the
// specification's limits first; writes nothing past encoded_size(p).
[[nodiscard]] encode_result encode(const pdu& p, std::span<std::uint8_t> out) noexcept;

// Helpers for building the common PDUs.
inline pdu make_pdu(std::uint32_t sequence_number, pdu_body body,
                    command_status status = command_status::ESME_ROK) {
  return pdu{static_cast<std::uint32_t>(status), sequence_number, std::move(body)};
}

}  // namespace smpp

template <>
struct std::is_error_code_enum<smpp::codec_errc> : std::true_type {};
