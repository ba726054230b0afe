#!/usr/bin/env bash
# The Debian package (cmake/package.cmake): cpack builds it from the build
# tree; its control fields, files, modes and maintainer scripts are checked;
# the packaged configuration passes `smppd --check-config`; dpkg unpacks it
# into a throwaway root with its own database (nothing touches this
# system); postinst runs against stand-in commands that record their
# calls, which shows the user and directory it creates without creating
# them.
# usage: package_test.sh BUILD_DIR VERSION SMPPD_BINARY
set -euo pipefail
build=$1
version=$2
smppd=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package_test: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$tmp/out" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log" >&2; fail "cpack failed"; }
arch=$(dpkg --print-architecture)
deb="$tmp/out/smppd_${version}-1_${arch}.deb"
[[ -f $deb ]] || { ls "$tmp/out" >&2; fail "no $deb"; }

# Control fields.
[[ $(dpkg-deb -f "$deb" Package) == smppd ]] || fail "Package"
[[ $(dpkg-deb -f "$deb" Version) == "${version}-1" ]] || fail "Version: $(dpkg-deb -f "$deb" Version)"
[[ $(dpkg-deb -f "$deb" Architecture) == "$arch" ]] || fail "Architecture"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
# From dpkg-shlibdeps: the shared libraries the binaries link (RocksDB is
# linked statically), with versions.
for lib in libc6 libstdc++6 libyaml-cpp libssl3 libsystemd0 passwd; do
  grep -q "\b$lib" <<<"$depends" || fail "Depends lacks $lib"
done
grep -q 'libc6 (>= ' <<<"$depends" || fail "Depends has no version for libc6"

# Files, owners and modes.
dpkg-deb -c "$deb" >"$tmp/contents"
expect() { grep -qE "$1" "$tmp/contents" || { cat "$tmp/contents" >&2; fail "not in the package: $1"; }; }
expect '^-rwxr-xr-x root/root .* \./usr/bin/smppd$'
expect '^-rwxr-xr-x root/root .* \./usr/bin/smppctl$'
expect '^-rwxr-xr-x root/root .* \./usr/bin/smsc-sim$'
expect '^-rw-r--r-- root/root .* \./lib/systemd/system/smppd\.service$'
expect '^-rw-r--r-- root/root .* \./etc/smppd/smppd\.yaml$'
expect '^-rw-r----- root/root .* \./etc/smppd/smppd\.env$'
expect '^-rw-r--r-- root/root .* \./usr/share/doc/smppd/README\.md$'
expect '^-rw-r--r-- root/root .* \./usr/share/doc/smppd/METRICS\.md$'
expect '^-rw-r--r-- root/root .* \./usr/share/smppd/grafana/smppd-dashboard\.json$'
expect '^-rw-r--r-- root/root .* \./usr/share/smppd/prometheus/prometheus\.yml$'
expect '^-rw-r--r-- root/root .* \./usr/share/smppd/prometheus/smppd-alerts\.yml$'
# Those files and nothing else (directories aside).
diff <(awk '{print $NF}' "$tmp/contents" | grep -v '/$' | sort) - <<'LIST' || fail "unexpected files in the package"
./etc/smppd/smppd.env
./etc/smppd/smppd.yaml
./lib/systemd/system/smppd.service
./usr/bin/smppctl
./usr/bin/smppd
./usr/bin/smsc-sim
./usr/share/doc/smppd/METRICS.md
./usr/share/doc/smppd/README.md
./usr/share/smppd/grafana/smppd-dashboard.json
./usr/share/smppd/prometheus/prometheus.yml
./usr/share/smppd/prometheus/smppd-alerts.yml
LIST

# Control files: conffiles, maintainer scripts that parse and are executable.
dpkg-deb -e "$deb" "$tmp/control"
diff <(sort "$tmp/control/conffiles") <(printf '/etc/smppd/smppd.env\n/etc/smppd/smppd.yaml\n') ||
  fail "conffiles"
