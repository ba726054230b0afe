#include "logging/logger.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/logfmt.hpp"

namespace {

using namespace std::chrono_literals;
using logging::component;
using logging::level;
using smppd::test::parse_logfmt;

// 2026-12-07T01:02:03.456Z
const auto when = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796605323456));

std::string as_written(std::string_view v) {
  std::string out;
  logging::append_quoted(out, v);
  return out;
}

// Restores the default levels and output after each test.
class logger : public ::testing::Test {
 protected:
  void TearDown() override {
    logging::set_levels({});
    logging::set_output(STDERR_FILENO);
  }
};

TEST_F(logger, writes_time_level_component_fields_and_the_message_last) {
  const std::string line = logging::format(component::smsc, level::info, "bound as transceiver",
                                           {{"smsc", "opa-1"}, {"bind", 2u}}, when);
  EXPECT_EQ(line,
            "ts=2026-12-07T01:02:03.456Z level=info component=smsc smsc=opa-1 bind=2 msg=\"bound as transceiver\"\n");
}

TEST_F(logger, writes_every_kind_of_value) {
  const std::string line =
      logging::format(component::dispatch, level::warn, "x",
                      {{"neg", -5}, {"big", std::uint64_t{18446744073709551615ull}}, {"rate", 120.5}, {"ok", true},
                       {"no", false}, {"error", std::make_error_code(std::errc::connection_refused)},
                       {"s", std::string("a b")}},
                      when);
  auto f = parse_logfmt(line.substr(0, line.size() - 1));
  ASSERT_TRUE(f) << line;
  EXPECT_EQ((*f)["neg"], "-5");
  EXPECT_EQ((*f)["big"], "18446744073709551615");
  EXPECT_EQ((*f)["rate"], "120.5");
  EXPECT_EQ((*f)["ok"], "true");
  EXPECT_EQ((*f)["no"], "false");
  EXPECT_EQ((*f)["error"], std::make_error_code(std::errc::connection_refused).message());
  EXPECT_EQ((*f)["s"], "a b");
  EXPECT_EQ((*f)["msg"], "x");
}

TEST_F(logger, leaves_plain_values_bare_and_quotes_the_others) {
  struct row {
    std::string_view value, written;
  };
  const row rows[] = {
      {"opa-1", "opa-1"},
      {"127.0.0.1:2775", "127.0.0.1:2775"},
      {"Łaba", "Łaba"},  // UTF-8 passes as it is
      {"", "\"\""},
      {"a b", "\"a b\""},
      {"k=v", "\"k=v\""},
      {"say \"hi\"", "\"say \\\"hi\\\"\""},
      {"C:\\dir", "\"C:\\\\dir\""},
      {"two\nlines", "\"two\\nlines\""},
      {"cr\rtab\t", "\"cr\\rtab\\t\""},
      {std::string_view("nul\0bel\a", 8), "\"nul\\u0000bel\\u0007\""},
      {"esc\x1b[31m", "\"esc\\u001b[31m\""},
      {"del\x7f", "\"del\\u007f\""},
  };
  for (const auto& r : rows) EXPECT_EQ(as_written(r.value), r.written) << r.value;
}

TEST_F(logger, quoted_values_read_back_as_written) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  const std::string line = logging::format(component::api, level::error, all, {{"v", all}}, when);
  ASSERT_EQ(line.find('\n'), line.size() - 1) << "a raw newline inside the line";
  auto f = parse_logfmt(line.substr(0, line.size() - 1));
  ASSERT_TRUE(f) << line;
  EXPECT_EQ((*f)["v"], all);
  EXPECT_EQ((*f)["msg"], all);
}

TEST_F(logger, always_quotes_the_message) {
  const std::string line = logging::format(component::main, level::info, "stopped", {}, when);
  EXPECT_NE(line.find(" msg=\"stopped\"\n"), std::string::npos) << line;
}

TEST_F(logger, cuts_a_long_value_on_a_character_boundary) {
  std::string v(logging::max_value_size - 1, 'a');
  v += "ééé";  // a two-octet character straddles the limit
  const std::string q = as_written(v);
  EXPECT_EQ(q, "\"" + std::string(logging::max_value_size - 1, 'a') + "...\"");
}

