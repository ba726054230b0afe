#include "storage/message_id.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using storage::id_format;
using storage::receipt_id_keys;
using storage::resp_id_key;

bool receipt_finds(std::string_view resp_id, id_format resp_format, std::string_view receipt_id,
                   id_format receipt_format) {
  const std::string key = resp_id_key(resp_id, resp_format);
  for (const std::string& k : receipt_id_keys(receipt_id, receipt_format))
    if (k == key) return true;
  return false;
}

struct match_row {
  const char* note;
  const char* resp;
  id_format resp_format;
  const char* receipt;
  id_format receipt_format;
  bool matches;
};

TEST(message_id, matches_the_forms_smscs_write_the_same_id_in) {
  using enum id_format;
  const std::vector<match_row> table = {
      {"same decimal id", "1234567890", automatic, "1234567890", automatic, true},
      {"decimal resp, hex receipt", "1234567890", automatic, "499602D2", automatic, true},
      {"decimal resp, lower-case hex receipt", "1234567890", automatic, "499602d2", automatic,
       true},
      {"hex resp, decimal receipt", "499602D2", automatic, "1234567890", automatic, true},
      {"leading zeros", "0000012345", automatic, "12345", automatic, true},
      {"hex with leading zeros", "00000000499602D2", automatic, "1234567890", automatic, true},
      {"all-digit hex resp read as hex", "1234", hex, "4660", decimal, true},
      {"all-digit hex resp misread by automatic", "1234", automatic, "4660", automatic, false},
      {"uuid-like id", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", automatic,
       "3F2504E0-4F89-11D3-9A0C-0305E82C3301", automatic, true},
      {"id longer than 64 bits", "123456789012345678901234567890", automatic,
       "123456789012345678901234567890", automatic, true},
      {"long id with leading zeros", "00123456789012345678901234567890", automatic,
       "123456789012345678901234567890", automatic, true},
      {"strings compare as strings", "abc-42", string, "ABC-42", string, true},
      {"different ids", "12345", automatic, "12346", automatic, false},
      {"decimal setting does not try hex", "255", decimal, "FF", decimal, false},
      {"trailing NUL and spaces", "12345", automatic, " 12345\0", automatic, true},
  };
  for (const auto& r : table) {
    SCOPED_TRACE(r.note);
    EXPECT_EQ(receipt_finds(r.resp, r.resp_format, r.receipt, r.receipt_format), r.matches);
  }
}

TEST(message_id, numbers_and_strings_never_share_a_key) {
  EXPECT_NE(resp_id_key("12", id_format::automatic), resp_id_key("12", id_format::string));
  EXPECT_EQ(resp_id_key("", id_format::automatic), "");
  EXPECT_EQ(receipt_id_keys("", id_format::automatic).count, 0u);
}

TEST(message_id, tries_decimal_before_hex_for_an_all_digit_receipt_id) {
  const auto keys = receipt_id_keys("255", id_format::automatic);
  ASSERT_EQ(keys.count, 2u);
  EXPECT_EQ(keys.keys[0], resp_id_key("255", id_format::decimal));
  EXPECT_EQ(keys.keys[1], resp_id_key("255", id_format::hex));
}

}  // namespace
