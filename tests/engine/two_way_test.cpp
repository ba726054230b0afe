// Two-way messaging end to end: real smppd and smsc-sim processes on
// 127.0.0.1, replies injected through smsc-sim's --mo-inject-dir, the
// message log read afterwards as smppctl reads it. Replies arrive whole,
// concatenated in any order (UDH and SAR, deliver_sm and data_sm, GSM-7
// and UCS-2), delivered twice, cut short, and around a SIGKILL of smppd;
// opt-out keywords in English, Russian and Lithuanian stop messages
// already queued; auto-acknowledgements go once per period and never to
// keywords or automatic replies, also across a SIGKILL.
//
// Auto-acknowledgements and reply retention unit by unit too:
// engine::two_way fed deliver_sm PDUs directly over a real message log
// (RocksDB in a temporary directory), with the clock in the test's hands.
#include "engine/two_way.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/conversations.hpp"
#include "storage/log_reader.hpp"
#include "smpp/text.hpp"
#include "storage/message_log.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/http_call.hpp"
#include "tests/support/logfmt.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using json = nlohmann::json;
using smppd::test::child_process;

const std::string bin_dir = SMPPD_BIN_DIR;

// ---- auto-acknowledgements, unit by unit ---------------------------------

constexpr std::int64_t t0 = 1'700'000'000'000'000;
constexpr std::int64_t second = 1'000'000;
constexpr std::int64_t minute = 60 * second;
constexpr std::int64_t hour = 60 * minute;

const std::string general_ack = "Thanks, we got your message; an agent will reply within 15 minutes";

class auto_ack : public ::testing::Test {
 protected:
  smppd::test::temp_dir tmp{"smppd-auto-ack-test"};
  config::two_way_config cfg = [] {
    auto c = config::default_two_way();
    c.auto_ack.text = general_ack;
    c.auto_ack.period = std::chrono::hours(24);
    c.auto_ack.numbers["+37060000100"] = "Service line: we answer within the hour";
    c.reply_numbers = {"+37060000200"};
    return c;
  }();
  boost::asio::io_context io;
  engine::opt_out_list opt_outs;
  std::int64_t now = t0;
  std::vector<engine::two_way_send> sent;
  bool refuse_sends = false;
  std::unique_ptr<storage::message_log> log;
  std::unique_ptr<engine::two_way> replies;
  std::unique_ptr<engine::conversation_book> book;

  void SetUp() override { open(); }
  void TearDown() override { close(); }

  void open() {
    storage::log_options o;
    o.dir = tmp.path() / "log";
    log = std::make_unique<storage::message_log>(o);
    engine::two_way_options t;
    t.config = cfg;
    t.send = [this](const engine::two_way_send& s) {
      if (refuse_sends) return false;  // the daemon could not queue it
      sent.push_back(s);
      return true;
    };
    t.now_us = [this] { return now; };
    replies = std::make_unique<engine::two_way>(io, *log, std::move(t), opt_outs);
    book = std::make_unique<engine::conversation_book>(replies->store(), cfg.reply_numbers, std::chrono::hours(72),
                                                       [this] { return now; });
    std::error_code ec;
    book->load(ec);
    ASSERT_FALSE(ec);
    replies->set_conversations(book.get());
    replies->set_campaign_acks([](std::string_view campaign) {
      return campaign == "spring" ? std::string("Thanks! The spring sale team answers today") : std::string();
    });
  }
  void close() {
    book.reset();
    replies.reset();
    log.reset();  // drains: everything queued is written
  }
  void restart() {
    close();
    open();
  }

  // A customer's reply, as the SMSC delivers it (one part); the
  // clock moves on by `after` first. Returns once it is durable.
  void reply(const std::string& from, const std::string& to, const std::string& text, std::int64_t after = minute,
             std::uint8_t ton = 1) {
    now += after;
    smpp::deliver_sm d;
    d.source_addr_ton = ton;
    d.source_addr = from;
    d.destination_addr = to;
    smpp::encoded_text enc;  // GSM-7 when it can, else UCS-2
    ASSERT_FALSE(smpp::encode_text(text, {}, enc));
    ASSERT_EQ(enc.parts.size(), 1u);
    smpp::set_part(d, enc, 0);
    smpp::pdu p;
    p.body = d;
    const auto verdict = replies->on_mo("sim", p);
    ASSERT_EQ(verdict.status, smpp::command_status::ESME_ROK);
    log->wait_durable(verdict.ticket);
  }

  // A message of `campaign` to `customer` that opened a conversation from
  // the reply pool.
  void converse(const std::string& customer, const std::string& campaign) {
    storage::message_record r;
    r.id = log->max_message_id() + 1;
    r.origin = storage::origin::campaign;
    r.campaign = campaign;
    r.row = 1;
    r.recipient = customer;
    r.sender = cfg.reply_numbers[0];
    r.text = "Spring sale: 20% off until Sunday. Questions? Just reply.";
    r.queued_us = now;
    r.parts.resize(1);
    std::error_code ec;
    log->wait_durable(log->append(r, ec));
    ASSERT_FALSE(ec) << ec.message();
    std::uint64_t ticket = 0;
    book->open(customer, book->pick(customer), r.id, campaign, &ticket, ec);
    ASSERT_FALSE(ec) << ec.message();
    log->wait_durable(ticket);
  }

