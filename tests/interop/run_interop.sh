#!/usr/bin/env bash
# Runs the interop checks against SMPP implementations we did not write.
#
#   run_interop.sh [--only node|tshark|session|sim] [--codec BIN] [--session BIN]
#                  [--sim BIN] BUILD_DIR
#
# Binaries default to BUILD_DIR/bin/{interop_codec,interop_session,smsc-sim}.
#
# node:    the codec against node-smpp (node_smpp_interop.js).
# tshark:  the codec against Wireshark's SMPP dissector (tshark_interop.py).
# session: the session layer against an SMSC built on node-smpp
#          (node_smpp_server.js): interop_session binds one transceiver
#          (idle first, so enquire_link runs), then two transmitter +
#          receiver pairs; the server's own counts must agree (every
#          receipt answered, none held back, the UCS-2 text seen).
# sim:     smsc-sim against node-smpp's client (node_smpp_client.js --check,
#          idle first so that enquire_link runs both ways); smsc-sim's own
#          counts (--counts-file) must agree.
#
# node-smpp is installed by `npm ci` into BUILD_DIR/interop-node at the
# versions package-lock.json pins, when they are not there yet
# (install_node_smpp.sh).
# Exits 0 when every check that ran passed, 77 when none could run (node,
# npm, tshark or python3 missing: scripts/install-deps.sh installs them),
# 1 otherwise. With SMPPD_REQUIRE_INTEROP=1 (set by scripts/test.sh, which
# installs the tools) a missing tool is a failure, not a skip. Servers this
# script starts are stopped by PID; its temporary directory is removed.
#
# The checks run as `run_X || status=$?`, where bash ignores `set -e`: each
# step that can fail says so explicitly.
# shellcheck disable=SC2317  # the run_* functions are called as "run_$check"
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() {
  echo "usage: run_interop.sh [--only node|tshark|session|sim] [--codec BIN] [--session BIN]" \
    "[--sim BIN] BUILD_DIR" >&2
  exit 2
}
only=all
codec='' session='' sim=''
while [[ $# -gt 1 ]]; do
  case $1 in
    --only) only=$2 ;;
    --codec) codec=$2 ;;
    --session) session=$2 ;;
    --sim) sim=$2 ;;
    *) usage ;;
  esac
  shift 2
