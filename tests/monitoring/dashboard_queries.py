#!/usr/bin/env python3
"""Dashboard queries as Grafana would send them to Prometheus.

Shared by the monitoring tests (e2e_test.sh, dashboards_ranges_test.py) and
bench/dashboards_30d.sh. Reads dashboards/*.json verbatim and reproduces what
Grafana's Prometheus data source does with a panel query:

  - the step: Grafana's interval = roundInterval((to - from) / maxDataPoints)
    (maxDataPoints defaults to the panel's width in pixels), raised to the
    panel's min interval ("interval", template variables allowed) and to
    range / 11000 (Prometheus's point limit); start and end are aligned down
    to a multiple of the step;
  - $__interval, $__interval_ms, $__rate_interval (max(interval + scrape
    interval, 4 * scrape interval), the scrape interval being the panel's min
    interval), $__range, $__range_s, and dashboard variables (single values
    inserted as they are, multi/All values as a regex alternation).

Command line (for shell tests):
  dashboard_queries.py list [--var NAME=VALUE]... [--interval 5s] [--range 5m]
                           [--prometheus URL] DASHBOARD...
prints one line per query: dashboard, panel title, "true" when the panel's
description says it may be empty ("Empty when"; "until" when it says "Empty until": empty only
while history is missing, e.g. in a fresh Prometheus), "true" for an instant query,
the substituted expression in base64, and the query's refId, tab-separated.
"""

import argparse
import base64
import json
import math
import re
import sys
import urllib.parse
import urllib.request

# Grafana's rangeutil.roundInterval ladder, milliseconds: (below, rounded to).
_ROUND = [(10, 1), (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500),
          (1500, 1000), (3500, 2000), (7500, 5000), (12500, 10000), (17500, 15000),
          (25000, 20000), (45000, 30000), (90000, 60000), (210000, 120000),
          (450000, 300000), (750000, 600000), (1050000, 900000), (1500000, 1200000),
          (2700000, 1800000), (5400000, 3600000), (9000000, 7200000),
          (16200000, 10800000), (32400000, 21600000), (86400000, 43200000),
          (604800000, 86400000), (1814400000, 604800000), (3628800000, 2592000000)]

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}



def MayBeEmpty(description):
    """True for "Empty when ...", "until" for "Empty until ...", else False."""
    if "Empty when" in description:
        return True
    if "Empty until" in description:
        return "until"
    return False

def round_interval_ms(ms):
    for below, to in _ROUND:
        if ms < below:
            return to
    return 31536000000


def parse_duration(text):
    """'1m', '90s', '1h30m' -> seconds (float)."""
    total, pos = 0.0, 0
    for m in re.finditer(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)", text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(f"not a duration: {text!r}")
    return total


def fmt_duration(seconds):
    """Seconds -> the shortest exact Prometheus duration ('30m', '1h', '90s')."""
    ms = int(round(seconds * 1000))
    if ms % 1000:
        return f"{ms}ms"
    s = ms // 1000
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"


def panels(dashboard):
    """Every panel, rows' collapsed children included, with its row (or None)."""
    row = None
    for p in dashboard.get("panels", []):
        if p.get("type") == "row":
            row = p
            yield p, None
            for child in p.get("panels", []) or []:
                yield child, p
        else:
            yield p, row


def queries(dashboard):
    """Panel queries: dicts with panel, row, target, expr, instant."""
    out = []
    for panel, row in panels(dashboard):
        if panel.get("type") == "row":
            continue
        for target in panel.get("targets", []) or []:
            expr = target.get("expr") or ""
            if not expr:
                continue
            instant = bool(target.get("instant")) and not target.get("range", False)
            out.append({"dashboard": dashboard.get("uid", ""), "panel": panel, "row": row,
                        "title": panel.get("title", ""), "ref": target.get("refId", ""),
                        "expr": expr, "instant": instant,
                        "may_be_empty": MayBeEmpty(panel.get("description") or "")})
    return out


