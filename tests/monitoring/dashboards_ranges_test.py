#!/usr/bin/env python3
"""dashboards_ranges_test.py: the dashboards are right at 1 h, 24 h, 7 d and 30 d.

30 days of canary bursts are backfilled (promtool tsdb create-blocks-from
openmetrics) for a fleet of targets at a 1-minute scrape, with failures and
latency steps of known size; the rollup group of alerts/canary.yml (taken
verbatim) is evaluated over them and backfilled the same way; a real
Prometheus on 127.0.0.1 serves the result. Every query of every dashboard is
then run at each range the way Grafana would send it for a full-width panel
(dashboard_queries.py: step, aligned range, $__interval, variables), and:

  - no query errors;
  - "Failed requests by result class" (Target detail) equals the injected failures
    of each step exactly, at every step of every range; "Failed share by
    target" (overview) equals injected failed / sent for every target and
    step; the SLO's 30-day stats equal the injected totals of the rollup
    windows they read;
  - the injected latency steps (40 -> 200 ms) show at every range: pooled
    p95 below 60 ms before, above 150 ms after;
  - for 1000 targets at a 15 s scrape, the samples each query may hold at
    once stay within Prometheus's default --query.max-samples: every
    selected series' window at one step (projected to 1000 targets and 15 s
    from the series each selector matches), plus the rest of the peak
    Prometheus reports for the backfill, scaled to 1000 targets.

The fleet is smaller than 1000 targets so CI can afford it (default 20
targets, 1-minute bursts, 30 days: CANARY_RANGES_TARGETS to change); target
t00 carries every /probe series, the others the ones the panels need most.

Usage: dashboards_ranges_test.py [--bench N]   (--bench: time the 30-day
queries N times each and print a table instead of asserting; bench/ uses it)
"""

import argparse
import bisect
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import yaml  # python3-yaml, a dependency of yamllint

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dashboard_queries as dq  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DAY = 86400
CADENCE = 60            # s between bursts (the scrape interval of the backfill)
DAYS = 30
SENT = 20               # requests per burst
BURST_OFFSET = 17       # bursts at hh:mm:17, off every step and rollup boundary
FAST, SLOW = 0.040, 0.200
RECENT_STEP = 50 * 60   # every target: 200 ms in the last 50 minutes
LONG_STEP = 10 * DAY    # t00..t(n/4): 200 ms in the last 10 days
RANGES = [("1h", 3600), ("24h", DAY), ("7d", 7 * DAY), ("30d", 30 * DAY)]
MAX_POINTS = 1000       # Grafana's maxDataPoints: the panel's width in pixels
MAX_SAMPLES = 50_000_000  # Prometheus's default --query.max-samples
FLEET, FLEET_SCRAPE, RULE_EVAL = 1000, 15, 60

# The module's buckets (buckets = [0.05, 0.1, 0.25]): every target the same,
# so pooled histograms add up bucket by bucket.
BUCKETS = ["0.05", "0.1", "0.25", "+Inf"]
CLASSES = ["success", "http_status", "validation", "timeout", "connect", "dns", "tls",
           "protocol", "other"]
PHASES = ["resolve", "connect", "tls", "processing", "transfer"]

failures = []
def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def ok(msg):
    print("ok: " + msg, flush=True)


