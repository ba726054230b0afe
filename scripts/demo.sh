#!/usr/bin/env bash
# README command 1: install what is missing, build, then run the main job
# on the embedded default: start smsc-sim on a free loopback port, run
# smppd against it with the example campaign (deploy/examples/demo.yaml,
# spring-sale.csv), and print the campaign's delivery report.
#
# smsc-sim settles most messages as delivered and some as undeliverable or
# expired, after a short delay, so the report shows a realistic mix. Both
# processes are stopped by PID; the temporary directory is removed.
#
# SMPPD_BUILD_DIR: the build directory (default build/). SMPPD_DEMO_NO_BUILD=1
# runs the binaries already there, without installing or building (the
# test of this script does).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SMPPD_BUILD_DIR:-$root/build}
if [[ ${SMPPD_DEMO_NO_BUILD:-0} != 1 ]]; then
  "$root/scripts/install-deps.sh"
  SMPPD_TARGETS="smppd smsc-sim smppctl" "$root/scripts/build.sh" "$build" -DCMAKE_BUILD_TYPE=Release
fi

work=$(mktemp -d /tmp/smppd-demo-XXXXXX)
sim_pid=""
cleanup() {
  if [[ -n $sim_pid ]]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=scripts/lib/start_listening.sh
source "$root/scripts/lib/start_listening.sh"
start_listening "$work" smsc-sim "$build/bin/smsc-sim" --listen 127.0.0.1:0 --password demo \
  --receipt-delay 300 --receipt-mix DELIVRD=90,UNDELIV=6,EXPIRED=4 --seed 7 \
  --counts-file "$work/sim-counts.json" || { sim_pid=$server_pid; exit 1; }
sim_pid=$server_pid
echo "demo: smsc-sim listening on 127.0.0.1:$port (pid $sim_pid)"

export SMPPD_DEMO_PORT=$port SMPPD_DEMO_DATA=$work/data
echo "demo: smppd --config deploy/examples/demo.yaml --once"
echo
"$build/bin/smppd" --config "$root/deploy/examples/demo.yaml" --once --receipt-wait 10
