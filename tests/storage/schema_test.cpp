// The stored forms of detail/schema.hpp: keys that sort as they must, and
// values that round-trip and refuse every truncation.
#include "storage/detail/schema.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace storage;
using namespace storage::detail;

TEST(schema, keys_every_form_of_a_number_alike) {
  struct row {
    const char* address;
    const char* key;
  };
  const std::vector<row> rows = {
      {"+37060012345", "37060012345"},
      {"0037060012345", "37060012345"},
      {"37060012345", "37060012345"},
      {"+370 600 12345", "37060012345"},
      {"060012345", "060012345"},  // a national form stays as it is
      {"ACME", ""},
  };
  for (const row& r : rows) EXPECT_EQ(address_key(r.address), r.key) << r.address;
}

TEST(schema, sorts_recipient_keys_by_number_then_time) {
  const std::string a = recipient_key("3706", 5, 1);
  const std::string b = recipient_key("3706", 6, 0);
  const std::string c = recipient_key("37060", 1, 0);  // a longer number sorts after all of 3706's
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(a.substr(0, recipient_prefix("3706").size()), recipient_prefix("3706"));
}

TEST(schema, reads_back_a_part_value_and_refuses_a_short_one) {
  std::uint64_t id = 0;
  std::uint16_t part = 0;
  ASSERT_TRUE(read_part_value(part_value(0x0102030405060708, 0x0A0B), id, part));
  EXPECT_EQ(id, 0x0102030405060708u);
  EXPECT_EQ(part, 0x0A0B);
  EXPECT_FALSE(read_part_value("123456789", id, part));
}

TEST(schema, indexes_a_part_under_the_key_its_resp_format_gives) {
  part_record p;
  p.smsc = "opa";
  EXPECT_EQ(part_smsc_key(p), "");
  p.smsc_message_id = "499602D2";
  p.resp_format = id_format::hex;
  EXPECT_EQ(part_smsc_key(p), smsc_index_key("opa", resp_id_key("1234567890", id_format::decimal)));
}

template <class T, class Encode, class Decode>
void round_trip_and_truncate(const T& value, Encode encode, Decode decode) {
  std::string bytes;
  encode(value, bytes);
  T back{};
  ASSERT_TRUE(decode(bytes, back));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    T partial{};
    EXPECT_FALSE(decode(std::string_view(bytes).substr(0, n), partial)) << "cut at " << n;
  }
  T extra{};
  EXPECT_FALSE(decode(bytes + "x", extra));
}

TEST(schema, round_trips_statistics) {
  stats s;
  s.counts[static_cast<std::size_t>(state::delivered)] = 9120;
  s.counts[static_cast<std::size_t>(state::queued)] = -1;  // tolerated, never expected
  s.removed = 77;
  s.orphans_expired = 3;
  s.in_doubt = 2;
  s.submit_to_resp.add(std::chrono::milliseconds(40));
  s.submit_to_receipt.add(std::chrono::seconds(5));
  round_trip_and_truncate(s, encode_stats, decode_stats);
  std::string bytes;
  encode_stats(s, bytes);
  stats back;
  ASSERT_TRUE(decode_stats(bytes, back));
  EXPECT_EQ(back.counts, s.counts);
  EXPECT_EQ(back.removed, 77u);
  EXPECT_EQ(back.in_doubt, 2);
  EXPECT_EQ(back.submit_to_receipt, s.submit_to_receipt);
}

TEST(schema, round_trips_suppressions_by_cause_and_still_reads_version_1) {
  stats s;
  s.counts[static_cast<std::size_t>(state::suppressed)] = 5;
  s.suppressed_by[static_cast<std::size_t>(cause::send_window)] = 3;
  s.suppressed_by[static_cast<std::size_t>(cause::duplicate)] = 2;
  round_trip_and_truncate(s, encode_stats, decode_stats);
  std::string bytes;
  encode_stats(s, bytes);
  stats back;
  ASSERT_TRUE(decode_stats(bytes, back));
  EXPECT_EQ(back.suppressed_by, s.suppressed_by);
  // Version 1 (written before causes were counted) ends after the
  // histograms: here the count and one octet per cause.
  std::string v1 = bytes.substr(0, bytes.size() - 1 - cause_count);
  v1[0] = 1;
  stats old;
  ASSERT_TRUE(decode_stats(v1, old));
  EXPECT_EQ(old.counts, s.counts);
  EXPECT_EQ(old.suppressed_by, (std::array<std::uint64_t, cause_count>{}));
}

TEST(schema, round_trips_a_cursor) {
  cursor_value c{1200, {1202, 1203, 1500}};
  round_trip_and_truncate(c, encode_cursor, decode_cursor);
  std::string bytes;
  encode_cursor(c, bytes);
  cursor_value back;
  ASSERT_TRUE(decode_cursor(bytes, back));
  EXPECT_EQ(back.row, 1200u);
  EXPECT_EQ(back.above, c.above);
}

TEST(schema, round_trips_a_parked_receipt) {
  parked_receipt p;
  p.smsc = "opa";
  p.receipt_id = "77aa12";
  p.receipt_format = id_format::hex;
  p.st = state::undeliverable;
  p.error_code = 0x0B;
  p.done_us = 1'700'000'000'000'000;
  p.submit_us = 1'699'999'990'000'000;
  p.parked_us = 1'700'000'000'500'000;
  p.destination = "37060012345";
  p.text_prefix = "Your parcel";
  round_trip_and_truncate(p, encode_parked, decode_parked);
  std::string bytes;
  encode_parked(p, bytes);
  parked_receipt back;
  ASSERT_TRUE(decode_parked(bytes, back));
  EXPECT_EQ(back.receipt_id, p.receipt_id);
  EXPECT_EQ(back.st, p.st);
  EXPECT_EQ(back.parked_us, p.parked_us);
  EXPECT_EQ(back.text_prefix, p.text_prefix);
}

}  // namespace
