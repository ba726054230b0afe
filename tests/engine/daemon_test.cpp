// The daemon end to end: real smppd and smsc-sim processes on 127.0.0.1,
// a real message log in a temporary directory. Campaigns are sent and
// reported, notifications enter through the HTTP API and overtake a
// campaign, and a 10,000-recipient campaign killed with SIGKILL continues
// after a restart with every recipient in one final state, nobody lost and
// nobody sent a message twice (with `in_doubt: resend`, only those whose
// part was in doubt, sent again). Send windows in each
// recipient's zone send one zone and hold or suppress another; an SMSC
// killed mid-campaign leaves its operator's other SMSC to finish; the
// SMSC's, the operator's and the campaign's tps each hold within 2% over
// 10 s.
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
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "engine/time_zone.hpp"
#include "storage/log_reader.hpp"
#include "storage/message_log.hpp"
#include "storage/state.hpp"
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

// Whether this build runs under AddressSanitizer (a few times slower).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

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

  // Submits smsc-sim accepted to destinations starting with `prefix`.
  int sent_to(const std::string& prefix) {
    int n = 0;
    const json counts = sim_counts();
    for (auto& [to, count] : counts["destinations"].items())
      if (to.starts_with(prefix)) n += count.get<int>();
    return n;
  }

  void write_csv(const std::string& name, int rows, const std::string& extra = "") {
    std::ofstream out(dir / name);
    out << "msisdn,name\n";
    for (int i = 0; i < rows; ++i) out << "+3706" << (1000000 + i) << ",N" << i << "\n";
    out << extra;
  }

  fs::path write_config(const std::string& campaigns, const std::string& smsc_extra = "",
                        const std::string& node_extra = "") {
    std::ofstream out(dir / "smppd.yaml");
    out << "node: { data_dir: data, sync: every_10ms" << node_extra << " }\n"
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

  // Runs smppctl; its exit status and everything it printed. One that is
  // still running after `limit` is killed (status -1).
  std::pair<int, std::string> run_ctl(const std::vector<std::string>& args,
                                      std::chrono::milliseconds limit = 60s) {
    child_process p(bin_dir + "/smppctl", args, true);
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline)
      if (auto line = p.read_line(200ms)) out += *line + "\n";
      else if (auto st = p.wait_exit(0ms)) {
        while (auto rest = p.read_line(0ms)) out += *rest + "\n";
        return {WIFEXITED(*st) ? WEXITSTATUS(*st) : -1, out};
      }
    p.stop(SIGKILL);
    ADD_FAILURE() << "smppctl still running after " << limit.count() << " ms:\n" << out;
    return {-1, out};
  }

  static std::uint16_t api_port(child_process& p, std::string& seen) {
    return smppd::test::wait_listening_port(p, "API", seen);
  }

  static std::pair<int, std::string> post(std::uint16_t port, const std::string& target, const std::string& body) {
    return call(boost::beast::http::verb::post, port, target, body);
  }
  static json get(std::uint16_t port, const std::string& target) {
    auto [status, body] = call(boost::beast::http::verb::get, port, target, "");
    EXPECT_EQ(status, 200) << target << ": " << body;
    return json::parse(body, nullptr, false);
  }

  // Reads smppd's output until a line contains `what` (true) or `limit` passes.
  static bool read_until(child_process& p, const std::string& what, std::string& seen,
                         std::chrono::milliseconds limit = 10s) {
    return p.read_until(what, seen, limit);
  }

  std::pair<json, std::string> status_once_throttled(const std::string& smsc_extra);

  // Polls smsc-sim until it saw at least `n` submit_sm (or 20 s passed).
  int wait_for_submits(int n) {
    int seen = 0;
    for (int i = 0; i < 100 && seen < n; ++i) {
      seen = sim_counts()["submit_sm"].get<int>();
      if (seen < n) std::this_thread::sleep_for(200ms);
    }
    return seen;
  }

  static std::pair<int, std::string> call(boost::beast::http::verb verb, std::uint16_t port,
                                          const std::string& target, const std::string& body,
                                          const std::vector<std::pair<std::string, std::string>>& headers = {},
                                          std::string* replayed = nullptr) {
    return smppd::test::http_call(verb, port, target, body, headers, "Idempotent-Replayed", replayed);
  }
};

TEST_F(daemon_e2e, sends_a_campaign_once_and_prints_its_delivery_report) {
  start_sim({"--receipt-mix", "DELIVRD=80,UNDELIV=20", "--seed", "3"});
  write_csv("r.csv", 300, "+3706000x001,Bad\n+37061000005,Again\n+37061000299\n+37061000400,\n");
  auto cfg = write_config(
      "campaigns:\n  - { id: c1, recipients: r.csv, from: ACME, text: \"Hi {{name}}, sale today\" }\n");
  auto [rc, out] = run_once(cfg);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("Campaign c1"), std::string::npos) << out;
  EXPECT_NE(out.find("rows             304 (one message each in the log)"), std::string::npos) << out;
  EXPECT_NE(out.find("rejected rows    4 (never sent"), std::string::npos) << out;
  EXPECT_NE(out.find("suppressed     1"), std::string::npos) << out;  // the repeated recipient
  EXPECT_NE(out.find("row 302: bad number"), std::string::npos) << out;
  EXPECT_NE(out.find("row 303: duplicate recipient +37061000005"), std::string::npos) << out;
  EXPECT_NE(out.find("row 304: expected 2 columns, found 1"), std::string::npos) << out;
  EXPECT_NE(out.find("row 305: no value for template field \"name\""), std::string::npos) << out;
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
  EXPECT_NE(report.second.find("rows             304"), std::string::npos) << report.second;
  auto as_json = run_ctl({"report", "--data-dir", data, "--json", "c1"});
  ASSERT_EQ(as_json.first, 0) << as_json.second;
  auto j = json::parse(as_json.second);
  EXPECT_EQ(j["messages"], 304);
  EXPECT_EQ(j["rejected_rows"], 4);
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
  // Several at once: a JSON array in the order given; one missing is named
  // and makes the status 1, the others are still printed.
  auto several = run_ctl({"message", "--data-dir", data, "--json", "2", "1"});
  ASSERT_EQ(several.first, 0) << several.second;
  auto both = json::parse(several.second);
  ASSERT_TRUE(both.is_array());
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0]["id"], "2");
  EXPECT_EQ(both[1]["id"], "1");
  EXPECT_EQ(both[1]["recipient"], "+37061000000");
  auto partly = run_ctl({"message", "--data-dir", data, "1", "999999"});
  EXPECT_EQ(partly.first, 1);
  EXPECT_NE(partly.second.find("Message 1:"), std::string::npos) << partly.second;
  EXPECT_NE(partly.second.find("no message 999999"), std::string::npos) << partly.second;
  auto not_an_id = run_ctl({"message", "--data-dir", data, "1", "x7"});
  EXPECT_EQ(not_an_id.first, 2);
  EXPECT_NE(not_an_id.second.find("'x7' is not a message id"), std::string::npos) << not_an_id.second;
  auto no_log = run_ctl({"report", "--data-dir", (dir / "nothing").string(), "c1"});
  EXPECT_EQ(no_log.first, 1);
  EXPECT_NE(no_log.second.find("no message log in"), std::string::npos) << no_log.second;
}

