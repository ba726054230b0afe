// Octet-level codec primitives shared by the stored formats of storage/
// (records, statistics, cursors, parked receipts): LEB128 varints,
// length-prefixed strings, fixed 8-octet big-endian integers (which sort
// as numbers, for keys). Inside storage/ only. Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace storage::detail {

// Each value is built in a local buffer and appended at once: records are
// encoded on the log writer's thread, several times over a message's life,
// and a push_back per octet showed in its profile.
inline void put_varint(std::string& out, std::uint64_t v) {
  char buf[10];
  std::size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}

inline void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

inline void put_u64_be(std::string& out, std::uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (56 - 8 * i));
  out.append(buf, 8);
}

// Precondition: s.size() >= 8.
inline std::uint64_t read_u64_be(std::string_view s) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(s[i]);
  return v;
}

// Reads a stored form front to back; the first field that runs past the
// end turns ok() false, and every later read returns zero or empty.
class varint_reader {
 public:
  explicit varint_reader(std::string_view in) noexcept
      : p_(in.data()), end_(in.data() + in.size()) {}
  bool ok() const noexcept { return ok_; }
  bool at_end() const noexcept { return p_ == end_; }
  std::string_view rest() const noexcept {
    return {p_, static_cast<std::size_t>(end_ - p_)};
  }

  std::uint8_t byte() noexcept {
    if (!ok_ || p_ == end_) return fail(), 0;
    return static_cast<std::uint8_t>(*p_++);
  }
  std::uint64_t varint() noexcept {
    if (!ok_) return 0;
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return fail(), 0;
      const auto b = static_cast<std::uint8_t>(*p_++);
      v |= std::uint64_t{b & 0x7Fu} << shift;
      if (!(b & 0x80)) return v;
    }
    return fail(), 0;
  }
  // A view into the input (lives as long as it).
  std::string_view view() noexcept {
    const std::uint64_t n = varint();
    if (!ok_ || n > static_cast<std::uint64_t>(end_ - p_)) return fail(), std::string_view();
    std::string_view s(p_, static_cast<std::size_t>(n));
    p_ += n;
    return s;
  }
  std::string string() { return std::string(view()); }

 private:
  void fail() noexcept { ok_ = false; }
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

}  // namespace storage::detail
