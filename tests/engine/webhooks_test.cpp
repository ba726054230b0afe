// Webhooks end to end: real smppd and smsc-sim processes on 127.0.0.1,
// replies injected through smsc-sim's --mo-inject-dir, and an HTTP
// receiver in the test (Beast, 127.0.0.1 port 0) standing in for Slack,
// Teams and a signed-JSON consumer. Covers each format, the signature
// (checked with an HMAC computed here), retries after 500s, dead letters
// and their retry, a SIGKILL between storing a reply and forwarding it,
// and messages' outcomes (delivered, failed, undelivered_by_deadline) for
// the webhooks that list them, routed by campaign, across a SIGKILL.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "engine/webhooks.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/http_call.hpp"
#include "tests/support/logfmt.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using namespace std::chrono_literals;
using json = nlohmann::json;
using smppd::test::child_process;
using tcp = boost::asio::ip::tcp;

const std::string bin_dir = SMPPD_BIN_DIR;

struct received {
  std::string path;
  std::string body;
  std::map<std::string, std::string> headers;
};

// A webhook receiver: answers each request with the next status queued
// for its path (200 when none), one connection at a time, on its own
// thread; over TLS with `tls` (a server context).
class receiver {
 public:
  explicit receiver(std::uint16_t port = 0, boost::asio::ssl::context* tls = nullptr) : acceptor_(io_), tls_(tls) {
    const tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~receiver() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port()) + path; }

  void answer(const std::string& path, std::deque<int> statuses) {
    std::lock_guard lock(mutex_);
    statuses_[path] = std::move(statuses);
  }
  // Waits up to 20 s for at least n requests to `path`; returns them all.
  std::vector<received> wait_for(const std::string& path, std::size_t n) {
    for (int i = 0; i < 200; ++i) {
      auto got = on(path);
      if (got.size() >= n) return got;
      std::this_thread::sleep_for(100ms);
    }
    return on(path);
  }
  std::vector<received> on(const std::string& path) {
    std::lock_guard lock(mutex_);
    std::vector<received> out;
    for (const auto& r : requests_)
      if (r.path == path) out.push_back(r);
    return out;
  }

 private:
  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& e, tcp::socket s) {
      if (e) return;
      if (tls_) {
        boost::asio::ssl::stream<tcp::socket> ts(std::move(s), *tls_);
        boost::system::error_code he;
        ts.handshake(boost::asio::ssl::stream_base::server, he);
        if (!he) serve(ts);
      } else {
        serve(s);
      }
      accept();
    });
  }
  template <class Stream>
  void serve(Stream& s) {
    boost::beast::flat_buffer buf;
    http::request<http::string_body> req;
    boost::system::error_code e;
    http::read(s, buf, req, e);
    if (e) return;
    received r{std::string(req.target()), req.body(), {}};
    for (const auto& f : req) r.headers[std::string(f.name_string())] = std::string(f.value());
    int status = 200;
    {
      std::lock_guard lock(mutex_);
      auto& q = statuses_[r.path];
      if (!q.empty()) {
        status = q.front();
        q.pop_front();
      }
      requests_.push_back(std::move(r));
    }
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.body() = status == 200 ? "ok" : "no";
    res.prepare_payload();
    http::write(s, res, e);
  }

  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  boost::asio::ssl::context* tls_;
  std::thread thread_;
  std::mutex mutex_;
  std::map<std::string, std::deque<int>> statuses_;
  std::vector<received> requests_;
};

std::string hmac_hex(const std::string& key, const std::string& text) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(text.data()),
       text.size(), mac, &n);
  std::string out;
  char b[3];
  for (unsigned i = 0; i < n; ++i) {
    std::snprintf(b, sizeof b, "%02x", mac[i]);
    out += b;
  }
  return out;
}

class webhooks_e2e : public ::testing::Test {
 protected:
  smppd::test::temp_dir tmp{"smppd-webhooks-test"};
  fs::path dir = tmp.path();
  fs::path inject = dir / "inject";
  std::optional<child_process> sim;
  std::uint16_t sim_port = 0;
  int injected = 0;

  void SetUp() override {
    fs::create_directories(inject);
    sim_port = smppd::test::start_smsc_sim(sim, bin_dir + "/smsc-sim", {"--mo-inject-dir", inject.string()});
    ASSERT_NE(sim_port, 0);
  }
  void TearDown() override {
    if (sim) sim->stop();
  }

  fs::path write_config(const std::string& two_way) {
    std::ofstream out(dir / "smppd.yaml");
    out << "node: { data_dir: data, sync: every_10ms }\n"
        << "api: { listen: \"127.0.0.1:0\" }\n"
        << "metrics: { listen: \"127.0.0.1:0\" }\n"
        << "smscs:\n  - { name: sim, host: 127.0.0.1, port: " << sim_port
        << ", system_id: smppd, password: pw, binds: 1, window: 16, enquire_link_s: 5 }\n"
        << "operators:\n  - { name: lt, prefixes: [\"+370\"], smscs: [sim] }\n"
        << "numbering: { default_country_code: \"370\", trunk_prefix: \"8\" }\n"
        << "two_way:\n" << two_way;
    return dir / "smppd.yaml";
  }

