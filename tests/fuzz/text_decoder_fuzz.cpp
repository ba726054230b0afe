// libFuzzer target for received-text decoding and reassembly. The first
// octets choose data_coding and options; the rest is the short message.
// Also feeds the bytes as UTF-8 to the encoder and checks that whatever it
// encodes decodes back to the same text.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "smpp/reassembly.hpp"
#include "smpp/text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t data_coding = data[0];
  const std::uint8_t flags = data[1];
  const std::span<const std::uint8_t> sm(data + 2, size - 2);
  smpp::decode_options o;
  o.packing = (flags & 1) ? smpp::gsm7_packing::packed : smpp::gsm7_packing::unpacked;
  o.dc0 = static_cast<smpp::dc0_charset>((flags >> 1) % 3);
  const bool udhi = flags & 8;

  smpp::decoded_text out;
  (void)smpp::decode_short_message(sm, udhi, data_coding, o, out);
  std::optional<std::size_t> septets;
  if (flags & 16) septets = flags;
  (void)smpp::decode_short_message(sm, udhi, data_coding, o, out, septets);

  smpp::reassembler r(4);
  std::error_code ec;
  const auto now = smpp::reassembler::clock::now();
  (void)r.add("k", sm, udhi, data_coding, o, std::nullopt, now, ec);
  (void)r.expire(now + std::chrono::hours(1), std::chrono::minutes(1));

  // Encoder: any valid UTF-8 must encode and decode back unchanged.
  const std::string_view text(reinterpret_cast<const char*>(sm.data()), sm.size());
  smpp::encode_options eo;
  eo.smart_encoding = false;
  eo.national_languages = (flags & 32) ? smpp::language_bit(smpp::national_language::turkish) |
                                             smpp::language_bit(smpp::national_language::spanish) |
                                             smpp::language_bit(smpp::national_language::portuguese)
                                       : 0;
  eo.packing = o.packing;
  smpp::encoded_text enc;
  if (smpp::encode_text(text, eo, enc)) return 0;  // invalid UTF-8 or too long: fine
  smpp::reassembler joiner(300);
  std::string joined;
  for (const auto& part : enc.parts) {
    std::error_code pec;
    auto done = joiner.add("x", enc.short_message(part), part.udh_size != 0, enc.data_coding,
                           smpp::decode_options{smpp::dc0_charset::gsm7, eo.packing},
                           std::nullopt, now, pec);
    if (pec) std::abort();
    if (done) joined = done->utf8;
  }
  // Packed text whose last septet is a real CR or '@' at a septet boundary
  // is ambiguous without the septet count (TS 23.038 6.1.2.3.1); skip it.
  const bool ambiguous = eo.packing == smpp::gsm7_packing::packed && !text.empty() &&
                         (text.back() == '\r' || text.back() == '@');
  if (!ambiguous && joined != text) std::abort();
  return 0;
}
