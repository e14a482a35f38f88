#!/usr/bin/env bash
# e2e_test.sh: the monitoring loop with real servers, all on 127.0.0.1:
#   control_target (probed target + Alertmanager webhook receiver)
#   <- canary_exporter <- Prometheus (deploy/prometheus/prometheus.yml, the
#   alerts/ rules) -> Alertmanager (deploy/alertmanager/alertmanager.yml).
# It shows: every dashboard query and every rule evaluates without error and
# the main panels have data; a steady run raises nothing; a latency step
# 50 -> 200 ms raises CanaryLatencyRegression and the webhook receives it; a
# 5xx surge raises Canary5xxRatioHigh. The Target detail's app row shows the
# application's own histogram (control_target's /metrics) moving with the
# canary's p95 and 5xx share.
#
# Durations are scaled down, expressions are not: the rules are rendered from
# alerts/src/ with alerts/params.env where only windows and "for" are
# shortened; the configs get only new addresses and intervals. A day and a
# week of baseline at 50 ms are backfilled with promtool, from a real /probe
# answer of this exporter.
#
# Usage: e2e_test.sh path/to/canary_exporter path/to/control_target
set -euo pipefail

exporter_bin=${1:?usage: e2e_test.sh canary_exporter control_target}
target_bin=${2:?usage: e2e_test.sh canary_exporter control_target}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n "${KEEP_TMP:-}" ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

