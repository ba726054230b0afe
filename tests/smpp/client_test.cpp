// End-to-end tests of smpp/client.hpp and smpp/bind_pool.hpp: real TCP on
// 127.0.0.1 against a real smsc-sim process, one per test, with the
// simulator's fault options. Every wait is bounded; the simulator is
// stopped by PID.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "smpp/bind_pool.hpp"
#include "smpp/client.hpp"
#include "smpp/reassembly.hpp"
#include "smpp/receipt.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace std::chrono_literals;
using smpp::command_status;
using smpp::session_errc;

const std::string sim_binary = std::string(SMPPD_BIN_DIR) + "/smsc-sim";

struct inbound_record {
  std::uint32_t session = 0;
  bool is_receipt = false;
  std::string receipt_id;
  std::string text;  // short_message octets as sent
  std::uint8_t esm_class = 0;
  std::uint8_t data_coding = 0;
  std::string source, destination;
};

struct response_record {
  std::uint64_t tag = 0;
  std::error_code ec;
  command_status status = command_status::ESME_ROK;
  std::string message_id;
  bool late = false;
};

// Records every event; answers inbound PDUs at once unless told otherwise.
class recorder : public smpp::session_handler {
 public:
  std::function<void(const smpp::inbound_token&)> answer;
  std::size_t bound = 0, closed = 0, bind_failures = 0;
  std::vector<command_status> bind_statuses;
  std::vector<std::error_code> close_reasons;
  std::vector<response_record> responses;
  std::vector<inbound_record> inbound;
  std::vector<std::string> order;  // "resp:ID" and "receipt:ID" as they came

  void on_bound(std::uint32_t, std::string_view) override { ++bound; }
  void on_bind_failed(std::uint32_t, std::error_code, command_status st) override {
    ++bind_failures;
    bind_statuses.push_back(st);
  }
  void on_response(std::uint32_t, std::uint64_t tag, const smpp::response& r) override {
    responses.push_back({tag, r.ec, r.status, std::string(r.message_id), r.late});
    if (!r.ec) order.push_back("resp:" + std::string(r.message_id));
  }
  void on_inbound(std::uint32_t s, smpp::inbound_token t, const smpp::pdu& p) override {
    inbound_record rec;
    rec.session = s;
    if (auto* d = p.get<smpp::deliver_sm>()) {
      rec.esm_class = d->esm_class;
      rec.data_coding = d->data_coding;
      rec.text = std::string(d->short_message);
      rec.source = std::string(d->source_addr);
      rec.destination = std::string(d->destination_addr);
      smpp::delivery_receipt dr;
      if (smpp::receipt_kind_of(d->esm_class) == smpp::receipt_kind::smsc_delivery_receipt &&
          !smpp::parse_receipt(*d, dr)) {
        rec.is_receipt = true;
        rec.receipt_id = std::string(dr.message_id);
        order.push_back("receipt:" + rec.receipt_id);
      }
    }
    inbound.push_back(std::move(rec));
    if (answer) answer(t);
  }
  void on_closed(std::uint32_t, std::error_code ec) override {
    ++closed;
    close_reasons.push_back(ec);
  }

  std::size_t count(std::error_code ec) const {
    std::size_t n = 0;
    for (auto& r : responses) n += r.ec == ec;
    return n;
  }
  std::size_t accepted() const {
    std::size_t n = 0;
    for (auto& r : responses) n += !r.ec && r.status == command_status::ESME_ROK && !r.late;
    return n;
  }
};

smpp::pdu_body submit_to(std::string_view to, std::uint8_t registered_delivery = 0) {
  smpp::submit_sm s;
  s.source_addr = "ACME";
  s.destination_addr = to;
  s.registered_delivery = registered_delivery;
  s.short_message = "Your appointment is confirmed";
  return s;
}

