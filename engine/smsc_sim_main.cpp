// smsc-sim: an SMSC simulator for demos, tests and benchmarks.
#include <cstdio>

#include "engine/cli.hpp"

namespace {
constexpr std::string_view usage =
    "usage: smsc-sim [--help] [--version]\n"
    "\n"
    "smsc-sim simulates an SMSC for smppd's demos, tests and benchmarks.\n"
    "This build contains the protocol codec only; the simulator's listener\n"
    "arrives with the session layer.\n";
}

int main(int argc, char** argv) {
  if (auto rc = smppd::cli::common_flags(argc, argv, "smsc-sim", usage)) return *rc;
  std::fputs(usage.data(), stderr);
  return 2;
}