for script in postinst prerm postrm; do
  [[ -x $tmp/control/$script ]] || fail "$script is not executable"
  sh -n "$tmp/control/$script" || fail "$script does not parse"
done

# The packaged configuration is valid (with its secret set).
dpkg-deb -x "$deb" "$tmp/files"
SMSC_PASSWORD=secret "$smppd" --check-config "$tmp/files/etc/smppd/smppd.yaml" || fail "smppd.yaml"
grep -q '^SMSC_PASSWORD=$' "$tmp/files/etc/smppd/smppd.env" || fail "smppd.env lacks SMSC_PASSWORD"
# The monitoring files as shipped: the Prometheus ones pass promtool (the
# configuration finds its rule file beside it), the dashboard is JSON.
if command -v promtool >/dev/null; then
  promtool check config "$tmp/files/usr/share/smppd/prometheus/prometheus.yml" >/dev/null ||
    fail "the packaged prometheus.yml"
fi
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$tmp/files/usr/share/smppd/grafana/smppd-dashboard.json" ||
  fail "the packaged dashboard is not JSON"
# The unit in the package runs the packaged binary with the packaged config.
grep -qxF 'ExecStart=/usr/bin/smppd --config /etc/smppd/smppd.yaml' "$tmp/files/lib/systemd/system/smppd.service" ||
  fail "the unit's ExecStart"

# dpkg takes it: unpacked (no preinst, so no script runs) into a throwaway
# root with its own database, the conffiles recorded as such.
root="$tmp/root"
admin="$tmp/admin"
mkdir -p "$root" "$admin/info" "$admin/updates" "$admin/triggers"
touch "$admin/status" "$admin/available"
dpkg --instdir="$root" --admindir="$admin" --force-not-root --unpack "$deb" >"$tmp/dpkg.log" 2>&1 ||
  { cat "$tmp/dpkg.log" >&2; fail "dpkg --unpack"; }
# Conffiles wait as .dpkg-new until configure (which would run postinst).
[[ -x $root/usr/bin/smppd && -f $root/lib/systemd/system/smppd.service && -f $root/etc/smppd/smppd.yaml.dpkg-new ]] ||
  fail "files missing after dpkg --unpack"
[[ $(stat -c %a "$root/etc/smppd/smppd.env.dpkg-new") == 640 ]] || fail "smppd.env is not 0640 once unpacked"
[[ $(dpkg-query --admindir="$admin" -W -f='${db:Status-Status}' smppd) == unpacked ]] || fail "dpkg status"
[[ $(dpkg-query --admindir="$admin" -W -f='${Conffiles}\n' smppd | grep -c newconffile) == 2 ]] ||
  fail "conffiles not recorded"

# postinst configure on a system without the user: it creates a system
# user with no login whose home is /var/lib/smppd, and that directory
# owned by it. Stubs stand in for the commands that would change this system.
standins="$tmp/standins"
mkdir -p "$standins"
for cmd in getent useradd install systemctl; do
  printf '#!/bin/sh\necho "%s $*" >>"%s"\n[ %s != getent ]\n' "$cmd" "$tmp/calls" "$cmd" >"$standins/$cmd"
  chmod +x "$standins/$cmd"
done
PATH="$standins:$PATH" sh "$tmp/control/postinst" configure "" || fail "postinst failed"
cat "$tmp/calls"
grep -qx 'useradd --system --user-group --home-dir /var/lib/smppd --no-create-home --shell /usr/sbin/nologin --comment smppd SMPP engine smppd' "$tmp/calls" ||
  fail "postinst did not create the smppd system user"
grep -qx 'install -d -o smppd -g smppd -m 0750 /var/lib/smppd /var/lib/smppd/campaigns' "$tmp/calls" ||
  fail "postinst did not create /var/lib/smppd"
if grep -E '^systemctl (start|enable|restart)' "$tmp/calls"; then fail "postinst starts the service"; fi
echo "package_test: OK ($(du -k "$deb" | cut -f1) KiB)"