class client_e2e : public ::testing::Test {
 protected:
  boost::asio::io_context io;
  recorder handler;
  std::optional<smppd::test::child_process> sim;
  std::uint16_t port = 0;
  smppd::test::temp_dir tmp{"smppd-client-test"};
  std::filesystem::path dir = tmp.path();

  void TearDown() override {
    if (sim) sim->stop();
  }

  void start_sim(std::vector<std::string> flags) {
    port = smppd::test::start_smsc_sim(sim, sim_binary, std::move(flags));
    ASSERT_NE(port, 0) << "smsc-sim did not start";
  }

  smpp::client_options options(smpp::bind_type type = smpp::bind_type::transceiver) {
    smpp::client_options o;
    o.host = "127.0.0.1";
    o.port = port;
    o.session.type = type;
    o.session.system_id = "acme";
    o.session.password = "secret";
    o.session.window = 16;
    o.session.response_timeout = 3s;
    o.reconnect.initial = 100ms;
    o.reconnect.max = 400ms;
    o.reconnect.already_bound_wait = 800ms;
    return o;
  }

  // Runs the io_context until pred() holds or `limit` passes.
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds limit = 10s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      io.restart();
      io.run_for(5ms);
    }
    return true;
  }
  void run_for(std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
  }

  std::shared_ptr<smpp::esme_client> connect(smpp::client_options o) {
    auto c = smpp::esme_client::create(io, std::move(o), handler);
    c->start();
    return c;
  }

  void stop(smpp::esme_client& c) {
    bool done = false;
    c.stop(2s, [&] { done = true; });
    EXPECT_TRUE(run_until([&] { return done; }));
  }
};

TEST_F(client_e2e, binds_as_transmitter_receiver_and_transceiver) {
  start_sim({"--system-id", "acme", "--password", "secret"});
  for (auto type : {smpp::bind_type::transmitter, smpp::bind_type::receiver, smpp::bind_type::transceiver}) {
    SCOPED_TRACE(std::string(smpp::name(type)));
    handler = recorder{};
    auto c = connect(options(type));
    ASSERT_TRUE(run_until([&] { return c->bound(); }));
    EXPECT_EQ(c->room(), smpp::can_send(type) ? 16u : 0u);
    stop(*c);
    EXPECT_EQ(c->state(), smpp::client_state::stopped);
    EXPECT_EQ(handler.close_reasons.back(), session_errc::unbound);
  }
}

TEST_F(client_e2e, reports_a_wrong_password_and_retries_with_backoff) {
  start_sim({"--system-id", "acme", "--password", "right"});
  auto o = options();
  o.session.password = "wrong";
  auto c = connect(o);
  ASSERT_TRUE(run_until([&] { return handler.bind_failures >= 3; }));
  EXPECT_EQ(handler.bind_statuses[0], command_status::ESME_RINVPASWD);
  EXPECT_FALSE(c->bound());
  // The backoff grows (100, 200, 400, 400 ms, less jitter): however slow
  // the machine, a hot loop would show hundreds of attempts per second.
  run_for(1000ms);
  EXPECT_LT(handler.bind_failures, 12u);
  stop(*c);
}

TEST_F(client_e2e, fills_the_window_and_refuses_more) {
  start_sim({"--resp-delay", "300"});
  auto o = options();
  o.session.window = 4;
  auto c = connect(o);
  ASSERT_TRUE(run_until([&] { return c->bound(); }));
  for (std::uint64_t tag = 0; tag < 4; ++tag) ASSERT_FALSE(c->submit(submit_to("37060000001"), tag));
  EXPECT_EQ(c->submit(submit_to("37060000001"), 4), session_errc::window_full);
  ASSERT_TRUE(run_until([&] { return handler.responses.size() == 4; }));
  EXPECT_EQ(handler.accepted(), 4u);
  EXPECT_EQ(c->room(), 4u);
  stop(*c);
}

