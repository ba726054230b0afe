#!/usr/bin/env bash
# README command 2: install what is missing, build, and run every test:
#   1. Release build, warnings as errors, all tests (ctest);
#   2. Debug build (clang) with AddressSanitizer + UndefinedBehaviorSanitizer, all tests;
#   3. libFuzzer targets (clang) run for a bounded time from the seed corpus.
# Environment: SMPPD_FUZZ_SECONDS (default 30 per target), SMPPD_SKIP_SANITIZE=1,
# SMPPD_SKIP_FUZZ=1 to shorten a local run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
out=${SMPPD_BUILD_ROOT:-$root/build}
fuzz_seconds=${SMPPD_FUZZ_SECONDS:-30}
# The interop checks must run here: install-deps.sh installed their tools.
export SMPPD_REQUIRE_INTEROP=1
failed=0
started=$SECONDS

step() { printf '\n==> %s (%ds)\n' "$*" $((SECONDS - started)); }

step "release build"
"$root/scripts/build.sh" "$out" -DCMAKE_BUILD_TYPE=Release
step "release tests"
(cd "$out" && ctest -j2 --output-on-failure --timeout 300) || failed=1

if [[ ${SMPPD_SKIP_SANITIZE:-0} != 1 ]]; then
  step "ASan+UBSan build"
  # clang: at -O0 it compiles the Asio and Beast sources in about half the
  # time GCC takes (GCC still builds the release). -g1: line tables are all
  # the sanitizers' stack traces need. -O0 stays: -O1 doubles the compile
  # time of the sources that use Beast, more than it saves in the tests.
  CXX=clang++ "$root/scripts/build.sh" "$out-asan" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
    -DSMPPD_SANITIZE=ON -DSMPPD_BENCH=OFF
  step "ASan+UBSan tests"
  (cd "$out-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest -j2 --output-on-failure --timeout 600) || failed=1
fi

if [[ ${SMPPD_SKIP_FUZZ:-0} != 1 ]]; then
  step "fuzz build (clang, libFuzzer)"
  fuzz_targets="pdu_decoder_fuzz text_decoder_fuzz receipt_fuzz"
  CXX=clang++ SMPPD_TARGETS="$fuzz_targets" "$root/scripts/build.sh" "$out-fuzz" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMPPD_FUZZ=ON -DSMPPD_BENCH=OFF -DSMPPD_TESTS=ON
  # The targets run side by side, each for the full time: on a machine with
  # fewer cores than targets they share them, with the same bound on time.
  step "fuzz $fuzz_targets for ${fuzz_seconds}s each, concurrently"
  declare -A fuzz_pid=() fuzz_corpus=()
  for target in $fuzz_targets; do
    fuzz_corpus[$target]=$(mktemp -d)
    seeds="$root/tests/fuzz/corpus/${target%%_*}"
    "$out-fuzz/bin/$target" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 "${fuzz_corpus[$target]}" "$seeds" >"$out-fuzz/$target.log" 2>&1 &
    fuzz_pid[$target]=$!
  done
  for target in $fuzz_targets; do
    echo "$target:"
    if ! wait "${fuzz_pid[$target]}"; then
      failed=1
      tail -50 "$out-fuzz/$target.log"
    else
      grep -E 'stat::number_of_executed_units|Done' "$out-fuzz/$target.log" | tail -2
    fi
    rm -rf "${fuzz_corpus[$target]}"
  done
fi

step "done"
if ((failed)); then
  echo "test.sh: FAILED" >&2
  exit 1
fi
echo "test.sh: all tests passed"
