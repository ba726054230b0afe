// smppd: the SMPP bulk messaging daemon.
#include <cstdio>
#include <string>

#include "config/config.hpp"
#include "engine/cli.hpp"

namespace {
constexpr std::string_view usage =
    "usage: smppd --check-config FILE\n"
    "       smppd [--help] [--version]\n"
    "\n"
    "smppd is an SMPP 3.4 engine for bulk campaigns, notifications and two-way SMS.\n"
    "\n"
    "  --check-config FILE  validate a configuration file: print every error with\n"
    "                       file:line:column and the key, exit 1 if there is any\n"
    "\n"
    "This build contains the protocol codec, the text encoder, the SMPP session\n"
    "layer and the configuration reader; try\n"
    "  echo 'Hello' | smppctl encode\n"
    "The daemon (--config FILE) arrives with the engine.\n";

int check_config(const std::string& file) {
  auto r = config::load_file(file);
  for (const auto& e : r.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!r.value) {
    std::fprintf(stderr, "smppd: %zu error%s in %s\n", r.errors.size(), r.errors.size() == 1 ? "" : "s",
                 file.c_str());
    return 1;
  }
  const auto& s = *r.value;
  std::printf("%s: OK (%zu SMSC%s, %zu operator%s, %zu campaign%s)\n", file.c_str(), s.smscs.size(),
              s.smscs.size() == 1 ? "" : "s", s.operators.size(), s.operators.size() == 1 ? "" : "s",
              s.campaigns.size(), s.campaigns.size() == 1 ? "" : "s");
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  if (auto rc = smppd::cli::common_flags(argc, argv, "smppd", usage)) return *rc;
  auto args = smppd::cli::args(argc, argv, 1);
  if (args.size() == 2 && args[0] == "--check-config") return check_config(std::string(args[1]));
  std::fputs(usage.data(), stderr);
  return 2;
}