TEST_F(client_e2e, times_out_a_slow_response_and_recognises_it_when_it_comes) {
  start_sim({"--resp-delay", "800"});
  auto o = options();
  o.session.response_timeout = 200ms;
  auto c = connect(o);
  ASSERT_TRUE(run_until([&] { return c->bound(); }));
  ASSERT_FALSE(c->submit(submit_to("37060000001"), 42));
  ASSERT_TRUE(run_until([&] { return handler.responses.size() == 2; }));
  EXPECT_EQ(handler.responses[0].tag, 42u);
  EXPECT_EQ(handler.responses[0].ec, session_errc::response_timeout);
  EXPECT_EQ(handler.responses[1].tag, 42u);
  EXPECT_TRUE(handler.responses[1].late);
  EXPECT_FALSE(handler.responses[1].message_id.empty());
  stop(*c);
}

TEST_F(client_e2e, keeps_an_idle_link_alive_with_enquire_link) {
  start_sim({});
  auto o = options();
  o.session.enquire_link_interval = 100ms;
  auto c = connect(o);
  ASSERT_TRUE(run_until([&] { return c->bound(); }));
  ASSERT_TRUE(run_until([&] { return c->counters().enquire_links_sent >= 3; }));
  EXPECT_TRUE(c->bound());
  EXPECT_EQ(handler.closed, 0u);
  stop(*c);
}

TEST_F(client_e2e, declares_the_link_dead_without_enquire_link_resp_and_reconnects) {
  start_sim({"--no-enquire-link-resp"});
  auto o = options();
  o.session.enquire_link_interval = 100ms;
  o.session.response_timeout = 200ms;
  auto c = connect(o);
  ASSERT_TRUE(run_until([&] { return handler.closed >= 1; }));
  EXPECT_EQ(handler.close_reasons[0], session_errc::link_dead);
  ASSERT_TRUE(run_until([&] { return handler.bound >= 2; }));  // bound again after the backoff
  stop(*c);
}

TEST_F(client_e2e, reconnects_after_the_smsc_drops_and_reports_the_window_in_doubt) {
  start_sim({"--drop-after", "4", "--resp-delay", "200"});  // the bind and three submits
  auto c = connect(options());
  ASSERT_TRUE(run_until([&] { return c->bound(); }));
  for (std::uint64_t tag = 0; tag < 3; ++tag) ASSERT_FALSE(c->submit(submit_to("37060000001"), tag));
  ASSERT_TRUE(run_until([&] { return handler.closed >= 1; }));
  // Written, never answered: in doubt, neither dropped nor resent.
  EXPECT_EQ(handler.count(session_errc::connection_lost), 3u);
  EXPECT_EQ(handler.responses.size(), 3u);
  ASSERT_TRUE(run_until([&] { return handler.bound >= 2; }));
  EXPECT_GE(c->stats().connects, 2u);
  stop(*c);
}

TEST_F(client_e2e, passes_throttling_on_as_a_temporary_failure_that_asks_to_slow_down) {
  start_sim({"--tps-cap", "20"});
  auto o = options();
  o.session.window = 100;
  auto c = connect(o);
  ASSERT_TRUE(run_until([&] { return c->bound(); }));
  for (std::uint64_t tag = 0; tag < 100; ++tag) ASSERT_FALSE(c->submit(submit_to("37060000001"), tag));
  ASSERT_TRUE(run_until([&] { return handler.responses.size() == 100; }));
  std::size_t throttled = 0;
  for (auto& r : handler.responses)
    if (r.status == command_status::ESME_RTHROTTLED) {
      ++throttled;
      auto v = smpp::classify(r.status);
      EXPECT_EQ(v.kind, smpp::status_class::temporary);
      EXPECT_TRUE(v.slow_down);
    }
  EXPECT_GE(throttled, 50u);  // 100 at once against 20 per second
  EXPECT_GE(handler.accepted(), 1u);
  stop(*c);
}

