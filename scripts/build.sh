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
# shellcheck disable=SC2086
ninja -C "$dir" ${SMPPD_JOBS:+-j "$SMPPD_JOBS"} ${SMPPD_TARGETS:-} | grep -v -E '^\[[0-9]+/[0-9]+\] ' || true
test "${PIPESTATUS[0]}" -eq 0
