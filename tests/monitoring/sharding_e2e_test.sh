#!/usr/bin/env bash
# sharding_e2e_test.sh: the worked sharding example of docs/deployment.md
# ("Fleet scale"), deploy/prometheus/prometheus-shard.yml, run as two shards
# on 127.0.0.1: two Prometheus servers, each with its own canary_exporter,
# six targets on one control_target. It shows: every target is probed by
# exactly one exporter (from the exporters' own logs), the one Prometheus's
# hashmod puts it in (the shard is computed here the way Prometheus does:
# md5 of the URL, its last 8 bytes as a big-endian integer, modulo 2), and
# each shard's Prometheus stores exactly its targets.
#
# Only these differ from the file: the shard number and exporter address of
# the second server (the two lines the file says to change), the targets'
# host:port (the control_target's), the alerting address, and the intervals
# (1m -> 5s). The exporters run their embedded default config (loopback
# targets allowed). About 40 s.
#
# Usage: sharding_e2e_test.sh path/to/canary_exporter path/to/control_target
set -euo pipefail

exporter_bin=${1:?usage: sharding_e2e_test.sh canary_exporter control_target}
target_bin=${2:?usage: sharding_e2e_test.sh canary_exporter control_target}
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/monitoring/lib.sh
source "$root/tests/monitoring/lib.sh"
for tool in prometheus promtool jq curl python3; do
  command -v "$tool" >/dev/null || die "$tool not installed (scripts/setup.sh --test)"
done
shipped=$root/deploy/prometheus/prometheus-shard.yml
host=$(grep -o 'http://[^/]*/' "$shipped" | head -1 | sed -e 's|http://||' -e 's|/||')
[[ -n "$host" ]] || die "no target in $shipped"

# shard_of URL...: the shard Prometheus's hashmod (modulus 2) gives each URL.
shard_of() {
  python3 -c '
import hashlib, sys
for u in sys.argv[1:]:
    print(u, int.from_bytes(hashlib.md5(u.encode()).digest()[8:], "big") % 2)' "$@"
}

# The target; its port decides the URLs and so the split. A split that puts
# every target in one shard would show nothing: take another port (bounded).
for attempt in 1 2 3 4 5; do
  start_target "$target_bin" "target$attempt"
  port=$REPLY
  mapfile -t urls < <(grep -o "http://$host/[a-z]*" "$shipped" | sed "s|$host|127.0.0.1:$port|")
  shard_of "${urls[@]}" >"$tmp/expected.txt"
  n0=$(awk '$2 == 0' "$tmp/expected.txt" | wc -l)
  ((n0 > 0 && n0 < ${#urls[@]})) && break
  kill "${pids[-1]}"
done
((n0 > 0 && n0 < ${#urls[@]})) || die "5 ports in a row put every target in one shard"
((${#urls[@]} >= 4)) || die "the worked example lists ${#urls[@]} targets"
http "http://127.0.0.1:$port/control?delay_ms=10" >/dev/null
ok "${#urls[@]} targets on :$port, $n0 in shard 0 and $((${#urls[@]} - n0)) in shard 1 by hashmod"

# start_exporter_debug N: exporter N on the embedded default config, logging
# every probe (JSON, debug level); sets REPLY to its address.
start_exporter_debug() {
  "$exporter_bin" --web.listen-address=127.0.0.1:0 --log.level=debug --log.format=json \
    >"$tmp/exporter$1.log" 2>&1 &
  pids+=($!)
  wait_for 15 "exporter" grep -q '"listening' "$tmp/exporter$1.log" || die "exporter $1 did not start"
  REPLY=$(grep -o 'address":"127\.0\.0\.1:[0-9]*' "$tmp/exporter$1.log" | head -1 | sed 's/address":"//')
  [[ -n "$REPLY" ]] || die "no address in exporter$1.log"
}

proms=()
for shard in 0 1; do
  start_exporter_debug "$shard"
  exporter=$REPLY
  pport=$(free_port)
  # The two lines the file says to change for the second shard, then
  # addresses and intervals.
  sed -e "s|regex: \"0\"            # this server's shard|regex: \"$shard\"            # this server's shard|" \
    -e "s|shard: \"0\"|shard: \"$shard\"|" \
    -e "s|localhost:9427|$exporter|g" -e "s|$host|127.0.0.1:$port|g" \
    -e "s|localhost:9093|127.0.0.1:1|" -e "s|\.\./\.\./alerts/canary.yml|$root/alerts/canary.yml|" \
    -e 's/scrape_interval: 1m/scrape_interval: 5s/' -e 's/scrape_timeout: 10s/scrape_timeout: 5s/' \
    -e 's/evaluation_interval: 1m/evaluation_interval: 5s/' "$shipped" >"$tmp/shard$shard.yml"
  grep -q "regex: \"$shard\"" "$tmp/shard$shard.yml" || die "the shard line of $shipped changed: update this test"
  promtool check config "$tmp/shard$shard.yml" >"$tmp/check.log" 2>&1 || die "shard $shard config: $(cat "$tmp/check.log")"
  prometheus --config.file="$tmp/shard$shard.yml" --storage.tsdb.path="$tmp/data$shard" \
    --web.listen-address="127.0.0.1:$pport" >"$tmp/prometheus$shard.log" 2>&1 &
  pids+=($!)
  proms+=("http://127.0.0.1:$pport")
done
for p in "${proms[@]}"; do
  wait_for 60 "prometheus ready" http -f "$p/-/ready" || die "prometheus $p did not become ready"
done
# Three scrape intervals, so every target has had its bursts.
sleep 20

# What each exporter probed (its own log: one "probe finished" per /probe)
# and what each Prometheus stored.
for shard in 0 1; do
  jq -r 'select(.msg == "probe finished") | .target' "$tmp/exporter$shard.log" 2>/dev/null | sort -u >"$tmp/probed$shard.txt"
  prom_query "${proms[$shard]}" 'probe_success{job="canary"}' | jq -r '.data.result[].metric.instance' | sort -u >"$tmp/stored$shard.txt"
  awk -v s="$shard" '$2 == s {print $1}' "$tmp/expected.txt" | sort >"$tmp/want$shard.txt"
  if diff -q "$tmp/want$shard.txt" "$tmp/probed$shard.txt" >/dev/null; then
    ok "exporter $shard probed exactly shard $shard's $(wc -l <"$tmp/want$shard.txt") targets"
  else
    bad "exporter $shard probed [$(tr '\n' ' ' <"$tmp/probed$shard.txt")], want [$(tr '\n' ' ' <"$tmp/want$shard.txt")]"
  fi
  if diff -q "$tmp/want$shard.txt" "$tmp/stored$shard.txt" >/dev/null; then
    ok "Prometheus shard $shard stores exactly its targets"
  else
    bad "Prometheus shard $shard stores [$(tr '\n' ' ' <"$tmp/stored$shard.txt")]"
  fi
done
both=$(comm -12 "$tmp/probed0.txt" "$tmp/probed1.txt" | wc -l)
all=$(sort -u "$tmp/probed0.txt" "$tmp/probed1.txt" | wc -l)
if ((both == 0 && all == ${#urls[@]})); then
  ok "each of the ${#urls[@]} targets was probed by exactly one exporter"
else
  bad "$both targets probed by both exporters, $all of ${#urls[@]} probed at all"
fi

finish
