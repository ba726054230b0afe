// Delivery receipt parsing (receipt.hpp). The text is read in one pass as
// whitespace-separated tokens: a token "word:" (or "submit date:" /
// "done date:") opens a field; its value is the next token, except that
// stat: takes every word up to the next key and text: takes the rest of
// the message. Anything else is a stray word and skipped.
//
// Every tolerance below answers a receipt some SMSC really sends:
//   - "Text:" capitalised: Appendix B's own example; node-smpp#77.
//   - sub:/dlvrd:/text: missing: jsmpp#62, jsmpp#67, jasmin#753, jasmin#1239.
//   - 12-digit dates with seconds: Clickatell (jasmin#70), smppcenter.com.
//   - 16-character SMPP absolute times ("240115123045104+"): smppex#46.
//   - "done date:0000000000" and "stat:FAILED": jasmin#447; vumi#897.
//   - "stat:DELIVERED TO CARRIER" (several words): esendex.us receipt docs.
//   - "DELIVRD" without "stat:": an operator behind ksmppd#108.
//   - "err:0000", "err:null", "err:21": php-smpp#70, vumi#873, node-smpp#77.
//   - "err: 0" (space after the colon): asked about in php-smpp#29.
//   - "done date: stat:ACCEPTD" (a key with no value): node-smpp#140.
//   - ids in hex, decimal with leading zeros, 32-character hex, UUIDs:
//     jasmin#1129, jsmpp#178, jasmin#70, jasmin#535, jasmin#753.
//   - a UDH before the text (UDHI set on a receipt): ksmppd#63.
//   - TLVs win over the text: vumi#637, jasmin#427.
// "submit_date:"/"done_date:" and extra fields such as "nid:" or "mccmnc:"
// are accepted too, though no sender of them is documented in those sources.
#include "smpp/receipt.hpp"

#include <cstddef>
#include <string>

namespace smpp {
namespace {

class receipt_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "smpp.receipt"; }
  std::string message(int ev) const override {
    switch (static_cast<receipt_errc>(ev)) {
      case receipt_errc::not_a_receipt: return "no message id in TLVs or text: not a receipt";
      case receipt_errc::invalid_field: return "receipt announces an empty message id";
    }
    return "unknown receipt error";
  }
};

constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_key_char(char c) noexcept {
  return is_alpha(c) || is_digit(c) || c == '_' || c == '-';
}
constexpr char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::size_t skip_space(std::string_view t, std::size_t i) noexcept {
  while (i < t.size() && is_space(t[i])) ++i;
  return i;
}
std::size_t token_end(std::string_view t, std::size_t i) noexcept {
  while (i < t.size() && !is_space(t[i])) ++i;
  return i;
}

// ---- keys ---------------------------------------------------------------

enum class key : std::uint8_t { none, other, id, sub, dlvrd, submit_date, done_date, stat, err, text };

struct key_match {
  key k = key::none;
  std::size_t value = 0;  // index just past the ':'
};

key classify(std::string_view word) noexcept {
  struct entry {
    std::string_view word;
    key k;
  };
  // "submit_date" / "done_date": the underscore spelling of some gateways.
  static constexpr entry keys[] = {
      {"id", key::id},       {"sub", key::sub},
      {"dlvrd", key::dlvrd}, {"submit_date", key::submit_date},
      {"done_date", key::done_date}, {"stat", key::stat},
      {"err", key::err},     {"text", key::text},
  };
  for (const entry& e : keys)
    if (iequals(word, e.word)) return e.k;
  return key::other;
}

// A key starting at t[i], the first character of a token: a word of
// letters, digits, '_' and '-' that starts with a letter and ends in ':',
// or "submit" / "done", spaces, "date:".
key_match match_key(std::string_view t, std::size_t i) noexcept {
  if (i >= t.size() || !is_alpha(t[i])) return {};
  std::size_t j = i;
  while (j < t.size() && is_key_char(t[j])) ++j;
  const std::string_view word = t.substr(i, j - i);
  if (j < t.size() && t[j] == ':') return {classify(word), j + 1};
  const bool submit = iequals(word, "submit");
  if (!submit && !iequals(word, "done")) return {};
  std::size_t k = j;
  while (k < t.size() && t[k] == ' ') ++k;
  if (k == j || t.size() - k < 5 || !iequals(t.substr(k, 4), "date") || t[k + 4] != ':') return {};
  return {submit ? key::submit_date : key::done_date, k + 5};
}

// ---- values -------------------------------------------------------------

