// GSM 03.38 / 3GPP TS 23.038 character tables: the default alphabet, its
// extension table, and the national language locking and single shift
// tables (Annex A) that smppd supports.
//
// Pure data, no state; any thread may call these. Internal to smpp/.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "smpp/text.hpp"

namespace smpp::detail {

// One position of a 128-entry table. `no_char` marks a position that holds
// no character (0x1B, the escape to the shift table, and unassigned codes).
inline constexpr char32_t no_char = 0;

using gsm7_locking_table = std::array<char32_t, 128>;

struct gsm7_shift_entry {
  std::uint8_t septet;  // the code that follows the 0x1B escape
  char32_t ch;          // the Unicode scalar value it stands for
};

// The locking shift table (the basic 7-bit set) for a language. Languages
// without a locking shift table of their own (Spanish) and
// national_language::none return the default alphabet.
const gsm7_locking_table& locking_shift_table(national_language lang) noexcept;

// Whether TS 23.038 defines a locking shift table for `lang` (so that the
// UDH IE 0x25 may name it).
bool has_locking_shift_table(national_language lang) noexcept;

// The single shift (extension) table for a language, sorted by septet.
// national_language::none returns the default extension table.
std::span<const gsm7_shift_entry> single_shift_table(national_language lang) noexcept;

// Whether TS 23.038 defines a single shift table for `lang` (UDH IE 0x24).
bool has_single_shift_table(national_language lang) noexcept;

}  // namespace smpp::detail