TEST_F(client_e2e, matches_receipts_that_overtake_their_resp) {
  start_sim({"--receipt-before-resp", "1"});
  auto c = connect(options());
  handler.answer = [&](const smpp::inbound_token& t) { ASSERT_FALSE(c->respond(t, command_status::ESME_ROK)); };
  ASSERT_TRUE(run_until([&] { return c->bound(); }));
  for (std::uint64_t tag = 0; tag < 10; ++tag) ASSERT_FALSE(c->submit(submit_to("37060000001", 1), tag));
  ASSERT_TRUE(run_until([&] { return handler.responses.size() == 10 && handler.inbound.size() == 10; }));
  std::set<std::string> receipts_seen;
  for (auto& e : handler.order) {
    if (e.starts_with("receipt:")) receipts_seen.insert(e.substr(8));
    if (e.starts_with("resp:")) {
      EXPECT_TRUE(receipts_seen.count(e.substr(5))) << e << " came before its receipt";
    }
  }
  EXPECT_EQ(receipts_seen.size(), 10u);
  stop(*c);
}

TEST_F(client_e2e, receives_mo_messages_including_a_concatenated_ucs2_one) {
  const std::string long_text =
      "Здравствуйте! Можно перенести доставку на четверг? Я буду дома только после шести вечера, "
      "и лучше позвонить заранее.";
  {
    std::ofstream script(dir / "mo.txt");
    script << "# replies\n37060000001 1234 YES\n37060000002 1234 " << long_text << "\n";
  }
  start_sim({"--mo-script", (dir / "mo.txt").string()});
  auto c = connect(options(smpp::bind_type::receiver));
  handler.answer = [&](const smpp::inbound_token& t) { ASSERT_FALSE(c->respond(t, command_status::ESME_ROK)); };
  ASSERT_TRUE(run_until([&] { return handler.inbound.size() >= 3; }));
  run_for(200ms);
  smpp::reassembler parts;
  std::vector<std::string> texts;
  for (auto& in : handler.inbound) {
    ASSERT_FALSE(in.is_receipt);
    bool udhi = in.esm_class & 0x40;
    auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(in.text.data()), in.text.size());
    std::error_code ec;
    auto whole = parts.add(in.source, bytes, udhi, in.data_coding, smpp::decode_options{}, std::nullopt,
                           smpp::reassembler::clock::now(), ec);
    ASSERT_FALSE(ec) << ec.message();
    if (whole) texts.push_back(whole->utf8);
  }
  ASSERT_EQ(texts.size(), 2u);
  EXPECT_EQ(texts[0], "YES");
  EXPECT_EQ(texts[1], long_text);
  EXPECT_GE(handler.inbound.size(), 3u);  // the long one came in parts
  stop(*c);
}

TEST_F(client_e2e, drains_a_full_window_before_unbinding_on_stop) {
  start_sim({"--resp-delay", "300"});
  auto o = options();
  o.session.window = 8;
  auto c = connect(o);
  ASSERT_TRUE(run_until([&] { return c->bound(); }));
  for (std::uint64_t tag = 0; tag < 8; ++tag) ASSERT_FALSE(c->submit(submit_to("37060000001"), tag));
  bool done = false;
  c->stop(3s, [&] { done = true; });
  EXPECT_EQ(c->submit(submit_to("37060000001"), 99), session_errc::not_bound);
  ASSERT_TRUE(run_until([&] { return done; }));
  EXPECT_EQ(handler.accepted(), 8u);  // every response arrived before the unbind
  EXPECT_EQ(handler.close_reasons.back(), session_errc::unbound);
}

