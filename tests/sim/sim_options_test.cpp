// smsc-sim's command line (engine/sim_options.hpp): defaults, every flag's
// translation, errors that name the flag and value, the MO script reader,
// and a --help that lists every flag.
#include "engine/sim_options.hpp"

#include <gtest/gtest.h>

#include "tests/sim/sim_harness.hpp"

namespace {

using namespace std::chrono_literals;
using smppd::parse_sim_options;

smppd::sim_options_result parse(std::vector<std::string_view> args) {
  return parse_sim_options(args);
}

TEST(sim_options, defaults_match_the_help) {
  const auto r = parse({});
  ASSERT_TRUE(r.ok()) << r.error;
  const auto& s = r.options.server;
  EXPECT_EQ(s.listen_host, "127.0.0.1");
  EXPECT_EQ(s.listen_port, 2775);
  EXPECT_EQ(s.threads, 1u);
  EXPECT_FALSE(s.system_id);
  EXPECT_EQ(s.id_format, smpp::sim_id_format::decimal);
  EXPECT_EQ(s.receipt_delay, 0ms);
  EXPECT_TRUE(s.receipt_mix.empty());
  EXPECT_TRUE(s.answer_enquire_link);
  EXPECT_EQ(s.receipt_queue_limit, 100000u);
  EXPECT_EQ(r.options.duration, 0ms);
}

TEST(sim_options, translates_every_flag) {
  const auto r = parse({"--listen", "[::1]:0", "--port-file", "p", "--tls-cert", "c", "--tls-key",
                        "k", "--threads", "2", "--system-id", "acme", "--password", "pw",
                        "--max-binds", "3", "--stale-bind-seconds", "1.5",
                        "--enquire-link-seconds", "30", "--id-format", "HEX", "--resp-delay",
                        "20", "--tps-cap", "100", "--reject", "0.1:0x0B", "--reject",
                        "0.2:ESME_RTHROTTLED", "--count-destinations", "--arrivals-file", "a.txt",
                        "--arrivals-prefix", "3707", "--receipt-delay=250",
                        "--receipt-mix", "DELIVRD=90,UNDELIV=10", "--receipt-before-resp", "0.5",
                        "--receipt-queue", "7", "--seed", "42", "--drop-after", "9",
                        "--drop-every", "60", "--no-enquire-link-resp", "--mo-script", "m.txt",
                        "--mo-rate", "2.5", "--mo-text", "hi {n}", "--mo-from", "4477",
                        "--mo-to", "555", "--mo-count", "4", "--mo-encoding", "ucs2",
                        "--mo-inject-dir", "inject", "--mo-redeliver",
                        "--counts-file", "c.json", "--duration", "0.25"});
  ASSERT_TRUE(r.ok()) << r.error;
  const auto& o = r.options;
  const auto& s = o.server;
  EXPECT_EQ(s.listen_host, "::1");
  EXPECT_EQ(s.mo_inject_dir, "inject");
  EXPECT_TRUE(s.mo_redeliver);
  EXPECT_EQ(s.listen_port, 0);
  EXPECT_EQ(o.port_file, "p");
  EXPECT_EQ(s.tls_cert_file, "c");
  EXPECT_EQ(s.tls_key_file, "k");
  EXPECT_EQ(s.threads, 2u);
  EXPECT_EQ(s.system_id, "acme");
  EXPECT_EQ(s.password, "pw");
  EXPECT_EQ(s.max_binds, 3u);
  EXPECT_EQ(s.stale_bind_hold, 1500ms);
  EXPECT_EQ(s.enquire_link_interval, 30s);
  EXPECT_EQ(s.id_format, smpp::sim_id_format::hex_upper);
  EXPECT_EQ(s.resp_delay, 20ms);
  EXPECT_EQ(s.tps_cap, 100u);
  ASSERT_EQ(s.rejects.size(), 2u);
  EXPECT_EQ(s.rejects[0].status, smpp::command_status::ESME_RINVDSTADR);
  EXPECT_DOUBLE_EQ(s.rejects[1].fraction, 0.2);
  EXPECT_EQ(s.rejects[1].status, smpp::command_status::ESME_RTHROTTLED);
  EXPECT_TRUE(s.count_destinations);
  EXPECT_EQ(s.arrivals_file, "a.txt");
  EXPECT_EQ(s.arrivals_prefix, "3707");
  EXPECT_EQ(s.receipt_delay, 250ms);
  ASSERT_EQ(s.receipt_mix.size(), 2u);
  EXPECT_EQ(s.receipt_mix[1].state, smpp::message_state::undeliverable);
  EXPECT_EQ(s.receipt_mix[1].weight, 10u);
  EXPECT_DOUBLE_EQ(s.receipt_before_resp, 0.5);
  EXPECT_EQ(s.receipt_queue_limit, 7u);
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.drop_after, 9u);
  EXPECT_EQ(s.drop_every, 60s);
  EXPECT_FALSE(s.answer_enquire_link);
  EXPECT_EQ(o.mo_script_file, "m.txt");
  EXPECT_DOUBLE_EQ(s.mo_rate, 2.5);
  EXPECT_EQ(s.mo_text, "hi {n}");
  EXPECT_EQ(s.mo_from, "4477");
  EXPECT_EQ(s.mo_to, "555");
  EXPECT_EQ(s.mo_count, 4u);
  EXPECT_EQ(s.mo_encoding, smpp::text_encoding::ucs2);
  EXPECT_EQ(o.counts_file, "c.json");
  EXPECT_EQ(o.duration, 250ms);
}

