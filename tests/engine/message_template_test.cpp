// Tests of engine/message_template.hpp: places, defaults, binding to a
// CSV header, and the row-level refusals.
#include "engine/message_template.hpp"

#include <gtest/gtest.h>

namespace {

engine::message_template make(std::string_view text, std::vector<std::string> header) {
  std::string error;
  auto t = engine::message_template::compile(text, error);
  EXPECT_TRUE(t) << error;
  EXPECT_TRUE(t->bind(header, error)) << error;
  return *t;
}

TEST(message_template, fills_places_from_the_row) {
  auto t = make("Hi {{name}}, your code is {{ code }}.", {"msisdn", "name", "code"});
  std::string out, problem;
  ASSERT_TRUE(t.render(std::vector<std::string>{"+1", "Ona", "4821"}, out, problem)) << problem;
  EXPECT_EQ(out, "Hi Ona, your code is 4821.");
  EXPECT_EQ(t.fields(), (std::vector<std::string>{"name", "code"}));
}

TEST(message_template, uses_the_default_for_an_empty_value) {
  auto t = make("Hi {{name|there}}!", {"msisdn", "name"});
  std::string out, problem;
  ASSERT_TRUE(t.render(std::vector<std::string>{"+1", ""}, out, problem));
  EXPECT_EQ(out, "Hi there!");
  ASSERT_TRUE(t.render(std::vector<std::string>{"+1", "  "}, out, problem));
  EXPECT_EQ(out, "Hi there!");
}

TEST(message_template, refuses_a_row_without_a_required_value) {
  auto t = make("Your code is {{code}}", {"msisdn", "code"});
  std::string out, problem;
  EXPECT_FALSE(t.render(std::vector<std::string>{"+1", ""}, out, problem));
  EXPECT_EQ(problem, "no value for template field \"code\"");
}

TEST(message_template, a_text_without_places_is_itself) {
  auto t = make("Plain text, {single} braces stay", {"msisdn"});
  std::string out, problem;
  ASSERT_TRUE(t.render(std::vector<std::string>{"+1"}, out, problem));
  EXPECT_EQ(out, "Plain text, {single} braces stay");
}

TEST(message_template, names_a_field_no_column_has) {
  std::string error;
  auto t = engine::message_template::compile("Hi {{nmae}}", error);
  ASSERT_TRUE(t);
  std::vector<std::string> header{"msisdn", "name"};
  EXPECT_FALSE(t->bind(header, error));
  EXPECT_EQ(error, "the template uses {{nmae}} but no column is named \"nmae\"");
}

TEST(message_template, refuses_malformed_places) {
  std::string error;
  EXPECT_FALSE(engine::message_template::compile("Hi {{name", error));
  EXPECT_EQ(error, "unterminated {{ at character 4");
  EXPECT_FALSE(engine::message_template::compile("Hi {{}}", error));
  EXPECT_FALSE(engine::message_template::compile("Hi {{first name}}", error));
}

}  // namespace