# --- the fleet's bursts ---------------------------------------------------------
class Fleet:
    def __init__(self, n, now):
        self.n = n
        self.now = now
        first = (now - DAYS * DAY - 3600) // CADENCE * CADENCE
        self.times = list(range(first + BURST_OFFSET, now, CADENCE))
        self.names = [f"t{i:02d}" for i in range(n)]
        self.inst = [f"http://{name}.test/" for name in self.names]
        self.bursts = {}  # instance -> list of (t, failed, http5xx, timeouts, latency)
        for i, inst in enumerate(self.inst):
            rng = random.Random(i)
            rows = []
            outage = (now - (3 + i % 5) * DAY, now - (3 + i % 5) * DAY + 1800)
            for t in self.times:
                if outage[0] <= t < outage[1]:
                    f5 = SENT if i % 2 else 0
                    to = SENT - f5
                elif rng.random() < 0.03:
                    f = rng.randint(1, SENT)
                    f5 = rng.randint(0, f)
                    to = f - f5
                else:
                    f5 = to = 0
                slow = t >= now - RECENT_STEP or (i < max(1, n // 4) and t >= now - LONG_STEP)
                rows.append((t, f5 + to, f5, to, SLOW if slow else FAST))
            self.bursts[inst] = rows
        self.cum_failed = {}
        for inst, rows in self.bursts.items():
            cum = [0]
            for r in rows:
                cum.append(cum[-1] + r[1])
            self.cum_failed[inst] = cum

    def failed_between(self, inst, lo, hi):
        """Injected failed and sent requests of the bursts with lo < t <= hi."""
        a = bisect.bisect_right(self.times, lo)
        b = bisect.bisect_right(self.times, hi)
        cum = self.cum_failed[inst]
        return cum[b] - cum[a], (b - a) * SENT

    def write_openmetrics(self, path, targets, full_from):
        """One file per call; series after series, samples in time order."""
        with open(path, "w") as out:
            w = out.write
            for idx in targets:
                inst = self.inst[idx]
                labels = f'instance="{inst}",job="canary",module="canary"'
                rows = self.bursts[inst]
                full = idx == 0
                buckets = BUCKETS

                def series(name, extra, values, rows=rows):
                    lab = labels + ("," + extra if extra else "")
                    pre = f"{name}{{{lab}}} "
                    w("".join(f"{pre}{v} {r[0]}\n" for r, v in zip(rows, values) if v is not None))

                series("probe_success", "", ["1" if r[1] == 0 else "0" for r in rows])
                series("probe_http_requests_sent", "", [str(SENT)] * len(rows))
                for cls in (CLASSES if full else ["success", "http_status", "timeout"]):
                    if cls == "success":
                        vals = [str(SENT - r[1]) for r in rows]
                    elif cls == "http_status":
                        vals = [str(r[2]) for r in rows]
                    elif cls == "timeout":
                        vals = [str(r[3]) for r in rows]
                    else:
                        vals = ["0"] * len(rows)
                    series("probe_http_requests", f'result="{cls}"', vals)
                series("probe_http_responses", 'code="200"', [str(SENT - r[1]) for r in rows])
                series("probe_http_responses", 'code="500"', [str(r[2]) if r[2] else None for r in rows])
                for le in buckets:
                    vals = [str(SENT - r[3]) if (le == "+Inf" or float(le) >= r[4]) else "0" for r in rows]
                    series("probe_http_request_duration_seconds_bucket", f'le="{le}"', vals)
                series("probe_http_request_duration_seconds_count", "", [str(SENT - r[3]) for r in rows])
                series("probe_http_request_duration_seconds_sum", "", [f"{(SENT - r[3]) * r[4]:.3f}" for r in rows])
                if not full:
                    continue
                recent = [r for r in rows if r[0] >= full_from]

                def rseries(name, extra, values):
                    series(name, extra, values, rows=recent)

                for m, v in (("probe_http_requests_planned", str(SENT)), ("probe_http_requests_dropped", "0"),
                             ("probe_burst_truncated", "0"), ("probe_cached", "0"),
                             ("probe_timeout_seconds", "9.5"), ("probe_http_received_bytes", "840")):
                    rseries(m, "", [v] * len(recent))
                rseries("probe_duration_seconds", "", [f"{1 + r[4]:.3f}" for r in recent])
                for q in ("0.5", "0.9", "0.95", "0.99", "1"):
                    rseries("probe_http_request_duration_quantile_seconds", f'quantile="{q}"',
                            [f"{r[4]:.3f}" for r in recent])
                rseries("probe_http_threshold_passed", 'threshold="p(95)<180ms"',
                        ["1" if r[4] < 0.18 and r[1] == 0 else "0" for r in recent])
                for ph in PHASES:
                    share = {"processing": 0.9, "transfer": 0.1}.get(ph, 0.0)
                    for le in BUCKETS:
                        vals = [str(SENT - r[3]) if (le == "+Inf" or float(le) >= r[4] * share) else "0"
                                for r in recent]
                        rseries("probe_http_phase_duration_seconds_bucket", f'le="{le}",phase="{ph}"', vals)
                    rseries("probe_http_phase_duration_seconds_count", f'phase="{ph}"',
                            [str(SENT - r[3]) for r in recent])
                    rseries("probe_http_phase_duration_seconds_sum", f'phase="{ph}"',
                            [f"{(SENT - r[3]) * r[4] * share:.4f}" for r in recent])
            w("# EOF\n")


# --- processes ----------------------------------------------------------------
def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_prometheus(tmp, data):
    port = free_port()
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1m\n")
    log = open(os.path.join(tmp, f"prometheus-{port}.log"), "w")
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={data}",
         f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=60d",
         "--query.max-samples=50000000"], stdout=log, stderr=subprocess.STDOUT)
    prom = dq.Prometheus(f"http://127.0.0.1:{port}")
    for _ in range(120):
        try:
            import urllib.request
            with urllib.request.urlopen(prom.url + "/-/ready", timeout=5) as r:
                if r.status == 200:
                    return proc, prom
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"FATAL: prometheus did not become ready: {open(log.name).read()[-2000:]}")


