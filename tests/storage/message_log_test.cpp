// The message log on a real RocksDB in a temporary directory.
#include "storage/message_log.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/table.h>
#include <rocksdb/table_properties.h>

#include "log_fixture.hpp"
#include "storage/detail/log_access.hpp"
#include "storage/log_reader.hpp"

namespace {

using namespace storage;

using message_log_test = storage_test::log_test;
using storage_test::hour;
using storage_test::minute;
using storage_test::second;
using storage_test::t0;

TEST_F(message_log_test, stores_a_message_and_reads_it_back) {
  add(message(1));
  const auto r = stored(1);
  EXPECT_EQ(r.recipient, "+37060012345");
  EXPECT_EQ(r.st, state::queued);
  EXPECT_EQ(open_ids(), std::vector<std::uint64_t>{1});
  std::error_code ec;
  EXPECT_FALSE(log_->get(2, ec).has_value());
  EXPECT_EQ(ec, make_error_code(storage_errc::not_found));
}

// Operators tell the log's threads apart in `top -H` and perf by name.
TEST_F(message_log_test, names_its_threads) {
  open(sync_policy::interval);
  std::vector<std::string> names;
  for (const auto& t : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(t.path() / "comm");
    std::string n;
    if (std::getline(comm, n)) names.push_back(n);
  }
  EXPECT_EQ(std::count(names.begin(), names.end(), "log-writer"), 1);
  EXPECT_EQ(std::count(names.begin(), names.end(), "log-sync"), 1);
}

TEST_F(message_log_test, follows_a_part_from_queued_to_delivered) {
  add(message(7));
  apply({submitted(7, 0, "opa-1"), accepted(7, 0, "1234567890")});
  auto r = stored(7);
  EXPECT_EQ(r.st, state::accepted);
  EXPECT_EQ(r.parts[0].smsc, "opa-1");
  EXPECT_EQ(r.parts[0].attempts, 1u);
  EXPECT_EQ(r.parts[0].submitted_us, t0 + 100);
  EXPECT_EQ(r.parts[0].resp_us, t0 + 120);

  part_update d = to(7, 0, state::delivered, t0 + 900);
  d.error_code = 0;
  apply({d});
  r = stored(7);
  EXPECT_EQ(r.st, state::delivered);
  EXPECT_EQ(r.parts[0].receipt_us, t0 + 900);
  EXPECT_TRUE(open_ids().empty());
}

TEST_F(message_log_test, finds_the_part_of_a_receipt_that_names_the_id_in_hex) {
  add(message(8, 2));
  apply({submitted(8, 0, "opa-1"), submitted(8, 1, "opa-1"), accepted(8, 0, "1234567890"),
         accepted(8, 1, "1234567891")});
  std::error_code ec;
  auto ref = log_->find_part("opa-1", "499602D3", id_format::automatic, ec);
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(ref->message_id, 8u);
  EXPECT_EQ(ref->part, 1);
  // Another SMSC account has its own id space.
  EXPECT_FALSE(log_->find_part("opb-1", "499602D3", id_format::automatic, ec).has_value());
}

TEST_F(message_log_test, counts_an_illegal_transition_and_does_not_apply_it) {
  std::vector<std::pair<state, state>> seen;  // written by the writer thread only
  log_options o;
  o.on_illegal = [&](std::uint64_t, std::uint16_t, state from, state to_state) {
    seen.emplace_back(from, to_state);
  };
  open(sync_policy::always, o);
  add(message(9));
  apply({submitted(9, 0, "opa-1"), to(9, 0, state::failed)});
  apply({to(9, 0, state::delivered)});
  EXPECT_EQ(stored(9).parts[0].st, state::failed);
  EXPECT_EQ(log_->counters().illegal_transitions.load(), 1u);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, state::failed);
  EXPECT_EQ(seen[0].second, state::delivered);
}

TEST_F(message_log_test, ignores_a_duplicate_receipt) {
  add(message(10));
  apply({submitted(10, 0, "opa-1"), accepted(10, 0, "55"), to(10, 0, state::delivered, t0 + 500)});
  apply({to(10, 0, state::delivered, t0 + 777)});
  EXPECT_EQ(stored(10).parts[0].receipt_us, t0 + 500);
  EXPECT_EQ(log_->counters().illegal_transitions.load(), 0u);
  EXPECT_EQ(log_->counters().duplicate_events.load(), 1u);
}

