// Text encoding, segmentation and decoding (see text.hpp).
//
// Septet packing (TS 23.038 6.1.2.1.1): septet i of the user data occupies
// bits [7i, 7i+7) of the octet stream, least significant bit first. After
// a UDH of u octets the first septet starts at the next septet boundary,
// i.e. after (7 - (8u mod 7)) mod 7 fill bits (TS 23.040 9.2.3.24).
#include "smpp/text.hpp"

#include "smpp/pdu.hpp"

#include <algorithm>
#include <array>

#include "smpp/detail/gsm7_tables.hpp"
#include "smpp/detail/text_units.hpp"

namespace smpp {

namespace {

class text_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "smpp.text"; }
  std::string message(int ev) const override {
    switch (static_cast<text_errc>(ev)) {
      case text_errc::invalid_utf8: return "invalid UTF-8";
      case text_errc::too_many_parts: return "text needs more than 255 parts";
      case text_errc::unencodable: return "character not representable in the forced encoding";
      case text_errc::invalid_udh: return "malformed user data header";
      case text_errc::unsupported_coding: return "data_coding carries no text";
    }
    return "unknown text error";
  }
};

constexpr std::uint8_t esc = 0x1B;
constexpr char32_t replacement_char = 0xFFFD;
constexpr std::size_t sms_octets = 140;  // TP-UD

// ---- character lookup ----------------------------------------------------

// Reverse map of one locking table: a direct array for the Latin, Greek
// and Cyrillic ranges where nearly all entries fall, and a short list for
// the rest (€, ∞, ... in the national tables).
struct locking_index {
  std::array<std::int16_t, 0x400> septet_of{};  // -1: not in the table
  std::vector<detail::gsm7_shift_entry> others;
  explicit locking_index(const detail::gsm7_locking_table& t) {
    septet_of.fill(-1);
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t[i] == detail::no_char) continue;
      if (t[i] < septet_of.size())
        septet_of[t[i]] = static_cast<std::int16_t>(i);
      else
        others.push_back({static_cast<std::uint8_t>(i), t[i]});
    }
  }
  int find(char32_t c) const noexcept {
    if (c < septet_of.size()) return septet_of[c];
    for (const auto& e : others)
      if (e.ch == c) return e.septet;
    return -1;
  }
};

const locking_index& index_for(national_language lang) {
  static const locking_index none(detail::locking_shift_table(national_language::none));
  static const locking_index turkish(detail::locking_shift_table(national_language::turkish));
  static const locking_index portuguese(
      detail::locking_shift_table(national_language::portuguese));
  switch (lang) {
    case national_language::turkish: return turkish;
    case national_language::portuguese: return portuguese;
    default: return none;
  }
}

int find_shift(national_language lang, char32_t c) noexcept {
  for (const auto& e : detail::single_shift_table(lang))
    if (e.ch == c) return e.septet;
  return -1;
}

// The GSM tables a text is encoded with.
struct gsm_tables {
  national_language locking = national_language::none;
  national_language single = national_language::none;
};

// Which ASCII characters the default alphabet has: most texts are
// mostly ASCII, and their characters are costed three times (fit, plan,
// parts), so they skip the table lookup.
const std::array<bool, 0x80> ascii_in_default = [] {
  std::array<bool, 0x80> in{};
  for (const char32_t c : detail::locking_shift_table(national_language::none))
    if (c != detail::no_char && c < in.size()) in[c] = true;
  return in;
}();

// Septets for `c` under `t` (1 or 2), or 0 when the tables lack it.
int gsm_cost(const gsm_tables& t, char32_t c) noexcept {
  if (c < ascii_in_default.size() && t.locking == national_language::none && ascii_in_default[c])
    return 1;
  if (index_for(t.locking).find(c) >= 0) return 1;
  if (find_shift(t.single, c) >= 0) return 2;
  return 0;
}

// ---- smart encoding --------------------------------------------------------

struct look_alike {
  char32_t from;
  std::string_view to;  // GSM default alphabet characters
};