TEST_F(client_e2e, stop_with_a_short_deadline_reports_the_rest_in_doubt) {
  start_sim({"--resp-delay", "2000"});
  auto c = connect(options());
  ASSERT_TRUE(run_until([&] { return c->bound(); }));
  for (std::uint64_t tag = 0; tag < 5; ++tag) ASSERT_FALSE(c->submit(submit_to("37060000001"), tag));
  bool done = false;
  c->stop(100ms, [&] { done = true; });
  ASSERT_TRUE(run_until([&] { return done; }));
  // Each request is reported once: answered (an SMSC may flush its resps
  // before the unbind_resp) or in doubt; none dropped, none "not sent".
  ASSERT_EQ(handler.responses.size(), 5u);
  EXPECT_EQ(handler.accepted() + handler.count(session_errc::connection_lost), 5u);
  EXPECT_EQ(c->state(), smpp::client_state::stopped);
}

TEST_F(client_e2e, waits_out_the_smscs_session_timeout_after_already_bound) {
  start_sim({"--max-binds", "1", "--stale-bind-seconds", "1"});
  // Another ESME (a crashed process of ours) bound and vanished without
  // unbind: a plain socket that binds, reads the resp and closes.
  {
    boost::asio::ip::tcp::socket raw(io);
    raw.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    smpp::bind_transceiver b;
    b.system_id = "acme";
    b.password = "secret";
    smpp::pdu p{0, 1, b};
    std::vector<std::uint8_t> bytes(smpp::encoded_size(p));
    ASSERT_TRUE(smpp::encode(p, bytes));
    boost::asio::write(raw, boost::asio::buffer(bytes));
    std::uint8_t resp[64];
    ASSERT_GE(raw.read_some(boost::asio::buffer(resp)), 16u);
    EXPECT_EQ(resp[11], 0);  // command_status low octet: bound
    raw.close();
  }
  handler = recorder{};
  auto o = options();
  o.reconnect.already_bound_wait = 1200ms;  // longer than the SMSC's 1 s hold
  auto c = connect(o);
  ASSERT_TRUE(run_until([&] { return c->bound(); }, 10s))
      << "bind failures " << handler.bind_failures << ", last status "
      << (handler.bind_statuses.empty() ? 0u : static_cast<unsigned>(handler.bind_statuses.back()))
      << ", connects " << c->stats().connects << ", last error " << c->stats().last_error.message();
  // At most one refused bind with ESME_RALYBND before the wait, not a storm.
  EXPECT_LE(handler.bind_failures, 1u);
  for (auto st : handler.bind_statuses) EXPECT_EQ(st, command_status::ESME_RALYBND);
  stop(*c);
}

TEST_F(client_e2e, a_pool_never_holds_more_binds_than_configured_while_reconnecting) {
  // The SMSC allows exactly two binds and drops every connection each
  // second; a pool of two that opened a third socket before the old one
  // closed would be refused with ESME_RALYBND.
  start_sim({"--max-binds", "2", "--drop-every", "1"});
  smpp::pool_options po;
  po.client = options();
  po.binds = 2;
  smpp::bind_pool pool(io, po, handler);
  pool.start();
  ASSERT_TRUE(run_until([&] { return pool.bound_senders() == 2; }));
  ASSERT_TRUE(run_until([&] { return handler.bound >= 6; }, 15s));  // through at least two drops
  EXPECT_EQ(handler.bind_failures, 0u);
  bool done = false;
  pool.stop(1s, [&] { done = true; });
  ASSERT_TRUE(run_until([&] { return done; }));
}

