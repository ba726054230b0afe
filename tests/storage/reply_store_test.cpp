// Replies in the message log on real RocksDB: parts kept until their
// message is whole, replies by id and by customer, content seen lately,
// the opt-out list, the webhook outbox (replies' and messages' events),
// answer marks, the delivery deadline list; what survives a reopen; a
// database written before two-way messaging opens for writing and for
// reading; retention removing old replies and conversations with their
// index keys, in bounded steps, keeping opt-outs and listings consistent.
#include <gtest/gtest.h>

#include <rocksdb/db.h>

#include <map>
#include <memory>

#include "storage/reply_store.hpp"
#include "tests/storage/log_fixture.hpp"

namespace {

using namespace storage_test;

class reply_store_test : public log_test {
 protected:
  static inbound_part part(std::uint8_t seq, std::string text = "half") {
    inbound_part p;
    p.smsc = "sim";
    p.source = "37060012345";
    p.destination = "12345";
    p.data_coding = 8;
    p.sar_reference = 77;
    p.sar_total = 2;
    p.sar_seqnum = seq;
    p.received_us = t0 + seq;
    p.short_message = std::move(text);
    return p;
  }
  static reply_record reply(std::string from, std::int64_t at, std::string text) {
    reply_record r;
    r.smsc = "sim";
    r.from = std::move(from);
    r.to = "12345";
    r.text = std::move(text);
    r.received_us = at;
    return r;
  }
};

TEST_F(reply_store_test, encodings_round_trip_and_refuse_cut_input) {
  inbound_part p = part(2, std::string("\x05\x00\x03\x4d\x02\x02zz", 8));
  p.data_sm = true;
  reply_record r = reply("+37060012345", t0, "Taip, ačiū");
  r.id = 9;
  r.parts_total = 3;
  r.parts_received = 2;
  r.keyword = reply_keyword::opt_out;
  r.conversation = 12;
  r.method = match_method::code;
  r.answer = "yes";
  opt_out_entry e{true, t0, 9, "STOP"};
  std::string a, b, c;
  encode_part(p, a);
  encode_reply(r, b);
  encode_opt_out(e, c);
  inbound_part p2;
  reply_record r2;
  opt_out_entry e2;
  ASSERT_FALSE(decode_part(a, p2));
  ASSERT_FALSE(decode_reply(b, r2));
  ASSERT_FALSE(decode_opt_out(c, e2));
  EXPECT_EQ(p2, p);
  EXPECT_EQ(r2, r);
  EXPECT_EQ(e2, e);
  for (std::size_t n = 0; n < a.size(); ++n) EXPECT_TRUE(decode_part(a.substr(0, n), p2)) << n;
  for (std::size_t n = 0; n < b.size(); ++n) EXPECT_TRUE(decode_reply(b.substr(0, n), r2)) << n;
  for (std::size_t n = 0; n < c.size(); ++n) EXPECT_TRUE(decode_opt_out(c.substr(0, n), e2)) << n;
  b[0] = 7;
  EXPECT_EQ(decode_reply(b, r2), storage_errc::unknown_version);
}

TEST_F(reply_store_test, conversations_round_trip_and_are_listed_by_customer_newest_first) {
  conversation_record c{3, "+37060012345", "+37060000100", "#4821", 77, t0, t0 + hour, "", 0, 0, "visits"};
  std::string v;
  encode_conversation(c, v);
  conversation_record back;
  ASSERT_FALSE(decode_conversation(v, back));
  EXPECT_EQ(back, c);
  // Entries written before conversations named their campaign end before
  // it: read with campaign "". Any other cut is refused.
  const std::size_t without_campaign = v.size() - 1 - c.campaign.size();
  for (std::size_t n = 0; n < v.size(); ++n) {
    if (n == without_campaign) continue;
    EXPECT_TRUE(decode_conversation(v.substr(0, n), back)) << n;
  }
  ASSERT_FALSE(decode_conversation(v.substr(0, without_campaign), back));
  EXPECT_EQ(back.campaign, "");
  EXPECT_EQ(back.code, c.code);
  {
    reply_store store(*log_);
    std::error_code ec;
    (void)store.put_conversation(c, ec);
    auto later = c;
    later.id = 4;
    later.opened_us = t0 + 5;
    (void)store.put_conversation(later, ec);
    c.answer = "yes";  // changed: stored again under its id
    c.replies = 1;
    log_->wait_durable(store.put_conversation(c, ec));
  }
  open();
  reply_store store(*log_);
  std::error_code ec;
  EXPECT_EQ(store.max_conversation_id(), 4u);
  auto list = store.conversations_of("0037060012345", 10, ec);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, 4u);
  EXPECT_EQ(list[1], c);
  EXPECT_EQ(store.conversations_since(t0 + 1, ec).size(), 1u);
  EXPECT_EQ(store.conversation(3, ec)->answer, "yes");
  // By campaign, by id, paged; the one without a campaign is in none.
  auto visits = store.conversations_of_campaign("visits", 0, 10, ec);
  ASSERT_EQ(visits.size(), 2u);
  EXPECT_EQ(visits[0], c);
  EXPECT_EQ(visits[1].id, 4u);
  EXPECT_EQ(store.conversations_of_campaign("visits", 0, 1, ec).size(), 1u);
  ASSERT_EQ(store.conversations_of_campaign("visits", 3, 10, ec).size(), 1u);
  EXPECT_TRUE(store.conversations_of_campaign("visits", 4, 10, ec).empty());
  EXPECT_TRUE(store.conversations_of_campaign("visit", 0, 10, ec).empty());
  EXPECT_TRUE(store.conversations_of_campaign("", 0, 10, ec).empty());
}

