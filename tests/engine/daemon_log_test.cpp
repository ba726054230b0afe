// smppd's log end to end: real smppd and smsc-sim processes on 127.0.0.1.
// Every line smppd writes on stderr is logfmt with a time, a level and a
// component; binds coming up and being refused are logged with their SMSC
// and index; the bind passwords and API tokens never appear, whatever the
// level; the per-component levels of the configuration filter the lines
// and a reload changes them.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <fstream>
#include <optional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/logfmt.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using smppd::test::child_process;
using smppd::test::logfmt_line;
using smppd::test::parse_logfmt;

const std::string bin_dir = SMPPD_BIN_DIR;

// What the tests below put in the configuration and must never see again.
const std::string good_password = "K7pz9Qw#";  // smsc-sim takes at most 8 characters
const std::string bad_password = "Xq4mv2L!";

class daemon_log : public ::testing::Test {
 protected:
  smppd::test::temp_dir tmp{"smppd-log-test"};
  fs::path dir = tmp.path();
  std::optional<child_process> sim;
  std::uint16_t sim_port = 0;
  std::optional<child_process> smppd;
  std::vector<std::string> lines;  // everything smppd printed

  void SetUp() override {
    sim_port = smppd::test::start_smsc_sim(sim, bin_dir + "/smsc-sim", {"--password", good_password});
    ASSERT_NE(sim_port, 0);
  }
  void TearDown() override {
    if (smppd) smppd->stop();
    if (sim) sim->stop();
  }

  // Two accounts on the simulator: "good" binds, "bad" is refused (its
  // password from a file).
  fs::path write_config(const std::string& extra, const std::string& api = "api: { listen: \"127.0.0.1:0\" }\n") {
    std::ofstream(dir / "bad.pw") << bad_password << "\n";
    std::ofstream out(dir / "smppd.yaml");
    out << "node: { data_dir: data, sync: every_10ms }\n"
        << api << "metrics: { listen: \"127.0.0.1:0\" }\n"
        << "smscs:\n"
        << "  - { name: good, host: 127.0.0.1, port: " << sim_port << ", system_id: smppd, password: \""
        << good_password << "\", binds: 2, reconnect_initial: 100ms, reconnect_max: 200ms }\n"
        << "  - { name: bad, host: 127.0.0.1, port: " << sim_port
        << ", system_id: other, password_file: bad.pw, reconnect_initial: 100ms, reconnect_max: 200ms }\n"
        << "operators:\n  - { name: lt, prefixes: [\"+370\"], smscs: [good, bad] }\n"
        << extra;
    return dir / "smppd.yaml";
  }

  void start(const fs::path& config, std::vector<std::string> flags = {}) {
    flags.insert(flags.begin(), {"--config", config.string()});
    smppd.emplace(bin_dir + "/smppd", flags, true);
  }

  // Reads smppd's output until a line matches (true) or `limit` passes.
  bool read_until(const std::function<bool(const logfmt_line&)>& match, std::chrono::milliseconds limit = 15s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto line = smppd->read_line(100ms);
      if (!line) continue;
      lines.push_back(*line);
      if (auto f = parse_logfmt(*line); f && match(*f)) return true;
    }
    return false;
  }
  bool read_until_msg(const std::string& msg, std::chrono::milliseconds limit = 15s) {
    return read_until([&](const logfmt_line& f) { return f.at("msg") == msg; }, limit);
  }

  // Stops smppd with SIGTERM and reads what it printed to the end.
  void stop() {
    smppd->signal(SIGTERM);
    while (auto line = smppd->read_line(20s)) lines.push_back(*line);
    auto st = smppd->wait_exit(20s);
    ASSERT_TRUE(st);
    EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << *st;
  }

  std::string all() const {
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    return s;
  }

  // The parsed lines; fails the test on any line that is not logfmt with
  // a time, a known level and component, and a message.
  std::vector<logfmt_line> parsed() const {
    static const std::set<std::string> levels{"error", "warn", "info", "debug"};
    static const std::set<std::string> components{"main",     "config", "smsc",    "dispatch",
                                                  "campaign", "api",    "storage", "metrics"};
    std::vector<logfmt_line> out;
    for (const auto& l : lines) {
      auto f = parse_logfmt(l);
      if (!f) {
        ADD_FAILURE() << "not logfmt: " << l;
        continue;
      }
      EXPECT_EQ((*f)["ts"].size(), 24u) << l;  // 2026-12-07T01:02:03.456Z
      EXPECT_TRUE((*f)["ts"].ends_with("Z")) << l;
      EXPECT_TRUE(levels.count((*f)["level"])) << l;
      EXPECT_TRUE(components.count((*f)["component"])) << l;
      EXPECT_FALSE((*f)["msg"].empty()) << l;
      out.push_back(std::move(*f));
    }
    return out;
  }

  // A field's value; "" when the line has no such field.
  static std::string value(const logfmt_line& f, const std::string& key) {
    auto it = f.find(key);
    return it == f.end() ? std::string() : it->second;
  }

  static bool has(const std::vector<logfmt_line>& all, const logfmt_line& want) {
    for (const auto& f : all) {
      bool ok = true;
      for (const auto& [k, v] : want) ok &= f.count(k) && f.at(k) == v;
      if (ok) return true;
    }
    return false;
  }

  static int post(std::uint16_t port, const std::string& token) {
    namespace http = boost::beast::http;
    boost::asio::io_context io;
    boost::beast::tcp_stream s(io);
    s.expires_after(10s);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    http::request<http::string_body> req{http::verb::post, "/v1/messages", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::authorization, "Bearer " + token);
    req.body() = R"({"to": "+37060000001", "from": "ACME", "text": "Your code is 4821"})";
    req.prepare_payload();
    http::write(s, req);
    boost::beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    return res.result_int();
  }
};

