#!/usr/bin/env bash
# End-to-end benchmark: a CSV campaign -> smppd -> smsc-sim with receipts ->
# every receipt reconciled in the message log (sync: every_10ms), throttles
# off. Prints, per run and as medians: messages/s from start to the last
# receipt settled, smppd's peak RSS and CPU time, and the latency of OTPs posted to the
# API while the campaign saturates the binds: from acceptance (the time the
# log gives the message) to the submit_sm's arrival at smsc-sim
# (--arrivals-file), one OTP every 50 ms from a second after the start;
# p99 is the nearest rank.
#
#   bench/e2e_bench.sh BUILD_DIR [--rows N] [--runs R] [--otps K]
#
# After each run, the message log's memory by part at its largest (sampled
# every second from smppd_log_memory_bytes): what of the peak RSS is
# RocksDB's.
# SMPPD_BENCH_KEEP=FILE keeps the last run's OTP latencies (ms, one a line).
# Everything runs on 127.0.0.1; processes are stopped by PID and the
# temporary directory removed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: bench/e2e_bench.sh BUILD_DIR [--rows N] [--runs R] [--otps K]}
shift
rows=1000000
runs=3
otps=100
while (($#)); do
  case $1 in
    --rows) rows=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --otps) otps=$2; shift 2 ;;
    *) echo "e2e_bench: unknown option $1" >&2; exit 2 ;;
  esac
done
for b in smppd smsc-sim smppctl; do
  [[ -x $build/bin/$b ]] || { echo "e2e_bench: $build/bin/$b is missing; build first" >&2; exit 1; }
done

work=$(mktemp -d /tmp/smppd-e2e-XXXXXX)
sim_pid=""
smppd_pid=""
sampler_pid=""
cleanup() {
  for p in $sampler_pid $smppd_pid $sim_pid; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  [[ -n ${SMPPD_BENCH_KEEP:-} ]] && cp "$work/lat" "$SMPPD_BENCH_KEEP" 2>/dev/null; rm -rf "$work"
}
trap cleanup EXIT

awk -v n="$rows" 'BEGIN { print "msisdn,name"; for (i = 0; i < n; i++) printf "+3706%07d,N%d\n", i, i }' \
  >"$work/recipients.csv"

# shellcheck source=scripts/lib/start_listening.sh
source "$root/scripts/lib/start_listening.sh"
# OTPs go to +3707..., the campaign to +3706...: smsc-sim notes when each
# OTP's submit_sm arrives.
start_listening "$work" smsc-sim "$build/bin/smsc-sim" --listen 127.0.0.1:0 \
  --arrivals-file "$work/arrivals" --arrivals-prefix 3707 || { sim_pid=$server_pid; exit 1; }
sim_pid=$server_pid