// Typographic characters that word processors and phones substitute for
// plain ones, mapped to the GSM characters a reader takes them for.
constexpr look_alike look_alikes[] = {
    {0x00A0, " "},    // no-break space
    {0x00AB, "\""},   // «
    {0x00BB, "\""},   // »
    {0x2000, " "},    {0x2001, " "}, {0x2002, " "}, {0x2003, " "}, {0x2004, " "},
    {0x2005, " "},    {0x2006, " "}, {0x2007, " "}, {0x2008, " "}, {0x2009, " "},
    {0x200A, " "},    // en quad .. hair space
    {0x200B, ""},     // zero width space
    {0x2010, "-"},    // hyphen
    {0x2011, "-"},    // non-breaking hyphen
    {0x2012, "-"},    // figure dash
    {0x2013, "-"},    // en dash
    {0x2014, "-"},    // em dash
    {0x2015, "-"},    // horizontal bar
    {0x2018, "'"},    // ‘
    {0x2019, "'"},    // ’
    {0x201A, "'"},    // ‚
    {0x201B, "'"},    // ‛
    {0x201C, "\""},   // “
    {0x201D, "\""},   // ”
    {0x201E, "\""},   // „
    {0x201F, "\""},   // ‟
    {0x2022, "-"},    // bullet
    {0x2026, "..."},  // ellipsis
    {0x202F, " "},    // narrow no-break space
    {0x2032, "'"},    // prime
    {0x2033, "\""},   // double prime
    {0x2039, "'"},    // ‹
    {0x203A, "'"},    // ›
    {0x2212, "-"},    // minus sign
    {0xFEFF, ""},     // byte order mark / zero width no-break space
};

const look_alike* find_look_alike(char32_t c) noexcept {
  for (const auto& l : look_alikes)
    if (l.from == c) return &l;
  return nullptr;
}

// ---- budgets -------------------------------------------------------------

std::size_t national_ie_octets(const gsm_tables& t) noexcept {
  return (t.locking != national_language::none ? 3 : 0) +
         (t.single != national_language::none ? 3 : 0);
}

// UDH octets (with UDHL) of a part: concatenation IE when `concat`, plus
// national language IEs. 0 when there is nothing to put in it.
std::size_t udh_octets(bool concat, long_message_method m, std::size_t national) noexcept {
  std::size_t ies = national;
  if (concat) ies += (m == long_message_method::udh16 ? 6 : 5);
  return ies ? 1 + ies : 0;
}

// Units a part can carry when `udh` octets of TP-UD are taken.
std::size_t budget(text_encoding e, std::size_t udh) noexcept {
  const std::size_t free = sms_octets - udh;
  switch (e) {
    case text_encoding::gsm7: return free * 8 / 7;
    case text_encoding::ucs2: return free / 2;
    case text_encoding::latin1: return free;
  }
  return 0;
}

// Budget of one part of a concatenated text. SAR and message_payload carry
// the concatenation outside the short message, but the SMSC turns them into
// an 8-bit-reference UDH on the air, so the same limits apply.
std::size_t multipart_budget(text_encoding e, long_message_method m,
                             std::size_t national) noexcept {
  const auto air = m == long_message_method::udh16 ? long_message_method::udh16
                                                   : long_message_method::udh8;
  return budget(e, udh_octets(true, air, national));
}

std::size_t unit_cost(text_encoding e, const gsm_tables& t, char32_t c) noexcept {
  switch (e) {
    case text_encoding::gsm7: return static_cast<std::size_t>(gsm_cost(t, c));
    case text_encoding::ucs2: return c > 0xFFFF ? 2 : 1;
    case text_encoding::latin1: return 1;
  }
  return 1;
}

std::size_t fill_bits_after(std::size_t udh) noexcept { return (7 - (udh * 8) % 7) % 7; }

// Packed GSM-7 whose last septet is CR or '@' and ends exactly on an octet
// boundary reads the same as shorter text plus 7 bits of padding
// (TS 23.038 6.1.2.3.1), so such a part must not end there: a final part
// takes one more CR after it, any other part ends one character earlier.
bool ambiguous_end(char32_t last, std::size_t fill, std::size_t septets) noexcept {
  return (last == U'\r' || last == U'@') && (fill + 7 * septets) % 8 == 0;
}

struct part_range {
  std::size_t begin = 0, end = 0, units = 0;
};

struct segment_plan {
  text_encoding encoding = text_encoding::gsm7;
  gsm_tables tables;
  long_message_method method = long_message_method::udh8;
  bool packed = false;  // GSM-7 packed into short_message
};