TEST_F(reply_store_test, parts_wait_until_their_reply_takes_them_and_survive_a_reopen) {
  std::string k1, k2;
  {
    reply_store store(*log_);
    std::error_code ec;
    (void)store.add_part(part(2), k2, ec);
    ASSERT_FALSE(ec);
    log_->wait_durable(store.add_part(part(1), k1, ec));
    ASSERT_FALSE(ec);
    EXPECT_TRUE(store.seen(reply_store::seen_key(part(1)), ec));
    EXPECT_FALSE(store.seen(reply_store::seen_key(part(1, "other")), ec));
  }
  open();  // a restart
  reply_store store(*log_);
  std::error_code ec;
  auto waiting = store.waiting_parts(ec);
  ASSERT_FALSE(ec);
  ASSERT_EQ(waiting.size(), 2u);
  EXPECT_EQ(waiting[0].second, part(1));  // oldest first
  EXPECT_EQ(waiting[1].second, part(2));
  reply_record r = reply("+37060012345", t0 + 1, "half half");
  r.parts_total = 2;
  r.parts_received = 2;
  const std::vector<std::string> keys{waiting[0].first, waiting[1].first};
  log_->wait_durable(store.add_reply(r, keys, {}, ec));
  ASSERT_FALSE(ec);
  EXPECT_EQ(r.id, 1u);
  EXPECT_TRUE(store.waiting_parts(ec).empty());
  auto got = store.get(1, ec);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, r);
}

TEST_F(reply_store_test, webhook_events_are_written_with_their_reply_then_retried_dead_lettered_and_revived) {
  {
    reply_store store(*log_);
    std::error_code ec;
    reply_record r = reply("+37060012345", t0, "Yes");
    const std::vector<std::string> hooks{"crm", "team"};
    log_->wait_durable(store.add_reply(r, {}, {}, ec, hooks));
    ASSERT_FALSE(ec);
    reply_record quiet = reply("+37060012346", t0 + 1, "No");  // no webhook wants it
    log_->wait_durable(store.add_reply(quiet, {}, {}, ec));
    ASSERT_FALSE(ec);
  }
  open();  // a restart: the events are there with their reply
  reply_store store(*log_);
  std::error_code ec;
  auto waiting = store.outbox(100, ec);
  ASSERT_FALSE(ec);
  ASSERT_EQ(waiting.size(), 2u);
  EXPECT_EQ(waiting[0], (outbox_entry{1, "crm", 0, 0, ""}));
  EXPECT_EQ(waiting[1].webhook, "team");
  EXPECT_EQ(store.outbox(1, ec).size(), 1u);

  outbox_entry failed = waiting[0];
  failed.attempts = 1;
  failed.next_us = t0 + 5;
  failed.last_error = "HTTP 500";
  log_->wait_durable(store.outbox_failed(failed, ec));
  log_->wait_durable(store.outbox_delivered(waiting[1], ec));
  ASSERT_FALSE(ec);
  waiting = store.outbox(100, ec);
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0], failed);

  log_->wait_durable(store.outbox_dead(failed, ec));
  EXPECT_TRUE(store.outbox(100, ec).empty());
  auto dead = store.dead_letters(100, ec);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0], failed);

  EXPECT_EQ(store.retry_dead_letters(ec), 1u);  // durable when it returns
  ASSERT_FALSE(ec);
  EXPECT_TRUE(store.dead_letters(100, ec).empty());
  waiting = store.outbox(100, ec);
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0], (outbox_entry{1, "crm", 0, 0, "HTTP 500"}));  // tried at once, the last error kept
  EXPECT_EQ(store.retry_dead_letters(ec), 0u);
}