def stop(proc):
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def rollup_rules(path):
    """The canary-rollups group of alerts/canary.yml, verbatim."""
    text = open(os.path.join(ROOT, "alerts", "canary.yml")).read()
    start = text.index("  - name: canary-rollups\n")
    nxt = text.find("\n  - name: ", start + 1)
    group = text[start:] if nxt < 0 else text[start:nxt + 1]
    with open(path, "w") as f:
        f.write("groups:\n" + group)
    parsed = yaml.safe_load("groups:\n" + group)["groups"][0]
    return dq.parse_duration(parsed["interval"]), parsed


def build(tmp, n, now):
    fleet = Fleet(n, now)
    t0 = time.time()
    # Two files converted in parallel (2 cores); t00 is the heavy one.
    halves = [[0] + list(range(2, n, 2)), list(range(1, n, 2))]
    files = [os.path.join(tmp, f"bursts{i}.om") for i in range(2)]
    for f, targets in zip(files, halves):
        fleet.write_openmetrics(f, targets, full_from=now - 8 * DAY)
    nsamples = sum(sum(1 for _ in open(f)) - 1 for f in files)
    ok(f"generated {nsamples} samples of {n} targets x {len(fleet.times)} bursts in {time.time() - t0:.0f} s")
    t0 = time.time()
    data = os.path.join(tmp, "data")
    procs = [subprocess.Popen(["promtool", "tsdb", "create-blocks-from", "openmetrics",
                               "--max-block-duration=240h", "--quiet", f, data],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for f in files]
    for p in procs:
        _, err = p.communicate()
        if p.returncode:
            raise SystemExit(f"FATAL: backfill failed: {err.decode()[-2000:]}")
    for f in files:
        os.remove(f)
    ok(f"backfilled in {time.time() - t0:.0f} s")

    # The rollups: each rule of the group evaluated at every group interval
    # over the 30 days by a Prometheus on the backfill (a range query with
    # step = interval evaluates exactly as the rule manager would at those
    # times), written back as blocks. promtool's create-blocks-from rules does
    # the same but writes one block per rule and 2 hours: 2000+ blocks, minutes.
    rules = os.path.join(tmp, "rollups.yml")
    rollup, group = rollup_rules(rules)
    subprocess.run(["promtool", "check", "rules", rules], check=True, stdout=subprocess.DEVNULL)
    proc, prom = start_prometheus(tmp, data)
    t0 = time.time()
    rstart = (fleet.times[0] // 3600 + 1) * 3600
    rend = now // 3600 * 3600
    om = os.path.join(tmp, "rollups.om")
    nrec = 0
    with open(om, "w") as out:
        for rule in group["rules"]:
            res = prom.query_range(rule["expr"], rstart, rend, rollup)
            if res.get("status") != "success":
                stop(proc)
                raise SystemExit(f"FATAL: rule {rule['record']}: {res.get('error')}")
            for series in res["data"]["result"]:
                labels = dict(series["metric"], **rule.get("labels", {}))
                labels.pop("__name__", None)
                lab = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
                out.write("".join(f"{rule['record']}{{{lab}}} {v} {t}\n" for t, v in series["values"]))
                nrec += len(series["values"])
        out.write("# EOF\n")
    stop(proc)
    r = subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics",
                        "--max-block-duration=240h", "--quiet", om, data], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"FATAL: rollup backfill failed: {r.stderr[-2000:]}")
    ok(f"{len(group['rules'])} rollup rules evaluated every {dq.fmt_duration(rollup)}: "
       f"{nrec} samples in {time.time() - t0:.0f} s")
    return fleet, data, rollup


