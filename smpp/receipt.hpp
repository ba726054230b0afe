// Delivery receipts: what an SMSC says about a message it was given, read
// out of the deliver_sm or data_sm that carries it (SMPP 3.4 section 2.11).
//
// A receipt travels in two forms, often both at once:
//   - TLVs (5.3.2): receipted_message_id, message_state, network_error_code.
//     When present they win: they are typed and the text is free-form.
//   - Text in short_message or message_payload, whose format Appendix B
//     calls "SMSC vendor specific" and gives as a typical example:
//       id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm
//       done date:YYMMDDhhmm stat:DDDDDDD err:E Text: . . .
//
//   key          value                                        field here
//   id           message_id of the submit_sm_resp (up to 64)  message_id
//   sub          messages submitted (distribution lists)      submitted
//   dlvrd        messages delivered                           delivered
//   submit date  YYMMDDhhmm when the message was submitted    submit_date
//   done date    YYMMDDhhmm when it reached its state         done_date
//   stat         final state, 7 letters (DELIVRD, UNDELIV)    stat, state
//   err          network or SMSC specific error code          err
//   text         first characters of the message, to end      text
//
// The text parser is lenient because real SMSCs vary (receipt.cpp names
// who sends what): keys in any case ("Text:"), "submit_date" for "submit
// date", any run of spaces, fields missing or in another order, extra
// fields ("nid:", "mccmnc:") skipped, a space after the colon ("err: 0"),
// dates with seconds (12 digits) or in the 16-character absolute time
// format of 7.1.1, stat words spelt out ("DELIVERED") or several words
// long, a bare stat word without "stat:", ids of any alphabet and length,
// kept as sent (hex, decimal, leading zeros, UUIDs: matching them to
// submit_sm_resp ids is the caller's per-SMSC policy). A field that does
// not parse is left empty and named in bad_field; the receipt is kept.
// Only a receipt without any id fails: nothing could be reconciled with it.
//
// The text is read as bytes (receipts are ASCII in practice), never run
// through GSM 03.38 decoding. Receipt text in UCS-2 (data_coding 8) is not
// understood; its TLVs still are.
//
// Pure functions, no allocation, no I/O: any thread. The string_views of a
// delivery_receipt point into the text or PDU buffer it was parsed from
// and live as long as that buffer (bad_field alone is a static string).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

#include "smpp/pdu.hpp"

namespace smpp {

// message_state values, section 5.2.28 (skipped is SMPP 5.0's 9, which
// 3.4 SMSCs send too).
enum class message_state : std::uint8_t {
  enroute = 1,
  delivered = 2,
  expired = 3,
  deleted = 4,
  undeliverable = 5,
  accepted = 6,
  unknown = 7,
  rejected = 8,
  skipped = 9,
};

// The specification's name ("DELIVERED", "UNDELIVERABLE"); "" if undefined.
std::string_view name(message_state s) noexcept;

// Message Type of a deliver_sm / data_sm, esm_class bits 5-2 (5.2.12).
enum class receipt_kind : std::uint8_t {
  none,                       // 0000: an ordinary message (or a reserved value)
  smsc_delivery_receipt,      // 0001 (0x04)
  sme_delivery_ack,           // 0010 (0x08)
  sme_manual_ack,             // 0100 (0x10)
  intermediate_notification,  // 1000 (0x20)
};

receipt_kind receipt_kind_of(std::uint8_t esm_class) noexcept;

// A date of the receipt text: YYMMDDhhmm, YYMMDDhhmmss, or the absolute
// time format YYMMDDhhmmsstnnp of 7.1.1 (tenths dropped). Calendar-checked.
struct receipt_time {
  std::uint8_t year = 0;  // two digits, as sent
  std::uint8_t month = 0;
  std::uint8_t day = 0;
  std::uint8_t hour = 0;
  std::uint8_t minute = 0;
  std::optional<std::uint8_t> second;
  std::optional<std::int8_t> utc_offset;  // quarter hours, 16-character form only
  bool operator==(const receipt_time&) const = default;
};

struct delivery_receipt {
  receipt_kind kind = receipt_kind::none;  // from esm_class (PDU overloads only)
  std::string_view message_id;  // receipted_message_id TLV when present, else the text's id:
  bool id_from_tlv = false;
  std::optional<message_state> state;  // message_state TLV when valid, else from stat:
  std::string_view stat;               // the stat: word(s) as sent ("DELIVRD"); "" if absent
  std::optional<std::uint32_t> submitted;  // sub:
  std::optional<std::uint32_t> delivered;  // dlvrd:
  std::optional<receipt_time> submit_date;
  std::optional<receipt_time> done_date;
  std::string_view err;   // err: as sent ("000", "0000", "null", "21b")
  std::string_view text;  // everything after text:, as sent; "" if absent
  std::optional<std::array<std::uint8_t, 3>> network_error_code;  // type, then code (5.3.2.31)
  // For logs: the first field that was there but did not parse ("done date",
  // "sub", "message_state", "id"); "" when every field present parsed.
  std::string_view bad_field;
  bool operator==(const delivery_receipt&) const = default;
};

enum class receipt_errc {
  not_a_receipt = 1,  // no receipted_message_id TLV and no id: in the text
  invalid_field,      // an id is announced but empty (bad_field names which)
};
const std::error_category& receipt_category() noexcept;
inline std::error_code make_error_code(receipt_errc e) noexcept {
  return {static_cast<int>(e), receipt_category()};
}

// Parses the receipt of a deliver_sm or data_sm body: the text of
// short_message (or message_payload when short_message is empty; after the
// UDH when esm_class has UDHI), then the TLVs over it. Does not look at
// esm_class to decide: an SMSC that forgets to set it still has its
// receipts read; callers that care check out.kind. On error `out` still
// holds whatever parsed. Views point into the body's buffer.
[[nodiscard]] std::error_code parse_receipt(const sm_body& deliver_sm,
                                            delivery_receipt& out) noexcept;
[[nodiscard]] std::error_code parse_receipt(const data_sm_body& data_sm,
                                            delivery_receipt& out) noexcept;

// The text form alone. Resets `out` first; views point into `text`.
[[nodiscard]] std::error_code parse_receipt_text(std::string_view text,
                                                 delivery_receipt& out) noexcept;

}  // namespace smpp

template <>
struct std::is_error_code_enum<smpp::receipt_errc> : std::true_type {};
