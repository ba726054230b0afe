#!/usr/bin/env python3
"""The monitoring files against a real Prometheus.

  monitoring_test.py lint DASHBOARD
      The Grafana dashboard is JSON Grafana imports: a Prometheus
      datasource variable that every panel and target uses, unique panel
      ids, a PromQL expression in every target, panels inside the grid.

  monitoring_test.py e2e --smppd BIN --sim BIN --source DIR
      smsc-sim, smppd sending a campaign and Debian's prometheus (on
      127.0.0.1, a free port, a temporary storage directory, scraping every
      second with deploy/prometheus/smppd-alerts.yml loaded) run together;
      then every expression of the dashboard returns data through
      Prometheus' HTTP API, every alert expression evaluates without error,
      and every rule is healthy; the variables find their values. Processes are stopped by PID; the
      temporary directory is removed. About 20 seconds.
"""

import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

# What the dashboard's variables stand for when every value is chosen.
VARIABLES = {"instance": ".*", "operator": ".*", "smsc": ".*", "campaign": ".*", "__rate_interval": "1m"}


def fail(message):
    print(f"monitoring_test: {message}", file=sys.stderr)
    sys.exit(1)


def panels(dashboard):
    """Every panel, those inside collapsed rows too."""
    for p in dashboard.get("panels", []):
        yield p
        yield from p.get("panels", [])


def expressions(dashboard):
    """(panel title, expression with the variables filled in) for every target."""
    for p in panels(dashboard):
        for t in p.get("targets", []):
            yield p["title"], substitute(t["expr"])


def substitute(expr):
    for name, value in VARIABLES.items():
        expr = expr.replace("$" + name, value).replace("${" + name + "}", value)
    return expr


def variable_queries(dashboard):
    """(variable, series selector, label) for each label_values() variable."""
    for v in dashboard.get("templating", {}).get("list", []):
        if v["type"] != "query":
            continue
        m = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", v["query"].strip())
        if not m:
            fail(f"variable {v['name']}: not label_values(SELECTOR, LABEL): {v['query']}")
        yield v["name"], substitute(m.group(1)), m.group(2)


