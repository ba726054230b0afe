// Tests of smpp/text.hpp: the GSM 03.38 default alphabet and extension table, septet packing,
// segmentation into parts, the choice of encoding, smart encoding, the national language shift
// tables, strict UTF-8 and the decoding of received short messages.
//
// Expected values come from 3GPP TS 23.038 (alphabet 6.2.1 / 6.2.1.1, packing 6.1.2.1.1 and
// 6.1.2.3.1, data coding scheme 4, Annex A national tables) and TS 23.040 (UDH 9.2.3.24, part
// budgets), written by hand; none is produced by the code under test.
#include "smpp/text.hpp"

#include "smpp/pdu.hpp"
#include "tests/support/hex.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using smppd::test::from_hex;
using smppd::test::repeat;
using smppd::test::to_hex;

using smpp::encode_options;
using smpp::encoded_part;
using smpp::encoded_text;
using smpp::gsm7_packing;
using smpp::long_message_method;
using smpp::national_language;
using smpp::text_encoding;
using smpp::text_errc;

// ---- helpers ---------------------------------------------------------------------------------



std::string code_point_name(char32_t c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(c));
  return buf;
}

std::string code_points(std::u32string_view s) {
  std::string out;
  for (char32_t c : s) {
    if (!out.empty()) out += ' ';
    out += code_point_name(c);
  }
  return out;
}

std::string utf8(char32_t c) {
  std::string out;
  smpp::utf8_append(c, out);
  return out;
}


encoded_text encode(std::string_view text, const encode_options& options = {}) {
  encoded_text out;
  const std::error_code ec = smpp::encode_text(text, options, out);
  EXPECT_FALSE(ec) << ec.message();
  return out;
}

encode_options with_method(long_message_method m) {
  encode_options o;
  o.long_messages = m;
  return o;
}

encode_options packed() {
  encode_options o;
  o.packing = gsm7_packing::packed;
  return o;
}

encode_options with_languages(smpp::national_language_set languages) {
  encode_options o;
  o.national_languages = languages;
  return o;
}

std::vector<std::uint32_t> units_per_part(const encoded_text& e) {
  std::vector<std::uint32_t> out;
  for (const encoded_part& p : e.parts) out.push_back(p.units);
  return out;
}

// The encoded text of every part, joined (what the handset shows, before decoding).
std::vector<std::uint8_t> joined_text(const encoded_text& e) {
  std::vector<std::uint8_t> out;
  for (const encoded_part& p : e.parts) {
    const auto t = e.text(p);
    out.insert(out.end(), t.begin(), t.end());
  }
  return out;
}

std::string decode(std::span<const std::uint8_t> sm, std::uint8_t data_coding, bool udhi = false,
                   const smpp::decode_options& options = {},
                   std::optional<std::size_t> septets = {}) {
  smpp::decoded_text out;
  const std::error_code ec =
      smpp::decode_short_message(sm, udhi, data_coding, options, out, septets);
  EXPECT_FALSE(ec) << ec.message();
  return out.utf8;
}

std::string decode_hex(std::string_view hex, std::uint8_t data_coding, bool udhi = false,
                       const smpp::decode_options& options = {}) {
  return decode(from_hex(hex), data_coding, udhi, options);
}

smpp::decode_options packed_decoding() {
  smpp::decode_options o;
  o.packing = gsm7_packing::packed;
  return o;
}

// Whether the UDH (starting with its UDHL octet) holds the IE `ie` (IEI, length, data).
bool has_ie(std::span<const std::uint8_t> udh, std::string_view ie_hex) {
  const auto ie = from_hex(ie_hex);
  if (udh.empty() || udh.size() != std::size_t{udh[0]} + 1) return false;
  for (std::size_t i = 1; i + 2 <= udh.size(); i += 2 + udh[i + 1]) {
    const std::size_t len = 2 + std::size_t{udh[i + 1]};
    if (i + len > udh.size()) return false;
    if (std::vector<std::uint8_t>(udh.begin() + i, udh.begin() + i + len) == ie) return true;
  }
  return false;
}

// ---- gsm7_alphabet ---------------------------------------------------------------------------

struct septet_row {
  std::uint8_t septet;
  char32_t codepoint;
};

// TS 23.038 6.2.1, the GSM 7 bit default alphabet by septet. 0x1B is the escape to the
// extension table and holds no character.
constexpr septet_row default_alphabet[] = {
    {0x00, U'@'},   {0x01, 0x00A3}, {0x02, U'$'},   {0x03, 0x00A5},  // @ £ $ ¥
    {0x04, 0x00E8}, {0x05, 0x00E9}, {0x06, 0x00F9}, {0x07, 0x00EC},  // è é ù ì
    {0x08, 0x00F2}, {0x09, 0x00C7}, {0x0A, U'\n'},  {0x0B, 0x00D8},  // ò Ç LF Ø
    {0x0C, 0x00F8}, {0x0D, U'\r'},  {0x0E, 0x00C5}, {0x0F, 0x00E5},  // ø CR Å å
    {0x10, 0x0394}, {0x11, U'_'},   {0x12, 0x03A6}, {0x13, 0x0393},  // Δ _ Φ Γ
    {0x14, 0x039B}, {0x15, 0x03A9}, {0x16, 0x03A0}, {0x17, 0x03A8},  // Λ Ω Π Ψ
    {0x18, 0x03A3}, {0x19, 0x0398}, {0x1A, 0x039E},                  // Σ Θ Ξ (0x1B escape)
    {0x1C, 0x00C6}, {0x1D, 0x00E6}, {0x1E, 0x00DF}, {0x1F, 0x00C9},  // Æ æ ß É
    {0x20, U' '},   {0x21, U'!'},   {0x22, U'"'},   {0x23, U'#'},    //
    {0x24, 0x00A4}, {0x25, U'%'},   {0x26, U'&'},   {0x27, U'\''},   // ¤ % & '
    {0x28, U'('},   {0x29, U')'},   {0x2A, U'*'},   {0x2B, U'+'},    //
    {0x2C, U','},   {0x2D, U'-'},   {0x2E, U'.'},   {0x2F, U'/'},    //
    {0x30, U'0'},   {0x31, U'1'},   {0x32, U'2'},   {0x33, U'3'},    //
    {0x34, U'4'},   {0x35, U'5'},   {0x36, U'6'},   {0x37, U'7'},    //
    {0x38, U'8'},   {0x39, U'9'},   {0x3A, U':'},   {0x3B, U';'},    //
    {0x3C, U'<'},   {0x3D, U'='},   {0x3E, U'>'},   {0x3F, U'?'},    //
    {0x40, 0x00A1}, {0x41, U'A'},   {0x42, U'B'},   {0x43, U'C'},    // ¡ A B C
    {0x44, U'D'},   {0x45, U'E'},   {0x46, U'F'},   {0x47, U'G'},    //
    {0x48, U'H'},   {0x49, U'I'},   {0x4A, U'J'},   {0x4B, U'K'},    //
    {0x4C, U'L'},   {0x4D, U'M'},   {0x4E, U'N'},   {0x4F, U'O'},    //
    {0x50, U'P'},   {0x51, U'Q'},   {0x52, U'R'},   {0x53, U'S'},    //
    {0x54, U'T'},   {0x55, U'U'},   {0x56, U'V'},   {0x57, U'W'},    //
    {0x58, U'X'},   {0x59, U'Y'},   {0x5A, U'Z'},   {0x5B, 0x00C4},  // X Y Z Ä
    {0x5C, 0x00D6}, {0x5D, 0x00D1}, {0x5E, 0x00DC}, {0x5F, 0x00A7},  // Ö Ñ Ü §
    {0x60, 0x00BF}, {0x61, U'a'},   {0x62, U'b'},   {0x63, U'c'},    // ¿ a b c
    {0x64, U'd'},   {0x65, U'e'},   {0x66, U'f'},   {0x67, U'g'},    //
    {0x68, U'h'},   {0x69, U'i'},   {0x6A, U'j'},   {0x6B, U'k'},    //
    {0x6C, U'l'},   {0x6D, U'm'},   {0x6E, U'n'},   {0x6F, U'o'},    //
    {0x70, U'p'},   {0x71, U'q'},   {0x72, U'r'},   {0x73, U's'},    //
    {0x74, U't'},   {0x75, U'u'},   {0x76, U'v'},   {0x77, U'w'},    //
    {0x78, U'x'},   {0x79, U'y'},   {0x7A, U'z'},   {0x7B, 0x00E4},  // x y z ä
    {0x7C, 0x00F6}, {0x7D, 0x00F1}, {0x7E, 0x00FC}, {0x7F, 0x00E0},  // ö ñ ü à
};
static_assert(std::size(default_alphabet) == 127);