  void inject_mo(const std::string& body) { smppd::test::inject_mo_file(inject, injected++, body); }

  static std::uint16_t api_port(child_process& p, std::string& seen) {
    return smppd::test::wait_listening_port(p, "API", seen);
  }

  static std::uint16_t metrics_port(child_process& p, std::string& seen) {
    return smppd::test::wait_listening_port(p, "metrics", seen);
  }

  // A counter's value in the exposition text (-1: not there).
  static double metric(const std::string& text, const std::string& name) {
    const auto at = text.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
  }

  static bool read_until(child_process& p, const std::string& what, std::string& seen,
                         std::chrono::milliseconds limit = 20s) {
    return p.read_until(what, seen, limit);
  }

  static std::pair<int, std::string> call(http::verb verb, std::uint16_t port, const std::string& target,
                                          const std::string& body = "") {
    return smppd::test::http_call(verb, port, target, body);
  }

  // Sends one API message; its id ("" when refused).
  static std::string send(std::uint16_t port, const std::string& to, const std::string& deliver_within = "") {
    json m{{"to", to}, {"from", "ACME"}, {"text", "Your parcel arrives today"}};
    if (!deliver_within.empty()) m["deliver_within"] = deliver_within;
    auto [status, body] = call(http::verb::post, port, "/v1/messages", m.dump());
    EXPECT_EQ(status, 202) << body;
    return status == 202 ? json::parse(body)["id"].get<std::string>() : std::string();
  }

  // The JSON bodies a receiver got on `path` with this event.
  static std::vector<json> events(receiver& hook, const std::string& path, const std::string& event) {
    std::vector<json> out;
    for (const auto& r : hook.on(path)) {
      json j = json::parse(r.body);
      if (j.value("event", "") == event) out.push_back(std::move(j));
    }
    return out;
  }
  // Waits up to 20 s for n of them.
  static std::vector<json> wait_events(receiver& hook, const std::string& path, const std::string& event,
                                       std::size_t n) {
    for (int i = 0; i < 200; ++i) {
      auto got = events(hook, path, event);
      if (got.size() >= n) return got;
      std::this_thread::sleep_for(100ms);
    }
    return events(hook, path, event);
  }
};

