// The binaries as a user runs them: real processes, real stdin/stdout.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "smppd/version.hpp"

namespace {

struct run_result {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

// Runs a shell command line with the binaries' directory first on PATH.
run_result run(const std::string& command) {
  const std::string line = "PATH='" SMPPD_BIN_DIR "':\"$PATH\"; " + command + " 2>&1";
  run_result r;
  FILE* p = popen(line.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(binaries, each_answers_help_and_version) {
  for (const char* bin : {"smppd", "smppctl", "smsc-sim"}) {
    SCOPED_TRACE(bin);
    const auto help = run(std::string(bin) + " --help");
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("usage: " + std::string(bin)), std::string::npos) << help.out;
    const auto version = run(std::string(bin) + " --version");
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_EQ(version.out, std::string(bin) + " " + smppd::version + "\n");
  }
}

TEST(smppctl_encode, prints_a_summary_for_a_gsm_text) {
  const auto r = run("printf 'Hello world' | smppctl encode");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("encoding:   gsm7 (data_coding 0x00)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("segments:   1"), std::string::npos) << r.out;
}

TEST(smppctl_encode, says_what_forced_ucs2) {
  const auto r = run("printf 'Code 1234, \\320\\266' | smppctl encode");  // "ж" at character 12
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("ucs2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(U+0436) at character 12"), std::string::npos) << r.out;
}

TEST(smppctl_encode, prints_json_with_encoding_segments_and_parts) {
  // 161 GSM characters: two parts of 153 + 8 septets with an 8-bit UDH.
  const auto r = run("printf '%0161d' 0 | smppctl encode --json --reference 66");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("{\"encoding\":\"gsm7\",\"data_coding\":0,\"segments\":2,", 0), 0u)
      << r.out;
  auto septets = [](std::size_t n) {  // '0' is septet 0x30
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += "30";
    return s;
  };
  EXPECT_NE(r.out.find("{\"udh\":\"050003420201\",\"payload\":\"" + septets(153) + "\""),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("{\"udh\":\"050003420202\",\"payload\":\"" + septets(8) +
                       "\",\"units\":8"),
            std::string::npos)
      << r.out;
}

TEST(smppctl_encode, json_reports_ucs2_for_cyrillic) {
  const auto r = run("printf '\\320\\224\\320\\260' | smppctl encode --json");  // "Да"
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("\"encoding\":\"ucs2\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"payload\":\"04140430\""), std::string::npos) << r.out;
}

TEST(smppctl_encode, rejects_invalid_utf8_naming_the_byte) {
  const auto r = run("printf 'ab\\377c' | smppctl encode");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "smppctl encode: invalid UTF-8 at byte 2\n");
}

TEST(smppctl_encode, refuses_a_text_of_more_than_255_parts) {
  const auto r = run("printf '%039169d' 0 | smppctl encode");  // 256 * 153 + 1 septets
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "smppctl encode: the text needs 257 parts; at most 255 are possible\n");
}

TEST(smppctl_encode, names_a_bad_option) {
  const auto r = run("printf 'x' | smppctl encode --long udh9");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out,
            "smppctl encode: --long: expected udh8, udh16, sar or payload, got 'udh9'\n");
}

TEST(smppctl_encode, uses_national_tables_only_when_asked) {
  // "ş" (U+015F) is not GSM-7; the Turkish single shift table has it.
  const auto plain = run("printf 'Giri\\305\\237' | smppctl encode --json");
  EXPECT_NE(plain.out.find("\"encoding\":\"ucs2\""), std::string::npos) << plain.out;
  const auto turkish = run("printf 'Giri\\305\\237' | smppctl encode --json --national turkish");
  EXPECT_NE(turkish.out.find("\"encoding\":\"gsm7\""), std::string::npos) << turkish.out;
  EXPECT_NE(turkish.out.find("\"single_shift\":\"turkish\""), std::string::npos) << turkish.out;
}

TEST(smppd, without_arguments_prints_usage_and_fails) {
  const auto r = run("smppd");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("usage: smppd"), std::string::npos);
}

TEST(smppd, check_config_accepts_the_shipped_example) {
  const auto r = run("OPA_PASSWORD=x smppd --check-config '" SMPPD_SOURCE_DIR "/deploy/examples/smppd.yaml'");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("OK (2 SMSCs, 1 operator, 1 campaign)"), std::string::npos) << r.out;
}

TEST(smppd, check_config_lists_every_error_and_fails) {
  char path[] = "/tmp/smppd-cli-test-XXXXXX.yaml";
  const int fd = mkstemps(path, 5);
  ASSERT_GE(fd, 0);
  const std::string yaml =
      "smscs:\n  - {name: a, host: h, system_id: s, port: 99999}\n"
      "operators: [{name: o, prefixes: [\"370\"], smscs: [a]}]\n";
  ASSERT_EQ(write(fd, yaml.data(), yaml.size()), static_cast<ssize_t>(yaml.size()));
  close(fd);
  const auto r = run(std::string("smppd --check-config ") + path);
  std::remove(path);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find(":2:44: smscs[0].port: expected a whole number from 1 to 65535"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("operators[0].prefixes[0]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 errors"), std::string::npos) << r.out;
}

}  // namespace