// TS 23.038 6.2.1.1, the extension table: the septet that follows the 0x1B escape.
constexpr septet_row extension_table[] = {
    {0x0A, 0x000C},  // page break (form feed)
    {0x14, U'^'},    //
    {0x28, U'{'},    //
    {0x29, U'}'},    //
    {0x2F, U'\\'},   //
    {0x3C, U'['},    //
    {0x3D, U'~'},    //
    {0x3E, U']'},    //
    {0x40, U'|'},    //
    {0x65, 0x20AC},  // €
};
static_assert(std::size(extension_table) == 10);

TEST(gsm7_alphabet, test_table_covers_every_septet_but_the_escape) {
  std::set<unsigned> septets;
  for (const auto& r : default_alphabet) septets.insert(r.septet);
  EXPECT_EQ(septets.size(), 127u);
  EXPECT_EQ(septets.count(0x1B), 0u);
  EXPECT_LE(*septets.rbegin(), 0x7Fu);
}

TEST(gsm7_alphabet, every_default_character_encodes_to_its_septet_and_decodes_back) {
  for (const auto& r : default_alphabet) {
    SCOPED_TRACE(code_point_name(r.codepoint));
    const std::vector<std::uint8_t> septet{r.septet};
    EXPECT_TRUE(smpp::in_gsm7_default(r.codepoint));

    const encoded_text e = encode(utf8(r.codepoint));
    EXPECT_EQ(e.encoding, text_encoding::gsm7);
    EXPECT_EQ(e.data_coding, 0);
    ASSERT_EQ(e.parts.size(), 1u);
    EXPECT_EQ(e.parts[0].udh_size, 0u);
    EXPECT_EQ(e.parts[0].units, 1u);
    EXPECT_EQ(to_hex(e.text(e.parts[0])), to_hex(septet));

    EXPECT_EQ(decode(septet, 0x00), utf8(r.codepoint));
  }
}

TEST(gsm7_alphabet, every_extension_character_encodes_to_escape_and_septet_and_decodes_back) {
  for (const auto& r : extension_table) {
    SCOPED_TRACE(code_point_name(r.codepoint));
    const std::vector<std::uint8_t> septets{0x1B, r.septet};
    EXPECT_TRUE(smpp::in_gsm7_default(r.codepoint));

    const encoded_text e = encode(utf8(r.codepoint));
    EXPECT_EQ(e.encoding, text_encoding::gsm7);
    EXPECT_EQ(e.data_coding, 0);
    ASSERT_EQ(e.parts.size(), 1u);
    EXPECT_EQ(e.parts[0].units, 2u);
    EXPECT_EQ(e.parts[0].characters, 1u);
    EXPECT_EQ(to_hex(e.text(e.parts[0])), to_hex(septets));

    EXPECT_EQ(decode(septets, 0x00), utf8(r.codepoint));
  }
}

TEST(gsm7_alphabet, characters_outside_both_tables_are_not_gsm7) {
  // ` (U+0060), ê, ç (only Ç is in the table), Cyrillic Zhe, the escape itself, emoji.
  for (char32_t c : {U'`', char32_t{0x00EA}, char32_t{0x00E7}, char32_t{0x0416}, char32_t{0x1B},
                     char32_t{0x1F600}}) {
    SCOPED_TRACE(code_point_name(c));
    EXPECT_FALSE(smpp::in_gsm7_default(c));
  }
}

// ---- septet_packing --------------------------------------------------------------------------

TEST(septet_packing, packs_hellohello_into_nine_octets) {
  // TS 23.038 6.1.2.1.1: septet i at bits [7i, 7i+7), LSB first. h=68 e=65 l=6C o=6F.
  //   68 | (65&1)<<7 = E8;  65>>1 | (6C&3)<<6 = 32;  6C>>2 | (6C&7)<<5 = 9B;
  //   6C>>3 | (6F&F)<<4 = FD;  6F>>4 | (68&1F)<<3 = 46;  68>>5 | (65&3F)<<2 = 97;
  //   65>>6 | 6C<<1 = D9;  6C | (6F&1)<<7 = EC;  6F>>1 = 37.
  // 10 septets = 70 bits in 72: two spare bits, no padding character.
  const encoded_text e = encode("hellohello", packed());
  ASSERT_EQ(e.parts.size(), 1u);
  EXPECT_EQ(to_hex(e.text(e.parts[0])), "E8 32 9B FD 46 97 D9 EC 37");
  EXPECT_EQ(e.parts[0].units, 10u);
  EXPECT_EQ(e.parts[0].fill_bits, 0);
  EXPECT_EQ(decode(e.text(e.parts[0]), 0x00, false, packed_decoding()), "hellohello");
}

TEST(septet_packing, pads_seven_spare_bits_with_carriage_return_that_decoding_drops) {
  // 7 septets = 49 bits in 7 octets: the 7 spare bits hold CR (0D), TS 23.038 6.1.2.3.1.
  // a=61 b=62 c=63 d=64 e=65 f=66 g=67:
  //   61 | (62&1)<<7 = 61;  62>>1 | (63&3)<<6 = F1;  63>>2 | (64&7)<<5 = 98;
  //   64>>3 | (65&F)<<4 = 5C;  65>>4 | (66&1F)<<3 = 36;  66>>5 | (67&3F)<<2 = 9F;
  //   67>>6 | 0D<<1 = 1B.
  const encoded_text e = encode("abcdefg", packed());
  ASSERT_EQ(e.parts.size(), 1u);
  EXPECT_EQ(to_hex(e.text(e.parts[0])), "61 F1 98 5C 36 9F 1B");
  EXPECT_EQ(e.parts[0].units, 7u);
  EXPECT_EQ(decode(e.text(e.parts[0]), 0x00, false, packed_decoding()), "abcdefg");
}

TEST(septet_packing, eight_characters_ending_in_at_sign_fill_seven_octets_exactly) {
  // 8 septets = 56 bits: no spare bits, '@' is septet 00, so octet 6 is 67>>6 | 00<<1 = 01.
  // Without TP-UDL a receiver cannot tell a final 00 septet on an octet boundary from zero
  // padding, so the encoder applies the <CR><CR> rule of TS 23.038 6.1.2.3.1 to '@' as to CR:
  // a CR (0D) follows in one more octet, leaving 1 spare bit.
  const encoded_text e = encode("abcdefg@", packed());
  ASSERT_EQ(e.parts.size(), 1u);
  EXPECT_EQ(e.parts[0].units, 8u);
  EXPECT_EQ(to_hex(e.text(e.parts[0])), "61 F1 98 5C 36 9F 01 0D");
  // With the septet count the 8 septets are exactly the text.
  EXPECT_EQ(decode(e.text(e.parts[0]), 0x00, false, packed_decoding(), 8), "abcdefg@");
  // Without it the '@' is kept, followed by the guard CR.
  EXPECT_EQ(decode(e.text(e.parts[0]), 0x00, false, packed_decoding()), "abcdefg@\r");
  // The bare 7 octets, as another encoder sends them, need the count to show the '@'.
  EXPECT_EQ(decode(from_hex("61 F1 98 5C 36 9F 01"), 0x00, false, packed_decoding(), 8),
            "abcdefg@");
}

TEST(septet_packing, keeps_a_final_carriage_return_that_ends_on_an_octet_boundary) {
  // TS 23.038 6.1.2.3.1: when <CR> is the intended last character and the message ends on an
  // octet boundary, another <CR> is added (the receiver removes a final <CR> on an octet
  // boundary as padding). 8 septets, then CR (0D) at bits 56..62: one more octet 0D.
  const encoded_text e = encode("abcdefg\r", packed());
  ASSERT_EQ(e.parts.size(), 1u);
  EXPECT_EQ(to_hex(e.text(e.parts[0])), "61 F1 98 5C 36 9F 1B 0D");
  // 9 septets in 64 bits: not on an octet boundary, so both CRs are read.
  EXPECT_EQ(decode(e.text(e.parts[0]), 0x00, false, packed_decoding()), "abcdefg\r\r");
}

