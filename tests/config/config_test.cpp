// Tests of config/config.hpp: a full file read into structs, every error
// reported at once with its line and column (and a table of broken
// configurations, one per class of mistake, each with its exact
// FILE:LINE:COLUMN message), secrets from the environment and from files
// never echoed, cross-references checked.
#include "config/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class config_files : public ::testing::Test {
 protected:
  smppd::test::temp_dir tmp{"smppd-config-test"};
  fs::path dir = tmp.path();
  void SetUp() override { write("spring.csv", "msisdn,name\n+37060000001,Ona\n"); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir / name) << text; }
  config::load_result load(const std::string& yaml) { return config::load_text(yaml, "smppd.yaml", dir); }
  static std::string all(const config::load_result& r) {
    std::string s;
    for (auto& e : r.errors) s += e.to_string() + "\n";
    return s;
  }
};

const char* full = R"(node:
  data_dir: data
  sync: every_10ms
  in_doubt: resend
  retention: 30d
  log_memtables_mib: 64
  log_cache_mib: 32
api:
  listen: 127.0.0.1:8081
metrics:
  listen: "[::1]:9464"
smscs:
  - name: opa-1
    host: 127.0.0.1
    port: 2775
    system_id: smppd
    password: "${SMPPD_TEST_PW}"
    bind: tx_rx
    binds: 2
    window: 128
    tps: 500
    enquire_link_s: 30
    long_messages: udh16
    gsm7_packing: packed
    receipt_id_format: hex
  - { name: opa-2, host: smsc.example.org, system_id: x, password_file: pw.txt,
      long_messages: udh16, gsm7_packing: packed,
      tls: { ca_file: pw.txt, server_name: smsc.example.org } }
operators:
  - { name: opa, prefixes: ["+3706"], smscs: [opa-1, { name: opa-2, weight: 3 }], tps: 1000 }
default_operator: opa
numbering: { default_country_code: "370" }
retry: { attempts: 3, first_delay: 500ms, max_delay: 1m }
campaigns:
  - id: spring-sale
    recipients: spring.csv
    from: ACME
    text: "Hi {{name|there}}, spring sale!"
    send_window: { start: "09:00", end: "20:00", timezone: Europe/Vilnius }
    tps: 200
    receipts: true
    validity: 24h
)";

TEST_F(config_files, reads_every_section_into_structs) {
  setenv("SMPPD_TEST_PW", "pw1", 1);
  write("pw.txt", "fromfile\n");
  auto r = load(full);
  ASSERT_TRUE(r.value) << all(r);
  const auto& s = *r.value;
  EXPECT_EQ(s.node.data_dir, dir / "data");
  EXPECT_EQ(s.node.sync, config::sync_mode::interval);
  EXPECT_EQ(s.node.sync_interval, 10ms);
  EXPECT_EQ(s.node.in_doubt, config::in_doubt_policy::resend);
  EXPECT_EQ(s.node.retention, std::chrono::hours(24 * 30));
  EXPECT_EQ(s.node.log_memtables_mib, 64u);
  EXPECT_EQ(s.node.log_cache_mib, 32u);
  EXPECT_EQ(s.api.listen, (config::endpoint{"127.0.0.1", 8081}));
  EXPECT_EQ(s.metrics.listen, (config::endpoint{"::1", 9464}));
  ASSERT_EQ(s.smscs.size(), 2u);
  const auto& a = s.smscs[0];
  EXPECT_EQ(a.name, "opa-1");
  EXPECT_EQ(a.password.reveal(), "pw1");
  EXPECT_EQ(a.bind, config::bind_mode::tx_rx);
  EXPECT_EQ(a.binds, 2u);
  EXPECT_EQ(a.window, 128u);
  EXPECT_EQ(a.tps, 500);
  EXPECT_EQ(a.long_messages, config::long_message_mode::udh16);
  EXPECT_EQ(a.gsm7_packing, config::gsm7_layout::packed);
  EXPECT_EQ(a.receipt_ids, config::receipt_id_format::hex);
  const auto& b = s.smscs[1];
  EXPECT_EQ(b.port, 2775);
  EXPECT_EQ(b.password.reveal(), "fromfile");
  EXPECT_TRUE(b.tls.enabled);
  EXPECT_TRUE(b.tls.verify);
  EXPECT_EQ(b.tls.server_name, "smsc.example.org");
  ASSERT_EQ(s.operators.size(), 1u);
  EXPECT_EQ(s.operators[0].prefixes, std::vector<std::string>{"+3706"});
  ASSERT_EQ(s.operators[0].smscs.size(), 2u);
  EXPECT_EQ(s.operators[0].smscs[1].smsc, "opa-2");
  EXPECT_EQ(s.operators[0].smscs[1].weight, 3u);
  EXPECT_EQ(s.default_operator, "opa");
  EXPECT_EQ(s.numbering.default_country_code, "370");
  EXPECT_EQ(s.retry, (config::retry_config{3, 500ms, 1min}));
  ASSERT_EQ(s.campaigns.size(), 1u);
  const auto& c = s.campaigns[0];
  EXPECT_EQ(c.recipients, dir / "spring.csv");
  ASSERT_TRUE(c.window);
  EXPECT_EQ(c.window->start, std::chrono::minutes(9 * 60));
  EXPECT_EQ(c.window->end, std::chrono::minutes(20 * 60));
  EXPECT_EQ(c.window->timezone, "Europe/Vilnius");
  EXPECT_EQ(c.validity, std::chrono::hours(24));
}

