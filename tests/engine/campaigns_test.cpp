// The campaigns' control states as kept on disk (engine/campaigns.hpp):
// written atomically, read back, and a damaged file named with its line.
// (Start, pause, resume and cancel on a running daemon are in daemon_test.)
// Also who consented to a campaign (consent_check): a column, a list.
#include "engine/campaigns.hpp"
#include "engine/campaign_runner.hpp"

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

TEST(consent, a_column_says_yes_in_any_case_and_the_list_names_numbers_in_any_form) {
  smppd::test::temp_dir tmp("smppd-consent-test");
  const auto list = tmp.path() / "opted-in.txt";
  std::ofstream(list) << "# exported from the CRM\n+37060000001\n860000002  # national form\n\n"
                      << "not a number\n0037060000003\n";
  config::consent_rule rule;
  rule.column = "agreed";
  rule.list = list;
  engine::consent_check c(rule, engine::numbering_plan{"370", "8"});
  ASSERT_TRUE(c.error().empty()) << c.error();
  EXPECT_EQ(c.listed(), 3u);
  EXPECT_EQ(c.bad_lines(), 1u);
  EXPECT_EQ(c.first_bad_line(), 5u);
  ASSERT_TRUE(c.bind({"msisdn", "name", "agreed"}));
  for (const char* yes : {"yes", "YES", " y ", "True", "1", "x"})
    EXPECT_TRUE(c.allows({"+37060000009", "Ona", yes}, "+37060000009")) << yes;
  for (const char* no : {"no", "", "0", "false", "maybe"})
    EXPECT_FALSE(c.allows({"+37060000009", "Ona", no}, "+37060000009")) << no;
  EXPECT_TRUE(c.allows({"860000002", "Jonas", "no"}, "+37060000002"));  // on the list
  EXPECT_TRUE(c.allows({"x", "Ruta", ""}, "+37060000003"));
  EXPECT_FALSE(c.allows({"+37060000004", "Petras", ""}, "+37060000004"));

  engine::consent_check missing_column(config::consent_rule{"opt_in", {}}, engine::numbering_plan{"370", "8"});
  EXPECT_FALSE(missing_column.bind({"msisdn", "name"}));
  EXPECT_EQ(missing_column.error(), "no \"opt_in\" column (consent.column)");
  engine::consent_check missing_list(config::consent_rule{"", tmp.path() / "nothere.txt"},
                                     engine::numbering_plan{"370", "8"});
  EXPECT_NE(missing_list.error().find("nothere.txt: cannot be read"), std::string::npos);
}

}  // namespace