TEST_F(daemon_e2e, a_10000_recipient_campaign_settles_everyone_once_through_drops_and_throttling) {
  // The SMSC drops every connection after 1.5 s and throttles above a cap
  // smppd exceeds: binds reconnect, throttled parts are retried and the
  // rate lowered, parts in doubt become unknown (mark_unknown) and are
  // never resent. Under the sanitizers smppd sent about 1,300 a second on
  // a slow 2-core machine, and a cap of 3,000 never throttled it.
  start_sim({"--drop-every", "1.5", "--tps-cap", sanitized ? "800" : "3000"});
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
  // The SMSC has no configured rate: its throttling lowered the rate it is
  // sent at, from what it was sent at.
  bool lowered = false;
  for (std::size_t at = 0, nl; (nl = out.find('\n', at)) != std::string::npos; at = nl + 1)
    if (auto f = smppd::test::parse_logfmt(std::string_view(out).substr(at, nl - at));
        f && (*f)["msg"] == "rate lowered: the SMSC throttles" && (*f)["configured"] == "0")
      lowered = std::stod((*f)["rate"]) > 0;
  EXPECT_TRUE(lowered) << out;
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
  // Named in the log: the campaign and why.
  bool named = false;
  for (std::size_t at = 0, nl; (nl = out.find('\n', at)) != std::string::npos; at = nl + 1) {
    auto f = smppd::test::parse_logfmt(std::string_view(out).substr(at, nl - at));
    named |= f && (*f)["level"] == "error" && (*f)["campaign"] == "nohead" &&
             (*f)["error"].starts_with((dir / "r.csv").string() + ": row 1: no \"msisdn\" column");
  }
  EXPECT_TRUE(named) << out;
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

// What became of each recipient of write_csv's numbers, read from the log
// once smppd has exited, and how many submits to it smsc-sim accepted.
struct outcome {
  int messages = 0;                          // in the log
  storage::state st = storage::state::queued;  // the message's
  int attempts = 0;                          // its part's submits
  int received = 0;                          // by smsc-sim
};

class daemon_killed : public daemon_e2e {
 protected:
  static constexpr int rows = 10000;
  std::vector<outcome> outcomes;
  smppd::test::logfmt_line recovered;  // the restart's "recovered open messages" line

  // A 10,000-recipient campaign at 1,500 parts a second; smsc-sim answers
  // each submit 50 ms late, so that parts are in flight (in doubt) when
  // smppd is killed with SIGKILL, about 2,000 submits in. Then smppd
  // --once with the same configuration finishes the campaign.
  void kill_and_restart(const std::string& in_doubt) {
    start_sim({"--resp-delay", "50"});
    write_csv("r.csv", rows);
    auto cfg = write_config(
        "campaigns:\n  - { id: k, recipients: r.csv, from: ACME, text: \"Hello {{name}}\" }\n", ", tps: 1500",
        ", in_doubt: " + in_doubt);
    {
      child_process first(bin_dir + "/smppd", {"--config", cfg.string()}, true);
      std::string seen;
      ASSERT_NE(api_port(first, seen), 0) << seen;
      for (int i = 0; i < 300 && sim_counts().value("submit_sm", 0) < 2000; ++i) std::this_thread::sleep_for(50ms);
      first.stop(SIGKILL);
    }
    const int before = sim_counts().value("submit_sm", 0);
    EXPECT_GE(before, 2000);
    EXPECT_LT(before, rows);
    auto [rc, out] = run_once(cfg, 120s);
    ASSERT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("rows             10000 "), std::string::npos) << out;
    for (std::size_t at = 0, nl; (nl = out.find('\n', at)) != std::string::npos; at = nl + 1)
      if (auto f = smppd::test::parse_logfmt(std::string_view(out).substr(at, nl - at));
          f && (*f)["msg"] == "recovered open messages")
        recovered = *f;
    ASSERT_FALSE(recovered.empty()) << out;
    EXPECT_GT(std::stoi(recovered["in_doubt"]), 0) << "no part was in flight at the kill";

    const json counts = sim_counts();
    storage::log_options lo;
    lo.dir = dir / "data" / "log";
    storage::message_log log(lo);
    outcomes.resize(rows);
    for (int i = 0; i < rows; ++i) {
      const std::string to = "+3706" + std::to_string(1000000 + i);
      auto& o = outcomes[static_cast<std::size_t>(i)];
      std::error_code ec;
      for (std::uint64_t id : log.messages_to(to, 0, INT64_MAX, 10, ec)) {
        const auto r = log.get(id, ec);
        ASSERT_TRUE(r) << to << ": " << ec.message();
        ++o.messages;
        o.st = r->st;
        o.attempts = r->parts.empty() ? 0 : static_cast<int>(r->parts[0].attempts);
      }
      ASSERT_FALSE(ec) << ec.message();
      o.received = counts["destinations"].value(to.substr(1), 0);
      // Every recipient: one message, in a final state.
      ASSERT_EQ(o.messages, 1) << to;
      ASSERT_TRUE(storage::is_terminal(o.st)) << to << ": " << storage::name(o.st);
    }
  }
};

// mark_unknown (the default): nobody gets the message twice, and nobody is
// lost: a recipient smsc-sim never got is `unknown` (the part was in doubt
// and is not resent), never `delivered`.
TEST_F(daemon_killed, continues_a_campaign_after_sigkill_without_sending_twice_or_losing_anyone) {
  ASSERT_NO_FATAL_FAILURE(kill_and_restart("mark_unknown"));
  EXPECT_EQ(std::stoi(recovered["resent"]), 0);
  int not_received = 0;
  for (int i = 0; i < rows; ++i) {
    const auto& o = outcomes[static_cast<std::size_t>(i)];
    SCOPED_TRACE("row " + std::to_string(i + 1));
    ASSERT_LE(o.received, 1);
    if (o.received == 0) {
      ++not_received;
      ASSERT_EQ(o.st, storage::state::unknown);
    }
  }
  EXPECT_LE(not_received, std::stoi(recovered["in_doubt"]));
}

// resend: everyone gets the message; a recipient gets it twice only when
// its part was in doubt and sent again.
TEST_F(daemon_killed, resends_the_parts_in_doubt_after_sigkill_when_asked_to) {
  ASSERT_NO_FATAL_FAILURE(kill_and_restart("resend"));
  const int resent = std::stoi(recovered["resent"]);
  EXPECT_GT(resent, 0);
  int twice = 0;
  for (int i = 0; i < rows; ++i) {
    const auto& o = outcomes[static_cast<std::size_t>(i)];
    SCOPED_TRACE("row " + std::to_string(i + 1));
    ASSERT_GE(o.received, 1);
    ASSERT_LE(o.received, 2);
    if (o.received == 2) {
      ++twice;
      ASSERT_GE(o.attempts, 2) << "sent twice but never resent";
    }
  }
  EXPECT_LE(twice, resent);
}

}  // namespace

