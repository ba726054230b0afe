// Tests of engine/time_zone.hpp against the C library's own reading of
// the same tzdata (localtime_r with TZ set): offsets at many instants over
// decades, across both hemispheres' daylight saving rules, and the POSIX
// rule alone for instants after a file's last transition. When a send
// window next opens, around midnight and daylight saving switches (the
// expected instants were worked out with Python's zoneinfo).
#include "engine/time_zone.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <map>
#include <string>

namespace {

std::int32_t libc_offset(const char* zone, std::int64_t t) {
  setenv("TZ", zone, 1);
  tzset();
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  return static_cast<std::int32_t>(tm.tm_gmtoff);
}

class time_zone_vs_libc : public ::testing::TestWithParam<const char*> {
 protected:
  void TearDown() override {
    unsetenv("TZ");
    tzset();
  }
};

TEST_P(time_zone_vs_libc, agrees_on_the_offset_over_decades) {
  auto z = engine::time_zone::load(GetParam());
  ASSERT_TRUE(z) << GetParam();
  // Every 6 hours and 17 minutes from 1995 to 2045: lands on every side
  // of every transition over the years.
  int checked = 0;
  for (std::int64_t t = 788918400; t < 2366755200; t += 6 * 3600 + 17 * 60) {
    ASSERT_EQ(z->offset_at(t), libc_offset(GetParam(), t)) << GetParam() << " at " << t;
    ++checked;
  }
  EXPECT_GT(checked, 60000);
}

INSTANTIATE_TEST_SUITE_P(zones, time_zone_vs_libc,
                         ::testing::Values("Europe/Vilnius", "Europe/London", "America/New_York",
                                           "Australia/Sydney", "Asia/Kolkata", "America/St_Johns", "UTC"));

TEST(posix_tz, reads_european_rules) {
  auto tz = engine::posix_tz::parse("EET-2EEST,M3.5.0/3,M10.5.0/4");
  ASSERT_TRUE(tz);
  EXPECT_EQ(tz->std_offset, 7200);
  EXPECT_EQ(tz->dst_offset, 10800);
  // 2030-03-31 01:00 UTC (03:00 EET) starts daylight time.
  EXPECT_EQ(tz->offset_at(1901149200 - 1), 7200);
  EXPECT_EQ(tz->offset_at(1901149200), 10800);
  // 2030-10-27 01:00 UTC (04:00 EEST) ends it.
  EXPECT_EQ(tz->offset_at(1919293200 - 1), 10800);
  EXPECT_EQ(tz->offset_at(1919293200), 7200);
}

TEST(posix_tz, reads_southern_rules_and_fixed_zones) {
  auto syd = engine::posix_tz::parse("AEST-10AEDT,M10.1.0,M4.1.0/3");
  ASSERT_TRUE(syd);
  EXPECT_EQ(syd->offset_at(1893456000), 39600);  // 2030-01-01: summer there
  EXPECT_EQ(syd->offset_at(1909000000), 36000);  // 2030-06-29: winter
  auto ist = engine::posix_tz::parse("IST-5:30");
  ASSERT_TRUE(ist);
  EXPECT_EQ(ist->offset_at(0), 19800);
  auto angle = engine::posix_tz::parse("<-03>3");
  ASSERT_TRUE(angle);
  EXPECT_EQ(angle->offset_at(0), -10800);
  EXPECT_FALSE(engine::posix_tz::parse("EET-2EEST"));  // daylight without rules
  EXPECT_FALSE(engine::posix_tz::parse("E"));
  EXPECT_FALSE(engine::posix_tz::parse("EET-2EEST,M13.5.0,M10.5.0"));
}

TEST(posix_tz, agrees_with_libc_on_rules_alone) {
  for (const char* spec : {"EET-2EEST,M3.5.0/3,M10.5.0/4", "AEST-10AEDT,M10.1.0,M4.1.0/3",
                           "NZST-12NZDT,M9.5.0,M4.1.0/3", "EST5EDT,M3.2.0,M11.1.0", "<-03>3", "IST-5:30",
                           "XXX3YYY,J60/1,300/22"}) {
    auto tz = engine::posix_tz::parse(spec);
    ASSERT_TRUE(tz) << spec;
    for (std::int64_t t = 1893456000; t < 2051222400; t += 3 * 3600 + 11 * 60)
      ASSERT_EQ(tz->offset_at(t), libc_offset(spec, t)) << spec << " at " << t;
  }
  unsetenv("TZ");
  tzset();
}

TEST(time_zone, refuses_unknown_names_and_garbage) {
  EXPECT_FALSE(engine::time_zone::load("Mars/Olympus"));
  EXPECT_FALSE(engine::time_zone::load("../etc/passwd"));
  EXPECT_FALSE(engine::time_zone::from_tzif("TZif2 but far too short"));
  EXPECT_FALSE(engine::time_zone::from_tzif(""));
}

TEST(send_window, includes_its_start_and_excludes_its_end) {
  EXPECT_TRUE(engine::in_window(9 * 60, 9 * 60, 20 * 60));
  EXPECT_FALSE(engine::in_window(20 * 60, 9 * 60, 20 * 60));
  EXPECT_FALSE(engine::in_window(8 * 60 + 59, 9 * 60, 20 * 60));
  EXPECT_TRUE(engine::in_window(23 * 60, 22 * 60, 6 * 60));  // across midnight
  EXPECT_TRUE(engine::in_window(5 * 60, 22 * 60, 6 * 60));
  EXPECT_FALSE(engine::in_window(12 * 60, 22 * 60, 6 * 60));
}

// A window in a zone loaded once for the test run.
engine::send_hours hours(const char* zone, int start_h, int start_m, int end_h, int end_m) {
  static std::map<std::string, engine::time_zone> zones;
  auto it = zones.find(zone);
  if (it == zones.end()) it = zones.emplace(zone, *engine::time_zone::load(zone)).first;
  return engine::send_hours{&it->second, static_cast<std::int16_t>(start_h * 60 + start_m),
                            static_cast<std::int16_t>(end_h * 60 + end_m)};
}

TEST(opens_at, is_now_inside_the_window_and_the_next_start_outside_it) {
  const auto day = hours("Europe/Vilnius", 9, 0, 20, 0);  // winter: UTC+2
  EXPECT_EQ(engine::opens_at(day, 1768453200), 1768460400);  // 07:00 local -> 09:00 the same day
  EXPECT_EQ(engine::opens_at(day, 1768460400), 1768460400);  // 09:00: its start is inside
  EXPECT_EQ(engine::opens_at(day, 1768460400 + 3600), 1768460400 + 3600);
  EXPECT_EQ(engine::opens_at(day, 1768503600), 1768546800);  // 21:00 local -> 09:00 the next day
  EXPECT_EQ(engine::opens_at(day, 1768460400 + 11 * 3600), 1768546800);  // 20:00 (its end) is outside
  // start == end: always open.
  EXPECT_EQ(engine::opens_at(hours("Europe/Vilnius", 9, 0, 9, 0), 1768453200), 1768453200);
}

TEST(opens_at, a_window_across_midnight_opens_late_and_stays_open_past_midnight) {
  const auto night = hours("Europe/Vilnius", 22, 0, 6, 0);
  EXPECT_EQ(engine::opens_at(night, 1768471200), 1768507200);  // noon -> 22:00
  EXPECT_EQ(engine::opens_at(night, 1768510800), 1768510800);  // 23:00: open
  EXPECT_EQ(engine::opens_at(night, 1768535940), 1768535940);  // 05:59 the next day: still open
  EXPECT_EQ(engine::opens_at(night, 1768536000), 1768507200 + 86400);  // 06:00: closed until 22:00
}

TEST(opens_at, counts_the_hour_spring_forward_skips) {
  // Vilnius, 2026-03-29: 03:00 EET becomes 04:00 EEST at 01:00 UTC.
  // 09:00 on that day is 06:00 UTC, not 07:00.
  EXPECT_EQ(engine::opens_at(hours("Europe/Vilnius", 9, 0, 20, 0), 1774728000), 1774764000);
  // A start inside the skipped hour: the window opens at the switch.
  EXPECT_EQ(engine::opens_at(hours("Europe/Vilnius", 3, 30, 5, 0), 1774742400), 1774746000);
  // New York, 2026-03-08: 09:00 EDT is 13:00 UTC.
  EXPECT_EQ(engine::opens_at(hours("America/New_York", 9, 0, 17, 0), 1772942400), 1772974800);
}

TEST(opens_at, opens_again_in_the_hour_autumn_repeats) {
  // Vilnius, 2026-10-25: 04:00 EEST becomes 03:00 EET at 01:00 UTC, so
  // 03:00-03:30 happens twice.
  const auto early = hours("Europe/Vilnius", 3, 0, 3, 30);
  EXPECT_EQ(engine::opens_at(early, 1792886400), 1792886400);  // 03:00 EEST: open
  EXPECT_EQ(engine::opens_at(early, 1792888200), 1792890000);  // 03:30 EEST -> 03:00 EET
  // Sydney, 2026-04-05: 03:00 AEDT becomes 02:00 AEST; 08:00 is 22:00 UTC.
  EXPECT_EQ(engine::opens_at(hours("Australia/Sydney", 8, 0, 20, 0), 1775314800), 1775340000);
}

}  // namespace
