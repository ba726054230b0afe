#!/usr/bin/env bash
# Configures and builds one build directory.
# usage: scripts/build.sh DIR [extra cmake args...]
# SMPPD_TARGETS="a b" builds only those targets; SMPPD_JOBS=N limits jobs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
shift
if [[ ! -f $dir/build.ninja ]]; then
  cmake -S "$root" -B "$dir" -G Ninja -DSMPPD_WERROR=ON "$@" >/dev/null
fi
# Progress lines are dropped; with pipefail a failed build fails the script
# (grep finding nothing to print is not a failure).
# shellcheck disable=SC2086
ninja -C "$dir" ${SMPPD_JOBS:+-j "$SMPPD_JOBS"} ${SMPPD_TARGETS:-} | { grep -v -E '^\[[0-9]+/[0-9]+\] ' || true; }
