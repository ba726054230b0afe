// Text encoding for short messages: GSM 03.38 (3GPP TS 23.038) 7-bit with
// the extension table and the national language shift tables, UCS-2
// (UTF-16BE, surrogate pairs for characters outside the BMP), Latin-1,
// the automatic choice between them, and segmentation into parts with a
// concatenation UDH (IEI 0x00 / 0x08), SAR TLVs or one message_payload.
// Decoding of received short messages (data_coding 0, 1, 3, 8 and the
// general / message-class coding groups) back into UTF-8.
//
// Functions are pure and reentrant; an encoded_text / decoded_text is
// owned by the caller and may be reused across calls to avoid
// allocations. Nothing here does I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace smpp {

// TS 23.038 Annex A national language identifiers (the values carried in
// the UDH IEs 0x24 and 0x25).
enum class national_language : std::uint8_t {
  none = 0,
  turkish = 1,
  spanish = 2,
  portuguese = 3,
};

// A set of national languages an SMSC accepts, as a bit mask.
using national_language_set = std::uint32_t;
constexpr national_language_set language_bit(national_language l) noexcept {
  return national_language_set{1} << static_cast<unsigned>(l);
}

enum class text_encoding : std::uint8_t {
  gsm7,    // data_coding 0 (or what the SMSC takes data_coding 0 to mean)
  latin1,  // data_coding 3
  ucs2,    // data_coding 8
};

// How a text longer than one short message travels (a per-SMSC choice).
enum class long_message_method : std::uint8_t {
  udh8,     // concatenation UDH, IEI 0x00, 8-bit reference
  udh16,    // concatenation UDH, IEI 0x08, 16-bit reference
  sar,      // sar_msg_ref_num / sar_total_segments / sar_segment_seqnum TLVs
  payload,  // one PDU, whole text in message_payload
};

// How GSM 7-bit text is laid out in short_message (a per-SMSC choice).
enum class gsm7_packing : std::uint8_t {
  unpacked,  // one septet per octet (what most SMSCs expect)
  packed,    // 8 septets in 7 octets, as on the air interface
};

// What an SMSC means by data_coding 0 (separately for each direction).
enum class dc0_charset : std::uint8_t {
  gsm7,    // GSM 03.38 default alphabet (the SMPP default)
  latin1,  // ISO-8859-1, one octet per character
  ia5,     // IA5 / ASCII
};

struct encode_options {
  long_message_method long_messages = long_message_method::udh8;
  gsm7_packing packing = gsm7_packing::unpacked;
  dc0_charset dc0 = dc0_charset::gsm7;
  // Send texts that fit ISO-8859-1 but not GSM-7 as data_coding 3 instead
  // of UCS-2 (for SMSCs known to convert it correctly).
  bool allow_latin1 = false;
  // Replace typographic look-alikes (curly quotes, dashes, ellipsis,
  // non-breaking space, ...) with GSM characters when that alone keeps
  // the text in GSM-7.
  bool smart_encoding = false;
  // National language tables the SMSC accepts; used only when they save
  // parts over the default alphabet and UCS-2.
  national_language_set national_languages = 0;
  // The concatenation reference shared by all parts (udh8 uses the low
  // byte; udh16 and sar_msg_ref_num carry all 16 bits).
  std::uint16_t reference = 0;
  // Force one encoding instead of choosing automatically.
  std::optional<text_encoding> force;
};

// Part budgets (units per part) of 3GPP TS 23.038 / 23.040.
inline constexpr std::size_t gsm7_single_septets = 160;
inline constexpr std::size_t gsm7_udh8_septets = 153;
inline constexpr std::size_t gsm7_udh16_septets = 152;
inline constexpr std::size_t ucs2_single_units = 70;
inline constexpr std::size_t ucs2_udh8_units = 67;
inline constexpr std::size_t ucs2_udh16_units = 66;
inline constexpr std::size_t max_parts = 255;

struct encoded_part {
  std::uint32_t udh_offset = 0;  // into encoded_text::bytes; UDH includes its UDHL octet
  std::uint32_t udh_size = 0;    // 0 when the part has no UDH
  std::uint32_t text_offset = 0;
  std::uint32_t text_size = 0;   // octets of encoded text after the UDH
  std::uint32_t units = 0;       // septets (GSM-7), UTF-16 units (UCS-2) or octets (Latin-1)
  std::uint32_t characters = 0;  // Unicode characters carried by this part
  std::uint8_t fill_bits = 0;    // packed GSM-7 after a UDH: bits to the septet boundary
  std::uint8_t sar_seqnum = 0;   // 1-based part number (also set for UDH methods)
};