// Splits `text` into the SMS it becomes, only between characters, and
// returns how many; `units` gets the units of the whole text. With
// `ranges`, also records where each PDU's text begins and ends (one range
// for the payload method). Counting and sending share this one function so
// that what is billed is what is sent.
std::size_t plan_segments(std::u32string_view text, const segment_plan& p, std::size_t& units,
                          std::vector<part_range>* ranges) {
  const std::size_t national = national_ie_octets(p.tables);
  units = 0;
  for (char32_t c : text) units += unit_cost(p.encoding, p.tables, c);
  const std::size_t single_udh = udh_octets(false, p.method, national);
  const std::size_t single_fill = single_udh ? fill_bits_after(single_udh) : 0;
  const bool single_extra =
      p.packed && !text.empty() && ambiguous_end(text.back(), single_fill, units);
  if (units + single_extra <= budget(p.encoding, single_udh)) {
    if (ranges) ranges->push_back({0, text.size(), units});
    return 1;
  }
  const std::size_t per_part = multipart_budget(p.encoding, p.method, national);
  // The UDH each part really carries: SAR parts have only the national IEs.
  const std::size_t part_udh = p.method == long_message_method::sar
                                   ? udh_octets(false, p.method, national)
                                   : udh_octets(true, p.method, national);
  const std::size_t part_fill = part_udh ? fill_bits_after(part_udh) : 0;
  std::size_t parts = 0, begin = 0;
  while (begin < text.size()) {
    std::size_t end = begin, used = 0;
    while (end < text.size()) {
      const std::size_t u = unit_cost(p.encoding, p.tables, text[end]);
      if (used + u > per_part) break;
      used += u;
      ++end;
    }
    if (p.packed && end - begin > 1 && ambiguous_end(text[end - 1], part_fill, used) &&
        (end < text.size() || used + 1 > per_part)) {
      --end;
      used -= 1;
    }
    ++parts;
    if (ranges && p.method != long_message_method::payload) ranges->push_back({begin, end, used});
    begin = end;
  }
  if (ranges && p.method == long_message_method::payload)
    ranges->push_back({0, text.size(), units});
  return parts;
}

bool fits_charset(dc0_charset cs, char32_t c) noexcept {
  switch (cs) {
    case dc0_charset::gsm7: return true;
    case dc0_charset::latin1: return c <= 0xFF;
    case dc0_charset::ia5: return c <= 0x7F;
  }
  return false;
}

// Can `text` go as GSM-7 with tables `t` (and, when data_coding 0 means
// another charset to this SMSC, in that charset too)? On failure `at` is
// the first character that does not fit.
bool fits_gsm(std::u32string_view text, const gsm_tables& t, dc0_charset cs, std::size_t& at) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (gsm_cost(t, text[i]) == 0 || !fits_charset(cs, text[i])) {
      at = i;
      return false;
    }
  }
  return true;
}

struct choice {
  text_encoding encoding = text_encoding::gsm7;
  gsm_tables tables;
  std::size_t segments = 0;
  std::size_t units = 0;
};

// The cheapest GSM-7 table combination for `text`, or nullopt. National
// tables are considered only when the SMSC accepts them and only win when
// they need fewer parts (ties go to fewer UDH IEs).
std::optional<choice> best_gsm(std::u32string_view text, const encode_options& o) {
  std::array<national_language, 4> locks{national_language::none};
  std::array<national_language, 4> singles{national_language::none};
  std::size_t nl = 1, ns = 1;
  if (o.dc0 == dc0_charset::gsm7) {
    for (auto lang : {national_language::turkish, national_language::spanish,
                      national_language::portuguese}) {
      if (!(o.national_languages & language_bit(lang))) continue;
      if (detail::has_locking_shift_table(lang)) locks[nl++] = lang;
      if (detail::has_single_shift_table(lang)) singles[ns++] = lang;
    }
  }
  std::optional<choice> best;
  for (std::size_t i = 0; i < nl; ++i) {
    for (std::size_t j = 0; j < ns; ++j) {
      const gsm_tables t{locks[i], singles[j]};
      std::size_t at = 0;
      if (!fits_gsm(text, t, o.dc0, at)) continue;
      choice c{text_encoding::gsm7, t, 0, 0};
      const segment_plan plan{text_encoding::gsm7, t, o.long_messages,
                              o.packing == gsm7_packing::packed && o.dc0 == dc0_charset::gsm7};
      c.segments = plan_segments(text, plan, c.units, nullptr);
      const auto ies = [](const choice& x) { return national_ie_octets(x.tables); };
      if (!best || c.segments < best->segments ||
          (c.segments == best->segments && ies(c) < ies(*best)))
        best = c;
    }
  }
  return best;
}

