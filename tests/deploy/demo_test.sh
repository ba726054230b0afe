#!/usr/bin/env bash
# README command 1 (scripts/demo.sh) with this build's binaries: smsc-sim
# and smppd on loopback send the example campaign (deploy/examples/), and
# the delivery report it prints shows every row accounted for, both
# SMSCs used, multipart texts, receipts and latencies; afterwards smsc-sim
# is gone and the demo's temporary directory removed.
# usage: demo_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
root=$1
build=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail() {
  echo "demo_test: $*" >&2
  cat "$out" >&2
  exit 1
}

SMPPD_BUILD_DIR=$build SMPPD_DEMO_NO_BUILD=1 timeout 120 bash "$root/scripts/demo.sh" >"$out" 2>&1 ||
  fail "scripts/demo.sh exited with $?"

expect() { grep -Eq "$1" "$out" || fail "no line matching: $1"; }
number() { sed -nE "s/$1/\\1/p" "$out" | head -1; }
expect '^Campaign spring-sale$'
expect '^  rows             3003 \(one message each in the log\)$'
expect '^  rejected rows    3 '
expect '^    row 401: bad number '
expect '^    row 1201: duplicate recipient '
expect '^    row 2101: expected 3 columns, found 1$'
expect '^  delivery rate    [0-9.]+%$'
expect '^  submit->receipt  p50 [0-9.]+ ms, p90 [0-9.]+ ms, p99 [0-9.]+ ms'
expect '^SMSC sim-lt: [0-9]+ parts'
expect '^SMSC sim-uk: [0-9]+ parts'

# Every row has one message in the log (a rejected row's too) in one final
# state: the counts by state add up to the rows.
total=0
for state in delivered undeliverable expired failed suppressed unknown rejected cancelled; do
  n=$(number "^    $state +([0-9]+).*")
  total=$((total + ${n:-0}))
done
((total == 3003)) || fail "messages by state add up to $total, not 3003"
delivered=$(number '^    delivered +([0-9]+).*')
((delivered > 2400)) || fail "only $delivered delivered"
# Multipart texts: more parts than messages.
parts=$(number '^  submit->receipt .*\(([0-9]+) parts\)$')
((parts > 3000)) || fail "$parts parts for 3000 messages: no multipart text"

# Everything it started is stopped, its directory removed.
sim_pid=$(number '^demo: smsc-sim listening on .* \(pid ([0-9]+)\)$')
[[ -n $sim_pid ]] || fail "no smsc-sim pid"
if kill -0 "$sim_pid" 2>/dev/null; then fail "smsc-sim ($sim_pid) still runs"; fi
work=$(grep -oE '/tmp/smppd-demo-[A-Za-z0-9]+' "$out" | head -1)
[[ -n $work && ! -e $work ]] || fail "the demo's directory $work is still there"
echo "demo_test: 3003 rows, $delivered delivered, $parts parts; smsc-sim stopped, $work removed"