struct encoded_text {
  text_encoding encoding = text_encoding::gsm7;
  std::uint8_t data_coding = 0;
  national_language locking_shift = national_language::none;
  national_language single_shift = national_language::none;
  long_message_method method = long_message_method::udh8;
  std::uint16_t reference = 0;
  std::size_t characters = 0;  // Unicode characters in the (possibly replaced) text
  std::size_t units = 0;       // septets / UTF-16 units / octets of the whole text
  std::size_t segments = 0;    // SMS the handset receives (what operators bill)
  bool smart_replaced = false; // smart encoding changed the text to keep it in GSM-7
  // When the text is not GSM-7: the first character that ruled GSM-7 out
  // and its index (in characters).
  std::optional<char32_t> forced_by;
  std::size_t forced_at = 0;
  // On error: the byte offset of invalid UTF-8, the index of a character
  // the forced encoding cannot carry, or the number of parts needed.
  std::size_t error_position = 0;

  std::vector<encoded_part> parts;  // one per PDU to send
  std::vector<std::uint8_t> bytes;  // storage the parts point into

  std::span<const std::uint8_t> udh(const encoded_part& p) const noexcept {
    return {bytes.data() + p.udh_offset, p.udh_size};
  }
  std::span<const std::uint8_t> text(const encoded_part& p) const noexcept {
    return {bytes.data() + p.text_offset, p.text_size};
  }
  // UDH followed by text: what goes in short_message / message_payload.
  std::span<const std::uint8_t> short_message(const encoded_part& p) const noexcept {
    return {bytes.data() + (p.udh_size ? p.udh_offset : p.text_offset), p.udh_size + p.text_size};
  }
};

struct sm_body;

// Puts part `index` of `t` into a submit_sm / deliver_sm body: data_coding,
// the UDHI bit of esm_class (other bits kept), short_message, or
// message_payload for the payload method, and the SAR TLVs for the sar
// method. The body's views point into t.bytes.
void set_part(sm_body& body, const encoded_text& t, std::size_t index);

enum class text_errc {
  invalid_utf8 = 1,      // error_position: byte offset
  too_many_parts,        // error_position: parts the text would need
  unencodable,           // error_position: character index
  invalid_udh,           // received UDH is malformed
  unsupported_coding,    // data_coding names no text (binary, compressed)
};
const std::error_category& text_category() noexcept;
inline std::error_code make_error_code(text_errc e) noexcept {
  return {static_cast<int>(e), text_category()};
}

// Encodes UTF-8 `utf8` into parts. Returns an empty error_code on success.
[[nodiscard]] std::error_code encode_text(std::string_view utf8, const encode_options& options,
                                          encoded_text& out);

// Strict UTF-8 -> code points (rejects overlong forms, surrogates, values
// above U+10FFFF, truncated sequences). On error, `error_offset` is the
// offset of the first offending byte.
[[nodiscard]] std::error_code utf8_decode(std::string_view utf8, std::u32string& out,
                                          std::size_t& error_offset);
void utf8_append(char32_t c, std::string& out);

// Is `c` in the GSM 03.38 default alphabet or its extension table?
bool in_gsm7_default(char32_t c) noexcept;

// ---- Receiving ----------------------------------------------------------

struct udh_info {
  std::size_t length = 0;  // octets including the UDHL octet
  bool concatenated = false;
  bool reference16 = false;
  std::uint16_t reference = 0;
  std::uint8_t total = 0;
  std::uint8_t seqnum = 0;
  national_language locking_shift = national_language::none;
  national_language single_shift = national_language::none;
};

// Parses the UDH at the start of `short_message` (esm_class UDHI set).
[[nodiscard]] std::error_code parse_udh(std::span<const std::uint8_t> short_message,
                                        udh_info& out);

struct decode_options {
  dc0_charset dc0 = dc0_charset::gsm7;
  gsm7_packing packing = gsm7_packing::unpacked;
};

struct decoded_text {
  std::string utf8;
  udh_info udh;  // udh.length == 0 when there was none
};

// Decodes one received short message (or message_payload). `udhi` is
// esm_class bit 6. `septets`, when known, is the exact septet count of
// packed GSM-7 text; otherwise it is derived from the length, and 7 trailing
// fill bits are never read as a character.
[[nodiscard]] std::error_code decode_short_message(std::span<const std::uint8_t> short_message,
                                                   bool udhi, std::uint8_t data_coding,
                                                   const decode_options& options,
                                                   decoded_text& out,
                                                   std::optional<std::size_t> septets = {});

}  // namespace smpp

template <>
struct std::is_error_code_enum<smpp::text_errc> : std::true_type {};