TEST(septet_packing, decodes_only_the_given_number_of_septets) {
  const auto octets = from_hex("E8 32 9B FD 46 97 D9 EC 37");  // "hellohello", see above
  EXPECT_EQ(decode(octets, 0x00, false, packed_decoding(), 5), "hello");
  EXPECT_EQ(decode(octets, 0x00, false, packed_decoding(), 10), "hellohello");
  EXPECT_EQ(decode(octets, 0x00, false, packed_decoding(), 0), "");
}

TEST(septet_packing, starts_after_one_fill_bit_following_a_six_octet_udh) {
  // TS 23.040 9.2.3.24: a 6-octet UDH is 48 bits; the text starts at the septet boundary 49.
  // Part 2 holds "hellohello" one bit later than in the unfilled packing above, so each octet
  // is old<<1 | previous old>>7: E8<<1 = D0; 32<<1|1 = 65; 9B<<1|0 = 36; FD<<1|1 = FB;
  // 46<<1|1 = 8D; 97<<1|0 = 2E; D9<<1|1 = B3; EC<<1|1 = D9; 37<<1|1 = 6F. 71 bits in 72.
  const encoded_text e = encode(repeat("A", 153) + "hellohello", packed());
  ASSERT_EQ(e.parts.size(), 2u);
  const encoded_part& p2 = e.parts[1];
  EXPECT_EQ(to_hex(e.udh(p2)), "05 00 03 00 02 02");
  EXPECT_EQ(p2.fill_bits, 1);
  EXPECT_EQ(to_hex(e.text(p2)), "D0 65 36 FB 8D 2E B3 D9 6F");
  EXPECT_EQ(decode(e.short_message(p2), 0x00, true, packed_decoding()), "hellohello");
  // TP-UDL counts the UDH too: 6 octets + 1 fill bit = 7 septets, then 10 of text.
  EXPECT_EQ(decode(e.short_message(p2), 0x00, true, packed_decoding(), 17), "hellohello");

  // Part 1: 1 + 153 * 7 = 1072 bits = 134 octets; A=41 after the fill bit -> 41<<1 = 82.
  const encoded_part& p1 = e.parts[0];
  EXPECT_EQ(to_hex(e.udh(p1)), "05 00 03 00 02 01");
  EXPECT_EQ(p1.fill_bits, 1);
  EXPECT_EQ(p1.units, 153u);
  EXPECT_EQ(p1.text_size, 134u);
  EXPECT_EQ(e.text(p1)[0], 0x82);
  EXPECT_EQ(decode(e.short_message(p1), 0x00, true, packed_decoding()), repeat("A", 153));
}

TEST(septet_packing, needs_no_fill_bits_after_a_seven_octet_udh) {
  // A 7-octet UDH (16-bit reference) is 56 bits, a septet boundary: "hellohello" packs as in
  // the first test.
  encode_options o = packed();
  o.long_messages = long_message_method::udh16;
  o.reference = 0x1234;
  const encoded_text e = encode(repeat("A", 152) + "hellohello", o);
  ASSERT_EQ(e.parts.size(), 2u);
  const encoded_part& p2 = e.parts[1];
  EXPECT_EQ(to_hex(e.udh(p2)), "06 08 04 12 34 02 02");
  EXPECT_EQ(p2.fill_bits, 0);
  EXPECT_EQ(to_hex(e.text(p2)), "E8 32 9B FD 46 97 D9 EC 37");
  EXPECT_EQ(decode(e.short_message(p2), 0x00, true, packed_decoding()), "hellohello");
  EXPECT_EQ(e.parts[0].fill_bits, 0);
  EXPECT_EQ(e.parts[0].text_size, 133u);  // 152 * 7 = 1064 bits
  EXPECT_EQ(decode(e.short_message(e.parts[0]), 0x00, true, packed_decoding()),
            repeat("A", 152));
}

TEST(septet_packing, a_part_never_ends_on_an_at_sign_that_could_read_as_padding) {
  // 152 'a' then '@' would end part 1 at 1 + 153 * 7 = 1072 bits, an octet boundary, where a
  // final 00 septet reads as zero padding: part 1 ends one character earlier instead.
  const std::string text = repeat("a", 152) + "@" + repeat("b", 20);
  const encoded_text e = encode(text, packed());
  ASSERT_EQ(e.parts.size(), 2u);
  EXPECT_EQ(units_per_part(e), (std::vector<std::uint32_t>{152, 21}));
  std::string decoded;
  for (const encoded_part& p : e.parts)
    decoded += decode(e.short_message(p), 0x00, true, packed_decoding());
  EXPECT_EQ(decoded, text);
}

// ---- segmentation ----------------------------------------------------------------------------

struct budget_row {
  const char* name;
  std::string text;
  long_message_method method;
  text_encoding encoding;
  std::vector<std::uint32_t> units;  // per part
  std::uint32_t udh_size;            // of every part
};

TEST(segmentation, parts_fill_the_budget_of_their_encoding_and_udh) {
  const std::string zhe = "\u0416";  // Cyrillic capital Zhe: UCS-2, one unit
  const std::vector<budget_row> rows = {
      {"160 GSM fit one SMS", repeat("a", 160), long_message_method::udh8, text_encoding::gsm7,
       {160}, 0},
      {"161 GSM need two, 153 a part", repeat("a", 161), long_message_method::udh8,
       text_encoding::gsm7, {153, 8}, 6},
      {"306 GSM fill two parts", repeat("a", 306), long_message_method::udh8,
       text_encoding::gsm7, {153, 153}, 6},
      {"307 GSM need three", repeat("a", 307), long_message_method::udh8, text_encoding::gsm7,
       {153, 153, 1}, 6},
      {"70 UCS-2 fit one SMS", repeat(zhe, 70), long_message_method::udh8, text_encoding::ucs2,
       {70}, 0},
      {"71 UCS-2 need two, 67 a part", repeat(zhe, 71), long_message_method::udh8,
       text_encoding::ucs2, {67, 4}, 6},
      {"134 UCS-2 fill two parts", repeat(zhe, 134), long_message_method::udh8,
       text_encoding::ucs2, {67, 67}, 6},
      {"135 UCS-2 need three", repeat(zhe, 135), long_message_method::udh8, text_encoding::ucs2,
       {67, 67, 1}, 6},
      {"udh16: 160 GSM still one SMS", repeat("a", 160), long_message_method::udh16,
       text_encoding::gsm7, {160}, 0},
      {"udh16: 152 GSM a part", repeat("a", 161), long_message_method::udh16,
       text_encoding::gsm7, {152, 9}, 7},
      {"udh16: 66 UCS-2 a part", repeat(zhe, 71), long_message_method::udh16,
       text_encoding::ucs2, {66, 5}, 7},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    const encoded_text e = encode(r.text, with_method(r.method));
    EXPECT_EQ(e.encoding, r.encoding);
    EXPECT_EQ(e.segments, r.units.size());
    EXPECT_EQ(units_per_part(e), r.units);
    std::size_t units = 0;
    for (const encoded_part& p : e.parts) {
      units += p.units;
      EXPECT_EQ(p.udh_size, r.udh_size);
      EXPECT_EQ(p.text_size, r.encoding == text_encoding::ucs2 ? 2 * p.units : p.units);
    }
    EXPECT_EQ(e.units, units);
    // Joined back, the parts are the whole text.
    EXPECT_EQ(decode(joined_text(e), e.data_coding), r.text);
  }
}

TEST(segmentation, moves_an_extension_character_whole_to_the_next_part) {
  // 152 septets, then € (1B 65) at septets 153-154: it does not fit part 1 (153), so part 1
  // holds 152 septets and never ends on a lone escape.
  const encoded_text e = encode(repeat("a", 152) + "\u20AC" + repeat("b", 10));
  ASSERT_EQ(e.parts.size(), 2u);
  EXPECT_EQ(units_per_part(e), (std::vector<std::uint32_t>{152, 12}));
  const auto p1 = e.text(e.parts[0]);
  EXPECT_EQ(p1.size(), 152u);
  EXPECT_NE(p1.back(), 0x1B);
  EXPECT_EQ(to_hex(e.text(e.parts[1]).first(3)), "1B 65 62");
  EXPECT_EQ(e.parts[1].characters, 11u);
}