TEST_F(daemon_e2e, campaigns_wait_for_start_pause_resume_across_a_restart_and_cancel) {
  start_sim({});
  write_csv("a.csv", 400);
  {
    std::ofstream out(dir / "b.csv");
    out << "msisdn,name\n";
    for (int i = 0; i < 2000; ++i) out << "+3706" << (2000000 + i) << ",M" << i << "\n";
  }
  // a: manual start, 100 per second. b: runs at once, 100 per second.
  auto cfg = write_config(
      "campaigns:\n"
      "  - { id: a, start: manual, tps: 100, recipients: a.csv, from: ACME, text: \"Hi {{name}}\" }\n"
      "  - { id: b, tps: 100, recipients: b.csv, from: ACME, text: \"Sale {{name}}\" }\n");
  std::optional<child_process> smppd;
  std::uint16_t port = 0;
  std::string seen;
  auto start_smppd = [&] {
    smppd.emplace(bin_dir + "/smppd", std::vector<std::string>{"--config", cfg.string()}, true);
    port = api_port(*smppd, seen);
    ASSERT_NE(port, 0) << seen;
  };
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--api", "127.0.0.1:" + std::to_string(port)});
    return run_ctl(args);
  };
  auto state_of = [&](const std::string& id) { return get(port, "/v1/campaigns/" + id)["state"].get<std::string>(); };
  start_smppd();

  // Parts already written when a campaign stops still get their resps: the
  // count settles (two equal readings 400 ms apart, however loaded the host).
  auto settled = [&](const std::string& prefix) {
    int last = -1, now = sent_to(prefix);
    for (int i = 0; i < 50 && now != last; ++i) {
      std::this_thread::sleep_for(400ms);
      last = now;
      now = sent_to(prefix);
    }
    return now;
  };

  // b cancelled early: nothing more of it goes, and it stays cancelled.
  EXPECT_EQ(state_of("b"), "running") << get(port, "/v1/campaigns").dump();
  for (int i = 0; i < 100 && sent_to("3706200") < 20; ++i) std::this_thread::sleep_for(100ms);
  auto cancelled = ctl({"campaign", "cancel", "b"});
  ASSERT_EQ(cancelled.first, 0) << cancelled.second;
  EXPECT_NE(cancelled.second.find("cancelled"), std::string::npos) << cancelled.second;
  const int b_sent = settled("3706200");
  EXPECT_GT(b_sent, 0);
  EXPECT_LT(b_sent, 1500);
  auto again = ctl({"campaign", "resume", "b"});
  EXPECT_EQ(again.first, 1);
  EXPECT_NE(again.second.find("campaign b is cancelled; it cannot be resumed"), std::string::npos) << again.second;

  // a waits for its start.
  EXPECT_EQ(state_of("a"), "waiting");
  EXPECT_EQ(sent_to("3706100"), 0);
  auto started = ctl({"campaign", "start", "a"});
  ASSERT_EQ(started.first, 0) << started.second;
  for (int i = 0; i < 50 && sent_to("3706100") < 100; ++i) std::this_thread::sleep_for(100ms);
  auto paused = post(port, "/v1/campaigns/a/pause", "");
  ASSERT_EQ(paused.first, 200) << paused.second;
  EXPECT_EQ(json::parse(paused.second)["state"], "paused");
  const int a_paused = settled("3706100");
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(sent_to("3706100"), a_paused) << "a paused campaign sent more";
  EXPECT_LT(a_paused, 400);

  // A restart keeps both states.
  auto st = smppd->stop(SIGTERM, 20s);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  start_smppd();
  EXPECT_EQ(state_of("a"), "paused");
  EXPECT_EQ(state_of("b"), "cancelled");
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(sent_to("3706100"), a_paused);
  EXPECT_EQ(sent_to("3706200"), b_sent);

  auto unknown = post(port, "/v1/campaigns/nope/resume", "");
  EXPECT_EQ(unknown.first, 404) << unknown.second;
  auto resumed = ctl({"campaign", "resume", "a"});
  ASSERT_EQ(resumed.first, 0) << resumed.second;
  for (int i = 0; i < 150 && sent_to("3706100") < 400; ++i) std::this_thread::sleep_for(100ms);
  auto status = ctl({"status"});
  EXPECT_EQ(status.first, 0) << status.second;
  EXPECT_NE(status.second.find("sim"), std::string::npos) << status.second;
  st = smppd->stop(SIGTERM, 20s);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;

  // Everyone of a got one message; b's never-sent messages are cancelled.
  auto counts = sim_counts();
  for (auto& [to, n] : counts["destinations"].items()) EXPECT_EQ(n, 1) << to;
  EXPECT_EQ(sent_to("3706100"), 400);
  EXPECT_EQ(sent_to("3706200"), b_sent);
  auto report = run_ctl({"report", "--data-dir", (dir / "data").string(), "--json", "b"});
  ASSERT_EQ(report.first, 0) << report.second;
  auto j = json::parse(report.second);
  EXPECT_EQ(j["by_state"].value("cancelled", 0) + j["by_state"].value("delivered", 0), j["messages"].get<int>())
      << report.second;
}