struct bad_case {
  std::vector<std::string_view> args;
  std::string_view error;  // the whole message
};

TEST(sim_options, names_the_flag_and_value_at_fault) {
  const bad_case cases[] = {
      {{"--tps-cap", "many"}, "--tps-cap: 'many' is not a whole number"},
      {{"--threads", "0"}, "--threads: '0' is out of range 1..64"},
      {{"--listen", "2775"}, "--listen: '2775' is not HOST:PORT"},
      {{"--listen", "example.org:2775"},
       "--listen: 'example.org:2775' does not start with an IP address (IPv6 in brackets)"},
      {{"--listen", "::1:2775"},
       "--listen: '::1:2775' does not start with an IP address (IPv6 in brackets)"},
      {{"--listen", "127.0.0.1:70000"}, "--listen: '127.0.0.1:70000' does not end with a port 0..65535"},
      {{"--listen"}, "--listen: needs a value"},
      {{"--reject", "0.5"}, "--reject: '0.5' is not FRACTION:STATUS"},
      {{"--reject", "0.5:nothing"},
       "--reject: '0.5:nothing' does not end with a nonzero command_status (0x0B, 11, ESME_RINVDSTADR)"},
      {{"--reject", "0.7:0x0B", "--reject", "0.5:0x45"},
       "--reject: '0.5:0x45' makes the fractions add up to more than 1"},
      {{"--receipt-mix", "DELIVERED=1"},
       "--receipt-mix: 'DELIVERED' is not DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN or ACCEPTD"},
      {{"--receipt-mix", "DELIVRD=x"}, "--receipt-mix: 'DELIVRD=x' does not end with a whole-number weight"},
      {{"--receipt-before-resp", "1.5"}, "--receipt-before-resp: '1.5' is not a fraction between 0 and 1"},
      {{"--drop-every", "-1"}, "--drop-every: '-1' is not a non-negative number"},
      {{"--id-format", "octal"}, "--id-format: 'octal' is not decimal, hex or HEX"},
      {{"--mo-encoding", "latin1"}, "--mo-encoding: 'latin1' is not gsm7, ucs2 or auto"},
      {{"--system-id", "a-very-long-system-id"},
       "--system-id: 'a-very-long-system-id' is longer than 15 characters"},
      {{"--tls-cert", "c.pem"}, "--tls-cert: --tls-cert and --tls-key go together"},
      {{"--mo-encoding", "gsm7", "--mo-text", "Привет"},
       "--mo-text: 'Привет' cannot be sent: character not representable in the forced encoding"},
      {{"--count-destinations=yes"}, "--count-destinations: takes no value"},
      {{"--arrivals-prefix", "3707"}, "--arrivals-prefix: needs --arrivals-file"},
      {{"--bogus"}, "unknown option --bogus"},
      {{"stray"}, "unexpected argument 'stray'"},
  };
  for (const auto& c : cases) {
    const auto r = parse(c.args);
    SCOPED_TRACE(std::string(c.args.front()));
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error, c.error);
  }
}

TEST(sim_options, help_lists_every_flag) {
  const std::string_view usage = smppd::sim_usage();
  for (std::string_view flag :
       {"--listen", "--port-file", "--tls-cert", "--tls-key", "--threads", "--system-id",
        "--password", "--max-binds", "--stale-bind-seconds", "--enquire-link-seconds",
        "--id-format", "--resp-delay", "--tps-cap", "--reject", "--count-destinations",
        "--receipt-delay", "--receipt-mix", "--receipt-before-resp", "--receipt-queue", "--seed",
        "--drop-after", "--drop-every", "--no-enquire-link-resp", "--mo-script", "--mo-rate",
        "--mo-text", "--mo-from", "--mo-to", "--mo-count", "--mo-encoding", "--mo-inject-dir",
        "--mo-redeliver", "--counts-file",
        "--duration", "--help", "--version"})
    EXPECT_NE(usage.find(std::string(flag) + " "), std::string_view::npos) << flag;
  EXPECT_TRUE(usage.starts_with("usage: smsc-sim"));
}

TEST(sim_options, reads_an_mo_script_skipping_comments_and_blank_lines) {
  smppd::test::temp_dir dir;
  const std::string path = dir.file("mo.txt");
  smppd::test::write_file(path, "# header\n\n  \n4477 555 Yes please\r\n4478 555   two  spaces\n");
  std::vector<smpp::sim_mo> mos;
  std::string error;
  ASSERT_TRUE(smppd::load_mo_script(path, std::nullopt, mos, error)) << error;
  ASSERT_EQ(mos.size(), 2u);
  EXPECT_EQ(mos[0].from, "4477");
  EXPECT_EQ(mos[0].to, "555");
  EXPECT_EQ(mos[0].text, "Yes please");
  EXPECT_EQ(mos[1].text, "two  spaces");
}

TEST(sim_options, names_the_file_and_line_of_a_bad_mo_script) {
  smppd::test::temp_dir dir;
  const std::string path = dir.file("mo.txt");
  smppd::test::write_file(path, "4477 555 fine\n4477 555\n");
  std::vector<smpp::sim_mo> mos;
  std::string error;
  EXPECT_FALSE(smppd::load_mo_script(path, std::nullopt, mos, error));
  EXPECT_EQ(error, path + ":2: expected FROM TO TEXT");
  EXPECT_FALSE(smppd::load_mo_script(dir.file("missing.txt"), std::nullopt, mos, error));
  EXPECT_EQ(error, "cannot read --mo-script " + dir.file("missing.txt"));
}

}  // namespace
