#include "storage/message_id.hpp"

#include <optional>

namespace storage {

namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\0'))
    s.remove_suffix(1);
  return s;
}

int digit_value(char c, unsigned base) noexcept {
  int v = -1;
  if (c >= '0' && c <= '9') v = c - '0';
  else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
  else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
  return v >= 0 && static_cast<unsigned>(v) < base ? v : -1;
}

// The id's value in `base`, if every character is a digit of it and the
// value fits 64 bits.
std::optional<std::uint64_t> value_in(std::string_view id, unsigned base) noexcept {
  if (id.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : id) {
    const int d = digit_value(c, base);
    if (d < 0) return std::nullopt;
    if (v > (UINT64_MAX - static_cast<unsigned>(d)) / base) return std::nullopt;
    v = v * base + static_cast<unsigned>(d);
  }
  return v;
}

std::string number_key(std::uint64_t v) {
  std::string k(9, '\0');
  k[0] = '#';
  for (int i = 0; i < 8; ++i) k[1 + i] = static_cast<char>(v >> (56 - 8 * i));
  return k;
}

std::string string_key(std::string_view id) {
  while (id.size() > 1 && id.front() == '0') id.remove_prefix(1);
  std::string k = "$";
  for (char c : id) k += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return k;
}

}  // namespace

std::string resp_id_key(std::string_view raw, id_format f) {
  const std::string_view id = trim(raw);
  if (id.empty()) return {};
  std::optional<std::uint64_t> v;
  switch (f) {
    case id_format::decimal: v = value_in(id, 10); break;
    case id_format::hex: v = value_in(id, 16); break;
    case id_format::automatic:
      v = value_in(id, 10);
      if (!v) v = value_in(id, 16);
      break;
    case id_format::string: break;
  }
  return v ? number_key(*v) : string_key(id);
}

receipt_keys receipt_id_keys(std::string_view raw, id_format f) {
  receipt_keys out;
  const std::string_view id = trim(raw);
  if (id.empty()) return out;
  auto add = [&](std::string k) {
    for (std::size_t i = 0; i < out.count; ++i)
      if (out.keys[i] == k) return;
    out.keys[out.count++] = std::move(k);
  };
  auto add_number = [&](std::optional<std::uint64_t> v) {
    if (v) add(number_key(*v));
  };
  switch (f) {
    case id_format::decimal: add_number(value_in(id, 10)); break;
    case id_format::hex: add_number(value_in(id, 16)); break;
    case id_format::automatic:
      add_number(value_in(id, 10));
      add_number(value_in(id, 16));
      break;
    case id_format::string: break;
  }
  // An id that is not a number in the expected form was indexed as a
  // string (resp_id_key falls back the same way).
  if (out.count == 0) add(string_key(id));
  return out;
}

}  // namespace storage
