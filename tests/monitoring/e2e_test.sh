#!/usr/bin/env bash
# e2e_test.sh: the monitoring loop with real servers, all on 127.0.0.1:
#   control_target (probed target + Alertmanager webhook receiver)
#   <- canary_exporter <- Prometheus (deploy/prometheus/prometheus.yml, the
#   alerts/ rules) -> Alertmanager (deploy/alertmanager/alertmanager.yml).
# It shows: every dashboard query and every rule evaluates without error and
# the main panels have data; a steady run raises nothing; a latency step
# 50 -> 200 ms raises CanaryLatencyRegression and the webhook receives it; a
# total outage of a second target (every request answers 500) pages exactly
# once, on time, and its recovery opens no second incident; a 5xx surge
# raises Canary5xxRatioHigh. The Target detail's app row shows the
# application's own histogram (control_target's /metrics) moving with the
# canary's p95 and 5xx share.
#
# Durations are scaled down, expressions are not: the rules are rendered from
# alerts/src/ with alerts/params.env where only windows and "for" are
# shortened (the scrape interval 15s -> 5s, and the "for" durations of the
# alerts an outage raises keep their order: target down 15s < 5xx 30s < fast
# burn 40s); the configs get only new addresses and intervals. A day and a
# week of baseline at 50 ms are backfilled with promtool, from a real /probe
# answer of this exporter.
#
# Usage: e2e_test.sh path/to/canary_exporter path/to/control_target
set -euo pipefail

exporter_bin=${1:?usage: e2e_test.sh canary_exporter control_target}
target_bin=${2:?usage: e2e_test.sh canary_exporter control_target}
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/monitoring/lib.sh
source "$root/tests/monitoring/lib.sh"

for tool in promtool prometheus prometheus-alertmanager jq curl; do
  command -v "$tool" >/dev/null || die "$tool not installed (scripts/setup.sh --test)"
done

# --- the targets and webhook receiver -----------------------------------------
start_target "$target_bin" target
tport=$REPLY
# control SETTINGS [PORT]: sets the latency and 5xx share of a target (A by default).
control() { http "http://127.0.0.1:${2:-$tport}/control?$1" >/dev/null; }
control "delay_ms=50&error_pct=0"
target_url="http://127.0.0.1:$tport/api"
webhook_url="http://127.0.0.1:$tport/webhook"
# B, the target of the outage: healthy until then.
start_target "$target_bin" target_b
tport_b=$REPLY
control "delay_ms=50&error_pct=0" "$tport_b"
target_b_url="http://127.0.0.1:$tport_b/api"

# --- the exporter -------------------------------------------------------------
# 20 requests per burst (open model, 20/s for 1 s): a 1m window holds ~240,
# above MIN_REQUESTS.
cat >"$tmp/canary.toml" <<'TOML'
[modules.canary]
timeout = "2s"
thresholds = ["p(95)<180ms"]

[modules.canary.burst]
rate = 20
vus = 10
duration = "1s"
TOML
start_exporter "$exporter_bin" "$tmp/canary.toml" exporter
exporter_addr=$REPLY
ok "target on :$tport, exporter on $exporter_addr"

# --- a week of baseline history at 50 ms, backfilled ---------------------------
# One real /probe answer, replayed every 5 s around 1 day and 1 week ago with
# the labels Prometheus gives the live series. It must look like the 50 ms
# target it stands for: on a busy machine one request of 20 over 100 ms puts
# the baseline p95 in the next bucket (0.175 s), where the 200 ms step is no
# regression; such a sample is taken again (at most 5 tries).
for try in 1 2 3 4 5; do
  http -H 'X-Prometheus-Scrape-Timeout-Seconds: 4' \
    "http://$exporter_addr/probe?module=canary&target=$target_url" >"$tmp/sample.prom" ||
    die "probe for the backfill sample failed"
  p95=$(sed -n 's/^probe_http_request_duration_quantile_seconds{quantile="0.95"} //p' "$tmp/sample.prom")
  awk "BEGIN{exit !(${p95:-1} < 0.1)}" && break
  ((try < 5)) || die "5 baseline samples of the 50 ms target had p95 >= 100 ms (last $p95 s): machine too busy"
  sleep 1
