// Tests of delivery receipt parsing (smpp/receipt.hpp): the text form row by row (Appendix B
// and the variants real SMSCs send), dates, stat words, esm_class classification, TLVs over
// text, golden deliver_sm and data_sm vectors, and garbage that must not crash.
//
// The golden vectors are hex written by hand from the SMPP 3.4 field tables (section 4.6.1
// deliver_sm, 4.7.1 data_sm, 5.3.2 TLVs); the receipt texts in them are ASCII.
#include "smpp/receipt.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "smpp/codec.hpp"
#include "smpp/pdu.hpp"
#include "tests/support/hex.hpp"

// Expected receipts are written with designated initializers naming only the fields that are
// set; GCC warns about every member left to its default, which is the point here.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace {

using smppd::test::from_hex;
using smppd::test::repeat;
using smppd::test::to_hex;

using namespace std::literals;
using smpp::delivery_receipt;
using smpp::message_state;
using smpp::receipt_errc;
using smpp::receipt_kind;
using smpp::receipt_time;

// ---- helpers --------------------------------------------------------------

constexpr receipt_time at(std::uint8_t yy, std::uint8_t mm, std::uint8_t dd, std::uint8_t hh,
                          std::uint8_t mi) {
  return {yy, mm, dd, hh, mi, std::nullopt, std::nullopt};
}
constexpr receipt_time at(std::uint8_t yy, std::uint8_t mm, std::uint8_t dd, std::uint8_t hh,
                          std::uint8_t mi, std::uint8_t ss) {
  return {yy, mm, dd, hh, mi, ss, std::nullopt};
}

std::string show(const std::optional<receipt_time>& t) {
  if (!t) return "absent";
  // Appended piece by piece: GCC 12 misreports `"x" + std::to_string(n)` under -Wrestrict.
  std::string s;
  const auto put = [&s](const char* sep, int n) {
    s += sep;
    s += std::to_string(n);
  };
  put("", t->year);
  put("-", t->month);
  put("-", t->day);
  put(" ", t->hour);
  put(":", t->minute);
  if (t->second) put(":", *t->second);
  if (t->utc_offset) put(" q", *t->utc_offset);
  return s;
}

std::string show(std::optional<message_state> s) {
  return s ? std::string(smpp::name(*s)) : "none";
}

std::string show(std::optional<std::uint32_t> n) { return n ? std::to_string(*n) : "absent"; }

std::string show(const std::optional<std::array<std::uint8_t, 3>>& c) {
  return c ? to_hex(*c) : "absent";
}

// Field by field, so a failure names the field and prints both values readably.
void expect_receipt(const delivery_receipt& got, const delivery_receipt& want) {
  EXPECT_EQ(got.kind, want.kind);
  EXPECT_EQ(got.message_id, want.message_id);
  EXPECT_EQ(got.id_from_tlv, want.id_from_tlv);
  EXPECT_EQ(show(got.state), show(want.state));
  EXPECT_EQ(got.stat, want.stat);
  EXPECT_EQ(show(got.submitted), show(want.submitted)) << "sub";
  EXPECT_EQ(show(got.delivered), show(want.delivered)) << "dlvrd";
  EXPECT_EQ(show(got.submit_date), show(want.submit_date)) << "submit date";
  EXPECT_EQ(show(got.done_date), show(want.done_date)) << "done date";
  EXPECT_EQ(got.err, want.err);
  EXPECT_EQ(got.text, want.text);
  EXPECT_EQ(show(got.network_error_code), show(want.network_error_code));
  EXPECT_EQ(got.bad_field, want.bad_field);
  EXPECT_TRUE(got == want) << "a field not compared above differs";
}

// True when `part` is empty or lies inside `whole`: a view never points elsewhere.
bool inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void expect_views_inside(const delivery_receipt& r, std::string_view buffer) {
  EXPECT_TRUE(inside(r.message_id, buffer));
  EXPECT_TRUE(inside(r.stat, buffer));
  EXPECT_TRUE(inside(r.err, buffer));
  EXPECT_TRUE(inside(r.text, buffer));
}

