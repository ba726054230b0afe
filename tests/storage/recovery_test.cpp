// Recovery on start: each kind of unfinished part, both in-doubt policies,
// and campaign cursors.
#include "storage/recovery.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "log_fixture.hpp"

namespace {

using namespace storage;
using storage_test::hour;
using storage_test::t0;

class recovery_test : public storage_test::log_test {
 protected:
  // One message per case, then a restart.
  void prepare() {
    add(message(1));                       // queued
    add(message(2));                       // retrying
    apply({submitted(2, 0, "opa", t0), to(2, 0, state::retrying, t0 + 1)});
    add(message(3));                       // in doubt
    apply({submitted(3, 0, "opa", t0)});
    add(message(4));                       // accepted, within its validity
    apply({submitted(4, 0, "opa", t0), accepted(4, 0, "400", t0 + 1)});
    message_record v = message(5);         // accepted, past its validity
    v.valid_until_us = t0 + hour;
    add(v);
    apply({submitted(5, 0, "opa", t0), accepted(5, 0, "500", t0 + 1)});
    add(message(6));                       // delivered: not open
    apply({submitted(6, 0, "opa", t0), accepted(6, 0, "600", t0 + 1),
           to(6, 0, state::delivered, t0 + 2)});
    add(message(7, 3));                    // mixed: accepted, in doubt, queued
    apply({submitted(7, 0, "opa", t0), accepted(7, 0, "700", t0 + 1), submitted(7, 1, "opa", t0)});
    open();
  }
  recovery_report run(in_doubt_policy policy) {
    recovery_options o;
    o.in_doubt = policy;
    o.now_us = t0 + 2 * hour;
    std::error_code ec;
    recovery_report r = recover(*log_, o, ec);
    EXPECT_FALSE(ec) << ec.message();
    std::sort(r.to_dispatch.begin(), r.to_dispatch.end(), [](part_ref a, part_ref b) {
      return a.message_id != b.message_id ? a.message_id < b.message_id : a.part < b.part;
    });
    return r;
  }
};

TEST_F(recovery_test, classifies_every_open_part_and_marks_in_doubt_ones_unknown_by_default) {
  prepare();
  EXPECT_EQ(recovery_options{}.in_doubt, in_doubt_policy::mark_unknown);
  const recovery_report r = run(in_doubt_policy::mark_unknown);
  EXPECT_EQ(r.open_messages, 6u);
  EXPECT_EQ(r.queued_parts, 3u);  // 1, 2 (retrying), 7 part 2
  EXPECT_EQ(r.to_dispatch, (std::vector<part_ref>{{1, 0}, {2, 0}, {7, 2}}));
  EXPECT_EQ(r.in_doubt_parts, 2u);
  EXPECT_EQ(r.marked_unknown, 2u);
  EXPECT_EQ(r.resent_parts, 0u);
  EXPECT_EQ(r.awaiting_receipt, 2u);  // 4, 7 part 0
  EXPECT_EQ(r.overdue_unknown, 1u);   // 5
  EXPECT_EQ(stored(3).st, state::unknown);
  EXPECT_EQ(stored(3).parts[0].settled_by, cause::recovery);
  EXPECT_EQ(stored(3).parts[0].receipt_us, 0);  // no receipt came
  EXPECT_EQ(stored(4).st, state::accepted);
  EXPECT_EQ(stored(5).st, state::unknown);
  EXPECT_EQ(stored(7).parts[1].st, state::unknown);
  // What is still open is what dispatch or receipts will finish.
  EXPECT_EQ(open_ids(), (std::vector<std::uint64_t>{1, 2, 4, 7}));
  EXPECT_EQ(smsc_stats("opa").in_doubt, 2u);
  // A second run finds nothing more in doubt.
  const recovery_report again = run(in_doubt_policy::mark_unknown);
  EXPECT_EQ(again.in_doubt_parts, 0u);
  EXPECT_EQ(again.overdue_unknown, 0u);
}

TEST_F(recovery_test, resends_in_doubt_parts_when_asked_to) {
  prepare();
  const recovery_report r = run(in_doubt_policy::resend);
  EXPECT_EQ(r.in_doubt_parts, 2u);
  EXPECT_EQ(r.resent_parts, 2u);
  EXPECT_EQ(r.marked_unknown, 0u);
  EXPECT_EQ(r.to_dispatch,
            (std::vector<part_ref>{{1, 0}, {2, 0}, {3, 0}, {7, 1}, {7, 2}}));
  EXPECT_EQ(stored(3).st, state::retrying);
  EXPECT_EQ(stored(3).parts[0].resp_us, 0);  // no resp came: none recorded
  EXPECT_EQ(smsc_stats("opa").in_doubt, 0u);
}

TEST_F(recovery_test, uses_the_receipt_wait_for_messages_without_a_validity_period) {
  add(message(1));
  apply({submitted(1, 0, "opa", t0), accepted(1, 0, "100", t0 + 1)});
  open();
  recovery_options o;
  o.receipt_wait = std::chrono::hours(1);
  o.now_us = t0 + 2 * hour;
  std::error_code ec;
  EXPECT_EQ(recover(*log_, o, ec).overdue_unknown, 1u);
  EXPECT_EQ(stored(1).st, state::unknown);
}

TEST_F(recovery_test, restores_campaign_cursors) {
  add(campaign_message(1, "spring", 1));
  add(campaign_message(2, "spring", 2));
  add(campaign_message(3, "spring", 4));
  add(campaign_message(4, "autumn", 1));
  open();
  const recovery_report r = run(in_doubt_policy::mark_unknown);
  ASSERT_EQ(r.cursors.size(), 2u);
  EXPECT_EQ(r.cursors.at("spring").row, 2u);
  EXPECT_EQ(r.cursors.at("spring").rows_above, std::vector<std::uint64_t>{4});
  EXPECT_EQ(r.cursors.at("autumn").row, 1u);
}

}  // namespace