TEST_F(config_files, the_shipped_example_is_valid) {
  setenv("OPA_PASSWORD", "example", 1);
  auto r = config::load_file(fs::path(SMPPD_SOURCE_DIR) / "deploy/examples/smppd.yaml");
  EXPECT_TRUE(r.value) << all(r);
}

TEST_F(config_files, reports_broken_yaml_with_its_place) {
  auto r = load("smscs:\n  - name: a\n    host: [unclosed\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, "smppd.yaml");
  EXPECT_GT(r.errors[0].line, 0);
  EXPECT_NE(r.errors[0].message.find("not valid YAML"), std::string::npos);
}

TEST_F(config_files, reports_every_error_at_once_each_with_line_and_column) {
  auto r = load(R"(smscs:
  - name: a
    host: h
    system_id: s
    port: http
    window: 0
    pasword: x
operators:
  - { name: o, prefixes: ["3706"], smscs: [nope] }
default_operator: missing
node: { log_memtables_mib: 8 }
)");
  ASSERT_FALSE(r.value);
  const std::string text = all(r);
  EXPECT_NE(text.find("smppd.yaml:5:11: smscs[0].port: expected a whole number from 1 to 65535, got \"http\""),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("smppd.yaml:6:13: smscs[0].window"), std::string::npos) << text;
  EXPECT_NE(text.find("smscs[0].pasword: unknown key \"pasword\" (did you mean \"password\"?)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("operators[0].prefixes[0]: expected '+' and digits"), std::string::npos) << text;
  EXPECT_NE(text.find("operators[0].smscs[0]: no SMSC named \"nope\""), std::string::npos) << text;
  EXPECT_NE(text.find("default_operator: no operator named \"missing\""), std::string::npos) << text;
  EXPECT_NE(text.find("smppd.yaml:11:28: node.log_memtables_mib: expected a whole number from 16 to 65536, got \"8\""),
            std::string::npos)
      << text;
  EXPECT_EQ(r.errors.size(), 7u) << text;
  for (auto& e : r.errors) EXPECT_GT(e.line, 0) << e.to_string();
}

TEST_F(config_files, never_echoes_a_secret) {
  setenv("SMPPD_TEST_LONG_PW", "hunter2-too-long", 1);
  auto r = load(R"(smscs:
  - { name: a, host: h, system_id: s, password: "${SMPPD_TEST_LONG_PW}", port: 0 }
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
)");
  ASSERT_FALSE(r.value);
  const std::string text = all(r);
  EXPECT_NE(text.find("smscs[0].password: at most 8 characters"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  std::ostringstream os;
  os << config::secret("hunter2");
  EXPECT_EQ(os.str(), "***");
}

TEST_F(config_files, names_a_missing_environment_variable) {
  unsetenv("SMPPD_TEST_UNSET");
  auto r = load(R"(smscs: [{ name: a, host: h, system_id: s, password: "${SMPPD_TEST_UNSET}" }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
)");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].key, "smscs[0].password");
  EXPECT_EQ(r.errors[0].message, "environment variable SMPPD_TEST_UNSET is not set");
}

TEST_F(config_files, takes_a_secret_from_a_file_but_not_from_both_places) {
  write("pw", "abc\n");
  auto ok = load(R"(smscs: [{ name: a, host: h, system_id: s, password_file: pw }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
)");
  ASSERT_TRUE(ok.value) << all(ok);
  EXPECT_EQ(ok.value->smscs[0].password.reveal(), "abc");
  auto both = load(R"(smscs: [{ name: a, host: h, system_id: s, password: x, password_file: pw }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
)");
  ASSERT_EQ(both.errors.size(), 1u);
  EXPECT_NE(both.errors[0].message.find("not both"), std::string::npos);
  auto missing = load(R"(smscs: [{ name: a, host: h, system_id: s, password_file: nothere }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
)");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_NE(missing.errors[0].message.find("cannot read"), std::string::npos);
}

TEST_F(config_files, checks_names_and_prefixes_across_sections) {
  auto r = load(R"(smscs:
  - { name: a, host: h, system_id: s }
  - { name: a, host: h, system_id: s }
operators:
  - { name: o, prefixes: ["+370"], smscs: [a] }
  - { name: p, prefixes: ["+370"], smscs: [a] }
)");
  const std::string text = all(r);
  EXPECT_NE(text.find("duplicate SMSC name \"a\""), std::string::npos) << text;
  EXPECT_NE(text.find("prefix +370 already belongs to operator \"o\""), std::string::npos) << text;
}

TEST_F(config_files, checks_a_campaigns_file_template_window_and_zone) {
  auto r = load(R"(smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
campaigns:
  - id: c1
    recipients: nothere.csv
    from: ACME
    text: "Hi {{name"
    send_window: { start: "9am", end: "20:00", timezone: Mars/Olympus }
    validity: forever
    start: later
)");
  const std::string text = all(r);
  EXPECT_NE(text.find("campaigns[0].start: expected one of auto, manual, got \"later\""), std::string::npos) << text;
  EXPECT_NE(text.find("campaigns[0].recipients: no such file"), std::string::npos) << text;
  EXPECT_NE(text.find("campaigns[0].text: unterminated {{"), std::string::npos) << text;
  EXPECT_NE(text.find("campaigns[0].send_window.start: expected a time of day HH:MM"), std::string::npos) << text;
  EXPECT_NE(text.find("campaigns[0].send_window.timezone: unknown time zone"), std::string::npos) << text;
  EXPECT_NE(text.find("campaigns[0].validity: expected a duration"), std::string::npos) << text;
}

TEST_F(config_files, reads_consent_and_expects_reply_and_names_their_errors) {
  auto ok = load(R"(smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
two_way: { reply_numbers: ["+15550000100"] }
campaigns:
  - { id: c1, recipients: spring.csv, from: A, text: t, expects_reply: true, consent: { column: opt_in } }
  - { id: c2, recipients: spring.csv, from: A, text: t, consent: { list: spring.csv, column: agreed } }
)");
  ASSERT_TRUE(ok.value) << all(ok);
  EXPECT_TRUE(ok.value->campaigns[0].expects_reply);
  ASSERT_TRUE(ok.value->campaigns[0].consent);
  EXPECT_EQ(ok.value->campaigns[0].consent->column, "opt_in");
  EXPECT_TRUE(ok.value->campaigns[0].consent->list.empty());
  EXPECT_EQ(ok.value->campaigns[1].consent->list.filename(), "spring.csv");
  EXPECT_FALSE(ok.value->campaigns[1].expects_reply);

  auto r = load(R"(smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
campaigns:
  - { id: c1, recipients: spring.csv, from: A, text: t, expects_reply: true }
  - { id: c2, recipients: spring.csv, from: A, text: t, consent: { list: nothere.txt } }
  - { id: c3, recipients: spring.csv, from: A, text: t, consent: {} }
  - { id: c4, recipients: spring.csv, from: A, text: t, consent: { colum: x } }
)");
  const std::string text = all(r);
  EXPECT_NE(text.find(":4:"), std::string::npos) << text;
  EXPECT_NE(text.find("campaigns[0].expects_reply: needs two_way.reply_numbers"), std::string::npos) << text;
  EXPECT_NE(text.find("campaigns[1].consent.list: no such file"), std::string::npos) << text;
  EXPECT_NE(text.find("campaigns[2].consent: expected a column of the recipients file"), std::string::npos) << text;
  EXPECT_NE(text.find("campaigns[3].consent"), std::string::npos) << text;
  EXPECT_NE(text.find("colum"), std::string::npos) << text;
}

TEST_F(config_files, reads_recipient_zones_and_send_windows_in_them) {
  auto r = load(R"(smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
numbering:
  time_zones: { "+1212": America/New_York, "+3706": Europe/Vilnius }
  default_time_zone: Europe/London
campaigns:
  - { id: own, recipients: spring.csv, from: A, text: t, send_window: { start: "09:00", end: "20:00" } }
  - id: fb
    recipients: spring.csv
    from: A
    text: t
    send_window: { start: "22:00", end: "06:00", timezone: recipient, fallback_timezone: Asia/Tokyo }
)");
  ASSERT_TRUE(r.value) << all(r);
  const auto& n = r.value->numbering;
  using zone = std::pair<std::string, std::string>;
  EXPECT_EQ(n.time_zones, (std::vector<zone>{{"+1212", "America/New_York"}, {"+3706", "Europe/Vilnius"}}));
  EXPECT_EQ(n.default_time_zone, "Europe/London");
  ASSERT_TRUE(r.value->campaigns[0].window);
  EXPECT_EQ(r.value->campaigns[0].window->timezone, "recipient");  // the default
  EXPECT_EQ(r.value->campaigns[0].window->fallback_timezone, "");
  EXPECT_EQ(r.value->campaigns[1].window->fallback_timezone, "Asia/Tokyo");
  EXPECT_EQ(r.value->campaigns[1].window->start, std::chrono::minutes(22 * 60));
}

TEST_F(config_files, names_unknown_zones_and_bad_prefixes_with_their_place) {
  auto r = load(R"(smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
numbering:
  time_zones: { "+1212": America/Gotham, "1415": America/Los_Angeles, "+44": Europe }
  default_time_zone: Atlantis
campaigns:
  - id: c
    recipients: spring.csv
    from: A
    text: t
    send_window: { start: "09:00", end: "20:00", timezone: Europe/Vilnius, fallback_timezone: UTC }
  - id: d
    recipients: spring.csv
    from: A
    text: t
    send_window: { start: "09:00", end: "20:00", fallback_timezone: Mars/Olympus }
)");
  const std::string text = all(r);
  EXPECT_NE(text.find("smppd.yaml:4:26: numbering.time_zones.+1212: unknown time zone \"America/Gotham\""),
            std::string::npos) << text;
  EXPECT_NE(text.find("smppd.yaml:4:42: numbering.time_zones.1415: expected '+' and digits"), std::string::npos)
      << text;
  // A folder of tzdata is not a zone.
  EXPECT_NE(text.find("numbering.time_zones.+44: unknown time zone \"Europe\""), std::string::npos) << text;
  EXPECT_NE(text.find("smppd.yaml:5:22: numbering.default_time_zone: unknown time zone \"Atlantis\""),
            std::string::npos) << text;
  EXPECT_NE(text.find("campaigns[0].send_window.fallback_timezone: only with timezone: recipient"),
            std::string::npos) << text;
  EXPECT_NE(text.find("campaigns[1].send_window.fallback_timezone: unknown time zone \"Mars/Olympus\""),
            std::string::npos) << text;
  EXPECT_EQ(r.errors.size(), 6u) << text;
}

TEST_F(config_files, an_api_off_loopback_needs_tokens) {
  auto r = load(R"(api: { listen: "0.0.0.0:8080" }
smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
)");
  const std::string text = all(r);
  EXPECT_NE(text.find("api.listen: listening on \"0.0.0.0\" (not loopback) needs api.tokens_file"), std::string::npos)
      << text;
}

TEST_F(config_files, reads_a_base_log_level_and_one_per_component) {
  auto r = load(R"(logging:
  level: warn
  components: { smsc: debug, api: error }
smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
)");
  ASSERT_TRUE(r.value) << all(r);
  const auto& l = r.value->log_levels;
  EXPECT_EQ(l.base, logging::level::warn);
  EXPECT_EQ(l.by_component[static_cast<std::size_t>(logging::component::smsc)], logging::level::debug);
  EXPECT_EQ(l.by_component[static_cast<std::size_t>(logging::component::api)], logging::level::error);
  EXPECT_FALSE(l.by_component[static_cast<std::size_t>(logging::component::dispatch)]);
}

TEST_F(config_files, logs_at_info_without_a_logging_section) {
  auto r = load(R"(smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
)");
  ASSERT_TRUE(r.value) << all(r);
  EXPECT_EQ(r.value->log_levels, logging::levels{});
  EXPECT_EQ(r.value->log_levels.base, logging::level::info);
}

TEST_F(config_files, names_an_unknown_log_level_or_component_with_its_place) {
  auto r = load(R"(logging:
  level: verbose
  components:
    smscs: debug
    api: loud
    dispatch: warn
  colour: true
smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
)");
  ASSERT_FALSE(r.value);
  const std::string text = all(r);
  EXPECT_NE(text.find("smppd.yaml:2:10: logging.level: expected one of error, warn, info, debug, got \"verbose\""),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("smppd.yaml:4:5: logging.components.smscs: unknown component \"smscs\" (expected one of main, "
                      "config, smsc, dispatch, campaign, api, storage, metrics, replies)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("smppd.yaml:5:10: logging.components.api: expected one of error, warn, info, debug, got \"loud\""),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("smppd.yaml:7:3: logging.colour: unknown key \"colour\""), std::string::npos) << text;
  EXPECT_EQ(r.errors.size(), 4u) << text;
}

TEST_F(config_files, two_way_keeps_default_languages_and_replaces_a_configured_one) {
  auto r = load(R"(smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
two_way:
  reassembly_timeout: 30s
  languages:
    en: { opt_out: [HALT], help: [HELP], help_text: "Call us", opt_out_text: "Halted" }
    de: { opt_out: [STOPP] }
)");
  ASSERT_TRUE(r.value) << all(r);
  const auto& t = r.value->two_way;
  EXPECT_EQ(t.reassembly_timeout, std::chrono::seconds(30));
  EXPECT_EQ(t.redelivery_window, std::chrono::minutes(10));
  EXPECT_EQ(t.languages.at("en").opt_out, std::vector<std::string>{"HALT"});
  EXPECT_TRUE(t.languages.at("en").opt_in.empty());
  EXPECT_EQ(t.languages.at("de").opt_out, std::vector<std::string>{"STOPP"});
  EXPECT_EQ(t.languages.at("ru"), config::default_two_way().languages.at("ru"));

  auto bad = load(R"(smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
two_way: { languages: { en: { help: [HELP], opt_out: STOP } } }
)");
  const std::string text = all(bad);
  EXPECT_NE(text.find("two_way.languages.en.opt_out: expected a list of words"), std::string::npos) << text;
  EXPECT_NE(text.find("two_way.languages.en.help_text: HELP keywords need the text"), std::string::npos) << text;
}

TEST_F(config_files, reply_retention_follows_node_retention_unless_set_and_refuses_a_too_short_one) {
  const std::string base = R"(smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
)";
  auto plain = load(base);
  ASSERT_TRUE(plain.value) << all(plain);
  EXPECT_EQ(plain.value->two_way.reply_retention, std::chrono::hours(24 * 90));
  auto follows = load(base + "node: { retention: 30d }\ntwo_way: { reply_numbers: [\"+15550000100\"] }\n");
  ASSERT_TRUE(follows.value) << all(follows);
  EXPECT_EQ(follows.value->two_way.reply_retention, std::chrono::hours(24 * 30));
  auto own = load(base + "node: { retention: 30d }\ntwo_way: { reply_retention: 400d }\n");
  ASSERT_TRUE(own.value) << all(own);
  EXPECT_EQ(own.value->two_way.reply_retention, std::chrono::hours(24 * 400));
  EXPECT_EQ(own.value->node.retention, std::chrono::hours(24 * 30));
  auto forever = load(base + "two_way: { reply_retention: 0s }\n");
  ASSERT_TRUE(forever.value) << all(forever);
  EXPECT_EQ(forever.value->two_way.reply_retention.count(), 0);

  auto bad = load(base + "two_way:\n  reply_retention: 10m\n");
  ASSERT_FALSE(bad.value);
  std::string text = all(bad);
  EXPECT_NE(text.find("smppd.yaml:4:20: two_way.reply_retention: at least 1h (0s keeps replies and conversations "
                      "for ever), got \"10m\""),
            std::string::npos) << text;
  auto garbled = load(base + "two_way:\n  reply_retention: forever\n");
  ASSERT_FALSE(garbled.value);
  text = all(garbled);
  EXPECT_NE(text.find("smppd.yaml:4:20: two_way.reply_retention: expected a duration"), std::string::npos) << text;
}

TEST_F(config_files, reads_two_way_webhooks_with_their_secret_and_names_each_mistake_with_its_place) {
  setenv("SMPPD_TEST_HOOK_SECRET", "hook-secret-1", 1);
  auto r = load(R"(smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
two_way:
  webhook_retry_base: 2s
  webhook_attempts: 4
  webhooks:
    - { name: team, url: "http://hooks.example:8080/T1/B2", format: slack, events: [reply] }
    - { name: crm, url: "http://127.0.0.1/in", format: json, secret: "${SMPPD_TEST_HOOK_SECRET}", campaigns: [api, spring] }
)");
  ASSERT_TRUE(r.value) << all(r);
  const auto& t = r.value->two_way;
  EXPECT_EQ(t.webhook_retry_base, std::chrono::seconds(2));
  EXPECT_EQ(t.webhook_retry_max, std::chrono::minutes(5));
  EXPECT_EQ(t.webhook_attempts, 4);
  ASSERT_EQ(t.webhooks.size(), 2u);
  EXPECT_EQ(t.webhooks[0].format, config::webhook_format::slack);
  EXPECT_EQ(t.webhooks[0].events, std::vector<config::webhook_event>{config::webhook_event::reply});
  EXPECT_TRUE(t.webhooks[0].signing_secret.empty());
  EXPECT_EQ(t.webhooks[1].events.size(), 3u);  // all by default
  EXPECT_EQ(t.webhooks[1].signing_secret.reveal(), "hook-secret-1");
  EXPECT_EQ(t.webhooks[1].campaigns, (std::vector<std::string>{"api", "spring"}));

  auto bad = load(R"(smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
two_way:
  webhook_attempts: 0
  webhooks:
    - { name: a, url: "ftp://hooks.example/x", format: discord }
    - { name: a, url: "http://h/x", format: teams, secret: "${SMPPD_TEST_HOOK_SECRET}", events: [reply, bounce] }
    - { url: "http://h/y" }
)");
  ASSERT_FALSE(bad.value);
  const std::string text = all(bad);
  EXPECT_NE(text.find("smppd.yaml:4:21: two_way.webhook_attempts: expected a whole number from 1 to 1000"),
            std::string::npos) << text;
  EXPECT_NE(text.find("smppd.yaml:6:23: two_way.webhooks[0].url: expected an http:// or https:// URL"), std::string::npos) << text;
  EXPECT_NE(text.find("two_way.webhooks[0].format: expected one of slack, teams, json, got \"discord\""),
            std::string::npos) << text;
  EXPECT_NE(text.find("smppd.yaml:7:15: two_way.webhooks[1].name: webhook \"a\" is named twice"), std::string::npos)
      << text;
  EXPECT_NE(text.find("two_way.webhooks[1].secret: only format json is signed"), std::string::npos) << text;
  EXPECT_NE(text.find("two_way.webhooks[1].events[1]: expected one of reply, opt_out, opt_in, delivered, failed, "
                      "undelivered_by_deadline, got \"bounce\""),
            std::string::npos) << text;
  EXPECT_NE(text.find("two_way.webhooks[2].name: missing (required)"), std::string::npos) << text;
  EXPECT_EQ(text.find("hook-secret-1"), std::string::npos) << text;
  EXPECT_EQ(bad.errors.size(), 7u) << text;
}

TEST_F(config_files, reads_auto_acknowledgements_by_campaign_number_and_default_and_places_each_mistake) {
  auto r = load(R"(smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
campaigns:
  - { id: spring, recipients: spring.csv, from: A, text: t, auto_ack: "Thanks, the spring team answers soon" }
  - { id: plain, recipients: spring.csv, from: A, text: t }
two_way:
  auto_ack:
    text: "Thanks, we got your message; an agent will reply within 15 minutes"
    period: 12h
    numbers: { "+37060000100": "Service line: we answer within the hour", "1234": "Short code thanks" }
)");
  ASSERT_TRUE(r.value) << all(r);
  const auto& a = r.value->two_way.auto_ack;
  EXPECT_EQ(a.text, "Thanks, we got your message; an agent will reply within 15 minutes");
  EXPECT_EQ(a.period, std::chrono::hours(12));
  EXPECT_EQ(a.loop_guard, std::chrono::seconds(60));  // the default
  ASSERT_EQ(a.numbers.size(), 2u);
  EXPECT_EQ(a.numbers.at("+37060000100"), "Service line: we answer within the hour");
  EXPECT_EQ(r.value->campaigns[0].auto_ack, "Thanks, the spring team answers soon");
  EXPECT_EQ(r.value->campaigns[1].auto_ack, "");
  // Nothing configured: no acknowledgement at all.
  auto none = load(R"(smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
)");
  ASSERT_TRUE(none.value) << all(none);
  EXPECT_TRUE(none.value->two_way.auto_ack.text.empty());
  EXPECT_EQ(none.value->two_way.auto_ack.period, std::chrono::hours(24));

  auto bad = load(R"(smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
campaigns:
  - { id: spring, recipients: spring.csv, from: A, text: t, auto_ack: "" }
two_way:
  auto_ack:
    text: ""
    period: 0s
    loop_guard: soon
    numbers: { "+37060000100": a, "0037060000100": b, ACME: c, "+37060000101": "" }
    every: 1h
)");
  ASSERT_FALSE(bad.value);
  const std::string text = all(bad);
  EXPECT_NE(text.find("smppd.yaml:4:71: campaigns[0].auto_ack: empty text"), std::string::npos) << text;
  EXPECT_NE(text.find("smppd.yaml:7:11: two_way.auto_ack.text: empty text"), std::string::npos) << text;
  EXPECT_NE(text.find("smppd.yaml:8:13: two_way.auto_ack.period: expected a duration above zero"), std::string::npos)
      << text;
  EXPECT_NE(text.find("smppd.yaml:9:17: two_way.auto_ack.loop_guard: expected a duration"), std::string::npos) << text;
  EXPECT_NE(text.find("smppd.yaml:10:35: two_way.auto_ack.numbers.0037060000100: the same number as \"+37060000100\""),
            std::string::npos) << text;
  EXPECT_NE(text.find("smppd.yaml:10:55: two_way.auto_ack.numbers.ACME: expected a number of ours"), std::string::npos)
      << text;
  EXPECT_NE(text.find("smppd.yaml:10:80: two_way.auto_ack.numbers.+37060000101: empty text"), std::string::npos)
      << text;
  EXPECT_NE(text.find("smppd.yaml:11:5: two_way.auto_ack.every: unknown key \"every\""), std::string::npos) << text;
  EXPECT_EQ(bad.errors.size(), 8u) << text;
}

TEST_F(config_files, reads_message_events_and_a_campaign_delivery_deadline) {
  write("c.csv", "msisdn\n+15550001\n");
  auto r = load(R"(smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
campaigns:
  - { id: c1, recipients: c.csv, from: ACME, text: hi, deliver_within: 5m }
  - { id: c2, recipients: c.csv, from: ACME, text: hi }
two_way:
  webhooks:
    - { name: ops, url: "http://h/x", events: [delivered, failed, undelivered_by_deadline], campaigns: [c1] }
)");
  ASSERT_TRUE(r.value) << all(r);
  EXPECT_EQ(r.value->campaigns[0].deliver_within, std::chrono::minutes(5));
  EXPECT_EQ(r.value->campaigns[1].deliver_within, std::chrono::milliseconds(0));  // none by default
  using config::webhook_event;
  EXPECT_EQ(r.value->two_way.webhooks[0].events,
            (std::vector<webhook_event>{webhook_event::delivered, webhook_event::failed,
                                        webhook_event::undelivered_by_deadline}));

  auto bad = load(R"(smscs: [{ name: a, host: h, system_id: s }]
operators: [{ name: o, prefixes: ["+1"], smscs: [a] }]
campaigns:
  - { id: c1, recipients: c.csv, from: ACME, text: hi, deliver_within: soon }
)");
  const std::string text = all(bad);
  EXPECT_NE(text.find("smppd.yaml:4:72: campaigns[0].deliver_within: expected a duration"), std::string::npos) << text;
}

TEST_F(config_files, an_empty_file_says_what_is_needed) {
  auto r = load("");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("empty"), std::string::npos);
}

// A table of broken configurations, one mistake each: every class of
// error is reported once, as FILE:LINE:COLUMN: KEY: WHAT, pointing at the
// mistake (the value, or the mapping that lacks a key).
struct broken_config {
  const char* what;
  const char* yaml;  // after the valid lines below, unless it replaces them
  const char* error;    // {dir}: the configuration's directory
  bool whole = false;  // the yaml is the whole file
};

const char* const valid_head = "smscs: [{ name: a, host: h, system_id: s }]\n"
                               "operators: [{ name: o, prefixes: [\"+1\"], smscs: [a] }]\n";

const broken_config broken_configs[] = {
    {"broken YAML", "smscs:\n  - name: a\n    host: [unclosed\n",
     "smppd.yaml:4:1: not valid YAML: end of sequence flow not found", true},
    {"not a mapping", "node: 5\n",
     "smppd.yaml:3:7: node: expected a mapping of keys to values"},
    {"unknown top-level key", "nodes: { data_dir: d }\n",
     "smppd.yaml:3:1: nodes: unknown key \"nodes\" (did you mean \"node\"?)"},
    {"unknown key, with a suggestion", "node: { dta_dir: d }\n",
     "smppd.yaml:3:9: node.dta_dir: unknown key \"dta_dir\" (did you mean \"data_dir\"?)"},
    {"not a number", "smscs: [{ name: a, host: h, system_id: s, port: http }]\n",
     "smppd.yaml:1:49: smscs[0].port: expected a whole number from 1 to 65535, got \"http\"", true},
    {"number out of range", "smscs: [{ name: a, host: h, system_id: s, window: 0 }]\n",
     "smppd.yaml:1:51: smscs[0].window: expected a whole number from 1 to 10000, got \"0\"", true},
    {"not one of the choices", "node: { sync: sometimes }\n",
     "smppd.yaml:3:15: node.sync: expected always, never or every_<duration> (every_10ms), got \"sometimes\""},
    {"a required key missing", "smscs: [{ name: a, system_id: s }]\noperators: [{ name: o, prefixes: [\"+1\"], smscs: [a] }]\n",
     "smppd.yaml:1:9: smscs[0].host: missing (required)", true},
    {"a duplicate name", "smscs: [{ name: a, host: h, system_id: s }, { name: a, host: h, system_id: s }]\noperators: [{ name: o, prefixes: [\"+1\"], smscs: [a] }]\n",
     "smppd.yaml:1:53: smscs[1].name: duplicate SMSC name \"a\"", true},
    {"an operator's SMSCs encoding texts differently",
     "smscs: [{ name: a, host: h, system_id: s }, { name: b, host: h, system_id: s, long_messages: sar }]\n"
     "operators: [{ name: o, prefixes: [\"+1\"], smscs: [a, b] }]\n",
     "smppd.yaml:2:53: operators[0].smscs[1]: SMSC \"b\" differs from \"a\" in long_messages: texts are encoded "
     "once for the operator, so its SMSCs must agree on long_messages, gsm7_packing and data_coding_0",
     true},
    {"a name that refers to nothing", "default_operator: nobody\n",
     "smppd.yaml:3:19: default_operator: no operator named \"nobody\""},
    {"a bad prefix", "smscs: [{ name: a, host: h, system_id: s }]\noperators: [{ name: o, prefixes: [\"3706\"], smscs: [a] }]\n",
     "smppd.yaml:2:35: operators[0].prefixes[0]: expected '+' and digits, got \"3706\"", true},
    {"a prefix twice", "smscs: [{ name: a, host: h, system_id: s }]\noperators: [{ name: o, prefixes: [\"+1\"], smscs: [a] }, { name: p, prefixes: [\"+1\"], smscs: [a] }]\n",
     "smppd.yaml:2:78: operators[1].prefixes[0]: prefix +1 already belongs to operator \"o\"", true},
    {"an environment variable not set", "smscs: [{ name: a, host: h, system_id: s, password: \"${SMPPD_TEST_UNSET}\" }]\noperators: [{ name: o, prefixes: [\"+1\"], smscs: [a] }]\n",
     "smppd.yaml:1:53: smscs[0].password: environment variable SMPPD_TEST_UNSET is not set", true},
    {"a secret in two places", "smscs: [{ name: a, host: h, system_id: s, password: x, password_file: pw }]\noperators: [{ name: o, prefixes: [\"+1\"], smscs: [a] }]\n",
     "smppd.yaml:1:71: smscs[0].password_file: give password or password_file, not both", true},
    {"a secret file that cannot be read", "smscs: [{ name: a, host: h, system_id: s, password_file: nothere }]\noperators: [{ name: o, prefixes: [\"+1\"], smscs: [a] }]\n",
     "smppd.yaml:1:58: smscs[0].password_file: cannot read \"{dir}/nothere\"", true},
    {"a secret too long (not echoed)", "smscs: [{ name: a, host: h, system_id: s, password: hunter2-too-long }]\noperators: [{ name: o, prefixes: [\"+1\"], smscs: [a] }]\n",
     "smppd.yaml:1:53: smscs[0].password: at most 8 characters (SMPP 3.4)", true},
    {"a bad duration", "campaigns: [{ id: c, recipients: spring.csv, from: ACME, text: hi, validity: forever }]\n",
     "smppd.yaml:3:78: campaigns[0].validity: expected a duration such as 500ms, 30s, 5m, 24h or 7d, got \"forever\""},
    {"a bad time of day", "campaigns: [{ id: c, recipients: spring.csv, from: ACME, text: hi, send_window: { start: 9am, end: \"20:00\", timezone: UTC } }]\n",
     "smppd.yaml:3:90: campaigns[0].send_window.start: expected a time of day HH:MM, got \"9am\""},
    {"an unknown time zone", "numbering: { default_time_zone: Mars/Olympus }\n",
     "smppd.yaml:3:33: numbering.default_time_zone: unknown time zone \"Mars/Olympus\" (expected an IANA name such as Europe/Vilnius)"},
    {"a broken template", "campaigns: [{ id: c, recipients: spring.csv, from: ACME, text: \"Hi {{name\" }]\n",
     "smppd.yaml:3:64: campaigns[0].text: unterminated {{ at character 4"},
    {"a recipients file missing", "campaigns: [{ id: c, recipients: nothere.csv, from: ACME, text: hi }]\n",
     "smppd.yaml:3:34: campaigns[0].recipients: no such file \"{dir}/nothere.csv\""},
    {"an address that is not one", "api: { listen: \"localhost-8080\" }\n",
     "smppd.yaml:3:16: api.listen: expected HOST:PORT such as 127.0.0.1:8080 or [::1]:8080, got \"localhost-8080\""},
    {"an API off loopback without tokens", "api: { listen: \"0.0.0.0:8080\" }\n",
     "smppd.yaml:3:16: api.listen: listening on \"0.0.0.0\" (not loopback) needs api.tokens_file"},
    {"an unknown log level", "logging: { level: loud }\n",
     "smppd.yaml:3:19: logging.level: expected one of error, warn, info, debug, got \"loud\""},
    {"retries out of range", "retry: { attempts: 0 }\n",
     "smppd.yaml:3:20: retry.attempts: expected a whole number from 1 to 100, got \"0\""},
    {"a retry delay too short", "retry: { first_delay: 10ms }\n",
     "smppd.yaml:3:23: retry.first_delay: expected 100ms to 24h, got \"10ms\""},
    {"retry delays the wrong way round", "retry: { first_delay: 1m, max_delay: 30s }\n",
     "smppd.yaml:3:38: retry.max_delay: expected at least first_delay (1m), got \"30s\""},
};

TEST_F(config_files, names_each_class_of_mistake_with_its_place) {
  unsetenv("SMPPD_TEST_UNSET");
  write("pw", "abc\n");
  for (const auto& c : broken_configs) {
    SCOPED_TRACE(c.what);
    const std::string yaml = c.whole ? std::string(c.yaml) : std::string(valid_head) + c.yaml;
    auto r = load(yaml);
    EXPECT_FALSE(r.value);
    ASSERT_EQ(r.errors.size(), 1u) << all(r);
    const auto& e = r.errors[0];
    EXPECT_EQ(e.file, "smppd.yaml");
    EXPECT_GT(e.line, 0);
    EXPECT_GT(e.column, 0);
    std::string expected = c.error;
    if (const auto at = expected.find("{dir}"); at != std::string::npos) expected.replace(at, 5, dir.string());
    EXPECT_EQ(e.to_string(), expected);
    EXPECT_EQ(e.to_string().find("hunter2"), std::string::npos);
  }
}

TEST_F(config_files, retries_five_times_from_2s_doubling_up_to_5m_unless_told_otherwise) {
  auto r = load(std::string(valid_head));
  ASSERT_TRUE(r.value) << all(r);
  EXPECT_EQ(r.value->retry, (config::retry_config{5, 2s, 5min}));
  r = load(std::string(valid_head) + "retry: { attempts: 1 }\n");
  ASSERT_TRUE(r.value) << all(r);
  EXPECT_EQ(r.value->retry, (config::retry_config{1, 2s, 5min}));
  // A first delay above the default longest one needs max_delay as well.
  r = load(std::string(valid_head) + "retry: { first_delay: 10m }\n");
  ASSERT_EQ(r.errors.size(), 1u) << all(r);
  EXPECT_EQ(r.errors[0].to_string(),
            "smppd.yaml:3:8: retry.max_delay: expected at least first_delay (10m), got 5m (the default)");
  r = load(std::string(valid_head) + "retry: { first_delay: 10m, max_delay: 10m }\n");
  ASSERT_TRUE(r.value) << all(r);
  EXPECT_EQ(r.value->retry, (config::retry_config{5, 10min, 10min}));
}

TEST(config_durations, parse_one_number_and_one_unit) {
  EXPECT_EQ(config::parse_duration("1500ms"), 1500ms);
  EXPECT_EQ(config::parse_duration("30s"), 30s);
  EXPECT_EQ(config::parse_duration("5m"), 5min);
  EXPECT_EQ(config::parse_duration("24h"), 24h);
  EXPECT_EQ(config::parse_duration("7d"), std::chrono::hours(168));
  EXPECT_FALSE(config::parse_duration("10"));
  EXPECT_FALSE(config::parse_duration("h"));
  EXPECT_FALSE(config::parse_duration("-5s"));
  EXPECT_FALSE(config::parse_duration("5 s"));
  EXPECT_FALSE(config::parse_duration("99999999999999d"));
}

}  // namespace