def with_repeats(qs, values):
    """(query, variables) pairs as Grafana renders them: a panel in a row that
    repeats over a variable appears once per selected value, with that value
    as a single one (one placeholder with "" when the variable has none)."""
    for q in qs:
        var = (q["row"] or {}).get("repeat") or q["panel"].get("repeat")
        if not var or var not in values:
            yield q, values
            continue
        chosen = values[var] if isinstance(values[var], list) else [values[var]]
        for v in chosen or [""]:
            yield q, dict(values, **{var: v})


def _var_value(value, multi):
    if isinstance(value, list):
        if len(value) == 1 and not multi:
            return value[0]
        # Regex-escaped, then escaped again for a PromQL string ("\\." is "\.").
        return "(" + "|".join(re.escape(v).replace("\\", "\\\\") for v in value) + ")"
    return value


def substitute(text, variables, interval_s=None, range_s=None, rate_interval_s=None):
    """Replaces Grafana's global and dashboard variables in text.

    variables: name -> value (str), or list of values (a multi-value / All
    selection, inserted as a regex alternation as Grafana's Prometheus data
    source does)."""
    glob = {}
    if interval_s is not None:
        glob["__interval"] = fmt_duration(interval_s)
        glob["__interval_ms"] = str(int(round(interval_s * 1000)))
    if rate_interval_s is not None:
        glob["__rate_interval"] = fmt_duration(rate_interval_s)
    if range_s is not None:
        glob["__range"] = fmt_duration(range_s)
        glob["__range_s"] = str(int(round(range_s)))
        glob["__range_ms"] = str(int(round(range_s * 1000)))
    values = dict(glob)
    for name, value in variables.items():
        values[name] = _var_value(value, isinstance(value, list))

    def repl(m):
        name, fmt = m.group(1) or m.group(3), m.group(2)
        if name not in values:
            return m.group(0)
        if fmt == "percentencode":
            return urllib.parse.quote(values[name], safe="")
        return values[name]

    # ${name}, ${name:format} and $name; a longer name is never cut short
    # ($__interval_ms is not $__interval followed by "_ms").
    return re.sub(r"\$\{([A-Za-z0-9_]+)(?::([a-z]+))?\}|\$([A-Za-z0-9_]+)", repl, text)


def grafana_step(range_s, max_data_points, min_interval_s):
    """Grafana's interval for a panel: rounded range / max data points, at
    least the panel's min interval and range / 11000."""
    interval = round_interval_ms(range_s * 1000.0 / max_data_points) / 1000.0
    interval = max(interval, min_interval_s or 0.001)
    safe = range_s / 11000.0
    if interval < safe:
        interval = math.ceil(safe)
    return interval


def aligned_range(start, end, step):
    """Grafana aligns a range query's start and end down to the step."""
    return math.floor(start / step) * step, math.floor(end / step) * step


def rate_interval(interval_s, scrape_s):
    return max(interval_s + scrape_s, 4 * scrape_s)


class Prometheus:
    """A minimal client of Prometheus's HTTP API."""

    def __init__(self, url):
        self.url = url.rstrip("/")

    def _get(self, path, params, timeout=300):
        data = urllib.parse.urlencode(params, doseq=True).encode()
        req = urllib.request.Request(self.url + path, data=data)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            body = e.read().decode(errors="replace")
            try:
                return json.loads(body)
            except ValueError:
                return {"status": "error", "error": f"HTTP {e.code}: {body[:300]}"}

    def query(self, expr, time, stats=False):
        params = {"query": expr, "time": time}
        if stats:
            params["stats"] = "all"
        return self._get("/api/v1/query", params)

    def query_range(self, expr, start, end, step, stats=False):
        params = {"query": expr, "start": start, "end": end, "step": step}
        if stats:
            params["stats"] = "all"
        return self._get("/api/v1/query_range", params)

    def series(self, match, start, end):
        return self._get("/api/v1/series", {"match[]": match, "start": start, "end": end})

    def label_values(self, label, match=None, start=None, end=None):
        params = {}
        if match:
            params["match[]"] = match
        if start is not None:
            params["start"], params["end"] = start, end
        req = urllib.request.Request(
            f"{self.url}/api/v1/label/{label}/values?" + urllib.parse.urlencode(params, doseq=True))
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.load(r)["data"]


