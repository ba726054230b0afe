// The daemon end to end: real smppd and smsc-sim processes on 127.0.0.1,
// a real message log in a temporary directory. Campaigns are sent and
// reported, notifications enter through the HTTP API and overtake a
// campaign, and a campaign killed with SIGKILL continues after a restart
// without sending anyone a message twice.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using json = nlohmann::json;
using smppd::test::child_process;

const std::string bin_dir = SMPPD_BIN_DIR;

class daemon_e2e : public ::testing::Test {
 protected:
  smppd::test::temp_dir tmp{"smppd-daemon-test"};
  fs::path dir = tmp.path();
  std::optional<child_process> sim;
  std::uint16_t sim_port = 0;

  void TearDown() override {
    if (sim) sim->stop();
  }

  void start_sim(std::vector<std::string> flags) {
    flags.insert(flags.end(), {"--count-destinations", "--counts-file", (dir / "sim.json").string()});
    sim_port = smppd::test::start_smsc_sim(sim, bin_dir + "/smsc-sim", flags);
    ASSERT_NE(sim_port, 0);
  }

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

  void write_csv(const std::string& name, int rows, const std::string& extra = "") {
    std::ofstream out(dir / name);
    out << "msisdn,name\n";
    for (int i = 0; i < rows; ++i) out << "+3706" << (1000000 + i) << ",N" << i << "\n";
    out << extra;
  }

  fs::path write_config(const std::string& campaigns, const std::string& smsc_extra = "") {
    std::ofstream out(dir / "smppd.yaml");
    out << "node: { data_dir: data, sync: every_10ms }\n"
        << "api: { listen: \"127.0.0.1:0\" }\n"
        << "metrics: { listen: \"127.0.0.1:0\" }\n"
        << "smscs:\n  - { name: sim, host: 127.0.0.1, port: " << sim_port
        << ", system_id: smppd, password: pw, binds: 2, window: 64, enquire_link_s: 5" << smsc_extra << " }\n"
        << "operators:\n  - { name: lt, prefixes: [\"+370\"], smscs: [sim] }\n"
        << "numbering: { default_country_code: \"370\", trunk_prefix: \"8\" }\n"
        << campaigns;
    return dir / "smppd.yaml";
  }

  // Runs smppd to its exit; returns its exit status and everything it printed.
  std::pair<int, std::string> run_once(const fs::path& config, std::chrono::seconds limit = 60s) {
    child_process p(bin_dir + "/smppd", {"--config", config.string(), "--once", "--receipt-wait", "3"}, true);
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto line = p.read_line(500ms);
      if (line) out += *line + "\n";
      if (auto st = p.wait_exit(0ms)) {
        while (auto rest = p.read_line(200ms)) out += *rest + "\n";
        return {WIFEXITED(*st) ? WEXITSTATUS(*st) : -1, out};
      }
    }
    p.stop(SIGKILL);
    ADD_FAILURE() << "smppd --once did not finish:\n" << out;
    return {-1, out};
  }

  // Runs smppctl; its exit status and everything it printed.
  std::pair<int, std::string> run_ctl(const std::vector<std::string>& args) {
    child_process p(bin_dir + "/smppctl", args, true);
    std::string out;
    while (auto line = p.read_line(10s)) out += *line + "\n";
    auto st = p.wait_exit(10s);
    return {st && WIFEXITED(*st) ? WEXITSTATUS(*st) : -1, out};
  }

  static std::uint16_t api_port(child_process& p, std::string& seen) {
    for (int i = 0; i < 100; ++i) {
      auto line = p.read_line(100ms);
      if (!line) continue;
      seen += *line + "\n";
      auto at = line->find("API listening on ");
      if (at != std::string::npos) return static_cast<std::uint16_t>(std::stoul(line->substr(line->rfind(':') + 1)));
    }
    return 0;
  }

  static std::pair<int, std::string> post(std::uint16_t port, const std::string& target, const std::string& body) {
    namespace http = boost::beast::http;
    boost::asio::io_context io;
    boost::beast::tcp_stream s(io);
    s.expires_after(10s);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(s, req);
    boost::beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    return {res.result_int(), res.body()};
  }
};

