// smppd: the SMPP bulk messaging daemon.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config/config.hpp"
#include "engine/cli.hpp"
#include "engine/daemon.hpp"
#include "logging/logger.hpp"

namespace {
constexpr std::string_view usage =
    "usage: smppd --config FILE [--log-level LEVEL] [--once [--receipt-wait SECONDS]]\n"
    "       smppd --check-config FILE\n"
    "       smppd [--help] [--version]\n"
    "\n"
    "smppd is an SMPP 3.4 engine for bulk campaigns, notifications and two-way SMS.\n"
    "\n"
    "  --config FILE         run: bind to the configured SMSCs and send the\n"
    "                        configured campaigns until SIGTERM or SIGINT;\n"
    "                        SIGHUP reads FILE again (SMSCs, operators, routes,\n"
    "                        rates, numbering, campaigns, logging)\n"
    "  --log-level LEVEL     log every component at LEVEL (error, warn, info,\n"
    "                        debug), whatever the file's logging section says\n"
    "  --once                send the configured campaigns, wait until their\n"
    "                        messages are settled (or no receipt came for\n"
    "                        --receipt-wait seconds, default 60), print each\n"
    "                        campaign's delivery report and exit\n"
    "  --check-config FILE   validate a configuration file: print every error with\n"
    "                        file:line:column and the key, exit 1 if there is any\n";

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
  std::string file;
  engine::daemon_options options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      file = std::string(args[++i]);
    } else if (args[i] == "--once") {
      options.once = true;
    } else if (args[i] == "--receipt-wait" && i + 1 < args.size()) {
      const std::string v(args[++i]);
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || n < 0 || n > 86400) {
        std::fprintf(stderr, "smppd: --receipt-wait: expected seconds 0-86400, got \"%s\"\n", v.c_str());
        return 2;
      }
      options.receipt_wait = std::chrono::seconds(n);
    } else if (args[i] == "--log-level" && i + 1 < args.size()) {
      const std::string v(args[++i]);
      options.log_level = logging::parse_level(v);
      if (!options.log_level) {
        std::fprintf(stderr, "smppd: --log-level: expected one of %s, got \"%s\"\n",
                     std::string(logging::level_names()).c_str(), v.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "smppd: unknown or incomplete option \"%s\"\n\n", std::string(args[i]).c_str());
      std::fputs(usage.data(), stderr);
      return 2;
    }
  }
  if (file.empty()) {
    std::fputs(usage.data(), stderr);
    return 2;
  }
  // From here on stderr is the daemon's log (logfmt lines).
  auto r = config::load_file(file);
  for (const auto& e : r.errors)
    logging::error(logging::component::config, e.message,
                   {{"file", e.file}, {"line", e.line}, {"column", e.column}, {"key", e.key}});
  if (!r.value) {
    logging::error(logging::component::config, "not started: the configuration has errors",
                   {{"file", file}, {"errors", r.errors.size()}});
    return 1;
  }
  options.config_file = file;
  return engine::run_daemon(*r.value, options);
}
