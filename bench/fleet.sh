#!/usr/bin/env bash
# bench/fleet.sh: how many concurrent bursts one exporter holds (docs/deployment.md,
# "Fleet scale"). Steps of N concurrent /probe calls, each a shipped canary
# burst (the [modules] of deploy/kubernetes/central/config.toml: 10 VUs, 1 s
# think time, 5 s) against its own target on nginx (/sleep20: 20 ms, on
# 127.0.0.1, bench/nginx.conf.in), and per step: bursts that succeeded, were
# truncated or dropped requests, the exporter's CPU (cores, over the step) and
# peak RSS, and the bursts' p95 latency against a solo burst's in the same run
# (the reference: what the target really answers). A step "holds" when every
# burst succeeds untruncated and the median burst p95 is within 10 % + 2 ms
# of the solo one (the exporter adds no queueing of its own).
#
# Usage: bench/fleet.sh [--smoke] [EXPORTER]
#   EXPORTER defaults to build-bench/canary_exporter (bench/run.sh builds it),
#   then build/canary_exporter. Needs nginx with the echo module (bench/setup.sh).
#   --smoke: steps 1 and 10 only (a harness check, ~20 s).
# Every step is bounded (at most 200 bursts of ~50 requests, 30 s); all traffic
# stays on 127.0.0.1; every process started here is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STEPS=(1 25 50 100 200)
if [[ "${1:-}" == "--smoke" ]]; then STEPS=(1 10); shift; fi
# FLEET_KEEP=1 keeps the work folder (each burst's answer of the last step).
EXPORTER=${1:-$ROOT/build-bench/canary_exporter}
[[ -x "$EXPORTER" ]] || EXPORTER=$ROOT/build/canary_exporter
[[ -x "$EXPORTER" ]] || { echo "fleet: no canary_exporter (build first)" >&2; exit 1; }
ECHO_MODULE=/usr/lib/nginx/modules/ngx_http_echo_module.so
command -v nginx >/dev/null && [[ -f "$ECHO_MODULE" ]] || { echo "fleet: run bench/setup.sh (nginx, echo module)" >&2; exit 1; }

WORK="$(mktemp -d /tmp/canary-fleet.XXXXXX)"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n "${FLEET_KEEP:-}" ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
free_port() { local p; for p in $(seq "$1" $(($1 + 200))); do
  (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; return 1; }
wait_http() { local i; for i in $(seq 100); do curl -sf -o /dev/null "$1" && return; sleep 0.1; done; return 1; }
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' /proc/"$1"/status; }

NGX_PORT=$(free_port 18380)
EXP_PORT=$(free_port 19727)
max=${STEPS[-1]}
mkdir -p "$WORK/nginx-tmp"
sed -e "s|@ECHO_MODULE@|$ECHO_MODULE|" -e "s|@WORK@|$WORK|g" -e "s|@PORT@|$NGX_PORT|" \
  "$ROOT/bench/nginx.conf.in" >"$WORK/nginx.conf"
# The shipped central modules, loopback allowlist (no [security]), and a
# [server] budget that admits the largest step.
{
  sed -n '/^\[modules/,$p' "$ROOT/deploy/kubernetes/central/config.toml" | grep -v '^min_interval'
  printf '\n[server]\nmax_concurrent_probes = %d\nmax_inflight_requests = %d\n' "$max" $((max * 10))
} >"$WORK/canary.toml"
nginx -p "$WORK" -c "$WORK/nginx.conf" >"$WORK/nginx.out" 2>&1 &
PIDS+=($!)
"$EXPORTER" --config.file="$WORK/canary.toml" --web.listen-address="127.0.0.1:$EXP_PORT" \
  --log.level=warn --history.limit=0 >"$WORK/exporter.log" 2>&1 &
EXP=$!
PIDS+=("$EXP")
wait_http "http://127.0.0.1:$NGX_PORT/fast" || { echo "fleet: nginx did not start" >&2; exit 1; }
wait_http "http://127.0.0.1:$EXP_PORT/-/healthy" || { echo "fleet: exporter did not start" >&2; cat "$WORK/exporter.log" >&2; exit 1; }

echo "canary_exporter fleet benchmark $(date -u +%FT%TZ)"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); exporter $EXPORTER"
printf '| %-6s | %-9s | %-8s | %-10s | %-9s | %-8s | %-22s | %-5s |\n' \
  bursts succeeded requests truncated cpu_cores rss_MiB "p95 median/max (solo)" holds
echo "|--------|-----------|----------|------------|-----------|----------|------------------------|-------|"
solo=""
for n in "${STEPS[@]}"; do
  rm -rf "$WORK/out" && mkdir -p "$WORK/out"
  for i in $(seq "$n"); do
    echo "url = \"http://127.0.0.1:$EXP_PORT/probe?module=canary&target=http%3A%2F%2F127.0.0.1%3A$NGX_PORT%2Fsleep20%3Fc%3D$n-$i\""
    echo "output = \"$WORK/out/$i\""
  done >"$WORK/step.cfg"
  c0=$(cpu_ns "$EXP")
  t0=$(date +%s%N)
  curl -s --no-progress-meter --parallel --parallel-immediate --parallel-max "$n" --max-time 30 \
    -H "X-Prometheus-Scrape-Timeout-Seconds: 10" -K "$WORK/step.cfg" &
  cpid=$!
  peak=0
  for _ in $(seq 600); do  # every 50 ms, at most 30 s
    kill -0 "$cpid" 2>/dev/null || break
    r=$(rss_kib "$EXP"); ((r > peak)) && peak=$r
    sleep 0.05
  done
  wait "$cpid" || true
  t1=$(date +%s%N)
  c1=$(cpu_ns "$EXP")
  # Each burst's exact p95 (ms), sorted: median and maximum.
  cat "$WORK"/out/* 2>/dev/null |
    awk '$1 ~ /^probe_http_request_duration_quantile_seconds\{quantile="0.95"\}/ { print $2 * 1000 }' |
    sort -g >"$WORK/p95"
  k=$(wc -l <"$WORK/p95")
  med=$(sed -n "$(((k + 1) / 2))p" "$WORK/p95")
  top=$(tail -1 "$WORK/p95")
  cat "$WORK"/out/* 2>/dev/null | awk -v n="$n" -v med="${med:-0}" -v top="${top:-0}" -v solo="${solo:-${med:-0}}" \
    -v cpu=$((c1 - c0)) -v wall=$((t1 - t0)) -v peak="$peak" '
    $1 == "probe_success" { ok += $2 }
    $1 == "probe_http_requests_sent" { sent += $2 }
    $1 == "probe_burst_truncated" { trunc += $2 }
    END {
      holds = (ok == n && trunc == 0 && med <= solo * 1.1 + 2) ? "yes" : "no"
      printf "| %-6d | %-9s | %-8d | %-10d | %-9.2f | %-8.1f | %-22s | %-5s |\n", n, ok "/" n, sent, trunc,
        cpu / wall, peak / 1024, sprintf("%.1f/%.1f (%.1f) ms", med, top, solo), holds
    }'
  [[ -z "$solo" ]] && solo=$med
done