TEST_F(daemon_e2e, sends_a_campaign_once_and_prints_its_delivery_report) {
  start_sim({"--receipt-mix", "DELIVRD=80,UNDELIV=20", "--seed", "3"});
  write_csv("r.csv", 300, "+3706000x001,Bad\n+37061000005,Again\n+37061000299\n");
  auto cfg = write_config(
      "campaigns:\n  - { id: c1, recipients: r.csv, from: ACME, text: \"Hi {{name}}, sale today\" }\n");
  auto [rc, out] = run_once(cfg);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("Campaign c1"), std::string::npos) << out;
  EXPECT_NE(out.find("rows             303 (one message each in the log)"), std::string::npos) << out;
  EXPECT_NE(out.find("rejected rows    3 (never sent"), std::string::npos) << out;
  EXPECT_NE(out.find("suppressed     1"), std::string::npos) << out;  // the repeated recipient
  EXPECT_NE(out.find("row 302: bad number"), std::string::npos) << out;
  EXPECT_NE(out.find("row 303: duplicate recipient +37061000005"), std::string::npos) << out;
  EXPECT_NE(out.find("row 304: expected 2 columns, found 1"), std::string::npos) << out;
  EXPECT_NE(out.find("undeliverable"), std::string::npos) << out;
  // Every recipient got exactly one message.
  auto counts = sim_counts();
  EXPECT_EQ(counts["submit_sm"], 300);
  ASSERT_EQ(counts["destinations"].size(), 300u);
  for (auto& [to, n] : counts["destinations"].items()) EXPECT_EQ(n, 1) << to;
  EXPECT_EQ(counts["receipts_acked"], 300);

  // The same report, and one message's timeline, from the log by smppctl.
  const std::string data = (dir / "data").string();
  auto report = run_ctl({"report", "--data-dir", data, "c1"});
  EXPECT_EQ(report.first, 0) << report.second;
  EXPECT_NE(report.second.find("rows             303"), std::string::npos) << report.second;
  auto as_json = run_ctl({"report", "--data-dir", data, "--json", "c1"});
  ASSERT_EQ(as_json.first, 0) << as_json.second;
  auto j = json::parse(as_json.second);
  EXPECT_EQ(j["messages"], 303);
  EXPECT_EQ(j["rejected_rows"], 3);
  EXPECT_EQ(j["by_state"]["delivered"].get<int>() + j["by_state"]["undeliverable"].get<int>(), 300);
  auto csv = run_ctl({"report", "--data-dir", data, "--csv", "c1"});
  EXPECT_NE(csv.second.find("c1,delivered,"), std::string::npos) << csv.second;
  auto list = run_ctl({"report", "--data-dir", data});
  EXPECT_EQ(list.second, "c1\n");
  auto message = run_ctl({"message", "--data-dir", data, "--json", "1"});
  ASSERT_EQ(message.first, 0) << message.second;
  auto m = json::parse(message.second);
  EXPECT_EQ(m["campaign"], "c1");
  EXPECT_EQ(m["recipient"], "+37061000000");
  EXPECT_EQ(m["text"], "Hi N0, sale today");
  EXPECT_GE(m["timeline"].size(), 4u) << message.second;  // queued, submitted, resp, receipt
  auto missing = run_ctl({"message", "--data-dir", data, "999999"});
  EXPECT_EQ(missing.first, 1);
  EXPECT_NE(missing.second.find("no message 999999"), std::string::npos);
  auto no_log = run_ctl({"report", "--data-dir", (dir / "nothing").string(), "c1"});
  EXPECT_EQ(no_log.first, 1);
  EXPECT_NE(no_log.second.find("no message log in"), std::string::npos) << no_log.second;
}

TEST_F(daemon_e2e, a_10000_recipient_campaign_settles_everyone_once_through_drops_and_throttling) {
  // The SMSC drops every connection after 1.5 s and throttles above 3,000
  // submits per second: binds reconnect, throttled parts are retried,
  // parts in doubt become unknown (mark_unknown) and are never resent.
  start_sim({"--drop-every", "1.5", "--tps-cap", "3000"});
  write_csv("r.csv", 10000);
  auto cfg = write_config(
      "campaigns:\n  - { id: big, recipients: r.csv, from: ACME, text: \"Parcel {{name}} arrives today\" }\n",
      ", reconnect_initial: 100ms");
  auto [rc, out] = run_once(cfg, 120s);
  EXPECT_EQ(rc, 0) << out;
  auto report = run_ctl({"report", "--data-dir", (dir / "data").string(), "--json", "big"});
  ASSERT_EQ(report.first, 0) << report.second;
  auto j = json::parse(report.second);
  EXPECT_EQ(j["messages"], 10000);
  EXPECT_EQ(j["final"], 10000) << report.second;  // every recipient in one final state
  auto counts = sim_counts();
  std::size_t received = 0;
  for (auto& [to, n] : counts["destinations"].items()) {
    EXPECT_EQ(n, 1) << to;  // nobody twice
    ++received;
  }
  // Nobody lost: a message the SMSC never got is not reported delivered.
  const int delivered = j["by_state"].value("delivered", 0);
  EXPECT_LE(static_cast<std::size_t>(delivered), received);
  EXPECT_GE(delivered + j["by_state"].value("unknown", 0), 10000 - j["by_state"].value("failed", 0));
  EXPECT_GT(counts["submit_resps"].value("ESME_RTHROTTLED", 0), 0) << counts.dump();
  EXPECT_GT(counts["dropped_drop_every"].get<int>(), 0);
}

