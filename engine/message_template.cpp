#include "engine/message_template.hpp"

#include <algorithm>

namespace engine {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}
}  // namespace

std::optional<message_template> message_template::compile(std::string_view text, std::string& error) {
  message_template t;
  std::size_t i = 0;
  for (;;) {
    const std::size_t open = text.find("{{", i);
    piece p;
    if (open == std::string_view::npos) {
      p.literal = std::string(text.substr(i));
      if (!p.literal.empty()) t.pieces_.push_back(std::move(p));
      return t;
    }
    const std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      error = "unterminated {{ at character " + std::to_string(open + 1);
      return std::nullopt;
    }
    p.literal = std::string(text.substr(i, open - i));
    std::string_view inner = text.substr(open + 2, close - open - 2);
    const std::size_t bar = inner.find('|');
    p.field = std::string(trim(inner.substr(0, bar)));
    if (bar != std::string_view::npos) p.fallback = std::string(inner.substr(bar + 1));
    if (p.field.empty() || p.field.find_first_of("{} ") != std::string::npos) {
      error = "invalid field name in {{" + std::string(inner) + "}} at character " + std::to_string(open + 1);
      return std::nullopt;
    }
    t.pieces_.push_back(std::move(p));
    i = close + 2;
  }
}

std::vector<std::string> message_template::fields() const {
  std::vector<std::string> out;
  for (auto& p : pieces_)
    if (!p.field.empty() && std::find(out.begin(), out.end(), p.field) == out.end()) out.push_back(p.field);
  return out;
}

bool message_template::bind(std::span<const std::string> header, std::string& error) {
  for (auto& p : pieces_) {
    if (p.field.empty()) continue;
    auto it = std::find(header.begin(), header.end(), p.field);
    if (it == header.end()) {
      error = "the template uses {{" + p.field + "}} but no column is named \"" + p.field + "\"";
      return false;
    }
    p.column = static_cast<std::size_t>(it - header.begin());
  }
  return true;
}

bool message_template::render(std::span<const std::string> row, std::string& out, std::string& problem) const {
  out.clear();
  for (auto& p : pieces_) {
    out += p.literal;
    if (p.field.empty()) continue;
    std::string_view v = p.column < row.size() ? std::string_view(row[p.column]) : std::string_view();
    if (trim(v).empty()) {
      if (!p.fallback) {
        problem = "no value for template field \"" + p.field + "\"";
        return false;
      }
      v = *p.fallback;
    }
    out += v;
  }
  return true;
}

}  // namespace engine