TEST_F(logger, names_and_parses_levels_and_components) {
  for (auto l : {level::error, level::warn, level::info, level::debug})
    EXPECT_EQ(logging::parse_level(logging::name(l)), l);
  for (std::size_t i = 0; i < logging::component_count; ++i) {
    const auto c = static_cast<component>(i);
    EXPECT_EQ(logging::parse_component(logging::name(c)), c);
    EXPECT_NE(logging::component_names().find(logging::name(c)), std::string_view::npos);
  }
  EXPECT_FALSE(logging::parse_level("verbose"));
  EXPECT_FALSE(logging::parse_level("INFO"));
  EXPECT_FALSE(logging::parse_component("smscs"));
}

TEST_F(logger, filters_by_level_with_a_level_per_component) {
  logging::levels l;
  l.base = level::warn;
  l.by_component[static_cast<std::size_t>(component::smsc)] = level::debug;
  l.by_component[static_cast<std::size_t>(component::api)] = level::error;
  logging::set_levels(l);
  EXPECT_EQ(logging::current_levels(), l);
  EXPECT_TRUE(logging::enabled(component::smsc, level::debug));
  EXPECT_TRUE(logging::enabled(component::dispatch, level::warn));
  EXPECT_FALSE(logging::enabled(component::dispatch, level::info));
  EXPECT_TRUE(logging::enabled(component::api, level::error));
  EXPECT_FALSE(logging::enabled(component::api, level::warn));
  EXPECT_TRUE(logging::enabled(component::main, level::error));
}

// Counts how often a message is made: formatting an error_code calls it.
class counting_category : public std::error_category {
 public:
  mutable int messages = 0;
  const char* name() const noexcept override { return "counting"; }
  std::string message(int) const override {
    ++messages;
    return "counted";
  }
};

TEST_F(logger, formats_nothing_for_a_level_that_is_off) {
  counting_category category;
  logging::set_levels({});  // info
  logging::debug(component::dispatch, "part failed", {{"error", std::error_code(1, category)}, {"message", 7u}});
  EXPECT_EQ(category.messages, 0);
  EXPECT_EQ(logging::format(component::dispatch, level::debug, "x", {{"error", std::error_code(1, category)}}, when),
            "ts=2026-12-07T01:02:03.456Z level=debug component=dispatch error=counted msg=\"x\"\n");
  EXPECT_EQ(category.messages, 1);
}

// The lines written to a memory file, read back.
class captured : public logger {
 protected:
  int fd = -1;
  void SetUp() override {
    fd = memfd_create("logger_test", MFD_CLOEXEC);
    ASSERT_GE(fd, 0);
    logging::set_output(fd);
  }
  void TearDown() override {
    logger::TearDown();
    close(fd);
  }
  std::string drain() {
    std::string out;
    char buf[4096];
    lseek(fd, 0, SEEK_SET);
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }
};

TEST_F(captured, writes_only_what_the_levels_let_through) {
  logging::levels l;
  l.base = level::info;
  l.by_component[static_cast<std::size_t>(component::smsc)] = level::debug;
  logging::set_levels(l);
  logging::debug(component::smsc, "shown");
  logging::debug(component::dispatch, "hidden");
  logging::info(component::dispatch, "shown too");
  const std::string out = drain();
  EXPECT_NE(out.find("component=smsc msg=\"shown\""), std::string::npos) << out;
  EXPECT_EQ(out.find("hidden"), std::string::npos) << out;
  EXPECT_NE(out.find("level=info component=dispatch msg=\"shown too\""), std::string::npos) << out;
}

TEST_F(captured, lines_from_many_threads_never_interleave) {
  constexpr int threads = 4, per_thread = 500;
  const std::string payload(300, 'x');
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i)
        logging::info(component::campaign, "row", {{"thread", t}, {"i", i}, {"payload", payload}});
    });
  for (auto& w : workers) w.join();
  const std::string out = drain();
  int lines = 0;
  for (std::size_t at = 0; at < out.size();) {
    const std::size_t nl = out.find('\n', at);
    ASSERT_NE(nl, std::string::npos);
    auto f = parse_logfmt(std::string_view(out).substr(at, nl - at));
    ASSERT_TRUE(f) << out.substr(at, nl - at);
    EXPECT_EQ((*f)["payload"], payload);
    ++lines;
    at = nl + 1;
  }
  EXPECT_EQ(lines, threads * per_thread);
}

}  // namespace
