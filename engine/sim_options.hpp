// smsc-sim's command line: the flags, their defaults (sim_usage(), which
// --help prints), and their translation into smpp::smsc_sim_options plus
// the few settings main() itself handles (port file, counts file,
// duration). Also reads the MO script a flag names.
//
// Startup only, single-threaded. Errors are returned as sentences that name
// the flag and value (or file and line) at fault; nothing throws.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smpp/smsc_sim.hpp"

namespace smppd {

struct sim_options {
  smpp::smsc_sim_options server;
  std::string port_file;    // empty: none
  std::string counts_file;  // empty: none
  std::string mo_script_file;
  std::chrono::milliseconds duration{0};  // 0: until signalled
};

struct sim_options_result {
  sim_options options;
  std::string error;  // empty on success
  bool ok() const noexcept { return error.empty(); }
};

// Parses the arguments after the program name (--help and --version are
// handled before, by cli::common_flags). Both "--flag value" and
// "--flag=value" are accepted.
sim_options_result parse_sim_options(std::span<const std::string_view> args);

// Reads an MO script: one MO per line, "FROM TO TEXT...", TEXT running to
// the end of the line; blank lines and lines starting with '#' are
// skipped. Each text is encoded once to check it fits (`encoding` forced
// or automatic). On failure returns false with `error` naming file and line.
bool load_mo_script(const std::string& path, std::optional<smpp::text_encoding> encoding,
                    std::vector<smpp::sim_mo>& out, std::string& error);

// The --help text.
std::string_view sim_usage() noexcept;

}  // namespace smppd