TEST_F(message_log_test, derives_the_state_of_a_message_with_mixed_part_outcomes) {
  add(message(11, 3));
  apply({submitted(11, 0, "s"), submitted(11, 1, "s"), submitted(11, 2, "s"),
         accepted(11, 0, "1"), accepted(11, 1, "2"), accepted(11, 2, "3"),
         to(11, 0, state::delivered), to(11, 2, state::delivered)});
  EXPECT_EQ(stored(11).st, state::accepted);
  EXPECT_EQ(open_ids(), std::vector<std::uint64_t>{11});
  apply({to(11, 1, state::undeliverable)});
  EXPECT_EQ(stored(11).st, state::undeliverable);
  EXPECT_TRUE(open_ids().empty());
}

TEST_F(message_log_test, counts_updates_for_messages_it_does_not_have) {
  apply({to(404, 0, state::submitting)});
  add(message(12));
  apply({to(12, 5, state::submitting)});
  EXPECT_EQ(log_->counters().unknown_messages.load(), 2u);
}

TEST_F(message_log_test, keeps_open_messages_and_numbering_across_a_restart) {
  add(message(20));
  add(message(21));
  apply({submitted(21, 0, "opa-1"), accepted(21, 0, "99"), to(21, 0, state::delivered)});
  add(message(22));
  apply({submitted(22, 0, "opa-1")});
  open();  // close and reopen the same directory
  EXPECT_EQ(open_ids(), (std::vector<std::uint64_t>{20, 22}));
  EXPECT_EQ(log_->max_message_id(), 22u);
  EXPECT_EQ(stored(22).parts[0].st, state::submitting);
  // The writer picks up a message it last saw before the restart.
  apply({accepted(22, 0, "100"), to(22, 0, state::delivered)});
  EXPECT_EQ(open_ids(), std::vector<std::uint64_t>{20});
}

TEST_F(message_log_test, refuses_work_when_the_backlog_is_full) {
  log_options o;
  o.max_backlog = 0;
  open(sync_policy::always, o);
  std::error_code ec;
  (void)log_->append(message(1), ec);
  EXPECT_EQ(ec, make_error_code(storage_errc::backlog_full));
}

TEST_F(message_log_test, writes_everything_queued_before_closing) {
  open(sync_policy::never);
  std::error_code ec;
  for (std::uint64_t id = 1; id <= 5000; ++id) {
    (void)log_->append(message(id), ec);
    ASSERT_FALSE(ec);
  }
  open();  // the destructor drains the queue
  EXPECT_EQ(open_ids().size(), 5000u);
}

}  // namespace

namespace {

using storage::campaign_report;
using storage::log_reader;
using storage::state_counts;

TEST_F(message_log_test, applies_a_bulk_of_updates_in_order) {
  add(message(30));
  std::vector<part_update> all = {submitted(30, 0, "opa-1"), accepted(30, 0, "300"),
                                  to(30, 0, state::delivered)};
  std::error_code ec;
  const auto t = log_->update(all, ec);
  ASSERT_FALSE(ec);
  log_->wait_durable(t);
  EXPECT_EQ(stored(30).st, state::delivered);
  EXPECT_EQ(log_->counters().illegal_transitions.load(), 0u);
}

TEST_F(message_log_test, finds_a_message_by_its_idempotency_key_and_refuses_the_key_twice) {
  message_record r = message(40);
  r.idempotency_key = "client-7:order-1182";
  std::error_code ec;
  const auto t = log_->append(r, ec);
  ASSERT_FALSE(ec);
  // Found at once, written or not.
  auto found = log_->find_idempotent("client-7:order-1182", ec);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, 40u);
  message_record again = message(41);
  again.idempotency_key = "client-7:order-1182";
  (void)log_->append(again, ec);
  EXPECT_EQ(ec, make_error_code(storage_errc::duplicate_key));
  log_->wait_durable(t);
  (void)log_->append(again, ec);
  EXPECT_EQ(ec, make_error_code(storage_errc::duplicate_key));
  // Replacing the same message with its own key is allowed.
  r.text = "Your code is 1111";
  add(r);
  EXPECT_EQ(stored(40).text, "Your code is 1111");
  EXPECT_FALSE(log_->find_idempotent("client-7:order-9999", ec).has_value());
  EXPECT_FALSE(ec);
  open();
  found = log_->find_idempotent("client-7:order-1182", ec);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, 40u);
}