done
[[ $# -eq 1 && $only =~ ^(all|node|tshark|session|sim)$ ]] || usage
build_dir=$(cd "$1" && pwd)
codec=${codec:-$build_dir/bin/interop_codec}
session=${session:-$build_dir/bin/interop_session}
sim=${sim:-$build_dir/bin/smsc-sim}
skipped=77
[[ ${SMPPD_REQUIRE_INTEROP:-0} == 1 ]] && skipped=1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smppd-interop-XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

have() {
  local tool
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "interop: $tool not found, check skipped" >&2
      return 1
    fi
  done
}

# Sets node_modules after installing node-smpp there (once per lock file).
node_modules=
install_node_smpp() {
  node_modules=$(bash "$here/install_node_smpp.sh" "$build_dir") ||
    { echo "interop: could not install node-smpp" >&2; return 1; }
}

# start_server NAME COMMAND...: starts a server whose first stdout line is
# "... listening on HOST:PORT", records its PID in `pids` and sets `port`
# and `server_pid` (waits up to 10 s). Its stdout goes to $tmp/NAME.out.
# shellcheck source=scripts/lib/start_listening.sh
source "$here/../../scripts/lib/start_listening.sh"
start_server() {
  local status=0
  start_listening "$tmp" "$@" || status=$?
  pids+=("$server_pid")
  return $status
}

# Stops the server started last (SIGTERM, by PID) and waits for it.
stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" || true
  local pid rest=()
  for pid in "${pids[@]}"; do [[ $pid == "$server_pid" ]] || rest+=("$pid"); done
  pids=("${rest[@]}")
}

run_node() {
  have node npm || return "$skipped"
  install_node_smpp || return 1
  timeout 60 node "$here/node_smpp_interop.js" "$codec" "$node_modules"
}

run_tshark() {
  have tshark python3 || return "$skipped"
  timeout 150 python3 "$here/tshark_interop.py" "$codec"
}

run_session() {
  have node npm || return "$skipped"
  install_node_smpp || return 1
  start_server node_smpp_server node "$here/node_smpp_server.js" "$node_modules" \
    --system-id interop --password secret || return 1
  local failed=0
  timeout 40 "$session" --port "$port" --system-id interop --password secret \
    --messages 20 --window 8 --idle-ms 1000 || failed=1
  timeout 40 "$session" --port "$port" --system-id interop --password secret \
    --messages 400 --window 32 --binds 2 --mode pairs || failed=1
  stop_server
  # The server's view: 21 + 401 submits (the multipart text adds a part),
  # each receipt answered with ESME_ROK, 3 + 1 binds and as many unbinds.
  local summary
  summary=$(sed -n 's/^summary //p' "$tmp/node_smpp_server.out")
  echo "node_smpp_server: $summary"
  if ! node -e '
    const s = JSON.parse(process.argv[1]);
    const want = { binds: 5, bind_refusals: 0, submit_sm: 422, submit_sm_refused: 0,
      receipts_sent: 422, deliver_sm_resp: 422, deliver_sm_resp_errors: 0, unbind: 5,
      generic_nack: 0, held_receipts: 0 };
    let ok = s.enquire_link > 0 && s.texts.data_coding_8 === 2;
    for (const [k, v] of Object.entries(want)) if (s[k] !== v) ok = false;
    if (!ok) console.log(`FAIL node_smpp_server counts: expected ${JSON.stringify(want)}, ` +
      "enquire_link > 0 and texts.data_coding_8 = 2");
    process.exit(ok ? 0 : 1);' "$summary"; then
    failed=1
  fi
  return "$failed"
}

run_sim() {
  have node npm || return "$skipped"
  install_node_smpp || return 1
  start_server smsc-sim "$sim" --listen 127.0.0.1:0 --system-id interop --password secret \
    --enquire-link-seconds 0.1 --counts-file "$tmp/sim-counts.json" || return 1
  local failed=0
  timeout 40 node "$here/node_smpp_client.js" "$node_modules" --port "$port" \
    --system-id interop --password secret --messages 200 --window 16 --idle-ms 900 --check \
    --timeout-s 30 || failed=1
  stop_server
  # The simulator's view: one transceiver bind and its unbind, every submit
  # accepted, every receipt acknowledged, enquire_link both ways.
  echo "smsc-sim: $(cat "$tmp/sim-counts.json" 2>/dev/null)"
  if ! node -e '
    const fs = require("fs");
    let s;
    try { s = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch (e) {
      console.log(`FAIL smsc-sim counts: ${e.message}`);
      process.exit(1);
    }
    const want = { connections: 1, binds_transceiver: 1, unbinds: 1, submit_sm: 200,
      receipts_sent: 200, receipts_acked: 200, receipts_nacked: 0, generic_nacks_sent: 0,
      generic_nacks_received: 0, closed_bad_framing: 0 };
    let ok = s.submit_resps && s.submit_resps.ESME_ROK === 200 && s.enquire_link_received > 0 &&
      s.enquire_link_sent > 0 && s.enquire_link_resp_received > 0;
    for (const [k, v] of Object.entries(want)) if (s[k] !== v) ok = false;
    if (!ok) console.log(`FAIL smsc-sim counts: expected ${JSON.stringify(want)}, ` +
      "submit_resps.ESME_ROK = 200 and enquire_link both ways");
    process.exit(ok ? 0 : 1);' "$tmp/sim-counts.json"; then
    failed=1
  fi
  return "$failed"
}

ran=0
failed=0
for check in node tshark session sim; do
  [[ $only == all || $only == "$check" ]] || continue
  status=0
  "run_$check" || status=$?
  if ((status == 0)); then
    ran=1
  elif ((status != skipped)); then
    echo "interop: $check check failed (exit $status)" >&2
    ran=1
    failed=1
  fi
done
((failed)) && exit 1
((ran)) || exit $skipped
exit 0
