// Command-line plumbing shared by the binaries' main()s: --help and
// --version, and a tiny option reader. Single-threaded, startup only.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smppd::cli {

// Prints `usage` for --help / -h or the version for --version and returns
// the exit code to leave with; nullopt when neither flag was given.
std::optional<int> common_flags(int argc, char** argv, std::string_view program,
                                std::string_view usage);

// argv[first..] as views.
std::vector<std::string_view> args(int argc, char** argv, int first);

}  // namespace smppd::cli
