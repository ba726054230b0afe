#!/usr/bin/env bash
# deploy/systemd/smppd.service: `systemd-analyze verify` accepts it (known
# directives and values, ExecStart= and ExecReload= binaries present), it
# keeps the settings the service relies on, and `systemd-analyze security`
# rates its exposure at most 2.0 (of 10).
# usage: unit_verify.sh UNIT_FILE SMPPD_BINARY
set -euo pipefail
unit=$1
smppd=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "unit_verify: $*" >&2; exit 1; }

# verify needs the binaries to exist: the copy runs the built smppd where
# the package has /usr/bin/smppd. Needs no running systemd (works in a
# container); a unit file's name must end in .service.
sed "s#/usr/bin/smppd#$smppd#g" "$unit" >"$tmp/smppd.service"
if ! out=$(systemd-analyze verify --man=no "$tmp/smppd.service" 2>&1); then
  fail "systemd-analyze verify failed: $out"
fi
if grep -F smppd.service <<<"$out"; then
  fail "systemd-analyze verify warned about the unit"
fi

for setting in 'Type=notify' 'NotifyAccess=main' 'WatchdogSec=30s' 'Restart=on-failure' \
  'ExecStart=/usr/bin/smppd --config /etc/smppd/smppd.yaml' 'ExecReload=/bin/kill -HUP $MAINPID' \
  'User=smppd' 'StateDirectory=smppd' 'ConfigurationDirectory=smppd' 'EnvironmentFile=-/etc/smppd/smppd.env' \
  'ProtectSystem=strict' 'NoNewPrivileges=yes' 'PrivateTmp=yes' 'CapabilityBoundingSet=' \
  'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX'; do
  grep -qxF "$setting" "$unit" || fail "missing: $setting"
done

# The drain deadline (5 s, engine/daemon.cpp) fits in TimeoutStopSec=.
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$unit")
[[ -n $stop && $stop -gt 5 ]] || fail "TimeoutStopSec= must leave room for the 5 s drain"

# --threshold is on systemd's internal 0-100 scale: 20 is 2.0.
if ! out=$(systemd-analyze security --offline=true --threshold=20 "$tmp/smppd.service" 2>&1); then
  echo "$out" | tail -5 >&2
  fail "exposure above 2.0"
fi
echo "$out" | tail -1
echo "unit_verify: OK"
