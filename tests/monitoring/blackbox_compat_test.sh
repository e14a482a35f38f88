#!/usr/bin/env bash
# blackbox_compat_test.sh: blackbox_exporter users' alert rules and the
# queries of Grafana dashboards 7587 and 13659
# (tests/monitoring/blackbox_compat/queries.tsv) against a live Prometheus
# that scrapes canary_exporter the way blackbox is scraped (module and target
# as URL parameters, instance = target). Two canary targets on 127.0.0.1:
#   tls   openssl s_server over HTTPS with a certificate that expires in 2
#         days (verified through ca_file): healthy, its certificate alerting;
#   fail  a control_target answering every request with 500.
# Checks: every expression evaluates; every metric it names has data for a
# canary target; every dashboard query answers with data for the tls target;
# the alerts fire exactly for the target built to trigger them; every metric
# the file names is documented in docs/metrics.md. About 25 s.
#
# Usage: blackbox_compat_test.sh path/to/canary_exporter path/to/control_target
set -euo pipefail

exporter_bin=${1:?usage: blackbox_compat_test.sh canary_exporter control_target}
target_bin=${2:?usage: blackbox_compat_test.sh canary_exporter control_target}
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/monitoring/lib.sh
source "$root/tests/monitoring/lib.sh"
for tool in prometheus promtool openssl jq curl; do
  command -v "$tool" >/dev/null || die "$tool not installed (scripts/setup.sh --test)"
done
queries=$root/tests/monitoring/blackbox_compat/queries.tsv

# Every metric the expressions name is documented (dashboards and alerts use
# only documented metrics).
mapfile -t names < <(grep -v '^#' "$queries" | cut -f3 | grep -o '\bprobe_[a-z_0-9]*' | sort -u)
for n in "${names[@]}"; do
  grep -q "^| \`$n\` |" "$root/docs/metrics.md" || bad "$n is used by a blackbox query but not documented in docs/metrics.md"
done
ok "${#names[@]} metric names of the blackbox queries are documented"

# The HTTPS target: a 2-day certificate for 127.0.0.1, trusted via ca_file.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 2 \
  -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >"$tmp/openssl.log" 2>&1 || die "openssl req failed"
tls_port=$(free_port)
openssl s_server -accept "127.0.0.1:$tls_port" -cert "$tmp/cert.pem" -key "$tmp/key.pem" \
  -www -quiet >"$tmp/s_server.log" 2>&1 &
pids+=($!)
wait_for 10 "s_server" curl -sf --cacert "$tmp/cert.pem" "https://127.0.0.1:$tls_port/" || die "s_server did not start"
start_target "$target_bin" fail
fail_port=$REPLY
http "http://127.0.0.1:$fail_port/control?delay_ms=0&error_pct=100" >/dev/null
tls_url="https://127.0.0.1:$tls_port/"
fail_url="http://127.0.0.1:$fail_port/api"

# A blackbox-like module: three requests a burst, default metrics settings.
cat >"$tmp/canary.toml" <<TOML
[modules.http_2xx]
timeout = "2s"
[modules.http_2xx.burst]
vus = 1
requests = 3
[modules.http_2xx.http.tls]
ca_file = "$tmp/cert.pem"
TOML
start_exporter "$exporter_bin" "$tmp/canary.toml" exporter
exporter=$REPLY

# Scraped as blackbox's README scrapes it.
pport=$(free_port)
cat >"$tmp/prometheus.yml" <<YML
global:
  scrape_interval: 2s
  scrape_timeout: 2s
scrape_configs:
  - job_name: blackbox
    metrics_path: /probe
    params:
      module: [http_2xx]
    static_configs:
      - targets: ["$tls_url", "$fail_url"]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: $exporter
YML
promtool check config "$tmp/prometheus.yml" >"$tmp/check.log" 2>&1 || die "prometheus config: $(cat "$tmp/check.log")"
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
  --web.listen-address="127.0.0.1:$pport" >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
