#!/usr/bin/env bash
# kubernetes_e2e_test.sh: both Kubernetes topologies of deploy/kubernetes,
# run for real on 127.0.0.1 without a cluster:
#   app (control_target) <- sidecar exporter   <- two Prometheus replicas
#   checkout, cart       <- central exporter   <-   (an HA pair)  -> Alertmanager
#                                                                    -> webhook
# Everything comes from the `kubectl kustomize` output of deploy/kubernetes:
# - each exporter runs the config.toml of its ConfigMap;
# - each Prometheus replica runs the scrape configuration prometheus-operator
#   v0.90.1 generates for the PodMonitor, ServiceMonitor and Probe
#   (tests/e2e/operator_config.py; Kubernetes discovery replaced by the labels
#   it would give, the shard keep with SHARD=0, the replica label dropped from
#   alerts as the operator does), the rules of the PrometheusRule, the
#   shipped deploy/alertmanager/alertmanager.yml;
# - the dashboards of the dashboards ConfigMap.
# It shows: the probes of both topologies are up with the labels rules and
# dashboards select on (job, instance, module, namespace, pod); the
# exporters' own metrics are scraped; every rule evaluates; every dashboard
# query returns data; the sidecar's app gets ONE burst per interval although
# two Prometheus replicas scrape it (min_interval); an alert from both
# replicas reaches the webhook once; the central exporter probes its two
# allowed targets.
#
# What differs from a cluster, and only this: addresses (loopback ports for
# pods, Services and Alertmanager; the example Services checkout.shop.svc:8080
# and cart.shop.svc:8080 become localhost:PORT in the Probe and the allowlist
# alike) and time, scaled by 6 so the test takes about 2 minutes: scrape and
# evaluation interval 1m -> 10s, min_interval 50s -> 8s; the burst itself
# (10 VUs, 5 s) and scrapeTimeout 10s are as shipped. The rules are verbatim
# (their 10m+ windows do not fire here: tests/monitoring/e2e_test.sh covers
# the alerts with scaled windows); one test-only alert proves delivery.
#
# Usage: kubernetes_e2e_test.sh path/to/canary_exporter path/to/control_target
set -euo pipefail

exporter_bin=${1:?usage: kubernetes_e2e_test.sh canary_exporter control_target}
target_bin=${2:?usage: kubernetes_e2e_test.sh canary_exporter control_target}
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/monitoring/lib.sh
source "$root/tests/monitoring/lib.sh"

for tool in prometheus prometheus-alertmanager promtool jq curl kubectl python3; do
  command -v "$tool" >/dev/null || die "$tool not installed (scripts/setup.sh --test)"
done
k8s=$root/deploy/kubernetes
interval=10s
uid=$(sed -n 's/^USER \([0-9]*\).*/\1/p' "$root/Dockerfile")

# --- the manifests: configs, rules, dashboards ----------------------------------
for topo in sidecar central; do
  python3 "$root/tests/e2e/kube_manifests.py" shape "$k8s/$topo" "$tmp/$topo" "$uid" >"$tmp/shape-$topo.log" 2>&1 ||
    die "deploy/kubernetes/$topo fails its shape checks: $(grep FAIL "$tmp/shape-$topo.log")"
done
grep -q '^min_interval = "50s"$' "$tmp/sidecar/config.toml" || die "sidecar config.toml: no min_interval = \"50s\" to scale"

# --- the app and the central exporter's two targets -----------------------------
start_target "$target_bin" app
app_port=$REPLY
start_target "$target_bin" checkout
checkout_port=$REPLY
start_target "$target_bin" cart
cart_port=$REPLY
for p in $app_port $checkout_port $cart_port; do
  http "http://127.0.0.1:$p/control?delay_ms=20&error_pct=0" >/dev/null
done
requests() { http "http://127.0.0.1:$1/control" | sed -n 's/.*requests=\([0-9]*\).*/\1/p'; }
webhook_url="http://127.0.0.1:$app_port/webhook"