TEST(segmentation, moves_a_surrogate_pair_whole_to_the_next_part) {
  // 66 units, then U+1F600 (D83D DE00) at units 67-68: part 1 holds 66 units.
  const std::string text = repeat("\u0416", 66) + "\U0001F600" + repeat("\u0416", 5);
  const encoded_text e = encode(text);
  EXPECT_EQ(e.encoding, text_encoding::ucs2);
  EXPECT_EQ(e.units, 73u);
  EXPECT_EQ(e.characters, 72u);
  ASSERT_EQ(e.parts.size(), 2u);
  EXPECT_EQ(units_per_part(e), (std::vector<std::uint32_t>{66, 7}));
  EXPECT_EQ(to_hex(e.text(e.parts[0]).last(2)), "04 16");
  EXPECT_EQ(to_hex(e.text(e.parts[1]).first(6)), "D8 3D DE 00 04 16");
  EXPECT_EQ(e.parts[1].characters, 6u);
  EXPECT_EQ(decode(joined_text(e), 0x08), text);
}

TEST(segmentation, numbers_parts_in_an_8_bit_concatenation_udh) {
  // TS 23.040 9.2.3.24.1: UDHL 05, IEI 00, length 03, reference, total, sequence number.
  encode_options o;
  o.reference = 0x42;
  const encoded_text e = encode(repeat("a", 307), o);
  ASSERT_EQ(e.parts.size(), 3u);
  EXPECT_EQ(e.reference, 0x42);
  EXPECT_EQ(to_hex(e.udh(e.parts[0])), "05 00 03 42 03 01");
  EXPECT_EQ(to_hex(e.udh(e.parts[1])), "05 00 03 42 03 02");
  EXPECT_EQ(to_hex(e.udh(e.parts[2])), "05 00 03 42 03 03");
  for (std::size_t i = 0; i < e.parts.size(); ++i) {
    EXPECT_EQ(e.parts[i].sar_seqnum, i + 1);
    // short_message is the UDH followed by the text.
    const auto sm = e.short_message(e.parts[i]);
    EXPECT_EQ(sm.size(), 6 + e.parts[i].text_size);
    EXPECT_EQ(to_hex(sm.first(6)), to_hex(e.udh(e.parts[i])));
  }
}

TEST(segmentation, keeps_the_low_byte_of_the_reference_for_8_bit_udh) {
  encode_options o;
  o.reference = 0x1242;
  const encoded_text e = encode(repeat("a", 200), o);
  ASSERT_EQ(e.parts.size(), 2u);
  EXPECT_EQ(e.reference, 0x42);
  EXPECT_EQ(to_hex(e.udh(e.parts[0])), "05 00 03 42 02 01");
}

TEST(segmentation, numbers_parts_in_a_16_bit_concatenation_udh) {
  // TS 23.040 9.2.3.24.8: UDHL 06, IEI 08, length 04, reference (2 octets), total, sequence.
  encode_options o = with_method(long_message_method::udh16);
  o.reference = 0x1234;
  const encoded_text e = encode(repeat("a", 305), o);  // 152 + 152 + 1
  ASSERT_EQ(e.parts.size(), 3u);
  EXPECT_EQ(e.reference, 0x1234);
  EXPECT_EQ(to_hex(e.udh(e.parts[0])), "06 08 04 12 34 03 01");
  EXPECT_EQ(to_hex(e.udh(e.parts[1])), "06 08 04 12 34 03 02");
  EXPECT_EQ(to_hex(e.udh(e.parts[2])), "06 08 04 12 34 03 03");
}

TEST(segmentation, sar_parts_carry_no_udh_and_keep_the_air_budget) {
  // SAR TLVs travel outside short_message, but the SMSC adds an 8-bit UDH on the air.
  const struct {
    const char* name;
    std::string text;
    std::vector<std::uint32_t> units;
  } rows[] = {
      {"GSM-7, 153 a part", repeat("a", 307), {153, 153, 1}},
      {"UCS-2, 67 a part", repeat("\u0416", 135), {67, 67, 1}},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    const encoded_text e = encode(r.text, with_method(long_message_method::sar));
    EXPECT_EQ(e.method, long_message_method::sar);
    EXPECT_EQ(e.segments, 3u);
    ASSERT_EQ(e.parts.size(), 3u);
    EXPECT_EQ(units_per_part(e), r.units);
    for (std::size_t i = 0; i < e.parts.size(); ++i) {
      EXPECT_EQ(e.parts[i].udh_size, 0u);
      EXPECT_EQ(e.parts[i].sar_seqnum, i + 1);
      EXPECT_EQ(e.short_message(e.parts[i]).size(), e.parts[i].text_size);
    }
    EXPECT_EQ(decode(joined_text(e), e.data_coding), r.text);
  }
}

TEST(segmentation, payload_carries_the_whole_text_in_one_part_but_counts_sms) {
  const encoded_text e = encode(repeat("a", 400), with_method(long_message_method::payload));
  EXPECT_EQ(e.segments, 3u);  // 153 + 153 + 94 on the air
  ASSERT_EQ(e.parts.size(), 1u);
  EXPECT_EQ(e.parts[0].udh_size, 0u);
  EXPECT_EQ(e.parts[0].units, 400u);
  EXPECT_EQ(e.parts[0].text_size, 400u);
  EXPECT_EQ(e.parts[0].sar_seqnum, 1);
}

TEST(segmentation, a_single_part_text_has_no_udh_whatever_the_method) {
  for (auto m : {long_message_method::udh8, long_message_method::udh16, long_message_method::sar,
                 long_message_method::payload}) {
    SCOPED_TRACE(static_cast<int>(m));
    const encoded_text e = encode("Hello", with_method(m));
    EXPECT_EQ(e.segments, 1u);
    ASSERT_EQ(e.parts.size(), 1u);
    EXPECT_EQ(e.parts[0].udh_size, 0u);
    EXPECT_EQ(to_hex(e.short_message(e.parts[0])), "48 65 6C 6C 6F");
  }
}

TEST(segmentation, fails_when_the_text_needs_more_than_255_parts) {
  encoded_text e;
  const std::error_code ec = smpp::encode_text(repeat("a", 256 * 153), {}, e);
  EXPECT_EQ(ec, text_errc::too_many_parts);
  EXPECT_EQ(e.error_position, 256u);

  const encoded_text ok = encode(repeat("a", 255 * 153));
  EXPECT_EQ(ok.segments, 255u);
  ASSERT_EQ(ok.parts.size(), 255u);
  EXPECT_EQ(to_hex(ok.udh(ok.parts.back())), "05 00 03 00 FF FF");
}

// ---- encoding_choice -------------------------------------------------------------------------

TEST(encoding_choice, gsm_text_is_gsm7_with_data_coding_0) {
  const encoded_text e = encode("Hello, world!");
  EXPECT_EQ(e.encoding, text_encoding::gsm7);
  EXPECT_EQ(e.data_coding, 0x00);
  EXPECT_FALSE(e.forced_by.has_value());
  EXPECT_EQ(e.characters, 13u);
  EXPECT_EQ(e.units, 13u);
  EXPECT_EQ(e.segments, 1u);
  EXPECT_EQ(e.locking_shift, national_language::none);
  EXPECT_EQ(e.single_shift, national_language::none);
}

TEST(encoding_choice, empty_text_is_one_empty_gsm7_part) {
  const encoded_text e = encode("");
  EXPECT_EQ(e.encoding, text_encoding::gsm7);
  EXPECT_EQ(e.segments, 1u);
  ASSERT_EQ(e.parts.size(), 1u);
  EXPECT_EQ(e.parts[0].text_size, 0u);
}

TEST(encoding_choice, one_cyrillic_character_forces_ucs2_and_is_named) {
  const encoded_text e = encode("Hello \u0416!");
  EXPECT_EQ(e.encoding, text_encoding::ucs2);
  EXPECT_EQ(e.data_coding, 0x08);
  ASSERT_TRUE(e.forced_by.has_value());
  EXPECT_EQ(static_cast<std::uint32_t>(*e.forced_by), 0x0416u);
  EXPECT_EQ(e.forced_at, 6u);
  ASSERT_EQ(e.parts.size(), 1u);
  // UTF-16BE: H e l l o SP Zhe !
  EXPECT_EQ(to_hex(e.text(e.parts[0])), "00 48 00 65 00 6C 00 6C 00 6F 00 20 04 16 00 21");
}

