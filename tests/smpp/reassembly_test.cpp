// Tests of smpp/reassembly.hpp: parts of concatenated received messages, identified by a
// TS 23.040 9.2.3.24.1 / 9.2.3.24.8 concatenation UDH or by SAR TLVs, joined in order whatever
// order they arrive in; expiry of incomplete messages. Parts are written by hand as hex; the
// round trips feed what encode_text produced.
#include "smpp/reassembly.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "smpp/text.hpp"
#include "tests/support/hex.hpp"

namespace {

using smppd::test::from_hex;
using smppd::test::repeat;
using smppd::test::to_hex;

using namespace std::chrono_literals;



class reassembler : public ::testing::Test {
 protected:
  using clock = smpp::reassembler::clock;

  // Adds one part that must decode without error.
  std::optional<smpp::reassembled> add(std::string_view key, std::span<const std::uint8_t> sm,
                                       bool udhi, std::uint8_t data_coding,
                                       std::optional<smpp::sar_info> sar = {},
                                       clock::time_point now = t0,
                                       const smpp::decode_options& options = {}) {
    std::error_code ec;
    auto r = r_.add(key, sm, udhi, data_coding, options, sar, now, ec);
    EXPECT_FALSE(ec) << ec.message();
    return r;
  }

  // A part with a UDH, written as hex.
  std::optional<smpp::reassembled> add_udh(std::string_view key, std::string_view hex,
                                           std::uint8_t data_coding = 0x00,
                                           clock::time_point now = t0) {
    return add(key, from_hex(hex), true, data_coding, {}, now);
  }

  // Feeds every part of `e` in reverse order; returns what the last one completed.
  std::optional<smpp::reassembled> add_reversed(std::string_view key, const smpp::encoded_text& e,
                                                const smpp::decode_options& options = {}) {
    std::optional<smpp::reassembled> r;
    for (auto it = e.parts.rbegin(); it != e.parts.rend(); ++it) {
      EXPECT_FALSE(r.has_value()) << "completed before the last part";
      r = add(key, e.short_message(*it), true, e.data_coding, {}, t0, options);
    }
    return r;
  }

  static constexpr clock::time_point t0 = clock::time_point{} + 1h;
  static constexpr std::string_view key = "447700900123>4000";
  smpp::reassembler r_;
};

TEST_F(reassembler, completes_a_udh8_message_on_its_last_part_whatever_the_order) {
  // Reference 42, 3 parts: "Hel", "lo ", "123".
  EXPECT_FALSE(add_udh(key, "05 00 03 42 03 03 31 32 33"));
  EXPECT_EQ(r_.pending(), 1u);
  EXPECT_FALSE(add_udh(key, "05 00 03 42 03 01 48 65 6C"));
  const auto r = add_udh(key, "05 00 03 42 03 02 6C 6F 20");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->utf8, "Hello 123");
  EXPECT_EQ(r->key, key);
  EXPECT_EQ(r->total, 3);
  EXPECT_EQ(r->received, 3);
  EXPECT_TRUE(r->complete());
  EXPECT_EQ(r_.pending(), 0u);
}

TEST_F(reassembler, completes_a_udh16_message) {
  // Reference 1234, UCS-2 "Hi" in two parts.
  EXPECT_FALSE(add_udh(key, "06 08 04 12 34 02 02 00 69", 0x08));
  const auto r = add_udh(key, "06 08 04 12 34 02 01 00 48", 0x08);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->utf8, "Hi");
}

TEST_F(reassembler, joins_a_surrogate_pair_split_across_two_parts) {
  // "A" + U+1F600 (D83D DE00) + "B": the sender cut between the two surrogates.
  EXPECT_FALSE(add_udh(key, "05 00 03 07 02 01 00 41 D8 3D", 0x08));
  const auto r = add_udh(key, "05 00 03 07 02 02 DE 00 00 42", 0x08);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->utf8, "A\U0001F600B");
}

TEST_F(reassembler, joins_an_escape_sequence_split_across_two_parts) {
  // "10" + € (1B 65) + "!": part 1 ends on the escape, part 2 starts with 65.
  EXPECT_FALSE(add_udh(key, "05 00 03 09 02 02 65 21"));
  const auto r = add_udh(key, "05 00 03 09 02 01 31 30 1B");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->utf8, "10\u20AC!");
}

