// Tests of the 3GPP TS 23.038 Annex A national language shift tables (Turkish, Spanish,
// Portuguese) in smpp/detail/gsm7_national_tables.hpp. The expected rows are written from the
// specification's tables: A.3.1 and A.3.3 (locking shift) and A.2.1, A.2.2 and A.2.3 (single
// shift). A.3.2 is void; Spanish has no locking shift table to test.
#include "smpp/detail/gsm7_national_tables.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace {

using smpp::detail::gsm7_locking_table;
using smpp::detail::gsm7_shift_entry;
using smpp::detail::no_char;

struct row {
  std::uint8_t septet;
  char32_t codepoint;
  const char* note;
};

std::string hex(char32_t c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(c));
  return buf;
}

std::string septet_name(std::size_t s) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02zX", s);
  return buf;
}

// TS 23.038 6.2.1, the GSM 7 bit default alphabet in septet order, 16 septets a line (0x1B, the
// escape, is a placeholder here). The Annex A locking shift tables keep these characters except
// where the rows below say otherwise.
constexpr char32_t default_alphabet[] =
    U"@£$¥èéùìòÇ\nØø\rÅå"                                                     // 0x00
    U"\u0394_\u03A6\u0393\u039B\u03A9\u03A0\u03A8\u03A3\u0398\u039E\x1BÆæßÉ"  // 0x10
    U" !\"#¤%&'()*+,-./"                                                      // 0x20
    U"0123456789:;<=>?"                                                       // 0x30
    U"¡ABCDEFGHIJKLMNO"                                                       // 0x40
    U"PQRSTUVWXYZÄÖÑÜ§"                                                       // 0x50
    U"¿abcdefghijklmno"                                                       // 0x60
    U"pqrstuvwxyzäöñüà";                                                      // 0x70
static_assert(sizeof default_alphabet / sizeof default_alphabet[0] == 129);

// A.3.1: every position where the Turkish locking shift table differs from the default alphabet.
const std::vector<row> turkish_locking_changes = {
    {0x04, 0x20AC, "euro sign (default: e grave)"},
    {0x07, 0x0131, "small dotless i (default: i grave)"},
    {0x0B, 0x011E, "capital G with breve (default: O stroke)"},
    {0x0C, 0x011F, "small g with breve (default: o stroke)"},
    {0x1C, 0x015E, "capital S with cedilla (default: AE)"},
    {0x1D, 0x015F, "small s with cedilla (default: ae)"},
    {0x40, 0x0130, "capital I with dot above (default: inverted exclamation mark)"},
    {0x60, 0x00E7, "small c with cedilla (default: inverted question mark)"},
};

// A.3.3: every position where the Portuguese locking shift table differs from the default.
const std::vector<row> portuguese_locking_changes = {
    {0x04, 0x00EA, "small e with circumflex (default: e grave)"},
    {0x06, 0x00FA, "small u with acute (default: u grave)"},
    {0x07, 0x00ED, "small i with acute (default: i grave)"},
    {0x08, 0x00F3, "small o with acute (default: o grave)"},
    {0x09, 0x00E7, "small c with cedilla (default: capital C with cedilla)"},
    {0x0B, 0x00D4, "capital O with circumflex (default: O stroke)"},
    {0x0C, 0x00F4, "small o with circumflex (default: o stroke)"},
    {0x0E, 0x00C1, "capital A with acute (default: A ring)"},
    {0x0F, 0x00E1, "small a with acute (default: a ring)"},
    {0x12, 0x00AA, "feminine ordinal indicator (default: Phi)"},
    {0x13, 0x00C7, "capital C with cedilla (default: Gamma)"},
    {0x14, 0x00C0, "capital A with grave (default: Lambda)"},
    {0x15, 0x221E, "infinity (default: Omega)"},
    {0x16, 0x005E, "circumflex accent (default: Pi)"},
    {0x17, 0x005C, "reverse solidus (default: Psi)"},
    {0x18, 0x20AC, "euro sign (default: Sigma)"},
    {0x19, 0x00D3, "capital O with acute (default: Theta)"},
    {0x1A, 0x007C, "vertical line (default: Xi)"},
    {0x1C, 0x00C2, "capital A with circumflex (default: AE)"},
    {0x1D, 0x00E2, "small a with circumflex (default: ae)"},
    {0x1E, 0x00CA, "capital E with circumflex (default: sharp s)"},
    {0x24, 0x00BA, "masculine ordinal indicator (default: currency sign)"},
    {0x40, 0x00CD, "capital I with acute (default: inverted exclamation mark)"},
    {0x5B, 0x00C3, "capital A with tilde (default: A diaeresis)"},
    {0x5C, 0x00D5, "capital O with tilde (default: O diaeresis)"},
    {0x5D, 0x00DA, "capital U with acute (default: N tilde)"},
    {0x60, 0x007E, "tilde (default: inverted question mark)"},
    {0x7B, 0x00E3, "small a with tilde (default: a diaeresis)"},
    {0x7C, 0x00F5, "small o with tilde (default: o diaeresis)"},
    {0x7D, 0x0060, "grave accent (default: n tilde)"},
};

