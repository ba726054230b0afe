#include "storage/record.hpp"

namespace storage {

namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "storage"; }
  std::string message(int ev) const override {
    switch (static_cast<storage_errc>(ev)) {
      case storage_errc::corrupt_record: return "corrupt message record";
      case storage_errc::unknown_version: return "message record of an unknown version";
      case storage_errc::io_error: return "message log I/O error";
      case storage_errc::not_found: return "no such message";
      case storage_errc::backlog_full: return "message log writer backlog full";
      case storage_errc::closed: return "message log closed";
    }
    return "unknown storage error";
  }
};

constexpr std::uint8_t format_version = 1;

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

class reader {
 public:
  explicit reader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}
  bool ok() const noexcept { return ok_; }
  bool at_end() const noexcept { return p_ == end_; }

  std::uint8_t byte() {
    if (p_ == end_) return fail(), 0;
    return static_cast<std::uint8_t>(*p_++);
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return fail(), 0;
      const auto b = static_cast<std::uint8_t>(*p_++);
      v |= std::uint64_t{b & 0x7Fu} << shift;
      if (!(b & 0x80)) return v;
    }
    return fail(), 0;
  }
  std::string string() {
    const std::uint64_t n = varint();
    if (!ok_ || n > static_cast<std::uint64_t>(end_ - p_)) return fail(), std::string();
    std::string s(p_, static_cast<std::size_t>(n));
    p_ += n;
    return s;
  }

 private:
  void fail() noexcept { ok_ = false; }
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

state to_state(std::uint8_t b, bool& ok) {
  if (b >= state_count) ok = false;
  return static_cast<state>(b);
}

}  // namespace

const std::error_category& storage_category() noexcept {
  static const category c;
  return c;
}

void encode_record(const message_record& r, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(format_version));
  put_varint(out, r.id);
  out.push_back(static_cast<char>(r.origin));
  put_string(out, r.campaign);
  put_varint(out, r.row);
  put_string(out, r.idempotency_key);
  put_string(out, r.recipient);
  put_string(out, r.sender);
  put_string(out, r.text);
  put_varint(out, static_cast<std::uint64_t>(r.queued_us));
  put_varint(out, static_cast<std::uint64_t>(r.valid_until_us));
  out.push_back(static_cast<char>(r.st));
  put_varint(out, r.parts.size());
  for (const part_record& p : r.parts) {
    out.push_back(static_cast<char>(p.st));
    put_varint(out, p.attempts);
    put_string(out, p.smsc);
    put_string(out, p.smsc_message_id);
    put_varint(out, static_cast<std::uint64_t>(p.submitted_us));
    put_varint(out, static_cast<std::uint64_t>(p.resp_us));
    put_varint(out, static_cast<std::uint64_t>(p.receipt_us));
    put_varint(out, p.command_status);
    put_varint(out, p.error_code);
  }
}

std::error_code decode_record(std::string_view in, message_record& r) {
  reader rd(in);
  const std::uint8_t version = rd.byte();
  if (!rd.ok()) return storage_errc::corrupt_record;
  if (version != format_version) return storage_errc::unknown_version;
  bool ok = true;
  r.id = rd.varint();
  const std::uint8_t o = rd.byte();
  if (o > 1) ok = false;
  r.origin = static_cast<origin>(o);
  r.campaign = rd.string();
  r.row = rd.varint();
  r.idempotency_key = rd.string();
  r.recipient = rd.string();
  r.sender = rd.string();
  r.text = rd.string();
  r.queued_us = static_cast<std::int64_t>(rd.varint());
  r.valid_until_us = static_cast<std::int64_t>(rd.varint());
  r.st = to_state(rd.byte(), ok);
  const std::uint64_t n = rd.varint();
  if (!rd.ok() || n > 255) return storage_errc::corrupt_record;
  r.parts.assign(static_cast<std::size_t>(n), part_record{});
  for (part_record& p : r.parts) {
    p.st = to_state(rd.byte(), ok);
    p.attempts = static_cast<std::uint32_t>(rd.varint());
    p.smsc = rd.string();
    p.smsc_message_id = rd.string();
    p.submitted_us = static_cast<std::int64_t>(rd.varint());
    p.resp_us = static_cast<std::int64_t>(rd.varint());
    p.receipt_us = static_cast<std::int64_t>(rd.varint());
    p.command_status = static_cast<std::uint32_t>(rd.varint());
    p.error_code = static_cast<std::uint32_t>(rd.varint());
  }
  if (!rd.ok() || !ok || !rd.at_end()) return storage_errc::corrupt_record;
  return {};
}

}  // namespace storage