TEST_F(reassembler, reads_every_part_with_the_national_tables_of_its_udh) {
  // Reference 05, locking shift Turkish (25 01 01): 07 is ı and 0C is ğ in A.3.1.
  EXPECT_FALSE(add_udh(key, "08 00 03 05 02 01 25 01 01 07"));
  const auto r = add_udh(key, "08 00 03 05 02 02 25 01 01 0C");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->utf8, "\u0131\u011F");
}

TEST_F(reassembler, joins_parts_identified_by_sar_tlvs) {
  // No UDH: sar_msg_ref_num 1234, 2 segments, "Hello, " and "world".
  EXPECT_FALSE(add(key, from_hex("77 6F 72 6C 64"), false, 0x00, smpp::sar_info{0x1234, 2, 2}));
  const auto r =
      add(key, from_hex("48 65 6C 6C 6F 2C 20"), false, 0x00, smpp::sar_info{0x1234, 2, 1});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->utf8, "Hello, world");
  EXPECT_EQ(r->total, 2);
}

TEST_F(reassembler, refuses_sar_numbers_that_cannot_be) {
  const smpp::sar_info rows[] = {{0x1234, 2, 0}, {0x1234, 2, 3}, {0x1234, 0, 0}};
  for (const auto& sar : rows) {
    SCOPED_TRACE(static_cast<int>(sar.seqnum));
    std::error_code ec;
    const auto sm = from_hex("48 69");
    EXPECT_FALSE(r_.add(key, sm, false, 0x00, {}, sar, t0, ec));
    EXPECT_EQ(ec, smpp::text_errc::invalid_udh);
  }
  EXPECT_EQ(r_.pending(), 0u);
}

TEST_F(reassembler, stores_nothing_for_a_part_that_does_not_decode) {
  std::error_code ec;
  const auto bad_udh = from_hex("05 00 03 42 03");  // UDHL longer than the message
  EXPECT_FALSE(r_.add(key, bad_udh, true, 0x00, {}, {}, t0, ec));
  EXPECT_EQ(ec, smpp::text_errc::invalid_udh);
  const auto binary = from_hex("05 00 03 42 02 01 FF");
  EXPECT_FALSE(r_.add(key, binary, true, 0x04, {}, {}, t0, ec));
  EXPECT_EQ(ec, smpp::text_errc::unsupported_coding);
  EXPECT_EQ(r_.pending(), 0u);
}

TEST_F(reassembler, ignores_a_duplicate_part) {
  EXPECT_FALSE(add_udh(key, "05 00 03 11 02 01 61 62"));
  EXPECT_FALSE(add_udh(key, "05 00 03 11 02 01 61 62"));
  EXPECT_EQ(r_.pending(), 1u);
  const auto r = add_udh(key, "05 00 03 11 02 02 63");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->utf8, "abc");
  EXPECT_EQ(r->received, 2);
}

TEST_F(reassembler, ignores_a_late_duplicate_of_a_completed_message) {
  EXPECT_FALSE(add_udh(key, "05 00 03 11 02 01 61 62"));
  ASSERT_TRUE(add_udh(key, "05 00 03 11 02 02 63").has_value());
  EXPECT_FALSE(add_udh(key, "05 00 03 11 02 01 61 62", 0x00, t0 + 1s));
  EXPECT_TRUE(r_.expire(t0 + 1h, 60s).empty());
}

TEST_F(reassembler, keeps_messages_of_different_keys_apart_under_the_same_reference) {
  const std::string_view other = "447700900999>4000";
  EXPECT_FALSE(add_udh(key, "05 00 03 42 02 01 61 61"));
  EXPECT_FALSE(add_udh(other, "05 00 03 42 02 01 62 62"));
  EXPECT_EQ(r_.pending(), 2u);

  const auto first = add_udh(key, "05 00 03 42 02 02 61");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->key, key);
  EXPECT_EQ(first->utf8, "aaa");

  const auto second = add_udh(other, "05 00 03 42 02 02 62");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->key, other);
  EXPECT_EQ(second->utf8, "bbb");
  EXPECT_EQ(r_.pending(), 0u);
}

TEST_F(reassembler, expires_a_partial_message_only_after_max_wait) {
  EXPECT_FALSE(add_udh(key, "05 00 03 42 03 01 48 65 6C", 0x00, t0));
  EXPECT_FALSE(add_udh(key, "05 00 03 42 03 03 31 32 33", 0x00, t0 + 10s));

  EXPECT_TRUE(r_.expire(t0 + 59s, 60s).empty());
  EXPECT_EQ(r_.pending(), 1u);

  const auto out = r_.expire(t0 + 61s, 60s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].key, key);
  EXPECT_EQ(out[0].total, 3);
  EXPECT_EQ(out[0].received, 2);
  EXPECT_FALSE(out[0].complete());
  EXPECT_EQ(out[0].utf8, "Hel123");  // what arrived, in order
  EXPECT_EQ(r_.pending(), 0u);
}