TEST_F(daemon_e2e, starts_with_one_smsc_down_and_sends_through_the_other) {
  start_sim({});
  write_csv("r.csv", 500);
  // smsc "down" points at a port nobody listens on (the simulator's port
  // plus one is free or refuses): its binds never come up.
  std::ofstream(dir / "smppd.yaml")
      << "node: { data_dir: data, sync: every_10ms }\n"
      << "api: { listen: \"127.0.0.1:0\" }\n"
      << "metrics: { listen: \"127.0.0.1:0\" }\n"
      << "smscs:\n"
      << "  - { name: down, host: 127.0.0.1, port: 1, system_id: a, password: pw, reconnect_initial: 100ms }\n"
      << "  - { name: up, host: 127.0.0.1, port: " << sim_port << ", system_id: b, password: pw }\n"
      << "operators:\n  - { name: lt, prefixes: [\"+370\"], smscs: [{ name: down, weight: 5 }, up] }\n"
      << "campaigns:\n  - { id: fo, recipients: r.csv, from: ACME, text: \"Hello {{name}}\" }\n";
  auto [rc, out] = run_once(dir / "smppd.yaml");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("delivered      500"), std::string::npos) << out;
  EXPECT_NE(out.find("SMSC up: 500 parts"), std::string::npos) << out;
  EXPECT_EQ(out.find("SMSC down:"), std::string::npos) << out;
  EXPECT_EQ(sim_counts()["submit_sm"], 500);
}

TEST_F(daemon_e2e, a_campaign_that_cannot_run_is_named_and_once_does_not_wait_for_it) {
  start_sim({});
  std::ofstream(dir / "r.csv") << "phone,name\n+37061000000,A\n";
  auto cfg = write_config("campaigns:\n  - { id: nohead, recipients: r.csv, from: ACME, text: \"x\" }\n");
  auto [rc, out] = run_once(cfg, 30s);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("campaign nohead: " + (dir / "r.csv").string() + ": row 1: no \"msisdn\" column"),
            std::string::npos)
      << out;
}

TEST_F(daemon_e2e, a_notification_overtakes_a_running_campaign) {
  start_sim({});
  write_csv("big.csv", 3000);
  // 3,000 messages at 300 per second: ten seconds of campaign.
  auto cfg = write_config(
      "campaigns:\n  - { id: big, recipients: big.csv, from: ACME, text: \"Sale {{name}}\" }\n", ", tps: 300");
  child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
  std::string seen;
  const auto port = api_port(smppd, seen);
  ASSERT_NE(port, 0) << seen;
  std::this_thread::sleep_for(1s);  // the campaign is under way
  auto [status, body] = post(port, "/v1/messages", R"({"to": "+37069999999", "text": "Your code is 4821", "from": "ACME"})");
  ASSERT_EQ(status, 202) << body;
  EXPECT_TRUE(json::parse(body).contains("id")) << body;
  std::this_thread::sleep_for(1s);
  auto counts = sim_counts();
  EXPECT_EQ(counts["destinations"]["37069999999"], 1) << counts.dump();
  EXPECT_LT(counts["submit_sm"].get<int>(), 2000) << "the campaign should still be running";
  // Bad requests get a JSON error with a stable code.
  auto [bad_status, bad_body] = post(port, "/v1/messages", R"({"to": "12", "text": "x", "from": "ACME"})");
  EXPECT_EQ(bad_status, 400);
  EXPECT_EQ(json::parse(bad_body)["error"]["code"], "invalid_number") << bad_body;
  auto [json_status, json_body] = post(port, "/v1/messages", "{not json");
  EXPECT_EQ(json_status, 400);
  EXPECT_EQ(json::parse(json_body)["error"]["code"], "invalid_json");
  auto st = smppd.stop(SIGTERM, 20s);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
}

TEST_F(daemon_e2e, continues_a_campaign_after_sigkill_without_sending_twice) {
  start_sim({});
  write_csv("r.csv", 2000);
  auto cfg = write_config(
      "campaigns:\n  - { id: c2, recipients: r.csv, from: ACME, text: \"Hello {{name}}\" }\n", ", tps: 800");
  {
    child_process first(bin_dir + "/smppd", {"--config", cfg.string()}, true);
    std::string seen;
    ASSERT_NE(api_port(first, seen), 0) << seen;
    std::this_thread::sleep_for(1200ms);  // part of the campaign is out
    first.stop(SIGKILL);
  }
  auto before = sim_counts()["submit_sm"].get<int>();
  EXPECT_GT(before, 0);
  EXPECT_LT(before, 2000);
  auto [rc, out] = run_once(cfg, 90s);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("rows             2000 "), std::string::npos) << out;
  auto counts = sim_counts();
  // Nobody got the message twice. Parts written just before the kill
  // whose resp never came are in doubt and not resent (mark_unknown).
  int received = 0;
  for (auto& [to, n] : counts["destinations"].items()) {
    EXPECT_EQ(n, 1) << to;
    ++received;
  }
  EXPECT_GE(received, 2000 - 200) << out;
}

}  // namespace