// A.2.1: every character of the Turkish single shift table (0x0D CR2 and 0x1B have none).
const std::vector<row> turkish_single_rows = {
    {0x0A, 0x000C, "page break (form feed)"},
    {0x14, 0x005E, "circumflex accent"},
    {0x28, 0x007B, "left curly bracket"},
    {0x29, 0x007D, "right curly bracket"},
    {0x2F, 0x005C, "reverse solidus"},
    {0x3C, 0x005B, "left square bracket"},
    {0x3D, 0x007E, "tilde"},
    {0x3E, 0x005D, "right square bracket"},
    {0x40, 0x007C, "vertical line"},
    {0x47, 0x011E, "capital G with breve"},
    {0x49, 0x0130, "capital I with dot above"},
    {0x53, 0x015E, "capital S with cedilla"},
    {0x63, 0x00E7, "small c with cedilla"},
    {0x65, 0x20AC, "euro sign"},
    {0x67, 0x011F, "small g with breve"},
    {0x69, 0x0131, "small dotless i"},
    {0x73, 0x015F, "small s with cedilla"},
};

// A.2.2: every character of the Spanish single shift table.
const std::vector<row> spanish_single_rows = {
    {0x09, 0x00E7, "small c with cedilla"},
    {0x0A, 0x000C, "page break (form feed)"},
    {0x14, 0x005E, "circumflex accent"},
    {0x28, 0x007B, "left curly bracket"},
    {0x29, 0x007D, "right curly bracket"},
    {0x2F, 0x005C, "reverse solidus"},
    {0x3C, 0x005B, "left square bracket"},
    {0x3D, 0x007E, "tilde"},
    {0x3E, 0x005D, "right square bracket"},
    {0x40, 0x007C, "vertical line"},
    {0x41, 0x00C1, "capital A with acute"},
    {0x49, 0x00CD, "capital I with acute"},
    {0x4F, 0x00D3, "capital O with acute"},
    {0x55, 0x00DA, "capital U with acute"},
    {0x61, 0x00E1, "small a with acute"},
    {0x65, 0x20AC, "euro sign"},
    {0x69, 0x00ED, "small i with acute"},
    {0x6F, 0x00F3, "small o with acute"},
    {0x75, 0x00FA, "small u with acute"},
};

// A.2.3: every character of the Portuguese single shift table.
const std::vector<row> portuguese_single_rows = {
    {0x05, 0x00EA, "small e with circumflex"},
    {0x09, 0x00E7, "small c with cedilla"},
    {0x0A, 0x000C, "page break (form feed)"},
    {0x0B, 0x00D4, "capital O with circumflex"},
    {0x0C, 0x00F4, "small o with circumflex"},
    {0x0E, 0x00C1, "capital A with acute"},
    {0x0F, 0x00E1, "small a with acute"},
    {0x12, 0x03A6, "greek capital Phi"},
    {0x13, 0x0393, "greek capital Gamma"},
    {0x14, 0x005E, "circumflex accent"},
    {0x15, 0x03A9, "greek capital Omega"},
    {0x16, 0x03A0, "greek capital Pi"},
    {0x17, 0x03A8, "greek capital Psi"},
    {0x18, 0x03A3, "greek capital Sigma"},
    {0x19, 0x0398, "greek capital Theta"},
    {0x1F, 0x00CA, "capital E with circumflex"},
    {0x28, 0x007B, "left curly bracket"},
    {0x29, 0x007D, "right curly bracket"},
    {0x2F, 0x005C, "reverse solidus"},
    {0x3C, 0x005B, "left square bracket"},
    {0x3D, 0x007E, "tilde"},
    {0x3E, 0x005D, "right square bracket"},
    {0x40, 0x007C, "vertical line"},
    {0x41, 0x00C0, "capital A with grave"},
    {0x49, 0x00CD, "capital I with acute"},
    {0x4F, 0x00D3, "capital O with acute"},
    {0x55, 0x00DA, "capital U with acute"},
    {0x5B, 0x00C3, "capital A with tilde"},
    {0x5C, 0x00D5, "capital O with tilde"},
    {0x61, 0x00C2, "capital A with circumflex"},
    {0x65, 0x20AC, "euro sign"},
    {0x69, 0x00ED, "small i with acute"},
    {0x6F, 0x00F3, "small o with acute"},
    {0x75, 0x00FA, "small u with acute"},
    {0x7B, 0x00E3, "small a with tilde"},
    {0x7C, 0x00F5, "small o with tilde"},
    {0x7F, 0x00E2, "small a with circumflex"},
};