TEST(encoding_choice, latin1_carries_non_gsm_latin_text_when_allowed) {
  // ê (U+00EA) is in ISO-8859-1 but not in the GSM alphabet; à is in both.
  encode_options o;
  o.allow_latin1 = true;
  const encoded_text e = encode("cr\u00EApe \u00E0 la carte", o);
  EXPECT_EQ(e.encoding, text_encoding::latin1);
  EXPECT_EQ(e.data_coding, 0x03);
  ASSERT_TRUE(e.forced_by.has_value());
  EXPECT_EQ(static_cast<std::uint32_t>(*e.forced_by), 0x00EAu);
  EXPECT_EQ(e.forced_at, 2u);
  ASSERT_EQ(e.parts.size(), 1u);
  EXPECT_EQ(to_hex(e.text(e.parts[0])), "63 72 EA 70 65 20 E0 20 6C 61 20 63 61 72 74 65");

  // Without the option the same text is UCS-2.
  EXPECT_EQ(encode("cr\u00EApe \u00E0 la carte").encoding, text_encoding::ucs2);
}

TEST(encoding_choice, latin1_parts_hold_140_octets_alone_and_134_concatenated) {
  encode_options o;
  o.allow_latin1 = true;
  const struct {
    std::size_t length;
    std::vector<std::uint32_t> units;
  } rows[] = {{140, {140}}, {141, {134, 7}}, {268, {134, 134}}, {269, {134, 134, 1}}};
  for (const auto& r : rows) {
    SCOPED_TRACE(r.length);
    // õ (U+00F5) keeps the text out of GSM-7.
    const encoded_text e = encode("\u00F5" + repeat("a", r.length - 1), o);
    EXPECT_EQ(e.encoding, text_encoding::latin1);
    EXPECT_EQ(units_per_part(e), r.units);
    EXPECT_EQ(e.segments, r.units.size());
  }
}

TEST(encoding_choice, latin1_is_not_used_for_text_outside_latin1) {
  encode_options o;
  o.allow_latin1 = true;
  // â is Latin-1, Zhe is not; Δ is GSM but not Latin-1.
  EXPECT_EQ(encode("\u00E2 \u0416", o).encoding, text_encoding::ucs2);
  EXPECT_EQ(encode("\u00E2 \u0394", o).encoding, text_encoding::ucs2);
}

TEST(encoding_choice, forced_ucs2_carries_ascii_text) {
  encode_options o;
  o.force = text_encoding::ucs2;
  const encoded_text e = encode("Hi", o);
  EXPECT_EQ(e.encoding, text_encoding::ucs2);
  EXPECT_EQ(e.data_coding, 0x08);
  ASSERT_EQ(e.parts.size(), 1u);
  EXPECT_EQ(to_hex(e.text(e.parts[0])), "00 48 00 69");
}

TEST(encoding_choice, forced_latin1_carries_gsm_text_as_octets) {
  encode_options o;
  o.force = text_encoding::latin1;
  const encoded_text e = encode("@\u00E9", o);  // GSM 00 05, Latin-1 40 E9
  EXPECT_EQ(e.encoding, text_encoding::latin1);
  EXPECT_EQ(e.data_coding, 0x03);
  EXPECT_EQ(to_hex(e.text(e.parts[0])), "40 E9");
}

TEST(encoding_choice, forced_encoding_fails_on_the_first_character_it_cannot_carry) {
  const struct {
    const char* name;
    text_encoding force;
    std::string text;
    std::size_t position;  // character index
  } rows[] = {
      {"gsm7 and Cyrillic", text_encoding::gsm7, "abc\u0416", 3},
      {"gsm7 after multi-byte characters", text_encoding::gsm7, "\u00E9\u00E8\u0416x", 2},
      {"latin1 and Cyrillic", text_encoding::latin1, "\u00E9a\u0416", 2},
      {"latin1 and euro sign", text_encoding::latin1, "10\u20AC", 2},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    encode_options o;
    o.force = r.force;
    encoded_text e;
    EXPECT_EQ(smpp::encode_text(r.text, o, e), text_errc::unencodable);
    EXPECT_EQ(e.error_position, r.position);
  }
}

TEST(encoding_choice, dc0_latin1_sends_gsm_text_as_latin1_octets) {
  // The SMSC reads data_coding 0 as ISO-8859-1: é is E9 (not GSM 05), @ is 40 (not GSM 00).
  encode_options o;
  o.dc0 = smpp::dc0_charset::latin1;
  const encoded_text e = encode("\u00E9@a", o);
  EXPECT_EQ(e.encoding, text_encoding::gsm7);
  EXPECT_EQ(e.data_coding, 0x00);
  EXPECT_EQ(to_hex(e.text(e.parts[0])), "E9 40 61");

  // Δ is GSM but has no Latin-1 octet: UCS-2.
  const encoded_text delta = encode("a\u0394", o);
  EXPECT_EQ(delta.encoding, text_encoding::ucs2);
  ASSERT_TRUE(delta.forced_by.has_value());
  EXPECT_EQ(static_cast<std::uint32_t>(*delta.forced_by), 0x0394u);
  EXPECT_EQ(delta.forced_at, 1u);
}

TEST(encoding_choice, dc0_ia5_keeps_non_ascii_out_of_data_coding_0) {
  encode_options o;
  o.dc0 = smpp::dc0_charset::ia5;
  EXPECT_EQ(encode("\u00E9", o).encoding, text_encoding::ucs2);
  const encoded_text ascii = encode("abc", o);
  EXPECT_EQ(ascii.encoding, text_encoding::gsm7);
  EXPECT_EQ(to_hex(ascii.text(ascii.parts[0])), "61 62 63");
}

// ---- smart_encoding --------------------------------------------------------------------------

TEST(smart_encoding, typographic_look_alikes_become_gsm_characters) {
  const struct {
    const char* name;
    std::string text;
    std::string plain;
  } rows[] = {
      {"curly double quotes", "\u201Cquoted\u201D", "\"quoted\""},
      {"curly single quotes", "\u2018text\u2019", "'text'"},
      {"en dash", "a \u2013 b", "a - b"},
      {"em dash", "a\u2014b", "a-b"},
      {"ellipsis", "wait\u2026", "wait..."},
      {"no-break space", "10\u00A0km", "10 km"},
      {"all together", "\u201Cquoted\u201D \u2018text\u2019 \u2013 dash \u2014 \u2026\u00A0end",
       "\"quoted\" 'text' - dash - ... end"},
  };
  encode_options o;
  o.smart_encoding = true;
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    const encoded_text e = encode(r.text, o);
    EXPECT_EQ(e.encoding, text_encoding::gsm7);
    EXPECT_TRUE(e.smart_replaced);
    EXPECT_EQ(e.characters, r.plain.size());
    EXPECT_EQ(decode(joined_text(e), 0x00), r.plain);

    const encoded_text off = encode(r.text);
    EXPECT_EQ(off.encoding, text_encoding::ucs2);
    EXPECT_FALSE(off.smart_replaced);
  }
}

TEST(smart_encoding, ellipsis_becomes_three_full_stops) {
  encode_options o;
  o.smart_encoding = true;
  const encoded_text e = encode("\u2026", o);
  EXPECT_EQ(to_hex(e.text(e.parts[0])), "2E 2E 2E");
  EXPECT_EQ(e.units, 3u);
}

TEST(smart_encoding, text_that_stays_ucs2_keeps_its_quotes) {
  encode_options o;
  o.smart_encoding = true;
  const encoded_text e = encode("\u201C\u0416\u201D", o);  // “Ж”
  EXPECT_EQ(e.encoding, text_encoding::ucs2);
  EXPECT_FALSE(e.smart_replaced);
  EXPECT_EQ(e.characters, 3u);
  EXPECT_EQ(to_hex(e.text(e.parts[0])), "20 1C 04 16 20 1D");
}

TEST(smart_encoding, names_the_character_that_really_rules_gsm7_out) {
  encode_options o;
  o.smart_encoding = true;
  const encoded_text e = encode("\u201Cok\u201D \u0416", o);
  EXPECT_EQ(e.encoding, text_encoding::ucs2);
  ASSERT_TRUE(e.forced_by.has_value());
  EXPECT_EQ(static_cast<std::uint32_t>(*e.forced_by), 0x0416u);
  EXPECT_EQ(e.forced_at, 5u);
}

// ---- national_languages ----------------------------------------------------------------------

const smpp::national_language_set turkish = smpp::language_bit(national_language::turkish);
const smpp::national_language_set spanish = smpp::language_bit(national_language::spanish);
const smpp::national_language_set portuguese =
    smpp::language_bit(national_language::portuguese);

// ğ ı İ ş Ş: none is in the default alphabet.
const std::string turkish_text = "Da\u011F\u0131 \u0130stanbul'da \u015Fimdi \u015Eubat";