TEST_F(reassembler, releases_the_oldest_partial_message_beyond_max_pending) {
  smpp::reassembler small(2);
  std::error_code ec;
  for (int i = 0; i < 3; ++i) {
    auto sm = from_hex("05 00 03 00 02 01 61");
    sm[3] = static_cast<std::uint8_t>(i);  // references 00, 01, 02
    EXPECT_FALSE(small.add(key, sm, true, 0x00, {}, {}, t0 + i * 1s, ec));
    EXPECT_FALSE(ec);
  }
  EXPECT_EQ(small.pending(), 3u);
  const auto out = small.expire(t0 + 3s, 1h);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].received, 1);
  EXPECT_EQ(small.pending(), 2u);
}

TEST_F(reassembler, returns_a_message_that_is_not_concatenated_at_once) {
  const auto plain = add(key, from_hex("48 69"), false, 0x00);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->utf8, "Hi");
  EXPECT_EQ(plain->total, 1);
  EXPECT_EQ(plain->received, 1);
  EXPECT_TRUE(plain->complete());

  // A UDH without a concatenation IE (port addressing 05 04 0B84 23F0) is one message too.
  const auto ported = add_udh(key, "06 05 04 0B 84 23 F0 48 69");
  ASSERT_TRUE(ported.has_value());
  EXPECT_EQ(ported->utf8, "Hi");
  EXPECT_EQ(r_.pending(), 0u);
}

TEST_F(reassembler, gives_back_encoded_texts_fed_in_reverse_order) {
  const struct {
    const char* name;
    std::string text;
    smpp::long_message_method method;
  } rows[] = {
      {"Cyrillic with an emoji, udh8", repeat("Съешь же ещё этих мягких булок 😀. ", 6),
       smpp::long_message_method::udh8},
      {"Cyrillic, udh16", repeat("Привет, мир! ", 12), smpp::long_message_method::udh16},
      {"GSM with extension characters, udh8",
       repeat("The quick brown fox pays 10\u20AC [promo] {ok} ~ | ^ \\ @ home. ", 8),
       smpp::long_message_method::udh8},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    smpp::encode_options o;
    o.long_messages = r.method;
    o.reference = 0x0142;
    smpp::encoded_text e;
    ASSERT_FALSE(smpp::encode_text(r.text, o, e));
    ASSERT_GE(e.parts.size(), 3u);
    const auto got = add_reversed(key, e);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->utf8, r.text);
    EXPECT_EQ(got->total, e.parts.size());
    EXPECT_TRUE(got->complete());
  }
  EXPECT_EQ(r_.pending(), 0u);
}

TEST_F(reassembler, gives_back_packed_gsm_text_fed_in_reverse_order) {
  smpp::encode_options o;
  o.packing = smpp::gsm7_packing::packed;
  smpp::decode_options packed;
  packed.packing = smpp::gsm7_packing::packed;
  const std::string text = repeat("Packed septets with 1 fill bit after the UDH. ", 8);
  smpp::encoded_text e;
  ASSERT_FALSE(smpp::encode_text(text, o, e));
  ASSERT_GE(e.parts.size(), 3u);
  const auto got = add_reversed(key, e, packed);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->utf8, text);
}

TEST_F(reassembler, keeps_an_at_sign_or_cr_where_a_full_packed_part_would_end) {
  // A full udh8 part is 1 fill bit + 153 septets = 1072 bits = 134 octets, an octet boundary
  // where a final 00 ('@') or 0D (CR) septet reads as padding when, as in SMPP, no septet count
  // comes with the part. Septet 153 is '@' or CR here; no character may go missing.
  smpp::encode_options o;
  o.packing = smpp::gsm7_packing::packed;
  smpp::decode_options packed;
  packed.packing = smpp::gsm7_packing::packed;
  for (const char* at : {"@", "\r"}) {
    SCOPED_TRACE(at[0] == '@' ? "at sign" : "carriage return");
    const std::string text = repeat("a", 152) + at + repeat("b", 20);
    smpp::encoded_text e;
    ASSERT_FALSE(smpp::encode_text(text, o, e));
    ASSERT_EQ(e.parts.size(), 2u);
    const auto got = add_reversed(key, e, packed);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->utf8, text);
  }
}

}  // namespace