TEST_F(reply_store_test, message_event_entries_have_their_own_keys_and_reply_entries_read_as_before) {
  // A reply's entry as an older smppd wrote it, by hand: 'o', reply id 7
  // (8 octets BE), webhook "crm"; version 1, 2 attempts, next 0, error "x".
  const std::string reply_key = std::string("o\0\0\0\0\0\0\0\x07", 9) + "crm";
  const std::string reply_value = {1, 2, 0, 1, 'x'};
  outbox_entry e;
  ASSERT_FALSE(decode_outbox(reply_key, reply_value, e));
  outbox_entry want_reply;
  want_reply.reply_id = 7;
  want_reply.webhook = "crm";
  want_reply.attempts = 2;
  want_reply.last_error = "x";
  EXPECT_EQ(e, want_reply);
  EXPECT_EQ(outbox_key(want_reply, false), reply_key);
  std::string v;
  encode_outbox(want_reply, v);
  EXPECT_EQ(v, reply_value);

  // A message's: 'm', message id 0x0102 BE, event 2 (failed), webhook
  // "ops"; the reply's fields, then state 5 (undeliverable), cause 1
  // (receipt), error 0x0b, status 0, at 300 (varint 0xac 0x02).
  outbox_entry m;
  m.event = message_event::failed;
  m.message_id = 0x0102;
  m.webhook = "ops";
  m.st = state::undeliverable;
  m.settled_by = cause::receipt;
  m.error_code = 0x0b;
  m.at_us = 300;
  const std::string message_key = std::string("m\0\0\0\0\0\0\x01\x02\x02", 10) + "ops";
  const std::string message_value = {1, 0, 0, 0, 5, 1, 0x0b, 0, static_cast<char>(0xac), 0x02};
  EXPECT_EQ(outbox_key(m, false), message_key);
  EXPECT_EQ(outbox_key(m, true), std::string("n") + message_key.substr(1));
  encode_outbox(m, v);
  EXPECT_EQ(v, message_value);
  ASSERT_FALSE(decode_outbox(message_key, message_value, e));
  EXPECT_EQ(e, m);
  ASSERT_FALSE(decode_outbox(outbox_key(m, true), message_value, e));
  EXPECT_EQ(e, m);

  for (std::size_t n = 0; n < message_value.size(); ++n) {
    SCOPED_TRACE(n);
    EXPECT_EQ(decode_outbox(message_key, message_value.substr(0, n), e),
              make_error_code(storage_errc::corrupt_record));
  }
  EXPECT_EQ(decode_outbox(message_key, message_value + "x", e), make_error_code(storage_errc::corrupt_record));
  std::string bad_event = message_key;
  bad_event[9] = 0;  // "none" is no message event
  EXPECT_EQ(decode_outbox(bad_event, message_value, e), make_error_code(storage_errc::corrupt_record));
  bad_event[9] = message_event_count;
  EXPECT_EQ(decode_outbox(bad_event, message_value, e), make_error_code(storage_errc::corrupt_record));
  std::string bad_state = message_value;
  bad_state[4] = static_cast<char>(state_count);
  EXPECT_EQ(decode_outbox(message_key, bad_state, e), make_error_code(storage_errc::corrupt_record));
  EXPECT_EQ(decode_outbox(message_key.substr(0, 9), message_value, e), make_error_code(storage_errc::corrupt_record));
  EXPECT_EQ(decode_outbox("q" + message_key.substr(1), message_value, e),
            make_error_code(storage_errc::corrupt_record));
}

// A log whose writer tells the webhooks "ops" (every message) and "sale"
// (campaign "sale" only) when a message becomes final.
class message_events_test : public reply_store_test {
 protected:
  void SetUp() override {
    reply_store_test::SetUp();
    log_options o;
    o.message_event_targets = [](message_event, const message_record& r, std::vector<std::string>& out) {
      out.push_back("ops");
      if (r.campaign == "sale") out.push_back("sale");
    };
    open(sync_policy::always, o);
  }
  std::vector<outbox_entry> waiting() {
    reply_store store(*log_);
    std::error_code ec;
    auto out = store.outbox(100, ec);
    EXPECT_FALSE(ec) << ec.message();
    return out;
  }
  static part_update receipt(std::uint64_t id, state s, std::uint32_t error = 0, std::int64_t at = t0 + 900) {
    part_update u = to(id, 0, s, at);
    u.cause = cause::receipt;
    u.error_code = error;
    return u;
  }
};

