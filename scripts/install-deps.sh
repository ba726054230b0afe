#!/usr/bin/env bash
# Installs what smppd needs to build, test and benchmark, from Debian's
# packages (and the npm registry for the interop peer). Idempotent: when
# everything is present it only checks and exits within a second.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libboost-system-dev libssl-dev
  libconcurrentqueue-dev librocksdb-dev libyaml-cpp-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  tshark nodejs npm
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  if [[ $status != "install ok installed" ]]; then
    # nodejs may come from another repository that already bundles npm.
    if [[ $p == npm ]] && command -v npm >/dev/null 2>&1; then continue; fi
    if [[ $p == nodejs ]] && command -v node >/dev/null 2>&1; then continue; fi
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