TEST_F(message_log_test, lists_the_latest_messages_to_a_number_within_a_window) {
  // Three messages to one number, written in three forms, an hour apart;
  // one to another number in between.
  auto at = [](std::uint64_t id, std::string to_number, std::int64_t queued) {
    message_record r = message(id, 1, std::move(to_number));
    r.queued_us = queued;
    return r;
  };
  add(at(50, "+37060012345", t0));
  add(at(51, "37060099999", t0 + 30 * minute));
  add(at(52, "0037060012345", t0 + hour));
  add(at(53, "37060012345", t0 + 2 * hour));
  std::error_code ec;
  EXPECT_EQ(log_->messages_to("+37060012345", t0, t0 + 3 * hour, 10, ec),
            (std::vector<std::uint64_t>{53, 52, 50}));
  EXPECT_EQ(log_->messages_to("37060012345", t0 + minute, t0 + 3 * hour, 10, ec),
            (std::vector<std::uint64_t>{53, 52}));
  EXPECT_EQ(log_->messages_to("37060012345", t0, t0 + 3 * hour, 1, ec),
            (std::vector<std::uint64_t>{53}));
  EXPECT_EQ(log_->messages_to("37060012345", t0, t0 + hour, 10, ec),
            (std::vector<std::uint64_t>{52, 50}));
  EXPECT_TRUE(log_->messages_to("+1555", t0, t0 + 3 * hour, 10, ec).empty());
  EXPECT_FALSE(ec);
}

TEST_F(message_log_test, counts_a_campaign_by_state_through_transitions_and_a_reopen) {
  add(campaign_message(60, "spring", 1));
  add(campaign_message(61, "spring", 2));
  add(campaign_message(62, "spring", 3, 2));
  add(message(63));  // an API message: campaign ""
  campaign_report r = report("spring");
  EXPECT_EQ(r.messages[state::queued], 3u);
  EXPECT_EQ(r.messages.total(), 3u);
  EXPECT_EQ(report("").messages[state::queued], 1u);

  apply({submitted(60, 0, "opa"), accepted(60, 0, "600"), to(60, 0, state::delivered),
         submitted(61, 0, "opa"), accepted(61, 0, "610"),
         submitted(62, 0, "opa"), submitted(62, 1, "opa"), accepted(62, 0, "620")});
  r = report("spring");
  EXPECT_EQ(r.messages[state::delivered], 1u);
  EXPECT_EQ(r.messages[state::accepted], 1u);
  EXPECT_EQ(r.messages[state::submitting], 1u);  // part 1 lags behind
  EXPECT_EQ(r.messages.total(), 3u);
  EXPECT_EQ(r.messages.by_state, recount("spring").by_state);

  open();  // the counts carry on where they were
  apply({accepted(62, 1, "621"), to(62, 0, state::delivered), to(62, 1, state::undeliverable),
         to(61, 0, state::expired)});
  r = report("spring");
  EXPECT_EQ(r.messages[state::delivered], 1u);
  EXPECT_EQ(r.messages[state::undeliverable], 1u);
  EXPECT_EQ(r.messages[state::expired], 1u);
  EXPECT_EQ(r.messages.total(), 3u);
  EXPECT_EQ(r.messages.by_state, recount("spring").by_state);
  EXPECT_DOUBLE_EQ(r.delivery_rate, 1.0 / 3.0);
  EXPECT_EQ(r.cursor_row, 3u);

  // Replacing a message does not count it twice.
  add(campaign_message(60, "spring", 1));
  EXPECT_EQ(report("spring").messages.by_state, recount("spring").by_state);
}

