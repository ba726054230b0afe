// Encoding + segmentation throughput of 1,000-character texts (texts/s),
// and decoding of received parts.
// Run: build/bin/text_bench  (items_per_second = texts/s)
#include <benchmark/benchmark.h>

#include <string>

#include "smpp/text.hpp"

namespace {

std::string repeat_to(std::string_view unit, std::size_t characters) {
  std::u32string u;
  std::size_t err = 0;
  (void)smpp::utf8_decode(unit, u, err);
  std::string out;
  for (std::size_t i = 0; i < characters; ++i) smpp::utf8_append(u[i % u.size()], out);
  return out;
}

const std::string& cyrillic_1000() {
  static const std::string t =
      repeat_to("Ваш заказ №4821 доставлен в пункт выдачи. Код получения 5930. ", 1000);
  return t;
}

const std::string& latin_1000() {
  static const std::string t =
      repeat_to("Your order #4821 is ready for pickup at the store on Main St. Code 5930. ",
                1000);
  return t;
}

void encode_bench(benchmark::State& state, const std::string& text) {
  smpp::encode_options o;
  smpp::encoded_text out;
  std::size_t segments = 0;
  for (auto _ : state) {
    auto ec = smpp::encode_text(text, o, out);
    benchmark::DoNotOptimize(ec);
    segments = out.segments;
  }
  state.counters["segments"] = static_cast<double>(segments);
  state.SetItemsProcessed(state.iterations());
}

void bm_encode_cyrillic_1000(benchmark::State& state) { encode_bench(state, cyrillic_1000()); }
BENCHMARK(bm_encode_cyrillic_1000);

void bm_encode_latin_1000(benchmark::State& state) { encode_bench(state, latin_1000()); }
BENCHMARK(bm_encode_latin_1000);

void bm_decode_ucs2_part(benchmark::State& state) {
  smpp::encoded_text enc;
  (void)smpp::encode_text(cyrillic_1000(), {}, enc);
  const auto sm = enc.short_message(enc.parts[0]);
  smpp::decoded_text out;
  for (auto _ : state) {
    auto ec = smpp::decode_short_message(sm, true, enc.data_coding, {}, out);
    benchmark::DoNotOptimize(ec);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_decode_ucs2_part);

}  // namespace
