// submit_sm encode and decode throughput on one core, for a typical
// 160-character GSM-7 message with a delivery receipt requested.
// Run: build/bin/codec_bench  (items_per_second = PDUs/s)
#include <benchmark/benchmark.h>

#include <array>
#include <string>

#include "smpp/codec.hpp"

namespace {

const std::string& text_160() {
  static const std::string t = [] {
    std::string s = "Your appointment at Riverside Clinic is confirmed for Tue 14 May at 09:30. ";
    s += "Reply YES to confirm, NO to cancel. Call 0800 123 456 for help. Thanks!";
    s.resize(160, '.');
    return s;
  }();
  return t;
}

smpp::pdu typical_submit() {
  smpp::submit_sm s{};
  s.source_addr_ton = 5;
  s.source_addr = "ACME";
  s.dest_addr_ton = 1;
  s.dest_addr_npi = 1;
  s.destination_addr = "37060012345";
  s.registered_delivery = 1;
  s.short_message = text_160();
  return smpp::make_pdu(1, s);
}

void bm_submit_sm_encode(benchmark::State& state) {
  smpp::pdu p = typical_submit();
  std::array<std::uint8_t, 512> buf{};
  std::uint32_t seq = 1;
  for (auto _ : state) {
    p.sequence_number = seq++;
    auto r = smpp::encode(p, buf);
    benchmark::DoNotOptimize(r.size);
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_submit_sm_encode);

void bm_submit_sm_decode(benchmark::State& state) {
  std::array<std::uint8_t, 512> buf{};
  const auto r = smpp::encode(typical_submit(), buf);
  smpp::pdu out;
  for (auto _ : state) {
    auto d = smpp::decode({buf.data(), r.size}, out);
    benchmark::DoNotOptimize(d.ec);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_submit_sm_decode);

// Framing plus decoding of a stream of back-to-back PDUs, as a session
// read loop does.
void bm_stream_decode(benchmark::State& state) {
  std::vector<std::uint8_t> stream(64 * 512);
  std::size_t used = 0;
  for (int i = 0; i < 64; ++i) {
    auto p = typical_submit();
    p.sequence_number = static_cast<std::uint32_t>(i + 1);
    used += smpp::encode(p, std::span(stream).subspan(used)).size;
  }
  stream.resize(used);
  smpp::pdu out;
  for (auto _ : state) {
    std::span<const std::uint8_t> rest(stream);
    while (true) {
      const auto f = smpp::next_frame(rest);
      if (f.status != smpp::frame::state::complete) break;
      auto d = smpp::decode(rest.first(f.length), out);
      benchmark::DoNotOptimize(d.ec);
      rest = rest.subspan(f.length);
    }
  }
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(bm_stream_decode);

}  // namespace
