#include "storage/record.hpp"

#include "storage/detail/varint.hpp"

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
      case storage_errc::duplicate_key: return "idempotency key already used";
      case storage_errc::invalid_argument: return "invalid message log event";
    }
    return "unknown storage error";
  }
};

constexpr std::uint8_t format_version = 4;

using detail::put_string;
using detail::put_varint;
using reader = detail::varint_reader;

state to_state(std::uint8_t b, bool& ok) {
  if (b >= state_count) ok = false;
  return static_cast<state>(b);
}

}  // namespace

std::string_view name(cause c) noexcept {
  switch (c) {
    case cause::engine: return "engine";
    case cause::receipt: return "receipt";
    case cause::receipt_fallback: return "receipt_fallback";
    case cause::parked_receipt: return "parked_receipt";
    case cause::recovery: return "recovery";
    case cause::send_window: return "outside_send_window";
    case cause::validity: return "validity_ended";
    case cause::duplicate: return "duplicate";
    case cause::opted_out: return "opted_out";
    case cause::no_consent: return "no_consent";
  }
  return "invalid";
}

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
  put_string(out, r.window_zone);
  put_varint(out, r.window_start);
  put_varint(out, r.window_end);
  put_varint(out, static_cast<std::uint64_t>(r.deliver_by_us));
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
    out.push_back(static_cast<char>(p.resp_format));
    put_varint(out, p.text_offset);
    out.push_back(static_cast<char>(p.settled_by));
  }
}

std::error_code decode_record(std::string_view in, message_record& r) {
  reader rd(in);
  const std::uint8_t version = rd.byte();
  if (!rd.ok()) return storage_errc::corrupt_record;
  if (version < 1 || version > format_version) return storage_errc::unknown_version;
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
  r.window_zone.clear();
  r.window_start = r.window_end = 0;
  if (version >= 3) {
    r.window_zone = rd.string();
    const std::uint64_t start = rd.varint(), end = rd.varint();
    if (start >= 24 * 60 || end >= 24 * 60) ok = false;
    r.window_start = static_cast<std::uint16_t>(start);
    r.window_end = static_cast<std::uint16_t>(end);
  }
  r.deliver_by_us = version >= 4 ? static_cast<std::int64_t>(rd.varint()) : 0;
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
    if (version >= 2) {
      const std::uint8_t f = rd.byte();
      if (f > static_cast<std::uint8_t>(id_format::string)) ok = false;
      p.resp_format = static_cast<id_format>(f);
      p.text_offset = static_cast<std::uint32_t>(rd.varint());
      const std::uint8_t c = rd.byte();
      if (c >= cause_count) ok = false;
      p.settled_by = static_cast<cause>(c);
    }
  }
  if (!rd.ok() || !ok || !rd.at_end()) return storage_errc::corrupt_record;
  return {};
}

}  // namespace storage
