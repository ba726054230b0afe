#!/usr/bin/env bash
# The session benchmark and its comparison, in one run: our session layer
# (BUILD_DIR/bin/session_bench, which starts its own smsc-sim) and
# node-smpp's client (tests/interop/node_smpp_client.js) against a fresh
# smsc-sim, both on loopback with receipts on and no storage. Prints
# session_bench's table, then node-smpp's submit_sm/s at window 64 and 256
# (median of the runs), then the ratio at window 64 with one bind.
#
#   bench/node_compare.sh BUILD_DIR [--messages N] [--runs R] [--node-only] [--nagle]
#
# N: submit_sm per node-smpp run (default 100000); R: runs per figure, for
# both programs (default 3). --node-only skips session_bench. --nagle
# leaves Nagle's algorithm on node-smpp's socket, as node-smpp does by
# default (see node_smpp_client.js: a stall per window, not the stack).
# node-smpp is installed from npm into BUILD_DIR/interop-node at the
# versions tests/interop/package-lock.json pins. smsc-sim is stopped by PID;
# the temporary directory is removed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
usage() {
  echo "usage: bench/node_compare.sh BUILD_DIR [--messages N] [--runs R] [--node-only] [--nagle]" >&2
  exit 2
}
[[ $# -ge 1 ]] || usage
build=$(cd "$1" && pwd)
shift
messages=100000
runs=3
session_bench=1
nagle=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --messages) messages=${2:-}; shift ;;
    --runs) runs=${2:-}; shift ;;
    --node-only) session_bench=0 ;;
    --nagle) nagle=(--nagle) ;;
    *) usage ;;
  esac
  shift
done
[[ $messages =~ ^[0-9]+$ && $runs =~ ^[1-9][0-9]*$ ]] || usage
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "node_compare: $tool not found (scripts/install-deps.sh)" >&2; exit 1; }
done
sim=$build/bin/smsc-sim
[[ -x $sim ]] || { echo "node_compare: $sim not built" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smppd-node-compare-XXXXXX")
sim_pid=
cleanup() {
  if [[ -n $sim_pid ]]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

ours=
if ((session_bench)); then
  [[ -x $build/bin/session_bench ]] || { echo "node_compare: $build/bin/session_bench not built" >&2; exit 1; }
  echo "--- session layer (session_bench)"
  "$build/bin/session_bench" --sim "$sim" --runs "$runs" | tee "$tmp/session_bench.txt"
  # The row "1 64 RATE ...": one bind, window 64.
  ours=$(awk '$1 == 1 && $2 == 64 { print $3 }' "$tmp/session_bench.txt")
fi

node_modules=$(bash "$root/tests/interop/install_node_smpp.sh" "$build")
version=$(node -p "require('$node_modules/smpp/package.json').version")

# shellcheck source=scripts/lib/start_listening.sh
source "$root/scripts/lib/start_listening.sh"
start_listening "$tmp" smsc-sim "$sim" --listen 127.0.0.1:0 --threads 1 || { sim_pid=$server_pid; exit 1; }
sim_pid=$server_pid

echo "--- node-smpp $version client ($(node --version)), $messages submit_sm per run," \
  "receipts on, smsc-sim on 127.0.0.1:$port, $runs runs, Nagle $([[ ${#nagle[@]} -gt 0 ]] && echo on || echo off)"
printf '%-7s %14s   %s\n' window submit_sm/s runs
theirs=
for window in 64 256; do
  rates=()
  for ((r = 0; r < runs; r++)); do
    json=$(node "$root/tests/interop/node_smpp_client.js" "$node_modules" --port "$port" \
      --messages "$messages" --window "$window" --timeout-s 600 "${nagle[@]}") ||
      { echo "node_compare: node-smpp run failed: $json" >&2; exit 1; }
    rates+=("$(node -p "JSON.parse(process.argv[1]).submit_sm_per_s" "$(head -n 1 <<<"$json")")")
  done
  median=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  printf '%-7s %14s   %s\n' "$window" "$median" "${rates[*]}"
  [[ $window == 64 ]] && theirs=$median
done

if [[ -n $ours && -n $theirs ]]; then
  awk -v a="$ours" -v b="$theirs" \
    'BEGIN { printf "session layer / node-smpp, 1 bind, window 64: %.1fx\n", a / b }'
fi