TEST(national_languages, turkish_text_is_ucs2_without_national_languages) {
  const encoded_text e = encode(turkish_text);
  EXPECT_EQ(e.encoding, text_encoding::ucs2);
  ASSERT_TRUE(e.forced_by.has_value());
  EXPECT_EQ(static_cast<std::uint32_t>(*e.forced_by), 0x011Fu);  // ğ
  EXPECT_EQ(e.forced_at, 2u);
}

TEST(national_languages, turkish_text_is_gsm7_with_one_turkish_table_and_its_ie) {
  const encoded_text e = encode(turkish_text, with_languages(turkish));
  EXPECT_EQ(e.encoding, text_encoding::gsm7);
  EXPECT_EQ(e.data_coding, 0x00);
  EXPECT_FALSE(e.forced_by.has_value());
  // Locking shift alone and single shift alone both fit one SMS with one IE; either will do.
  const bool locking = e.locking_shift == national_language::turkish;
  const bool single = e.single_shift == national_language::turkish;
  EXPECT_TRUE(locking != single);
  ASSERT_EQ(e.parts.size(), 1u);
  const auto udh = e.udh(e.parts[0]);
  EXPECT_EQ(udh.size(), 4u);  // UDHL 03 and one 3-octet IE
  if (locking) {
    EXPECT_TRUE(has_ie(udh, "25 01 01")) << to_hex(udh);
  }
  if (single) {
    EXPECT_TRUE(has_ie(udh, "24 01 01")) << to_hex(udh);
  }
  EXPECT_EQ(decode(e.short_message(e.parts[0]), 0x00, true), turkish_text);
}

TEST(national_languages, many_turkish_letters_take_the_locking_shift_table) {
  // ğ is 0C in the Turkish locking shift table (A.3.1): 155 of them are 155 septets, the budget
  // of one SMS whose UDH is 4 octets ((140 - 4) * 8 / 7 = 155). The single shift would need
  // 310 septets.
  const encoded_text e = encode(repeat("\u011F", 155), with_languages(turkish));
  EXPECT_EQ(e.encoding, text_encoding::gsm7);
  EXPECT_EQ(e.locking_shift, national_language::turkish);
  EXPECT_EQ(e.single_shift, national_language::none);
  EXPECT_EQ(e.segments, 1u);
  EXPECT_EQ(e.units, 155u);
  ASSERT_EQ(e.parts.size(), 1u);
  EXPECT_EQ(to_hex(e.udh(e.parts[0])), "03 25 01 01");
  EXPECT_EQ(to_hex(e.text(e.parts[0]).first(3)), "0C 0C 0C");
  EXPECT_EQ(decode(e.short_message(e.parts[0]), 0x00, true), repeat("\u011F", 155));
}

TEST(national_languages, one_language_ie_shrinks_parts_to_155_alone_and_149_concatenated) {
  // Concatenated: UDH 05 00 03 .. plus 25 01 01 = 9 octets, (140 - 9) * 8 / 7 = 149.
  encode_options o = with_languages(turkish);
  o.reference = 0x42;
  const encoded_text e = encode(repeat("\u011F", 156), o);
  EXPECT_EQ(e.locking_shift, national_language::turkish);
  EXPECT_EQ(e.segments, 2u);
  EXPECT_EQ(units_per_part(e), (std::vector<std::uint32_t>{149, 7}));
  for (std::size_t i = 0; i < e.parts.size(); ++i) {
    SCOPED_TRACE(i);
    const auto udh = e.udh(e.parts[i]);
    EXPECT_EQ(udh.size(), 9u);
    EXPECT_TRUE(has_ie(udh, "25 01 01")) << to_hex(udh);
    EXPECT_TRUE(has_ie(udh, i == 0 ? "00 03 42 02 01" : "00 03 42 02 02")) << to_hex(udh);
  }
  std::string decoded;
  for (const encoded_part& p : e.parts) decoded += decode(e.short_message(p), 0x00, true);
  EXPECT_EQ(decoded, repeat("\u011F", 156));
}

TEST(national_languages, both_language_ies_shrink_parts_to_152_alone_and_146_concatenated) {
  // Turkish never needs both tables (its single shift letters are all in its locking shift
  // table), so this uses Portuguese: ª (U+00AA) is only in the locking shift table (A.3.3,
  // 12) and Φ only in the single shift table (A.2.3, 1B 12). UDH 06 24 01 03 25 01 03 is 7
  // octets: (140 - 7) * 8 / 7 = 152; with 05 00 03 .. it is 12: (140 - 12) * 8 / 7 = 146.
  const std::string head = "\u00AA\u03A6";  // 1 + 2 septets
  const struct {
    std::size_t septets;
    std::vector<std::uint32_t> units;
    std::size_t udh_size;
  } rows[] = {{152, {152}, 7}, {153, {146, 7}, 12}};
  for (const auto& r : rows) {
    SCOPED_TRACE(r.septets);
    const std::string text = head + repeat("a", r.septets - 3);
    const encoded_text e = encode(text, with_languages(portuguese));
    EXPECT_EQ(e.encoding, text_encoding::gsm7);
    EXPECT_EQ(e.locking_shift, national_language::portuguese);
    EXPECT_EQ(e.single_shift, national_language::portuguese);
    EXPECT_EQ(units_per_part(e), r.units);
    for (const encoded_part& p : e.parts) {
      const auto udh = e.udh(p);
      EXPECT_EQ(udh.size(), r.udh_size);
      EXPECT_TRUE(has_ie(udh, "24 01 03")) << to_hex(udh);
      EXPECT_TRUE(has_ie(udh, "25 01 03")) << to_hex(udh);
    }
    EXPECT_EQ(to_hex(e.text(e.parts[0]).first(3)), "12 1B 12");
    EXPECT_EQ(decode(e.short_message(e.parts[0]), 0x00, true).substr(0, head.size()), head);
  }
}

TEST(national_languages, default_alphabet_text_uses_no_national_table) {
  for (std::size_t length : {5u, 161u}) {
    SCOPED_TRACE(length);
    const encoded_text e = encode(repeat("a", length), with_languages(turkish | portuguese));
    EXPECT_EQ(e.locking_shift, national_language::none);
    EXPECT_EQ(e.single_shift, national_language::none);
    for (const encoded_part& p : e.parts) {
      EXPECT_FALSE(has_ie(e.udh(p), "25 01 01"));
      EXPECT_FALSE(has_ie(e.udh(p), "24 01 01"));
      EXPECT_EQ(p.udh_size, length > 160 ? 6u : 0u);
    }
  }
}

TEST(national_languages, spanish_single_shift_carries_acute_vowels) {
  // A.2.2 has á 61, í 69, ó 6F, ú 75 after the escape; Spanish has no locking shift table.
  const std::string text = "Canci\u00F3n: sof\u00E1, aqu\u00ED, men\u00FA";
  EXPECT_EQ(encode(text).encoding, text_encoding::ucs2);

  const encoded_text e = encode(text, with_languages(spanish));
  EXPECT_EQ(e.encoding, text_encoding::gsm7);
  EXPECT_EQ(e.locking_shift, national_language::none);
  EXPECT_EQ(e.single_shift, national_language::spanish);
  EXPECT_EQ(e.units, e.characters + 4);
  ASSERT_EQ(e.parts.size(), 1u);
  EXPECT_EQ(to_hex(e.udh(e.parts[0])), "03 24 01 02");
  // "Canci" ó "n: sof" á
  EXPECT_EQ(to_hex(e.text(e.parts[0]).first(14)), "43 61 6E 63 69 1B 6F 6E 3A 20 73 6F 66 1B");
  EXPECT_EQ(decode(e.short_message(e.parts[0]), 0x00, true), text);
}

TEST(national_languages, spanish_tables_do_not_carry_turkish_letters) {
  EXPECT_EQ(encode(turkish_text, with_languages(spanish)).encoding, text_encoding::ucs2);
}

TEST(national_languages, turkish_locking_shift_carries_the_euro_sign_in_one_septet) {
  // € is U+20AC, far above the Latin range, and septet 04 of the Turkish locking shift table
  // (A.3.1): 100 ğ + € are 101 septets, not 102 with the escape 1B 65.
  const encoded_text e = encode(repeat("\u011F", 100) + "\u20AC", with_languages(turkish));
  EXPECT_EQ(e.locking_shift, national_language::turkish);
  EXPECT_EQ(e.units, 101u);
  EXPECT_EQ(to_hex(e.text(e.parts[0]).last(2)), "0C 04");
}

