// The reader as another process uses it: a secondary instance beside a
// running writer.
#include "storage/log_reader.hpp"

#include <gtest/gtest.h>

#include "log_fixture.hpp"

namespace {

using namespace storage;
using storage_test::second;
using storage_test::t0;

using log_reader_test = storage_test::log_test;

TEST_F(log_reader_test, sees_the_writers_changes_after_catching_up) {
  add(campaign_message(1, "spring", 1));
  log_reader reader({dir_, {}});
  std::error_code ec;
  EXPECT_EQ(reader.report("spring", ec).messages[state::queued], 1u);
  // The writer goes on.
  add(campaign_message(2, "spring", 2));
  apply({submitted(1, 0, "opa", t0), accepted(1, 0, "100", t0 + 30'000),
         to(1, 0, state::delivered, t0 + 4 * second)});
  ASSERT_FALSE(reader.catch_up());
  const campaign_report r = reader.report("spring", ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(r.messages[state::delivered], 1u);
  EXPECT_EQ(r.messages[state::queued], 1u);
  EXPECT_EQ(r.cursor_row, 2u);
  EXPECT_DOUBLE_EQ(r.delivery_rate, 1.0);
  EXPECT_EQ(r.submit_to_receipt.count, 1u);
  const auto m = reader.message(1, ec);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->record.st, state::delivered);
  EXPECT_EQ(reader.campaigns(ec), std::vector<std::string>{"spring"});
  EXPECT_EQ(reader.smscs(ec), std::vector<std::string>{"opa"});
  EXPECT_FALSE(reader.message(99, ec).has_value());
  EXPECT_EQ(ec, make_error_code(storage_errc::not_found));
}

TEST_F(log_reader_test, reads_through_the_writers_own_instance_without_catching_up) {
  add(campaign_message(1, "spring", 1));
  log_reader reader(*log_);
  std::error_code ec;
  EXPECT_EQ(reader.report("spring", ec).messages[state::queued], 1u);
  add(campaign_message(2, "spring", 2));
  apply({submitted(1, 0, "opa", t0), accepted(1, 0, "100", t0 + 30'000),
         to(1, 0, state::delivered, t0 + 4 * second)});
  const campaign_report r = reader.report("spring", ec);  // no catch_up(): the same instance
  ASSERT_FALSE(ec);
  EXPECT_EQ(r.messages[state::delivered], 1u);
  EXPECT_EQ(r.messages[state::queued], 1u);
  EXPECT_EQ(r.cursor_row, 2u);
  EXPECT_EQ(reader.smsc("opa", ec).parts[state::delivered], 1u);
  EXPECT_FALSE(reader.catch_up());
}

TEST_F(log_reader_test, reads_a_database_whose_writer_has_stopped) {
  message_record r = message(5);
  r.idempotency_key = "k5";
  add(r);
  log_.reset();
  log_reader reader({dir_, {}});
  std::error_code ec;
  EXPECT_EQ(reader.find_idempotent("k5", ec), std::optional<std::uint64_t>(5));
  EXPECT_EQ(reader.messages_to("37060012345", 0, t0 + second, 5, ec),
            std::vector<std::uint64_t>{5});
}

TEST_F(log_reader_test, tells_a_messages_timeline_in_order) {
  add(message(3, 2));
  apply({submitted(3, 0, "opa", t0 + 10), submitted(3, 1, "opa", t0 + 11),
         accepted(3, 0, "30", t0 + 20), accepted(3, 1, "31", t0 + 21)});
  part_update d = to(3, 1, state::delivered, t0 + 40);
  d.cause = cause::receipt;
  part_update u = to(3, 0, state::undeliverable, t0 + 50);
  u.cause = cause::receipt;
  u.error_code = 0x0B;
  apply({d, u});
  log_reader reader({dir_, {}});
  std::error_code ec;
  const auto m = reader.message(3, ec);
  ASSERT_TRUE(m.has_value());
  using kind = timeline_entry::kind;
  std::vector<std::pair<int, kind>> seen;
  for (const timeline_entry& e : m->timeline) seen.emplace_back(e.part, e.what);
  EXPECT_EQ(seen, (std::vector<std::pair<int, kind>>{{-1, kind::queued},
                                                     {0, kind::submitted},
                                                     {1, kind::submitted},
                                                     {0, kind::resp},
                                                     {1, kind::resp},
                                                     {1, kind::receipt},
                                                     {0, kind::receipt}}));
  EXPECT_EQ(m->timeline.back().code, 0x0Bu);
  EXPECT_EQ(m->timeline.back().st, state::undeliverable);
  EXPECT_EQ(m->timeline.back().cause, cause::receipt);
}

}  // namespace
