#!/usr/bin/env bash
# Runs the codec's interop checks against implementations we did not write.
#
#   run_interop.sh [--only node|tshark] INTEROP_CODEC BUILD_DIR
#
# node:   node-smpp, installed by `npm ci` into BUILD_DIR/interop-node at the
#         versions package-lock.json pins (only when they are not there yet),
#         then node_smpp_interop.js.
# tshark: tshark_interop.py (Wireshark's SMPP dissector).
# Exits 0 when every check that ran passed, 77 when none could run (node,
# npm, tshark or python3 missing: scripts/install-deps.sh installs them),
# 1 otherwise. With SMPPD_REQUIRE_INTEROP=1 (set by scripts/test.sh, which
# installs the tools) a missing tool is a failure, not a skip.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
only=all
if [[ ${1:-} == --only ]]; then
  only=${2:-}
  shift 2 || true
fi
if [[ $# -ne 2 || ! $only =~ ^(all|node|tshark)$ ]]; then
  echo "usage: run_interop.sh [--only node|tshark] INTEROP_CODEC BUILD_DIR" >&2
  exit 2
fi
codec=$1
build_dir=$2
skipped=77
[[ ${SMPPD_REQUIRE_INTEROP:-0} == 1 ]] && skipped=1

run_node() {
  local tool
  for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "interop: $tool not found, node-smpp check skipped" >&2
      return $skipped
    fi
  done
  local dir=$build_dir/interop-node
  # The lock is copied beside node_modules only once `npm ci` has succeeded,
  # so an interrupted install is redone.
  if ! cmp -s "$here/package-lock.json" "$dir/installed-lock.json"; then
    mkdir -p "$dir"
    cp "$here/package.json" "$here/package-lock.json" "$dir/"
    echo "interop: installing node-smpp into $dir" >&2
    (cd "$dir" && timeout 150 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
    cp "$here/package-lock.json" "$dir/installed-lock.json"
  fi
  timeout 60 node "$here/node_smpp_interop.js" "$codec" "$dir/node_modules"
}

run_tshark() {
  local tool
  for tool in tshark python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "interop: $tool not found, tshark check skipped" >&2
      return $skipped
    fi
  done
  timeout 150 python3 "$here/tshark_interop.py" "$codec"
}

ran=0
failed=0
for check in node tshark; do
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
