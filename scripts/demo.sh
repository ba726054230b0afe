#!/usr/bin/env bash
# README command 1: install what is missing, build, and show how smppd
# encodes and splits a set of sample texts (GSM-7, Cyrillic, Chinese,
# emoji, Turkish with national tables, a long text).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
build=${SMPPD_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" "$build" -DCMAKE_BUILD_TYPE=Release
ctl="$build/bin/smppctl"

show() {
  local title=$1
  shift
  printf '\n=== %s\n' "$title"
  printf '%s\n' "$TEXT" | "$ctl" encode "$@"
}

while IFS='|' read -r title opts text; do
  [[ -z $title || $title == \#* ]] && continue
  TEXT=$text
  # shellcheck disable=SC2086
  show "$title" $opts
done <"$root/deploy/examples/sample-texts.txt"

printf '\n=== the same appointment reminder as JSON\n'
printf '%s\n' "Your appointment is confirmed for Tue 14 May at 09:30. Reply YES or NO." |
  "$ctl" encode --json