// Checks all 128 positions: the listed changes, the escape at 0x1B, and the default alphabet
// everywhere else.
void expect_locking_table(const gsm7_locking_table& table, const std::vector<row>& changes) {
  std::vector<const row*> changed(128, nullptr);
  for (const row& r : changes) {
    ASSERT_LT(r.septet, 128) << r.note;
    ASSERT_NE(r.codepoint, default_alphabet[r.septet])
        << "test data: " << septet_name(r.septet) << " " << r.note << " is no change";
    changed[r.septet] = &r;
  }
  for (std::size_t s = 0; s < 128; ++s) {
    char32_t want = default_alphabet[s];
    std::string note = "as in the default alphabet";
    if (s == 0x1B) {
      want = no_char;
      note = "escape to the single shift table";
    } else if (changed[s] != nullptr) {
      want = changed[s]->codepoint;
      note = changed[s]->note;
    }
    EXPECT_EQ(hex(table[s]), hex(want)) << "septet " << septet_name(s) << ": " << note;
  }
}

void expect_single_table(std::span<const gsm7_shift_entry> table, const std::vector<row>& rows) {
  EXPECT_EQ(table.size(), rows.size());
  for (std::size_t i = 0; i < table.size() && i < rows.size(); ++i) {
    EXPECT_EQ(septet_name(table[i].septet), septet_name(rows[i].septet))
        << "entry " << i << ", expected " << rows[i].note;
    EXPECT_EQ(hex(table[i].ch), hex(rows[i].codepoint))
        << "septet " << septet_name(rows[i].septet) << ": " << rows[i].note;
  }
}

struct named_single {
  const char* name;
  std::span<const gsm7_shift_entry> table;
};

std::vector<named_single> single_tables() {
  return {{"turkish", smpp::detail::turkish_single_shift},
          {"spanish", smpp::detail::spanish_single_shift},
          {"portuguese", smpp::detail::portuguese_single_shift}};
}

TEST(gsm7_national_tables, turkish_locking_shift_matches_the_spec) {
  expect_locking_table(smpp::detail::turkish_locking_shift, turkish_locking_changes);
}

TEST(gsm7_national_tables, portuguese_locking_shift_matches_the_spec) {
  expect_locking_table(smpp::detail::portuguese_locking_shift, portuguese_locking_changes);
}

TEST(gsm7_national_tables, locking_tables_keep_lf_and_cr_and_escape_at_0x1b_only) {
  for (const gsm7_locking_table* table :
       {&smpp::detail::turkish_locking_shift, &smpp::detail::portuguese_locking_shift}) {
    EXPECT_EQ(hex((*table)[0x0A]), hex(0x000A));
    EXPECT_EQ(hex((*table)[0x0D]), hex(0x000D));
    for (std::size_t s = 0; s < 128; ++s) {
      EXPECT_EQ((*table)[s] == no_char, s == 0x1B) << "septet " << septet_name(s);
    }
  }
}

TEST(gsm7_national_tables, no_codepoint_appears_twice_in_a_locking_table) {
  for (const gsm7_locking_table* table :
       {&smpp::detail::turkish_locking_shift, &smpp::detail::portuguese_locking_shift}) {
    std::set<char32_t> seen;
    for (std::size_t s = 0; s < 128; ++s) {
      if ((*table)[s] == no_char) continue;
      EXPECT_TRUE(seen.insert((*table)[s]).second)
          << hex((*table)[s]) << " again at septet " << septet_name(s);
    }
  }
}

TEST(gsm7_national_tables, turkish_single_shift_has_every_spec_entry) {
  expect_single_table(smpp::detail::turkish_single_shift, turkish_single_rows);
}

TEST(gsm7_national_tables, spanish_single_shift_has_every_spec_entry) {
  expect_single_table(smpp::detail::spanish_single_shift, spanish_single_rows);
}

TEST(gsm7_national_tables, portuguese_single_shift_has_every_spec_entry) {
  expect_single_table(smpp::detail::portuguese_single_shift, portuguese_single_rows);
}

TEST(gsm7_national_tables, single_shift_tables_are_sorted_with_no_duplicate_septets) {
  for (const named_single& t : single_tables()) {
    ASSERT_FALSE(t.table.empty()) << t.name;
    for (std::size_t i = 1; i < t.table.size(); ++i) {
      EXPECT_LT(t.table[i - 1].septet, t.table[i].septet)
          << t.name << " entries " << i - 1 << " and " << i;
    }
  }
}

TEST(gsm7_national_tables, single_shift_tables_hold_only_characters) {
  for (const named_single& t : single_tables()) {
    std::set<char32_t> seen;
    for (const gsm7_shift_entry& e : t.table) {
      EXPECT_LT(e.septet, 0x80) << t.name;
      EXPECT_NE(e.septet, 0x1B) << t.name << ": 0x1B is reserved, not a character";
      EXPECT_NE(e.septet, 0x0D) << t.name << ": 0x0D is CR2, a control with no character";
      EXPECT_NE(e.ch, no_char) << t.name << " septet " << septet_name(e.septet);
      EXPECT_TRUE(seen.insert(e.ch).second)
          << t.name << ": " << hex(e.ch) << " again at septet " << septet_name(e.septet);
    }
    EXPECT_EQ(seen.count(U'\f'), 1u) << t.name << " lacks the page break at 0x0A";
  }
}

}  // namespace