// ---- writing parts -------------------------------------------------------

void put_udh(std::vector<std::uint8_t>& b, bool concat, long_message_method m,
             const gsm_tables& t, std::uint16_t ref, std::size_t total, std::size_t seq,
             std::size_t national) {
  const std::size_t len = udh_octets(concat, m, national);
  if (len == 0) return;
  b.push_back(static_cast<std::uint8_t>(len - 1));
  if (concat && m == long_message_method::udh16) {
    b.insert(b.end(), {0x08, 0x04, static_cast<std::uint8_t>(ref >> 8),
                       static_cast<std::uint8_t>(ref), static_cast<std::uint8_t>(total),
                       static_cast<std::uint8_t>(seq)});
  } else if (concat) {
    b.insert(b.end(), {0x00, 0x03, static_cast<std::uint8_t>(ref),
                       static_cast<std::uint8_t>(total), static_cast<std::uint8_t>(seq)});
  }
  if (t.single != national_language::none)
    b.insert(b.end(), {0x24, 0x01, static_cast<std::uint8_t>(t.single)});
  if (t.locking != national_language::none)
    b.insert(b.end(), {0x25, 0x01, static_cast<std::uint8_t>(t.locking)});
}

// Appends the septets of `text` for tables `t`.
void to_septets(std::u32string_view text, const gsm_tables& t, std::vector<std::uint8_t>& out) {
  const auto& idx = index_for(t.locking);
  for (char32_t c : text) {
    const int s = idx.find(c);
    if (s >= 0) {
      out.push_back(static_cast<std::uint8_t>(s));
    } else {
      out.push_back(esc);
      out.push_back(static_cast<std::uint8_t>(find_shift(t.single, c)));
    }
  }
}

// Packs septets after `fill` zero bits. Where the last octet would leave 7
// spare bits, they are filled with CR (TS 23.038 6.1.2.3.1) so that they
// are not read as '@'; where a final part ends in CR or '@' exactly on an
// octet boundary, one more CR follows (the spec's <CR><CR> rule;
// plan_segments left room for it).
void pack_septets(std::span<const std::uint8_t> septets, std::size_t fill, bool final_part,
                  std::vector<std::uint8_t>& out) {
  std::size_t bits = fill + septets.size() * 7;
  const bool extra_cr = final_part && !septets.empty() && bits % 8 == 0 &&
                        (septets.back() == 0x0D || septets.back() == 0x00);
  if (extra_cr) bits += 7;
  const std::size_t octets = (bits + 7) / 8;
  const std::size_t first = out.size();
  out.resize(first + octets, 0);
  std::size_t bit = fill;
  auto put = [&](std::uint8_t s) {
    const std::size_t o = first + bit / 8, shift = bit % 8;
    out[o] = static_cast<std::uint8_t>(out[o] | (s << shift));
    if (shift > 1) out[o + 1] = static_cast<std::uint8_t>(out[o + 1] | (s >> (8 - shift)));
    bit += 7;
  };
  for (std::uint8_t s : septets) put(s);
  if (extra_cr || octets * 8 - bits == 7) put(0x0D);
}

void put_text(std::vector<std::uint8_t>& b, std::u32string_view part, const choice& ch,
              const encode_options& o, std::size_t udh, bool final_part,
              std::vector<std::uint8_t>& scratch, encoded_part& p) {
  switch (ch.encoding) {
    case text_encoding::gsm7:
      if (o.dc0 != dc0_charset::gsm7) {
        // The SMSC reads data_coding 0 as Latin-1 / IA5 and converts
        // to GSM on the air: send the characters in that charset.
        for (char32_t c : part) b.push_back(static_cast<std::uint8_t>(c));
        return;
      }
      scratch.clear();
      to_septets(part, ch.tables, scratch);
      if (o.packing == gsm7_packing::packed) {
        p.fill_bits = static_cast<std::uint8_t>(udh ? fill_bits_after(udh) : 0);
        pack_septets(scratch, p.fill_bits, final_part, b);
      } else {
        b.insert(b.end(), scratch.begin(), scratch.end());
      }
      return;
    case text_encoding::ucs2:
      for (char32_t c : part) {
        auto unit = [&](char32_t u) {
          b.push_back(static_cast<std::uint8_t>(u >> 8));
          b.push_back(static_cast<std::uint8_t>(u));
        };
        if (c > 0xFFFF) {
          const char32_t v = c - 0x10000;
          unit(0xD800 + (v >> 10));
          unit(0xDC00 + (v & 0x3FF));
        } else {
          unit(c);
        }
      }
      return;
    case text_encoding::latin1:
      for (char32_t c : part) b.push_back(static_cast<std::uint8_t>(c));
      return;
  }
}