done
grep -qE "^probe_http_requests\{result=\"success\"\} [1-9]" "$tmp/sample.prom" || die "the 50 ms baseline probe got no successful request"
labels="job=\"canary\",instance=\"$target_url\",module=\"canary\""
now=$(date +%s)
{
  grep -v '^#' "$tmp/sample.prom" | grep -v '^$' | sort -s -k1,1 -t'{' |
    sed -E -e "s|^([a-zA-Z_:][a-zA-Z0-9_:]*)\\{|\\1{$labels,|" \
      -e "s|^([a-zA-Z_:][a-zA-Z0-9_:]*) |\\1{$labels} |" |
    while IFS= read -r line; do
      for ago in 604800 86400; do
        for ((t = now - ago - 900; t <= now - ago + 900; t += 5)); do
          echo "$line $t"
        done
      done
    done
  echo "# EOF"
} >"$tmp/backfill.om"
mkdir -p "$tmp/prometheus-data"
promtool tsdb create-blocks-from openmetrics "$tmp/backfill.om" "$tmp/prometheus-data" \
  >"$tmp/backfill.log" 2>&1 || die "backfill failed: $(tail -3 "$tmp/backfill.log")"
ok "backfilled $(wc -l <"$tmp/backfill.om") samples (1d and 1w ago)"

# --- rules and configs: the shipped ones, scaled down ------------------------
mkdir -p "$tmp/tree/alerts" "$tmp/tree/deploy/prometheus" "$tmp/tree/deploy/alertmanager"
sed -e 's/^WINDOW=.*/WINDOW=1m/' -e 's/^LONG_WINDOW=.*/LONG_WINDOW=2m/' \
  -e 's/^DOWN_WINDOW=.*/DOWN_WINDOW=30s/' -e 's/^SCRAPE_RATE_WINDOW=.*/SCRAPE_RATE_WINDOW=1m/' \
  -e 's/^ROLLUP_INTERVAL=.*/ROLLUP_INTERVAL=1m/' -e 's/^CADENCE=.*/CADENCE=5s/' -e 's/^TARGET_DOWN_WINDOW=.*/TARGET_DOWN_WINDOW=14s/' \
  -e 's/^\(FOR_[A-Z_]*\)=.*/\1=15s/' -e 's/^FOR_ERRORS=.*/FOR_ERRORS=30s/' \
  -e 's/^FOR_BURN_FAST=.*/FOR_BURN_FAST=40s/' "$root/alerts/params.env" >"$tmp/params.env"
grep -q '^TARGET_DOWN_WINDOW=14s$' "$tmp/params.env" || die "alerts/params.env has no TARGET_DOWN_WINDOW"
"$root/alerts/render.sh" "$tmp/params.env" "$tmp/tree/alerts"
# Only windows and "for" may differ from what users get.
for f in "$root"/alerts/*.yml; do
  diff <(sed -E -e 's/\[([0-9]+[smhdw])+\]/[W]/g' -e 's/for: .*/for: F/' -e 's/interval: .*/interval: I/' \
    -e 's/([Oo]ver|in|for|the) ([0-9]+[smhdw])+/\1 W/g' "$f") \
    <(sed -E -e 's/\[([0-9]+[smhdw])+\]/[W]/g' -e 's/for: .*/for: F/' -e 's/interval: .*/interval: I/' \
      -e 's/([Oo]ver|in|for|the) ([0-9]+[smhdw])+/\1 W/g' \
      "$tmp/tree/alerts/$(basename "$f")") >/dev/null ||
    die "test rules differ from $(basename "$f") in more than windows and for"
done
prom_port=$(free_port)
am_port=$(free_port)
sed -e "s|localhost:9427|$exporter_addr|g" -e "s|localhost:9093|127.0.0.1:$am_port|g" \
  -e "s|^\\( *\\)- http://localhost:8080/increment\$|\\1- $target_url\\n\\1- $target_b_url|" \
  -e 's/evaluation_interval: .*/evaluation_interval: 5s/' \
  -e 's/scrape_interval: .*/scrape_interval: 5s/' -e 's/scrape_timeout: .*/scrape_timeout: 4s/' \
  "$root/deploy/prometheus/prometheus.yml" >"$tmp/tree/deploy/prometheus/prometheus.yml"
