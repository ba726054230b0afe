#include "engine/encode_report.hpp"

#include <charconv>
#include <cstdio>

namespace smppd {

namespace {

std::string_view encoding_name(smpp::text_encoding e) {
  switch (e) {
    case smpp::text_encoding::gsm7: return "gsm7";
    case smpp::text_encoding::latin1: return "latin1";
    case smpp::text_encoding::ucs2: return "ucs2";
  }
  return "?";
}

std::string_view method_name(smpp::long_message_method m) {
  switch (m) {
    case smpp::long_message_method::udh8: return "udh8";
    case smpp::long_message_method::udh16: return "udh16";
    case smpp::long_message_method::sar: return "sar";
    case smpp::long_message_method::payload: return "payload";
  }
  return "?";
}

std::string_view language_name(smpp::national_language l) {
  switch (l) {
    case smpp::national_language::none: return "none";
    case smpp::national_language::turkish: return "turkish";
    case smpp::national_language::spanish: return "spanish";
    case smpp::national_language::portuguese: return "portuguese";
  }
  return "?";
}

std::string_view unit_name(smpp::text_encoding e) {
  switch (e) {
    case smpp::text_encoding::gsm7: return "septets";
    case smpp::text_encoding::latin1: return "octets";
    case smpp::text_encoding::ucs2: return "UTF-16 units";
  }
  return "units";
}

std::string hex(std::span<const std::uint8_t> b) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string s;
  s.reserve(b.size() * 2);
  for (std::uint8_t x : b) {
    s.push_back(digits[x >> 4]);
    s.push_back(digits[x & 0xF]);
  }
  return s;
}

std::string codepoint(char32_t c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(c));
  return buf;
}

void json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

template <class E>
bool pick(std::string_view v, std::initializer_list<std::pair<std::string_view, E>> names,
          E& out) {
  for (const auto& [n, e] : names)
    if (n == v) {
      out = e;
      return true;
    }
  return false;
}

}  // namespace

bool parse_encode_args(const std::vector<std::string_view>& args, encode_command& cmd,
                       std::string& error) {
  using namespace smpp;
  auto& o = cmd.options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    auto value = [&](std::string_view& v) {
      if (i + 1 >= args.size()) {
        error = std::string(a) + " needs a value";
        return false;
      }
      v = args[++i];
      return true;
    };
    std::string_view v;
    if (a == "--json") {
      cmd.json = true;
    } else if (a == "--smart") {
      o.smart_encoding = true;
    } else if (a == "--latin1") {
      o.allow_latin1 = true;
    } else if (a == "--long") {
      if (!value(v)) return false;
      if (!pick<long_message_method>(v, {{"udh8", long_message_method::udh8},
                                         {"udh16", long_message_method::udh16},
                                         {"sar", long_message_method::sar},
                                         {"payload", long_message_method::payload}},
                                     o.long_messages)) {
        error = "--long: expected udh8, udh16, sar or payload, got '" + std::string(v) + "'";
        return false;
      }
    } else if (a == "--packing") {
      if (!value(v)) return false;
      if (!pick<gsm7_packing>(v, {{"unpacked", gsm7_packing::unpacked},
                                  {"packed", gsm7_packing::packed}},
                              o.packing)) {
        error = "--packing: expected unpacked or packed, got '" + std::string(v) + "'";
        return false;
      }
    } else if (a == "--dc0") {
      if (!value(v)) return false;
      if (!pick<dc0_charset>(v, {{"gsm7", dc0_charset::gsm7},
                                 {"latin1", dc0_charset::latin1},
                                 {"ia5", dc0_charset::ia5}},
                             o.dc0)) {
        error = "--dc0: expected gsm7, latin1 or ia5, got '" + std::string(v) + "'";
        return false;
      }
    } else if (a == "--encoding") {
      if (!value(v)) return false;
      text_encoding e{};
      if (!pick<text_encoding>(v, {{"gsm7", text_encoding::gsm7},
                                   {"latin1", text_encoding::latin1},
                                   {"ucs2", text_encoding::ucs2}},
                               e)) {
        error = "--encoding: expected gsm7, latin1 or ucs2, got '" + std::string(v) + "'";
        return false;
      }
      o.force = e;
    } else if (a == "--national") {
      if (!value(v)) return false;
      while (!v.empty()) {
        const auto comma = v.find(',');
        const std::string_view name = v.substr(0, comma);
        national_language l{};
        if (!pick<national_language>(name, {{"turkish", national_language::turkish},
                                            {"spanish", national_language::spanish},
                                            {"portuguese", national_language::portuguese}},
                                     l)) {
          error = "--national: unknown language '" + std::string(name) +
                  "' (turkish, spanish, portuguese)";
          return false;
        }
        o.national_languages |= language_bit(l);
        v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
      }
    } else if (a == "--reference") {
      if (!value(v)) return false;
      unsigned r = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), r);
      if (ec != std::errc{} || p != v.data() + v.size() || r > 0xFFFF) {
        error = "--reference: expected 0..65535, got '" + std::string(v) + "'";
        return false;
      }
      o.reference = static_cast<std::uint16_t>(r);
    } else {
      error = "unknown option '" + std::string(a) + "'";
      return false;
    }
  }
  return true;
}