TEST_F(daemon_log, every_line_is_logfmt_and_no_password_or_token_appears) {
  // A token made the way an operator makes one.
  child_process ctl(bin_dir + "/smppctl", {"token", "billing", "send"}, true);
  std::string token, tokens_line;
  if (auto l = ctl.read_line(10s)) token = *l;
  while (auto l = ctl.read_line(2s)) tokens_line = *l;
  ctl.wait_exit(5s);
  if (auto sep = token.find("smppctl:"); sep != std::string::npos) token.resize(sep);
  ASSERT_TRUE(token.starts_with("smppd_")) << token;
  std::ofstream(dir / "tokens") << tokens_line << "\n";
  const std::string wrong_token = "smppd_notavalidtokenatall0123456789";

  const auto config = write_config("", "api: { listen: \"127.0.0.1:0\", tokens_file: tokens }\n");
  start(config, {"--log-level", "debug"});  // as much as smppd can say
  ASSERT_TRUE(read_until_msg("API listening")) << all();
  const auto port = smppd::test::listening_port(lines.back(), "API");
  ASSERT_NE(port, 0) << all();
  // Both binds of good come up; bad is refused (and refused again at debug).
  int bound = 0;
  ASSERT_TRUE(read_until([&](const logfmt_line& f) {
    bound += f.at("msg") == "bound" && f.count("smsc") && f.at("smsc") == "good";
    return bound == 2;
  })) << all();
  ASSERT_TRUE(read_until([](const logfmt_line& f) {
    return f.count("failures") && f.at("msg") == "bind refused; retrying" && f.at("failures") == "2";
  })) << all();
  EXPECT_EQ(post(port, token), 202);
  EXPECT_EQ(post(port, wrong_token), 401);
  smppd->signal(SIGHUP);
  ASSERT_TRUE(read_until([](const logfmt_line& f) { return f.at("msg").starts_with("reloaded"); })) << all();
  stop();

  const auto log = parsed();
  EXPECT_TRUE(has(log, {{"level", "info"}, {"component", "smsc"}, {"smsc", "good"}, {"bind", "0"},
                        {"type", "transceiver"}, {"msg", "bound"}}))
      << all();
  EXPECT_TRUE(has(log, {{"level", "info"}, {"component", "smsc"}, {"smsc", "good"}, {"bind", "1"}, {"msg", "bound"}}))
      << all();
  // The first refusal is a warning, the ones after it (until it binds) debug.
  EXPECT_TRUE(has(log, {{"level", "warn"}, {"component", "smsc"}, {"smsc", "bad"}, {"bind", "0"},
                        {"command_status", "ESME_RINVPASWD"}, {"failures", "1"}, {"msg", "bind refused; retrying"}}))
      << all();
  EXPECT_TRUE(has(log, {{"level", "debug"}, {"smsc", "bad"}, {"failures", "2"}, {"msg", "bind refused; retrying"}}))
      << all();
  // Requests at debug, named by the token's name only.
  EXPECT_TRUE(has(log, {{"level", "debug"}, {"component", "api"}, {"method", "POST"}, {"path", "/v1/messages"},
                        {"status", "202"}, {"token", "billing"}, {"msg", "request"}}))
      << all();
  EXPECT_TRUE(has(log, {{"component", "api"}, {"status", "401"}, {"token", ""}, {"msg", "request"}})) << all();
  EXPECT_TRUE(has(log, {{"component", "main"}, {"msg", "started"}})) << all();
  EXPECT_TRUE(has(log, {{"component", "smsc"}, {"smsc", "good"}, {"msg", "unbound"}})) << all();
  EXPECT_TRUE(has(log, {{"component", "main"}, {"signal", "SIGTERM"}, {"msg", "stopping"}})) << all();
  EXPECT_TRUE(has(log, {{"component", "main"}, {"exit_code", "0"}, {"msg", "stopped"}})) << all();

  const std::string out = all();
  for (const std::string& secret : {good_password, bad_password, token, wrong_token})
    EXPECT_EQ(out.find(secret), std::string::npos) << secret << " appears in:\n" << out;
  // Nor a recognisable piece of the token (its random part).
  EXPECT_EQ(out.find(token.substr(6, 16)), std::string::npos) << out;
}

