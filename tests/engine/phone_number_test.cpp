// Tests of engine/phone_number.hpp: the forms customers and CSV exports
// write numbers in, normalised to E.164, and the reasons for refusals.
#include "engine/phone_number.hpp"

#include <gtest/gtest.h>

namespace {

const engine::numbering_plan lithuania{"370", "8"};
const engine::numbering_plan germany{"49", "0"};

struct row {
  const char* written;
  const engine::numbering_plan* plan;
  const char* e164;  // nullptr: refused
  const char* problem = "";
};

TEST(phone_number, normalises_the_usual_written_forms) {
  const row rows[] = {
      {"+37060000001", &lithuania, "+37060000001"},
      {"+370 600 00001", &lithuania, "+37060000001"},
      {"+370-600-00001", &lithuania, "+37060000001"},
      {"0037060000001", &lithuania, "+37060000001"},
      {"860000001", &lithuania, "+37060000001"},   // national, trunk prefix 8
      {"37060000001", &lithuania, "+37060000001"},  // country code without '+'
      {"60000001", &lithuania, "+37060000001"},     // national without trunk prefix
      {"(0)151 2345 6789", &germany, "+4915123456789"},
      {"01512345678", &germany, "+491512345678"},
      {"+1 (415) 555-2671", &germany, "+14155552671"},
  };
  for (const auto& r : rows) {
    auto n = engine::normalise_number(r.written, *r.plan);
    EXPECT_TRUE(n.ok()) << r.written << ": " << n.problem;
    EXPECT_EQ(n.e164, r.e164) << r.written;
  }
}

TEST(phone_number, refuses_what_cannot_be_a_number_and_says_why) {
  const row rows[] = {
      {"", &lithuania, nullptr, "empty"},
      {"abc", &lithuania, nullptr, "contains 'a' at character 1"},
      {"+3706000x001", &lithuania, nullptr, "contains 'x' at character 9"},
      {"+370+600", &lithuania, nullptr, "contains '+' at character 5"},
      {"+3706", &lithuania, nullptr, "too short (4 digits with the country code)"},
      {"+3706000000000000001", &lithuania, nullptr, "too long (19 digits; E.164 allows 15)"},
      {"+0600000001", &lithuania, nullptr, "a country code cannot start with 0"},
  };
  for (const auto& r : rows) {
    auto n = engine::normalise_number(r.written, *r.plan);
    EXPECT_FALSE(n.ok()) << r.written;
    EXPECT_EQ(n.problem, r.problem) << r.written;
  }
}

TEST(phone_number, without_a_default_country_only_international_forms_pass) {
  engine::numbering_plan none{"", "0"};
  EXPECT_EQ(engine::normalise_number("+37060000001", none).e164, "+37060000001");
  EXPECT_EQ(engine::normalise_number("0037060000001", none).e164, "+37060000001");
  EXPECT_FALSE(engine::normalise_number("060000001", none).ok());
}

}  // namespace