std::string render_human(const smpp::encoded_text& t) {
  std::string s;
  char buf[160];
  std::snprintf(buf, sizeof buf, "encoding:   %s (data_coding 0x%02X)", 
                std::string(encoding_name(t.encoding)).c_str(), t.data_coding);
  s += buf;
  if (t.locking_shift != smpp::national_language::none ||
      t.single_shift != smpp::national_language::none) {
    s += ", national tables: locking " + std::string(language_name(t.locking_shift)) +
         ", single " + std::string(language_name(t.single_shift));
  }
  s += "\n";
  if (t.forced_by) {
    std::string ch;
    smpp::utf8_append(*t.forced_by, ch);
    std::snprintf(buf, sizeof buf, "why:        '%s' (%s) at character %zu is not in GSM-7\n",
                  ch.c_str(), codepoint(*t.forced_by).c_str(), t.forced_at + 1);
    s += buf;
  }
  if (t.smart_replaced) s += "smart:      typographic characters replaced to stay in GSM-7\n";
  std::snprintf(buf, sizeof buf, "characters: %zu (%zu %s)\n", t.characters, t.units,
                std::string(unit_name(t.encoding)).c_str());
  s += buf;
  std::snprintf(buf, sizeof buf, "segments:   %zu%s%s\n", t.segments,
                t.segments > 1 ? ", long messages as " : "",
                t.segments > 1 ? std::string(method_name(t.method)).c_str() : "");
  s += buf;
  for (std::size_t i = 0; i < t.parts.size(); ++i) {
    const auto& p = t.parts[i];
    std::snprintf(buf, sizeof buf, "part %zu:     %u characters, %u %s", i + 1, p.characters,
                  p.units, std::string(unit_name(t.encoding)).c_str());
    s += buf;
    if (p.udh_size) s += ", UDH " + hex(t.udh(p));
    s += "\n";
  }
  return s;
}

std::string render_json(const smpp::encoded_text& t) {
  std::string s = "{\"encoding\":";
  json_string(s, encoding_name(t.encoding));
  s += ",\"data_coding\":" + std::to_string(t.data_coding);
  s += ",\"segments\":" + std::to_string(t.segments);
  s += ",\"characters\":" + std::to_string(t.characters);
  s += ",\"units\":" + std::to_string(t.units);
  s += ",\"method\":";
  json_string(s, method_name(t.method));
  s += ",\"locking_shift\":";
  json_string(s, language_name(t.locking_shift));
  s += ",\"single_shift\":";
  json_string(s, language_name(t.single_shift));
  s += ",\"smart_replaced\":";
  s += t.smart_replaced ? "true" : "false";
  s += ",\"forced_by\":";
  if (t.forced_by) {
    std::string ch;
    smpp::utf8_append(*t.forced_by, ch);
    s += "{\"character\":";
    json_string(s, ch);
    s += ",\"codepoint\":";
    json_string(s, codepoint(*t.forced_by));
    s += ",\"index\":" + std::to_string(t.forced_at) + "}";
  } else {
    s += "null";
  }
  s += ",\"parts\":[";
  for (std::size_t i = 0; i < t.parts.size(); ++i) {
    const auto& p = t.parts[i];
    if (i) s += ",";
    s += "{\"udh\":";
    json_string(s, hex(t.udh(p)));
    s += ",\"payload\":";
    json_string(s, hex(t.text(p)));
    s += ",\"units\":" + std::to_string(p.units);
    s += ",\"characters\":" + std::to_string(p.characters);
    s += ",\"fill_bits\":" + std::to_string(p.fill_bits) + "}";
  }
  s += "]}\n";
  return s;
}

int run_encode(const std::vector<std::string_view>& args, std::string_view input,
               std::string& out, std::string& err) {
  encode_command cmd;
  std::string error;
  if (!parse_encode_args(args, cmd, error)) {
    err = "smppctl encode: " + error + "\n";
    return 2;
  }
  // A trailing newline from `echo` or a file is not part of the message.
  if (!input.empty() && input.back() == '\n') input.remove_suffix(1);
  if (!input.empty() && input.back() == '\r') input.remove_suffix(1);
  smpp::encoded_text t;
  if (auto ec = smpp::encode_text(input, cmd.options, t)) {
    if (ec == smpp::text_errc::invalid_utf8) {
      err = "smppctl encode: invalid UTF-8 at byte " + std::to_string(t.error_position) + "\n";
    } else if (ec == smpp::text_errc::too_many_parts) {
      err = "smppctl encode: the text needs " + std::to_string(t.error_position) +
            " parts; at most 255 are possible\n";
    } else if (ec == smpp::text_errc::unencodable) {
      err = "smppctl encode: character " + std::to_string(t.error_position + 1) +
            " cannot be written in the forced encoding\n";
    } else {
      err = "smppctl encode: " + ec.message() + "\n";
    }
    return 2;
  }
  out = cmd.json ? render_json(t) : render_human(t);
  return 0;
}

}  // namespace smppd