  std::uint64_t skipped(engine::ack_skip why) const {
    return replies->counters().auto_acks_skipped[static_cast<std::size_t>(why)].load();
  }
  std::uint64_t acks() const { return replies->counters().auto_acks.load(); }
};

TEST_F(auto_ack, a_reply_is_acknowledged_once_per_period_from_the_number_it_was_sent_to) {
  reply("37060000001", "12345", "Where is my parcel?");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to, "+37060000001");
  EXPECT_EQ(sent[0].from, "12345");
  EXPECT_EQ(sent[0].text, general_ack);
  reply("37060000001", "12345", "Hello? Anyone there?", 10 * minute);
  reply("37060000001", "12399", "Writing to the other number", hour);
  EXPECT_EQ(sent.size(), 1u);
  EXPECT_EQ(skipped(engine::ack_skip::period), 2u);
  // Another customer is another count.
  reply("37060000002", "12345", "Is the shop open on Sunday?");
  EXPECT_EQ(sent.size(), 2u);
  // Once the period has passed, the next reply is acknowledged again.
  reply("37060000001", "12345", "Still waiting for the parcel", 24 * hour);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[2].to, "+37060000001");
  EXPECT_EQ(acks(), 3u);
}

TEST_F(auto_ack, keywords_answers_automatic_replies_and_machines_get_no_acknowledgement) {
  reply("37060000011", "12345", "STOP");
  ASSERT_EQ(sent.size(), 1u);  // the opt-out confirmation only
  EXPECT_EQ(sent[0].text, cfg.languages.at("en").opt_out_text);
  EXPECT_EQ(skipped(engine::ack_skip::keyword), 1u);
  reply("37060000011", "12345", "Why do you keep writing to me?", hour);
  EXPECT_EQ(skipped(engine::ack_skip::opted_out), 1u);

  reply("37060000012", "12345", "Automatic reply: out of office");
  reply("37060000013", "12345", "АВТООТВЕТ: я в отпуске");
  EXPECT_EQ(skipped(engine::ack_skip::automatic), 2u);
  reply("ACME", "12345", "Your code is 1234", minute, 5);  // an alphanumeric sender
  reply("1550", "12345", "Balance: 3.20 EUR", minute, 0);  // a short code
  EXPECT_EQ(skipped(engine::ack_skip::sender), 2u);

  // A YES to a conversation's question is an answer, not a message to acknowledge.
  converse("+37060000014", "");
  reply("37060000014", "37060000200", "Yes");
  EXPECT_EQ(skipped(engine::ack_skip::answer), 1u);
  EXPECT_EQ(sent.size(), 1u);
  EXPECT_EQ(acks(), 0u);
}

TEST_F(auto_ack, a_reply_soon_after_any_answer_of_ours_is_taken_for_a_machine_answering_it) {
  reply("37060000021", "12345", "HELP");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].text, cfg.languages.at("en").help_text);
  reply("37060000021", "12345", "Thank you for your message, I will answer soon", 5 * second);
  EXPECT_EQ(skipped(engine::ack_skip::loop_guard), 1u);
  EXPECT_EQ(sent.size(), 1u);
  reply("37060000021", "12345", "OK, how do I change my address?", 2 * minute);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].text, general_ack);
  // Our acknowledgement starts the guard too (before the period would).
  reply("37060000021", "12345", "Thanks for writing. I am away and will answer later", 10 * second);
  EXPECT_EQ(skipped(engine::ack_skip::loop_guard), 2u);
  EXPECT_EQ(skipped(engine::ack_skip::period), 0u);
}

TEST_F(auto_ack, the_campaign_text_comes_first_then_the_number_text_then_the_general_one) {
  converse("+37060000031", "spring");
  reply("37060000031", "37060000200", "Does the discount apply to shoes?");
  converse("+37060000032", "winter");  // a campaign without a text of its own
  reply("37060000032", "37060000200", "Do you deliver to Kaunas?");
  reply("37060000033", "37060000100", "My order never came");
  reply("37060000034", "0037060000100", "Same number, another form");
  reply("37060000035", "12345", "Anyone?");
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(sent[0].text, "Thanks! The spring sale team answers today");
  EXPECT_EQ(sent[0].from, "37060000200");
  EXPECT_EQ(sent[1].text, general_ack);
  EXPECT_EQ(sent[2].text, "Service line: we answer within the hour");
  EXPECT_EQ(sent[3].text, "Service line: we answer within the hour");
  EXPECT_EQ(sent[4].text, general_ack);
}

TEST_F(auto_ack, a_restart_within_the_period_acknowledges_no_reply_twice) {
  reply("37060000041", "12345", "Where is my parcel?");
  ASSERT_EQ(sent.size(), 1u);
  // A HELP answered, then a restart: both marks were written.
  reply("37060000042", "12345", "help");
  ASSERT_EQ(sent.size(), 2u);
  restart();
  reply("37060000042", "12345", "Message received, I will get back to you", 5 * second);
  EXPECT_EQ(skipped(engine::ack_skip::loop_guard), 1u);
  reply("37060000041", "12345", "Any news?", 3 * hour);
  EXPECT_EQ(skipped(engine::ack_skip::period), 1u);
  EXPECT_EQ(sent.size(), 2u);
  reply("37060000041", "12345", "Hello again", 24 * hour);
  EXPECT_EQ(sent.size(), 3u);
}