TEST_F(daemon_e2e, sighup_reloads_rates_smscs_and_campaigns_and_keeps_unchanged_binds) {
  start_sim({});
  write_csv("a.csv", 3000);
  const std::string smsc = "  - { name: sim, host: 127.0.0.1, port: " + std::to_string(sim_port) +
                           ", system_id: smppd, password: pw, binds: 2, window: 64, tps: TPS }\n";
  auto write = [&](const std::string& tps, const std::string& more_smscs, const std::string& routes,
                   const std::string& campaigns, const std::string& node_extra = "") {
    std::string s = smsc;
    s.replace(s.find("TPS"), 3, tps);
    std::ofstream out(dir / "smppd.yaml");
    out << "node: { data_dir: data, sync: every_10ms" << node_extra << " }\napi: { listen: \"127.0.0.1:0\" }\n"
        << "metrics: { listen: \"127.0.0.1:0\" }\nsmscs:\n"
        << s << more_smscs << "operators:\n  - { name: lt, prefixes: [\"+370\"], smscs: [" << routes << "] }\n"
        << "numbering: { default_country_code: \"370\" }\ncampaigns:\n"
        << "  - { id: a, recipients: a.csv, from: ACME, text: \"Hi {{name}}\" }\n"
        << campaigns;
  };
  write("50", "", "sim", "");
  child_process smppd(bin_dir + "/smppd", {"--config", (dir / "smppd.yaml").string()}, true);
  std::string seen;
  const auto port = api_port(smppd, seen);
  ASSERT_NE(port, 0) << seen;
  read_until(smppd, "metrics listening", seen);
  const std::string seen_all = seen;
  std::this_thread::sleep_for(1s);
  auto status = get(port, "/v1/status");
  ASSERT_EQ(status["smscs"].size(), 1u) << status.dump();
  EXPECT_EQ(status["smscs"][0]["tps"], 50.0);
  EXPECT_EQ(status["smscs"][0]["bound"], 2);
  const int binds_before = sim_counts()["binds_transceiver"].get<int>();
  EXPECT_EQ(binds_before, 2);

  // A broken file changes nothing.
  {
    std::ofstream out(dir / "smppd.yaml");
    out << "smscs: [ { name: sim, port: 99999999 } ]\n";
  }
  smppd.signal(SIGHUP);
  ASSERT_TRUE(read_until(smppd, "reload refused", seen)) << seen;
  EXPECT_NE(seen.find("key=smscs[0].port"), std::string::npos) << seen;
  EXPECT_EQ(get(port, "/v1/status")["smscs"][0]["tps"], 50.0);

  // A faster rate for sim, a second account (sim2) for the operator and a
  // new campaign: sim's binds stay up, sim2 binds, b starts.
  write_csv("b.csv", 0);
  {
    std::ofstream out(dir / "b.csv");
    out << "msisdn,name\n";
    for (int i = 0; i < 200; ++i) out << "+3706" << (3000000 + i) << ",B" << i << "\n";
  }
  write("5000",
        "  - { name: sim2, host: 127.0.0.1, port: " + std::to_string(sim_port) +
            ", system_id: second, password: pw, binds: 1, window: 64 }\n",
        "sim, sim2", "  - { id: b, recipients: b.csv, from: ACME, text: \"Hello {{name}}\" }\n");
  seen.clear();
  smppd.signal(SIGHUP);
  ASSERT_TRUE(read_until(smppd, "reloaded", seen)) << seen;
  read_until(smppd, "campaign b: added", seen, 2s);
  EXPECT_NE(seen.find("smsc sim: tps now 5000"), std::string::npos) << seen;
  EXPECT_NE(seen.find("smsc sim2: added"), std::string::npos) << seen;
  EXPECT_NE(seen.find("campaign b: added"), std::string::npos) << seen;

  for (int i = 0; i < 150; ++i) {
    auto c = get(port, "/v1/campaigns");
    bool done = true;
    for (auto& x : c["campaigns"]) done &= x["reading_done"].get<bool>();
    if (done && get(port, "/v1/status")["open_messages"] == 0) break;
    std::this_thread::sleep_for(100ms);
  }
  status = get(port, "/v1/status");
  ASSERT_EQ(status["smscs"].size(), 2u) << status.dump();
  EXPECT_EQ(status["smscs"][0]["tps"], 5000.0);
  EXPECT_EQ(status["smscs"][1]["name"], "sim2");
  EXPECT_EQ(status["smscs"][1]["bound"], 1);
  EXPECT_EQ(status["open_messages"], 0) << status.dump();
  // The metrics follow the reload: the new rate and the new SMSC.
  std::uint16_t metrics_port = 0;
  for (std::size_t at = 0, nl; !metrics_port && (nl = seen_all.find('\n', at)) != std::string::npos; at = nl + 1)
    metrics_port = smppd::test::listening_port(std::string_view(seen_all).substr(at, nl - at), "metrics");
  ASSERT_NE(metrics_port, 0) << seen_all;
  const std::string metrics = call(boost::beast::http::verb::get, metrics_port, "/metrics", "").second;
  EXPECT_NE(metrics.find("smppd_smsc_tps_limit{smsc=\"sim\"} 5000"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("smppd_smsc_binds_bound{smsc=\"sim2\"} 1"), std::string::npos) << metrics;
  auto counts = sim_counts();
  EXPECT_EQ(counts["binds_transceiver"], binds_before + 1) << "sim's binds were not kept";
  EXPECT_EQ(counts["submit_sm"], 3200);
  for (auto& [to, n] : counts["destinations"].items()) EXPECT_EQ(n, 1) << to;

  // A node setting (read when the log opens) waits for the next start, and
  // the reload says so.
  write("5000",
        "  - { name: sim2, host: 127.0.0.1, port: " + std::to_string(sim_port) +
            ", system_id: second, password: pw, binds: 1, window: 64 }\n",
        "sim, sim2", "  - { id: b, recipients: b.csv, from: ACME, text: \"Hello {{name}}\" }\n",
        ", retention: 30d");
  seen.clear();
  smppd.signal(SIGHUP);
  ASSERT_TRUE(read_until(smppd, "reloaded", seen)) << seen;
  EXPECT_TRUE(read_until(smppd, "node, api and metrics settings take effect at the next start", seen, 2s)) << seen;

  auto st = smppd.stop(SIGTERM, 20s);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
}

// smsc-sim takes 200 submits a second and answers the rest with
// ESME_RTHROTTLED while smppd runs a 3,000-recipient campaign (its SMSC
// entry gets `smsc_extra`): the SMSC's entry in /v1/status once it shows
// the rate reduced (or after 5 s), and what smppctl status printed then.
std::pair<json, std::string> daemon_e2e::status_once_throttled(const std::string& smsc_extra) {
  start_sim({"--tps-cap", "200"});
  write_csv("r.csv", 3000);
  auto cfg = write_config("campaigns:\n  - { id: c, recipients: r.csv, from: ACME, text: \"Sale {{name}}\" }\n",
                          smsc_extra);
  child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
  std::string seen;
  const auto port = api_port(smppd, seen);
  EXPECT_NE(port, 0) << seen;
  if (port == 0) return {};
  json smsc;
  for (int i = 0; i < 50; ++i) {
    smsc = get(port, "/v1/status")["smscs"][0];
    if (smsc["rate_reduced"].get<bool>()) break;
    std::this_thread::sleep_for(100ms);
  }
  auto [rc, text] = run_ctl({"status", "--api", "127.0.0.1:" + std::to_string(port)});
  EXPECT_EQ(rc, 0) << text;
  EXPECT_EQ(smppd.stop(SIGTERM, 20s), 0);
  return {smsc, text};
}

TEST_F(daemon_e2e, status_shows_an_smsc_rate_lowered_by_throttling) {
  // We may send 2,000 per second: the rate drops and status shows it.
  const auto [smsc, text] = status_once_throttled(", tps: 2000");
  EXPECT_EQ(smsc["tps"], 2000.0) << smsc.dump();
  EXPECT_EQ(smsc["window"], smsc["binds"].get<int>() * 64) << smsc.dump();  // window: 64 a bind
  EXPECT_TRUE(smsc["rate_reduced"].get<bool>()) << smsc.dump();
  EXPECT_LT(smsc["rate"].get<double>(), 2000.0) << smsc.dump();
  EXPECT_NE(text.find("(lowered after throttling)"), std::string::npos) << text;
  EXPECT_NE(text.find("message log: "), std::string::npos) << text;
}

// An SMSC without a tps of ours that throttles gets a limit from the rate
// it was sent at; status shows that limit as a lowered rate.
TEST_F(daemon_e2e, status_shows_the_limit_throttling_set_on_an_smsc_without_a_tps) {
  const auto [smsc, text] = status_once_throttled("");
  EXPECT_TRUE(smsc["rate_reduced"].get<bool>()) << smsc.dump();
  EXPECT_EQ(smsc["tps"], 0.0) << smsc.dump();
  EXPECT_GT(smsc["rate"].get<double>(), 0.0) << smsc.dump();
  EXPECT_NE(text.find("(lowered after throttling)"), std::string::npos) << text;
}

TEST_F(daemon_e2e, api_tokens_batches_idempotency_templates_lookup_and_readiness) {
  start_sim({});
  // Two tokens made the way an operator makes them.
  auto make = [&](const std::string& name, const std::string& scopes) {
    child_process p(bin_dir + "/smppctl", {"token", name, scopes}, true);
    std::string token, line;
    if (auto l = p.read_line(10s)) token = *l;
    while (auto l = p.read_line(2s)) line = *l;
    p.wait_exit(5s);
    if (auto sep = token.find("smppctl:"); sep != std::string::npos) token.resize(sep);
    return std::pair{token, line};
  };
  auto [sender, sender_line] = make("billing", "send,read");
  auto [reader, reader_line] = make("dashboards", "read");
  ASSERT_TRUE(sender.starts_with("smppd_")) << sender;
  {
    std::ofstream out(dir / "tokens");
    out << "# name scopes hash\n" << sender_line << "\n" << reader_line << "\n";
    std::ofstream(dir / "token.txt") << sender << "\n";
  }
  auto cfg = write_config("");
  {
    std::ofstream out(cfg, std::ios::app);
    out << "\n";
  }
  std::string text;
  {
    std::ifstream in(cfg);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  text.replace(text.find("api: { listen: \"127.0.0.1:0\" }"), 30,
               "api: { listen: \"127.0.0.1:0\", tokens_file: tokens, max_batch: 3, max_body_bytes: 2048 }");
  std::ofstream(cfg) << text;

  child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
  std::string seen;
  const auto port = api_port(smppd, seen);
  ASSERT_NE(port, 0) << seen;
  namespace http = boost::beast::http;
  const auto as = [](const std::string& t) {
    return std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer " + t}};
  };
  const std::string one = R"({"to": "+37060000001", "from": "ACME", "template": "Code {{code}} for {{name|you}}", "fields": {"code": 4821}})";

  // Auth: none, unknown, and a token without the scope.
  auto [s401, b401] = call(http::verb::post, port, "/v1/messages", one);
  EXPECT_EQ(s401, 401);
  EXPECT_EQ(json::parse(b401)["error"]["code"], "unauthorized");
  EXPECT_EQ(call(http::verb::post, port, "/v1/messages", one, as("smppd_nope")).first, 401);
  auto [s403, b403] = call(http::verb::post, port, "/v1/messages", one, as(reader));
  EXPECT_EQ(s403, 403);
  EXPECT_EQ(json::parse(b403)["error"]["message"], "token dashboards lacks the \"send\" scope") << b403;
  EXPECT_EQ(call(http::verb::get, port, "/healthz", "").first, 200);  // no token needed

  // One message from a template.
  auto [s1, b1] = call(http::verb::post, port, "/v1/messages", one, as(sender));
  ASSERT_EQ(s1, 202) << b1;
  const std::string id = json::parse(b1)["id"];

  // A batch, and a batch with a bad message: nothing of it is accepted.
  auto [sb, bb] = call(http::verb::post, port, "/v1/messages",
                       R"({"messages": [{"to": "+37060000002", "from": "ACME", "text": "a"},
                                        {"to": "+37060000003", "from": "ACME", "text": "b", "priority": "bulk"},
                                        {"to": "+37060000004", "from": "ACME", "text": "c"}]})",
                       as(sender));
  ASSERT_EQ(sb, 202) << bb;
  EXPECT_EQ(json::parse(bb)["ids"].size(), 3u);
  auto [sbad, bbad] = call(http::verb::post, port, "/v1/messages",
                           R"({"messages": [{"to": "+37060000005", "from": "ACME", "text": "a"},
                                            {"to": "12", "from": "ACME", "text": "b"}]})",
                           as(sender));
  ASSERT_EQ(sbad, 400) << bbad;
  auto ebad = json::parse(bbad)["error"];
  EXPECT_EQ(ebad["code"], "invalid_batch");
  EXPECT_EQ(ebad["items"][0]["index"], 1);
  EXPECT_EQ(ebad["items"][0]["code"], "invalid_number");
  auto [sbig, bbig] = call(http::verb::post, port, "/v1/messages",
                           R"({"messages": [{"to":"+37060000006","from":"A","text":"a"},{"to":"+37060000006","from":"A","text":"a"},
                               {"to":"+37060000006","from":"A","text":"a"},{"to":"+37060000006","from":"A","text":"a"}]})",
                           as(sender));
  EXPECT_EQ(sbig, 400);
  EXPECT_EQ(json::parse(bbig)["error"]["code"], "batch_too_large") << bbig;
  EXPECT_EQ(call(http::verb::post, port, "/v1/messages", std::string(3000, ' '), as(sender)).first, 413);

  // The same Idempotency-Key again: the same id, nothing sent twice.
  auto key = as(sender);
  key.emplace_back("Idempotency-Key", "order-77-otp");
  const std::string otp = R"({"to": "+37060000007", "from": "ACME", "text": "Your code is 1234"})";
  auto [si1, bi1] = call(http::verb::post, port, "/v1/messages", otp, key);
  ASSERT_EQ(si1, 202) << bi1;
  std::string replayed;
  auto [si2, bi2] = call(http::verb::post, port, "/v1/messages", otp, key, &replayed);
  EXPECT_EQ(si2, 202) << bi2;
  EXPECT_EQ(json::parse(bi2)["id"], json::parse(bi1)["id"]);
  EXPECT_EQ(replayed, "true");

  // The message, with its text and timeline, for a reading token; smppctl too.
  std::this_thread::sleep_for(1s);
  auto [sm, bm] = call(http::verb::get, port, "/v1/messages/" + id, "", as(reader));
  ASSERT_EQ(sm, 200) << bm;
  auto m = json::parse(bm);
  EXPECT_EQ(m["text"], "Code 4821 for you");
  EXPECT_EQ(m["recipient"], "+37060000001");
  EXPECT_GE(m["timeline"].size(), 3u) << bm;
  EXPECT_EQ(call(http::verb::get, port, "/v1/messages/999999", "", as(reader)).first, 404);
  auto sent = run_ctl({"send", "--api", "127.0.0.1:" + std::to_string(port), "--token-file",
                       (dir / "token.txt").string(), "--to", "+37060000008", "--from", "ACME", "--text", "hello"});
  EXPECT_EQ(sent.first, 0) << sent.second;
  // smppctl returns once the message is durable; its submit follows.
  json counts;
  for (int i = 0; i < 50; ++i) {
    counts = sim_counts();
    if (counts["destinations"].contains("37060000008")) break;
    std::this_thread::sleep_for(100ms);
  }
  for (const char* to : {"37060000001", "37060000002", "37060000003", "37060000004", "37060000007", "37060000008"})
    EXPECT_EQ(counts["destinations"][to], 1) << to << " " << counts.dump();
  EXPECT_FALSE(counts["destinations"].contains("37060000005"));

  // Ready while binds are up; not ready once the SMSC is gone and messages wait.
  auto [sr, br] = call(http::verb::get, port, "/readyz", "");
  EXPECT_EQ(sr, 200) << br;
  sim->stop();
  sim.reset();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(call(http::verb::post, port, "/v1/messages", R"({"to": "+37060000009", "from": "ACME", "text": "x"})",
                 as(sender)).first, 202);
  int ready_status = 0;
  std::string ready_body;
  for (int i = 0; i < 30 && ready_status != 503; ++i) {
    std::tie(ready_status, ready_body) = call(http::verb::get, port, "/readyz", "");
    if (ready_status != 503) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(ready_status, 503) << ready_body;
  EXPECT_EQ(json::parse(ready_body)["operators_without_binds"][0], "lt") << ready_body;
  auto st = smppd.stop(SIGTERM, 20s);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
}