TEST_F(message_events_test, a_message_becoming_final_raises_its_event_in_the_same_batch_once) {
  add(message(1));
  add(campaign_message(2, "sale", 1));
  apply({submitted(1, 0, "sim"), accepted(1, 0, "A1"), submitted(2, 0, "sim"), accepted(2, 0, "A2")});
  EXPECT_TRUE(waiting().empty());  // in flight: nothing yet

  apply({receipt(1, state::delivered), receipt(2, state::undeliverable, 0x0b)});
  auto w = waiting();
  ASSERT_EQ(w.size(), 3u);
  // Keyed by message id, event and webhook.
  EXPECT_EQ(w[0].message_id, 1u);
  EXPECT_EQ(w[0].event, message_event::delivered);
  EXPECT_EQ(w[0].webhook, "ops");
  EXPECT_EQ(w[0].st, state::delivered);
  EXPECT_EQ(w[0].settled_by, cause::receipt);
  EXPECT_EQ(w[0].at_us, t0 + 900);
  EXPECT_EQ(w[1].message_id, 2u);
  EXPECT_EQ(w[1].event, message_event::failed);
  EXPECT_EQ(w[1].webhook, "ops");
  EXPECT_EQ(w[1].st, state::undeliverable);
  EXPECT_EQ(w[1].error_code, 0x0bu);
  EXPECT_EQ(w[2].webhook, "sale");
  EXPECT_EQ(w[2].message_id, 2u);

  // A record appended final (a rejected campaign row) raises its event too;
  // the same event again (a repeated receipt) raises nothing more.
  message_record rejected = campaign_message(3, "other", 2);
  rejected.st = rejected.parts[0].st = state::failed;
  add(rejected);
  apply({receipt(1, state::delivered)});
  w = waiting();
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[3].message_id, 3u);
  EXPECT_EQ(w[3].event, message_event::failed);
  EXPECT_EQ(w[3].st, state::failed);
}

TEST_F(message_events_test, unknown_raises_nothing_until_a_late_receipt_settles_it) {
  add(message(1));
  apply({submitted(1, 0, "sim"), accepted(1, 0, "A1"), to(1, 0, state::unknown)});
  EXPECT_TRUE(waiting().empty());
  apply({receipt(1, state::delivered)});
  const auto w = waiting();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].event, message_event::delivered);
}

TEST_F(message_events_test, the_events_survive_a_restart_and_leave_the_outbox_like_replies_do) {
  add(message(1));
  apply({submitted(1, 0, "sim"), accepted(1, 0, "A1"), receipt(1, state::expired)});
  open();  // no targets now: what was raised is still there
  auto w = waiting();
  ASSERT_EQ(w.size(), 1u);
  reply_store store(*log_);
  std::error_code ec;
  outbox_entry e = w[0];
  e.attempts = 1;
  e.last_error = "HTTP 502";
  log_->wait_durable(store.outbox_dead(e, ec));
  ASSERT_FALSE(ec);
  EXPECT_TRUE(waiting().empty());
  const auto dead = store.dead_letters(100, ec);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0], e);
  EXPECT_EQ(store.retry_dead_letters(ec), 1u);
  w = waiting();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].event, message_event::failed);
  log_->wait_durable(store.outbox_delivered(w[0], ec));
  EXPECT_TRUE(waiting().empty());
  // A message going final without targets raises nothing.
  add(message(2));
  apply({submitted(2, 0, "sim"), accepted(2, 0, "A2"), receipt(2, state::delivered)});
  EXPECT_TRUE(waiting().empty());
}