TEST_F(auto_ack, an_acknowledgement_that_could_not_be_queued_leaves_the_next_reply_its_chance) {
  refuse_sends = true;
  reply("37060000061", "12345", "Where is my parcel?");
  EXPECT_EQ(skipped(engine::ack_skip::not_queued), 1u);
  EXPECT_EQ(acks(), 0u);
  refuse_sends = false;
  restart();  // what was stored says the same
  reply("37060000061", "12345", "Hello? Anyone there?", 10 * minute);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].text, general_ack);
  EXPECT_EQ(acks(), 1u);
}

TEST_F(auto_ack, without_a_text_nothing_is_sent_or_counted) {
  cfg.auto_ack = {};
  restart();
  reply("37060000051", "12345", "Where is my parcel?");
  reply("37060000051", "12345", "STOP");
  ASSERT_EQ(sent.size(), 1u);  // the confirmation
  EXPECT_EQ(acks(), 0u);
  for (std::size_t i = 0; i < engine::ack_skip_count; ++i)
    EXPECT_EQ(skipped(static_cast<engine::ack_skip>(i)), 0u) << i;
}

// ---- reply retention, unit by unit -----------------------------------------

// The same pieces: two_way over a real log with the clock in the test's
// hands; its timer run on the io_context as the daemon runs it.
class reply_retention : public auto_ack {};

TEST_F(reply_retention, the_timer_removes_old_replies_and_conversations_and_keeps_stops_and_recent_ones) {
  cfg.reply_retention = std::chrono::hours(24 * 30);
  restart();
  converse("+37060000071", "spring");
  reply("+37060000071", "+37060000200", "When does it end?");
  reply("+37060000072", "12345", "STOP");
  reply("+37060000073", "12345", "STOP");
  reply("+37060000073", "12345", "START");
  now += 40 * 24 * hour;
  converse("+37060000074", "spring");
  reply("+37060000074", "+37060000200", "Is it for shoes too?");
  ASSERT_EQ(replies->counters().matched.load(), 2u);

  replies->start();  // the first pass soon after start, in steps on the timer
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (replies->counters().removed_replies.load() == 0 && std::chrono::steady_clock::now() < deadline)
    io.run_for(200ms);
  replies->stop();
  log->wait_durable(log->issued_ticket());

  const auto& c = replies->counters();
  EXPECT_EQ(c.removed_replies.load(), 4u);  // keywords are replies too
  EXPECT_EQ(c.removed_conversations.load(), 1u);
  EXPECT_EQ(c.removed_opt_ins.load(), 1u);
  EXPECT_EQ(c.removed_dead_letters.load(), 0u);
  auto& store = replies->store();
  std::error_code ec;
  EXPECT_TRUE(store.replies_from("+37060000071", 10, ec).empty());
  EXPECT_TRUE(store.conversations_of("+37060000071", 10, ec).empty());
  EXPECT_EQ(store.replies_from("+37060000074", 10, ec).size(), 1u);
  auto spring = store.conversations_of_campaign("spring", 0, 10, ec);
  ASSERT_EQ(spring.size(), 1u);
  EXPECT_EQ(spring[0].customer, "+37060000074");
  EXPECT_EQ(store.replies_of(spring[0], ec).size(), 1u);
  // The STOP stays however old, in the log and in force; the opt-in goes.
  auto list = store.opt_outs(ec);
  ASSERT_FALSE(ec);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_TRUE(list.at("37060000072").opted_out);
  EXPECT_TRUE(opt_outs.contains("+37060000072"));
  restart();
  EXPECT_TRUE(opt_outs.contains("+37060000072"));
}

TEST_F(reply_retention, a_conversation_still_open_stays_though_older_than_the_retention) {
  cfg.reply_retention = std::chrono::hours(1);  // shorter than the 72h the book keeps conversations open
  restart();
  converse("+37060000091", "spring");
  reply("+37060000091", "+37060000200", "Does it cover shoes?");
  now += 5 * hour;
  replies->start();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (replies->counters().removed_replies.load() == 0 && std::chrono::steady_clock::now() < deadline)
    io.run_for(200ms);
  replies->stop();
  log->wait_durable(log->issued_ticket());
  EXPECT_EQ(replies->counters().removed_replies.load(), 1u);
  EXPECT_EQ(replies->counters().removed_conversations.load(), 0u);
  std::error_code ec;
  auto open = replies->store().conversations_of("+37060000091", 10, ec);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].replies, 1u);  // its count stays; the reply itself went
  EXPECT_TRUE(replies->store().replies_from("+37060000091", 10, ec).empty());
  // Still open: the customer's next reply matches it.
  reply("+37060000091", "+37060000200", "And bags?");
  EXPECT_EQ(replies->counters().matched.load(), 2u);
}

TEST_F(reply_retention, zero_keeps_everything) {
  cfg.reply_retention = std::chrono::seconds(0);
  restart();
  reply("+37060000081", "12345", "Hello");
  now += 400 * 24 * hour;
  replies->start();
  io.run_for(1500ms);
  replies->stop();
  std::error_code ec;
  EXPECT_EQ(replies->store().replies_from("+37060000081", 10, ec).size(), 1u);
  EXPECT_EQ(replies->counters().removed_replies.load(), 0u);
}

