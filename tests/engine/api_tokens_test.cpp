// API tokens (engine/api_tokens.hpp): made, written as a hash, found by
// the token, and a damaged tokens file named with its line.
#include "engine/api_tokens.hpp"

#include <gtest/gtest.h>

namespace {

TEST(api_tokens, a_made_token_is_found_by_its_line_and_only_by_itself) {
  std::string error;
  auto t = engine::make_token("billing", "send,read", error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->token.size(), 6u + 43u);
  EXPECT_EQ(t->line.find(t->token), std::string::npos) << "the file line must not hold the token";
  auto set = engine::token_set::parse("# comment\n" + t->line + "  # trailing\n\n", "tokens", error);
  ASSERT_TRUE(set) << error;
  const auto* found = set->find(t->token);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->name, "billing");
  EXPECT_EQ(found->scopes, static_cast<int>(engine::api_scope::send) | static_cast<int>(engine::api_scope::read));
  EXPECT_EQ(set->find(t->token + "x"), nullptr);
  EXPECT_EQ(set->find(""), nullptr);
  auto other = engine::make_token("billing", "send", error);
  EXPECT_NE(other->token, t->token);
}

TEST(api_tokens, bad_lines_are_named_without_echoing_the_value) {
  std::string error;
  EXPECT_FALSE(engine::token_set::parse("a send sha256:00\n", "tokens", error));
  EXPECT_NE(error.find("tokens:1: expected sha256: and 64 hex digits for token a"), std::string::npos) << error;
  EXPECT_FALSE(engine::token_set::parse("\nb write sha256:" + std::string(64, 'a') + "\n", "tokens", error));
  EXPECT_NE(error.find("tokens:2: scopes \"write\""), std::string::npos) << error;
  EXPECT_FALSE(engine::token_set::parse("c send\n", "tokens", error));
  EXPECT_NE(error.find("tokens:1: expected NAME SCOPES sha256:HEX"), std::string::npos) << error;
  const std::string line = "d read sha256:" + std::string(64, 'b') + "\n";
  EXPECT_FALSE(engine::token_set::parse(line + line, "tokens", error));
  EXPECT_NE(error.find("tokens:2: token name d appears twice"), std::string::npos) << error;
  EXPECT_FALSE(engine::make_token("bad name", "send", error));
}

}  // namespace