std::optional<message_state> state_of(std::string_view stat) noexcept {
  struct entry {
    std::string_view word;
    message_state state;
  };
  // Appendix B's 7-letter words and the spelt-out forms some SMSCs send.
  static constexpr entry words[] = {
      {"DELIVRD", message_state::delivered},  {"DELIVERED", message_state::delivered},
      {"EXPIRED", message_state::expired},    {"DELETED", message_state::deleted},
      {"UNDELIV", message_state::undeliverable},
      {"UNDELIVERABLE", message_state::undeliverable},
      {"ACCEPTD", message_state::accepted},   {"ACCEPTED", message_state::accepted},
      {"UNKNOWN", message_state::unknown},    {"REJECTD", message_state::rejected},
      {"REJECTED", message_state::rejected},  {"ENROUTE", message_state::enroute},
      {"SKIPPED", message_state::skipped},
  };
  for (const entry& e : words)
    if (iequals(stat, e.word)) return e.state;
  return std::nullopt;
}

std::optional<std::uint32_t> parse_count(std::string_view v) noexcept {
  if (v.empty()) return std::nullopt;
  std::uint32_t n = 0;
  for (char c : v) {
    if (!is_digit(c)) return std::nullopt;
    const auto d = static_cast<std::uint32_t>(c - '0');
    if (n > (UINT32_MAX - d) / 10) return std::nullopt;
    n = n * 10 + d;
  }
  return n;
}

std::uint8_t two_digits(std::string_view v, std::size_t i) noexcept {
  return static_cast<std::uint8_t>((v[i] - '0') * 10 + (v[i + 1] - '0'));
}

std::uint8_t days_in(std::uint8_t month, std::uint8_t year) noexcept {
  static constexpr std::uint8_t days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  // Two-digit years are 2000-2099 here, where every fourth year is a leap year.
  if (month == 2 && year % 4 == 0) return 29;
  return days[month - 1];
}

// YYMMDDhhmm, YYMMDDhhmmss, or YYMMDDhhmmsstnnp (7.1.1, absolute).
std::optional<receipt_time> parse_time(std::string_view v) noexcept {
  const std::size_t digits = v.size() == 10 ? 10 : 12;
  if (v.size() != 10 && v.size() != 12 && v.size() != 16) return std::nullopt;
  for (std::size_t i = 0; i < digits; ++i)
    if (!is_digit(v[i])) return std::nullopt;
  receipt_time t;
  t.year = two_digits(v, 0);
  t.month = two_digits(v, 2);
  t.day = two_digits(v, 4);
  t.hour = two_digits(v, 6);
  t.minute = two_digits(v, 8);
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > days_in(t.month, t.year) ||
      t.hour > 23 || t.minute > 59)
    return std::nullopt;
  if (digits == 12) {
    t.second = two_digits(v, 10);
    if (*t.second > 59) return std::nullopt;
  }
  if (v.size() == 16) {
    if (!is_digit(v[12]) || !is_digit(v[13]) || !is_digit(v[14])) return std::nullopt;
    const std::uint8_t quarters = two_digits(v, 13);
    if (quarters > 48 || (v[15] != '+' && v[15] != '-')) return std::nullopt;
    t.utc_offset = static_cast<std::int8_t>(v[15] == '-' ? -quarters : quarters);
  }
  return t;
}

void note_bad(delivery_receipt& out, std::string_view field) noexcept {
  if (out.bad_field.empty()) out.bad_field = field;
}

// ---- the PDU forms ------------------------------------------------------

// The text after the UDH when esm_class has UDHI (bit 6). A UDH longer than
// the message is left in place: the parse then finds what it can.
std::string_view without_udh(std::string_view sm, std::uint8_t esm_class) noexcept {
  if ((esm_class & 0x40) == 0 || sm.empty()) return sm;
  const std::size_t udh = 1 + static_cast<std::uint8_t>(sm[0]);
  if (udh <= sm.size()) sm.remove_prefix(udh);
  return sm;
}

std::error_code parse_pdu(std::string_view text, std::uint8_t esm_class, const tlv_set& tlvs,
                          delivery_receipt& out) noexcept {
  std::error_code ec = parse_receipt_text(without_udh(text, esm_class), out);
  out.kind = receipt_kind_of(esm_class);
  if (tlvs.network_error_code) {
    const std::string_view v = *tlvs.network_error_code;
    if (v.size() == 3)
      out.network_error_code = std::array<std::uint8_t, 3>{static_cast<std::uint8_t>(v[0]),
                                                           static_cast<std::uint8_t>(v[1]),
                                                           static_cast<std::uint8_t>(v[2])};
    else
      note_bad(out, "network_error_code");
  }
  if (tlvs.message_state) {
    // An undefined value (0 is SMPP 5.0's SCHEDULED) leaves the text's stat: in charge.
    if (*tlvs.message_state >= 1 && *tlvs.message_state <= 9)
      out.state = static_cast<message_state>(*tlvs.message_state);
    else
      note_bad(out, "message_state");
  }
  if (tlvs.receipted_message_id) {
    if (!tlvs.receipted_message_id->empty()) {
      out.message_id = *tlvs.receipted_message_id;
      out.id_from_tlv = true;
      return {};
    }
    if (ec == receipt_errc::not_a_receipt) {
      out.bad_field = "receipted_message_id";
      return receipt_errc::invalid_field;
    }
  }
  return ec;
}

}  // namespace