std::uint8_t data_coding_for(text_encoding e) noexcept {
  switch (e) {
    case text_encoding::gsm7: return 0x00;
    case text_encoding::latin1: return 0x03;
    case text_encoding::ucs2: return 0x08;
  }
  return 0x00;
}

}  // namespace

const std::error_category& text_category() noexcept {
  static const text_category_impl c;
  return c;
}

bool in_gsm7_default(char32_t c) noexcept {
  return gsm_cost(gsm_tables{}, c) != 0;
}

std::error_code utf8_decode(std::string_view s, std::u32string& out, std::size_t& error_offset) {
  out.clear();
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char b = p[i];
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    }
    std::size_t len;
    char32_t c, min;
    if ((b & 0xE0) == 0xC0) {
      len = 2, c = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3, c = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4, c = b & 0x07, min = 0x10000;
    } else {
      error_offset = i;
      return text_errc::invalid_utf8;
    }
    if (i + len > n) {
      error_offset = i;
      return text_errc::invalid_utf8;
    }
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) {
        error_offset = i;  // the sequence that its lead byte announced is broken
        return text_errc::invalid_utf8;
      }
      c = (c << 6) | (p[i + k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
      error_offset = i;
      return text_errc::invalid_utf8;
    }
    out.push_back(c);
    i += len;
  }
  return {};
}

