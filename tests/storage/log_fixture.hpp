// Plumbing shared by the storage suites: a message log on real RocksDB in a
// fresh temporary directory (removed afterwards), a settable wall clock,
// and short builders for records and part updates, so that a test body
// reads as the story it tells. Tests only.
#pragma once

#include <gtest/gtest.h>

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include <rocksdb/db.h>

#include "storage/detail/log_access.hpp"
#include "storage/detail/varint.hpp"
#include "storage/log_reader.hpp"
#include "storage/message_log.hpp"

namespace storage_test {

using namespace storage;

// The ids the open index holds itself (without the records newer than
// it covers, which open_message_ids() adds).
inline std::vector<std::uint64_t> indexed_open_ids(const message_log& log) {
  const detail::db_handles& h = detail::log_access::handles(log);
  std::unique_ptr<rocksdb::Iterator> it(h.db->NewIterator(rocksdb::ReadOptions(), h.cfs[detail::cf_open]));
  std::vector<std::uint64_t> ids;
  for (it->SeekToFirst(); it->Valid(); it->Next())
    if (it->key().size() == 8) ids.push_back(detail::read_u64_be(it->key().ToStringView()));
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return ids;
}

// 2023-11-14 22:13:20 UTC, a round number far from zero.
inline constexpr std::int64_t t0 = 1'700'000'000'000'000;
inline constexpr std::int64_t second = 1'000'000;
inline constexpr std::int64_t minute = 60 * second;
inline constexpr std::int64_t hour = 60 * minute;

struct manual_clock {
  std::shared_ptr<std::atomic<std::int64_t>> now = std::make_shared<std::atomic<std::int64_t>>(t0);
  std::function<std::int64_t()> fn() const {
    return [n = now] { return n->load(); };
  }
  void advance(std::int64_t us) { now->fetch_add(us); }
  std::int64_t operator()() const { return now->load(); }
};

class log_test : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/smppd-log-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    open();
  }
  void TearDown() override {
    log_.reset();
    std::filesystem::remove_all(dir_);
  }
  void open(sync_policy sync = sync_policy::always, log_options o = {}) {
    log_.reset();
    o.dir = dir_;
    o.sync = sync;
    if (!o.now_us) o.now_us = clock_.fn();
    log_ = std::make_unique<message_log>(o);
  }

  static message_record message(std::uint64_t id, std::size_t parts = 1,
                                std::string recipient = "+37060012345") {
    message_record r;
    r.id = id;
    r.recipient = std::move(recipient);
    r.sender = "ACME";
    r.text = "Your code is 5930";
    r.queued_us = t0 + static_cast<std::int64_t>(id);
    r.parts.resize(parts);
    return r;
  }
  static message_record campaign_message(std::uint64_t id, std::string campaign, std::uint64_t row,
                                         std::size_t parts = 1) {
    message_record r = message(id, parts, "+3706" + std::to_string(1000000 + id));
    r.origin = origin::campaign;
    r.campaign = std::move(campaign);
    r.row = row;
    return r;
  }

  // Applies updates and waits until they are durable.
  void apply(std::initializer_list<part_update> updates) {
    std::uint64_t last = 0;
    for (const part_update& u : updates) {
      std::error_code ec;
      last = log_->update(u, ec);
      ASSERT_FALSE(ec) << ec.message();
    }
    log_->wait_durable(last);
  }
  void add(message_record r) {
    std::error_code ec;
    const auto t = log_->append(std::move(r), ec);
    ASSERT_FALSE(ec) << ec.message();
    log_->wait_durable(t);
  }
  // Waits until everything queued so far is durable.
  void settle() {
    std::error_code ec;
    const auto t = log_->update(to(0, 0, state::queued), ec);  // names no message: counted, harmless
    ASSERT_FALSE(ec);
    log_->wait_durable(t);
  }
  message_record stored(std::uint64_t id) {
    std::error_code ec;
    auto r = log_->get(id, ec);
    EXPECT_FALSE(ec) << "message " << id << ": " << ec.message();
    return r.value_or(message_record{});
  }
  std::vector<std::uint64_t> open_ids() {
    std::error_code ec;
    auto ids = log_->open_message_ids(ec);
    EXPECT_FALSE(ec);
    return ids;
  }

  // Reports as another process would read them (a secondary instance
  // opened now, so it has caught up).
  campaign_report report(std::string_view campaign) {
    log_reader reader({dir_, {}});
    std::error_code ec;
    auto r = reader.report(campaign, ec);
    EXPECT_FALSE(ec) << ec.message();
    return r;
  }
  smsc_report smsc_stats(std::string_view smsc) {
    log_reader reader({dir_, {}});
    std::error_code ec;
    auto r = reader.smsc(smsc, ec);
    EXPECT_FALSE(ec) << ec.message();
    return r;
  }
  // Message states of a campaign counted from the records themselves.
  state_counts recount(std::string_view campaign) {
    state_counts c;
    for (std::uint64_t id = 1; id <= log_->max_message_id(); ++id) {
      std::error_code ec;
      const auto r = log_->get(id, ec);
      if (r && r->campaign == campaign) ++c.by_state[static_cast<std::size_t>(r->st)];
    }
    return c;
  }

  static part_update to(std::uint64_t id, std::uint16_t part, state s, std::int64_t at = t0 + 1) {
    part_update u;
    u.message_id = id;
    u.part = part;
    u.to = s;
    u.at_us = at;
    return u;
  }
  static part_update submitted(std::uint64_t id, std::uint16_t part, std::string smsc,
                               std::int64_t at = t0 + 100) {
    part_update u = to(id, part, state::submitting, at);
    u.smsc = std::move(smsc);
    return u;
  }
  static part_update accepted(std::uint64_t id, std::uint16_t part, std::string smsc_id,
                              std::int64_t at = t0 + 120) {
    part_update u = to(id, part, state::accepted, at);
    u.smsc_message_id = std::move(smsc_id);
    return u;
  }

  manual_clock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<message_log> log_;
};

}  // namespace storage_test
