// The cost of a log call on one core: a debug line with six fields while
// debug is off (what every per-part call costs in production), the same
// line formatted, and formatted and written to /dev/null.
// Run: build/bin/logger_bench
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <system_error>

#include "logging/logger.hpp"

namespace {

using logging::component;

const std::string smsc = "opa-1";

void disabled_debug_line(benchmark::State& state) {
  logging::set_levels({});  // info
  std::uint64_t id = 1;
  for (auto _ : state) {
    logging::debug(component::dispatch, "part to retry",
                   {{"message", id++}, {"part", 0u}, {"smsc", smsc}, {"command_status", "ESME_RTHROTTLED"},
                    {"attempt", 1u}, {"delay_ms", 2000}});
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(disabled_debug_line);

void format_line(benchmark::State& state) {
  std::uint64_t id = 1;
  const auto now = std::chrono::system_clock::now();
  for (auto _ : state) {
    auto line = logging::format(component::dispatch, logging::level::debug, "part to retry",
                                {{"message", id++}, {"part", 0u}, {"smsc", smsc}, {"command_status", "ESME_RTHROTTLED"},
                                 {"attempt", 1u}, {"delay_ms", 2000}},
                                now);
    benchmark::DoNotOptimize(line);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(format_line);

void written_line(benchmark::State& state) {
  const int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  logging::set_output(fd);
  logging::set_levels({logging::level::debug, {}});
  std::uint64_t id = 1;
  for (auto _ : state) {
    logging::debug(component::dispatch, "part to retry",
                   {{"message", id++}, {"part", 0u}, {"smsc", smsc}, {"command_status", "ESME_RTHROTTLED"},
                    {"attempt", 1u}, {"delay_ms", 2000}, {"error", std::make_error_code(std::errc::timed_out)}});
  }
  state.SetItemsProcessed(state.iterations());
  logging::set_output(STDERR_FILENO);
  logging::set_levels({});
  close(fd);
}
BENCHMARK(written_line);

}  // namespace
