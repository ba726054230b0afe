// Receipt reconciliation on a real message log: every way a receipt can
// meet its part (or not).
#include "storage/reconciler.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "log_fixture.hpp"
#include "storage/recovery.hpp"

namespace {

using namespace storage;
using storage_test::hour;
using storage_test::minute;
using storage_test::second;
using storage_test::t0;

class reconciler_test : public storage_test::log_test {
 protected:
  void SetUp() override {
    log_test::SetUp();
    start();
  }
  void TearDown() override {
    rec_.reset();
    log_test::TearDown();
  }
  void start(reconciler_options o = {}) {
    rec_.reset();
    o.now_us = clock_.fn();
    if (o.memory_ids == reconciler_options{}.memory_ids) o.memory_ids = 1024;
    rec_ = std::make_unique<reconciler>(*log_, o);
  }
  // Closes and reopens both, as a restart does.
  void restart(reconciler_options o = {}) {
    rec_.reset();
    open();
    start(o);
  }

  // A message of `parts` parts, each submitted to `smsc` now.
  void sent(std::uint64_t id, std::size_t parts = 1, std::string smsc = "opa",
            std::string recipient = "+37060012345") {
    message_record r = message(id, parts, std::move(recipient));
    r.text = "Your parcel 4471 arrives today between 10:00 and 12:00.";
    for (std::size_t i = 0; i < parts; ++i)
      r.parts[i].text_offset = static_cast<std::uint32_t>(i * 20);
    add(r);
    for (std::size_t i = 0; i < parts; ++i)
      apply({submitted(id, static_cast<std::uint16_t>(i), smsc, clock_())});
  }
  bool resp(std::uint64_t id, std::uint16_t part, std::string_view smsc_id,
            std::string_view smsc = "opa", id_format f = id_format::automatic) {
    std::error_code ec;
    resp_event e;
    e.part = {id, part};
    e.smsc = smsc;
    e.smsc_message_id = smsc_id;
    e.resp_format = f;
    const bool settled = rec_->on_resp(e, ec);
    EXPECT_FALSE(ec) << ec.message();
    settle();
    return settled;
  }
  static receipt_event receipt(std::string_view id, state st = state::delivered,
                               std::string_view smsc = "opa") {
    receipt_event e;
    e.smsc = smsc;
    e.receipt_id = id;
    e.final_state = st;
    return e;
  }
  receipt_outcome deliver(const receipt_event& e) {
    std::error_code ec;
    const receipt_outcome o = rec_->on_receipt(e, ec);
    EXPECT_FALSE(ec) << ec.message();
    settle();
    return o;
  }