def resolve_variables(dashboard, prom, chosen, start, end):
    """Values of the dashboard's variables as Grafana would set them.

    chosen: name -> value the user picked (str, or list for multi/All).
    Query variables not chosen get every value their query returns (label_values()
    and metrics() are run against prom; a single-select one takes the first);
    custom and textbox variables not chosen keep their saved current value."""
    values = {}
    for v in dashboard.get("templating", {}).get("list", []):
        name, kind = v["name"], v.get("type")
        if kind == "datasource":
            continue
        if name in chosen:
            values[name] = chosen[name]
            continue
        if kind in ("custom", "textbox", "constant"):
            cur = (v.get("current") or {}).get("value")
            values[name] = cur if cur is not None else v.get("query", "")
            continue
        if kind != "query":
            continue
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        q = substitute(q, values)
        found = []
        m = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*", q)
        if m:
            found = prom.label_values(m.group(2), m.group(1), start, end)
        m = re.fullmatch(r"\s*metrics\((.*)\)\s*", q)
        if m:
            rx = re.compile(m.group(1))
            found = [n for n in prom.label_values("__name__", None, start, end) if rx.search(n)]
        rx = (v.get("regex") or "").strip()
        if rx.startswith("/") and rx.endswith("/"):
            r = re.compile(rx[1:-1])
            found = [(mm.group(1) if mm.groups() else mm.group(0))
                     for mm in (r.search(x) for x in found) if mm]
        found = sorted(set(found))
        if v.get("multi") or v.get("includeAll"):
            values[name] = found if found else [""]
        else:
            values[name] = found[0] if found else ""
    return values


def main(argv):
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    ls = sub.add_parser("list")
    ls.add_argument("--var", action="append", default=[])
    ls.add_argument("--interval", default="5s")
    ls.add_argument("--rate-interval", default="20s")
    ls.add_argument("--range", default="5m")
    ls.add_argument("--prometheus", help="resolve the variables not given with --var "
                    "from this Prometheus, as Grafana would (multi: every value)")
    ls.add_argument("dashboards", nargs="+")
    args = ap.parse_args(argv)
    variables = {}
    for kv in args.var:
        k, _, val = kv.partition("=")
        variables[k] = val
    for path in args.dashboards:
        with open(path) as f:
            dash = json.load(f)
        name = path.rsplit("/", 1)[-1]
        values = dict(variables)
        if args.prometheus:
            import time
            now = time.time()
            values = resolve_variables(dash, Prometheus(args.prometheus), variables,
                                       now - parse_duration(args.range), now)
        for q, qvalues in with_repeats(queries(dash), values):
            expr = substitute(q["expr"], qvalues, parse_duration(args.interval),
                              parse_duration(args.range), parse_duration(args.rate_interval))
            print("\t".join([name, q["title"], str(q["may_be_empty"]).lower(),
                             str(q["instant"]).lower(), base64.b64encode(expr.encode()).decode(),
                             q["ref"]]))
        for a in dash.get("annotations", {}).get("list", []) or []:
            if a.get("expr"):
                expr = substitute(a["expr"], values, parse_duration(args.interval),
                                  parse_duration(args.range), parse_duration(args.rate_interval))
                print("\t".join([name, "annotation " + a.get("name", ""), "true", "false",
                                 base64.b64encode(expr.encode()).decode(), ""]))


if __name__ == "__main__":
    main(sys.argv[1:])
