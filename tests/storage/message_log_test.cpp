// The message log on a real RocksDB in a temporary directory.
#include "storage/message_log.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <vector>

namespace {

using namespace storage;

class message_log_test : public ::testing::Test {
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
    log_ = std::make_unique<message_log>(o);
  }

  static message_record message(std::uint64_t id, std::size_t parts = 1) {
    message_record r;
    r.id = id;
    r.recipient = "+37060012345";
    r.sender = "ACME";
    r.text = "Your code is 5930";
    r.parts.resize(parts);
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
  message_record stored(std::uint64_t id) {
    std::error_code ec;
    auto r = log_->get(id, ec);
    EXPECT_FALSE(ec) << ec.message();
    return r.value_or(message_record{});
  }
  std::vector<std::uint64_t> open_ids() {
    std::error_code ec;
    auto ids = log_->open_message_ids(ec);
    EXPECT_FALSE(ec);
    return ids;
  }

  static part_update to(std::uint64_t id, std::uint16_t part, state s, std::int64_t at = 1) {
    part_update u;
    u.message_id = id;
    u.part = part;
    u.to = s;
    u.at_us = at;
    return u;
  }
  static part_update submitted(std::uint64_t id, std::uint16_t part, std::string smsc) {
    part_update u = to(id, part, state::submitting, 100);
    u.smsc = std::move(smsc);
    return u;
  }
  static part_update accepted(std::uint64_t id, std::uint16_t part, std::string smsc_id) {
    part_update u = to(id, part, state::accepted, 120);
    u.smsc_message_id = std::move(smsc_id);
    return u;
  }

  std::filesystem::path dir_;
  std::unique_ptr<message_log> log_;
};

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

TEST_F(message_log_test, follows_a_part_from_queued_to_delivered) {
  add(message(7));
  apply({submitted(7, 0, "opa-1"), accepted(7, 0, "1234567890")});
  auto r = stored(7);
  EXPECT_EQ(r.st, state::accepted);
  EXPECT_EQ(r.parts[0].smsc, "opa-1");
  EXPECT_EQ(r.parts[0].attempts, 1u);
  EXPECT_EQ(r.parts[0].submitted_us, 100);
  EXPECT_EQ(r.parts[0].resp_us, 120);

  part_update d = to(7, 0, state::delivered, 900);
  d.error_code = 0;
  apply({d});
  r = stored(7);
  EXPECT_EQ(r.st, state::delivered);
  EXPECT_EQ(r.parts[0].receipt_us, 900);
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
  apply({submitted(10, 0, "opa-1"), accepted(10, 0, "55"), to(10, 0, state::delivered, 500)});
  apply({to(10, 0, state::delivered, 777)});
  EXPECT_EQ(stored(10).parts[0].receipt_us, 500);
  EXPECT_EQ(log_->counters().illegal_transitions.load(), 0u);
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