  std::unique_ptr<reconciler> rec_;
};

TEST_F(reconciler_test, matches_a_receipt_that_writes_the_decimal_id_in_hex) {
  sent(1);
  EXPECT_FALSE(resp(1, 0, "1234567890"));
  clock_.advance(3 * second);
  auto e = receipt("499602D2");
  e.error_code = 0;
  EXPECT_EQ(deliver(e), receipt_outcome::matched);
  const message_record r = stored(1);
  EXPECT_EQ(r.st, state::delivered);
  EXPECT_EQ(r.parts[0].settled_by, cause::receipt);
  EXPECT_EQ(r.parts[0].receipt_us, clock_());
  EXPECT_EQ(rec_->counters().matched_by_id, 1u);
  EXPECT_EQ(rec_->counters().memory_hits, 1u);
}

TEST_F(reconciler_test, matches_a_hex_resp_id_given_back_in_decimal_with_leading_zeros) {
  sent(2);
  resp(2, 0, "00000000499602d3");
  EXPECT_EQ(deliver(receipt("0001234567891")), receipt_outcome::matched);
  EXPECT_EQ(stored(2).st, state::delivered);
}

TEST_F(reconciler_test, tries_only_the_forms_the_smsc_setting_allows) {
  sent(3);
  resp(3, 0, "1234567890");
  // This SMSC writes receipt ids in decimal: "499602D2" is not a number
  // there, so it is looked up as a string, and nothing has that id.
  auto e = receipt("499602D2");
  e.receipt_format = id_format::decimal;
  EXPECT_EQ(deliver(e), receipt_outcome::parked);
  EXPECT_EQ(stored(3).st, state::accepted);
}

TEST_F(reconciler_test, matches_ids_that_are_not_numbers) {
  sent(4);
  resp(4, 0, "6F1C2A9E-0B7D-4E11-9C1A-2B3C4D5E6F70");
  EXPECT_EQ(deliver(receipt("6f1c2a9e-0b7d-4e11-9c1a-2b3c4d5e6f70", state::undeliverable)),
            receipt_outcome::matched);
  EXPECT_EQ(stored(4).st, state::undeliverable);
}

TEST_F(reconciler_test, parks_a_receipt_that_comes_before_its_resp_and_applies_it_then) {
  sent(5);
  clock_.advance(second);
  const std::int64_t came = clock_();
  EXPECT_EQ(deliver(receipt("4711")), receipt_outcome::parked);
  EXPECT_EQ(rec_->parked_now(), 1u);
  EXPECT_EQ(stored(5).parts[0].st, state::submitting);
  clock_.advance(second);
  EXPECT_TRUE(resp(5, 0, "4711"));
  const message_record r = stored(5);
  EXPECT_EQ(r.st, state::delivered);
  EXPECT_EQ(r.parts[0].settled_by, cause::parked_receipt);
  EXPECT_EQ(r.parts[0].receipt_us, came);
  EXPECT_EQ(r.parts[0].smsc_message_id, "4711");
  EXPECT_EQ(rec_->parked_now(), 0u);
  EXPECT_EQ(rec_->counters().matched_when_resp_came, 1u);
  EXPECT_EQ(smsc_stats("opa").orphans_kept, 0u);
}

TEST_F(reconciler_test, matches_a_receipt_from_another_bind_of_the_same_account_only) {
  // Binds are the engine's; the reconciler keys by account, so a receipt
  // arriving on bind 2 of account "opa" finds the part submitted on bind 1,
  // while account "opb" has its own ids.
  sent(6);
  resp(6, 0, "9001");
  EXPECT_EQ(deliver(receipt("9001", state::delivered, "opb")), receipt_outcome::parked);
  EXPECT_EQ(deliver(receipt("9001", state::delivered, "opa")), receipt_outcome::matched);
}

TEST_F(reconciler_test, counts_a_duplicate_receipt_and_changes_nothing) {
  sent(7);
  resp(7, 0, "70");
  EXPECT_EQ(deliver(receipt("70")), receipt_outcome::matched);
  const std::int64_t first = stored(7).parts[0].receipt_us;
  clock_.advance(minute);
  EXPECT_EQ(deliver(receipt("70")), receipt_outcome::duplicate);
  // Another verdict for a settled part is a duplicate too, and counted as
  // a conflict.
  EXPECT_EQ(deliver(receipt("46", state::undeliverable)), receipt_outcome::duplicate);  // 0x46 = 70
  EXPECT_EQ(stored(7).st, state::delivered);
  EXPECT_EQ(stored(7).parts[0].receipt_us, first);
  EXPECT_EQ(rec_->counters().duplicates, 2u);
  EXPECT_EQ(rec_->counters().conflicting, 1u);
  EXPECT_EQ(log_->counters().illegal_transitions.load(), 0u);
  // And the same receipt parked twice is a duplicate as well.
  EXPECT_EQ(deliver(receipt("555")), receipt_outcome::parked);
  EXPECT_EQ(deliver(receipt("555")), receipt_outcome::duplicate);
  EXPECT_EQ(rec_->parked_now(), 1u);
}

TEST_F(reconciler_test, keeps_an_unclaimed_receipt_for_a_while_then_counts_it_as_an_orphan) {
  reconciler_options o;
  o.orphan_keep = std::chrono::hours(6);
  start(o);
  auto e = receipt("31337", state::undeliverable);
  e.destination = "37069999999";
  EXPECT_EQ(deliver(e), receipt_outcome::parked);
  {
    log_reader reader({dir_, {}});
    std::error_code ec;
    const auto orphans = reader.orphans(10, ec);
    ASSERT_EQ(orphans.size(), 1u);
    EXPECT_EQ(orphans[0].receipt_id, "31337");
    EXPECT_EQ(orphans[0].st, state::undeliverable);
    EXPECT_EQ(orphans[0].destination, "37069999999");
    EXPECT_EQ(reader.smsc("opa", ec).orphans_kept, 1u);
  }
  std::error_code ec;
  clock_.advance(5 * hour);
  EXPECT_EQ(rec_->expire_parked(ec), 0u);
  clock_.advance(2 * hour);
  EXPECT_EQ(rec_->expire_parked(ec), 1u);
  ASSERT_FALSE(ec);
  settle();
  EXPECT_EQ(rec_->parked_now(), 0u);
  EXPECT_EQ(rec_->counters().orphans_expired, 1u);
  const smsc_report s = smsc_stats("opa");
  EXPECT_EQ(s.orphans_kept, 0u);
  EXPECT_EQ(s.orphans_expired, 1u);
}

TEST_F(reconciler_test, keeps_parked_receipts_across_a_restart) {
  sent(8);
  EXPECT_EQ(deliver(receipt("8080", state::expired)), receipt_outcome::parked);
  restart();
  EXPECT_EQ(rec_->parked_now(), 1u);
  EXPECT_TRUE(resp(8, 0, "8080"));
  EXPECT_EQ(stored(8).st, state::expired);
}

TEST_F(reconciler_test, drops_a_receipt_it_has_no_room_to_keep) {
  reconciler_options o;
  o.max_parked = 1;
  start(o);
  EXPECT_EQ(deliver(receipt("1")), receipt_outcome::parked);
  EXPECT_EQ(deliver(receipt("2")), receipt_outcome::orphan);
  EXPECT_EQ(rec_->counters().orphans_dropped, 1u);
}

TEST_F(reconciler_test, refuses_a_receipt_without_id_or_outcome) {
  std::error_code ec;
  (void)rec_->on_receipt(receipt(" "), ec);
  EXPECT_EQ(ec, make_error_code(storage_errc::invalid_argument));
  (void)rec_->on_receipt(receipt("12", state::accepted), ec);
  EXPECT_EQ(ec, make_error_code(storage_errc::invalid_argument));
}

// In doubt: submitted, no resp, marked unknown by recovery.
class in_doubt_test : public reconciler_test {
 protected:
  void mark_in_doubt() {
    std::error_code ec;
    recovery_options o;
    o.now_us = clock_();
    const recovery_report r = recover(*log_, o, ec);
    ASSERT_FALSE(ec);
    ASSERT_GT(r.marked_unknown, 0u);
  }
  receipt_event fallback_receipt(std::string_view text = "Your parcel 4471 arr") {
    receipt_event e = receipt("77aa12", state::delivered);
    e.destination = "37060012345";
    e.done_us = clock_();
    e.text_prefix = text;
    return e;
  }
};

TEST_F(in_doubt_test, settles_an_in_doubt_part_by_destination_time_and_text) {
  sent(10);
  mark_in_doubt();
  EXPECT_EQ(stored(10).st, state::unknown);
  clock_.advance(10 * minute);
  EXPECT_EQ(deliver(fallback_receipt()), receipt_outcome::matched);
  const message_record r = stored(10);
  EXPECT_EQ(r.st, state::delivered);
  EXPECT_EQ(r.parts[0].settled_by, cause::receipt_fallback);
  EXPECT_EQ(rec_->counters().matched_by_fallback, 1u);
  EXPECT_EQ(smsc_stats("opa").in_doubt, 0u);
  // The same receipt again is a duplicate, not a second search.
  EXPECT_EQ(deliver(fallback_receipt()), receipt_outcome::duplicate);
}

TEST_F(in_doubt_test, matches_the_part_whose_text_the_receipt_quotes) {
  sent(11, 3);  // parts start at text offsets 0, 20, 40
  mark_in_doubt();
  EXPECT_EQ(deliver(fallback_receipt("ives today between 1")), receipt_outcome::matched);
  const message_record r = stored(11);
  EXPECT_EQ(r.parts[1].st, state::delivered);
  EXPECT_EQ(r.parts[0].st, state::unknown);
  EXPECT_EQ(r.parts[2].st, state::unknown);
  EXPECT_EQ(r.st, state::unknown);
}

TEST_F(in_doubt_test, does_not_guess_between_two_candidates_or_outside_the_window) {
  sent(12);
  sent(13);
  mark_in_doubt();
  // Both messages have the same text and destination: ambiguous.
  EXPECT_EQ(deliver(fallback_receipt()), receipt_outcome::parked);
  // Text that neither starts with.
  auto other = fallback_receipt("Your order has shipped");
  other.receipt_id = "88";
  EXPECT_EQ(deliver(other), receipt_outcome::parked);
  // Done three days later: outside the 48-hour window.
  auto late = fallback_receipt();
  late.receipt_id = "99";
  late.done_us = clock_() + 72 * hour;
  EXPECT_EQ(deliver(late), receipt_outcome::parked);
  EXPECT_EQ(stored(12).st, state::unknown);
  EXPECT_EQ(stored(13).st, state::unknown);
}

TEST_F(in_doubt_test, settles_a_receipt_parked_before_the_part_was_in_doubt) {
  sent(14);
  // The receipt came, the resp never did, then smppd restarted.
  EXPECT_EQ(deliver(fallback_receipt()), receipt_outcome::parked);
  rec_.reset();
  open();
  mark_in_doubt();
  start();
  std::error_code ec;
  rec_->tick(ec);  // parts entered doubt: parked receipts are tried again
  ASSERT_FALSE(ec);
  settle();
  EXPECT_EQ(stored(14).st, state::delivered);
  EXPECT_EQ(stored(14).parts[0].settled_by, cause::receipt_fallback);
  EXPECT_EQ(rec_->parked_now(), 0u);
}

TEST_F(reconciler_test, derives_a_multipart_message_from_mixed_part_outcomes) {
  sent(20, 3);
  resp(20, 0, "200");
  resp(20, 1, "201");
  resp(20, 2, "202");
  EXPECT_EQ(deliver(receipt("200")), receipt_outcome::matched);
  EXPECT_EQ(deliver(receipt("202")), receipt_outcome::matched);
  EXPECT_EQ(stored(20).st, state::accepted);  // part 1 still waits
  EXPECT_EQ(deliver(receipt("201", state::undeliverable)), receipt_outcome::matched);
  const message_record r = stored(20);
  EXPECT_EQ(r.st, state::undeliverable);
  EXPECT_EQ(r.parts[0].st, state::delivered);
  EXPECT_EQ(r.parts[1].st, state::undeliverable);
  EXPECT_TRUE(open_ids().empty());
}

TEST_F(reconciler_test, records_resp_and_receipt_latencies) {
  sent(21);
  clock_.advance(40'000);  // 40 ms
  resp(21, 0, "2100");
  clock_.advance(5 * second);
  deliver(receipt("2100"));
  const smsc_report s = smsc_stats("opa");
  EXPECT_EQ(s.submit_to_resp.count, 1u);
  EXPECT_NEAR(static_cast<double>(s.submit_to_resp.p50.count()), 40'000, 2'600);
  EXPECT_EQ(s.submit_to_receipt.count, 1u);
  EXPECT_NEAR(static_cast<double>(s.submit_to_receipt.p50.count()), 5'040'000, 320'000);
  EXPECT_EQ(report("").submit_to_receipt.count, 1u);
}

TEST_F(reconciler_test, finds_parts_accepted_before_a_restart_in_the_database) {
  sent(22);
  sent(23);
  resp(22, 0, "2200");
  resp(23, 0, "2300");
  EXPECT_EQ(deliver(receipt("2300")), receipt_outcome::matched);
  restart();
  EXPECT_EQ(deliver(receipt("898")), receipt_outcome::matched);  // 0x898 = 2200
  EXPECT_EQ(rec_->counters().database_hits, 1u);
  EXPECT_EQ(stored(22).st, state::delivered);
  // A duplicate is recognised from the stored state too.
  EXPECT_EQ(deliver(receipt("2300")), receipt_outcome::duplicate);
}

TEST_F(reconciler_test, settles_an_overdue_unknown_part_with_a_late_receipt) {
  sent(24);
  resp(24, 0, "2400");
  apply({to(24, 0, state::unknown, clock_())});  // the engine gave up waiting
  EXPECT_EQ(deliver(receipt("2400", state::delivered)), receipt_outcome::matched);
  EXPECT_EQ(stored(24).st, state::delivered);
  EXPECT_EQ(stored(24).parts[0].settled_by, cause::receipt);
}

TEST_F(reconciler_test, takes_a_receipt_saying_unknown_for_an_unknown_part_as_a_duplicate) {
  sent(25);
  resp(25, 0, "2500");
  apply({to(25, 0, state::unknown, clock_())});
  // The engine marked the part through the log, so this reconciler still
  // believes it accepted: the log finds nothing to change and counts it.
  (void)deliver(receipt("2500", state::unknown));
  EXPECT_EQ(log_->counters().duplicate_events.load(), 1u);
  EXPECT_EQ(stored(25).parts[0].settled_by, cause::engine);
  // After a restart the stored state is read, and the reconciler itself
  // sees the duplicate.
  restart();
  EXPECT_EQ(deliver(receipt("2500", state::unknown)), receipt_outcome::duplicate);
}

TEST_F(reconciler_test, falls_back_to_the_database_when_memory_generations_roll_over) {
  reconciler_options o;
  o.memory_ids = 16;  // 12 ids per generation
  start(o);
  for (std::uint64_t id = 30; id < 70; ++id) {
    sent(id);
    resp(id, 0, std::to_string(id * 1000));
  }
  // Newest first: the last resps are still in memory, the first ones only
  // in the database.
  for (std::uint64_t id = 69; id >= 30; --id)
    EXPECT_EQ(deliver(receipt(std::to_string(id * 1000))), receipt_outcome::matched) << id;
  EXPECT_GT(rec_->counters().database_hits, 0u);
  EXPECT_GT(rec_->counters().memory_hits, 0u);
  EXPECT_TRUE(open_ids().empty());
}

}  // namespace