class two_way_e2e : public ::testing::Test {
 protected:
  smppd::test::temp_dir tmp{"smppd-two-way-test"};
  fs::path dir = tmp.path();
  fs::path inject = dir / "inject";
  std::optional<child_process> sim;
  std::uint16_t sim_port = 0;
  int injected = 0;

  void SetUp() override {
    fs::create_directories(inject);
    sim_port = smppd::test::start_smsc_sim(
        sim, bin_dir + "/smsc-sim",
        {"--mo-inject-dir", inject.string(), "--mo-redeliver", "--count-destinations", "--counts-file",
         (dir / "sim.json").string()});
    ASSERT_NE(sim_port, 0);
  }
  void TearDown() override {
    if (sim) sim->stop();
  }

  fs::path write_config(const std::string& extra = "", const std::string& operator_extra = "") {
    std::ofstream out(dir / "smppd.yaml");
    out << "node: { data_dir: data, sync: every_10ms }\n"
        << "api: { listen: \"127.0.0.1:0\" }\n"
        << "metrics: { listen: \"127.0.0.1:0\" }\n"
        << "smscs:\n  - { name: sim, host: 127.0.0.1, port: " << sim_port
        << ", system_id: smppd, password: pw, binds: 1, window: 16, enquire_link_s: 5 }\n"
        << "operators:\n  - { name: lt, prefixes: [\"+370\"], smscs: [sim]" << operator_extra << " }\n"
        << "numbering: { default_country_code: \"370\", trunk_prefix: \"8\" }\n"
        << extra;
    return dir / "smppd.yaml";
  }

  // Drops one MO file for smsc-sim (written aside, then renamed in).
  void inject_mo(const std::string& body) { smppd::test::inject_mo_file(inject, injected++, body); }

  json sim_counts() {
    sim->signal(SIGUSR1);
    for (int i = 0; i < 200; ++i) {
      std::this_thread::sleep_for(10ms);
      std::ifstream in(dir / "sim.json");
      if (!in) continue;
      json j = json::parse(in, nullptr, false);
      if (!j.is_discarded()) {
        fs::remove(dir / "sim.json");
        return j;
      }
    }
    ADD_FAILURE() << "no counts from smsc-sim";
    return {};
  }

  // Polls smsc-sim until counter `name` reaches n (or 20 s pass).
  int wait_for(const std::string& name, int n) {
    int seen = 0;
    for (int i = 0; i < 100 && seen < n; ++i) {
      auto c = sim_counts();
      seen = c.contains(name) ? c[name].get<int>() : 0;
      if (seen < n) std::this_thread::sleep_for(200ms);
    }
    return seen;
  }

  static std::uint16_t api_port(child_process& p, std::string& seen) {
    return smppd::test::wait_listening_port(p, "API", seen);
  }

  static bool read_until(child_process& p, const std::string& what, std::string& seen,
                         std::chrono::milliseconds limit = 10s) {
    return p.read_until(what, seen, limit);
  }

  static std::pair<int, std::string> post(std::uint16_t port, const std::string& target, const std::string& body) {
    return call(boost::beast::http::verb::post, port, target, body);
  }
  static std::pair<int, std::string> call_get(std::uint16_t port, const std::string& target) {
    return call(boost::beast::http::verb::get, port, target, "");
  }
  static std::pair<int, std::string> call(boost::beast::http::verb verb, std::uint16_t port, const std::string& target,
                                          const std::string& body) {
    return smppd::test::http_call(verb, port, target, body);
  }

  std::vector<storage::reply_record> replies_from(const std::string& customer) {
    storage::log_reader reader({dir / "data" / "log", {}});
    std::error_code ec;
    auto r = reader.replies_from(customer, 100, ec);
    EXPECT_FALSE(ec) << ec.message();
    return r;
  }
};

const std::string long_ru =
    "Здравствуйте! Перенесите, пожалуйста, мою запись на четверг после обеда, если это возможно. Спасибо!";
const std::string long_lt =
    "Laba diena, ar galėtumėte pristatyti siuntinį kitu adresu? Gedimino prospektas 1, Vilnius. Ačiū labai už "
    "pagalbą, būsiu namie po šeštos valandos vakaro, skambinkite prieš atvykdami prašau. Ačiū!";