# The port smppd logged for its "NAME listening" line, waiting up to
# TRIES x 50 ms for the line; empty if it did not come.
listening_port() {
  local port=""
  for _ in $(seq "$2"); do
    port=$(grep "msg=\"$1 listening\"" "$work/smppd.err" 2>/dev/null | grep -o 'listen=[0-9.]*:[0-9]*' | sed 's/.*://' || true)
    [[ -n $port ]] && break
    sleep 0.05
  done
  echo "$port"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "e2e_bench: $rows recipients per run, $runs runs, receipts on, sync every_10ms, throttles off"
printf '%-4s %12s %10s %10s %12s %12s\n' run "messages/s" "RSS MiB" "CPU s" "OTP p50 ms" "OTP p99 ms"
: >"$work/rates"
: >"$work/rss"
: >"$work/p99"
: >"$work/cpu"
for run in $(seq "$runs"); do
  rm -rf "$work/data"
  cat >"$work/smppd.yaml" <<EOF
node: { data_dir: data, sync: every_10ms }
api: { listen: "127.0.0.1:0" }
metrics: { listen: "127.0.0.1:0" }
smscs:
  - { name: sim, host: 127.0.0.1, port: $port, system_id: bench, password: bench, binds: 2, window: 512 }
operators:
  - { name: lt, prefixes: ["+370"], smscs: [sim] }
campaigns:
  - { id: e2e, recipients: recipients.csv, from: ACME, text: "Hi {{name}}, your parcel arrives tomorrow between 9 and 12." }
EOF
  start=$(date +%s.%N)
  /usr/bin/time -f "%M %U %S" -o "$work/rss.txt" "$build/bin/smppd" --config "$work/smppd.yaml" --once --receipt-wait 10 \
    >"$work/report.txt" 2>"$work/smppd.err" &
  smppd_pid=$!
  api=$(listening_port API 200)
  metrics=$(listening_port metrics 40)
  # One process drives the run, so that the harness takes little of the
  # two cores from smppd (a shell loop forking curl every second took about 4%
  # of the machine): one client on one keep-alive connection posts an OTP
  # every 50 ms from a second after the start, and the message log's
  # memory by part is sampled every second (smppd_log_memory_bytes; the
  # largest value of each is printed after the run) until smppd exits.
  : >"$work/arrivals"
  : >"$work/memory"
  python3 - "$api" "$otps" "${metrics:-0}" "$work/memory" >"$work/otp-ids" <<'PY' &
import http.client, json, sys, time
api, n, metrics, memory = int(sys.argv[1] or 0), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
start = time.monotonic()
next_otp, next_sample, sent = start + 1.0, start, 0
otp_conn = http.client.HTTPConnection("127.0.0.1", api, timeout=10) if api else None
with open(memory, "a") as mem:
    while True:
        now = time.monotonic()
        if metrics and now >= next_sample:
            next_sample += 1.0
            try:
                c = http.client.HTTPConnection("127.0.0.1", metrics, timeout=10)
                c.request("GET", "/metrics")
                for line in c.getresponse().read().decode().splitlines():
                    if line.startswith(("smppd_log_memory_bytes", "smppd_log_cached_records")):
                        mem.write(line + "\n")
                c.close()
            except (OSError, http.client.HTTPException):
                break  # smppd has exited
        if otp_conn and sent < n and now >= next_otp:
            body = json.dumps({"to": "+3707%07d" % (sent + 1), "text": "Your code is %d" % (1001 + sent), "from": "ACME"})
            try:
                otp_conn.request("POST", "/v1/messages", body, {"Content-Type": "application/json"})
                print(json.loads(otp_conn.getresponse().read())["id"], flush=True)
                sent += 1
                next_otp = time.monotonic() + 0.05
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                otp_conn = None  # smppd finished (--once) or refused: no more OTPs
        if not metrics and (otp_conn is None or sent >= n):
            break
        wake = min(next_sample if metrics else float("inf"), next_otp if otp_conn and sent < n else float("inf"))
        time.sleep(max(0.0, wake - time.monotonic()))
PY
  sampler_pid=$!
  wait "$smppd_pid" || { echo "e2e_bench: smppd failed:" >&2; cat "$work/smppd.err" >&2; exit 1; }
  # The run ends when smppd does (the driver notices within a second).
  end=$(date +%s.%N)
  smppd_pid=""
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=""
  settled=$(sed -n 's/^  rows *\([0-9]*\).*/\1/p' "$work/report.txt")
  # The figure counts only if every message was settled by its receipt,
  # reconciled in the log (smsc-sim delivers them all).
  delivered=$(sed -n '/^Campaign e2e$/,/^Campaign /s/^    delivered *\([0-9]*\).*/\1/p' "$work/report.txt" | head -1)
  if [[ $settled != "$rows" || $delivered != "$rows" ]]; then
    echo "e2e_bench: run $run: ${delivered:-0} of $rows messages delivered (${settled:-0} rows): not every receipt was reconciled" >&2
    cat "$work/report.txt" >&2
    exit 1
  fi
  rate=$(awk -v n="${settled:-0}" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", n / (b - a) }')
  rss=$(awk '{ printf "%.1f", $1 / 1024 }' "$work/rss.txt")
  # smppd's CPU time (user + system): its work, to which other processes
  # on the host add nothing; compare builds by it in interleaved runs.
  cpu=$(awk '{ printf "%.1f", $2 + $3 }' "$work/rss.txt")
  # Each OTP's acceptance from the log (all read at once), its first
  # arrival from smsc-sim.
  : >"$work/otps.json"
  if [[ -s $work/otp-ids ]]; then
    # shellcheck disable=SC2046 # one id a word
    "$build/bin/smppctl" message --data-dir "$work/data" --json $(cat "$work/otp-ids") >"$work/otps.json" || true
  fi
  python3 - "$work/otps.json" "$work/arrivals" >"$work/lat" <<'PY'
import datetime, json, sys
arrived = {}
for line in open(sys.argv[2]):
    to, us = line.split()
    arrived.setdefault(to, int(us))
text = open(sys.argv[1]).read().strip()
found = json.loads(text) if text else []
for m in found if isinstance(found, list) else [found]:
    queued = datetime.datetime.strptime(m["queued"], "%Y-%m-%dT%H:%M:%S.%fZ")
    queued = queued.replace(tzinfo=datetime.timezone.utc).timestamp()
    at = arrived.get(m["recipient"].lstrip("+"))
    print("%.1f" % ((at / 1e6 - queued) * 1000) if at else "lost %s" % m["recipient"])
PY
  if grep -q lost "$work/lat"; then echo "e2e_bench: OTPs never reached smsc-sim:" >&2; grep lost "$work/lat" >&2; exit 1; fi
  p50=$(median <"$work/lat")
  p99=$(sort -n "$work/lat" | awk '{ v[NR] = $1 } END { i = int((NR * 99 + 99) / 100); if (i < 1) i = 1; print v[i] }')
  printf '%-4s %12s %10s %10s %12s %12s\n' "$run" "$rate" "$rss" "$cpu" "$p50" "$p99"
  awk '{ k = $1; sub(/^smppd_log_/, "", k); sub(/memory_bytes\{part="/, "", k); sub(/"\}/, "", k)
         if (!(k in max) || $2 + 0 > max[k]) max[k] = $2 + 0 }
       END { if (length(max)) printf "     log memory at its largest: memtables %.0f MiB, block cache %.0f MiB (pinned %.0f), table readers %.0f MiB, %d cached records\n",
               max["memtables"] / 1048576, max["block_cache"] / 1048576, max["block_cache_pinned"] / 1048576,
               max["table_readers"] / 1048576, max["cached_records"] }' "$work/memory"
  echo "$rate" >>"$work/rates"
  echo "$rss" >>"$work/rss"
  echo "$p99" >>"$work/p99"
  echo "$cpu" >>"$work/cpu"
done
printf '%-4s %12s %10s %10s %12s %12s\n' median "$(median <"$work/rates")" "$(median <"$work/rss")" "$(median <"$work/cpu")" "" "$(median <"$work/p99")"