TEST_F(reply_store_test, deadlines_are_listed_when_due_left_when_delivered_and_kept_across_a_restart) {
  message_record a = message(1), b = message(2), c = message(3), none = message(4);
  a.deliver_by_us = t0 + 2 * second;
  b.deliver_by_us = t0 + 10 * second;
  c.deliver_by_us = t0 + 5 * second;
  add(a);
  add(b);
  add(c);
  add(none);
  EXPECT_EQ(stored(1).deliver_by_us, t0 + 2 * second);
  reply_store store(*log_);
  std::error_code ec;
  EXPECT_TRUE(store.due_deadlines(t0 + second, 100, ec).empty());
  EXPECT_EQ(store.due_deadlines(t0 + 6 * second, 100, ec),
            (std::vector<deadline_entry>{{t0 + 2 * second, 1}, {t0 + 5 * second, 3}}));
  EXPECT_EQ(store.due_deadlines(t0 + 6 * second, 1, ec).size(), 1u);

  // Delivered in time: off the list. Failed: still on it (not delivered).
  apply({submitted(3, 0, "sim"), accepted(3, 0, "C"), to(3, 0, state::delivered),
         submitted(2, 0, "sim"), to(2, 0, state::failed)});
  EXPECT_EQ(store.due_deadlines(t0 + hour, 100, ec),
            (std::vector<deadline_entry>{{t0 + 2 * second, 1}, {t0 + 10 * second, 2}}));

  open();
  reply_store again(*log_);
  auto due = again.due_deadlines(t0 + hour, 100, ec);
  ASSERT_EQ(due.size(), 2u);
  // Passed: off the list with its events, in one batch.
  const std::vector<outbox_entry> events{
      message_outbox_entry(message_event::undelivered_by_deadline, stored(1), "ops", due[0].deliver_by_us)};
  log_->wait_durable(again.deadline_passed(due[0], events, ec));
  ASSERT_FALSE(ec);
  EXPECT_EQ(again.due_deadlines(t0 + hour, 100, ec), (std::vector<deadline_entry>{{t0 + 10 * second, 2}}));
  const auto w = again.outbox(100, ec);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].event, message_event::undelivered_by_deadline);
  EXPECT_EQ(w[0].message_id, 1u);
  EXPECT_EQ(w[0].st, state::queued);
  EXPECT_EQ(w[0].at_us, t0 + 2 * second);

  // Retention takes a removed message's deadline with it.
  EXPECT_EQ(log_->remove_before(t0 + 2 * hour, ec), 2u);  // the two final ones (2 and 3)
  EXPECT_TRUE(again.due_deadlines(t0 + hour, 100, ec).empty());
}

TEST_F(reply_store_test, replies_are_numbered_across_restarts_and_listed_by_customer_newest_first) {
  {
    reply_store store(*log_);
    std::error_code ec;
    auto a = reply("+37060012345", t0, "first");
    auto b = reply("37060099999", t0 + 5, "someone else");
    (void)store.add_reply(a, {}, "s1", ec);
    log_->wait_durable(store.add_reply(b, {}, {}, ec));
  }
  open();
  reply_store store(*log_);
  std::error_code ec;
  auto c = reply("0037060012345", t0 + 10, "second");
  log_->wait_durable(store.add_reply(c, {}, {}, ec));
  EXPECT_EQ(c.id, 3u);
  auto mine = store.replies_from("+37060012345", 10, ec);
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0].text, "second");
  EXPECT_EQ(mine[1].text, "first");
  EXPECT_EQ(store.replies_from("+37060012345", 1, ec).size(), 1u);
  EXPECT_TRUE(store.seen("s1", ec));
  // What a reader in another process sees.
  log_reader reader({dir_, {}});
  EXPECT_EQ(reader.replies_from("37060012345", 10, ec).size(), 2u);
  auto one = reader.reply(2, ec);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->text, "someone else");
}

TEST_F(reply_store_test, content_seen_is_forgotten_after_the_cutoff) {
  reply_store store(*log_);
  std::error_code ec;
  std::string k;
  auto early = part(1), late = part(2);
  late.received_us = t0 + 10 * minute;
  (void)store.add_part(early, k, ec);
  log_->wait_durable(store.add_part(late, k, ec));
  EXPECT_EQ(store.forget_seen_before(t0 + minute, ec), 1u);
  settle();
  EXPECT_FALSE(store.seen(reply_store::seen_key(early), ec));
  EXPECT_TRUE(store.seen(reply_store::seen_key(late), ec));
}

TEST_F(reply_store_test, opt_outs_are_keyed_by_the_digits_of_the_number) {
  reply_store store(*log_);
  std::error_code ec;
  (void)store.set_opt_out("+37060012345", opt_out_entry{true, t0, 4, "STOP"}, ec);
  (void)store.set_opt_out("0037060055555", opt_out_entry{true, t0, 5, "СТОП"}, ec);
  log_->wait_durable(store.set_opt_out("37060055555", opt_out_entry{false, t0 + 1, 6, "START"}, ec));
  auto all = store.opt_outs(ec);
  ASSERT_FALSE(ec);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all.at("37060012345").opted_out);
  EXPECT_FALSE(all.at("37060055555").opted_out);
  EXPECT_EQ(all.at("37060055555").word, "START");
}