TEST_F(two_way_e2e, replies_survive_sigkill_and_are_joined_in_any_order_stored_once_and_kept_when_cut_short) {
  auto cfg = write_config("two_way: { reassembly_timeout: 2s }\n");
  {
    child_process first(bin_dir + "/smppd", {"--config", cfg.string()}, true);
    std::string seen;
    ASSERT_NE(api_port(first, seen), 0) << seen;
    inject_mo("from: 37060000001\nto: 12345\ntext: Is my appointment still on?\nrepeat: 2\n");
    inject_mo("from: 37060000002\nto: 12345\nencoding: ucs2\nsplit: udh16\norder: reverse\ntext: " + long_ru + "\n");
    inject_mo("from: 37060000003\nto: 12345\npdu: data_sm\nsplit: sar\ntext: " + long_lt + "\n");
    inject_mo("from: 37060000004\nto: 12345\nencoding: ucs2\nomit: 2\ntext: " + long_ru + "\n");
    // 2 + 2 + 3 + 1 PDUs (the Lithuanian text needs UCS-2: 3 parts): each
    // answered only once it is durable; smppd is killed the moment the
    // last answer is in.
    ASSERT_GE(wait_for("mo_parts_acked", 8), 8) << sim_counts().dump();
    first.stop(SIGKILL);
  }
  {
    // The part of the cut-short reply waits in the log; after the restart
    // its timeout passes and it is kept as it is.
    child_process second(bin_dir + "/smppd", {"--config", cfg.string()}, true);
    std::string seen;
    ASSERT_NE(api_port(second, seen), 0) << seen;
    ASSERT_TRUE(read_until(second, "parts=1 of=2 msg=\"reply kept incomplete", seen, 15s)) << seen;
    // The SMSC delivers a reply again after the restart (its answer was
    // lost, as far as it knows): recognised, not stored twice.
    inject_mo("from: 37060000001\nto: 12345\ntext: Is my appointment still on?\n");
    ASSERT_GE(wait_for("mo_parts_acked", 9), 9);
    second.stop(SIGTERM);
  }
  auto one = replies_from("+37060000001");
  ASSERT_EQ(one.size(), 1u);  // delivered twice, stored once
  EXPECT_EQ(one[0].text, "Is my appointment still on?");
  EXPECT_EQ(one[0].to, "12345");
  auto two = replies_from("+37060000002");
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(two[0].text, long_ru);
  EXPECT_EQ(two[0].parts_total, 2);
  auto three = replies_from("+37060000003");
  ASSERT_EQ(three.size(), 1u);
  EXPECT_EQ(three[0].text, long_lt);
  EXPECT_EQ(three[0].parts_total, 3);
  EXPECT_EQ(three[0].parts_received, 3);
  auto four = replies_from("+37060000004");
  ASSERT_EQ(four.size(), 1u);
  EXPECT_EQ(four[0].parts_total, 2);
  EXPECT_EQ(four[0].parts_received, 1);
  EXPECT_TRUE(long_ru.starts_with(four[0].text)) << four[0].text;
}

TEST_F(two_way_e2e, replies_that_reached_smppd_just_before_a_sigkill_come_again_and_are_stored_once) {
  auto cfg = write_config();
  {
    child_process first(bin_dir + "/smppd", {"--config", cfg.string()}, true);
    std::string seen;
    ASSERT_NE(api_port(first, seen), 0) << seen;
    inject_mo("from: 37061000999\nto: 12345\ntext: first\n");
    ASSERT_GE(wait_for("mo_parts_acked", 1), 1);
    // Frozen, smppd reads nothing: the replies reach its socket and are
    // never answered before the kill.
    first.signal(SIGSTOP);
    for (int i = 0; i < 20; ++i)
      inject_mo("from: 3706100" + std::to_string(1000 + i) + "\nto: 12345\ntext: Reply number " +
                std::to_string(i) + "\n");
    ASSERT_GE(wait_for("mo_parts_sent", 21), 21);
    first.stop(SIGKILL);
  }
  child_process second(bin_dir + "/smppd", {"--config", cfg.string()}, true);
  std::string seen;
  ASSERT_NE(api_port(second, seen), 0) << seen;
  // smsc-sim delivers again what was not answered.
  EXPECT_GE(wait_for("mo_parts_acked", 21), 21);
  second.stop(SIGTERM);
  EXPECT_EQ(sim_counts()["mo_parts_redelivered"].get<int>(), 20);
  EXPECT_EQ(replies_from("+37061000999").size(), 1u);
  for (int i = 0; i < 20; ++i) {
    auto r = replies_from("+3706100" + std::to_string(1000 + i));
    ASSERT_EQ(r.size(), 1u) << i;
    EXPECT_EQ(r[0].text, "Reply number " + std::to_string(i));
  }
}

