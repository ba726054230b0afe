// libFuzzer target for delivery receipt parsing: the input as receipt text,
// as the short_message of a deliver_sm with UDHI set, and as the body of a
// deliver_sm and of a data_sm that are decoded and then parsed. Checks that
// a parse succeeds exactly when it found an id and that every view it
// returns lies inside the buffer it parsed.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <system_error>
#include <vector>

#include "smpp/codec.hpp"
#include "smpp/receipt.hpp"

namespace {

bool inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void check(const smpp::delivery_receipt& r, std::error_code ec, std::string_view buffer) {
  if (!ec != !r.message_id.empty()) std::abort();
  if (!inside(r.message_id, buffer) || !inside(r.stat, buffer) || !inside(r.err, buffer) ||
      !inside(r.text, buffer))
    std::abort();
  if (r.state && smpp::name(*r.state).empty()) std::abort();
}

void put_u32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

void parse_as_body(const std::uint8_t* data, std::size_t size, smpp::command_id id) {
  std::vector<std::uint8_t> bytes(smpp::header_size + size);
  put_u32(bytes.data(), static_cast<std::uint32_t>(bytes.size()));
  put_u32(bytes.data() + 4, static_cast<std::uint32_t>(id));
  put_u32(bytes.data() + 8, 0);
  put_u32(bytes.data() + 12, 1);
  if (size != 0) std::memcpy(bytes.data() + smpp::header_size, data, size);
  smpp::pdu p;
  if (!smpp::decode(bytes, p)) return;
  const std::string_view buffer(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  smpp::delivery_receipt r;
  if (const auto* d = p.get<smpp::deliver_sm>()) check(r, smpp::parse_receipt(*d, r), buffer);
  if (const auto* d = p.get<smpp::data_sm>()) check(r, smpp::parse_receipt(*d, r), buffer);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  smpp::delivery_receipt r;
  check(r, smpp::parse_receipt_text(text, r), text);

  smpp::sm_body body;
  body.esm_class = 0x44;  // SMSC delivery receipt with a UDH in front
  body.short_message = text;
  check(r, smpp::parse_receipt(body, r), text);

  parse_as_body(data, size, smpp::command_id::deliver_sm);
  parse_as_body(data, size, smpp::command_id::data_sm);
  return 0;
}
