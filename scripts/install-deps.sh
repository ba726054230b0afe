#!/usr/bin/env bash
# Installs what smppd needs to build, test, benchmark and package, from
# Debian's packages (and the npm registry for the interop peer). Idempotent:
# when everything is present it only checks and exits within a second.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libboost-system-dev libssl-dev
  libconcurrentqueue-dev librocksdb-dev libyaml-cpp-dev prometheus-cpp-dev nlohmann-json3-dev tzdata
  libjemalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsystemd-dev systemd dpkg-dev
  clang libclang-rt-14-dev
  tshark nodejs npm python3
  prometheus
)

# One dpkg-query for all packages keeps the "nothing to do" case fast.
declare -A installed=()
while read -r name state; do
  [[ $state == installed ]] && installed[$name]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null || true)

missing=()
for p in "${packages[@]}"; do
  [[ -n ${installed[$p]:-} ]] && continue
  # Node.js may come from another repository that bundles npm.
  if [[ $p == npm || $p == nodejs ]] && command -v node >/dev/null && command -v npm >/dev/null; then
    continue
  fi
  missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
