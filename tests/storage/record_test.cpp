#include "storage/record.hpp"

#include <gtest/gtest.h>

namespace {

using namespace storage;

message_record sample() {
  message_record r;
  r.id = 4821;
  r.origin = origin::campaign;
  r.campaign = "spring-sale";
  r.row = 17;
  r.recipient = "+37060012345";
  r.sender = "ACME";
  r.text = "Labas, Ona! Pavasario išpardavimas.";
  r.queued_us = 1'700'000'000'000'000;
  r.valid_until_us = 1'700'086'400'000'000;
  r.window_zone = "Europe/Vilnius";
  r.window_start = 9 * 60;
  r.window_end = 20 * 60 + 30;
  r.deliver_by_us = 1'700'000'300'000'000;
  r.st = state::accepted;
  part_record p;
  p.st = state::accepted;
  p.attempts = 2;
  p.smsc = "opa-1";
  p.smsc_message_id = "499602D2";
  p.submitted_us = 1'700'000'000'100'000;
  p.resp_us = 1'700'000'000'120'000;
  p.command_status = 0;
  r.parts = {p, p};
  r.parts[1].st = state::delivered;
  r.parts[1].error_code = 0x123;
  r.parts[1].resp_format = id_format::hex;
  r.parts[1].text_offset = 153;
  r.parts[1].settled_by = cause::receipt_fallback;
  return r;
}

TEST(record, round_trips_every_field) {
  const message_record r = sample();
  std::string bytes;
  encode_record(r, bytes);
  message_record back;
  ASSERT_FALSE(decode_record(bytes, back));
  EXPECT_EQ(back, r);
}

TEST(record, refuses_every_truncation_and_trailing_garbage) {
  std::string bytes;
  encode_record(sample(), bytes);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    SCOPED_TRACE(n);
    message_record back;
    EXPECT_EQ(decode_record(std::string_view(bytes).substr(0, n), back),
              make_error_code(storage_errc::corrupt_record));
  }
  message_record back;
  EXPECT_EQ(decode_record(bytes + "x", back), make_error_code(storage_errc::corrupt_record));
}

TEST(record, refuses_an_unknown_version_and_an_invalid_state) {
  std::string bytes;
  encode_record(sample(), bytes);
  message_record back;
  std::string newer = bytes;
  newer[0] = 5;
  EXPECT_EQ(decode_record(newer, back), make_error_code(storage_errc::unknown_version));
  // The message state octet follows valid_until_us; find it by re-encoding
  // with a marker state and corrupting that octet.
  message_record m = sample();
  m.parts.clear();
  m.st = state::cancelled;
  encode_record(m, bytes);
  ASSERT_EQ(static_cast<std::uint8_t>(bytes[bytes.size() - 2]), 12);  // state, then part_count 0
  bytes[bytes.size() - 2] = 99;
  EXPECT_EQ(decode_record(bytes, back), make_error_code(storage_errc::corrupt_record));
}

TEST(record, reads_version_1_written_before_the_part_fields_were_added) {
  // Version 1 by hand: id 5, api, no campaign, row 0, no idempotency key,
  // recipient "+1", no sender, text "hi", queued 0, valid 0, queued state,
  // one part: delivered, 1 attempt, smsc "s", id "7", submitted 1, resp 2,
  // receipt 3, status 0, error 0.
  const std::string v1 = {1, 5, 0, 0, 0, 0, 2, '+', '1', 0, 2, 'h', 'i', 0, 0, 0, 1,
                          4, 1, 1, 's', 1, '7', 1, 2, 3, 0, 0};
  message_record r;
  ASSERT_FALSE(decode_record(v1, r));
  EXPECT_EQ(r.id, 5u);
  EXPECT_EQ(r.recipient, "+1");
  EXPECT_EQ(r.text, "hi");
  ASSERT_EQ(r.parts.size(), 1u);
  EXPECT_EQ(r.parts[0].st, state::delivered);
  EXPECT_EQ(r.parts[0].smsc, "s");
  EXPECT_EQ(r.parts[0].smsc_message_id, "7");
  EXPECT_EQ(r.parts[0].receipt_us, 3);
  // The fields version 2 added take their defaults.
  EXPECT_EQ(r.parts[0].resp_format, id_format::automatic);
  EXPECT_EQ(r.parts[0].text_offset, 0u);
  EXPECT_EQ(r.parts[0].settled_by, cause::engine);
}

TEST(record, reads_version_2_written_before_send_windows_were_kept) {
  // Version 2 is version 4 without the window's three fields and the
  // deadline.
  message_record r = sample();
  r.window_zone.clear();
  r.window_start = r.window_end = 0;
  r.deliver_by_us = 0;
  std::string v4;
  encode_record(r, v4);
  // An empty zone, two zero minutes and no deadline: four octets after
  // valid_until_us, just before the state. Cut them out.
  std::string v2 = v4;
  const std::size_t at = v4.find(std::string("\0\0\0\0", 4) + static_cast<char>(state::accepted));
  ASSERT_NE(at, std::string::npos);
  v2.erase(at, 4);
  v2[0] = 2;
  message_record back;
  ASSERT_FALSE(decode_record(v2, back));
  EXPECT_EQ(back, r);
}

TEST(record, reads_version_3_written_before_delivery_deadlines) {
  // Version 3 is version 4 without deliver_by_us, the octet before the state.
  message_record r = sample();
  r.deliver_by_us = 0;
  std::string v4;
  encode_record(r, v4);
  const std::string window_end_and_none = {static_cast<char>(0xce), 0x09, 0, static_cast<char>(state::accepted)};
  const std::size_t at = v4.find(window_end_and_none);  // 1230 minutes = 0xce 0x09
  ASSERT_NE(at, std::string::npos);
  std::string v3 = v4;
  v3.erase(at + 2, 1);
  v3[0] = 3;
  message_record back;
  ASSERT_FALSE(decode_record(v3, back));
  EXPECT_EQ(back, r);
}

TEST(record, refuses_a_window_minute_past_the_day) {
  message_record r = sample();
  r.window_end = 24 * 60;
  std::string bytes;
  encode_record(r, bytes);
  message_record back;
  EXPECT_EQ(decode_record(bytes, back), make_error_code(storage_errc::corrupt_record));
}

TEST(record, refuses_an_unknown_id_format_or_cause) {
  message_record m = sample();
  m.parts.erase(m.parts.begin());
  std::string bytes;
  encode_record(m, bytes);
  message_record back;
  ASSERT_FALSE(decode_record(bytes, back));
  // The part ends: resp_format, text_offset (153: two octets), settled_by.
  std::string bad = bytes;
  bad[bad.size() - 1] = static_cast<char>(cause_count);
  EXPECT_EQ(decode_record(bad, back), make_error_code(storage_errc::corrupt_record));
  bad = bytes;
  bad[bad.size() - 4] = 9;
  EXPECT_EQ(decode_record(bad, back), make_error_code(storage_errc::corrupt_record));
}

}  // namespace