std::string_view as_view(const std::vector<std::uint8_t>& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// ---- the text form --------------------------------------------------------

struct text_row {
  const char* name;
  std::string_view text;
  delivery_receipt want;
  std::error_code ec = {};
};

const std::vector<text_row>& text_rows() {
  static const std::vector<text_row> rows = {
      {"Appendix B's example filled in",
       "id:0123456789 sub:001 dlvrd:001 submit date:0501011200 done date:0501011201 "
       "stat:DELIVRD err:000 Text:Hello world",
       {.message_id = "0123456789", .state = message_state::delivered, .stat = "DELIVRD",
        .submitted = 1, .delivered = 1, .submit_date = at(5, 1, 1, 12, 0),
        .done_date = at(5, 1, 1, 12, 1), .err = "000", .text = "Hello world"}},

      {"Appendix B's template as printed: placeholders do not parse, the id is kept",
       "id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm "
       "stat:DDDDDDD err:E Text: . . . . . . . . .",
       {.message_id = "IIIIIIIIII", .stat = "DDDDDDD", .err = "E",
        .text = " . . . . . . . . .", .bad_field = "sub"}},

      {"dates with seconds and an empty text",
       "id:6c7d4e2f0a1b4c3d9e8f7a6b5c4d3e2f sub:001 dlvrd:001 submit date:240115123045 "
       "done date:240115123159 stat:DELIVRD err:000 text:",
       {.message_id = "6c7d4e2f0a1b4c3d9e8f7a6b5c4d3e2f", .state = message_state::delivered,
        .stat = "DELIVRD", .submitted = 1, .delivered = 1,
        .submit_date = at(24, 1, 15, 12, 30, 45), .done_date = at(24, 1, 15, 12, 31, 59),
        .err = "000"}},

      {"sub and dlvrd missing",
       "id:3141592653 submit date:2402101454 done date:2402101455 stat:DELIVRD err:000 "
       "text:parcel",
       {.message_id = "3141592653", .state = message_state::delivered, .stat = "DELIVRD",
        .submit_date = at(24, 2, 10, 14, 54), .done_date = at(24, 2, 10, 14, 55),
        .err = "000", .text = "parcel"}},

      {"text missing, UUID-like id, two-digit err",
       "id:0f9e8d7c-6b5a-4932-8170-fedcba987654 submit date:2406191720 "
       "done date:2406191721 stat:EXPIRED err:30",
       {.message_id = "0f9e8d7c-6b5a-4932-8170-fedcba987654", .state = message_state::expired,
        .stat = "EXPIRED", .submit_date = at(24, 6, 19, 17, 20),
        .done_date = at(24, 6, 19, 17, 21), .err = "30"}},

      {"keys in upper case, stat word in lower case",
       "ID:77 SUB:1 DLVRD:0 SUBMIT DATE:2403050910 DONE DATE:2403050911 STAT:undeliv "
       "ERR:021 TEXT:Hi",
       {.message_id = "77", .state = message_state::undeliverable, .stat = "undeliv",
        .submitted = 1, .delivered = 0, .submit_date = at(24, 3, 5, 9, 10),
        .done_date = at(24, 3, 5, 9, 11), .err = "021", .text = "Hi"}},

      {"submit_date and done_date spelt with underscores",
       "id:9 sub:001 dlvrd:001 submit_date:2403010000 done_date:2403010001 stat:DELIVRD "
       "err:000 text:x",
       {.message_id = "9", .state = message_state::delivered, .stat = "DELIVRD",
        .submitted = 1, .delivered = 1, .submit_date = at(24, 3, 1, 0, 0),
        .done_date = at(24, 3, 1, 0, 1), .err = "000", .text = "x"}},

      {"stat spelt out in full",
       "id:10 sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 "
       "stat:DELIVERED err:000 text:",
       {.message_id = "10", .state = message_state::delivered, .stat = "DELIVERED",
        .submitted = 1, .delivered = 1, .submit_date = at(24, 1, 15, 12, 30),
        .done_date = at(24, 1, 15, 12, 31), .err = "000"}},

      {"extra fields nid: and mccmnc: are skipped",
       "id:11 sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 stat:DELIVRD "
       "err:000 nid:0 mccmnc:23415 text:ok",
       {.message_id = "11", .state = message_state::delivered, .stat = "DELIVRD",
        .submitted = 1, .delivered = 1, .submit_date = at(24, 1, 15, 12, 30),
        .done_date = at(24, 1, 15, 12, 31), .err = "000", .text = "ok"}},

      {"an extra field before the id",
       "mccmnc:310260 id:12 stat:ACCEPTD err:000",
       {.message_id = "12", .state = message_state::accepted, .stat = "ACCEPTD",
        .err = "000"}},

      {"several spaces, tabs and line breaks between fields",
       "id:13   sub:001\tdlvrd:001\r\nsubmit  date:2401151230  done   date:2401151231 "
       "   stat:DELIVRD  err:000  text:spaced  out",
       {.message_id = "13", .state = message_state::delivered, .stat = "DELIVRD",
        .submitted = 1, .delivered = 1, .submit_date = at(24, 1, 15, 12, 30),
        .done_date = at(24, 1, 15, 12, 31), .err = "000", .text = "spaced  out"}},

      {"text runs to the end: a stat: and an id: inside it change nothing",
       "id:14 sub:001 dlvrd:000 stat:UNDELIV err:001 text:stat:DELIVRD id:999 sub:9",
       {.message_id = "14", .state = message_state::undeliverable, .stat = "UNDELIV",
        .submitted = 1, .delivered = 0, .err = "001", .text = "stat:DELIVRD id:999 sub:9"}},

      {"a stat: only inside the text leaves the state unknown",
       "id:15 err:000 text:stat:DELIVRD",
       {.message_id = "15", .err = "000", .text = "stat:DELIVRD"}},

      {"hex id with leading zeros is kept as sent",
       "id:00B8BE19 sub:001 dlvrd:001 stat:DELIVRD err:000",
       {.message_id = "00B8BE19", .state = message_state::delivered, .stat = "DELIVRD",
        .submitted = 1, .delivered = 1, .err = "000"}},

      {"decimal id with a leading zero is kept as sent",
       "id:0221067780 sub:001 dlvrd:001 stat:DELIVRD err:000",
       {.message_id = "0221067780", .state = message_state::delivered, .stat = "DELIVRD",
        .submitted = 1, .delivered = 1, .err = "000"}},

      {"letters-only id of 26 characters",
       "id:qzvbnmasdfghjklpoiuytrewq sub:000 dlvrd:000 stat:UNDELIV err:000",
       {.message_id = "qzvbnmasdfghjklpoiuytrewq", .state = message_state::undeliverable,
        .stat = "UNDELIV", .submitted = 0, .delivered = 0, .err = "000"}},

      {"a colon inside the id",
       "id:node7:000123 stat:DELIVRD",
       {.message_id = "node7:000123", .state = message_state::delivered, .stat = "DELIVRD"}},

      {"err of four digits",
       "id:16 stat:DELIVRD err:0000 text:",
       {.message_id = "16", .state = message_state::delivered, .stat = "DELIVRD",
        .err = "0000"}},

      {"err: null",
       "id:17 stat:UNDELIV err:null",
       {.message_id = "17", .state = message_state::undeliverable, .stat = "UNDELIV",
        .err = "null"}},

      {"a space after the colon",
       "id: 18 sub: 001 stat: DELIVRD err: 0",
       {.message_id = "18", .state = message_state::delivered, .stat = "DELIVRD",
        .submitted = 1, .err = "0"}},

      {"a key sent with no value is absent, not malformed",
       "id:19 sub:001 dlvrd:001 submit date:2401151230 done date: stat:ACCEPTD err:000",
       {.message_id = "19", .state = message_state::accepted, .stat = "ACCEPTD",
        .submitted = 1, .delivered = 1, .submit_date = at(24, 1, 15, 12, 30), .err = "000"}},

      {"a done date of zeros is absent and named, stat:FAILED kept without a state",
       "id:20 sub:001 dlvrd:001 submit date:2408051046 done date:0000000000 stat:FAILED "
       "err:002 Text:",
       {.message_id = "20", .stat = "FAILED", .submitted = 1, .delivered = 1,
        .submit_date = at(24, 8, 5, 10, 46), .err = "002", .bad_field = "done date"}},

      {"a stat of several words is kept whole",
       "id:21 sub:001 dlvrd:001 stat:DELIVERED TO CARRIER err:003 text:",
       {.message_id = "21", .stat = "DELIVERED TO CARRIER", .submitted = 1, .delivered = 1,
        .err = "003"}},

      {"a bare stat word without stat:",
       "id:22 sub:000 dlvrd:000 submit date:2409031208 done date:240903120816 DELIVRD "
       "err:000 Text:",
       {.message_id = "22", .state = message_state::delivered, .stat = "DELIVRD",
        .submitted = 0, .delivered = 0, .submit_date = at(24, 9, 3, 12, 8),
        .done_date = at(24, 9, 3, 12, 8, 16), .err = "000"}},

      {"dates in the 16-character absolute time format",
       "id:23 submit date:240229235959104+ done date:240301000000008- stat:DELIVRD",
       {.message_id = "23", .state = message_state::delivered, .stat = "DELIVRD",
        .submit_date = receipt_time{24, 2, 29, 23, 59, 59, 4},
        .done_date = receipt_time{24, 3, 1, 0, 0, 0, -8}}},

      {"fields in another order",
       "stat:REJECTD err:000 dlvrd:000 sub:001 id:24",
       {.message_id = "24", .state = message_state::rejected, .stat = "REJECTD",
        .submitted = 1, .delivered = 0, .err = "000"}},

      {"a field sent twice keeps its first value",
       "id:25 id:26 stat:DELIVRD stat:UNDELIV sub:1 sub:2",
       {.message_id = "25", .state = message_state::delivered, .stat = "DELIVRD",
        .submitted = 1}},

      {"words before the first key are skipped",
       "Delivery report: id:27 stat:ENROUTE",
       {.message_id = "27", .state = message_state::enroute, .stat = "ENROUTE"}},

      {"sub at the top of 32 bits parses, dlvrd one past it does not",
       "id:28 sub:4294967295 dlvrd:4294967296",
       {.message_id = "28", .submitted = 4294967295u, .bad_field = "dlvrd"}},

      {"an unknown stat word is kept without a state",
       "id:29 stat:SCHEDLD",
       {.message_id = "29", .stat = "SCHEDLD"}},

      {"no id anywhere", "sub:001 dlvrd:001 stat:DELIVRD err:000 text:hi",
       {.state = message_state::delivered, .stat = "DELIVRD", .submitted = 1, .delivered = 1,
        .err = "000", .text = "hi"},
       receipt_errc::not_a_receipt},

      {"an ordinary message", "See you at 8 tomorrow?", {}, receipt_errc::not_a_receipt},

      {"empty", "", {}, receipt_errc::not_a_receipt},

      {"an id only inside the text", "text:id:123", {.text = "id:123"},
       receipt_errc::not_a_receipt},

      {"a key that merely ends in id", "msgid:5 stat:DELIVRD",
       {.state = message_state::delivered, .stat = "DELIVRD"}, receipt_errc::not_a_receipt},

      {"id: sent empty", "id: sub:001 stat:DELIVRD",
       {.state = message_state::delivered, .stat = "DELIVRD", .submitted = 1,
        .bad_field = "id"},
       receipt_errc::invalid_field},

      {"id: at the very end", "stat:DELIVRD id:",
       {.state = message_state::delivered, .stat = "DELIVRD", .bad_field = "id"},
       receipt_errc::invalid_field},
  };
  return rows;
}

TEST(receipt, parses_every_text_row) {
  for (const text_row& row : text_rows()) {
    SCOPED_TRACE(row.name);
    delivery_receipt got;
    EXPECT_EQ(smpp::parse_receipt_text(row.text, got), row.ec);
    expect_receipt(got, row.want);
    expect_views_inside(got, row.text);
  }
}

TEST(receipt, resets_what_a_previous_parse_left) {
  delivery_receipt r;
  ASSERT_FALSE(smpp::parse_receipt_text("id:1 sub:1 stat:DELIVRD err:5 text:a", r));
  ASSERT_FALSE(smpp::parse_receipt_text("id:2", r));
  expect_receipt(r, {.message_id = "2"});
}

// ---- stat words and dates -------------------------------------------------

TEST(receipt, maps_every_stat_word_in_any_case) {
  struct row {
    std::string_view word;
    std::optional<message_state> state;
  };
  const row rows[] = {
      {"DELIVRD", message_state::delivered},   {"DELIVERED", message_state::delivered},
      {"delivrd", message_state::delivered},   {"Delivered", message_state::delivered},
      {"EXPIRED", message_state::expired},     {"DELETED", message_state::deleted},
      {"UNDELIV", message_state::undeliverable},
      {"UNDELIVERABLE", message_state::undeliverable},
      {"ACCEPTD", message_state::accepted},    {"ACCEPTED", message_state::accepted},
      {"UNKNOWN", message_state::unknown},     {"REJECTD", message_state::rejected},
      {"REJECTED", message_state::rejected},   {"ENROUTE", message_state::enroute},
      {"SKIPPED", message_state::skipped},     {"enroute", message_state::enroute},
      {"FAILED", std::nullopt},                {"DELIVR", std::nullopt},
      {"DELIVRDX", std::nullopt},              {"SCHEDLD", std::nullopt},
      {"0", std::nullopt},                     {"2", std::nullopt},
  };
  for (const row& r : rows) {
    SCOPED_TRACE(r.word);
    const std::string text = "id:1 stat:" + std::string(r.word) + " err:000";
    delivery_receipt got;
    ASSERT_FALSE(smpp::parse_receipt_text(text, got));
    EXPECT_EQ(got.stat, r.word);
    EXPECT_EQ(show(got.state), show(r.state));
  }
}

TEST(receipt, names_every_message_state) {
  EXPECT_EQ(smpp::name(message_state::enroute), "ENROUTE");
  EXPECT_EQ(smpp::name(message_state::delivered), "DELIVERED");
  EXPECT_EQ(smpp::name(message_state::expired), "EXPIRED");
  EXPECT_EQ(smpp::name(message_state::deleted), "DELETED");
  EXPECT_EQ(smpp::name(message_state::undeliverable), "UNDELIVERABLE");
  EXPECT_EQ(smpp::name(message_state::accepted), "ACCEPTED");
  EXPECT_EQ(smpp::name(message_state::unknown), "UNKNOWN");
  EXPECT_EQ(smpp::name(message_state::rejected), "REJECTED");
  EXPECT_EQ(smpp::name(message_state::skipped), "SKIPPED");
  EXPECT_EQ(smpp::name(static_cast<message_state>(0)), "");
  EXPECT_EQ(smpp::name(static_cast<message_state>(10)), "");
}

TEST(receipt, reads_dates_with_and_without_seconds_and_drops_invalid_ones) {
  struct row {
    const char* name;
    std::string_view value;
    std::optional<receipt_time> want;
  };
  const row rows[] = {
      {"YYMMDDhhmm", "2401151230", at(24, 1, 15, 12, 30)},
      {"YYMMDDhhmmss", "240115123045", at(24, 1, 15, 12, 30, 45)},
      {"the first minute of a year", "2401010000", at(24, 1, 1, 0, 0)},
      {"the last second of a year", "241231235959", at(24, 12, 31, 23, 59, 59)},
      {"29 February of a leap year", "2402291200", at(24, 2, 29, 12, 0)},
      {"absolute time, UTC+1", "240115123045104+", receipt_time{24, 1, 15, 12, 30, 45, 4}},
      {"absolute time, UTC-12", "240115123045948-", receipt_time{24, 1, 15, 12, 30, 45, -48}},
      {"29 February of a common year", "2302291200", std::nullopt},
      {"month 13", "2413011200", std::nullopt},
      {"month 0", "2400011200", std::nullopt},
      {"day 0", "2401001200", std::nullopt},
      {"day 32", "2401321200", std::nullopt},
      {"31 April", "2404311200", std::nullopt},
      {"hour 24", "2401152400", std::nullopt},
      {"minute 60", "2401151260", std::nullopt},
      {"second 60", "240115123060", std::nullopt},
      {"all zeros", "0000000000", std::nullopt},
      {"a four-digit year (YYYYMMDDhhmm)", "202406190720", std::nullopt},
      {"9 digits", "240115123", std::nullopt},
      {"11 digits", "24011512304", std::nullopt},
      {"13 digits", "2401151230450", std::nullopt},
      {"a letter O for a zero", "24O1151230", std::nullopt},
      {"a sign inside", "24-1151230", std::nullopt},
      {"relative time format", "000001000000000R", std::nullopt},
      {"absolute time, offset beyond 48 quarters", "240115123045149+", std::nullopt},
      {"absolute time, no sign", "2401151230451040", std::nullopt},
      {"absolute time, letter for tenths", "240115123045X04+", std::nullopt},
  };
  for (const row& r : rows) {
    SCOPED_TRACE(r.name);
    const std::string text = "id:1 submit date:" + std::string(r.value) + " done date:" +
                             std::string(r.value) + " stat:DELIVRD";
    delivery_receipt got;
    EXPECT_FALSE(smpp::parse_receipt_text(text, got)) << "a bad date is not an error";
    EXPECT_EQ(show(got.submit_date), show(r.want));
    EXPECT_EQ(show(got.done_date), show(r.want));
    EXPECT_EQ(got.bad_field, r.want ? "" : "submit date");
    EXPECT_EQ(show(got.state), "DELIVERED") << "the rest still parses";
  }
}

// ---- esm_class ------------------------------------------------------------

TEST(receipt, classifies_esm_class_message_types) {
  struct row {
    std::uint8_t esm_class;
    receipt_kind kind;
  };
  const row rows[] = {
      {0x00, receipt_kind::none},
      {0x04, receipt_kind::smsc_delivery_receipt},
      {0x08, receipt_kind::sme_delivery_ack},
      {0x10, receipt_kind::sme_manual_ack},
      {0x20, receipt_kind::intermediate_notification},
      {0x44, receipt_kind::smsc_delivery_receipt},  // with UDHI
      {0x84, receipt_kind::smsc_delivery_receipt},  // with reply path
      {0xC7, receipt_kind::smsc_delivery_receipt},  // every bit outside 5-2 set
      {0x03, receipt_kind::none},                   // messaging mode bits only
      {0x40, receipt_kind::none},                   // UDHI only
      {0x0C, receipt_kind::none},                   // 0011: reserved
      {0x14, receipt_kind::none},                   // 0101: reserved
      {0x18, receipt_kind::none},                   // 0110: conversation abort
      {0x1C, receipt_kind::none},                   // 0111: reserved
      {0x24, receipt_kind::none},                   // 1001: reserved
      {0x3C, receipt_kind::none},                   // 1111: reserved
  };
  for (const row& r : rows) {
    SCOPED_TRACE(to_hex(std::span(&r.esm_class, 1)));
    EXPECT_EQ(smpp::receipt_kind_of(r.esm_class), r.kind);
  }
}

// ---- TLVs and the PDU forms -----------------------------------------------

TEST(receipt, reads_a_receipt_carried_by_tlvs_alone) {
  const smpp::sm_body body{.esm_class = 0x04,
                           .tlvs = {.receipted_message_id = "7F3A0B12",
                                    .network_error_code = "\x03\x00\x0B"sv,
                                    .message_state = 5}};
  delivery_receipt got;
  EXPECT_FALSE(smpp::parse_receipt(body, got));
  expect_receipt(got, {.kind = receipt_kind::smsc_delivery_receipt, .message_id = "7F3A0B12",
                       .id_from_tlv = true, .state = message_state::undeliverable,
                       .network_error_code = std::array<std::uint8_t, 3>{0x03, 0x00, 0x0B}});
}

TEST(receipt, lets_tlvs_win_over_the_text) {
  const smpp::sm_body body{
      .esm_class = 0x04,
      .short_message = "id:111 sub:001 dlvrd:001 stat:DELIVRD err:000 text:",
      .tlvs = {.receipted_message_id = "222", .message_state = 8}};
  delivery_receipt got;
  EXPECT_FALSE(smpp::parse_receipt(body, got));
  expect_receipt(got, {.kind = receipt_kind::smsc_delivery_receipt, .message_id = "222",
                       .id_from_tlv = true, .state = message_state::rejected,
                       .stat = "DELIVRD", .submitted = 1, .delivered = 1, .err = "000"});
}

TEST(receipt, keeps_the_text_state_when_the_message_state_tlv_is_undefined) {
  for (std::uint8_t v : std::initializer_list<std::uint8_t>{0, 10, 255}) {
    SCOPED_TRACE(static_cast<int>(v));
    const smpp::sm_body body{.esm_class = 0x04,
                             .short_message = "id:5 stat:EXPIRED",
                             .tlvs = {.message_state = v}};
    delivery_receipt got;
    EXPECT_FALSE(smpp::parse_receipt(body, got));
    expect_receipt(got, {.kind = receipt_kind::smsc_delivery_receipt, .message_id = "5",
                         .state = message_state::expired, .stat = "EXPIRED",
                         .bad_field = "message_state"});
  }
}

TEST(receipt, falls_back_to_the_text_id_when_the_tlv_id_is_empty) {
  const smpp::sm_body body{.esm_class = 0x04,
                           .short_message = "id:5 stat:DELIVRD",
                           .tlvs = {.receipted_message_id = ""}};
  delivery_receipt got;
  EXPECT_FALSE(smpp::parse_receipt(body, got));
  expect_receipt(got, {.kind = receipt_kind::smsc_delivery_receipt, .message_id = "5",
                       .state = message_state::delivered, .stat = "DELIVRD"});
}

TEST(receipt, fails_when_the_only_id_is_an_empty_tlv) {
  const smpp::sm_body body{.esm_class = 0x04,
                           .tlvs = {.receipted_message_id = "", .message_state = 2}};
  delivery_receipt got;
  EXPECT_EQ(smpp::parse_receipt(body, got), receipt_errc::invalid_field);
  expect_receipt(got, {.kind = receipt_kind::smsc_delivery_receipt,
                       .state = message_state::delivered,
                       .bad_field = "receipted_message_id"});
}

TEST(receipt, fails_without_any_id) {
  const smpp::sm_body body{.esm_class = 0x04, .tlvs = {.message_state = 2}};
  delivery_receipt got;
  EXPECT_EQ(smpp::parse_receipt(body, got), receipt_errc::not_a_receipt);
  EXPECT_EQ(show(got.state), "DELIVERED") << "what parsed is still there";
}

TEST(receipt, parses_a_receipt_whatever_esm_class_says) {
  const smpp::sm_body body{.esm_class = 0x00, .short_message = "id:8 stat:DELIVRD"};
  delivery_receipt got;
  EXPECT_FALSE(smpp::parse_receipt(body, got));
  EXPECT_EQ(got.kind, receipt_kind::none);
  EXPECT_EQ(got.message_id, "8");
}

TEST(receipt, reads_the_text_from_message_payload_when_short_message_is_empty) {
  const smpp::sm_body body{.esm_class = 0x04,
                           .tlvs = {.message_payload = "id:31 stat:DELETED err:000"}};
  delivery_receipt got;
  EXPECT_FALSE(smpp::parse_receipt(body, got));
  expect_receipt(got, {.kind = receipt_kind::smsc_delivery_receipt, .message_id = "31",
                       .state = message_state::deleted, .stat = "DELETED", .err = "000"});
}

TEST(receipt, skips_a_udh_before_the_text) {
  // UDH 05 00 03 84 01 01: concatenation, reference 0x84, part 1 of 1.
  const std::string sm = "\x05\x00\x03\x84\x01\x01"s + "id:32 stat:DELIVRD err:000 text:";
  const smpp::sm_body body{.esm_class = 0x44, .short_message = sm};
  delivery_receipt got;
  EXPECT_FALSE(smpp::parse_receipt(body, got));
  expect_receipt(got, {.kind = receipt_kind::smsc_delivery_receipt, .message_id = "32",
                       .state = message_state::delivered, .stat = "DELIVRD", .err = "000"});
}

TEST(receipt, survives_a_udh_longer_than_the_message) {
  const std::string sm = "\x7Fid:33";
  const smpp::sm_body body{.esm_class = 0x44, .short_message = sm};
  delivery_receipt got;
  EXPECT_EQ(smpp::parse_receipt(body, got), receipt_errc::not_a_receipt);
}

TEST(receipt, reads_a_data_sm_without_payload_from_its_tlvs) {
  const smpp::data_sm_body body{.esm_class = 0x04,
                                .tlvs = {.receipted_message_id = "abc", .message_state = 6}};
  delivery_receipt got;
  EXPECT_FALSE(smpp::parse_receipt(body, got));
  expect_receipt(got, {.kind = receipt_kind::smsc_delivery_receipt, .message_id = "abc",
                       .id_from_tlv = true, .state = message_state::accepted});
}

// ---- golden vectors -------------------------------------------------------

// deliver_sm, seq 42: an SMSC delivery receipt whose text gives the id in decimal and whose
// receipted_message_id gives it in hex (0x7F3A0B12 = 2134510354); the TLV wins.
constexpr const char* golden_deliver_sm =
    "000000C6 00000005 00000000 0000002A"  // header: 198, deliver_sm, seq 42
    "00"                                   // service_type ""
    "01 01 34343737303039303034353600"     // source ton/npi, source_addr "447700900456"
    "01 01 34343737303039303031323300"     // dest ton/npi, destination_addr "447700900123"
    "04 00 00"                             // esm_class 0x04 (SMSC receipt), pid, priority
    "00"                                   // schedule_delivery_time ""
    "00"                                   // validity_period ""
    "00 00 00 00"  // registered_delivery, replace_if_present, data_coding, sm_default_msg_id
    "74"                                   // sm_length 116
    "69643A32313334353130333534 20"        // "id:2134510354 "
    "7375623A303031 20"                    // "sub:001 "
    "646C7672643A303031 20"                // "dlvrd:001 "
    "7375626D697420646174653A32343031313531323330 20"  // "submit date:2401151230 "
    "646F6E6520646174653A32343031313531323331 20"      // "done date:2401151231 "
    "737461743A44454C49565244 20"          // "stat:DELIVRD "
    "6572723A303030 20"                    // "err:000 "
    "746578743A596F757220636F64652034373131"           // "text:Your code 4711"
    "001E 0009 3746334130423132 00"        // receipted_message_id "7F3A0B12"
    "0423 0003 03 0000"                    // network_error_code: GSM (3), error 0
    "0427 0001 02";                        // message_state 2 (DELIVERED)

constexpr std::string_view golden_deliver_sm_text =
    "id:2134510354 sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 "
    "stat:DELIVRD err:000 text:Your code 4711";

// data_sm, seq 43: an intermediate notification with its text in message_payload and no
// TLV id.
constexpr const char* golden_data_sm =
    "00000072 00000103 00000000 0000002B"  // header: 114, data_sm, seq 43
    "00"                                   // service_type ""
    "01 01 34343737303039303034353600"     // source ton/npi, source_addr "447700900456"
    "01 01 34343737303039303031323300"     // dest ton/npi, destination_addr "447700900123"
    "20 00 00"  // esm_class 0x20 (intermediate notification), registered_delivery, data_coding
    "0424 003C"                            // message_payload, 60 octets:
    "69643A35463145324433432D304134422D344335442D384536462D373038313932413342344335 20"
    // "id:5F1E2D3C-0A4B-4C5D-8E6F-708192A3B4C5 "
    "737461743A454E524F555445 20"          // "stat:ENROUTE "
    "6572723A303030";                      // "err:000"

TEST(receipt, parses_a_golden_deliver_sm) {
  const std::vector<std::uint8_t> bytes = from_hex(golden_deliver_sm);
  smpp::pdu p;
  ASSERT_TRUE(smpp::decode(bytes, p));
  const auto* d = p.get<smpp::deliver_sm>();
  ASSERT_NE(d, nullptr);
  delivery_receipt got;
  EXPECT_FALSE(smpp::parse_receipt(*d, got));
  expect_receipt(got, {.kind = receipt_kind::smsc_delivery_receipt, .message_id = "7F3A0B12",
                       .id_from_tlv = true, .state = message_state::delivered,
                       .stat = "DELIVRD", .submitted = 1, .delivered = 1,
                       .submit_date = at(24, 1, 15, 12, 30), .done_date = at(24, 1, 15, 12, 31),
                       .err = "000", .text = "Your code 4711",
                       .network_error_code = std::array<std::uint8_t, 3>{3, 0, 0}});
  expect_views_inside(got, as_view(bytes));
}

TEST(receipt, golden_deliver_sm_is_what_smpp_deliver_sm_encodes) {
  const smpp::pdu built = smpp::make_pdu(
      42, smpp::deliver_sm{{.source_addr_ton = 1, .source_addr_npi = 1,
                            .source_addr = "447700900456", .dest_addr_ton = 1,
                            .dest_addr_npi = 1, .destination_addr = "447700900123",
                            .esm_class = 0x04, .short_message = golden_deliver_sm_text,
                            .tlvs = {.receipted_message_id = "7F3A0B12",
                                     .network_error_code = "\x03\x00\x00"sv,
                                     .message_state = 2}}});
  std::vector<std::uint8_t> out(smpp::encoded_size(built));
  const smpp::encode_result r = smpp::encode(built, out);
  ASSERT_TRUE(r);
  EXPECT_EQ(to_hex(std::span(out.data(), r.size)), to_hex(from_hex(golden_deliver_sm)));

  delivery_receipt from_struct;
  EXPECT_FALSE(smpp::parse_receipt(*built.get<smpp::deliver_sm>(), from_struct));
  EXPECT_EQ(from_struct.message_id, "7F3A0B12");
  EXPECT_EQ(from_struct.text, "Your code 4711");
}

TEST(receipt, parses_a_golden_data_sm) {
  const std::vector<std::uint8_t> bytes = from_hex(golden_data_sm);
  smpp::pdu p;
  ASSERT_TRUE(smpp::decode(bytes, p));
  const auto* d = p.get<smpp::data_sm>();
  ASSERT_NE(d, nullptr);
  delivery_receipt got;
  EXPECT_FALSE(smpp::parse_receipt(*d, got));
  expect_receipt(got, {.kind = receipt_kind::intermediate_notification,
                       .message_id = "5F1E2D3C-0A4B-4C5D-8E6F-708192A3B4C5",
                       .state = message_state::enroute, .stat = "ENROUTE", .err = "000"});
  expect_views_inside(got, as_view(bytes));
}

// ---- garbage --------------------------------------------------------------

TEST(receipt, survives_garbage) {
  const std::string inputs[] = {
      "",
      ":",
      "::::",
      "id",
      "id:",
      " id:x",
      "submit",
      "submit ",
      "submit date",
      "submit date:",
      "done  date:",
      "submit date:2401",
      "stat:",
      "stat: ",
      "stat:DELIVRD     ",
      "text",
      "text:",
      "Text",
      "\0id:1\0 stat:DELIVRD\0"s,
      "\xFF\xFE id:\x80\x81 stat:\xC3\xA9",
      "id:1 sub:99999999999999999999 dlvrd:-1",
      "id:1 submit date:99999999999999999",
      repeat("9", 10000),
      "id:" + repeat("9", 10000),
      repeat("id: ", 1000),
      repeat("stat:A ", 1000),
      repeat("submit date:", 1000),
      repeat(" ", 1000) + "id:1",
      repeat("DELIVRD ", 100),
  };
  for (const std::string& in : inputs) {
    SCOPED_TRACE(to_hex(std::span(reinterpret_cast<const std::uint8_t*>(in.data()),
                                  std::min<std::size_t>(in.size(), 32))));
    delivery_receipt got;
    const std::error_code ec = smpp::parse_receipt_text(in, got);
    EXPECT_EQ(!ec, !got.message_id.empty());
    expect_views_inside(got, in);
  }
}

TEST(receipt, survives_every_cut_of_a_receipt) {
  const std::string_view full = golden_deliver_sm_text;
  for (std::size_t n = 0; n <= full.size(); ++n) {
    SCOPED_TRACE(n);
    const std::string cut(full.substr(0, n));  // its own buffer, so overreads show in ASan
    delivery_receipt got;
    const std::error_code ec = smpp::parse_receipt_text(cut, got);
    EXPECT_EQ(!ec, !got.message_id.empty());
    expect_views_inside(got, cut);
  }
}

}  // namespace