TEST(national_languages, portuguese_locking_shift_carries_infinity) {
  // ∞ (U+221E) is only in the Portuguese locking shift table (A.3.3, septet 15).
  const encoded_text e = encode("1\u221E", with_languages(portuguese));
  EXPECT_EQ(e.encoding, text_encoding::gsm7);
  EXPECT_EQ(e.locking_shift, national_language::portuguese);
  EXPECT_EQ(to_hex(e.text(e.parts[0])), "31 15");
  EXPECT_EQ(decode(e.short_message(e.parts[0]), 0x00, true), "1\u221E");
}

TEST(national_languages, received_locking_shift_ie_selects_the_turkish_table) {
  // UDH 03 25 01 01, then 07 0C 1D 1C 40: ı ğ ş Ş İ in A.3.1 (ì ø æ Æ ¡ in the default).
  EXPECT_EQ(decode_hex("03 25 01 01 07 0C 1D 1C 40", 0x00, true),
            "\u0131\u011F\u015F\u015E\u0130");
  EXPECT_EQ(decode_hex("07 0C 1D 1C 40", 0x00), "\u00EC\u00F8\u00E6\u00C6\u00A1");
}

TEST(national_languages, received_single_shift_ie_selects_the_turkish_extension) {
  // UDH 03 24 01 01, then 1B 67 (ğ), 1B 53 (Ş), 1B 65 (€), 61 (a) in A.2.1.
  smpp::decoded_text out;
  const auto sm = from_hex("03 24 01 01 1B 67 1B 53 1B 65 61");
  ASSERT_FALSE(smpp::decode_short_message(sm, true, 0x00, {}, out));
  EXPECT_EQ(out.udh.single_shift, national_language::turkish);
  EXPECT_EQ(out.udh.locking_shift, national_language::none);
  EXPECT_EQ(out.utf8, "\u011F\u015E\u20ACa");
}

TEST(national_languages, received_unknown_language_reads_with_the_default_tables) {
  // Language 0D (Urdu) has no table here: the default alphabet is used.
  EXPECT_EQ(decode_hex("03 25 01 0D 07 0C", 0x00, true), "\u00EC\u00F8");
}

// ---- utf8 ------------------------------------------------------------------------------------