# --- the exporters, on their ConfigMaps' config ---------------------------------
map="checkout.shop.svc:8080>localhost:$checkout_port,cart.shop.svc:8080>localhost:$cart_port"
scale_config() { sed -e 's/^min_interval = "50s"$/min_interval = "8s"/' "$@"; }
scale_config "$tmp/sidecar/config.toml" >"$tmp/sidecar.toml"
scale_config "$tmp/central/config.toml" |
  sed -e "s/\"checkout.shop.svc:8080\"/\"localhost:$checkout_port\"/" \
    -e "s/\"cart.shop.svc:8080\"/\"localhost:$cart_port\"/" >"$tmp/central.toml"
# Only those lines may differ from the shipped config.
diff <(grep -v -e '^min_interval' -e 'shop.svc:8080' "$tmp/sidecar/config.toml") \
  <(grep -v -e '^min_interval' "$tmp/sidecar.toml") >/dev/null || die "sidecar config changed beyond min_interval"
diff <(grep -v -e '^min_interval' -e '"[a-z]*.shop.svc:8080"' "$tmp/central/config.toml") \
  <(grep -v -e '^min_interval' -e '"localhost:[0-9]*"' "$tmp/central.toml") >/dev/null ||
  die "central config changed beyond min_interval and the target names"
start_exporter "$exporter_bin" "$tmp/sidecar.toml" sidecar-exporter
sidecar=$REPLY
start_exporter "$exporter_bin" "$tmp/central.toml" central-exporter
central=$REPLY
ok "app :$app_port, targets :$checkout_port :$cart_port, sidecar exporter $sidecar, central exporter $central"

# --- two Prometheus replicas with the operator's scrape configuration -----------
am_port=$(free_port)
{
  python3 "$root/tests/e2e/operator_config.py" "$k8s/sidecar" "pod_address=$sidecar" \
    "target_map=localhost:8080>localhost:$app_port"
  python3 "$root/tests/e2e/operator_config.py" "$k8s/central" "pod_address=$central" \
    "prober=$central" "target_map=$map" | sed 1d
} | sed -e "s/scrape_interval: 1m$/scrape_interval: $interval/" >"$tmp/scrape.yml"
grep -q 'scrape_interval: 1m' "$tmp/scrape.yml" && die "an interval other than 1m is not scaled"
sed -e "s|http://localhost:5001/webhook|$webhook_url|g" -e 's/group_wait: .*/group_wait: 1s/' \
  "$root/deploy/alertmanager/alertmanager.yml" >"$tmp/alertmanager.yml"
# A test-only alert that is true at once, to see one page from two replicas.
cat >"$tmp/delivery.yml" <<'YAML'
groups:
  - name: test-delivery
    rules:
      - alert: CanaryE2EDelivery
        expr: max without (instance, pod, container, endpoint) (probe_success{job="canary", namespace="default"}) >= 0
        labels: {severity: critical}
YAML
prom_ports=()
for replica in 0 1; do
  port=$(free_port)
  prom_ports+=("$port")
  {
    cat <<YAML
global:
  scrape_interval: $interval
  evaluation_interval: $interval
  external_labels:
    prometheus: monitoring/k8s
    prometheus_replica: prometheus-k8s-$replica
rule_files: [$tmp/central/rules.yml, $tmp/delivery.yml]
alerting:
  # The operator drops the replica label from alerts, so Alertmanager
  # deduplicates the pair's alerts.
  alert_relabel_configs:
    - action: labeldrop
      regex: prometheus_replica
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$am_port']
YAML
    cat "$tmp/scrape.yml"
  } >"$tmp/prometheus-$replica.yml"
  promtool check config "$tmp/prometheus-$replica.yml" >"$tmp/check.log" 2>&1 ||
    die "the generated Prometheus config does not load: $(cat "$tmp/check.log")"