void utf8_append(char32_t c, std::string& out) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::error_code encode_text(std::string_view utf8, const encode_options& o, encoded_text& out) {
  thread_local std::u32string text, replaced;
  thread_local std::vector<std::uint8_t> septets;
  out.parts.clear();
  out.bytes.clear();
  out.forced_by.reset();
  out.forced_at = 0;
  out.smart_replaced = false;
  out.error_position = 0;
  if (auto ec = utf8_decode(utf8, text, out.error_position)) return ec;

  std::u32string_view src = text;
  std::optional<choice> ch;
  if (!o.force || *o.force == text_encoding::gsm7) {
    ch = best_gsm(src, o);
    if (!ch && o.smart_encoding) {
      replaced.clear();
      for (char32_t c : text) {
        if (const auto* l = find_look_alike(c)) {
          for (char a : l->to) replaced.push_back(static_cast<unsigned char>(a));
        } else {
          replaced.push_back(c);
        }
      }
      if ((ch = best_gsm(replaced, o))) {
        src = replaced;
        out.smart_replaced = true;
      }
    }
  }
  if (!ch) {
    // Explain what ruled GSM-7 out: the first character that no accepted
    // table has (and, with smart encoding, that no look-alike replaces).
    for (std::size_t i = 0; i < src.size(); ++i) {
      const char32_t c = src[i];
      bool found = gsm_cost(gsm_tables{}, c) != 0 && fits_charset(o.dc0, c);
      for (auto lang : {national_language::turkish, national_language::spanish,
                        national_language::portuguese}) {
        if (found || !(o.national_languages & language_bit(lang)) || o.dc0 != dc0_charset::gsm7)
          continue;
        found = gsm_cost(gsm_tables{lang, lang}, c) != 0 ||
                gsm_cost(gsm_tables{national_language::none, lang}, c) != 0;
      }
      if (!found && o.smart_encoding && find_look_alike(c)) found = true;
      if (!found) {
        out.forced_by = c;
        out.forced_at = i;
        break;
      }
    }
    text_encoding e = text_encoding::ucs2;
    if (o.force) {
      e = *o.force;
    } else if (o.allow_latin1 &&
               std::all_of(src.begin(), src.end(), [](char32_t c) { return c <= 0xFF; })) {
      e = text_encoding::latin1;
    }
    if (e == text_encoding::gsm7) {
      fits_gsm(src, gsm_tables{}, o.dc0, out.error_position);
      return text_errc::unencodable;
    }
    if (e == text_encoding::latin1) {
      const auto bad = std::find_if(src.begin(), src.end(), [](char32_t c) { return c > 0xFF; });
      if (bad != src.end()) {
        out.error_position = static_cast<std::size_t>(bad - src.begin());
        return text_errc::unencodable;
      }
    }
    ch = choice{e, {}, 0, 0};
    ch->segments = plan_segments(src, {e, {}, o.long_messages, false}, ch->units, nullptr);
  }

  out.encoding = ch->encoding;
  out.data_coding = data_coding_for(ch->encoding);
  out.locking_shift = ch->tables.locking;
  out.single_shift = ch->tables.single;
  out.method = o.long_messages;
  out.reference = o.long_messages == long_message_method::udh8
                      ? static_cast<std::uint16_t>(o.reference & 0xFF)
                      : o.reference;
  out.characters = src.size();
  out.units = ch->units;
  out.segments = ch->segments;
  if (ch->segments > max_parts) {
    out.error_position = ch->segments;
    return text_errc::too_many_parts;
  }

  thread_local std::vector<part_range> ranges;
  ranges.clear();
  const segment_plan plan{ch->encoding, ch->tables, o.long_messages,
                          ch->encoding == text_encoding::gsm7 &&
                              o.packing == gsm7_packing::packed && o.dc0 == dc0_charset::gsm7};
  std::size_t units = 0;
  plan_segments(src, plan, units, &ranges);
  const std::size_t national = national_ie_octets(ch->tables);
  const bool udh_concat = ranges.size() > 1 && (o.long_messages == long_message_method::udh8 ||
                                                o.long_messages == long_message_method::udh16);
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const part_range& r = ranges[i];
    encoded_part p;
    p.sar_seqnum = static_cast<std::uint8_t>(i + 1);
    p.udh_offset = static_cast<std::uint32_t>(out.bytes.size());
    put_udh(out.bytes, udh_concat, o.long_messages, ch->tables, out.reference, ranges.size(),
            i + 1, national);
    p.udh_size = static_cast<std::uint32_t>(out.bytes.size() - p.udh_offset);
    p.text_offset = static_cast<std::uint32_t>(out.bytes.size());
    put_text(out.bytes, src.substr(r.begin, r.end - r.begin), *ch, o, p.udh_size,
             i + 1 == ranges.size(), septets, p);
    p.text_size = static_cast<std::uint32_t>(out.bytes.size() - p.text_offset);
    p.units = static_cast<std::uint32_t>(r.units);
    p.characters = static_cast<std::uint32_t>(r.end - r.begin);
    out.parts.push_back(p);
  }
  return {};
}

// ---- receiving -------------------------------------------------------------

std::error_code parse_udh(std::span<const std::uint8_t> sm, udh_info& out) {
  out = udh_info{};
  if (sm.empty() || std::size_t{sm[0]} + 1 > sm.size()) return text_errc::invalid_udh;
  out.length = std::size_t{sm[0]} + 1;
  std::size_t i = 1;
  while (i < out.length) {
    if (i + 2 > out.length) return text_errc::invalid_udh;
    const std::uint8_t iei = sm[i], len = sm[i + 1];
    if (i + 2 + len > out.length) return text_errc::invalid_udh;
    const std::uint8_t* d = sm.data() + i + 2;
    switch (iei) {
      case 0x00:
        if (len != 3) return text_errc::invalid_udh;
        out.concatenated = true, out.reference16 = false;
        out.reference = d[0], out.total = d[1], out.seqnum = d[2];
        break;
      case 0x08:
        if (len != 4) return text_errc::invalid_udh;
        out.concatenated = true, out.reference16 = true;
        out.reference = static_cast<std::uint16_t>((d[0] << 8) | d[1]);
        out.total = d[2], out.seqnum = d[3];
        break;
      case 0x24:
        if (len != 1) return text_errc::invalid_udh;
        out.single_shift = static_cast<national_language>(d[0]);
        break;
      case 0x25:
        if (len != 1) return text_errc::invalid_udh;
        out.locking_shift = static_cast<national_language>(d[0]);
        break;
      default:  // other IEs (ports, indications) carry no text
        break;
    }
    i += 2 + len;
  }
  // TS 23.040 9.2.3.24.1 / .8: a concatenation IE with impossible numbers
  // is ignored, not the message.
  if (out.concatenated && (out.total == 0 || out.seqnum == 0 || out.seqnum > out.total)) {
    out.concatenated = out.reference16 = false;
    out.reference = out.total = out.seqnum = 0;
  }
  // A language we have no table for is read with the default tables, the
  // receiving behaviour TS 23.038 gives for unsupported languages.
  for (auto* l : {&out.single_shift, &out.locking_shift})
    if (static_cast<std::uint8_t>(*l) > 3) *l = national_language::none;
  return {};
}