sed -e "s|http://localhost:5001/webhook|$webhook_url|g" \
  -e 's/group_wait: .*/group_wait: 1s/' -e 's/group_interval: .*/group_interval: 5s/' \
  "$root/deploy/alertmanager/alertmanager.yml" >"$tmp/tree/deploy/alertmanager/alertmanager.yml"
grep -qF -- "- $target_b_url" "$tmp/tree/deploy/prometheus/prometheus.yml" ||
  die "could not add target B to the test prometheus.yml"
# Test only: the application's own /metrics (control_target serves an
# OpenTelemetry request histogram), for the Target detail's app row.
cat >>"$tmp/tree/deploy/prometheus/prometheus.yml" <<YAML

  - job_name: app
    scrape_interval: 5s
    static_configs:
      - targets: ['127.0.0.1:$tport']
YAML
promtool check config "$tmp/tree/deploy/prometheus/prometheus.yml" >"$tmp/check.log" 2>&1 ||
  die "test prometheus.yml invalid: $(cat "$tmp/check.log")"

prometheus-alertmanager --config.file="$tmp/tree/deploy/alertmanager/alertmanager.yml" \
  --storage.path="$tmp/am-data" --web.listen-address="127.0.0.1:$am_port" \
  --cluster.listen-address="" >"$tmp/alertmanager.log" 2>&1 &
pids+=($!)
prometheus --config.file="$tmp/tree/deploy/prometheus/prometheus.yml" \
  --storage.tsdb.path="$tmp/prometheus-data" --web.listen-address="127.0.0.1:$prom_port" \
  --storage.tsdb.retention.time=15d --rules.alert.resend-delay=2s >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
prom="http://127.0.0.1:$prom_port"
wait_for 30 "alertmanager ready" http -f "http://127.0.0.1:$am_port/-/ready" ||
  die "alertmanager did not become ready"
wait_for 60 "prometheus ready" http -f "$prom/-/ready" || die "prometheus did not become ready"
started=$(date +%s)
ok "prometheus on :$prom_port, alertmanager on :$am_port"

# query EXPR: prints the API answer (JSON); fails on an HTTP or PromQL error.
query() { prom_query "$prom" "$1"; }
# value EXPR: the first sample's value, or nothing.
value() { query "$1" | jq -r '.data.result[0].value[1] // empty'; }
alerts_in_state() {  # alerts_in_state STATE: names of canary alerts in STATE
  query "ALERTS{alertstate=\"$1\", alertname=~\"Canary.*\"}" |
    jq -r '[.data.result[].metric.alertname] | unique | join(" ")'
}
# webhook_has ALERTNAME INSTANCE: Alertmanager delivered it, firing.
webhook_has() {
  http "$webhook_url/log" | jq -se --arg a "$1" --arg i "$2" \
    'any(.[].alerts[]; .labels.alertname == $a and .labels.instance == $i and .status == "firing")' >/dev/null
}
# pager_pages INSTANCE: prints "PAGES NOTIFICATIONS FIRST" for the pager
# receiver and INSTANCE: pages are incidents opened (a group key going from
# closed to firing: PagerDuty and Opsgenie key their incidents on it, and
# update, not re-page, an open one), notifications every POST, FIRST the
# firing alerts of the first one.
pager_pages() {
  http "$webhook_url/log" | jq -rs --arg inst "$1" '
    [.[] | select(.receiver == "canary-pager" and any(.alerts[]; .labels.instance == $inst))]
    | reduce .[] as $n ({open: {}, pages: 0, notes: 0, first: null};
        .notes += 1
        | .first //= ([$n.alerts[] | select(.status == "firing") | .labels.alertname] | unique | join(","))
        | if $n.status == "firing" then
            (if .open[$n.groupKey] then . else .pages += 1 | .open[$n.groupKey] = true end)
          else .open[$n.groupKey] = false end)
    | "\(.pages) \(.notes) \(.first // "-")"'
}
paged() { [[ $(pager_pages "$1" | cut -d' ' -f1) -ge 1 ]]; }
firing_for() {  # firing_for ALERTNAME INSTANCE
  [[ -n $(value "ALERTS{alertname=\"$1\", alertstate=\"firing\", instance=\"$2\"}") ]]
}
criticals_for() {  # criticals_for INSTANCE: names of its firing critical alerts
  query "ALERTS{alertstate=\"firing\", severity=\"critical\", instance=\"$1\"}" |
    jq -r '[.data.result[].metric.alertname] | unique | join(" ")'
}

