// Tests of engine/recipient_zone.hpp: smppd's table of E.164 prefixes to
// zones (every name in it loads from this system's tzdata), the longest
// prefix winning, the configuration's prefixes on top, and a campaign
// window's zone for a recipient (its own, the campaign's one zone, or the
// fallback for numbers nothing places).
#include "engine/recipient_zone.hpp"

#include <gtest/gtest.h>

#include <set>

namespace {

using engine::cached_zone;
using engine::zone_table;

TEST(builtin_zones, every_entry_is_a_prefix_listed_once_whose_zone_loads) {
  std::set<std::string_view> seen;
  for (const auto& e : engine::builtin_zones()) {
    EXPECT_TRUE(e.prefix.size() >= 2 && e.prefix[0] == '+') << e.prefix;
    EXPECT_TRUE(seen.insert(e.prefix).second) << e.prefix << " listed twice";
    EXPECT_NE(cached_zone(e.zone), nullptr) << e.prefix << " " << e.zone;
  }
  EXPECT_GT(seen.size(), 180u);
}

TEST(builtin_zones, leaves_out_codes_shared_by_several_clocks) {
  zone_table t({}, "UTC");
  for (const char* n : {"+12125550100", "+74951234567", "+5511912345678", "+61412345678", "+5215512345678",
                        "+34612345678", "+351912345678", "+6421123456", "+62812345678"})
    EXPECT_EQ(t.find(n), nullptr) << n;
}

TEST(zone_table, places_a_number_by_its_longest_prefix) {
  zone_table t({}, "UTC");
  EXPECT_EQ(t.find("+37061234567"), cached_zone("Europe/Vilnius"));
  EXPECT_EQ(t.find("+4915112345678"), cached_zone("Europe/Berlin"));
  EXPECT_EQ(t.find("+12425551234"), cached_zone("America/Nassau"));  // +1 itself places nothing
  EXPECT_EQ(t.find("+67231234"), cached_zone("Pacific/Norfolk"));
  EXPECT_EQ(t.find("+6721234"), nullptr);  // +672 1: Antarctic bases, not listed
  EXPECT_EQ(t.find("+"), nullptr);
  EXPECT_EQ(t.find(""), nullptr);
  EXPECT_EQ(t.default_zone(), cached_zone("UTC"));
}

TEST(zone_table, configured_prefixes_add_to_and_override_the_table) {
  zone_table t({{"+1212", "America/New_York"}, {"+1", "America/Chicago"}, {"+3706", "Europe/Riga"},
                {"+44", "Europe/Dublin"}},
               "Europe/Vilnius");
  EXPECT_EQ(t.find("+12125550100"), cached_zone("America/New_York"));
  EXPECT_EQ(t.find("+13125550100"), cached_zone("America/Chicago"));
  EXPECT_EQ(t.find("+12425551234"), cached_zone("America/Nassau"));  // still longer than "+1"
  EXPECT_EQ(t.find("+37061234567"), cached_zone("Europe/Riga"));     // "+3706" beats "+370"
  EXPECT_EQ(t.find("+37052123456"), cached_zone("Europe/Vilnius"));
  EXPECT_EQ(t.find("+447700900123"), cached_zone("Europe/Dublin"));  // same prefix: the configuration's
  EXPECT_EQ(t.default_zone(), cached_zone("Europe/Vilnius"));
}

TEST(zone_table, skips_and_names_zones_the_system_lacks) {
  std::vector<std::string> missing;
  zone_table t({{"+999", "Mars/Olympus"}}, "Nowhere/Land", &missing);
  EXPECT_EQ(t.find("+999123"), nullptr);
  EXPECT_EQ(t.default_zone(), nullptr);
  EXPECT_EQ(missing, (std::vector<std::string>{"Mars/Olympus", "Nowhere/Land"}));
}

TEST(cached_zone, loads_a_zone_once_and_keeps_it) {
  const auto* a = cached_zone("Asia/Tokyo");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(cached_zone("Asia/Tokyo"), a);
  EXPECT_EQ(cached_zone("Mars/Olympus"), nullptr);
  EXPECT_EQ(cached_zone("../../etc/passwd"), nullptr);
}

TEST(window_rule, uses_the_recipients_zone_the_fallback_or_one_zone_for_all) {
  zone_table t({}, "Europe/London");
  std::string error;
  auto own = engine::window_rule::make(9 * 60, 20 * 60, "recipient", "", error);
  ASSERT_TRUE(own) << error;
  const auto h = own->for_recipient("+37061234567", t);
  EXPECT_EQ(h.zone, cached_zone("Europe/Vilnius"));
  EXPECT_EQ(h.start, 9 * 60);
  EXPECT_EQ(h.end, 20 * 60);
  EXPECT_EQ(own->for_recipient("+12125550100", t).zone, cached_zone("Europe/London"));  // the table's default

  auto with_fallback = engine::window_rule::make(9 * 60, 20 * 60, "recipient", "America/New_York", error);
  ASSERT_TRUE(with_fallback) << error;
  EXPECT_EQ(with_fallback->for_recipient("+12125550100", t).zone, cached_zone("America/New_York"));
  EXPECT_EQ(with_fallback->for_recipient("+37061234567", t).zone, cached_zone("Europe/Vilnius"));

  auto fixed = engine::window_rule::make(9 * 60, 20 * 60, "Asia/Tokyo", "", error);
  ASSERT_TRUE(fixed) << error;
  EXPECT_EQ(fixed->for_recipient("+37061234567", t).zone, cached_zone("Asia/Tokyo"));

  // 24:00 is the day's end: 09:00-24:00 runs to midnight, 00:00-24:00 is always.
  auto to_midnight = engine::window_rule::make(9 * 60, 24 * 60, "UTC", "", error);
  ASSERT_TRUE(to_midnight);
  EXPECT_EQ(to_midnight->for_recipient("+37061234567", t).end, 0);
  EXPECT_FALSE(engine::window_rule::make(0, 60, "Mars/Olympus", "", error));
  EXPECT_EQ(error, "unknown time zone Mars/Olympus");
}

}  // namespace