TEST(utf8, decodes_valid_sequences_of_one_to_four_bytes) {
  const struct {
    const char* name;
    std::string_view hex;
    std::u32string expected;
  } rows[] = {
      {"ASCII", "41 7F", U"A\x7F"},
      {"2 bytes, lowest", "C2 80", U"\u0080"},
      {"2 bytes, e acute", "C3 A9", U"\u00E9"},
      {"2 bytes, highest", "DF BF", U"\u07FF"},
      {"3 bytes, lowest", "E0 A0 80", U"\u0800"},
      {"3 bytes, euro sign", "E2 82 AC", U"\u20AC"},
      {"3 bytes, below the surrogates", "ED 9F BF", U"\uD7FF"},
      {"3 bytes, above the surrogates", "EE 80 80", U"\uE000"},
      {"3 bytes, highest", "EF BF BF", U"\uFFFF"},
      {"4 bytes, lowest", "F0 90 80 80", U"\U00010000"},
      {"4 bytes, emoji", "F0 9F 98 80", U"\U0001F600"},
      {"4 bytes, highest", "F4 8F BF BF", U"\U0010FFFF"},
      {"mixed", "61 C3 A9 E2 82 AC F0 9F 98 80", U"a\u00E9\u20AC\U0001F600"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    const auto bytes = from_hex(r.hex);
    const std::string s(bytes.begin(), bytes.end());
    std::u32string out;
    std::size_t offset = 0;
    EXPECT_FALSE(smpp::utf8_decode(s, out, offset));
    EXPECT_EQ(code_points(out), code_points(r.expected));
    // utf8_append writes back the same bytes.
    std::string back;
    for (char32_t c : r.expected) smpp::utf8_append(c, back);
    EXPECT_EQ(back, s);
  }
}

TEST(utf8, rejects_malformed_sequences_at_the_first_offending_byte) {
  const struct {
    const char* name;
    std::string_view hex;
    std::size_t offset;
  } rows[] = {
      {"overlong NUL", "C0 80", 0},
      {"overlong 2 bytes", "61 C1 BF", 1},
      {"overlong 3 bytes", "E0 80 80", 0},
      {"overlong 4 bytes", "F0 80 80 80", 0},
      {"high surrogate", "ED A0 80", 0},
      {"low surrogate", "61 62 ED BF BF", 2},
      {"above U+10FFFF", "F4 90 80 80", 0},
      {"lead F5", "F5 80 80 80", 0},
      {"5-byte lead", "F8 88 80 80 80", 0},
      {"FF", "61 FF", 1},
      {"truncated 2 bytes", "61 C3", 1},
      {"truncated 3 bytes", "61 62 E2 82", 2},
      {"truncated 4 bytes", "F0 9F 98", 0},
      {"stray continuation", "61 62 80", 2},
      {"continuation after a whole sequence", "E2 82 AC 80", 3},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    const auto bytes = from_hex(r.hex);
    const std::string s(bytes.begin(), bytes.end());
    std::u32string out;
    std::size_t offset = 99;
    EXPECT_EQ(smpp::utf8_decode(s, out, offset), text_errc::invalid_utf8);
    EXPECT_EQ(offset, r.offset);
  }
}

TEST(utf8, reports_an_interrupted_sequence_at_its_lead_byte) {
  // E2 announces three bytes; 41 cuts it short. The offending byte is the lead E2, as when the
  // input ends after E2 82, not the valid 'A'.
  const struct {
    const char* name;
    std::string_view hex;
    std::size_t offset;
  } rows[] = {
      {"3 bytes cut by ASCII", "E2 82 41", 0},
      {"2 bytes cut by ASCII", "61 C3 41", 1},
      {"4 bytes cut by a new lead", "F0 9F C3 A9", 0},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    const auto bytes = from_hex(r.hex);
    std::u32string out;
    std::size_t offset = 99;
    EXPECT_EQ(smpp::utf8_decode(std::string(bytes.begin(), bytes.end()), out, offset),
              text_errc::invalid_utf8);
    EXPECT_EQ(offset, r.offset);
  }
}

TEST(utf8, encode_text_reports_the_byte_offset_of_invalid_utf8) {
  const struct {
    const char* name;
    std::string text;
    std::size_t offset;
  } rows[] = {
      {"after ASCII", "ab\xC3", 2},
      {"after a 2-byte character", "\xD0\x96x\xFF", 3},  // Ж x FF
      {"surrogate after emoji", "\xF0\x9F\x98\x80\xED\xA0\x80", 4},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    encoded_text e;
    EXPECT_EQ(smpp::encode_text(r.text, {}, e), text_errc::invalid_utf8);
    EXPECT_EQ(e.error_position, r.offset);
  }
}

// ---- decoding --------------------------------------------------------------------------------

TEST(decoding, reads_each_smpp_data_coding_of_text) {
  const struct {
    const char* name;
    std::uint8_t data_coding;
    std::string_view hex;
    std::string expected;
  } rows[] = {
      // GSM unpacked: H e l l o @ _ € (1B 65)
      {"0 GSM-7", 0x00, "48 65 6C 6C 6F 00 11 1B 65", "Hello@_\u20AC"},
      {"1 IA5", 0x01, "48 69 7E 40", "Hi~@"},
      {"3 Latin-1", 0x03, "63 61 66 E9 A0 FF", "caf\u00E9\u00A0\u00FF"},
      // П р, then U+1F600 as the pair D83D DE00
      {"8 UCS-2 with a surrogate pair", 0x08, "04 1F 04 40 D8 3D DE 00",
       "\u041F\u0440\U0001F600"},
      {"8 UCS-2, high surrogate before a letter", 0x08, "D8 3D 00 41", "\uFFFDA"},
      {"8 UCS-2, lone low surrogate", 0x08, "00 41 DC 00", "A\uFFFD"},
      {"8 UCS-2, high surrogate at the end", 0x08, "00 41 D8 3D", "A\uFFFD"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    EXPECT_EQ(decode_hex(r.hex, r.data_coding), r.expected);
  }
}

TEST(decoding, reads_gsm_data_coding_schemes) {
  // TS 23.038 4: general data coding 00xx (bits 3-2: 00 GSM-7, 10 UCS-2), message waiting
  // groups C0-DF (GSM-7) and E0-EF (UCS-2), data coding / message class F0 (bit 2: 0 GSM-7).
  const struct {
    std::uint8_t data_coding;
    std::string_view hex;
    std::string expected;
  } rows[] = {
      {0x10, "48 69", "Hi"},  // class 0 flash, GSM-7
      {0x11, "48 69", "Hi"},  // class 1, GSM-7
      {0x18, "04 1F", "\u041F"},  // class 0, UCS-2
      {0x48, "04 1F", "\u041F"},  // auto-deletion group, UCS-2
      {0xC0, "48 69", "Hi"},
      {0xD1, "48 69", "Hi"},
      {0xE0, "04 1F", "\u041F"},
      {0xF0, "48 69", "Hi"},  // class 0 flash
      {0xF1, "48 69", "Hi"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(static_cast<int>(r.data_coding));
    EXPECT_EQ(decode_hex(r.hex, r.data_coding), r.expected);
  }
}

TEST(decoding, refuses_data_codings_that_carry_no_text) {
  // 02 and 04 binary, 14 8-bit data, 24 compressed, F4 8-bit data class 0, 80 reserved.
  for (std::uint8_t dc : {0x02, 0x04, 0x14, 0x24, 0xF4, 0x80}) {
    SCOPED_TRACE(static_cast<int>(dc));
    smpp::decoded_text out;
    const auto sm = from_hex("48 69");
    EXPECT_EQ(smpp::decode_short_message(sm, false, dc, {}, out),
              text_errc::unsupported_coding);
  }
}

TEST(decoding, reads_data_coding_0_as_the_charset_the_smsc_means) {
  smpp::decode_options latin1;
  latin1.dc0 = smpp::dc0_charset::latin1;
  EXPECT_EQ(decode_hex("E9 40", 0x00, false, latin1), "\u00E9@");
  EXPECT_EQ(decode_hex("05 00", 0x00), "\u00E9@");  // the same text in GSM-7
}

TEST(decoding, parses_an_8_bit_concatenation_udh) {
  smpp::decoded_text out;
  const auto sm = from_hex("05 00 03 42 03 02 48 69");
  ASSERT_FALSE(smpp::decode_short_message(sm, true, 0x00, {}, out));
  EXPECT_EQ(out.udh.length, 6u);
  EXPECT_TRUE(out.udh.concatenated);
  EXPECT_FALSE(out.udh.reference16);
  EXPECT_EQ(out.udh.reference, 0x42);
  EXPECT_EQ(out.udh.total, 3);
  EXPECT_EQ(out.udh.seqnum, 2);
  EXPECT_EQ(out.utf8, "Hi");
}

TEST(decoding, parses_a_16_bit_concatenation_udh) {
  smpp::decoded_text out;
  const auto sm = from_hex("06 08 04 12 34 02 01 00 48 00 69");
  ASSERT_FALSE(smpp::decode_short_message(sm, true, 0x08, {}, out));
  EXPECT_EQ(out.udh.length, 7u);
  EXPECT_TRUE(out.udh.concatenated);
  EXPECT_TRUE(out.udh.reference16);
  EXPECT_EQ(out.udh.reference, 0x1234);
  EXPECT_EQ(out.udh.total, 2);
  EXPECT_EQ(out.udh.seqnum, 1);
  EXPECT_EQ(out.utf8, "Hi");
}

TEST(decoding, skips_udh_elements_that_carry_no_text) {
  // UDHL 0B: application port addressing (05 04 0B84 23F0), then concatenation (00 03 42 02 01).
  smpp::decoded_text out;
  const auto sm = from_hex("0B 05 04 0B 84 23 F0 00 03 42 02 01 48 69");
  ASSERT_FALSE(smpp::decode_short_message(sm, true, 0x00, {}, out));
  EXPECT_EQ(out.udh.length, 12u);
  EXPECT_TRUE(out.udh.concatenated);
  EXPECT_EQ(out.udh.reference, 0x42);
  EXPECT_EQ(out.udh.seqnum, 1);
  EXPECT_EQ(out.utf8, "Hi");
}

TEST(decoding, refuses_a_malformed_udh) {
  const struct {
    const char* name;
    std::string_view hex;
  } rows[] = {
      {"empty message", ""},
      {"UDHL longer than the message", "05 00 03 42 03"},
      {"IE length past the UDHL", "05 00 04 42 03 01 48"},
      {"IE header cut by the UDHL", "01 00 48"},
      {"concatenation IE of 2 octets", "04 00 02 42 03 48"},
      {"16-bit concatenation IE of 3 octets", "05 08 03 12 34 01 48"},
      {"language IE of 2 octets", "04 25 02 01 01 48"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    smpp::decoded_text out;
    const auto sm = from_hex(r.hex);
    EXPECT_EQ(smpp::decode_short_message(sm, true, 0x00, {}, out), text_errc::invalid_udh);
  }
}

TEST(decoding, escape_to_a_code_missing_from_the_extension_table_shows_the_main_character) {
  // TS 23.038 6.2.1.1: 1B 41 is not in the extension table, so it shows as 41 'A';
  // 1B 05 shows as 05 'é'.
  EXPECT_EQ(decode_hex("1B 41 1B 05", 0x00), "A\u00E9");
}

TEST(decoding, escape_followed_by_another_escape_shows_a_space) {
  // TS 23.038 6.2.1.1 note 1: 1B 1B is reserved for the extension to another extension table;
  // "a receiving entity shall display a space until another extension table is defined".
  EXPECT_EQ(decode_hex("61 1B 1B 62", 0x00), "a b");
}

TEST(decoding, ignores_a_concatenation_ie_whose_numbers_cannot_be) {
  const struct {
    const char* name;
    std::string_view hex;
  } rows[] = {
      {"seqnum 0", "05 00 03 42 03 00 48 69"},
      {"seqnum above total", "05 00 03 42 02 03 48 69"},
      {"total 0", "05 00 03 42 00 00 48 69"},
      {"16-bit, seqnum 0", "06 08 04 12 34 02 00 48 69"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    smpp::decoded_text out;
    const auto sm = from_hex(r.hex);
    EXPECT_FALSE(smpp::decode_short_message(sm, true, 0x00, {}, out));
    EXPECT_FALSE(out.udh.concatenated);
    EXPECT_EQ(out.utf8, "Hi");
  }
}

}  // namespace

namespace {

smpp::encoded_text encoded_for_parts(std::string_view text, smpp::long_message_method m) {
  smpp::encode_options o;
  o.long_messages = m;
  o.reference = 0x1234;
  smpp::encoded_text t;
  EXPECT_FALSE(smpp::encode_text(text, o, t));
  return t;
}

TEST(set_part, marks_udh_parts_with_udhi_and_keeps_other_esm_bits) {
  const std::string text(200, 'a');
  auto t = encoded_for_parts(text, smpp::long_message_method::udh8);
  ASSERT_EQ(t.parts.size(), 2u);
  smpp::sm_body b;
  b.esm_class = 0x03;  // store-and-forward mode bits stay
  smpp::set_part(b, t, 1);
  EXPECT_EQ(b.esm_class, 0x43);
  EXPECT_EQ(b.data_coding, 0);
  ASSERT_GE(b.short_message.size(), 6u);
  EXPECT_EQ(b.short_message.substr(0, 6), std::string_view("\x05\x00\x03\x34\x02\x02", 6));
  EXPECT_FALSE(b.tlvs.sar_msg_ref_num);
}

TEST(set_part, puts_sar_numbers_in_tlvs) {
  auto t = encoded_for_parts(std::string(200, 'b'), smpp::long_message_method::sar);
  ASSERT_EQ(t.parts.size(), 2u);
  smpp::sm_body b;
  smpp::set_part(b, t, 0);
  EXPECT_EQ(b.esm_class, 0);
  EXPECT_EQ(b.tlvs.sar_msg_ref_num, 0x1234);
  EXPECT_EQ(b.tlvs.sar_total_segments, 2);
  EXPECT_EQ(b.tlvs.sar_segment_seqnum, 1);
}

TEST(set_part, sends_a_payload_text_whole_in_message_payload) {
  auto t = encoded_for_parts(std::string(300, 'c'), smpp::long_message_method::payload);
  ASSERT_EQ(t.parts.size(), 1u);
  smpp::sm_body b;
  smpp::set_part(b, t, 0);
  EXPECT_TRUE(b.short_message.empty());
  ASSERT_TRUE(b.tlvs.message_payload);
  EXPECT_EQ(b.tlvs.message_payload->size(), 300u);
}

}  // namespace
