#include "engine/cli.hpp"

#include <cstdio>

#include "smppd/version.hpp"

namespace smppd::cli {

std::optional<int> common_flags(int argc, char** argv, std::string_view program,
                                std::string_view usage) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fwrite(usage.data(), 1, usage.size(), stdout);
      return 0;
    }
    if (a == "--version") {
      std::printf("%.*s %s\n", static_cast<int>(program.size()), program.data(), version);
      return 0;
    }
  }
  return std::nullopt;
}

std::vector<std::string_view> args(int argc, char** argv, int first) {
  std::vector<std::string_view> v;
  for (int i = first; i < argc; ++i) v.emplace_back(argv[i]);
  return v;
}

}  // namespace smppd::cli
