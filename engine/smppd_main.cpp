// smppd: the SMPP bulk messaging daemon.
#include <cstdio>

#include "engine/cli.hpp"

namespace {
constexpr std::string_view usage =
    "usage: smppd [--help] [--version]\n"
    "\n"
    "smppd is an SMPP 3.4 engine for bulk campaigns, notifications and two-way SMS.\n"
    "This build contains the protocol codec and the text encoder; try\n"
    "  echo 'Hello' | smppctl encode\n"
    "The daemon (--config FILE) arrives with the engine.\n";
}

int main(int argc, char** argv) {
  if (auto rc = smppd::cli::common_flags(argc, argv, "smppd", usage)) return *rc;
  std::fputs(usage.data(), stderr);
  return 2;
}