TEST_F(two_way_e2e, stop_in_each_default_language_suppresses_messages_already_queued_start_and_help_answer) {
  // Two parts a second: the reminders wait in the dispatcher's lane,
  // behind five other messages, while the opt-outs arrive.
  auto cfg = write_config("", ", tps: 2");
  child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
  std::string seen;
  const std::uint16_t port = api_port(smppd, seen);
  ASSERT_NE(port, 0) << seen;
  inject_mo("from: 37060009990\nto: 12345\ntext: hello\n");  // bound and receiving
  ASSERT_GE(wait_for("mo_parts_acked", 1), 1);
  auto send = [&](const std::string& to, const std::string& text) {
    auto [status, body] = post(port, "/v1/messages", json{{"to", to}, {"from", "12345"}, {"text", text}}.dump());
    EXPECT_EQ(status, 202) << body;
    return json::parse(body, nullptr, false).value("id", std::string());
  };
  const std::vector<std::string> customers{"+37060000021", "+37060000022", "+37060000023"};
  for (int i = 0; i < 5; ++i) send("+3706000999" + std::to_string(i), "First");
  std::vector<std::string> reminders;
  for (const auto& to : customers) reminders.push_back(send(to, "Your reminder"));
  inject_mo("from: 37060000021\nto: 12345\ntext: Stop\n");
  inject_mo("from: 37060000022\nto: 12345\nencoding: ucs2\ntext: стоп\n");
  inject_mo("from: 37060000023\nto: 12345\ntext: Atsisakyti.\n");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(read_until(smppd, "opted out", seen)) << seen;

  // The API refuses a message to a number on the list.
  auto [status, body] = post(port, "/v1/messages", json{{"to", "+37060000022"}, {"from", "12345"}, {"text", "x"}}.dump());
  EXPECT_EQ(status, 400);
  EXPECT_EQ(json::parse(body)["error"]["code"], "opted_out") << body;

  // The reminders queued before the opt-outs never go out, and say why.
  for (const auto& id : reminders) {
    std::string state;
    for (int i = 0; i < 100 && state != "suppressed"; ++i) {
      auto [st, b] = call_get(port, "/v1/messages/" + id);
      state = json::parse(b, nullptr, false).value("state", std::string());
      if (state != "suppressed") std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(state, "suppressed") << id;
  }

  // START lifts it; HELP is answered.
  inject_mo("from: 37060000021\nto: 12345\ntext: START\n");
  inject_mo("from: 37060000024\nto: 12345\ntext: help\n");
  ASSERT_TRUE(read_until(smppd, "msg=\"opted in\"", seen)) << seen;
  send("+37060000021", "Welcome back");
  // 5 first; confirmations: English 1 part, Russian and Lithuanian (UCS-2)
  // 2 each; then the opt-in confirmation, the HELP answer, the message
  // after START.
  ASSERT_GE(wait_for("submit_sm", 13), 13);
  std::this_thread::sleep_for(1500ms);  // nothing else goes out
  auto counts = sim_counts();
  EXPECT_EQ(counts["submit_sm"], 13) << counts.dump();
  const auto& to = counts["destinations"];
  for (int i = 0; i < 5; ++i) EXPECT_EQ(to["3706000999" + std::to_string(i)], 1) << i;
  EXPECT_EQ(to["37060000021"], 3);  // opt-out and opt-in confirmations, the message after START
  EXPECT_EQ(to["37060000022"], 2);  // the confirmation only
  EXPECT_EQ(to["37060000023"], 2);
  EXPECT_EQ(to["37060000024"], 1);  // the HELP text
  // The metrics count the keywords and the suppressed parts.
  std::uint16_t metrics_port = 0;
  for (std::size_t at = 0, nl; !metrics_port && (nl = seen.find('\n', at)) != std::string::npos; at = nl + 1)
    metrics_port = smppd::test::listening_port(std::string_view(seen).substr(at, nl - at), "metrics");
  ASSERT_NE(metrics_port, 0) << seen;
  const std::string metrics = call_get(metrics_port, "/metrics").second;
  EXPECT_NE(metrics.find("smppd_reply_keywords_total{kind=\"opt_out\"} 3"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("smppd_reply_keywords_total{kind=\"opt_in\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("smppd_reply_keywords_total{kind=\"help\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("smppd_parts_opted_out_total 3"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("smppd_replies_total 6"), std::string::npos) << metrics;
  smppd.stop(SIGTERM);

  storage::log_reader reader({dir / "data" / "log", {}});
  std::error_code ec;
  for (const auto& id : reminders) {
    auto m = reader.message(std::stoull(id), ec);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->record.parts[0].settled_by, storage::cause::opted_out) << id;
  }
  auto stops = replies_from("+37060000022");
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_EQ(stops[0].keyword, storage::reply_keyword::opt_out);
  EXPECT_EQ(stops[0].text, "стоп");
}

TEST_F(two_way_e2e, replies_match_two_open_conversations_by_pool_number_by_code_and_by_recency) {
  auto cfg = write_config("two_way: { reply_numbers: [\"+37060000100\", \"+37060000101\"], conversation_window: 1h }\n");
  child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
  std::string seen;
  const std::uint16_t port = api_port(smppd, seen);
  ASSERT_NE(port, 0) << seen;
  const std::string customer = "+37060000031";
  auto open = [&](const std::string& text) {
    auto [status, body] = post(port, "/v1/messages",
                               json{{"to", customer}, {"from", "ACME"}, {"text", text}, {"expects_reply", true}}.dump());
    EXPECT_EQ(status, 202) << body;
    return json::parse(body, nullptr, false)["conversation"];
  };
  const json reminder = open("Your appointment is on Tuesday at 10:00. Still suits you? Reply YES or NO");
  const json parcel = open("Your parcel #REF arrives tomorrow. Deliver to the usual address?");
  ASSERT_TRUE(reminder.is_object() && parcel.is_object());
  EXPECT_NE(reminder["number"], parcel["number"]);  // one customer, two open conversations: two numbers
  EXPECT_NE(reminder["code"], parcel["code"]);

  const std::string reminder_number = reminder["number"].get<std::string>().substr(1);
  const std::string parcel_code = parcel["code"].get<std::string>();
  inject_mo("from: 37060000031\nto: " + reminder_number + "\ntext: Yes\n");
  ASSERT_TRUE(read_until(smppd, "reply matched a conversation", seen)) << seen;
  inject_mo("from: 37060000031\nto: 12345\ntext: About " + parcel_code + ": leave it with the neighbour\n");
  ASSERT_TRUE(read_until(smppd, "reply matched a conversation", seen)) << seen;
  inject_mo("from: 37060000031\nto: 12345\ntext: Thanks!\n");
  ASSERT_TRUE(read_until(smppd, "reply matched a conversation", seen)) << seen;
  inject_mo("from: 37060000032\nto: 12345\ntext: Who is this?\n");  // nobody wrote to them
  ASSERT_GE(wait_for("mo_parts_acked", 4), 4);

  auto [status, body] = call_get(port, "/v1/conversations?customer=%2B37060000031");
  ASSERT_EQ(status, 200) << body;
  json list = json::parse(body)["conversations"];
  ASSERT_EQ(list.size(), 2u) << body;
  const json& p = list[0];  // newest first
  const json& r = list[1];
  EXPECT_EQ(p["id"], parcel["id"]);
  EXPECT_EQ(r["answer"], "yes");
  ASSERT_EQ(r["replies"].size(), 1u) << body;
  EXPECT_EQ(r["replies"][0]["match"], "number");
  EXPECT_EQ(r["replies"][0]["answer"], "yes");
  ASSERT_EQ(p["replies"].size(), 2u) << body;
  EXPECT_EQ(p["replies"][0]["match"], "code");
  EXPECT_EQ(p["replies"][1]["match"], "recent");
  EXPECT_EQ(p["replies"][1]["text"], "Thanks!");
  EXPECT_EQ(p["answer"], "");

  auto [one_status, one] = call_get(port, "/v1/conversations/" + reminder["id"].get<std::string>());
  ASSERT_EQ(one_status, 200) << one;
  EXPECT_EQ(json::parse(one)["customer"], customer);
  auto [other_status, other] = call_get(port, "/v1/conversations?customer=%2B37060000032");
  ASSERT_EQ(other_status, 200) << other;
  EXPECT_TRUE(json::parse(other)["conversations"].empty());
  ASSERT_EQ(json::parse(other)["unmatched_replies"].size(), 1u) << other;
  EXPECT_EQ(json::parse(other)["unmatched_replies"][0]["match"], "none");
  EXPECT_EQ(call_get(port, "/v1/conversations/999").first, 404);

  // The same through smppctl.
  const std::string api = "127.0.0.1:" + std::to_string(port);
  child_process ctl(bin_dir + "/smppctl", {"conversations", "--customer", customer, "--api", api}, true);
  std::string shown;
  while (auto line = ctl.read_line(10s)) shown += *line + "\n";
  auto st = ctl.wait_exit(10s);
  ASSERT_TRUE(st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << shown;
  EXPECT_NE(shown.find("by number Yes"), std::string::npos) << shown;
  EXPECT_NE(shown.find("by code   About " + parcel_code), std::string::npos) << shown;
  EXPECT_NE(shown.find("by recent Thanks!"), std::string::npos) << shown;
  EXPECT_NE(shown.find(parcel_code), std::string::npos) << shown;

  // Agents answer: from the number the customer last wrote to.
  auto [answer_status, answer] = post(port, "/v1/conversations/" + reminder["id"].get<std::string>() + "/reply",
                                      json{{"text", "See you on Tuesday"}}.dump());
  ASSERT_EQ(answer_status, 202) << answer;
  EXPECT_EQ(json::parse(answer)["from"], reminder["number"]);
  child_process agent(bin_dir + "/smppctl",
                      {"reply", parcel["id"].get<std::string>(), "--text", "We will leave it next door", "--api", api},
                      true);
  auto id_line = agent.read_line(10s);
  auto agent_st = agent.wait_exit(10s);
  ASSERT_TRUE(id_line && agent_st && WIFEXITED(*agent_st) && WEXITSTATUS(*agent_st) == 0);
  auto [m_status, m] = call_get(port, "/v1/messages/" + *id_line);
  ASSERT_EQ(m_status, 200) << m;
  EXPECT_EQ(json::parse(m)["sender"], "12345");  // the parcel's last reply came to 12345
  EXPECT_EQ(json::parse(m)["recipient"], customer);
  EXPECT_EQ(post(port, "/v1/conversations/999/reply", json{{"text", "x"}}.dump()).first, 404);
  smppd.stop(SIGTERM);
}

TEST_F(two_way_e2e, one_auto_acknowledgement_per_period_none_to_keywords_or_autoreplies_not_even_after_a_sigkill) {
  const std::string service_ack = "Thanks for writing to the service line";
  auto cfg = write_config("two_way:\n  auto_ack:\n    text: \"" + general_ack +
                          "\"\n    period: 1h\n    loop_guard: 0s\n    numbers: { \"12399\": \"" + service_ack +
                          "\" }\n");
  auto metric = [](const std::string& metrics, const std::string& line) {
    return metrics.find("\n" + line + "\n") != std::string::npos;
  };
  {
    child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
    std::string seen;
    ASSERT_NE(api_port(smppd, seen), 0) << seen;
    inject_mo("from: 37060000061\nto: 12345\ntext: Where is my parcel?\n");
    ASSERT_TRUE(read_until(smppd, "msg=\"auto-acknowledgement sent\"", seen)) << seen;
    inject_mo("from: 37060000061\nto: 12345\ntext: Hello? Any news?\n");          // within the period
    inject_mo("from: 37060000062\nto: 12345\ntext: STOP\n");                      // the confirmation only
    inject_mo("from: 37060000063\nto: 12345\ntext: Automatic reply: out of office\n");
    inject_mo("from: 37060000064\nto: 12399\ntext: Can I change my booking?\n");  // the number's own text
    ASSERT_GE(wait_for("mo_parts_acked", 5), 5);
    ASSERT_GE(wait_for("submit_sm", 3), 3);
    std::this_thread::sleep_for(1500ms);  // nothing else goes out
    auto counts = sim_counts();
    EXPECT_EQ(counts["submit_sm"], 3) << counts.dump();
    const auto& to = counts["destinations"];
    EXPECT_EQ(to["37060000061"], 1) << counts.dump();
    EXPECT_EQ(to["37060000062"], 1) << counts.dump();
    EXPECT_FALSE(to.contains("37060000063")) << counts.dump();
    EXPECT_EQ(to["37060000064"], 1) << counts.dump();

    std::uint16_t metrics_port = 0;
    // The metrics server may start after the first replies came in.
    if (seen.find("msg=\"metrics listening\"") == std::string::npos) {
      ASSERT_TRUE(read_until(smppd, "msg=\"metrics listening\"", seen)) << seen;
    }
    for (std::size_t at = 0, nl; !metrics_port && (nl = seen.find('\n', at)) != std::string::npos; at = nl + 1)
      metrics_port = smppd::test::listening_port(std::string_view(seen).substr(at, nl - at), "metrics");
    ASSERT_NE(metrics_port, 0) << seen;
    const std::string metrics = call_get(metrics_port, "/metrics").second;
    EXPECT_TRUE(metric(metrics, "smppd_auto_acks_total 2")) << metrics;
    EXPECT_TRUE(metric(metrics, "smppd_auto_acks_skipped_total{reason=\"period\"} 1")) << metrics;
    EXPECT_TRUE(metric(metrics, "smppd_auto_acks_skipped_total{reason=\"keyword\"} 1")) << metrics;
    EXPECT_TRUE(metric(metrics, "smppd_auto_acks_skipped_total{reason=\"automatic\"} 1")) << metrics;
    // The first retention pass ran at start: nothing was old enough.
    for (const char* kind : {"reply", "conversation", "opt_in", "dead_letter"})
      EXPECT_TRUE(metric(metrics, std::string("smppd_two_way_removed_total{kind=\"") + kind + "\"} 0")) << metrics;
    // Log lines name the reply, never the number.
    EXPECT_EQ(seen.find("37060000061"), std::string::npos) << seen;
    // The replies were answered once durable, with their marks: a crash now
    // forgets nothing.
    smppd.stop(SIGKILL);
  }
  {
    child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
    std::string seen;
    ASSERT_NE(api_port(smppd, seen), 0) << seen;
    inject_mo("from: 37060000061\nto: 12345\ntext: I wrote an hour ago, still nothing\n");
    inject_mo("from: 37060000065\nto: 12345\ntext: First time writing\n");
    ASSERT_TRUE(read_until(smppd, "msg=\"auto-acknowledgement sent\"", seen)) << seen;
    ASSERT_GE(wait_for("mo_parts_acked", 7), 7);
    ASSERT_GE(wait_for("submit_sm", 4), 4);
    std::this_thread::sleep_for(1500ms);
    auto counts = sim_counts();
    EXPECT_EQ(counts["submit_sm"], 4) << counts.dump();
    EXPECT_EQ(counts["destinations"]["37060000061"], 1) << counts.dump();  // still the one from the first run
    EXPECT_EQ(counts["destinations"]["37060000065"], 1) << counts.dump();
    smppd.stop(SIGTERM);
  }
  // The acknowledgements are messages like any other, in the log.
  storage::log_reader reader({dir / "data" / "log", {}});
  std::error_code ec;
  auto text_to = [&](const std::string& customer) {
    std::vector<std::string> texts;
    for (auto id : reader.messages_to(customer, 0, INT64_MAX, 10, ec))
      if (auto m = reader.message(id, ec)) texts.push_back(m->record.text);
    return texts;
  };
  EXPECT_EQ(text_to("+37060000061"), std::vector<std::string>{general_ack});
  EXPECT_EQ(text_to("+37060000064"), std::vector<std::string>{service_ack});
  EXPECT_TRUE(text_to("+37060000063").empty());
}

}  // namespace

// An SMSC that gives the customer's number in national form (TON 2,
// "860000071" in Lithuania) still opts out the E.164 recipient messages
// name ("+37060000071"); the reply is kept under that number.
TEST_F(two_way_e2e, a_stop_from_a_number_in_national_form_opts_out_its_e164_recipient) {
  auto cfg = write_config();
  child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
  std::string seen;
  const std::uint16_t port = api_port(smppd, seen);
  ASSERT_NE(port, 0) << seen;
  inject_mo("from: 860000071\nton: 2\nto: 12345\ntext: Stop\n");
  ASSERT_TRUE(read_until(smppd, "opted out", seen)) << seen;
  auto [status, body] = post(port, "/v1/messages", json{{"to", "+37060000071"}, {"from", "ACME"}, {"text", "Sale!"}}.dump());
  EXPECT_EQ(status, 400) << body;
  EXPECT_EQ(json::parse(body)["error"]["code"], "opted_out") << body;
  auto [other, other_body] = post(port, "/v1/messages", json{{"to", "+37060000072"}, {"from", "ACME"}, {"text", "Sale!"}}.dump());
  EXPECT_EQ(other, 202) << other_body;
  smppd.stop(SIGTERM);
  const auto replies = replies_from("+37060000071");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].from, "+37060000071");
  EXPECT_EQ(replies[0].keyword, storage::reply_keyword::opt_out);
}