failed=0
ok() { echo "ok: $*"; }
bad() {
  echo "FAIL: $*" >&2
  failed=$((failed + 1))
}
die() {
  echo "FATAL: $*" >&2
  for f in "$tmp"/*.log; do
    [[ -f "$f" ]] && { echo "--- $f (tail)" >&2; tail -n 15 "$f" >&2; }
  done
  exit 1
}
http() { curl -sS --noproxy '*' --max-time 20 "$@"; }

# A port nobody listens on now (bounded tries; a race with another process
# shows up as a failed start below, with the log).
free_port() {
  local p i
  for i in $(seq 1 50); do
    # Below the ephemeral range (32768+), where outgoing connections of a busy
    # machine cannot take the port between this check and the bind.
    p=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls every second.
wait_for() {
  local secs=$1 i  # $2 says what is awaited, for the reader
  shift 2
  for ((i = 0; i < secs; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  return 1
}

for tool in promtool prometheus prometheus-alertmanager jq curl; do
  command -v "$tool" >/dev/null || die "$tool not installed (scripts/setup.sh --test)"
done

# --- the target and webhook receiver -----------------------------------------
"$target_bin" >"$tmp/target.log" 2>&1 &
pids+=($!)
wait_for 10 "target port" grep -q 'listening port=' "$tmp/target.log" || die "target did not start"
tport=$(sed -n 's/.*listening port=\([0-9]*\).*/\1/p' "$tmp/target.log" | head -1)
control() { http "http://127.0.0.1:$tport/control?$1" >/dev/null; }
control "delay_ms=50&error_pct=0"
target_url="http://127.0.0.1:$tport/api"
webhook_url="http://127.0.0.1:$tport/webhook"

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
"$exporter_bin" --config.file="$tmp/canary.toml" --web.listen-address=127.0.0.1:0 \
  >"$tmp/exporter.log" 2>&1 &
pids+=($!)
wait_for 15 "exporter address" grep -q 'msg="\?listening' "$tmp/exporter.log" ||
  die "exporter did not start"
exporter_addr=$(grep -o 'address="\?127\.0\.0\.1:[0-9]*' "$tmp/exporter.log" | head -1 |
  sed 's/address="\?//')
[[ -n "$exporter_addr" ]] || die "no exporter address in the log"
ok "target on :$tport, exporter on $exporter_addr"

# --- a week of baseline history at 50 ms, backfilled ---------------------------
# One real /probe answer, replayed every 5 s around 1 day and 1 week ago with
# the labels Prometheus gives the live series.
http -H 'X-Prometheus-Scrape-Timeout-Seconds: 4' \
  "http://$exporter_addr/probe?module=canary&target=$target_url" >"$tmp/sample.prom" ||
  die "probe for the backfill sample failed"
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
  -e 's/^ROLLUP_INTERVAL=.*/ROLLUP_INTERVAL=1m/' \
  -e 's/^\(FOR_[A-Z_]*\)=.*/\1=15s/' "$root/alerts/params.env" >"$tmp/params.env"
"$root/alerts/render.sh" "$tmp/params.env" "$tmp/tree/alerts"
# Only windows and "for" may differ from what users get.
for f in "$root"/alerts/*.yml; do
  diff <(sed -E -e 's/\[[0-9]+[smhdw]\]/[W]/g' -e 's/for: .*/for: F/' -e 's/interval: .*/interval: I/' \
    -e 's/([Oo]ver|in|for) [0-9]+[smhdw]/\1 W/g' "$f") \
    <(sed -E -e 's/\[[0-9]+[smhdw]\]/[W]/g' -e 's/for: .*/for: F/' -e 's/interval: .*/interval: I/' \
      -e 's/([Oo]ver|in|for) [0-9]+[smhdw]/\1 W/g' \
      "$tmp/tree/alerts/$(basename "$f")") >/dev/null ||
    die "test rules differ from $(basename "$f") in more than windows and for"
done
prom_port=$(free_port)
am_port=$(free_port)
sed -e "s|localhost:9427|$exporter_addr|g" -e "s|localhost:9093|127.0.0.1:$am_port|g" \
  -e "s|http://localhost:8080/increment|$target_url|" \
  -e 's/evaluation_interval: .*/evaluation_interval: 5s/' \
  -e 's/scrape_interval: .*/scrape_interval: 5s/' -e 's/scrape_timeout: .*/scrape_timeout: 4s/' \
  "$root/deploy/prometheus/prometheus.yml" >"$tmp/tree/deploy/prometheus/prometheus.yml"
sed -e "s|http://localhost:5001/webhook|$webhook_url|g" \
  -e 's/group_wait: .*/group_wait: 1s/' -e 's/group_interval: .*/group_interval: 5s/' \
  "$root/deploy/alertmanager/alertmanager.yml" >"$tmp/tree/deploy/alertmanager/alertmanager.yml"
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
  --storage.tsdb.retention.time=15d >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
prom="http://127.0.0.1:$prom_port"
wait_for 30 "alertmanager ready" http -f "http://127.0.0.1:$am_port/-/ready" ||
  die "alertmanager did not become ready"
wait_for 60 "prometheus ready" http -f "$prom/-/ready" || die "prometheus did not become ready"
started=$(date +%s)
ok "prometheus on :$prom_port, alertmanager on :$am_port"

# query EXPR: prints the API answer (JSON); fails on an HTTP or PromQL error.
query() { http -f --data-urlencode "query=$1" "$prom/api/v1/query"; }
# value EXPR: the first sample's value, or nothing.
value() { query "$1" | jq -r '.data.result[0].value[1] // empty'; }
alerts_in_state() {  # alerts_in_state STATE: names of canary alerts in STATE
  query "ALERTS{alertstate=\"$1\", alertname=~\"Canary.*\"}" |
    jq -r '[.data.result[].metric.alertname] | unique | join(" ")'
}
firing() { [[ " $(alerts_in_state firing) " == *" $1 "* ]]; }
webhook_has() { http "$webhook_url/log" | grep -q "\"alertname\":\"$1\""; }

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
# Grafana's variables, as a user would pick them: dashboard_queries.py resolves
# them from this Prometheus (multi-value ones on All, Target detail on its
# first target) and sets $__interval to 10 s (two 5 s scrapes).
nq=0
npanels=0
for dash in "$root"/dashboards/*.json; do
  name=$(basename "$dash")
  declare -A has_data=() may_be_empty=()
  listing=$(python3 "$root/tests/monitoring/dashboard_queries.py" list --prometheus "$prom" \
    --interval 10s --rate-interval 20s --range 5m "$dash") || die "cannot list the queries of $name"
  while IFS=$'\t' read -r _ title empty_ok _ expr ref; do
    nq=$((nq + 1))
    q=$(base64 -d <<<"$expr")
    if [[ "$title" == annotation* ]]; then
      [[ $(query "$q" | jq -r .status) == success ]] || bad "$name $title query failed: $q"
      continue
    fi
    may_be_empty[$title]=$empty_ok
    # The Target detail's app row, kept to compare the canary with the app.
    case "$title/$ref" in
      "p95: canary vs the app's users/A") q_canary_p95=$(base64 -d <<<"$expr") ;;
      "p95: canary vs the app's users/B") q_users_p95=$(base64 -d <<<"$expr") ;;
      "5xx share: canary vs the app's users/A") q_canary_5xx=$(base64 -d <<<"$expr") ;;
      "5xx share: canary vs the app's users/B") q_users_5xx=$(base64 -d <<<"$expr") ;;
    esac
    if ! answer=$(query "$q" 2>&1); then
      bad "$name / $title: query failed: $answer $q"
    elif [[ $(jq -r .status <<<"$answer") != success ]]; then
      bad "$name / $title: $(jq -r .error <<<"$answer")"
    elif [[ $(jq '.data.result | length' <<<"$answer") -gt 0 ]]; then
      has_data[$title]=1
    fi
  done <<<"$listing"
  for title in "${!may_be_empty[@]}"; do
    npanels=$((npanels + 1))
    if [[ "${may_be_empty[$title]}" == false && -z "${has_data[$title]:-}" ]]; then
      bad "$name / $title: no data"
    fi
  done
  unset has_data may_be_empty
done
if ((nq > 0)); then ok "$nq dashboard queries of $npanels panels evaluated"; else bad "no dashboard queries found"; fi
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

# --- a latency step 50 -> 200 ms: regression alert, delivered ------------------
control "delay_ms=200"
step=$(date +%s)
if wait_for 150 "regression firing" firing CanaryLatencyRegression; then
  ok "CanaryLatencyRegression fires $(($(date +%s) - step)) s after the step"
  if wait_for 60 "webhook" webhook_has CanaryLatencyRegression; then
    ok "the webhook received CanaryLatencyRegression through Alertmanager"
  else
    bad "the webhook never received CanaryLatencyRegression"
  fi
else
  bad "CanaryLatencyRegression did not fire (p95 $(value 'canary:probe_http_request_duration_seconds:p95_window'), firing: $(alerts_in_state firing))"
fi

# --- a 5xx surge: the 5xx alert -----------------------------------------------
compare "p95 after the 50 -> 200 ms step" "$q_canary_p95" "$q_users_p95" 0.15 0.5
control "delay_ms=50&error_pct=30"
step=$(date +%s)
if wait_for 120 "5xx firing" firing Canary5xxRatioHigh; then
  ok "Canary5xxRatioHigh fires $(($(date +%s) - step)) s after the surge"
  wait_for 30 "webhook" webhook_has Canary5xxRatioHigh &&
    ok "the webhook received Canary5xxRatioHigh" || bad "the webhook never received Canary5xxRatioHigh"
else
  bad "Canary5xxRatioHigh did not fire (ratio $(value 'canary:probe_http_responses_5xx:ratio_window'))"
fi
compare "5xx share in a 30 % surge" "$q_canary_5xx" "$q_users_5xx" 0.2 0.4
firing Canary5xxRatioRising && ok "Canary5xxRatioRising fires too (baseline 0 %)" ||
  bad "Canary5xxRatioRising did not fire against a 0 % baseline"

echo "total $(($(date +%s) - started)) s with Prometheus up"
if ((failed)); then
  echo "$failed check(s) failed" >&2
  exit 1
fi
echo "PASS"