def lint(path):
    with open(path, encoding="utf-8") as f:
        try:
            d = json.load(f)
        except json.JSONDecodeError as e:
            fail(f"{path}: not JSON: {e}")
    problems = []
    variables = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problems.append("no datasource variable of type prometheus named 'datasource'")
    want_ds = {"type": "prometheus", "uid": "${datasource}"}
    for v in variables.values():
        if v["type"] == "query" and v.get("datasource") != want_ds:
            problems.append(f"variable {v['name']}: datasource is not ${{datasource}}")
    for key in ("title", "uid", "schemaVersion", "panels"):
        if key not in d:
            problems.append(f"no {key}")
    ids = set()
    for p in panels(d):
        where = f"panel {p.get('id')} ({p.get('title')!r})"
        if p.get("id") in ids:
            problems.append(f"{where}: id used twice")
        ids.add(p.get("id"))
        g = p.get("gridPos", {})
        if not all(k in g for k in "hwxy") or g["x"] + g["w"] > 24:
            problems.append(f"{where}: gridPos {g} outside the 24-column grid")
        if p["type"] == "row":
            continue
        if p.get("datasource") != want_ds:
            problems.append(f"{where}: datasource is not ${{datasource}}")
        if not p.get("targets"):
            problems.append(f"{where}: no targets")
        for t in p.get("targets", []):
            if t.get("datasource") != want_ds or not t.get("expr", "").strip():
                problems.append(f"{where}: target {t.get('refId')} lacks the datasource or an expression")
        used = set(re.findall(r"\$\{?(\w+)", json.dumps(p.get("targets", []))))
        unknown = used - set(variables) - {"__rate_interval", "datasource"}
        if unknown:
            problems.append(f"{where}: unknown variables {sorted(unknown)}")
    for _ in variable_queries(d):
        pass  # each variable's query parses
    if problems:
        fail(f"{path}:\n  " + "\n  ".join(problems))
    print(f"monitoring_test: {path}: {len(ids)} panels, {sum(1 for _ in expressions(d))} expressions: OK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Children started here, stopped by PID (SIGTERM, then SIGKILL)."""

    def __init__(self):
        self.children = []

    def start(self, args, log):
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.children.append(p)
        return p

    def stop_all(self):
        for p in reversed(self.children):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def wait_for_line(path, pattern, process, timeout):
    """The first match of `pattern` in the file a process writes to."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, encoding="utf-8", errors="replace") as f:
            m = re.search(pattern, f.read())
        if m:
            return m
        if process.poll() is not None:
            break
        time.sleep(0.05)
    with open(path, encoding="utf-8", errors="replace") as f:
        fail(f"no {pattern!r} from {process.args[0]}:\n{f.read()}")


class Prometheus:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path, **params):
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            return json.load(e)  # the API explains its 4xx/5xx in JSON

    def ready(self):
        try:
            with urllib.request.urlopen(self.base + "/-/ready", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def query(self, expr):
        return self.get("/api/v1/query", query=expr)


def has_data(answer):
    """A successful query with at least one sample that is a number."""
    if answer.get("status") != "success":
        return False
    result = answer["data"]["result"]
    if answer["data"]["resultType"] == "scalar":
        result = [{"value": result}]
    return any(not math.isnan(float(r["value"][1])) for r in result)


def e2e(args):
    source = os.path.abspath(args.source)
    dashboard_path = os.path.join(source, "deploy/grafana/smppd-dashboard.json")
    alerts_path = os.path.join(source, "deploy/prometheus/smppd-alerts.yml")
    with open(dashboard_path, encoding="utf-8") as f:
        dashboard = json.load(f)
    tmp = tempfile.mkdtemp(prefix="smppd-monitoring-test-")
    procs = Processes()
    started = time.monotonic()
    try:
        # smsc-sim refuses some submits (permanently) so that the error
        # panels have something to show.
        sim_log = open(os.path.join(tmp, "sim.log"), "w")
        sim = procs.start([args.sim, "--listen", "127.0.0.1:0", "--receipt-delay", "200",
                           "--reject", "0.1:ESME_RINVDSTADR", "--seed", "3"], sim_log)
        sim_port = int(wait_for_line(sim_log.name, r"listening on [\d.]+:(\d+)", sim, 10).group(1))

        # 600 recipients at 60 per second: the campaign lasts about 10 s,
        # sending while Prometheus scrapes.
        with open(os.path.join(tmp, "r.csv"), "w") as f:
            f.write("msisdn,name\n")
            for i in range(600):
                f.write(f"+3706{1000000 + i},N{i}\n")
        with open(os.path.join(tmp, "smppd.yaml"), "w") as f:
            f.write(f"""node: {{ data_dir: data, sync: every_10ms }}
api: {{ listen: "127.0.0.1:0" }}
metrics: {{ listen: "127.0.0.1:0" }}
smscs:
  - {{ name: sim, host: 127.0.0.1, port: {sim_port}, system_id: smppd, password: pw, binds: 2, window: 16 }}
operators:
  - {{ name: lt, prefixes: ["+370"], smscs: [sim], tps: 60 }}
numbering: {{ default_country_code: "370", trunk_prefix: "8" }}
campaigns:
  - {{ id: spring, recipients: r.csv, from: ACME, text: "Hi {{{{name}}}}, sale today" }}
""")
        smppd_log = open(os.path.join(tmp, "smppd.log"), "w")
        smppd = procs.start([args.smppd, "--config", os.path.join(tmp, "smppd.yaml")], smppd_log)
        metrics_port = int(wait_for_line(smppd_log.name, r"metrics listening on [\d.]+:(\d+)", smppd, 10).group(1))

        # Prometheus with the shipped rules; its configuration is the
        # shipped one's job with this target and a one-second interval.
        with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {alerts_path}
scrape_configs:
  - job_name: smppd
    static_configs:
      - targets: ["127.0.0.1:{metrics_port}"]
""")
        prom_port = free_port()
        prom_log = open(os.path.join(tmp, "prometheus.log"), "w")
        prometheus = procs.start([args.prometheus, f"--config.file={tmp}/prometheus.yml",
                                  f"--storage.tsdb.path={tmp}/tsdb", f"--web.listen-address=127.0.0.1:{prom_port}",
                                  "--log.level=warn"], prom_log)
        prom = Prometheus(prom_port)
        deadline = time.monotonic() + 15
        while not prom.ready():
            if prometheus.poll() is not None or time.monotonic() > deadline:
                with open(prom_log.name, encoding="utf-8", errors="replace") as f:
                    fail(f"prometheus did not become ready:\n{f.read()}")
            time.sleep(0.1)

        # Every dashboard expression must return data; some need a few
        # scrapes (rate() needs two samples, delivery ratios a receipt).
        pending = dict.fromkeys(expressions(dashboard))
        deadline = time.monotonic() + 25
        while pending and time.monotonic() < deadline:
            time.sleep(1)
            for key in list(pending):
                answer = prom.query(key[1])
                if has_data(answer):
                    del pending[key]
                else:
                    pending[key] = answer
        if pending:
            lines = [f"{title}: {expr}\n      -> {json.dumps(answer)[:300]}" for (title, expr), answer in pending.items()]
            fail(f"{len(pending)} dashboard expressions returned no data:\n  " + "\n  ".join(lines))
        n_panels = sum(1 for _ in expressions(dashboard))
        # The variables' choices come from these series' labels.
        for name, selector, label in variable_queries(dashboard):
            answer = prom.get(f"/api/v1/label/{label}/values", **{"match[]": selector})
            if answer.get("status") != "success" or not answer["data"]:
                fail(f"variable {name}: no values of {label} in {selector}: {answer}")

        # Every rule was evaluated, is healthy, and its expression runs.
        rules = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            groups = prom.get("/api/v1/rules")["data"]["groups"]
            rules = [r for g in groups for r in g["rules"]]
            if rules and all(r.get("lastEvaluation", "").startswith("20") for r in rules):
                break
            time.sleep(0.5)
        if len(rules) < 20:
            fail(f"prometheus loaded {len(rules)} rules from {alerts_path}")
        unhealthy = [f"{r['name']}: {r.get('health')} {r.get('lastError', '')}" for r in rules if r.get("health") != "ok"]
        if unhealthy:
            fail("unhealthy rules:\n  " + "\n  ".join(unhealthy))
        failed = []
        for r in rules:
            answer = prom.query(r["query"])
            if answer.get("status") != "success":
                failed.append(f"{r['name']}: {answer.get('error')}")
        if failed:
            fail("alert expressions failed:\n  " + "\n  ".join(failed))
        firing = [r["name"] for r in rules if r.get("state") == "firing"]
        if firing:
            fail(f"alerts firing on a healthy run: {firing}")

        if smppd.poll() is not None or sim.poll() is not None:
            fail("smppd or smsc-sim stopped during the test")
        print(f"monitoring_test: {n_panels} dashboard expressions returned data, "
              f"{len(rules)} alert rules healthy, in {time.monotonic() - started:.1f} s")
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("lint")
    p.add_argument("dashboard")
    p = sub.add_parser("e2e")
    p.add_argument("--smppd", required=True)
    p.add_argument("--sim", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--prometheus", default="prometheus")
    args = parser.parse_args()
    if args.command == "lint":
        lint(args.dashboard)
        return
    if not shutil.which(args.prometheus):
        print("monitoring_test: prometheus is not installed (Debian package prometheus; scripts/install-deps.sh)")
        sys.exit(77)
    e2e(args)


if __name__ == "__main__":
    main()
