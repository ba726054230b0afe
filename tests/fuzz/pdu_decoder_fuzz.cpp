// libFuzzer target for the PDU decoder: frames the input as a stream, and
// for every PDU that decodes, checks that re-encoding and decoding again
// gives the same value (the decoder accepts only what the encoder can say).
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "smpp/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> rest(data, size);
  std::vector<std::uint8_t> out(smpp::default_max_command_length);
  while (!rest.empty()) {
    const smpp::frame f = smpp::next_frame(rest, 4096);
    if (f.status != smpp::frame::state::complete) break;
    smpp::pdu p;
    const smpp::decode_result r = smpp::decode(rest.first(f.length), p);
    if (r) {
      const smpp::encode_result e = smpp::encode(p, out);
      if (!e) std::abort();  // decoded but cannot be encoded again
      if (smpp::encoded_size(p) != e.size) std::abort();
      smpp::pdu q;
      if (!smpp::decode(std::span<const std::uint8_t>(out.data(), e.size), q)) std::abort();
      // An error response is written without its body (SMPP 3.4 4.4.2),
      // so only its header survives the round trip.
      const bool body_dropped = e.size == smpp::header_size && f.length != smpp::header_size;
      if (body_dropped ? p.id() != q.id() || p.command_status != q.command_status
                       : !(p == q))
        std::abort();
    } else {
      (void)smpp::nack_command_for(r);
      (void)smpp::is_fatal(r);
    }
    rest = rest.subspan(f.length);
  }
  return 0;
}
