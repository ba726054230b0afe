// The 3GPP TS 23.038 Annex A national language shift tables for Turkish, Spanish and
// Portuguese: the locking shift tables of A.3.1 (Turkish) and A.3.3 (Portuguese) and the
// single shift tables of A.2.1 (Turkish), A.2.2 (Spanish) and A.2.3 (Portuguese).
// A.3.2 is void: TS 23.038 defines no Spanish locking shift table, so Spanish text uses the
// default alphabet with the Spanish single shift table.
//
// Pure data, no state; any thread may read it. Internal to smpp/.
#pragma once

#include <span>

#include "smpp/detail/gsm7_tables.hpp"

namespace smpp::detail {

// Locking shift tables, indexed by septet. 0x1B (the escape to the single shift table) is
// `no_char`; 0x0A and 0x0D are LF and CR as in the default alphabet.
extern const gsm7_locking_table turkish_locking_shift;     // TS 23.038 A.3.1
extern const gsm7_locking_table portuguese_locking_shift;  // TS 23.038 A.3.3

// Single shift tables: the characters reached by 0x1B followed by the septet, sorted by septet.
// Only the positions TS 23.038 assigns a character are listed: 0x0A is the page break
// (U+000C); 0x0D (CR2, a control with no character) and 0x1B (reserved for a further
// extension table) are absent.
extern const std::span<const gsm7_shift_entry> turkish_single_shift;     // TS 23.038 A.2.1
extern const std::span<const gsm7_shift_entry> spanish_single_shift;     // TS 23.038 A.2.2
extern const std::span<const gsm7_shift_entry> portuguese_single_shift;  // TS 23.038 A.2.3

}  // namespace smpp::detail
