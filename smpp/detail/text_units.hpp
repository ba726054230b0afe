// The two halves of decoding a received short message, shared by
// decode_short_message and the reassembler: extract the text's units
// (septets, UCS-2 octets or charset octets) from one part, then turn a
// stream of units, possibly joined from several parts, into UTF-8.
// Joining units rather than decoded text keeps an escape sequence or a
// surrogate pair that another sender split across two parts intact.
// Internal to smpp/.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "smpp/text.hpp"

namespace smpp::detail {

enum class alphabet : std::uint8_t { gsm7, latin1, ia5, ucs2, none };

alphabet alphabet_of(std::uint8_t data_coding, dc0_charset dc0) noexcept;

// Parses the UDH (when `udhi`) into `udh` and appends the part's units to
// `units`. `septets` as for decode_short_message.
[[nodiscard]] std::error_code extract_units(std::span<const std::uint8_t> short_message,
                                            bool udhi, std::uint8_t data_coding,
                                            const decode_options& options,
                                            std::optional<std::size_t> septets, udh_info& udh,
                                            alphabet& kind, std::vector<std::uint8_t>& units);

void units_to_utf8(alphabet kind, national_language locking, national_language single,
                   std::span<const std::uint8_t> units, std::string& out);

}  // namespace smpp::detail