has_value() { [[ -n "$(value "$1")" ]]; }
wait_for 60 "baseline visible" has_value 'canary:probe_http_request_duration_seconds:p95_window_baseline' ||
  die "the backfilled baseline is not visible"
ok "baseline p95 (1d/1w ago) = $(value 'canary:probe_http_request_duration_seconds:p95_window_baseline') s"

# --- steady run: nothing fires, nothing pends -----------------------------------
# Let the 1m window fill; absent_over_time pends until the first scrape, so
# look only once every window is full.
sleep $((started + 75 - $(date +%s)))
reqs=$(value 'canary:probe_http_requests:sum_window')
[[ -n "$reqs" ]] && awk "BEGIN{exit !($reqs >= 100)}" || bad "window holds too few requests: '$reqs'"
steady_firing=$(alerts_in_state firing)
steady_pending=$(alerts_in_state pending)
if [[ -z "$steady_firing$steady_pending" ]]; then
  ok "steady run raises nothing ($reqs requests in the window)"
else
  bad "steady run: firing [$steady_firing] pending [$steady_pending]"
fi

# --- every rule is healthy ---------------------------------------------------
rules_json=$(http "$prom/api/v1/rules")
nrules=$(jq '[.data.groups[].rules[]] | length' <<<"$rules_json")
unhealthy=$(jq -r '.data.groups[].rules[] | select(.health != "ok") | "\(.name): \(.health) \(.lastError // "")"' <<<"$rules_json")
expected=$(grep -cE '^\s*- (record|alert):' "$root"/alerts/canary.yml)
if [[ "$nrules" -eq "$expected" && -z "$unhealthy" ]]; then
  ok "all $nrules rules evaluate without error"
else
  bad "rules: $nrules loaded of $expected; unhealthy: $unhealthy"
fi

