// smsc-sim: an SMSC simulator for demos, tests and benchmarks. main() reads
// the flags, starts smpp::smsc_sim, handles signals (SIGTERM / SIGINT: write
// the counts and leave; SIGUSR1: write the counts) and --duration.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <fstream>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "engine/cli.hpp"
#include "engine/sim_options.hpp"

namespace {

// Writes `text` to FILE.tmp, then renames it over FILE, so that a reader
// never sees half a file.
bool write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

void write_counts(const smppd::sim_options& o, const smpp::smsc_sim& sim) {
  if (o.counts_file.empty()) return;
  if (!write_atomically(o.counts_file, sim.counts_json()))
    std::fprintf(stderr, "smsc-sim: cannot write --counts-file %s\n", o.counts_file.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (auto rc = smppd::cli::common_flags(argc, argv, "smsc-sim", smppd::sim_usage())) return *rc;
  const auto args = smppd::cli::args(argc, argv, 1);
  auto parsed = smppd::parse_sim_options(args);
  if (!parsed.ok()) {
    std::fprintf(stderr, "smsc-sim: %s\n(smsc-sim --help lists the options)\n",
                 parsed.error.c_str());
    return 2;
  }
  smppd::sim_options& o = parsed.options;
  if (!o.mo_script_file.empty()) {
    std::vector<smpp::sim_mo> script;
    std::string error;
    if (!smppd::load_mo_script(o.mo_script_file, o.server.mo_encoding, script, error)) {
      std::fprintf(stderr, "smsc-sim: %s\n", error.c_str());
      return 1;
    }
    o.server.mo_script = std::move(script);
  }

  smpp::smsc_sim sim(o.server);
  // Signals are caught before the "listening" line: a test that reads the
  // line and signals at once must find them handled.
  boost::asio::signal_set stop_signals(sim.control_context(), SIGTERM, SIGINT);
  stop_signals.async_wait([&sim](const boost::system::error_code& ec, int) {
    if (!ec) sim.stop();
  });
  boost::asio::signal_set count_signal(sim.control_context(), SIGUSR1);
  std::function<void()> wait_usr1 = [&] {
    count_signal.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      write_counts(o, sim);
      wait_usr1();
    });
  };
  wait_usr1();

  std::string what;
  if (sim.start(what)) {
    std::fprintf(stderr, "smsc-sim: %s\n", what.c_str());
    return 1;
  }
  if (!o.port_file.empty() && !write_atomically(o.port_file, std::to_string(sim.port()) + "\n")) {
    std::fprintf(stderr, "smsc-sim: cannot write --port-file %s\n", o.port_file.c_str());
    return 1;
  }
  std::printf("smsc-sim listening on %s\n", sim.listening_address().c_str());
  std::fflush(stdout);

  boost::asio::steady_timer duration(sim.control_context());
  if (o.duration.count() > 0) {
    duration.expires_after(o.duration);
    duration.async_wait([&sim](const boost::system::error_code& ec) {
      if (!ec) sim.stop();
    });
  }
  sim.run();
  write_counts(o, sim);
  return 0;
}