const std::error_category& receipt_category() noexcept {
  static const receipt_category_impl c;
  return c;
}

std::string_view name(message_state s) noexcept {
  switch (s) {
    case message_state::enroute: return "ENROUTE";
    case message_state::delivered: return "DELIVERED";
    case message_state::expired: return "EXPIRED";
    case message_state::deleted: return "DELETED";
    case message_state::undeliverable: return "UNDELIVERABLE";
    case message_state::accepted: return "ACCEPTED";
    case message_state::unknown: return "UNKNOWN";
    case message_state::rejected: return "REJECTED";
    case message_state::skipped: return "SKIPPED";
  }
  return "";
}

receipt_kind receipt_kind_of(std::uint8_t esm_class) noexcept {
  switch (esm_class & 0x3C) {
    case 0x04: return receipt_kind::smsc_delivery_receipt;
    case 0x08: return receipt_kind::sme_delivery_ack;
    case 0x10: return receipt_kind::sme_manual_ack;
    case 0x20: return receipt_kind::intermediate_notification;
    default: return receipt_kind::none;
  }
}

std::error_code parse_receipt_text(std::string_view t, delivery_receipt& out) noexcept {
  out = {};
  bool id_seen = false;
  std::string_view bare_stat;
  std::size_t i = skip_space(t, 0);
  while (i < t.size()) {
    const key_match m = match_key(t, i);
    if (m.k == key::none) {
      const std::size_t e = token_end(t, i);
      const std::string_view word = t.substr(i, e - i);
      if (bare_stat.empty() && state_of(word)) bare_stat = word;
      i = skip_space(t, e);
      continue;
    }
    if (m.k == key::text) {
      out.text = t.substr(m.value);
      break;
    }
    // The value is the next token, unless it is itself a key after a
    // space: then this field was sent empty.
    const std::size_t start = skip_space(t, m.value);
    std::size_t end = start;
    if (start < t.size() && (start == m.value || match_key(t, start).k == key::none)) {
      end = token_end(t, start);
      if (m.k == key::stat) {
        for (std::size_t w = skip_space(t, end);
             w < t.size() && match_key(t, w).k == key::none; w = skip_space(t, end))
          end = token_end(t, w);
      }
    }
    const std::string_view value = t.substr(start, end - start);
    i = skip_space(t, end);
    // A field sent twice keeps its first non-empty value.
    switch (m.k) {
      case key::id:
        id_seen = true;
        if (out.message_id.empty()) out.message_id = value;
        break;
      case key::sub:
        if (!out.submitted && !value.empty()) {
          out.submitted = parse_count(value);
          if (!out.submitted) note_bad(out, "sub");
        }
        break;
      case key::dlvrd:
        if (!out.delivered && !value.empty()) {
          out.delivered = parse_count(value);
          if (!out.delivered) note_bad(out, "dlvrd");
        }
        break;
      case key::submit_date:
        if (!out.submit_date && !value.empty()) {
          out.submit_date = parse_time(value);
          if (!out.submit_date) note_bad(out, "submit date");
        }
        break;
      case key::done_date:
        if (!out.done_date && !value.empty()) {
          out.done_date = parse_time(value);
          if (!out.done_date) note_bad(out, "done date");
        }
        break;
      case key::stat:
        if (out.stat.empty()) out.stat = value;
        break;
      case key::err:
        if (out.err.empty()) out.err = value;
        break;
      case key::none:
      case key::other:
      case key::text:
        break;
    }
  }
  if (out.stat.empty()) out.stat = bare_stat;
  out.state = state_of(out.stat);
  if (!out.message_id.empty()) return {};
  if (!id_seen) return receipt_errc::not_a_receipt;
  out.bad_field = "id";
  return receipt_errc::invalid_field;
}

std::error_code parse_receipt(const sm_body& deliver_sm, delivery_receipt& out) noexcept {
  std::string_view text = deliver_sm.short_message;
  if (text.empty() && deliver_sm.tlvs.message_payload) text = *deliver_sm.tlvs.message_payload;
  return parse_pdu(text, deliver_sm.esm_class, deliver_sm.tlvs, out);
}

std::error_code parse_receipt(const data_sm_body& data_sm, delivery_receipt& out) noexcept {
  return parse_pdu(data_sm.tlvs.message_payload.value_or(std::string_view()), data_sm.esm_class,
                   data_sm.tlvs, out);
}

}  // namespace smpp