TEST_F(reply_store_test, answer_marks_are_written_with_their_reply_survive_a_reopen_and_are_forgotten_when_old) {
  answer_mark m{t0 + 5, t0 + 6};
  std::string v;
  encode_answer_mark(m, v);
  answer_mark back;
  ASSERT_FALSE(decode_answer_mark(v, back));
  EXPECT_EQ(back, m);
  for (std::size_t n = 0; n < v.size(); ++n) EXPECT_TRUE(decode_answer_mark(v.substr(0, n), back)) << n;
  {
    reply_store store(*log_);
    std::error_code ec;
    auto r = reply("+37060012345", t0, "Where is my parcel?");
    (void)store.add_reply(r, {}, {}, ec, {}, &m);
    (void)store.set_answered("+37060022222", answer_mark{0, t0}, ec);
    log_->wait_durable(store.set_answered("37060033333", answer_mark{t0, t0}, ec));
    ASSERT_FALSE(ec);
  }
  open();
  reply_store store(*log_);
  std::error_code ec;
  auto mark = store.answered("0037060012345", ec);  // any form of the number
  ASSERT_TRUE(mark);
  EXPECT_EQ(*mark, m);
  EXPECT_FALSE(store.answered("+37060099999", ec));
  EXPECT_FALSE(ec);
  // All three are older than the cutoff; one customer has a newer mark
  // queued, which the removal must not overtake.
  EXPECT_EQ(store.forget_answered_before(
                t0 + minute, [](std::string_view digits) { return digits == "37060033333"; }, ec),
            2u);
  settle();
  EXPECT_FALSE(store.answered("+37060012345", ec));
  EXPECT_FALSE(store.answered("+37060022222", ec));
  EXPECT_TRUE(store.answered("+37060033333", ec));
  // The marks are no replies: the replies' numbering and listing ignore them.
  EXPECT_EQ(store.replies_from("+37060012345", 10, ec).size(), 1u);
}

TEST_F(reply_store_test, a_database_from_before_two_way_messaging_opens_for_reading_and_writing) {
  log_.reset();
  std::filesystem::remove_all(dir_);
  {
    // The column families an smppd without two-way messaging created.
    rocksdb::DBOptions o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> d;
    for (const char* n : {"default", "messages", "open", "smsc_ids", "recipients", "idempotency", "in_doubt",
                          "stats", "campaigns", "orphans"})
      d.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_.string(), d, &handles, &db).ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    delete db;
  }
  std::error_code ec;
  {
    log_reader reader({dir_, {}});
    EXPECT_TRUE(reader.replies_from("+37060012345", 10, ec).empty());
    EXPECT_FALSE(ec);
    EXPECT_FALSE(reader.reply(1, ec));
  }
  open();
  reply_store store(*log_);
  auto r = reply("+37060012345", t0, "hello");
  log_->wait_durable(store.add_reply(r, {}, {}, ec));
  EXPECT_EQ(store.replies_from("+37060012345", 10, ec).size(), 1u);
}

// The keys of a column family, by their first octet, read with the log
// closed (then opened again).
std::map<char, std::size_t> key_counts(const std::filesystem::path& dir, const std::string& family) {
  std::map<char, std::size_t> out;
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.string(), &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> d;
  for (const auto& n : names) d.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  EXPECT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir.string(), d, &handles, &db).ok());
  if (!db) return out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] != family) continue;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++out[family == "replies" ? it->key()[0] : '*'];
  }
  for (auto* h : handles) EXPECT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  delete db;
  return out;
}

class retention_test : public reply_store_test {
 protected:
  static constexpr const char* ana = "+37060012345";
  static constexpr const char* ben = "+37060022222";
  static constexpr std::int64_t cutoff = t0 + 50 * hour;

  static conversation_record conv(std::uint64_t id, std::string customer, std::int64_t opened, std::string campaign) {
    return conversation_record{id, std::move(customer), "+37060000100", "#4821", 100 + id, opened, opened + hour,
                               "", 0, 0, std::move(campaign)};
  }