prom="http://127.0.0.1:$pport"
wait_for 60 "prometheus ready" http -f "$prom/-/ready" || die "prometheus did not become ready"
# Both targets scraped at least 3 times (bounded: 40 s).
have_scrapes() {
  [[ $(prom_query "$prom" 'count_over_time(probe_success{job="blackbox"}[1m]) >= 3' |
    jq '.data.result | length') -eq 2 ]]
}
wait_for 40 "three scrapes of both targets" have_scrapes || die "Prometheus has not scraped both targets 3 times"

# result_instances EXPR: the instance labels of the answer, one a line ("-"
# for a series without one); fails on a query error.
result_instances() {
  local answer
  answer=$(prom_query "$prom" "$1") || return 1
  [[ $(jq -r .status <<<"$answer") == success ]] || return 1
  jq -r '.data.result[] | .metric.instance // "-"' <<<"$answer"
}

declare -A fires=(
  [BlackboxProbeFailed]=$fail_url
  [BlackboxProbeHttpFailure]=$fail_url
  [BlackboxSslCertificateWillExpireSoon:critical]=$tls_url
)
nalerts=0
ndash=0
while IFS=$'\t' read -r source name expr; do
  [[ -z "$source" || "$source" == \#* ]] && continue
  q=$expr
  q=${q//\$target/.+}
  q=${q//\$instance/.+}
  q=${q//\$job/blackbox}
  q=${q//\$__range/1m}
  if ! got=$(result_instances "$q"); then
    bad "$source / $name: query failed: $q"
    continue
  fi
  # Every metric it reads has data for a canary target.
  while read -r n; do
    [[ -n $(result_instances "$n{job=\"blackbox\",instance=\"$tls_url\"}") ]] ||
      bad "$source / $name: $n has no data for $tls_url"
  done < <(grep -o '\bprobe_[a-z_0-9]*' <<<"$q" | sort -u)
  if [[ "$source" == alerts ]]; then
    nalerts=$((nalerts + 1))
    want=${fires[$name]:-}
    if [[ "$(sort -u <<<"$got" | grep -v '^$' || true)" == "$want" ]]; then
      ok "alert $name: fires for [${want:-none}]"
    else
      bad "alert $name: fires for [$(tr '\n' ' ' <<<"$got")], want [${want:-none}]"
    fi
  else
    ndash=$((ndash + 1))
    # A series of the tls target, or (an aggregation without instance)
    # any series at all.
    if ! grep -qxF -- "$tls_url" <<<"$got" && ! grep -qx -- "-" <<<"$got"; then
      bad "dashboard $source / $name: no data for $tls_url: $q"
    fi
  fi
done <"$queries"
((nalerts >= 7)) || bad "only $nalerts alert expressions in $queries"
((ndash >= 25)) || bad "only $ndash dashboard queries in $queries"
ok "$nalerts alert expressions and $ndash dashboard queries evaluated"

# What the dashboards show for the two targets.
v() { prom_query "$prom" "$1" | jq -r '.data.result[0].value[1] // "none"'; }
[[ $(v "probe_http_status_code{instance=\"$fail_url\"}") == 500 ]] || bad "status code of $fail_url: $(v "probe_http_status_code{instance=\"$fail_url\"}")"
[[ $(v "probe_http_status_code{instance=\"$tls_url\"}") == 200 ]] || bad "status code of $tls_url"
[[ $(v "probe_http_ssl{instance=\"$tls_url\"}") == 1 ]] || bad "probe_http_ssl of $tls_url"
[[ $(v "probe_http_ssl{instance=\"$fail_url\"}") == 0 ]] || bad "probe_http_ssl of $fail_url"
# openssl s_server -www answers HTTP/1.0.
[[ $(v "probe_http_version{instance=\"$tls_url\"}") == 1 ]] || bad "probe_http_version of $tls_url: $(v "probe_http_version{instance=\"$tls_url\"}")"
ok "status codes, SSL and HTTP version as the targets answer"

finish