TEST_F(daemon_e2e, a_campaign_created_through_the_api_runs_shows_progress_and_survives_a_restart) {
  start_sim({});
  write_csv("api.csv", 1500);
  auto cfg = write_config("");
  std::optional<child_process> smppd;
  std::uint16_t port = 0;
  std::string seen;
  auto start_smppd = [&] {
    smppd.emplace(bin_dir + "/smppd", std::vector<std::string>{"--config", cfg.string()}, true);
    port = api_port(*smppd, seen);
    ASSERT_NE(port, 0) << seen;
  };
  start_smppd();
  const std::string def = R"({"id": "spring", "recipients": ")" + (dir / "api.csv").string() +
                          R"(", "from": "ACME", "text": "Hi {{name}}", "tps": 300})";
  auto [sc, bc] = post(port, "/v1/campaigns", def);
  ASSERT_EQ(sc, 201) << bc;
  EXPECT_EQ(json::parse(bc)["from_api"], true);
  auto [sdup, bdup] = post(port, "/v1/campaigns", def);
  EXPECT_EQ(sdup, 409) << bdup;
  auto [sbad, bbad] = post(port, "/v1/campaigns", R"({"id": "x", "recipients": "nothere.csv", "from": "ACME", "text": "t"})");
  EXPECT_EQ(sbad, 400) << bbad;
  EXPECT_NE(json::parse(bbad)["error"]["message"].get<std::string>().find("campaign.recipients: no such file"),
            std::string::npos) << bbad;
  // Under way: progress, a rate near its tps, an estimate of the time left.
  std::this_thread::sleep_for(2500ms);
  auto c = get(port, "/v1/campaigns/spring");
  EXPECT_GT(c["progress"].get<double>(), 0.0) << c.dump();
  EXPECT_GT(c["rate"].get<double>(), 100.0) << c.dump();
  EXPECT_TRUE(c["eta_s"].is_number()) << c.dump();

  // A restart runs it on from where it was.
  auto st = smppd->stop(SIGTERM, 20s);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  start_smppd();
  for (int i = 0; i < 150; ++i) {
    c = get(port, "/v1/campaigns/spring");
    if (c["reading_done"].get<bool>() && get(port, "/v1/status")["open_messages"] == 0) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(c["from_api"], true) << c.dump();
  EXPECT_EQ(c["progress"], 1.0) << c.dump();

  // smppctl campaign watch, not on a terminal: one plain line per interval
  // until every message is final (the receipts come in), then exit 0.
  auto [wrc, watched] = run_ctl({"campaign", "watch", "spring", "--interval", "0.2", "--api",
                                 "127.0.0.1:" + std::to_string(port)});
  EXPECT_EQ(wrc, 0) << watched;
  ASSERT_FALSE(watched.empty());
  EXPECT_EQ(watched.rfind("spring: ", 0), 0u) << watched;
  const std::string last = watched.substr(watched.rfind("spring: "));
  EXPECT_NE(last.find("100%"), std::string::npos) << last;
  EXPECT_EQ(watched.find('\r'), std::string::npos) << "no bar redrawing off a terminal";
  // The campaign's messages by state, as watch read them: all final. A
  // part the SIGTERM caught on the wire may be `unknown` (in doubt, the
  // default in_doubt: mark_unknown) until its receipt settles it.
  c = get(port, "/v1/campaigns/spring");
  EXPECT_EQ(c["messages"]["total"], 1500) << c.dump();
  EXPECT_EQ(c["messages"]["final"], 1500) << c.dump();
  const auto delivered = c["messages"].value("delivered", 0), unknown = c["messages"].value("unknown", 0);
  EXPECT_EQ(delivered + unknown, 1500) << c.dump();
  EXPECT_LE(unknown, 4) << c.dump();
  EXPECT_NE(last.find("delivered " + std::to_string(delivered)), std::string::npos) << last;
  auto status = get(port, "/v1/status");
  EXPECT_TRUE(status["storage"]["backlog"].is_number()) << status.dump();
  EXPECT_TRUE(status["storage"]["not_yet_durable"].is_number()) << status.dump();
  auto [brc, bad] = run_ctl({"campaign", "watch", "spring", "--interval", "0", "--api",
                             "127.0.0.1:" + std::to_string(port)});
  EXPECT_EQ(brc, 2) << bad;
  EXPECT_NE(bad.find("--interval"), std::string::npos) << bad;
  st = smppd->stop(SIGTERM, 20s);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  auto counts = sim_counts();
  EXPECT_EQ(counts["destinations"].size(), 1500u);
  for (auto& [to, n] : counts["destinations"].items()) EXPECT_EQ(n, 1) << to;
}

namespace {

// "HH:MM" of a minute of the day (any integer, taken modulo a day).
std::string clock_time(int minute) {
  minute = (minute % 1440 + 1440) % 1440;
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minute / 60, minute % 60);
  return buf;
}

// Every message in a stopped daemon's log, by id from 1 until one is missing.
std::vector<storage::message_record> all_messages(const fs::path& data_dir) {
  storage::reader_options ro;
  ro.dir = data_dir / "log";
  storage::log_reader reader(ro);
  std::vector<storage::message_record> out;
  for (std::uint64_t id = 1;; ++id) {
    std::error_code ec;
    auto m = reader.message(id, ec);
    if (!m) break;
    out.push_back(std::move(m->record));
  }
  return out;
}

}  // namespace

