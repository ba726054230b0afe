#include "logging/logger.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <ctime>
#include <mutex>

namespace logging {

namespace {

constexpr std::array<std::string_view, 4> level_table{"error", "warn", "info", "debug"};
constexpr std::array<std::string_view, component_count> component_table{
    "main", "config", "smsc", "dispatch", "campaign", "api", "storage", "metrics", "replies"};

// The effective level of each component, and what it was made from.
constexpr auto info_level = static_cast<std::uint8_t>(level::info);
std::array<std::atomic<std::uint8_t>, component_count> effective{info_level, info_level, info_level, info_level,
                                                                  info_level, info_level, info_level, info_level};
std::mutex levels_mutex;
levels configured;

std::atomic<int> output_fd{STDERR_FILENO};
std::mutex write_mutex;

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v)
    if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f) return true;
  return false;
}

void append_timestamp(std::string& out, std::chrono::system_clock::time_point at) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                              static_cast<int>(ms - static_cast<long long>(secs) * 1000));
  out.append(buf, static_cast<std::size_t>(n));
}

template <class Number>
void append_number(std::string& out, Number v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? static_cast<std::size_t>(end - buf) : 0);
}

}  // namespace

std::string_view name(level l) noexcept { return level_table[static_cast<std::size_t>(l)]; }
std::string_view name(component c) noexcept { return component_table[static_cast<std::size_t>(c)]; }

std::optional<level> parse_level(std::string_view s) noexcept {
  for (std::size_t i = 0; i < level_table.size(); ++i)
    if (level_table[i] == s) return static_cast<level>(i);
  return std::nullopt;
}

std::optional<component> parse_component(std::string_view s) noexcept {
  for (std::size_t i = 0; i < component_table.size(); ++i)
    if (component_table[i] == s) return static_cast<component>(i);
  return std::nullopt;
}

std::string_view level_names() noexcept { return "error, warn, info, debug"; }
std::string_view component_names() noexcept {
  return "main, config, smsc, dispatch, campaign, api, storage, metrics, replies";
}

void set_levels(const levels& l) noexcept {
  std::lock_guard lock(levels_mutex);
  configured = l;
  for (std::size_t i = 0; i < component_count; ++i)
    effective[i].store(static_cast<std::uint8_t>(l.by_component[i].value_or(l.base)), std::memory_order_relaxed);
}

levels current_levels() noexcept {
  std::lock_guard lock(levels_mutex);
  return configured;
}

bool enabled(component c, level l) noexcept {
  return static_cast<std::uint8_t>(l) <= effective[static_cast<std::size_t>(c)].load(std::memory_order_relaxed);
}

void append_quoted(std::string& out, std::string_view v) {
  bool cut = false;
  if (v.size() > max_value_size) {
    // Cut on a character boundary: never inside a UTF-8 sequence.
    std::size_t n = max_value_size;
    while (n > 0 && (static_cast<unsigned char>(v[n]) & 0xC0) == 0x80) --n;
    v = v.substr(0, n);
    cut = true;
  }
  if (!cut && !needs_quotes(v)) {
    out += v;
    return;
  }
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
  if (cut) out += "...";
  out += '"';
}

void field::append_value(std::string& out) const {
  switch (kind_) {
    case kind::text: append_quoted(out, text_); return;
    case kind::signed_int: append_number(out, i_); return;
    case kind::unsigned_int: append_number(out, u_); return;
    case kind::real:
      if (std::isfinite(d_)) append_number(out, d_);
      else out += std::isnan(d_) ? "NaN" : d_ > 0 ? "+Inf" : "-Inf";
      return;
    case kind::boolean: out += u_ ? "true" : "false"; return;
    case kind::error_code: append_quoted(out, ec_.message()); return;
  }
}

std::string format(component c, level l, std::string_view msg, fields f, std::chrono::system_clock::time_point at) {
  std::string out;
  out.reserve(128 + msg.size());
  out += "ts=";
  append_timestamp(out, at);
  out += " level=";
  out += name(l);
  out += " component=";
  out += name(c);
  for (const auto& x : f) {
    out += ' ';
    out += x.key();
    out += '=';
    x.append_value(out);
  }
  out += " msg=";
  // Always quoted: a reader finds the message the same way every time.
  const std::size_t at_quote = out.size();
  append_quoted(out, msg);
  if (out.size() == at_quote || out[at_quote] != '"') {
    out.insert(at_quote, 1, '"');
    out += '"';
  }
  out += '\n';
  return out;
}

void set_output(int fd) noexcept { output_fd.store(fd, std::memory_order_relaxed); }

void write(component c, level l, std::string_view msg, fields f) {
  if (!enabled(c, l)) return;
  const std::string line = format(c, l, msg, f, std::chrono::system_clock::now());
  std::lock_guard lock(write_mutex);
  const int fd = output_fd.load(std::memory_order_relaxed);
  for (std::size_t done = 0; done < line.size();) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to log to: the daemon goes on
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace logging