namespace detail {

alphabet alphabet_of(std::uint8_t dc, dc0_charset dc0) noexcept {
  switch (dc) {
    case 0x00:
      return dc0 == dc0_charset::latin1 ? alphabet::latin1
             : dc0 == dc0_charset::ia5  ? alphabet::ia5
                                        : alphabet::gsm7;
    case 0x01: return alphabet::ia5;
    case 0x03: return alphabet::latin1;
    case 0x08: return alphabet::ucs2;
    default: break;
  }
  // Above 0x0F the value is a GSM data coding scheme (TS 23.038 4).
  if (dc >= 0x10 && dc <= 0x7F) {  // general data coding, with or without auto-deletion
    if (dc & 0x20) return alphabet::none;  // compressed
    switch ((dc >> 2) & 0x03) {
      case 0: return alphabet::gsm7;
      case 2: return alphabet::ucs2;
      default: return alphabet::none;
    }
  }
  if (dc >= 0xC0 && dc <= 0xDF) return alphabet::gsm7;  // message waiting, discard / store
  if (dc >= 0xE0 && dc <= 0xEF) return alphabet::ucs2;  // message waiting, store, UCS-2
  if (dc >= 0xF0) return (dc & 0x04) ? alphabet::none : alphabet::gsm7;
  return alphabet::none;
}

namespace {

void septets_to_utf8(std::span<const std::uint8_t> septets, const gsm_tables& t,
                     std::string& out) {
  const auto& table = detail::locking_shift_table(t.locking);
  for (std::size_t i = 0; i < septets.size(); ++i) {
    const std::uint8_t s = septets[i] & 0x7F;
    if (s == esc) {
      if (i + 1 == septets.size()) break;  // a lone escape at the end shows nothing
      const std::uint8_t e = septets[++i] & 0x7F;
      if (e == esc) {
        // TS 23.038 6.2.1.1: reserved for a further extension table; shown
        // as a space until one is defined.
        out.push_back(' ');
        continue;
      }
      char32_t c = detail::no_char;
      for (const auto& x : detail::single_shift_table(t.single))
        if (x.septet == e) c = x.ch;
      // TS 23.038 6.2.1.1: a code the extension table lacks shows as the
      // character of the main table.
      if (c == detail::no_char) c = table[e];
      utf8_append(c == detail::no_char ? replacement_char : c, out);
      continue;
    }
    const char32_t c = table[s];
    utf8_append(c == detail::no_char ? replacement_char : c, out);
  }
}

// `middle_part`: a part of a concatenated message other than the last.
void unpack_septets(std::span<const std::uint8_t> octets, std::size_t fill,
                    std::optional<std::size_t> count, bool middle_part,
                    std::vector<std::uint8_t>& out) {
  const std::size_t bits = octets.size() * 8;
  std::size_t n = bits > fill ? (bits - fill) / 7 : 0;
  if (count) n = std::min(n, *count);
  const std::size_t first = out.size();
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t bit = fill + 7 * k, o = bit / 8, shift = bit % 8;
    unsigned v = octets[o] >> shift;
    if (shift > 1 && o + 1 < octets.size()) v |= unsigned{octets[o + 1]} << (8 - shift);
    out.push_back(static_cast<std::uint8_t>(v & 0x7F));
  }
  // Without a septet count, a last septet that ends exactly on the octet
  // boundary may be 7 bits of padding: CR as TS 23.038 6.1.2.3.1 asks, or,
  // at the end of a message, zeros from encoders that ignore it. A full
  // middle part has no padding, so a final '@' there is real.
  if (!count && n > 0 && out.size() > first && bits - fill == n * 7 &&
      (out.back() == 0x0D || (out.back() == 0x00 && !middle_part)))
    out.pop_back();
}

void ucs2_to_utf8(std::span<const std::uint8_t> b, std::string& out) {
  const std::size_t n = b.size() / 2;
  for (std::size_t i = 0; i < n; ++i) {
    char32_t u = static_cast<char32_t>((b[2 * i] << 8) | b[2 * i + 1]);
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < n) {
      const char32_t lo = static_cast<char32_t>((b[2 * i + 2] << 8) | b[2 * i + 3]);
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        utf8_append(0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00), out);
        ++i;
        continue;
      }
    }
    if (u >= 0xD800 && u <= 0xDFFF) u = replacement_char;  // unpaired surrogate
    utf8_append(u, out);
  }
  if (b.size() % 2) utf8_append(replacement_char, out);  // half a unit
}

}  // namespace