TEST_F(client_e2e, a_pool_keeps_sending_on_the_other_binds_while_one_reconnects) {
  start_sim({"--drop-after", "60"});
  smpp::pool_options po;
  po.client = options();
  po.client.session.window = 8;
  po.binds = 3;
  smpp::bind_pool pool(io, po, handler);
  pool.start();
  ASSERT_TRUE(run_until([&] { return pool.bound_senders() == 3; }));
  // Submit 400 messages one after another as room allows; every one ends
  // accepted, in doubt or not sent, and the pool never stalls for long.
  std::uint64_t next = 0;
  const std::uint64_t total = 400;
  ASSERT_TRUE(run_until(
      [&] {
        while (next < total) {
          auto body = submit_to("37060000001");
          if (pool.submit(std::span(&body, 1), std::span(&next, 1))) break;
          ++next;
        }
        return next == total && handler.responses.size() == total;
      },
      30s));
  std::map<std::uint64_t, int> per_tag;
  for (auto& r : handler.responses) ++per_tag[r.tag];
  EXPECT_EQ(per_tag.size(), total);
  for (auto& [tag, n] : per_tag) EXPECT_EQ(n, 1) << tag;
  EXPECT_GE(handler.closed, 3u);  // binds were dropped along the way
  EXPECT_GT(handler.accepted(), total / 2);
  bool done = false;
  pool.stop(1s, [&] { done = true; });
  ASSERT_TRUE(run_until([&] { return done; }));
}

TEST_F(client_e2e, sends_all_parts_of_a_message_on_one_bind_back_to_back) {
  start_sim({});
  smpp::pool_options po;
  po.client = options();
  po.binds = 3;
  smpp::bind_pool pool(io, po, handler);
  pool.start();
  ASSERT_TRUE(run_until([&] { return pool.bound_senders() == 3; }));
  std::vector<smpp::pdu_body> parts(3, submit_to("37060000001"));
  std::vector<std::uint64_t> tags{1, 2, 3};
  std::uint32_t bind = 99;
  ASSERT_FALSE(pool.submit(parts, tags, &bind));
  EXPECT_LT(bind, 3u);
  EXPECT_EQ(pool.bind(bind).outstanding(), 3u);
  ASSERT_TRUE(run_until([&] { return handler.responses.size() == 3; }));
  bool done = false;
  pool.stop(1s, [&] { done = true; });
  ASSERT_TRUE(run_until([&] { return done; }));
}

class tls_e2e : public client_e2e {
 protected:
  void make_certificate() {
    const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost"
                            " -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
                            (dir / "key.pem").string() + " -out " + (dir / "cert.pem").string() +
                            " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make a certificate";
  }
};

TEST_F(tls_e2e, binds_over_tls_when_the_certificate_is_trusted) {
  make_certificate();
  start_sim({"--tls-cert", (dir / "cert.pem").string(), "--tls-key", (dir / "key.pem").string()});
  auto o = options();
  o.tls.enabled = true;
  o.tls.ca_file = (dir / "cert.pem").string();
  auto c = connect(o);
  ASSERT_TRUE(run_until([&] { return c->bound(); }));
  ASSERT_FALSE(c->submit(submit_to("37060000001"), 1));
  ASSERT_TRUE(run_until([&] { return handler.responses.size() == 1; }));
  EXPECT_EQ(handler.accepted(), 1u);
  stop(*c);
}

TEST_F(tls_e2e, refuses_a_server_certificate_it_cannot_verify) {
  make_certificate();
  start_sim({"--tls-cert", (dir / "cert.pem").string(), "--tls-key", (dir / "key.pem").string()});
  auto o = options();
  o.tls.enabled = true;  // the system trust store does not know our self-signed certificate
  auto c = connect(o);
  ASSERT_TRUE(run_until([&] { return c->stats().connect_failures >= 2; }));
  EXPECT_EQ(handler.bound, 0u);
  stop(*c);
}

TEST_F(tls_e2e, refuses_a_certificate_for_another_host_name) {
  make_certificate();
  start_sim({"--tls-cert", (dir / "cert.pem").string(), "--tls-key", (dir / "key.pem").string()});
  auto o = options();
  o.tls.enabled = true;
  o.tls.ca_file = (dir / "cert.pem").string();
  o.tls.server_name = "smsc.example.org";
  auto c = connect(o);
  ASSERT_TRUE(run_until([&] { return c->stats().connect_failures >= 1; }));
  EXPECT_EQ(handler.bound, 0u);
  stop(*c);
}

}  // namespace
