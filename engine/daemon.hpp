// The daemon: wires the configuration into a running engine.
//
//   message log (RocksDB, writer thread) + recovery of open messages
//   reconciler and dispatcher on one io_context thread (all binds)
//   one thread per campaign (campaign_runner)
//
// SIGHUP reads the configuration file again and applies what can change
// while running: SMSCs (added, removed, or reconnected when their
// connection settings changed; the binds of the others stay up), rates,
// operators and routes, numbering, campaigns (campaigns.hpp). A file with
// errors changes nothing (each error is logged). node, api and metrics
// take effect at the next start; logging levels change at once.
//
// Logs (logging/logger.hpp): start, stop, listening endpoints, recovery,
// reloads (each change one line) at info; the dispatcher logs the binds.
//
// run() blocks until SIGTERM/SIGINT (or, with `once`, until every
// configured campaign is read to its end and its messages are settled or
// the receipt wait passed), then stops gracefully: campaigns stop reading,
// the binds drain their windows and unbind, the log writes what it holds.
// With `once` it prints each campaign's delivery report before leaving.
#pragma once

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "config/config.hpp"
#include "logging/logger.hpp"

namespace engine {

struct daemon_options {
  bool once = false;
  // With `once`: how long to wait for receipts after the last submit.
  std::chrono::seconds receipt_wait{60};
  std::FILE* report_to = stdout;
  std::filesystem::path config_file;  // read again on SIGHUP; empty: no reload
  // --log-level: every component at this level, whatever the file's
  // `logging` section says (also after a reload).
  std::optional<logging::level> log_level;
};

// Returns the process exit code (0 after a clean stop).
int run_daemon(const config::settings& settings, const daemon_options& options);

}  // namespace engine