std::error_code extract_units(std::span<const std::uint8_t> sm, bool udhi,
                              std::uint8_t data_coding, const decode_options& o,
                              std::optional<std::size_t> septets, udh_info& udh, alphabet& kind,
                              std::vector<std::uint8_t>& units) {
  udh = udh_info{};
  std::span<const std::uint8_t> body = sm;
  if (udhi) {
    if (auto ec = parse_udh(sm, udh)) return ec;
    body = sm.subspan(udh.length);
  }
  kind = alphabet_of(data_coding, o.dc0);
  if (kind == alphabet::none) return text_errc::unsupported_coding;
  if (kind == alphabet::gsm7 && o.packing == gsm7_packing::packed) {
    // `septets` counts the whole user data, UDH included, as TP-UDL does.
    std::optional<std::size_t> n;
    const std::size_t fill = udhi ? fill_bits_after(udh.length) : 0;
    if (septets) {
      const std::size_t udh_septets = udhi ? (udh.length * 8 + fill) / 7 : 0;
      n = *septets > udh_septets ? *septets - udh_septets : 0;
    }
    const bool middle_part = udh.concatenated && udh.seqnum < udh.total;
    unpack_septets(body, fill, n, middle_part, units);
  } else {
    units.insert(units.end(), body.begin(), body.end());
  }
  return {};
}

void units_to_utf8(alphabet kind, national_language locking, national_language single,
                   std::span<const std::uint8_t> units, std::string& out) {
  switch (kind) {
    case alphabet::gsm7:
      septets_to_utf8(units, {locking, single}, out);
      return;
    case alphabet::latin1:
      for (std::uint8_t b : units) utf8_append(b, out);
      return;
    case alphabet::ia5:
      for (std::uint8_t b : units) utf8_append(b < 0x80 ? b : replacement_char, out);
      return;
    case alphabet::ucs2:
      ucs2_to_utf8(units, out);
      return;
    case alphabet::none:
      return;
  }
}

}  // namespace detail

std::error_code decode_short_message(std::span<const std::uint8_t> sm, bool udhi,
                                     std::uint8_t data_coding, const decode_options& o,
                                     decoded_text& out, std::optional<std::size_t> septets) {
  thread_local std::vector<std::uint8_t> units;
  units.clear();
  out.utf8.clear();
  detail::alphabet kind{};
  if (auto ec = detail::extract_units(sm, udhi, data_coding, o, septets, out.udh, kind, units))
    return ec;
  detail::units_to_utf8(kind, out.udh.locking_shift, out.udh.single_shift, units, out.utf8);
  return {};
}

void set_part(sm_body& body, const encoded_text& t, std::size_t index) {
  const encoded_part& p = t.parts[index];
  const auto bytes = t.short_message(p);
  const std::string_view octets(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  body.data_coding = t.data_coding;
  body.esm_class = static_cast<std::uint8_t>((body.esm_class & ~0x40) | (p.udh_size ? 0x40 : 0x00));
  if (t.method == long_message_method::payload) {
    body.short_message = {};
    body.tlvs.message_payload = octets;
    return;
  }
  body.short_message = octets;
  if (t.method == long_message_method::sar && t.parts.size() > 1) {
    body.tlvs.sar_msg_ref_num = t.reference;
    body.tlvs.sar_total_segments = static_cast<std::uint8_t>(t.parts.size());
    body.tlvs.sar_segment_seqnum = p.sar_seqnum;
  }
}

}  // namespace smpp