  // Stores what the tests remove and keep:
  //   conversations 1 (ana, old, answered, campaign visits), 2 (ana, old,
  //   no campaign), 3 (ana, opened old, answered lately), 4 (ben, old,
  //   held open by the book), 5 (ana, recent, visits);
  //   replies 1, 2 (ana, old: 1 in conversation 1 with a waiting event
  //   and a dead letter), 3 (ana, recent, conversation 3, an event
  //   waiting), 4 (ana, recent, conversation 5);
  //   opt-out entries: ana out (old), ben in again (old), 37060033333 in
  //   again (old, a change queued), 37060044444 in again (recent);
  //   message dead letters: message 900 (old), 901 (recent); a dead
  //   letter of reply 77, which is not there.
  void store_history(reply_store& store) {
    std::error_code ec;
    const std::vector<std::string> hooks{"crm"};
    auto c1 = conv(1, ana, t0, "visits");
    (void)store.put_conversation(c1, ec);
    (void)store.put_conversation(conv(2, ana, t0 + hour, ""), ec);
    (void)store.put_conversation(conv(3, ana, t0 + 2 * hour, "visits"), ec);
    (void)store.put_conversation(conv(4, ben, t0 + 3 * hour, "visits"), ec);
    auto r1 = reply(ana, t0 + 10 * minute, "YES");
    r1.conversation = 1;
    r1.method = match_method::number;
    r1.answer = "yes";
    (void)store.add_reply(r1, {}, {}, ec, hooks);
    c1.replies = 1;
    c1.answer = "yes";
    c1.last_reply_us = r1.received_us;
    (void)store.put_conversation(c1, ec);
    outbox_entry dead{r1.id, "ops", 10, 0, "HTTP 500"};
    (void)store.outbox_dead(dead, ec);
    // Given up on as its reply was being removed: left behind.
    (void)store.outbox_dead(outbox_entry{77, "ops", 1, 0, "reply not found"}, ec);
    auto r2 = reply(ana, t0 + 20 * minute, "who is this?");
    (void)store.add_reply(r2, {}, {}, ec);
    auto c5 = conv(5, ana, t0 + 60 * hour, "visits");
    (void)store.put_conversation(c5, ec);
    auto r3 = reply(ana, t0 + 60 * hour, "still there? #4821");
    r3.conversation = 3;
    (void)store.add_reply(r3, {}, {}, ec, hooks);
    auto c3 = conv(3, ana, t0 + 2 * hour, "visits");
    c3.replies = 1;
    c3.last_reply_us = r3.received_us;
    (void)store.put_conversation(c3, ec);
    auto r4 = reply(ana, t0 + 61 * hour, "NO");
    r4.conversation = 5;
    (void)store.add_reply(r4, {}, {}, ec);
    (void)store.set_opt_out(ana, opt_out_entry{true, t0, r2.id, "STOP"}, ec);
    (void)store.set_opt_out(ben, opt_out_entry{false, t0, 0, "START"}, ec);
    (void)store.set_opt_out("+37060033333", opt_out_entry{false, t0, 0, "START"}, ec);
    (void)store.set_opt_out("+37060044444", opt_out_entry{false, t0 + 60 * hour, 0, "START"}, ec);
    message_record m = message(900);
    m.st = state::failed;
    auto old_event = message_outbox_entry(message_event::failed, m, "crm", t0 + hour);
    m.id = 901;
    auto new_event = message_outbox_entry(message_event::failed, m, "crm", t0 + 60 * hour);
    (void)store.outbox_dead(old_event, ec);
    log_->wait_durable(store.outbox_dead(new_event, ec));
    ASSERT_FALSE(ec);
  }

  static retention_pass pass() {
    retention_pass p;
    p.cutoff_us = cutoff;
    p.keep_conversation = [](const conversation_record& c) { return c.id == 4; };
    p.keep_number = [](std::string_view digits) { return digits == "37060033333"; };
    return p;
  }
};