TEST_F(daemon_log, levels_per_component_filter_and_a_reload_changes_them) {
  // Everything at warn but the binds, at debug.
  auto config = write_config("logging: { level: warn, components: { smsc: debug } }\n");
  start(config);
  ASSERT_TRUE(read_until([](const logfmt_line& f) { return f.at("msg") == "bound"; })) << all();
  ASSERT_TRUE(read_until([](const logfmt_line& f) {
    return f.at("level") == "debug" && f.at("component") == "smsc";
  })) << all();
  for (const auto& f : parsed())
    EXPECT_TRUE(f.at("component") == "smsc" || f.at("level") == "warn" || f.at("level") == "error") << all();

  // Reloaded with config at info: the reload is told.
  config = write_config("logging: { level: warn, components: { smsc: warn, config: info } }\n");
  lines.clear();
  smppd->signal(SIGHUP);
  ASSERT_TRUE(read_until([](const logfmt_line& f) {
    return f.at("component") == "config" && f.at("msg") == "logging levels changed";
  })) << all();
  stop();
  // From the reload on (lines written before it may still have been in the pipe).
  bool reloaded = false;
  for (const auto& f : parsed()) {
    reloaded |= f.at("msg") == "reloaded";
    if (!reloaded || f.at("component") == "config") continue;
    EXPECT_TRUE(f.at("level") == "warn" || f.at("level") == "error") << all();
  }
  EXPECT_TRUE(reloaded) << all();
}

TEST_F(daemon_log, a_lost_bind_its_reconnects_and_its_return_are_logged) {
  start(write_config(""));
  int bound = 0;
  ASSERT_TRUE(read_until([&](const logfmt_line& f) {
    bound += value(f, "msg") == "bound" && value(f, "smsc") == "good";
    return bound == 2;
  })) << all();
  // The SMSC goes away, then comes back on the same port.
  sim->stop();
  ASSERT_TRUE(read_until([](const logfmt_line& f) {
    return value(f, "level") == "warn" && value(f, "smsc") == "good" &&
           value(f, "msg") == "bind lost; reconnecting";
  })) << all();
  std::string failed_bind;
  ASSERT_TRUE(read_until([&](const logfmt_line& f) {
    failed_bind = value(f, "bind");
    return value(f, "level") == "warn" && value(f, "smsc") == "good" && value(f, "failures") == "1" &&
           value(f, "msg") == "cannot connect; retrying" && !value(f, "error").empty();
  })) << all();
  sim.emplace(bin_dir + "/smsc-sim",
              std::vector<std::string>{"--listen", "127.0.0.1:" + std::to_string(sim_port), "--password", good_password});
  ASSERT_TRUE(sim->read_line(10s));
  // Both binds come back; the one whose attempt failed says so (the other
  // may not have tried before smsc-sim was back).
  std::map<std::string, std::string> failures_before;
  ASSERT_TRUE(read_until([&](const logfmt_line& f) {
    if (value(f, "level") == "info" && value(f, "msg") == "bound again" && value(f, "smsc") == "good")
      failures_before[value(f, "bind")] = value(f, "failures_before");
    return failures_before.size() == 2;
  })) << all();
  EXPECT_NE(failures_before[failed_bind], "0") << all();
  stop();
  // Info and above only: repeated connect failures stayed at debug.
  for (const auto& f : parsed()) EXPECT_NE(value(f, "level"), "debug") << all();
}

TEST_F(daemon_log, an_unknown_log_level_flag_is_a_usage_error) {
  start(write_config(""), {"--log-level", "loud"});
  std::string out;
  while (auto line = smppd->read_line(10s)) out += *line + "\n";
  auto st = smppd->wait_exit(10s);
  ASSERT_TRUE(st);
  EXPECT_EQ(WEXITSTATUS(*st), 2) << out;
  EXPECT_NE(out.find("smppd: --log-level: expected one of error, warn, info, debug, got \"loud\""), std::string::npos)
      << out;
}

}  // namespace