TEST_F(daemon_e2e, a_send_window_in_each_recipients_zone_sends_one_zone_and_holds_or_suppresses_the_other) {
  start_sim({});
  // A window from an hour before to an hour after Vilnius's local time
  // now. Tokyo's clock is 6 or 7 hours ahead: outside it, until the
  // window opens there in 16 or 17 hours.
  const int vilnius = engine::time_zone::load("Europe/Vilnius")->minute_of_day(std::chrono::system_clock::now());
  const std::string start = clock_time(vilnius - 60), end = clock_time(vilnius + 60);
  const std::string window = "send_window: { start: \"" + start + "\", end: \"" + end + "\" }";
  for (const char* name : {"hold.csv", "late.csv"}) {
    std::ofstream out(dir / name);
    out << "msisdn\n";
    const char* lt = name[0] == 'h' ? "+3706100" : "+3706200";
    const char* jp = name[0] == 'h' ? "+81901000" : "+81902000";
    for (int i = 0; i < 20; ++i) out << lt << (1000 + i) << "\n" << jp << (1000 + i) << "\n";
  }
  std::ofstream(dir / "smppd.yaml")
      << "node: { data_dir: data, sync: every_10ms }\n"
      << "api: { listen: \"127.0.0.1:0\" }\n"
      << "metrics: { listen: \"127.0.0.1:0\" }\n"
      << "smscs:\n  - { name: sim, host: 127.0.0.1, port: " << sim_port << ", system_id: smppd, password: pw }\n"
      << "operators:\n  - { name: lt, prefixes: [\"+370\"], smscs: [sim] }\n"
      << "  - { name: jp, prefixes: [\"+81\"], smscs: [sim] }\n"
      << "campaigns:\n"
      // No validity: Tokyo's messages wait for their window.
      << "  - { id: hold, recipients: hold.csv, from: ACME, text: \"Hello\", " << window << " }\n"
      // Valid for an hour: Tokyo's window opens too late for them.
      << "  - { id: late, recipients: late.csv, from: ACME, text: \"Hello\", validity: 1h, " << window << " }\n";

  std::optional<child_process> smppd;
  std::uint16_t port = 0;
  auto start_smppd = [&] {
    smppd.emplace(bin_dir + "/smppd", std::vector<std::string>{"--config", (dir / "smppd.yaml").string()}, true);
    std::string seen;
    port = api_port(*smppd, seen);
    ASSERT_NE(port, 0) << seen;
  };
  start_smppd();
  // Vilnius's 40 go out; Tokyo's 20 of `hold` are on hold.
  json status;
  for (int i = 0; i < 100; ++i) {
    status = get(port, "/v1/status");
    if (status["held_for_send_window"] == 20 && status["open_messages"] == 20) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(status["held_for_send_window"], 20) << status.dump();
  EXPECT_EQ(status["open_messages"], 20) << status.dump();  // only those on hold
  auto counts = sim_counts();
  EXPECT_EQ(counts["submit_sm"], 40) << counts.dump();
  for (auto& [to, n] : counts["destinations"].items()) {
    EXPECT_TRUE(to.starts_with("370")) << to << ": sent outside its window";
    EXPECT_EQ(n, 1) << to;
  }
  // Each message says what became of it.
  std::map<std::string, int> outcomes;  // "campaign zone state reason"
  for (int id = 1; id <= 80; ++id) {
    auto m = get(port, "/v1/messages/" + std::to_string(id));
    const std::string zone = m["recipient"].get<std::string>().starts_with("+81") ? "jp" : "lt";
    const std::string st = m["state"];
    ++outcomes[m["campaign"].get<std::string>() + " " + zone + " " +
               (st == "delivered" || st == "accepted" ? "sent" : st) + " " + m["reason"].get<std::string>()];
  }
  EXPECT_EQ(outcomes, (std::map<std::string, int>{{"hold jp queued ", 20},
                                                  {"hold lt sent ", 20},
                                                  {"late jp suppressed outside_send_window", 20},
                                                  {"late lt sent ", 20}}));
  // The campaign's report names the reason.
  auto report = run_ctl({"report", "--data-dir", (dir / "data").string(), "--json", "late"});
  ASSERT_EQ(report.first, 0) << report.second;
  auto j = json::parse(report.second);
  EXPECT_EQ(j["by_state"]["suppressed"], 20) << report.second;
  EXPECT_EQ(j["suppressed_by"]["outside_send_window"], 20) << report.second;

  // A notification has no window unless its request gives one.
  auto [s1, b1] = post(port, "/v1/messages", R"({"to": "+819030001000", "from": "ACME", "text": "Code 4821"})");
  ASSERT_EQ(s1, 202) << b1;
  auto [s2, b2] = post(port, "/v1/messages", R"({"to": "+819030002000", "from": "ACME", "text": "Sale", "send_window": {"start": ")" +
                                                 start + R"(", "end": ")" + end + R"("}})");
  ASSERT_EQ(s2, 202) << b2;
  const std::string held_id = json::parse(b2)["id"];
  auto [s3, b3] = post(port, "/v1/messages", R"({"to": "+819030003000", "from": "ACME", "text": "x", "send_window": {"start": "09:00", "end": "20:00", "timezone": "Mars/Olympus"}})");
  EXPECT_EQ(s3, 400) << b3;
  EXPECT_EQ(json::parse(b3)["error"]["code"], "invalid_field") << b3;
  for (int i = 0; i < 50; ++i) {
    counts = sim_counts();
    if (counts["submit_sm"] == 41) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(counts["destinations"]["819030001000"], 1) << counts.dump();
  EXPECT_FALSE(counts["destinations"].contains("819030002000")) << counts.dump();
  EXPECT_EQ(get(port, "/v1/status")["held_for_send_window"], 21);

  // A restart keeps them on hold (recovery gives them their window back).
  auto st = smppd->stop(SIGTERM, 20s);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  start_smppd();
  for (int i = 0; i < 50; ++i) {
    status = get(port, "/v1/status");
    if (status["held_for_send_window"] == 21) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(status["held_for_send_window"], 21) << status.dump();
  EXPECT_EQ(sim_counts()["submit_sm"], 41);
  // Cancelling the campaign cancels what it has on hold, at once.
  auto [sc, bc] = post(port, "/v1/campaigns/hold/cancel", "");
  EXPECT_EQ(sc, 200) << bc;
  for (int i = 0; i < 50; ++i) {
    status = get(port, "/v1/status");
    if (status["held_for_send_window"] == 1 && status["open_messages"] == 1) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(status["held_for_send_window"], 1) << status.dump();  // the notification's own window
  EXPECT_EQ(status["open_messages"], 1) << status.dump();
  EXPECT_EQ(get(port, "/v1/messages/" + held_id)["state"], "queued");
  st = smppd->stop(SIGTERM, 20s);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  int cancelled = 0;
  for (const auto& m : all_messages(dir / "data")) {
    if (m.st != storage::state::cancelled) continue;
    ++cancelled;
    EXPECT_EQ(m.campaign, "hold");
    EXPECT_TRUE(m.recipient.starts_with("+81")) << m.recipient;
  }
  EXPECT_EQ(cancelled, 20);
  EXPECT_EQ(sim_counts()["submit_sm"], 41);
}

TEST_F(daemon_e2e, an_smsc_killed_mid_campaign_leaves_the_other_to_finish_and_nobody_gets_two) {
  // Two SMSCs for one operator; the first is killed (SIGKILL) while the
  // campaign runs. Its parts in flight become unknown (mark_unknown) and
  // are not resent; everything after goes through the second.
  start_sim({});
  std::optional<child_process> other;
  const std::uint16_t other_port = smppd::test::start_smsc_sim(
      other, bin_dir + "/smsc-sim", {"--count-destinations", "--counts-file", (dir / "other.json").string()});
  ASSERT_NE(other_port, 0);
  write_csv("r.csv", 2000);
  std::ofstream(dir / "smppd.yaml")
      << "node: { data_dir: data, sync: every_10ms }\n"
      << "api: { listen: \"127.0.0.1:0\" }\n"
      << "metrics: { listen: \"127.0.0.1:0\" }\n"
      << "smscs:\n"
      << "  - { name: a, host: 127.0.0.1, port: " << sim_port
      << ", system_id: a, password: pw, reconnect_initial: 100ms, response_timeout: 2s }\n"
      << "  - { name: b, host: 127.0.0.1, port: " << other_port << ", system_id: b, password: pw }\n"
      << "operators:\n  - { name: lt, prefixes: [\"+370\"], smscs: [a, b], tps: 400 }\n"
      << "campaigns:\n  - { id: fo, recipients: r.csv, from: ACME, text: \"Hello {{name}}\" }\n";
  child_process smppd(bin_dir + "/smppd",
                      {"--config", (dir / "smppd.yaml").string(), "--once", "--receipt-wait", "3"}, true);
  std::string out;
  while (out.find("API listening") == std::string::npos)
    if (auto line = smppd.read_line(5s)) out += *line + "\n";
    else break;
  ASSERT_GE(wait_for_submits(300), 300) << out;
  sim->stop(SIGKILL);
  std::optional<int> status;
  for (int i = 0; i < 120 && !status; ++i) {
    while (auto line = smppd.read_line(100ms)) out += *line + "\n";
    status = smppd.wait_exit(500ms);
  }
  ASSERT_TRUE(status) << out;
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << out;

  // What the second SMSC received: nobody twice.
  other->signal(SIGUSR1);
  json at_b;
  for (int i = 0; i < 200 && at_b.is_null(); ++i) {
    std::this_thread::sleep_for(10ms);
    std::ifstream in(dir / "other.json");
    if (in) at_b = json::parse(in, nullptr, false);
    if (at_b.is_discarded()) at_b = json();
  }
  ASSERT_FALSE(at_b.is_null());
  for (auto& [to, n] : at_b["destinations"].items()) EXPECT_EQ(n, 1) << to;

  // Every recipient settled once: through a (before the kill, or in doubt
  // when it died) or through b, never both; none left unsent.
  const auto messages = all_messages(dir / "data");
  ASSERT_EQ(messages.size(), 2000u);
  int via_a = 0, via_b = 0, unknown = 0;
  for (const auto& m : messages) {
    ASSERT_EQ(m.parts.size(), 1u);
    const auto& p = m.parts[0];
    const std::string digits = m.recipient.substr(1);
    const bool at_b_too = at_b["destinations"].contains(digits);
    if (p.smsc == "b") {
      ++via_b;
      EXPECT_TRUE(at_b_too) << m.recipient;
      EXPECT_TRUE(p.st == storage::state::accepted || p.st == storage::state::delivered) << m.recipient;
    } else {
      ++via_a;
      EXPECT_EQ(p.smsc, "a") << m.recipient << " " << storage::name(p.st);
      EXPECT_FALSE(at_b_too) << m.recipient << " went through both";
      EXPECT_TRUE(p.st == storage::state::accepted || p.st == storage::state::delivered ||
                  p.st == storage::state::unknown)
          << m.recipient << " " << storage::name(p.st);
      unknown += p.st == storage::state::unknown;
    }
  }
  EXPECT_GE(via_a, 300);
  EXPECT_GT(via_b, 500);
  EXPECT_EQ(static_cast<std::size_t>(via_b), at_b["destinations"].size());
  EXPECT_LE(unknown, 200);  // at most the windows in flight when it died
  std::printf("  %d through a (%d of them unknown), %d through b\n", via_a, unknown, via_b);
  other->stop();
}

// Each rate limit holds the submits to its tps within 2% over 10 s: the
// SMSC's, the operator's and the campaign's bucket, each alone limiting
// one of three campaigns at 100 per second, side by side in one run (each
// campaign to its own operator, each operator through its own SMSC
// account). 1,100 messages each: from a campaign's 101st submit the log
// records (past the first second's burst) to its last, 1,000 submits take
// 10 s.
TEST_F(daemon_e2e, the_smsc_operator_and_campaign_tps_each_hold_within_2_percent_over_10_seconds) {
  start_sim({});
  const char* const what[] = {"smsc", "operator", "campaign"};
  std::ofstream cfg(dir / "smppd.yaml");
  cfg << "node: { data_dir: data, sync: every_10ms }\n"
      << "api: { listen: \"127.0.0.1:0\" }\n"
      << "metrics: { listen: \"127.0.0.1:0\" }\n"
      << "smscs:\n";
  for (int k = 0; k < 3; ++k)
    cfg << "  - { name: s" << k << ", host: 127.0.0.1, port: " << sim_port << ", system_id: s" << k
        << ", password: pw, binds: 2, window: 64" << (k == 0 ? ", tps: 100" : "") << " }\n";
  cfg << "operators:\n";
  for (int k = 0; k < 3; ++k)
    cfg << "  - { name: o" << k << ", prefixes: [\"+3706" << k << "\"], smscs: [s" << k << "]"
        << (k == 1 ? ", tps: 100" : "") << " }\n";
  cfg << "campaigns:\n";
  for (int k = 0; k < 3; ++k) {
    std::ofstream csv(dir / ("r" + std::to_string(k) + ".csv"));
    csv << "msisdn,name\n";
    for (int i = 0; i < 1100; ++i) csv << "+3706" << k << (100000 + i) << ",N" << i << "\n";
    cfg << "  - { id: c" << k << ", recipients: r" << k << ".csv, from: ACME, text: \"Hi {{name}}\""
        << (k == 2 ? ", tps: 100" : "") << " }\n";
  }
  cfg.close();
  auto [rc, out] = run_once(dir / "smppd.yaml", 60s);
  ASSERT_EQ(rc, 0) << out;
  std::map<std::string, std::vector<std::int64_t>> at;
  for (const auto& m : all_messages(dir / "data")) at[m.campaign].push_back(m.parts[0].submitted_us);
  for (int k = 0; k < 3; ++k) {
    auto& t = at["c" + std::to_string(k)];
    ASSERT_EQ(t.size(), 1100u) << what[k];
    std::sort(t.begin(), t.end());
    const double seconds = static_cast<double>(t.back() - t[100]) / 1e6;
    const double rate = 999.0 / seconds;
    EXPECT_NEAR(rate, 100.0, 2.0) << what[k] << ": 1000 submits in " << seconds << " s";
    std::printf("  %s: 1000 submits in %.3f s: %.2f per second\n", what[k], seconds, rate);
  }
}

// SIGTERM in the middle of a campaign, with smsc-sim answering each submit
// 300 ms late so that the windows are full of parts waiting for their
// resps: smppd stops taking rows, waits for those resps, writes the log and
// unbinds each bind before it exits 0. No part is left in doubt (every
// part written to the SMSC has its resp in the log), and a restart sends
// the rest, nobody twice.
TEST_F(daemon_e2e, stops_on_sigterm_after_draining_its_windows_and_unbinding) {
  start_sim({"--resp-delay", "300"});
  write_csv("r.csv", 3000);
  auto cfg = write_config("campaigns:\n  - { id: t, recipients: r.csv, from: ACME, text: \"Hi {{name}}\" }\n",
                          ", tps: 400");
  {
    child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
    std::string seen;
    ASSERT_NE(api_port(smppd, seen), 0) << seen;
    for (int i = 0; i < 200 && sim_counts().value("submit_sm", 0) < 500; ++i) std::this_thread::sleep_for(50ms);
    const auto asked = std::chrono::steady_clock::now();
    const int st = smppd.stop(SIGTERM, 20s);
    const auto took = std::chrono::steady_clock::now() - asked;
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
    EXPECT_LT(took, 10s);
  }
  const json counts = sim_counts();
  EXPECT_EQ(counts.value("unbinds", 0), 2) << counts.dump();
  const int written = counts.value("submit_sm", 0);
  EXPECT_GT(written, 0);
  EXPECT_LT(written, 3000);
  // Each part is queued (not tried), retrying (marked but not written when
  // the stop came: it goes next time), or answered by the SMSC (accepted,
  // or delivered once its receipt came): as many as smsc-sim received.
  int answered = 0;
  for (const auto& m : all_messages(dir / "data")) {
    for (const auto& p : m.parts) {
      EXPECT_NE(p.st, storage::state::submitting) << "message " << m.id << ": a part in doubt";
      EXPECT_NE(p.st, storage::state::unknown) << "message " << m.id;
      if (p.st == storage::state::accepted || p.st == storage::state::delivered) {
        ++answered;
        EXPECT_NE(p.resp_us, 0) << "message " << m.id;
      } else {
        EXPECT_TRUE(p.st == storage::state::queued || p.st == storage::state::retrying)
            << "message " << m.id << ": " << storage::name(p.st);
      }
    }
  }
  EXPECT_EQ(answered, written);

  auto [rc, out] = run_once(cfg, 60s);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("rows             3000 "), std::string::npos) << out;
  const json after = sim_counts();
  EXPECT_EQ(after["destinations"].size(), 3000u);
  for (auto& [to, n] : after["destinations"].items()) EXPECT_EQ(n, 1) << to;
}

// An operator whose only SMSC is down holds its messages without holding
// up another operator's: a campaign to both sends every message of the
// operator that has a bind, the other's wait queued (none failed, none
// lost) and go once it has one (here: after a restart with its SMSC up).
TEST_F(daemon_e2e, an_operator_without_a_bind_does_not_hold_up_another) {
  start_sim({});
  {
    std::ofstream out(dir / "r.csv");
    out << "msisdn,name\n";
    for (int i = 0; i < 200; ++i) out << "+3706" << (1000000 + i) << ",L" << i << "\n+3712" << (1000000 + i) << ",V" << i << "\n";
  }
  auto config = [&](std::uint16_t lt_port) {
    std::ofstream(dir / "smppd.yaml")
        << "node: { data_dir: data, sync: every_10ms }\n"
        << "api: { listen: \"127.0.0.1:0\" }\n"
        << "metrics: { listen: \"127.0.0.1:0\" }\n"
        << "smscs:\n"
        << "  - { name: lt-smsc, host: 127.0.0.1, port: " << lt_port << ", system_id: a, password: pw, reconnect_initial: 100ms }\n"
        << "  - { name: lv-smsc, host: 127.0.0.1, port: " << sim_port << ", system_id: b, password: pw }\n"
        << "operators:\n"
        << "  - { name: lt, prefixes: [\"+370\"], smscs: [lt-smsc] }\n"
        << "  - { name: lv, prefixes: [\"+371\"], smscs: [lv-smsc] }\n"
        << "campaigns:\n  - { id: both, recipients: r.csv, from: ACME, text: \"Hello {{name}}\" }\n";
    return dir / "smppd.yaml";
  };
  {
    // lt's SMSC on port 1: nobody listens, its binds never come up.
    child_process smppd(bin_dir + "/smppd", {"--config", config(1).string()}, true);
    std::string seen;
    const std::uint16_t port = api_port(smppd, seen);
    ASSERT_NE(port, 0) << seen;
    for (int i = 0; i < 100 && sent_to("3712") < 200; ++i) std::this_thread::sleep_for(100ms);
    EXPECT_EQ(sent_to("3712"), 200);
    EXPECT_EQ(sent_to("3706"), 0);
    const json status = get(port, "/v1/status");
    json lt;
    for (const auto& o : status["operators"])
      if (o["name"] == "lt") lt = o;
    EXPECT_EQ(lt["queued"]["campaign"], 200) << lt.dump();
    EXPECT_EQ(smppd.stop(SIGTERM, 20s), 0);
  }
  int queued = 0;
  for (const auto& m : all_messages(dir / "data"))
    if (m.recipient.starts_with("+3706")) {
      EXPECT_EQ(m.st, storage::state::queued) << m.id;
      ++queued;
    }
  EXPECT_EQ(queued, 200);
  auto [rc, out] = run_once(config(sim_port), 60s);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(sent_to("3706"), 200);
  EXPECT_EQ(sent_to("3712"), 200);
}

// POST /v1/messages answers only once the message is in the log (with
// `sync: every_10ms`, written: it survives a crash of smppd, as the README's
// durability table says): smppd killed (SIGKILL) the moment it has answered
// 200 notifications posted one after another leaves every one of them in
// the log, with its recipient and text.
TEST_F(daemon_e2e, a_notification_it_answered_is_in_the_log_though_it_dies_at_once) {
  start_sim({});
  auto cfg = write_config("");
  std::vector<std::pair<std::uint64_t, std::string>> answered;  // id, recipient
  {
    child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
    std::string seen;
    const std::uint16_t port = api_port(smppd, seen);
    ASSERT_NE(port, 0) << seen;
    for (int i = 0; i < 200; ++i) {
      const std::string to = "+3706" + std::to_string(3000000 + i);
      auto [status, body] =
          post(port, "/v1/messages", R"({"to": ")" + to + R"(", "text": "Your code is )" + std::to_string(i) + R"(", "from": "ACME"})");
      ASSERT_EQ(status, 202) << body;
      answered.emplace_back(std::stoull(json::parse(body)["id"].get<std::string>()), to);
    }
    smppd.stop(SIGKILL);
  }
  storage::reader_options ro;
  ro.dir = dir / "data" / "log";
  storage::log_reader reader(ro);
  for (std::size_t i = 0; i < answered.size(); ++i) {
    std::error_code ec;
    const auto m = reader.message(answered[i].first, ec);
    ASSERT_TRUE(m) << "message " << answered[i].first << ", answered, is not in the log: " << ec.message();
    EXPECT_EQ(m->record.recipient, answered[i].second);
    EXPECT_EQ(m->record.text, "Your code is " + std::to_string(i));
  }
}

// `retry` in the configuration sets how often a temporary failure is sent
// again, and SIGHUP changes it for the failures that follow: smsc-sim
// answers every submit with ESME_RSYSERR; ten notifications get 2 submits
// each, and after a reload to 4 attempts ten more get 4.
TEST_F(daemon_e2e, retries_temporary_failures_as_configured_and_a_reload_changes_that) {
  start_sim({"--reject", "1:ESME_RSYSERR"});
  auto configure = [&](int attempts) {
    return write_config("retry: { attempts: " + std::to_string(attempts) + ", first_delay: 100ms, max_delay: 200ms }\n");
  };
  child_process smppd(bin_dir + "/smppd", {"--config", configure(2).string()}, true);
  std::string seen;
  const std::uint16_t port = api_port(smppd, seen);
  ASSERT_NE(port, 0) << seen;
  std::vector<std::uint64_t> ids;
  auto send_ten = [&](int first) {
    for (int i = first; i < first + 10; ++i) {
      auto [status, body] = post(port, "/v1/messages",
                                 R"({"to": "+3706)" + std::to_string(4000000 + i) + R"(", "text": "Code )" +
                                     std::to_string(i) + R"(", "from": "ACME"})");
      ASSERT_EQ(status, 202) << body;
      ids.push_back(std::stoull(json::parse(body)["id"].get<std::string>()));
    }
  };
  auto settle = [&] {
    for (int i = 0; i < 100 && get(port, "/v1/status")["open_messages"] != 0; ++i) std::this_thread::sleep_for(100ms);
    return get(port, "/v1/status")["open_messages"].get<int>();
  };
  ASSERT_NO_FATAL_FAILURE(send_ten(0));
  EXPECT_EQ(settle(), 0);
  EXPECT_EQ(sim_counts()["submit_sm"], 20);

  configure(4);
  seen.clear();
  smppd.signal(SIGHUP);
  ASSERT_TRUE(read_until(smppd, "retry changed: attempts 4, first_delay 100 ms, max_delay 200 ms", seen)) << seen;
  ASSERT_NO_FATAL_FAILURE(send_ten(10));
  EXPECT_EQ(settle(), 0);
  EXPECT_EQ(sim_counts()["submit_sm"], 60);
  EXPECT_EQ(smppd.stop(SIGTERM, 20s), 0);

  std::map<std::uint64_t, storage::message_record> by_id;
  for (auto& m : all_messages(dir / "data")) by_id.emplace(m.id, std::move(m));
  ASSERT_EQ(by_id.size(), 20u);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto& m = by_id.at(ids[i]);
    EXPECT_EQ(m.st, storage::state::failed) << m.id;
    EXPECT_EQ(m.parts.at(0).attempts, i < 10 ? 2u : 4u) << m.id;
  }
}