done
diff -q "$tmp/sidecar/rules.yml" "$tmp/central/rules.yml" >/dev/null || die "the topologies carry different rules"
prometheus-alertmanager --config.file="$tmp/alertmanager.yml" --storage.path="$tmp/am-data" \
  --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address="" >"$tmp/alertmanager.log" 2>&1 &
pids+=($!)
for replica in 0 1; do
  prometheus --config.file="$tmp/prometheus-$replica.yml" --storage.tsdb.path="$tmp/prom-data-$replica" \
    --web.listen-address="127.0.0.1:${prom_ports[$replica]}" >"$tmp/prometheus-$replica.log" 2>&1 &
  pids+=($!)
done
wait_for 30 "alertmanager ready" http -f "http://127.0.0.1:$am_port/-/ready" || die "alertmanager did not become ready"
for p in "${prom_ports[@]}"; do
  wait_for 60 "prometheus ready" http -f "http://127.0.0.1:$p/-/ready" || die "prometheus :$p did not become ready"
done
prom0="http://127.0.0.1:${prom_ports[0]}"
prom1="http://127.0.0.1:${prom_ports[1]}"
started=$(date +%s)
ok "prometheus replicas on :${prom_ports[0]} :${prom_ports[1]}, alertmanager :$am_port"

series() {  # series PROM EXPR: one line per series, its labels as JSON
  prom_query "$1" "$2" | jq -c '.data.result[].metric'
}
have_all() { [[ $(series "$prom0" 'up == 1' | wc -l) -ge 5 && $(series "$prom1" 'up == 1' | wc -l) -ge 5 ]]; }
wait_for 40 "every target up on both replicas" have_all ||
  die "targets not up: $(http "$prom0/api/v1/targets" | jq -c '[.data.activeTargets[] | {job: .labels.job, health, lastError}]')"

# --- labels: what the rules and dashboards select on -------------------------------
for prom in "$prom0" "$prom1"; do
  got=$(series "$prom" 'probe_success{job="canary", namespace="default"}' | jq -c '{instance, "module": .module, pod, container, endpoint}')
  want="{\"instance\":\"$sidecar\",\"module\":\"canary\",\"pod\":\"shop-api-7d9f8b6c5d-x2x4q\",\"container\":\"canary-exporter\",\"endpoint\":\"canary\"}"
  [[ "$got" == "$want" ]] && ok "sidecar probe series on ${prom##*:}: $got" || bad "sidecar probe labels: got $got, want $want"
  got=$(series "$prom" 'probe_success{job="canary", namespace="monitoring"}' | jq -r '"\(.instance) \(.module)"' | sort | tr '\n' ' ')
  want=$(printf '%s canary\n' "http://localhost:$cart_port/" "http://localhost:$checkout_port/" | sort | tr '\n' ' ')
  [[ "$got" == "$want" ]] && ok "central probe series (Probe, instance = target): $got" || bad "central probe series: got '$got', want '$want'"
  got=$(series "$prom" 'canary_exporter_build_info' | jq -r '"\(.job)/\(.namespace)"' | sort | tr '\n' ' ')
  [[ "$got" == "canary_exporter/default canary_exporter/monitoring " ]] &&
    ok "both exporters' own metrics scraped as job canary_exporter" || bad "self-metrics series: '$got'"
done
[[ $(series "$prom0" 'probe_success{job="canary"} == 1' | wc -l) -eq 3 ]] && ok "all 3 probes succeed" ||
  bad "probes not all successful: $(series "$prom0" 'probe_success{job="canary"}')"

# --- one burst per interval at the app, though two replicas scrape it ------------
# Measure over 6 intervals after both replicas have scraped a few times.
window=60
r0=$(requests "$app_port")
# Scrapes the exporter answered without a burst of their own: from the last
# burst (min_interval, probe_cached) or, when both replicas' scrapes meet,
# from the running one (single flight).
reused() {
  http "http://$sidecar/metrics" |
    awk '/^canary_exporter_probes_(cached|shared)_total\{module="canary"\}/ {n += $2} END {print n + 0}'
}
c0=$(reused)
sleep "$window"
r1=$(requests "$app_port")
c1=$(reused)
per_burst=$(prom_query "$prom0" 'max_over_time(probe_http_requests_sent{job="canary", namespace="default"}[2m])' |
  jq -r '.data.result[0].value[1]')
