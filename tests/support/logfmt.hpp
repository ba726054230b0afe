// Reading smppd's log lines in tests: a strict logfmt parser (key=value
// pairs separated by one space; values bare or quoted with \" \\ \n \r \t
// and \u00XX escapes) and the port of a "... listening" line.
// Header-only; tests only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace smppd::test {

using logfmt_line = std::map<std::string, std::string>;

// The pairs of one line, or nullopt when it is not logfmt (or a key repeats).
inline std::optional<logfmt_line> parse_logfmt(std::string_view s) {
  logfmt_line out;
  std::size_t i = 0;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  while (i < s.size()) {
    const std::size_t eq = s.find('=', i);
    if (eq == std::string_view::npos || eq == i) return std::nullopt;
    const std::string key(s.substr(i, eq - i));
    for (char c : key)
      if (c <= ' ' || c == '"') return std::nullopt;
    i = eq + 1;
    std::string value;
    if (i < s.size() && s[i] == '"') {
      ++i;
      for (;;) {
        if (i >= s.size()) return std::nullopt;  // unterminated
        const char c = s[i++];
        if (c == '"') break;
        if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;  // raw control character
        if (c != '\\') {
          value += c;
          continue;
        }
        if (i >= s.size()) return std::nullopt;
        const char e = s[i++];
        switch (e) {
          case '"': value += '"'; break;
          case '\\': value += '\\'; break;
          case 'n': value += '\n'; break;
          case 'r': value += '\r'; break;
          case 't': value += '\t'; break;
          case 'u': {
            if (i + 4 > s.size() || s[i] != '0' || s[i + 1] != '0') return std::nullopt;
            const int hi = hex(s[i + 2]), lo = hex(s[i + 3]);
            if (hi < 0 || lo < 0) return std::nullopt;
            value += static_cast<char>(hi * 16 + lo);
            i += 4;
            break;
          }
          default: return std::nullopt;
        }
      }
    } else {
      const std::size_t end = std::min(s.find(' ', i), s.size());
      value = std::string(s.substr(i, end - i));
      if (value.empty() || value.find_first_of("\"=\\") != std::string::npos) return std::nullopt;
      i = end;
    }
    if (!out.emplace(key, std::move(value)).second) return std::nullopt;
    if (i < s.size()) {
      if (s[i] != ' ') return std::nullopt;
      ++i;
      if (i == s.size()) return std::nullopt;  // trailing space
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// The port of smppd's "<what> listening" line (listen=HOST:PORT), 0 when
// `line` is not that line.
inline std::uint16_t listening_port(std::string_view line, std::string_view what) {
  auto f = parse_logfmt(line);
  if (!f || (*f)["msg"] != std::string(what) + " listening") return 0;
  const std::string& listen = (*f)["listen"];
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return 0;
  return static_cast<std::uint16_t>(std::stoul(listen.substr(colon + 1)));
}

// Reads a process's lines (each added to `seen`) for up to 10 s until
// smppd's "<what> listening" line; that port, 0 when it did not come.
template <class Process>
std::uint16_t wait_listening_port(Process& p, std::string_view what, std::string& seen) {
  for (int i = 0; i < 100; ++i) {
    auto line = p.read_line(std::chrono::milliseconds(100));
    if (!line) continue;
    seen += *line + "\n";
    if (auto port = listening_port(*line, what)) return port;
  }
  return 0;
}

}  // namespace smppd::test
