#!/usr/bin/env bash
# Installs node-smpp (the npm package `smpp`) at the versions
# package-lock.json pins, with `npm ci`, into BUILD_DIR/interop-node, and
# prints its node_modules directory. Does nothing when that lock is already
# installed; a file lock keeps parallel callers (ctest -j) from installing
# at once. Used by run_interop.sh and bench/node_compare.sh.
#
#   install_node_smpp.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ $# -ne 1 ]]; then
  echo "usage: install_node_smpp.sh BUILD_DIR" >&2
  exit 2
fi
dir=$(cd "$1" && pwd)/interop-node
mkdir -p "$dir"
exec 9>"$dir.lock"
flock -w 170 9
# The lock is copied beside node_modules only once `npm ci` has succeeded,
# so an interrupted install is redone.
if ! cmp -s "$here/package-lock.json" "$dir/installed-lock.json"; then
  cp "$here/package.json" "$here/package-lock.json" "$dir/"
  echo "installing node-smpp into $dir" >&2
  (cd "$dir" && timeout 150 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2)
  cp "$here/package-lock.json" "$dir/installed-lock.json"
fi
echo "$dir/node_modules"