scrapes=0
for prom in "$prom0" "$prom1"; do
  n=$(prom_query "$prom" "count_over_time(probe_success{job=\"canary\", namespace=\"default\"}[${window}s])" | jq -r '.data.result[0].value[1]')
  scrapes=$((scrapes + n))
done
bursts=$(awk -v r=$((r1 - r0)) -v b="$per_burst" 'BEGIN { printf "%.1f", r / b }')
cached=$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')
echo "app: $((r1 - r0)) requests in ${window}s = $bursts bursts of $per_burst; $scrapes scrapes by the pair; $cached answered without a burst of their own"
# 6 intervals: 6 bursts (7 if a window edge splits one); without min_interval 12.
if awk -v b="$bursts" 'BEGIN { exit !(b >= 4.5 && b <= 7.5) }' && ((scrapes >= 10)); then
  ok "one burst per interval reaches the app: $bursts bursts for $scrapes scrapes by two replicas"
else
  bad "the app got $bursts bursts in ${window}s for $scrapes scrapes (want about 6: min_interval)"
fi
awk -v c="$cached" 'BEGIN { exit !(c >= 4) }' && ok "$cached scrapes were answered with another scrape's burst (cached or shared)" ||
  bad "only $cached scrapes reused a burst"
for p in $checkout_port $cart_port; do
  n=$(requests "$p")
  ((n > 0)) && ok "central target :$p got $n requests" || bad "central target :$p got no requests"
done

# --- rules and dashboards ------------------------------------------------------------
for prom in "$prom0" "$prom1"; do
  rules_json=$(http "$prom/api/v1/rules")
  nrules=$(jq '[.data.groups[] | select(.name != "test-delivery") | .rules[]] | length' <<<"$rules_json")
  # A group whose interval is longer than this test (the hourly rollups) has
  # not been evaluated yet: "unknown" there is no error, anything else is.
  unhealthy=$(jq -r '.data.groups[] | .interval as $i | .rules[] |
      select(.health != "ok" and (.health != "unknown" or $i < 600)) |
      "\(.name): \(.health) \(.lastError // "")"' <<<"$rules_json")
  expected=$(grep -cE '^\s*- (record|alert):' "$root/deploy/kubernetes/base/prometheusrule.yml")
  if [[ "$nrules" -eq "$expected" && -z "$unhealthy" ]]; then
    ok "all $nrules rules of the PrometheusRule evaluate without error on ${prom##*:}"
  else
    bad "rules on ${prom##*:}: $nrules loaded of $expected; unhealthy: $unhealthy"
  fi
done
DASH_FRESH=1 DASH_INTERVAL=20s check_dashboards "$prom0" "$tmp"/sidecar/dashboards/*.json

# --- one page from two replicas -------------------------------------------------------
pages() { http "$webhook_url/log" | grep -c '"alertname":"CanaryE2EDelivery"' || true; }
wait_for 40 "delivery" test "$(pages)" -ge 1 || bad "the test alert never reached the webhook"
sleep 12  # both replicas have sent it by now (evaluation every 10s)
firing=0
for prom in "$prom0" "$prom1"; do
  firing=$((firing + $(prom_query "$prom" 'ALERTS{alertname="CanaryE2EDelivery", alertstate="firing"}' | jq '.data.result | length')))
done
n=$(pages)
if [[ "$n" -eq 1 && "$firing" -eq 2 ]]; then
  ok "the alert fired on both replicas and reached the webhook once"
else
  bad "the alert fired on $firing replicas and reached the webhook $n times (want 2 and 1)"
fi

echo "total $(($(date +%s) - started)) s with Prometheus up"
finish
