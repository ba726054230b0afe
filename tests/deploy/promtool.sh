#!/usr/bin/env bash
# Runs promtool with the arguments given; exits 77 (ctest: skipped) when it
# is not installed.
if ! command -v promtool >/dev/null; then
  echo "promtool is not installed (Debian package prometheus; scripts/install-deps.sh installs it)"
  exit 77
fi
exec promtool "$@"