TEST_F(retention_test, removes_old_replies_and_conversations_with_their_keys_and_keeps_the_rest_consistent) {
  {
    reply_store store(*log_);
    store_history(store);
  }
  log_.reset();
  EXPECT_EQ(key_counts(dir_, "replies"),
            (std::map<char, std::size_t>{{'c', 4}, {'k', 4}, {'n', 2}, {'o', 2}, {'r', 4}, {'v', 5}, {'w', 5},
                                         {'x', 2}}));
  open();
  reply_store store(*log_);
  std::error_code ec;
  retention_pass p = pass();
  std::uint64_t ticket = store.remove_step(p, 1000, ec);
  ASSERT_FALSE(ec);
  EXPECT_TRUE(p.done());
  log_->wait_durable(ticket);
  EXPECT_EQ(p.removed, (retention_counts{2, 2, 1, 2}));

  // Listings hold what is left and nothing else.
  auto conversations = store.conversations_of(ana, 10, ec);
  ASSERT_EQ(conversations.size(), 2u);
  EXPECT_EQ(conversations[0].id, 5u);
  EXPECT_EQ(conversations[1].id, 3u);  // opened long ago, answered lately
  EXPECT_EQ(conversations[1].replies, 1u);
  EXPECT_EQ(store.conversations_of(ben, 10, ec).size(), 1u);  // held open
  auto visits = store.conversations_of_campaign("visits", 0, 10, ec);
  ASSERT_EQ(visits.size(), 3u);
  EXPECT_EQ(visits[0].id, 3u);
  EXPECT_EQ(visits[1].id, 4u);
  EXPECT_EQ(visits[2].id, 5u);
  EXPECT_EQ(store.conversations_of_campaign("visits", 3, 1, ec)[0].id, 4u);  // paging goes on as before
  EXPECT_FALSE(store.conversation(1, ec));
  EXPECT_FALSE(store.conversation(2, ec));
  auto replies = store.replies_from(ana, 10, ec);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].id, 4u);
  EXPECT_EQ(replies[1].id, 3u);
  EXPECT_FALSE(store.get(1, ec));
  EXPECT_FALSE(store.get(2, ec));
  EXPECT_EQ(store.replies_of(*store.conversation(3, ec), ec).size(), 1u);
  // The waiting event of the recent reply stays; the old one's went with it.
  auto waiting = store.outbox(10, ec);
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].reply_id, 3u);
  auto dead = store.dead_letters(10, ec);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].message_id, 901u);
  // A STOP is kept however old; an old opt-in goes unless a change is queued.
  auto opt_outs = store.opt_outs(ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(opt_outs.size(), 3u);
  EXPECT_TRUE(opt_outs.at("37060012345").opted_out);
  EXPECT_FALSE(opt_outs.contains("37060022222"));
  EXPECT_TRUE(opt_outs.contains("37060033333"));
  EXPECT_TRUE(opt_outs.contains("37060044444"));

  // No index key is left behind (counted with the log closed).
  log_.reset();
  EXPECT_EQ(key_counts(dir_, "replies"),
            (std::map<char, std::size_t>{{'c', 2}, {'k', 3}, {'n', 1}, {'o', 1}, {'r', 2}, {'v', 3}, {'w', 3}}));
  open();
  // Numbering goes on after the highest id kept.
  reply_store again(*log_);
  auto r = reply(ana, t0 + 70 * hour, "hi");
  log_->wait_durable(again.add_reply(r, {}, {}, ec));
  EXPECT_EQ(r.id, 5u);
  EXPECT_EQ(again.max_conversation_id(), 5u);
  // A second pass finds nothing more to remove.
  retention_pass second = pass();
  EXPECT_EQ(again.remove_step(second, 1000, ec), 0u);
  EXPECT_TRUE(second.done());
  EXPECT_EQ(second.removed, retention_counts{});
}

TEST_F(retention_test, goes_in_bounded_steps_that_each_look_at_no_more_than_their_budget) {
  reply_store store(*log_);
  store_history(store);
  // Many more old replies: each step removes at most its budget of them.
  std::error_code ec;
  std::uint64_t last = 0;
  for (int i = 0; i < 25; ++i) {
    auto r = reply(ben, t0 + 30 * minute + i, "old");
    last = store.add_reply(r, {}, {}, ec);
  }
  log_->wait_durable(last);
  // Numbered after the recent ones, yet older: a pass stops at the first
  // recent reply, so these wait for a pass after the recent ones age. The
  // cutoff here takes them all.
  retention_pass p = pass();
  p.cutoff_us = t0 + 100 * hour;
  std::size_t steps = 0;
  std::uint64_t before = 0;
  while (!p.done()) {
    ASSERT_LT(++steps, 100u);
    const retention_counts was = p.removed;
    const std::uint64_t t = store.remove_step(p, 3, ec);
    ASSERT_FALSE(ec);
    const std::uint64_t removed = (p.removed.replies - was.replies) + (p.removed.conversations - was.conversations) +
                                  (p.removed.opt_ins - was.opt_ins) + (p.removed.dead_letters - was.dead_letters);
    EXPECT_LE(removed, 3u);
    if (t) before = t;
  }
  log_->wait_durable(before);
  EXPECT_GE(steps, 12u);
  // Conversation 4 is held open; everything else is older than the cutoff.
  EXPECT_EQ(p.removed, (retention_counts{29, 4, 2, 3}));
  EXPECT_TRUE(store.replies_from(ben, 100, ec).empty());
  EXPECT_TRUE(store.replies_from(ana, 100, ec).empty());
  EXPECT_EQ(store.conversations_of_campaign("visits", 0, 10, ec).size(), 1u);
  EXPECT_TRUE(store.outbox(10, ec).empty());
  EXPECT_TRUE(store.dead_letters(10, ec).empty());
  EXPECT_EQ(store.opt_outs(ec).size(), 2u);  // ana's STOP and the queued change
}

}  // namespace
