// The campaign duplicate check against a real message log (RocksDB in a
// temporary directory): exact answers from a small filter, numbers not yet
// durable, numbers recorded by an earlier run, other campaigns' messages.
#include "engine/duplicate_check.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/support/temp_dir.hpp"

namespace {

using engine::duplicate_check;

class duplicate_check_test : public ::testing::Test {
 protected:
  smppd::test::temp_dir tmp{"smppd-dup-test"};
  std::unique_ptr<storage::message_log> log = open_log();
  std::uint64_t next_id = 0;

  std::unique_ptr<storage::message_log> open_log() {
    storage::log_options o;
    o.dir = tmp.path() / "log";
    return std::make_unique<storage::message_log>(o);
  }

  static std::string number(std::uint64_t i) { return "+3706" + std::to_string(1000000 + i); }

  // What the runner does with a row the check let through.
  std::uint64_t record(const std::string& campaign, const std::string& to) {
    storage::message_record r;
    r.id = ++next_id;
    r.origin = campaign.empty() ? storage::origin::api : storage::origin::campaign;
    r.campaign = campaign;
    r.row = next_id;
    r.recipient = to;
    r.sender = "ACME";
    r.text = "Hello";
    r.queued_us = 1'700'000'000'000'000 + static_cast<std::int64_t>(next_id);
    r.parts.resize(1);
    std::error_code ec;
    for (;;) {
      const auto ticket = log->append(r, ec);
      if (ec != storage::storage_errc::backlog_full) {
        EXPECT_FALSE(ec) << ec.message();
        return ticket;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  bool row(duplicate_check& check, const std::string& campaign, const std::string& to) {
    if (check.seen_before(to)) return true;
    check.appended(record(campaign, to));
    return false;
  }
};

TEST_F(duplicate_check_test, catches_a_repeat_before_and_after_the_log_has_it) {
  duplicate_check check("spring", *log, 10);
  EXPECT_FALSE(row(check, "spring", number(1)));
  EXPECT_TRUE(check.seen_before(number(1)));  // not necessarily durable yet: the pending set
  log->wait_durable(log->issued_ticket());
  EXPECT_TRUE(check.seen_before(number(1)));  // now from the log
  EXPECT_FALSE(row(check, "spring", number(2)));
  EXPECT_EQ(check.filter_bytes(), std::size_t{1} << 17);  // the smallest filter: 128 KiB
}

TEST_F(duplicate_check_test, a_small_filter_full_of_false_positives_still_answers_exactly) {
  // 1 Mi bits for 150,000 numbers (twice what it is sized for): many
  // "maybe" answers, each settled by the pending set or the log.
  duplicate_check check("spring", *log, 1);
  constexpr std::uint64_t n = 150'000;
  for (std::uint64_t i = 0; i < n; ++i) ASSERT_FALSE(row(check, "spring", number(i))) << i;
  log->wait_durable(log->issued_ticket());
  EXPECT_GT(check.log_lookups(), 0u);
  for (std::uint64_t i = 0; i < n; i += 97) EXPECT_TRUE(check.seen_before(number(i))) << i;
  for (std::uint64_t i = n; i < n + 2000; ++i) {
    EXPECT_FALSE(check.seen_before(number(i))) << i;
    check.appended(record("spring", number(i)));
  }
  log->wait_durable(log->issued_ticket());
  EXPECT_EQ(check.seen_before("+37069999999"), false);
  // Everything durable is out of the pending set (the last number is still in it).
  EXPECT_LE(check.pending(), 1u);
}

TEST_F(duplicate_check_test, numbers_an_earlier_run_recorded_count_and_other_campaigns_do_not) {
  {
    duplicate_check first("spring", *log, 100);
    for (std::uint64_t i = 0; i < 50; ++i) ASSERT_FALSE(row(first, "spring", number(i)));
    ASSERT_FALSE(row(first, "spring", "+37061111111"));
  }
  record("autumn", "+37062222222");  // another campaign's message
  record("", "+37063333333");        // a notification
  log->wait_durable(log->issued_ticket());
  log.reset();  // a restart
  log = open_log();

  duplicate_check again("spring", *log, 100);
  for (std::uint64_t i = 0; i < 50; ++i) again.recorded(number(i));  // the rows before the cursor
  EXPECT_TRUE(again.seen_before(number(7)));
  // Another campaign's message and a notification to a number are no
  // repeat, even when the filter says "maybe" and the log is asked.
  again.recorded("+37062222222");
  again.recorded("+37063333333");
  const auto lookups = again.log_lookups();
  EXPECT_FALSE(row(again, "spring", "+37062222222"));
  EXPECT_FALSE(row(again, "spring", "+37063333333"));
  EXPECT_EQ(again.log_lookups(), lookups + 2);
  EXPECT_TRUE(again.seen_before("+37062222222"));
}

TEST_F(duplicate_check_test, a_number_let_through_but_never_appended_is_forgotten) {
  duplicate_check check("spring", *log, 10);
  EXPECT_FALSE(check.seen_before(number(5)));  // its message was not recorded after all
  EXPECT_FALSE(row(check, "spring", number(6)));
  EXPECT_FALSE(row(check, "spring", number(5)));
  EXPECT_TRUE(check.seen_before(number(5)));
}

TEST_F(duplicate_check_test, the_filter_is_sized_from_the_file_and_capped) {
  // 16 bits a number, rounded up to a power of two: 2 Mi bits, 256 KiB.
  const duplicate_check small("a", *log, 100'000);
  EXPECT_EQ(small.filter_bytes(), std::size_t{1} << 18);
  EXPECT_EQ(small.probes(), 7);
  // 10 million numbers in the 8 MiB cap: 6.7 bits a number, 5 probes.
  const duplicate_check capped("b", *log, 10'000'000);
  EXPECT_EQ(capped.filter_bytes(), duplicate_check::max_filter_bytes);
  EXPECT_EQ(capped.filter_bytes(), std::size_t{8} << 20);
  EXPECT_EQ(capped.probes(), 5);
  // Far past the cap the filter stays its size and probes once.
  const duplicate_check huge("c", *log, 500'000'000);
  EXPECT_EQ(huge.filter_bytes(), duplicate_check::max_filter_bytes);
  EXPECT_EQ(huge.probes(), 1);
}

}  // namespace
