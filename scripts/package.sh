#!/usr/bin/env bash
# Builds the Debian package: a Release build of smppd, smppctl and smsc-sim,
# then CPack's DEB generator (cmake/package.cmake). Prints the .deb's path.
# usage: scripts/package.sh [BUILD_DIR]   (default: build; a Release build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/build}
SMPPD_TARGETS="smppd smppctl smsc-sim" "$root/scripts/build.sh" "$dir" -DCMAKE_BUILD_TYPE=Release >&2
if ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$dir/CMakeCache.txt"; then
  echo "package.sh: $dir is not a Release build; give another directory" >&2
  exit 1
fi
out="$dir/package"
rm -f "$out"/smppd_*.deb
(cd "$dir" && cpack -G DEB -B "$out" >&2)
ls "$out"/smppd_*.deb