TEST_F(webhooks_e2e, a_reply_and_an_opt_out_reach_slack_teams_and_signed_json_with_conversation_and_campaign) {
  receiver hook;
  const std::string secret = "s3cret-for-the-test";
  const auto cfg = write_config(
      "  reply_numbers: [\"+37060000100\"]\n"
      "  webhooks:\n"
      "    - { name: team-slack, url: \"" + hook.url("/slack") + "\", format: slack, events: [reply] }\n"
      "    - { name: team-teams, url: \"" + hook.url("/teams") + "\", format: teams }\n"
      "    - { name: crm, url: \"" + hook.url("/json") + "\", format: json, secret: \"${WEBHOOK_TEST_SECRET}\","
      " campaigns: [api] }\n");
  child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true, {"WEBHOOK_TEST_SECRET=" + secret});
  std::string seen;
  const std::uint16_t port = api_port(smppd, seen);
  ASSERT_NE(port, 0) << seen;

  auto [status, body] = call(http::verb::post, port, "/v1/messages",
                             json{{"to", "+37060000041"}, {"from", "ACME"},
                                  {"text", "Your visit is on Friday. Still suits you? Reply YES or NO"},
                                  {"expects_reply", true}}
                                 .dump());
  ASSERT_EQ(status, 202) << body;
  const json opened = json::parse(body);
  inject_mo("from: 37060000041\nto: 37060000100\ntext: Yes\n");

  const auto slack = hook.wait_for("/slack", 1);
  const auto teams = hook.wait_for("/teams", 1);
  const auto crm = hook.wait_for("/json", 1);
  ASSERT_EQ(slack.size(), 1u);
  ASSERT_EQ(teams.size(), 1u);
  ASSERT_EQ(crm.size(), 1u);

  const json s = json::parse(slack[0].body);
  const std::string text = s["text"];
  EXPECT_NE(text.find("Reply from +37060000041"), std::string::npos) << text;
  EXPECT_NE(text.find(": \"Yes\""), std::string::npos) << text;
  EXPECT_NE(text.find("campaign api"), std::string::npos) << text;
  EXPECT_NE(text.find("answer: yes"), std::string::npos) << text;

  const json t = json::parse(teams[0].body);
  EXPECT_EQ(t["@type"], "MessageCard");
  EXPECT_EQ(t["title"], "Reply from +37060000041");
  EXPECT_NE(t["text"].get<std::string>().find("answer: yes"), std::string::npos) << teams[0].body;

  const json j = json::parse(crm[0].body);
  EXPECT_EQ(j["event"], "reply");
  EXPECT_EQ(j["customer"], "+37060000041");
  EXPECT_EQ(j["to"], "37060000100");
  EXPECT_EQ(j["text"], "Yes");
  EXPECT_EQ(j["conversation"].get<std::uint64_t>(), std::stoull(opened["conversation"]["id"].get<std::string>()));
  EXPECT_EQ(j["campaign"], "api");
  EXPECT_EQ(j["match"], "number");
  EXPECT_EQ(j["answer"], "yes");
  EXPECT_EQ(crm[0].headers.at("X-Smppd-Event-Id"), j["id"]);
  // The signature: HMAC-SHA256 over "timestamp.body", computed here.
  const std::string ts = crm[0].headers.at("X-Smppd-Timestamp");
  EXPECT_LE(std::abs(std::stoll(ts) - static_cast<long long>(std::time(nullptr))), 60);
  EXPECT_EQ(crm[0].headers.at("X-Smppd-Signature"), "sha256=" + hmac_hex(secret, ts + "." + crm[0].body));
  EXPECT_NE(crm[0].headers.at("X-Smppd-Signature"), "sha256=" + hmac_hex("other", ts + "." + crm[0].body));

  // STOP: an opt-out for Teams and the JSON consumer (its campaign filter
  // is for replies), not for Slack (events: [reply]).
  inject_mo("from: 37060000042\nto: 12345\ntext: STOP\n");
  const auto teams2 = hook.wait_for("/teams", 2);
  const auto crm2 = hook.wait_for("/json", 2);
  ASSERT_EQ(teams2.size(), 2u);
  ASSERT_EQ(crm2.size(), 2u);
  EXPECT_EQ(json::parse(teams2[1].body)["title"], "+37060000042 opted out");
  EXPECT_EQ(json::parse(crm2[1].body)["event"], "opt_out");
  // A reply not tied to an API conversation is filtered out for crm.
  inject_mo("from: 37060000043\nto: 12345\ntext: Who <is> this & why?\n");
  const auto teams3 = hook.wait_for("/teams", 3);
  const auto slack2 = hook.wait_for("/slack", 2);
  ASSERT_EQ(teams3.size(), 3u);
  ASSERT_EQ(slack2.size(), 2u);
  const std::string loose = json::parse(slack2[1].body)["text"];
  EXPECT_NE(loose.find("Who &lt;is&gt; this &amp; why?"), std::string::npos) << loose;  // Slack's escapes
  EXPECT_NE(loose.find("Not tied to a conversation"), std::string::npos) << loose;
  EXPECT_NE(json::parse(teams3[2].body)["text"].get<std::string>().find("Who <is> this & why?"), std::string::npos);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(hook.on("/json").size(), 2u);
  // No number or secret in the log lines.
  ASSERT_TRUE(read_until(smppd, "webhook delivered", seen)) << seen;
  smppd.stop(SIGTERM);
  while (auto line = smppd.read_line(100ms)) seen += *line + "\n";
  EXPECT_EQ(seen.find("37060000041"), std::string::npos) << seen;
  EXPECT_EQ(seen.find(secret), std::string::npos) << seen;
}

