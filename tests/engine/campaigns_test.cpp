// The campaigns' control states as kept on disk (engine/campaigns.hpp):
// written atomically, read back, and a damaged file named with its line.
// (Start, pause, resume and cancel on a running daemon are in daemon_test.)
#include "engine/campaigns.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.hpp"

namespace {

TEST(campaign_states, are_written_and_read_back) {
  smppd::test::temp_dir tmp{"smppd-campaign-states"};
  const auto file = engine::campaign_manager::state_file(tmp.path());
  std::map<std::string, engine::campaign_state> in{{"spring-sale", engine::campaign_state::paused},
                                                   {"otp.v2", engine::campaign_state::cancelled},
                                                   {"later", engine::campaign_state::waiting}},
      out;
  std::string error;
  ASSERT_TRUE(engine::save_campaign_states(file, in, error)) << error;
  ASSERT_TRUE(engine::load_campaign_states(file, out, error)) << error;
  EXPECT_EQ(out, in);
  EXPECT_FALSE(std::filesystem::exists(file.string() + ".tmp"));
  // No file yet: nothing saved, no error.
  ASSERT_TRUE(engine::load_campaign_states(tmp.path() / "none", out, error)) << error;
  EXPECT_TRUE(out.empty());
}

TEST(campaign_states, a_damaged_file_is_named_with_its_line) {
  smppd::test::temp_dir tmp{"smppd-campaign-states"};
  const auto file = tmp.path() / "campaigns.state";
  std::ofstream(file) << "paused a\nsleeping b\n";
  std::map<std::string, engine::campaign_state> out;
  std::string error;
  EXPECT_FALSE(engine::load_campaign_states(file, out, error));
  EXPECT_NE(error.find("campaigns.state:2: expected \"STATE CAMPAIGN-ID\", got \"sleeping b\""), std::string::npos)
      << error;
}

TEST(campaign_actions, parse_by_name) {
  EXPECT_EQ(engine::parse_campaign_action("pause"), engine::campaign_action::pause);
  EXPECT_EQ(engine::parse_campaign_action("cancel"), engine::campaign_action::cancel);
  EXPECT_FALSE(engine::parse_campaign_action("stop"));
  EXPECT_EQ(engine::parse_campaign_state("waiting"), engine::campaign_state::waiting);
  EXPECT_FALSE(engine::parse_campaign_state("done"));
}

}  // namespace