# --- the checks ---------------------------------------------------------------
def load_dashboards():
    out = {}
    for name in sorted(os.listdir(os.path.join(ROOT, "dashboards"))):
        if name.endswith(".json"):
            with open(os.path.join(ROOT, "dashboards", name)) as f:
                out[name] = json.load(f)
    return out


def min_interval(panel, variables):
    iv = panel.get("interval") or ""
    iv = dq.substitute(iv, variables)
    return dq.parse_duration(iv) if iv else None


def run_query(prom, q, variables, range_s, now, stats=False):
    """The request Grafana sends for q over [now - range_s, now]."""
    mi = min_interval(q["panel"], variables)
    step = dq.grafana_step(range_s, MAX_POINTS, mi)
    scrape = mi or 15
    expr = dq.substitute(q["expr"], variables, step, range_s, dq.rate_interval(step, scrape))
    if q["instant"]:
        return expr, step, None, prom.query(expr, now, stats)
    start, end = dq.aligned_range(now - range_s, now, step)
    return expr, step, (start, end), prom.query_range(expr, start, end, step, stats)


SEL_RE = None


def selectors(expr):
    """(metric, matchers, range seconds or None) of each vector selector."""
    import re
    global SEL_RE
    if SEL_RE is None:
        SEL_RE = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{((?:[^{}"]|"(?:[^"\\]|\\.)*")*)\}'
                            r'(?:\[([0-9a-z]+)\])?')
    out = []
    for m in SEL_RE.finditer(expr):
        name = m.group(1)
        if name in ("by", "without", "on", "ignoring", "group_left", "group_right"):
            continue
        out.append((name, m.group(2), dq.parse_duration(m.group(3)) if m.group(3) else None))
    import re as _re
    for m in _re.finditer(r'(?<![\w:"])\{(__name__[^{}]*)\}(?:\[([0-9a-z]+)\])?', expr):
        out.append(("", m.group(1), dq.parse_duration(m.group(2)) if m.group(2) else None))
    return out


def windows(prom, expr, lo, hi, rollup):
    """The samples the range selectors of expr read at one step, all series
    at once: (for the backfill as it is, projected to FLEET targets at a
    FLEET_SCRAPE scrape, how many times more targets the query would see)."""
    here = fleet_total = 0
    scale = 1.0
    for name, matchers, rng in selectors(expr):
        match = f"{name}{{{matchers}}}" if name else f"{{{matchers}}}"
        res = prom.series(match, lo, hi)
        series = res.get("data", []) if res.get("status") == "success" else []
        insts = {s.get("instance") for s in series}
        k = FLEET / len(insts) if len(insts) > 1 else 1.0
        scale = max(scale, k)
        if rng is None:
            continue
        if name.startswith("canary:") and name.endswith("_rollup"):
            per, per_fleet = rng / rollup + 1, rng / rollup + 1
        elif name.startswith("canary:"):
            per, per_fleet = rng / RULE_EVAL + 1, rng / RULE_EVAL + 1
        else:
            per, per_fleet = rng / CADENCE + 1, rng / FLEET_SCRAPE + 1
        here += len(series) * per
        fleet_total += len(series) * k * per_fleet
    return here, fleet_total, scale


def projected_samples(prom, expr, res, lo, hi, rollup):
    """Samples expr would hold at once for FLEET targets at FLEET_SCRAPE:
    the range selectors' windows of every series at one step (more than
    Prometheus holds: it reads one series' window at a time), plus the rest of
    the peak Prometheus reports for the backfill (results per step and
    series), scaled by the number of targets."""
    peak = res.get("data", {}).get("stats", {}).get("samples", {}).get("peakSamples")
    if peak is None:
        return None
    here, fleet_total, scale = windows(prom, expr, lo, hi, rollup)
    return fleet_total + max(0, peak - here) * scale


def check_failed_per_step(fleet, res, inst, step, span, what):
    got = {}
    for s in res["data"]["result"]:
        for t, v in s["values"]:
            got[int(t)] = got.get(int(t), 0) + float(v)
    bad, total_got, total_truth = 0, 0, 0
    t = span[0]
    while t <= span[1]:
        truth, _ = fleet.failed_between(inst, t - step, t)
        g = got.get(int(t), 0)
        total_got += g
        total_truth += truth
        if abs(g - truth) > 1e-6:
            if bad < 3:
                fail(f"{what}: step {t}: {g} failed requests, injected {truth}")
            bad += 1
        t += step
    if not bad:
        ok(f"{what}: equal to the injected failures at each of {int((span[1] - span[0]) / step) + 1} steps (total {total_got:.0f})")


def check_share_per_step(fleet, res, step, span, what):
    bad = checked = 0
    for s in res["data"]["result"]:
        inst = s["metric"].get("instance")
        for t, v in s["values"]:
            f, n = fleet.failed_between(inst, float(t) - step, float(t))
            checked += 1
            if n == 0 or abs(float(v) - f / n) > 1e-9:
                if bad < 3:
                    fail(f"{what}: {inst} at {t}: share {v}, injected {f}/{n}")
                bad += 1
    if checked < len(fleet.inst):
        fail(f"{what}: only {checked} values")
    elif not bad:
        ok(f"{what}: failed share = injected for {len(res['data']['result'])} targets x every step ({checked} values)")


def check_latency_step(res, step, span, step_at, what):
    vals = []
    for s in res["data"]["result"]:
        vals += [(float(t), float(v)) for t, v in s["values"] if v not in ("NaN", "+Inf")]
    # Windows that end before the step, and windows at least a fifth of which
    # (a fifth of the requests) comes after it: their p95 is in the slow bucket.
    before = [v for t, v in vals if t <= step_at]
    after = [v for t, v in vals if t >= step_at + step / 5]
    if span[0] < step_at and not before:
        fail(f"{what}: no value before the step")
        return
    if not after:
        fail(f"{what}: no value after the step")
        return
    if (before and max(before) >= 0.06) or min(after) <= 0.15:
        fail(f"{what}: p95 before the step up to {max(before) if before else '-'}, after from {min(after)}")
    else:
        ok(f"{what}: p95 {max(before) * 1000 if before else float('nan'):.1f} ms before the step, "
           f"{min(after) * 1000:.1f} ms after")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", type=int, default=0)
    args = ap.parse_args()
    for tool in ("promtool", "prometheus"):
        if not shutil.which(tool):
            raise SystemExit(f"FATAL: {tool} not installed (scripts/setup.sh --test)")
    n = int(os.environ.get("CANARY_RANGES_TARGETS", "20"))
    started = time.time()
    # promtool writes one block per rule and 2 hours (2000+ for 30 days):
    # on tmpfs their fsyncs cost nothing.
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    tmp = tempfile.mkdtemp(prefix="dash-ranges-", dir=shm)
    proc = None
    try:
        now = int(time.time()) // 60 * 60 - 60
        fleet, data, rollup = build(tmp, n, now)
        proc, prom = start_prometheus(tmp, data)
        ok(f"prometheus up after {time.time() - started:.0f} s")
        dashboards = load_dashboards()
        if args.bench:
            bench(prom, dashboards, fleet, now, args.bench)
            return 0
        check(prom, dashboards, fleet, now, rollup)
    finally:
        if proc:
            stop(proc)
        if os.environ.get("KEEP_TMP"):
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"total {time.time() - started:.0f} s")
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("PASS")
    return 0


def user_choices(name, fleet, target):
    """What a user picks: Target detail on one target, the rest on All."""
    if name == "canary-target.json":
        return {"job": "canary", "instance": target, "module": "canary", "scrape_interval": "1m"}
    return {"job": [".*"], "instance": [".*"], "module": [".*"], "scrape_interval": "1m"}


def all_regex(values):
    return {k: (".*" if isinstance(v, list) and v == [".*"] else v) for k, v in values.items()}


def check(prom, dashboards, fleet, now, rollup):
    slow_target = fleet.inst[0]           # 200 ms for 10 days, every failure kind
    fast_target = fleet.inst[-1]          # 200 ms only in the last 50 minutes
    nq = 0
    worst = (0, "")
    for name, dash in dashboards.items():
        for target in ([slow_target, fast_target] if name == "canary-target.json" else [None]):
            chosen = user_choices(name, fleet, target)
            variables = dq.resolve_variables(dash, prom, chosen, now - 31 * DAY, now)
            for v in ("job", "instance", "module"):
                if variables.get(v) == [".*"]:
                    variables[v] = ".*"
            for q, qvars in dq.with_repeats(dq.queries(dash), variables):
                for rname, rs in RANGES:
                    expr, step, span, res = run_query(prom, q, qvars, rs, now, stats=True)
                    nq += 1
                    what = f"{name} / {q['title']} / {q['ref']} at {rname}" + (f" ({target})" if target else "")
                    if res.get("status") != "success":
                        fail(f"{what}: {res.get('error')}: {expr}")
                        continue
                    lo = (span[0] if span else now) - 31 * DAY
                    bound = projected_samples(prom, expr, res, lo, now, rollup)
                    if bound is None:
                        fail(f"{what}: Prometheus reported no peakSamples (stats=all)")
                    elif bound > MAX_SAMPLES:
                        fail(f"{what}: for {FLEET} targets at {FLEET_SCRAPE} s it may hold {bound:.3g} samples > {MAX_SAMPLES}")
                    elif bound > worst[0]:
                        worst = (bound, what)
                    t = q["title"]
                    if t == "Failed requests by result class":
                        check_failed_per_step(fleet, res, target, step, span, what)
                    elif t == "Failed share by target":
                        check_share_per_step(fleet, res, step, span, what)
                    elif t == "Pooled latency vs baseline" and q["ref"] == "B":
                        if target == fast_target:
                            check_latency_step(res, step, span, now - RECENT_STEP, what)
                        elif rname == "30d":
                            check_latency_step(res, step, span, now - LONG_STEP, what)
                    elif t == "Pooled p95 by target" and rname in ("30d",):
                        sub = {"data": {"result": [s for s in res["data"]["result"]
                                                   if s["metric"].get("instance") == fast_target]}}
                        check_latency_step(sub, step, span, now - RECENT_STEP, what + " " + fast_target)
                    elif t in ("Failed requests (30d)", "Requests (30d)", "Availability (30d)") and rname == "1h":
                        check_slo_stat(prom, fleet, res, t, now, rollup, what)
                    elif t == "Pooled p95 (30d)" and rname == "1h":
                        v = (float(res["data"]["result"][0]["value"][1])
                             if res["data"].get("resultType") == "vector" and res["data"]["result"] else None)
                        # A quarter of the targets ran at 200 ms for a third of the month:
                        # ~8 % of all requests, so the fleet's p95 is in the 0.1-0.25 bucket.
                        if v is None or not 0.1 < v <= 0.25:
                            fail(f"{what}: {v}, expected the 200 ms bucket")
                        else:
                            ok(f"{what}: {v * 1000:.0f} ms (a quarter of the fleet ran at 200 ms for 10 days)")
    ok(f"{nq} query runs, every dashboard query at {', '.join(r for r, _ in RANGES)}")
    ok(f"largest projected for {FLEET} targets at {FLEET_SCRAPE} s: {worst[0]:.3g} samples ({worst[1]}); "
       f"limit {MAX_SAMPLES}")


def check_slo_stat(prom, fleet, res, title, now, rollup, what):
    # The rollup samples the 30-day window holds, and what they cover.
    r = prom.query(f"canary:probe_http_requests:sum_rollup{{instance=\"{fleet.inst[0]}\"}}[30d]", now)
    stamps = [float(t) for t, _ in r["data"]["result"][0]["values"]] if r["data"]["result"] else []
    if not stamps:
        fail(f"{what}: no rollup samples")
        return
    f = s = 0
    for inst in fleet.inst:
        for e in stamps:
            ff, ss = fleet.failed_between(inst, e - rollup, e)
            f += ff
            s += ss
    want = {"Failed requests (30d)": f, "Requests (30d)": s, "Availability (30d)": 1 - f / s}[title]
    if res["data"].get("resultType") != "vector":
        fail(f"{what}: not an instant query (a stat of the latest 30 days)")
        return
    got = float(res["data"]["result"][0]["value"][1]) if res["data"]["result"] else None
    if got is None or abs(got - want) > 1e-9 * max(1, abs(want)):
        fail(f"{what}: {got}, injected {want}")
    else:
        ok(f"{what}: {got:.6g} = injected over the {len(stamps)} hourly rollups in 30 days")


def bench(prom, dashboards, fleet, now, reps):
    print(f"# 30-day queries, {fleet.n} targets x {len(fleet.times)} bursts (1 per {CADENCE} s), "
          f"median of {reps} runs, Grafana step for a {MAX_POINTS}-point panel")
    print("| dashboard | panel | query | step | seconds | samples touched |")
    print("|---|---|---|---|---|---|")
    for name, dash in dashboards.items():
        chosen = user_choices(name, fleet, fleet.inst[0])
        variables = dq.resolve_variables(dash, prom, chosen, now - 31 * DAY, now)
        for v in ("job", "instance", "module"):
            if variables.get(v) == [".*"]:
                variables[v] = ".*"
        for q, qvars in dq.with_repeats(dq.queries(dash), variables):
            times = []
            total = None
            for _ in range(reps):
                t0 = time.perf_counter()
                expr, step, span, res = run_query(prom, q, qvars, 30 * DAY, now, stats=True)
                times.append(time.perf_counter() - t0)
                total = res.get("data", {}).get("stats", {}).get("samples", {}).get("totalQueryableSamples")
            times.sort()
            print(f"| {name} | {q['title']} | {q['ref']} | {dq.fmt_duration(step)} | "
                  f"{times[len(times) // 2]:.3f} | {total} |")


if __name__ == "__main__":
    sys.exit(main())