TEST_F(webhooks_e2e, failures_are_retried_with_backoff_then_dead_lettered_and_retried_on_request) {
  receiver hook;
  hook.answer("/flaky", {500, 500});
  hook.answer("/down", {500, 503, 500, 500});
  const auto cfg = write_config(
      "  webhook_retry_base: 200ms\n  webhook_retry_max: 1s\n  webhook_attempts: 3\n"
      "  webhooks:\n"
      "    - { name: flaky, url: \"" + hook.url("/flaky") + "\", format: json }\n"
      "    - { name: down, url: \"" + hook.url("/down") + "\", format: slack }\n");
  child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
  std::string seen;
  const std::uint16_t port = api_port(smppd, seen);
  ASSERT_NE(port, 0) << seen;
  const std::uint16_t mport = metrics_port(smppd, seen);
  ASSERT_NE(mport, 0) << seen;
  const auto started = std::chrono::steady_clock::now();
  inject_mo("from: 37060000051\nto: 12345\ntext: Call me please\n");

  const auto flaky = hook.wait_for("/flaky", 3);
  ASSERT_EQ(flaky.size(), 3u);  // 500, 500, then 200
  // Backoff: 200 ms then 400 ms before the third try.
  EXPECT_GE(std::chrono::steady_clock::now() - started, 600ms);
  EXPECT_EQ(flaky[0].body, flaky[2].body);
  EXPECT_EQ(flaky[0].headers.at("X-Smppd-Event-Id"), flaky[2].headers.at("X-Smppd-Event-Id"));

  // Three failures: a dead letter.
  ASSERT_TRUE(read_until(smppd, "kept as a dead letter", seen)) << seen;
  EXPECT_EQ(hook.on("/down").size(), 3u);
  auto [dstatus, dead] = call(http::verb::get, port, "/v1/webhooks/dead");
  ASSERT_EQ(dstatus, 200) << dead;
  const json letters = json::parse(dead)["dead_letters"];
  ASSERT_EQ(letters.size(), 1u) << dead;
  EXPECT_EQ(letters[0]["webhook"], "down");
  EXPECT_EQ(letters[0]["attempts"], 3);
  EXPECT_EQ(letters[0]["last_error"], "HTTP 500");

  // The same through smppctl, then retried: the receiver takes it now
  // (one 500 was left queued, so it fails once more first).
  const std::string api = "127.0.0.1:" + std::to_string(port);
  child_process ctl(bin_dir + "/smppctl", {"webhooks", "dead", "--api", api}, true);
  std::string shown;
  while (auto line = ctl.read_line(10s)) shown += *line + "\n";
  auto st = ctl.wait_exit(10s);
  ASSERT_TRUE(st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << shown;
  EXPECT_NE(shown.find("down"), std::string::npos) << shown;
  EXPECT_NE(shown.find("HTTP 500"), std::string::npos) << shown;

  auto [rstatus, retried] = call(http::verb::post, port, "/v1/webhooks/dead/retry");
  ASSERT_EQ(rstatus, 200) << retried;
  EXPECT_EQ(json::parse(retried)["retried"], 1);
  ASSERT_EQ(hook.wait_for("/down", 5).size(), 5u);
  for (int i = 0; i < 50; ++i) {
    if (json::parse(call(http::verb::get, port, "/v1/webhooks/dead").second)["dead_letters"].empty()) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(json::parse(call(http::verb::get, port, "/v1/webhooks/dead").second)["dead_letters"].empty());
  // flaky: 2 failures, 1 delivery; down: 3 failures, dead, then 1 failure and 1 delivery.
  const std::string scraped = call(http::verb::get, mport, "/metrics").second;
  EXPECT_EQ(metric(scraped, "smppd_webhook_deliveries_total"), 2) << scraped;
  EXPECT_EQ(metric(scraped, "smppd_webhook_failures_total"), 6) << scraped;
  EXPECT_EQ(metric(scraped, "smppd_webhook_dead_letters_total"), 1) << scraped;
  smppd.stop(SIGTERM);
}

TEST_F(webhooks_e2e, https_delivers_to_a_receiver_whose_certificate_is_trusted_and_only_to_it) {
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost"
                          " -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
                          (dir / "key.pem").string() + " -out " + (dir / "cert.pem").string() + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make a certificate";
  boost::asio::ssl::context server(boost::asio::ssl::context::tls_server);
  server.use_certificate_chain_file((dir / "cert.pem").string());
  server.use_private_key_file((dir / "key.pem").string(), boost::asio::ssl::context::pem);
  receiver hook(0, &server);
  const std::string base = "https://127.0.0.1:" + std::to_string(hook.port());
  const auto cfg = write_config("  webhook_attempts: 1\n  webhooks:\n"
                                "    - { name: trusted, url: \"" + base + "/trusted\", ca_file: \"" +
                                (dir / "cert.pem").string() + "\" }\n"
                                "    - { name: untrusted, url: \"https://localhost:" + std::to_string(hook.port()) +
                                "/untrusted\" }\n");
  child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
  std::string seen;
  const std::uint16_t port = api_port(smppd, seen);
  ASSERT_NE(port, 0) << seen;
  inject_mo("from: 37060000071\nto: 12345\ntext: Over TLS\n");
  const auto got = hook.wait_for("/trusted", 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(json::parse(got[0].body)["text"], "Over TLS");
  // The self-signed certificate is not among the system's CAs: refused.
  ASSERT_TRUE(read_until(smppd, "kept as a dead letter", seen)) << seen;
  // Logged when queued for the message log: readable once the log's
  // writer has applied it.
  json letters;
  for (int i = 0; i < 50; ++i) {
    letters = json::parse(call(http::verb::get, port, "/v1/webhooks/dead").second)["dead_letters"];
    if (!letters.empty()) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0]["webhook"], "untrusted");
  EXPECT_NE(letters[0]["last_error"].get<std::string>().find("TLS handshake"), std::string::npos) << letters;
  EXPECT_TRUE(hook.on("/untrusted").empty());
  smppd.stop(SIGTERM);
}

TEST_F(webhooks_e2e, events_for_a_webhook_removed_from_the_configuration_become_dead_letters) {
  std::uint16_t closed_port = 0;
  {
    receiver probe;
    closed_port = probe.port();
  }
  auto cfg = write_config("  webhook_retry_base: 1h\n  webhooks:\n    - { name: old, url: \"http://127.0.0.1:" +
                          std::to_string(closed_port) + "/x\" }\n");
  {
    child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
    std::string seen;
    ASSERT_NE(api_port(smppd, seen), 0) << seen;
    inject_mo("from: 37060000081\nto: 12345\ntext: Anyone there?\n");
    ASSERT_TRUE(read_until(smppd, "webhook delivery failed", seen)) << seen;  // waits an hour now
    smppd.stop(SIGTERM);
  }
  cfg = write_config("  reassembly_timeout: 5m\n");
  child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
  std::string seen;
  const std::uint16_t port = api_port(smppd, seen);
  ASSERT_NE(port, 0) << seen;
  json letters;
  for (int i = 0; i < 50 && letters.empty(); ++i) {  // at startup, perhaps before the API's line
    letters = json::parse(call(http::verb::get, port, "/v1/webhooks/dead").second)["dead_letters"];
    if (letters.empty()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0]["webhook"], "old");
  EXPECT_EQ(letters[0]["last_error"], "webhook no longer configured");
  smppd.stop(SIGTERM);
}

TEST_F(webhooks_e2e, a_reply_stored_before_a_sigkill_is_forwarded_by_the_next_run) {
  std::uint16_t hook_port = 0;
  {
    receiver probe;  // a free port, closed again: the receiver is down
    hook_port = probe.port();
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(hook_port) + "/json";
  const auto cfg = write_config("  webhook_retry_base: 100ms\n  webhook_retry_max: 200ms\n"
                                "  webhooks:\n    - { name: crm, url: \"" + url + "\", format: json }\n");
  {
    child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
    std::string seen;
    ASSERT_NE(api_port(smppd, seen), 0) << seen;
    inject_mo("from: 37060000061\nto: 12345\ntext: Before the crash\n");
    // Stored (the outbox entry is what is being tried) and not delivered.
    ASSERT_TRUE(read_until(smppd, "webhook delivery failed", seen)) << seen;
    smppd.stop(SIGKILL);
  }
  receiver hook(hook_port);
  child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
  const auto got = hook.wait_for("/json", 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(json::parse(got[0].body)["text"], "Before the crash");
  std::string seen;
  ASSERT_TRUE(read_until(smppd, "webhook delivered", seen)) << seen;
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(hook.on("/json").size(), 1u);  // delivered once, then gone from the outbox
  smppd.stop(SIGTERM);
}

TEST_F(webhooks_e2e, delivered_and_failed_go_only_to_the_webhooks_that_list_them_routed_by_campaign) {
  receiver hook;
  std::ofstream(dir / "sale.csv") << "msisdn\n+37060000301\nnot-a-number\n";
  // outcomes: every message's outcome; replies: the default list (no
  // outcomes); sale: deliveries of campaign "sale" only, as Slack text.
  const auto cfg = write_config(
      "  webhooks:\n"
      "    - { name: outcomes, url: \"" + hook.url("/outcomes") + "\", events: [delivered, failed] }\n"
      "    - { name: replies, url: \"" + hook.url("/replies") + "\" }\n"
      "    - { name: sale, url: \"" + hook.url("/sale") + "\", format: slack, events: [delivered],"
      " campaigns: [sale] }\n"
      "campaigns:\n"
      "  - { id: sale, recipients: sale.csv, from: ACME, text: \"Spring sale\" }\n");
  child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
  std::string seen;
  const std::uint16_t port = api_port(smppd, seen);
  ASSERT_NE(port, 0) << seen;
  const std::uint16_t mport = metrics_port(smppd, seen);
  ASSERT_NE(mport, 0) << seen;
  const std::string id = send(port, "+37060000201");
  ASSERT_FALSE(id.empty());

  // Two deliveries (the API's message and the campaign's first row) and
  // one failure (the campaign's second row, not a number).
  const auto delivered = wait_events(hook, "/outcomes", "delivered", 2);
  ASSERT_EQ(delivered.size(), 2u);
  const auto failed = wait_events(hook, "/outcomes", "failed", 1);
  ASSERT_EQ(failed.size(), 1u);
  const json* api_msg = nullptr;
  const json* sale_msg = nullptr;
  for (const auto& j : delivered) (j["campaign"] == "api" ? api_msg : sale_msg) = &j;
  ASSERT_TRUE(api_msg && sale_msg) << delivered[0] << delivered[1];
  EXPECT_EQ((*api_msg)["message_id"].get<std::uint64_t>(), std::stoull(id));
  EXPECT_EQ((*api_msg)["id"], id + "-delivered");
  EXPECT_EQ((*api_msg)["recipient"], "+37060000201");
  EXPECT_EQ((*api_msg)["state"], "delivered");
  EXPECT_EQ((*api_msg)["cause"], "receipt");
  EXPECT_TRUE((*api_msg)["deliver_by"].is_null());
  EXPECT_EQ((*sale_msg)["campaign"], "sale");
  EXPECT_EQ((*sale_msg)["recipient"], "+37060000301");
  EXPECT_EQ(failed[0]["campaign"], "sale");
  EXPECT_EQ(failed[0]["state"], "failed");
  EXPECT_EQ(failed[0]["row"], 2);

  // sale: the campaign's delivery only, as a summary line.
  const auto sale = hook.wait_for("/sale", 1);
  ASSERT_EQ(sale.size(), 1u);
  const std::string text = json::parse(sale[0].body)["text"];
  EXPECT_NE(text.find(" delivered\nTo +37060000301, campaign sale, receipt at "), std::string::npos) << text;

  // Nothing for the webhook that did not ask, nor more for sale.
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(hook.on("/replies").empty());
  EXPECT_EQ(hook.on("/sale").size(), 1u);
  EXPECT_EQ(hook.on("/outcomes").size(), 3u);
  const std::string scraped = call(http::verb::get, mport, "/metrics").second;
  EXPECT_NE(scraped.find("smppd_webhook_event_deliveries_total{event=\"delivered\"} 3"), std::string::npos) << scraped;
  EXPECT_NE(scraped.find("smppd_webhook_event_deliveries_total{event=\"failed\"} 1"), std::string::npos) << scraped;
  smppd.stop(SIGTERM);
  while (auto line = smppd.read_line(100ms)) seen += *line + "\n";
  EXPECT_EQ(seen.find("37060000201"), std::string::npos) << seen;  // no numbers in the log
}

TEST_F(webhooks_e2e, a_message_late_past_its_deadline_is_told_once_then_its_outcome_even_across_a_sigkill) {
  // Receipts come 4 s after each submit: a 2 s deadline passes first.
  sim->stop();
  sim.reset();
  sim_port = smppd::test::start_smsc_sim(sim, bin_dir + "/smsc-sim", {"--receipt-delay", "4000"});
  ASSERT_NE(sim_port, 0);
  receiver hook;
  const auto cfg = write_config(
      "  webhooks:\n"
      "    - { name: late, url: \"" + hook.url("/late") + "\", events: [undelivered_by_deadline, delivered] }\n"
      "    - { name: sale-only, url: \"" + hook.url("/sale") + "\", events: [undelivered_by_deadline],"
      " campaigns: [sale] }\n");
  std::string late_id, roomy_id;
  {
    child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
    std::string seen;
    const std::uint16_t port = api_port(smppd, seen);
    ASSERT_NE(port, 0) << seen;
    const auto sent = std::chrono::steady_clock::now();
    late_id = send(port, "+37060000401", "2s");
    roomy_id = send(port, "+37060000402", "1m");
    ASSERT_FALSE(late_id.empty() || roomy_id.empty());
    const json shown = json::parse(call(http::verb::get, port, "/v1/messages/" + late_id).second);
    EXPECT_FALSE(shown.value("deliver_by", "").empty()) << shown;
    EXPECT_EQ(json::parse(call(http::verb::get, port, "/v1/messages/" + send(port, "+37060000404")).second)
                  .value("deliver_by", "?"),
              "");  // none asked
    // A deadline that is not a duration is refused.
    EXPECT_EQ(call(http::verb::post, port, "/v1/messages",
                   json{{"to", "+37060000405"}, {"from", "ACME"}, {"text", "x"}, {"deliver_within", "soon"}}.dump())
                  .first,
              400);

    const auto missed = wait_events(hook, "/late", "undelivered_by_deadline", 1);
    ASSERT_EQ(missed.size(), 1u);
    EXPECT_GE(std::chrono::steady_clock::now() - sent, 2s);
    EXPECT_EQ(missed[0]["message_id"].get<std::uint64_t>(), std::stoull(late_id));
    EXPECT_EQ(missed[0]["id"], late_id + "-undelivered_by_deadline");
    EXPECT_EQ(missed[0]["state"], "accepted");  // sent, its receipt not yet in
    EXPECT_EQ(missed[0]["campaign"], "api");
    EXPECT_EQ(missed[0]["at"], missed[0]["deliver_by"]);
    // Later, all three are delivered: each outcome is told too.
    const auto delivered = wait_events(hook, "/late", "delivered", 3);
    ASSERT_EQ(delivered.size(), 3u);
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(events(hook, "/late", "undelivered_by_deadline").size(), 1u);  // once, and not for the roomy one
    EXPECT_TRUE(hook.on("/sale").empty());  // API messages are not its campaign
    smppd.stop(SIGTERM);
  }
  // A deadline survives a crash: sent, killed at once, told by the next
  // run. The simulator goes too, so that no receipt (smsc-sim sends those
  // it still holds to the next bind) can deliver the message in time.
  std::string crash_id;
  {
    child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
    std::string seen;
    const std::uint16_t port = api_port(smppd, seen);
    ASSERT_NE(port, 0) << seen;
    crash_id = send(port, "+37060000403", "2s");  // 202: durable
    ASSERT_FALSE(crash_id.empty());
    smppd.stop(SIGKILL);
  }
  sim->stop();
  sim.reset();
  child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
  const auto missed = wait_events(hook, "/late", "undelivered_by_deadline", 2);
  std::string seen;
  if (missed.size() != 2)
    while (auto line = smppd.read_line(100ms)) seen += *line + "\n";
  ASSERT_EQ(missed.size(), 2u) << seen;
  EXPECT_EQ(missed[1]["message_id"].get<std::uint64_t>(), std::stoull(crash_id));
  smppd.stop(SIGTERM);
}

TEST(webhook_body, a_message_event_names_its_message_state_cause_error_and_times_in_each_format) {
  engine::webhook_event_data e;
  e.kind = config::webhook_event::failed;
  e.campaign = "spring";
  e.message.id = 42;
  e.message.origin = storage::origin::campaign;
  e.message.campaign = "spring";
  e.message.row = 7;
  e.message.recipient = "+37060000501";
  e.message.sender = "ACME";
  e.message.queued_us = 1'700'000'000'000'000;  // 2023-11-14T22:13:20Z
  e.message.parts.resize(2);
  e.outcome = storage::message_outbox_entry(storage::message_event::failed, e.message, "ops", 1'700'000'060'000'000);
  e.outcome.st = storage::state::undeliverable;
  e.outcome.settled_by = storage::cause::receipt;
  e.outcome.error_code = 0x0b;

  const json j = json::parse(engine::webhook_body(config::webhook_format::json, e));
  EXPECT_EQ(j["id"], "42-failed");
  EXPECT_EQ(j["event"], "failed");
  EXPECT_EQ(j["message_id"], 42);
  EXPECT_EQ(j["campaign"], "spring");
  EXPECT_EQ(j["row"], 7);
  EXPECT_EQ(j["recipient"], "+37060000501");
  EXPECT_EQ(j["sender"], "ACME");
  EXPECT_EQ(j["state"], "undeliverable");
  EXPECT_EQ(j["cause"], "receipt");
  EXPECT_EQ(j["error_code"], 11);
  EXPECT_EQ(j["command_status"], 0);
  EXPECT_EQ(j["parts"], 2);
  EXPECT_EQ(j["queued_at"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(j["at"], "2023-11-14T22:14:20Z");
  EXPECT_TRUE(j["deliver_by"].is_null());

  const std::string slack = json::parse(engine::webhook_body(config::webhook_format::slack, e))["text"];
  EXPECT_EQ(slack,
            "Message 42 not delivered: undeliverable\nTo +37060000501, campaign spring, receipt at "
            "2023-11-14T22:14:20Z, error 0x0000000b");
  const json teams = json::parse(engine::webhook_body(config::webhook_format::teams, e));
  EXPECT_EQ(teams["title"], "Message 42 not delivered: undeliverable");
  EXPECT_EQ(teams["text"], slack);

  e.kind = config::webhook_event::undelivered_by_deadline;
  e.outcome.event = storage::message_event::undelivered_by_deadline;
  e.outcome.st = storage::state::accepted;
  e.outcome.error_code = 0;
  e.message.deliver_by_us = e.outcome.at_us;
  const json late = json::parse(engine::webhook_body(config::webhook_format::json, e));
  EXPECT_EQ(late["id"], "42-undelivered_by_deadline");
  EXPECT_EQ(late["deliver_by"], "2023-11-14T22:14:20Z");
  EXPECT_EQ(json::parse(engine::webhook_body(config::webhook_format::slack, e))["text"],
            "Message 42 not delivered by its deadline\nTo +37060000501, campaign spring, accepted at "
            "2023-11-14T22:14:20Z");
}

}  // namespace

// A campaign that asks for confirmation: only recipients who consented get
// it, each from a reply number with a code; their YES/NO answers (in
// Lithuanian and English here) become structured answers on the
// campaign's conversations, shown by the API and smppctl and forwarded to
// the webhook that follows the campaign.
TEST_F(webhooks_e2e, a_campaign_asking_for_confirmation_gets_structured_answers_in_the_api_and_on_a_webhook) {
  receiver hook;
  {
    std::ofstream csv(dir / "visits.csv");
    csv << "msisdn,name,opt_in\n"
        << "37060000051,Ona,yes\n"
        << "37060000052,Jonas,no\n"
        << "860000053,Ruta,Y\n"
        << "37060000054,Petras,\n";
  }
  const auto cfg = write_config(
      "  reply_numbers: [\"+37060000100\", \"+37060000101\"]\n"
      "  webhooks:\n"
      "    - { name: crm, url: \"" + hook.url("/json") + "\", format: json, events: [reply], campaigns: [visits] }\n"
      "    - { name: other, url: \"" + hook.url("/other") + "\", format: json, events: [reply], campaigns: [api] }\n"
      "campaigns:\n"
      "  - id: visits\n"
      "    recipients: visits.csv\n"
      "    from: CLINIC\n"
      "    text: \"Hi {{name}}, your visit is on Friday at 10:00. Reply YES to confirm or NO to cancel (#REF)\"\n"
      "    expects_reply: true\n"
      "    consent: { column: opt_in }\n");
  child_process smppd(bin_dir + "/smppd", {"--config", cfg.string()}, true);
  std::string seen;
  const std::uint16_t port = api_port(smppd, seen);
  ASSERT_NE(port, 0) << seen;

  json answers;
  for (int i = 0; i < 100; ++i) {
    auto [status, body] = call(http::verb::get, port, "/v1/campaigns/visits/answers");
    ASSERT_EQ(status, 200) << body;
    answers = json::parse(body);
    if (answers["conversations_count"] == 2) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(answers["conversations_count"], 2) << answers.dump();
  EXPECT_EQ(answers["no_reply"], 2);
  std::map<std::string, json> by_customer;
  for (const auto& c : answers["conversations"]) by_customer[c["customer"]] = c;
  ASSERT_TRUE(by_customer.count("+37060000051") && by_customer.count("+37060000053")) << answers.dump();
  const json ona = by_customer["+37060000051"], ruta = by_customer["+37060000053"];
  EXPECT_EQ(ona["campaign"], "visits");
  // The messages went from the reply numbers, carrying the codes.
  for (const json* c : {&ona, &ruta}) {
    auto [status, body] = call(http::verb::get, port, "/v1/messages/" + (*c)["message_id"].get<std::string>());
    ASSERT_EQ(status, 200) << body;
    EXPECT_EQ(json::parse(body)["sender"], (*c)["number"]) << body;
  }

  // Ona answers in Lithuanian to the number she got it from; Ruta writes
  // to another number but quotes the code.
  inject_mo("from: 37060000051\nto: " + ona["number"].get<std::string>().substr(1) + "\ntext: Taip\n");
  inject_mo("from: 37060000053\nto: 12345\ntext: no, sorry " + ruta["code"].get<std::string>() + "\n");
  const auto crm = hook.wait_for("/json", 2);
  ASSERT_EQ(crm.size(), 2u);
  std::map<std::string, json> events;
  for (const auto& r : crm) {
    const json e = json::parse(r.body);
    events[e["customer"]] = e;
  }
  EXPECT_EQ(events["+37060000051"]["answer"], "yes");
  EXPECT_EQ(events["+37060000051"]["match"], "number");
  EXPECT_EQ(events["+37060000051"]["campaign"], "visits");
  EXPECT_EQ(events["+37060000051"]["conversation"].get<std::uint64_t>(), std::stoull(ona["id"].get<std::string>()));
  EXPECT_EQ(events["+37060000053"]["answer"], "no");
  EXPECT_EQ(events["+37060000053"]["match"], "code");
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(hook.on("/other").empty());  // a webhook following API messages only

  auto [status, body] = call(http::verb::get, port, "/v1/campaigns/visits/answers");
  ASSERT_EQ(status, 200) << body;
  answers = json::parse(body);
  EXPECT_EQ(answers["answers"]["yes"], 1) << body;
  EXPECT_EQ(answers["answers"]["no"], 1) << body;
  EXPECT_EQ(answers["no_reply"], 0) << body;
  auto [page_status, page] = call(http::verb::get, port, "/v1/campaigns/visits/answers?limit=1");
  ASSERT_EQ(page_status, 200) << page;
  EXPECT_EQ(json::parse(page)["conversations"].size(), 1u);
  EXPECT_EQ(json::parse(page)["next"], json::parse(page)["conversations"][0]["id"]) << page;
  EXPECT_EQ(call(http::verb::get, port, "/v1/campaigns/visits/answers?limit=0").first, 400);
  EXPECT_EQ(call(http::verb::get, port, "/v1/campaigns/nope/answers").first, 404);

  // Consent: the two without it were recorded, never sent.
  auto [c_status, c_body] = call(http::verb::get, port, "/v1/campaigns/visits");
  ASSERT_EQ(c_status, 200) << c_body;
  const json campaign = json::parse(c_body);
  EXPECT_EQ(campaign["no_consent"], 2) << c_body;
  EXPECT_EQ(campaign["messages"]["suppressed"], 2) << c_body;

  child_process ctl(bin_dir + "/smppctl",
                    {"campaign", "answers", "visits", "--api", "127.0.0.1:" + std::to_string(port)}, true);
  std::string shown;
  while (auto line = ctl.read_line(10s)) shown += *line + "\n";
  auto st = ctl.wait_exit(10s);
  ASSERT_TRUE(st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << shown;
  EXPECT_NE(shown.find("visits: 2 conversations, no 1, yes 1, replied without an answer 0, no reply 0"),
            std::string::npos)
      << shown;
  EXPECT_NE(shown.find("+37060000053"), std::string::npos) << shown;
  smppd.stop(SIGTERM);
}
