#!/usr/bin/env bash
# Builds and runs the benchmarks; prints the median of 3 repetitions of each.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
build=${SMPPD_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" "$build" -DCMAKE_BUILD_TYPE=Release
for b in codec_bench text_bench; do
  "$build/bin/$b" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
    --benchmark_min_time=1 2>&1 | grep -E '^(Run on|bm_.*_median|-{3})' || true
done
echo "--- message log writer (3 runs)"
for i in 1 2 3; do "$build/bin/log_bench"; done
echo "--- session layer against smsc-sim, and node-smpp's client against smsc-sim"
"$root/bench/node_compare.sh" "$build"