TEST_F(message_log_test, counts_parts_per_smsc_account_and_records_latencies) {
  add(campaign_message(70, "lat", 1));
  add(campaign_message(71, "lat", 2));
  // Resp 50 ms after submit, receipt 2 s after submit.
  apply({submitted(70, 0, "opa", t0), accepted(70, 0, "700", t0 + 50'000),
         to(70, 0, state::delivered, t0 + 2 * second), submitted(71, 0, "opa", t0),
         accepted(71, 0, "710", t0 + 50'000), to(71, 0, state::undeliverable, t0 + 2 * second)});
  const campaign_report r = report("lat");
  EXPECT_EQ(r.submit_to_resp.count, 2u);
  EXPECT_NEAR(static_cast<double>(r.submit_to_resp.p50.count()), 50'000, 3'200);
  EXPECT_EQ(r.submit_to_receipt.count, 2u);
  EXPECT_NEAR(static_cast<double>(r.submit_to_receipt.p99.count()), 2'000'000, 130'000);
  const auto s = smsc_stats("opa");
  EXPECT_EQ(s.parts[state::delivered], 1u);
  EXPECT_EQ(s.parts[state::undeliverable], 1u);
  EXPECT_EQ(s.parts.total(), 2u);
  EXPECT_EQ(s.submit_to_receipt.count, 2u);
  EXPECT_DOUBLE_EQ(s.delivery_rate, 0.5);
}

TEST_F(message_log_test, indexes_a_part_in_doubt_until_a_receipt_settles_it) {
  add(message(80));
  apply({submitted(80, 0, "opa"), to(80, 0, state::unknown)});
  EXPECT_EQ(smsc_stats("opa").in_doubt, 1u);
  EXPECT_EQ(log_->counters().in_doubt_added.load(), 1u);
  part_update d = to(80, 0, state::delivered, t0 + 5 * second);
  d.cause = cause::receipt_fallback;
  apply({d});
  EXPECT_EQ(smsc_stats("opa").in_doubt, 0u);
  EXPECT_EQ(stored(80).parts[0].settled_by, cause::receipt_fallback);
  EXPECT_EQ(stored(80).parts[0].receipt_us, t0 + 5 * second);
}

TEST_F(message_log_test, keeps_campaign_cursors_over_the_rows_it_has) {
  add(campaign_message(90, "c", 1));
  add(campaign_message(91, "c", 2));
  add(campaign_message(93, "c", 4));
  add(campaign_message(94, "c", 5));
  std::error_code ec;
  auto cursors = log_->campaign_cursors(ec);
  ASSERT_EQ(cursors.count("c"), 1u);
  EXPECT_EQ(cursors["c"].row, 2u);
  EXPECT_EQ(cursors["c"].rows_above, (std::vector<std::uint64_t>{4, 5}));
  open();
  add(campaign_message(92, "c", 3));
  cursors = log_->campaign_cursors(ec);
  EXPECT_EQ(cursors["c"].row, 5u);
  EXPECT_TRUE(cursors["c"].rows_above.empty());
}

TEST_F(message_log_test, reads_back_records_beyond_its_cache) {
  log_options o;
  o.max_cached_records = 4;
  open(sync_policy::always, o);
  for (std::uint64_t id = 100; id < 120; ++id) add(message(id));
  for (std::uint64_t id = 100; id < 120; ++id)
    apply({submitted(id, 0, "opa"), accepted(id, 0, std::to_string(id))});
  for (std::uint64_t id = 100; id < 120; ++id) apply({to(id, 0, state::delivered)});
  for (std::uint64_t id = 100; id < 120; ++id) EXPECT_EQ(stored(id).st, state::delivered) << id;
  EXPECT_GT(log_->counters().record_reads.load(), 0u);
  EXPECT_TRUE(open_ids().empty());
}

TEST_F(message_log_test, opens_rocksdb_with_the_memory_bounds_it_is_given) {
  log_options o;
  o.memtable_bytes = std::size_t{24} << 20;
  o.block_cache_bytes = std::size_t{40} << 20;
  open(sync_policy::never, o);
  const auto& h = detail::log_access::handles(*log_);
  EXPECT_EQ(h.db->GetDBOptions().db_write_buffer_size, o.memtable_bytes);
  for (auto* cf : h.cfs) {
    const rocksdb::Options options = h.db->GetOptions(cf);
    // No column family's memtable is larger than all of them together.
    EXPECT_EQ(options.write_buffer_size, o.memtable_bytes) << cf->GetName();
    const auto* table = options.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
    ASSERT_NE(table, nullptr) << cf->GetName();
    EXPECT_EQ(table->block_cache->GetCapacity(), o.block_cache_bytes) << cf->GetName();
  }
  // The defaults: 96 MiB of memtables (32 MiB at most each), 16 MiB of cache.
  open(sync_policy::never, log_options{});
  const auto& d = detail::log_access::handles(*log_);
  EXPECT_EQ(d.db->GetDBOptions().db_write_buffer_size, std::size_t{96} << 20);
  EXPECT_EQ(d.db->GetOptions(d.cfs[detail::cf_messages]).write_buffer_size, std::size_t{32} << 20);
}

TEST_F(message_log_test, finds_records_receipt_ids_and_recipients_in_compacted_files) {
  // Enough messages for several index and filter partitions per file, then
  // everything compacted into table files and the log reopened, so that
  // every lookup below goes through the files' partitioned filters and
  // indexes (hits and misses alike), not the memtables or the cache.
  constexpr std::uint64_t n = 20'000;
  log_options o;
  o.max_cached_records = 4;
  open(sync_policy::never, o);
  std::error_code ec;
  for (std::uint64_t id = 1; id <= n; ++id) {
    (void)log_->append(campaign_message(id, "p", id), ec);
    ASSERT_FALSE(ec) << id;
    (void)log_->update(submitted(id, 0, "opa"), ec);
    ASSERT_FALSE(ec) << id;
    (void)log_->update(accepted(id, 0, std::to_string(900000 + id)), ec);
    ASSERT_FALSE(ec) << id;
    if (id % 1000 == 0) settle();
  }
  settle();
  log_->compact();
  open(sync_policy::never, o);
  // The records' files really have their index in several pieces.
  const auto& h = detail::log_access::handles(*log_);
  rocksdb::TablePropertiesCollection tables;
  ASSERT_TRUE(h.db->GetPropertiesOfAllTables(h.cfs[detail::cf_messages], &tables).ok());
  ASSERT_FALSE(tables.empty());
  std::uint64_t partitions = 0;
  for (const auto& [file, properties] : tables) partitions = std::max(partitions, properties->index_partitions);
  EXPECT_GT(partitions, 1u);
  for (std::uint64_t id = 1; id <= n; id += 37) {
    const auto r = stored(id);
    EXPECT_EQ(r.id, id);
    EXPECT_EQ(r.st, state::accepted) << id;
    const auto ref = log_->find_part("opa", std::to_string(900000 + id), id_format::automatic, ec);
    ASSERT_TRUE(ref.has_value()) << id;
    EXPECT_EQ(ref->message_id, id);
    const auto to_ids = log_->messages_to("+3706" + std::to_string(1000000 + id), 0, INT64_MAX, 10, ec);
    EXPECT_EQ(to_ids, std::vector<std::uint64_t>{id}) << id;
  }
  // Absent keys: no record, no part, no message to the number.
  EXPECT_FALSE(log_->get(n + 1, ec).has_value());
  EXPECT_FALSE(log_->find_part("opa", std::to_string(900000 + n + 1), id_format::automatic, ec).has_value());
  EXPECT_TRUE(log_->messages_to("+37069999999", 0, INT64_MAX, 10, ec).empty());
  EXPECT_EQ(open_ids().size(), n);
}

TEST_F(message_log_test, removes_old_final_messages_and_their_index_entries_only) {
  // Old and final: goes. Old but waiting for its receipt, or final but
  // recent: stays.
  message_record gone = campaign_message(200, "r", 1);
  gone.idempotency_key = "k-200";
  add(gone);
  add(campaign_message(201, "r", 2));  // old, accepted: stays
  add(campaign_message(202, "r", 3));  // old, in doubt: goes
  apply({submitted(200, 0, "opa", t0), accepted(200, 0, "2000", t0 + second),
         to(200, 0, state::delivered, t0 + 2 * second), submitted(201, 0, "opa", t0),
         accepted(201, 0, "2010", t0 + second), submitted(202, 0, "opa", t0),
         to(202, 0, state::unknown, t0 + minute)});
  message_record recent = campaign_message(203, "r", 4);
  recent.queued_us = t0 + 10 * hour;
  add(recent);
  apply({submitted(203, 0, "opa", t0 + 10 * hour), accepted(203, 0, "2030", t0 + 10 * hour),
         to(203, 0, state::delivered, t0 + 10 * hour)});
  const state_counts before = report("r").messages;

  std::error_code ec;
  EXPECT_EQ(log_->remove_before(t0 + 5 * hour, ec), 2u);
  ASSERT_FALSE(ec);
  EXPECT_FALSE(log_->get(200, ec).has_value());
  EXPECT_EQ(ec, make_error_code(storage_errc::not_found));
  EXPECT_FALSE(log_->get(202, ec).has_value());
  EXPECT_EQ(stored(201).st, state::accepted);
  EXPECT_EQ(stored(203).st, state::delivered);
  EXPECT_FALSE(log_->find_part("opa", "2000", id_format::automatic, ec).has_value());
  EXPECT_TRUE(log_->find_part("opa", "2010", id_format::automatic, ec).has_value());
  EXPECT_FALSE(log_->find_idempotent("k-200", ec).has_value());
  EXPECT_TRUE(log_->messages_to(gone.recipient, 0, t0 + 20 * hour, 10, ec).empty());
  EXPECT_EQ(smsc_stats("opa").in_doubt, 0u);
  // The report still adds up, and says how many went.
  const campaign_report after = report("r");
  EXPECT_EQ(after.messages.by_state, before.by_state);
  EXPECT_EQ(after.removed, 2u);
  EXPECT_EQ(log_->counters().removed_messages.load(), 2u);
  // A second pass finds nothing more; the receipt for 201 still lands.
  EXPECT_EQ(log_->remove_before(t0 + 5 * hour, ec), 0u);
  apply({to(201, 0, state::delivered, t0 + 11 * hour)});
  EXPECT_EQ(stored(201).st, state::delivered);
}

TEST_F(message_log_test, leaves_an_smsc_id_reused_by_a_newer_message_when_removing_the_old) {
  add(message(300));
  apply({submitted(300, 0, "opa", t0), accepted(300, 0, "77", t0), to(300, 0, state::delivered, t0)});
  message_record newer = message(301);
  newer.queued_us = t0 + 10 * hour;
  add(newer);
  apply({submitted(301, 0, "opa", t0 + 10 * hour), accepted(301, 0, "77", t0 + 10 * hour)});
  std::error_code ec;
  EXPECT_EQ(log_->remove_before(t0 + hour, ec), 1u);
  const auto ref = log_->find_part("opa", "77", id_format::automatic, ec);
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(ref->message_id, 301u);
}

TEST_F(message_log_test, removes_old_messages_by_itself_when_retention_is_set) {
  log_options o;
  o.retention = std::chrono::hours(24);
  o.retention_interval = std::chrono::seconds(0);
  open(sync_policy::always, o);
  add(message(400));
  apply({submitted(400, 0, "opa", t0), accepted(400, 0, "4000", t0),
         to(400, 0, state::delivered, t0)});
  add(message(401));
  clock_.advance(25 * hour);
  // The writer runs retention on its own; wait for it (no timing is
  // asserted: the deadline is only a guard against a hang).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (log_->counters().removed_messages.load() == 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  EXPECT_EQ(log_->counters().removed_messages.load(), 1u);
  std::error_code ec;
  EXPECT_FALSE(log_->get(400, ec).has_value());
  EXPECT_EQ(stored(401).st, state::queued);
}

TEST_F(message_log_test, tells_the_metrics_a_campaigns_and_an_accounts_states_from_the_live_log) {
  add(campaign_message(80, "m", 1));
  add(campaign_message(81, "m", 2, 2));
  apply({submitted(80, 0, "opa"), accepted(80, 0, "800"), to(80, 0, state::delivered), submitted(81, 0, "opa"),
         submitted(81, 1, "opa"), accepted(81, 0, "810")});
  std::error_code ec;
  const auto campaign = log_->campaign_states("m", ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(campaign[static_cast<std::size_t>(state::delivered)], 1u);
  EXPECT_EQ(campaign[static_cast<std::size_t>(state::submitting)], 1u);  // part 1 lags behind
  EXPECT_EQ(campaign, report("m").messages.by_state);                   // what a reader sees
  const auto account = log_->smsc_states("opa", ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(account[static_cast<std::size_t>(state::delivered)], 1u);
  EXPECT_EQ(account[static_cast<std::size_t>(state::accepted)], 1u);
  EXPECT_EQ(account[static_cast<std::size_t>(state::submitting)], 1u);
  // Names the log has never seen read as nothing.
  const auto none = log_->campaign_states("nobody", ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(none, (std::array<std::uint64_t, state_count>{}));
  EXPECT_EQ(log_->backlog(), 0u);  // everything applied is durable
}

TEST_F(message_log_test, tells_the_metrics_an_accounts_submit_to_receipt_times) {
  add(message(90));
  add(message(91));
  add(message(92));
  apply({submitted(90, 0, "opb", t0), accepted(90, 0, "900", t0 + 1000),
         to(90, 0, state::delivered, t0 + 2'000'000), submitted(91, 0, "opb", t0),
         accepted(91, 0, "910", t0 + 1000), to(91, 0, state::undeliverable, t0 + 30'000'000),
         submitted(92, 0, "opb", t0), accepted(92, 0, "920", t0 + 1000)});
  std::error_code ec;
  const latency_histogram h = log_->smsc_receipt_latency("opb", ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(h.count(), 2u);  // message 92 has no receipt yet
  EXPECT_EQ(latency_histogram::bucket_of(h.percentile(0.5)), latency_histogram::bucket_of(std::chrono::seconds(2)));
  EXPECT_EQ(latency_histogram::bucket_of(h.max()), latency_histogram::bucket_of(std::chrono::seconds(30)));
  EXPECT_EQ(log_->smsc_receipt_latency("nobody", ec).count(), 0u);
  EXPECT_FALSE(ec);
}

}  // namespace

namespace {

// The urgent lane: taken by the writer ahead of everything normal that
// waits, however much that is; tickets numbered apart.
TEST_F(message_log_test, an_urgent_record_is_durable_before_a_large_normal_backlog) {
  // The writer is held after its first batch while the backlog and the
  // urgent record are queued (a producer that merely outpaces the writer
  // did not always: the writer kept up with a slow one). Then: what the
  // writer had made durable (normal lane) when the urgent record first was,
  // read on the writer thread after each batch.
  std::atomic<bool> hold{true}, held{false};
  std::atomic<std::uint64_t> urgent_ticket{0}, normal_then{0};
  log_options o;
  o.on_durable = [&](std::uint64_t d) {
    while (hold.load()) {
      held.store(true);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const std::uint64_t u = urgent_ticket.load();
    if (u && !normal_then.load() && log_->is_durable(u)) normal_then.store(d | urgent_ticket_bit);
  };
  open(sync_policy::interval, o);
  std::error_code ec;
  std::uint64_t last_normal = log_->append(campaign_message(1, "spring", 1), ec);
  ASSERT_FALSE(ec) << ec.message();
  while (!held.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (std::uint64_t id = 2; id <= 40000; ++id) {
    last_normal = log_->append(campaign_message(id, "spring", id), ec);
    ASSERT_FALSE(ec) << ec.message();
  }
  const std::uint64_t before = log_->durable_ticket();
  ASSERT_GT(last_normal - before, 8192u) << "no backlog to overtake";
  const std::uint64_t urgent = log_->append(message(50000), ec, urgency::urgent);
  ASSERT_FALSE(ec);
  urgent_ticket.store(urgent);
  EXPECT_TRUE(urgent & urgent_ticket_bit);
  EXPECT_EQ(log_->issued_ticket(urgency::urgent), urgent);
  EXPECT_EQ(log_->issued_ticket(), last_normal);
  hold.store(false);
  log_->wait_durable(urgent);
  EXPECT_EQ(stored(50000).recipient, "+37060012345");
  log_->wait_durable(last_normal);
  // The writer takes at most 1024 normal events a batch: the urgent record
  // was in the first or second batch after it came, long before the rest.
  const std::uint64_t then = normal_then.load() & ~urgent_ticket_bit;
  EXPECT_LE(then, before + 3 * 1024) << "normal events written before the urgent one: " << then - before;
  EXPECT_TRUE(log_->is_durable(last_normal) && log_->is_durable(urgent) && log_->is_durable(0));
}

TEST_F(message_log_test, a_normal_event_never_overtakes_an_urgent_one_queued_before_it) {
  open(sync_policy::interval);
  std::error_code ec;
  std::uint64_t last = 0;
  for (std::uint64_t id = 1; id <= 2000; ++id) {
    (void)log_->append(message(id), ec, urgency::urgent);
    part_update u = submitted(id, 0, "opa-1");
    last = log_->update(u, ec);  // normal: applied after its urgent record
    ASSERT_FALSE(ec);
  }
  log_->wait_durable(last);
  log_->wait_durable(log_->issued_ticket(urgency::urgent));
  EXPECT_EQ(log_->counters().unknown_messages.load(), 0u);
  for (std::uint64_t id : {1u, 777u, 2000u}) EXPECT_EQ(stored(id).parts[0].st, state::submitting) << id;
}

// A notification is handed to the dispatcher as soon as its record is
// queued, so its first submit can reach the writer before the record (the
// urgent lane keeps each producer's order, not the order between them):
// the update waits for its record, is applied with it, and is durable only
// then.
TEST_F(message_log_test, an_update_that_comes_before_its_urgent_record_waits_for_it) {
  // The writer is held after its first batch while both are queued.
  std::atomic<bool> hold{true}, held{false};
  log_options o;
  o.on_durable = [&](std::uint64_t) {
    while (hold.load()) {
      held.store(true);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  };
  open(sync_policy::interval, o);
  std::error_code ec;
  (void)log_->append(message(1), ec, urgency::urgent);
  ASSERT_FALSE(ec);
  while (!held.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::uint64_t last_update = 0;
  for (std::uint64_t round = 0; round < 5; ++round) {
    const std::uint64_t first = 2 + round * 100;
    for (std::uint64_t id = first; id < first + 100; ++id) {
      (void)log_->append(message(id), ec, urgency::urgent);
      ASSERT_FALSE(ec);
    }
    // Another producer, as the dispatcher is: its events can be taken first.
    std::thread dispatcher([&] {
      for (std::uint64_t id = first; id < first + 100; ++id) {
        std::error_code uec;
        last_update = log_->update(submitted(id, 0, "opa-1"), uec, urgency::urgent);
        ASSERT_FALSE(uec);
      }
    });
    dispatcher.join();
  }
  EXPECT_FALSE(log_->is_durable(last_update));
  hold.store(false);
  log_->wait_durable(last_update);
  EXPECT_EQ(log_->counters().unknown_messages.load(), 0u);
  EXPECT_GT(log_->counters().early_updates.load(), 0u) << "no update came before its record: the case is untested";
  for (std::uint64_t id = 2; id < 502; ++id) EXPECT_EQ(stored(id).parts[0].st, state::submitting) << id;
}

}  // namespace

namespace {

using storage_test::indexed_open_ids;

class open_index_test : public storage_test::log_test {
 protected:
  // 200 messages, the even ones delivered at once; returns the odd ones.
  std::vector<std::uint64_t> two_hundred_half_delivered() {
    std::error_code ec;
    for (std::uint64_t id = 1; id <= 200; ++id) {
      (void)log_->append(message(id), ec);
      EXPECT_FALSE(ec) << ec.message();
    }
    for (std::uint64_t id = 2; id <= 200; id += 2) deliver(id);
    settle();
    std::vector<std::uint64_t> odd;
    for (std::uint64_t id = 1; id < 200; id += 2) odd.push_back(id);
    return odd;
  }
  void deliver(std::uint64_t id) {
    std::error_code ec;
    for (const part_update& u :
         {submitted(id, 0, "opa-1"), accepted(id, 0, std::to_string(id)), to(id, 0, state::delivered)}) {
      (void)log_->update(u, ec);
      EXPECT_FALSE(ec) << ec.message();
    }
  }
};

// Most messages are final within a second or two: the open index hears
// of a message only once it has been open for open_index_delay, and
// open_message_ids() finds the newer ones by their records.
TEST_F(open_index_test, leaves_a_message_out_until_it_has_been_open_for_the_delay) {
  log_options o;
  o.open_index_delay = std::chrono::hours(1);
  o.max_cached_records = 8;  // most records leave the cache while they wait
  open(sync_policy::interval, o);
  std::vector<std::uint64_t> odd = two_hundred_half_delivered();
  EXPECT_TRUE(indexed_open_ids(*log_).empty());
  EXPECT_EQ(open_ids(), odd);
  EXPECT_EQ(log_->counters().open_indexed.load(), 0u);
  // Reopened (as after a crash, which leaves the same on disk), the log
  // indexes the messages still open.
  open(sync_policy::interval, o);
  EXPECT_EQ(indexed_open_ids(*log_), odd);
  EXPECT_EQ(open_ids(), odd);
  // One of them final now leaves the index.
  deliver(1);
  settle();
  odd.erase(odd.begin());
  EXPECT_EQ(indexed_open_ids(*log_), odd);
  EXPECT_EQ(open_ids(), odd);
}

TEST_F(open_index_test, indexes_a_message_still_open_after_the_delay_and_drops_it_once_final) {
  log_options o;
  o.open_index_delay = std::chrono::milliseconds(100);
  o.max_cached_records = 8;
  open(sync_policy::interval, o);
  const std::vector<std::uint64_t> odd = two_hundred_half_delivered();
  // The writer gets to them a few 50 ms marks later (bounded wait).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (indexed_open_ids(*log_) != odd && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(indexed_open_ids(*log_), odd);
  EXPECT_EQ(open_ids(), odd);
  EXPECT_GE(log_->counters().open_indexed.load(), odd.size());
  // Final, they leave it, whether the writer still caches them or reads
  // them back.
  for (std::uint64_t id : odd) deliver(id);
  settle();
  EXPECT_TRUE(indexed_open_ids(*log_).empty());
  EXPECT_TRUE(open_ids().empty());
  // A record written again below the watermark is indexed at once.
  add(message(7));
  EXPECT_EQ(indexed_open_ids(*log_), std::vector<std::uint64_t>{7});
}

TEST_F(open_index_test, indexes_at_once_a_message_far_beyond_the_ids_it_defers) {
  log_options o;
  o.open_index_delay = std::chrono::hours(1);
  open(sync_policy::interval, o);
  const std::uint64_t far = std::uint64_t{1} << 40;
  add(message(1));
  add(message(far));
  EXPECT_EQ(indexed_open_ids(*log_), std::vector<std::uint64_t>{far});
  EXPECT_EQ(open_ids(), (std::vector<std::uint64_t>{1, far}));
  deliver(far);
  settle();
  EXPECT_TRUE(indexed_open_ids(*log_).empty());
  EXPECT_EQ(open_ids(), std::vector<std::uint64_t>{1});
}

}  // namespace