# --- every dashboard query evaluates; the main panels have data ----------------
check_dashboards "$prom" $(ls "$root"/dashboards/*.json | grep -v /canary-target.json)
# Target detail on A, the target whose own /metrics the app row reads (last:
# dashboard_query below reads what this call ran).
DASH_VARS="instance=$target_url" check_dashboards "$prom" "$root/dashboards/canary-target.json"
# The Target detail's app row, kept to compare the canary with the app.
q_canary_p95=$(dashboard_query "p95: canary vs the app's users" A)
q_users_p95=$(dashboard_query "p95: canary vs the app's users" B)
q_canary_5xx=$(dashboard_query "5xx share: canary vs the app's users" A)
q_users_5xx=$(dashboard_query "5xx share: canary vs the app's users" B)
[[ -n "${q_users_p95:-}" && -n "${q_users_5xx:-}" && -n "${q_canary_p95:-}" && -n "${q_canary_5xx:-}" ]] ||
  die "Target detail has no app row (p95 / 5xx share: canary vs the app's users)"
# compare WHAT CANARY_QUERY USERS_QUERY LOW HIGH [USERS_HIGH]: both values
# within [LOW, HIGH] (the users' within [LOW, USERS_HIGH] if given).
compare() {
  local c u uh=${6:-$5}
  c=$(value "$2")
  u=$(value "$3")
  if [[ -n "$c" && -n "$u" ]] && awk "BEGIN{exit !($c >= $4 && $c <= $5 && $u >= $4 && $u <= $uh)}"; then
    ok "app row, $1: canary $c, the app's users $u"
  else
    bad "app row, $1: canary '$c', the app's users '$u', expected in [$4, $5] and [$4, $uh]"
  fi
}
# At 50 ms the app's p95 is in the 50-100 ms bucket; the canary's, measured
# from the client on a busy machine, may reach the next one.
compare "p95 at 50 ms" "$q_canary_p95" "$q_users_p95" 0.025 0.25 0.149
compare "5xx share at 0 %" "$q_canary_5xx" "$q_users_5xx" 0 0

# --- a latency step 50 -> 200 ms on A and, meanwhile, a total outage of B ------
control "delay_ms=200"
step=$(date +%s)

# The outage: every request to B answers 500 from now. It must page within two
# bursts (10 s) + TARGET_DOWN_WINDOW's slack (4 s) + one evaluation (5 s) +
# FOR_TARGET_DOWN (15 s) + group_wait (1 s), with 10 s for the deliveries: 45 s.
control "error_pct=100" "$tport_b"
outage=$(date +%s)
if wait_for 60 "B down" firing_for CanaryTargetDown "$target_b_url"; then
  down_s=$(($(date +%s) - outage))
  ((down_s <= 45)) && ok "CanaryTargetDown fires $down_s s after the outage began" ||
    bad "CanaryTargetDown fires late: $down_s s after the outage began (bound 45 s)"
else
  bad "CanaryTargetDown did not fire for B (critical: $(criticals_for "$target_b_url"))"
fi
if wait_for 30 "B paged" paged "$target_b_url"; then
  page_s=$(($(date +%s) - outage))
  ((page_s <= 45)) && ok "the outage paged $page_s s after it began" ||
    bad "the outage paged late: $page_s s after it began (bound 45 s)"
else
  bad "the outage never reached the pager receiver"
fi
# The other critical alerts of the outage fire too (5xx high, fast burn): they
# must join the incident, not page again.
others() { [[ $(criticals_for "$target_b_url") == *Canary5xx* || $(criticals_for "$target_b_url") == *Burn* ]]; }
wait_for 60 "other criticals" others ||
  bad "no other critical alert fired for B: nothing to fold ($(criticals_for "$target_b_url"))"
sleep 5
during=$(criticals_for "$target_b_url")
# Recovery: B answers again; CanaryTargetDown resolves while the windows of the
# others still hold the outage.
control "error_pct=0" "$tport_b"
up_b() { ! firing_for CanaryTargetDown "$target_b_url"; }
wait_for 30 "B recovered" up_b || bad "CanaryTargetDown still fires 30 s after B recovered"
sleep 10  # two group_intervals: Alertmanager has sent what the recovery changed
read -r pages notes first <<<"$(pager_pages "$target_b_url")"
if [[ "$pages" == 1 && "$first" == CanaryTargetDown ]]; then
  ok "one outage, one page: $pages incident ($notes notifications to the pager; the first has $first alone; firing during the outage: $during)"
else
  bad "outage of B: $pages pages, $notes notifications, first with [$first] (firing during the outage: $during)"
fi

# --- the latency step: regression alert, delivered ----------------------------
if wait_for 150 "regression firing" firing_for CanaryLatencyRegression "$target_url"; then
  ok "CanaryLatencyRegression fires $(($(date +%s) - step)) s after the step"
  if wait_for 60 "webhook" webhook_has CanaryLatencyRegression "$target_url"; then
    ok "the webhook received CanaryLatencyRegression through Alertmanager"
  else
    bad "the webhook never received CanaryLatencyRegression"
  fi
else
  bad "CanaryLatencyRegression did not fire (p95 $(value "canary:probe_http_request_duration_seconds:p95_window{instance=\"$target_url\"}"), firing: $(alerts_in_state firing))"
fi

# --- a 5xx surge: the 5xx alert -----------------------------------------------
compare "p95 after the 50 -> 200 ms step" "$q_canary_p95" "$q_users_p95" 0.15 0.5
control "delay_ms=50&error_pct=30"
step=$(date +%s)
if wait_for 120 "5xx firing" firing_for Canary5xxRatioHigh "$target_url"; then
  ok "Canary5xxRatioHigh fires $(($(date +%s) - step)) s after the surge"
  wait_for 30 "webhook" webhook_has Canary5xxRatioHigh "$target_url" &&
    ok "the webhook received Canary5xxRatioHigh" || bad "the webhook never received Canary5xxRatioHigh"
else
  bad "Canary5xxRatioHigh did not fire (ratio $(value "canary:probe_http_responses_5xx:ratio_window{instance=\"$target_url\"}"))"
fi
compare "5xx share in a 30 % surge" "$q_canary_5xx" "$q_users_5xx" 0.2 0.4
firing_for Canary5xxRatioRising "$target_url" && ok "Canary5xxRatioRising fires too (baseline 0 %)" ||
  bad "Canary5xxRatioRising did not fire against a 0 % baseline"

echo "total $(($(date +%s) - started)) s with Prometheus up"
finish
