#!/usr/bin/env bash
# The exporter's own port under idle connections (issue 14, docs/benchmarks.md
# figure 8): time to serve /-/healthy with 0, 100 and 2000 idle connections
# open, as a ratio to 0; RSS and threads with 2000 idle connections against
# none. Idle connections connect and send nothing; they are held by the
# front listener (exporter/http/edge_listener.h) and must cost neither a
# worker nor time.
#
# Usage: bench/edge.sh EXPORTER [--smoke]
# Prints rows for bench/run.sh's table (tab-separated: id, figure, value,
# reference, ratio, goal, verdict) on stdout, progress on stderr. Standalone
# or called by bench/run.sh. All traffic on 127.0.0.1; counts are bounded;
# the exporter it starts is stopped on exit.
set -euo pipefail

EXPORTER=${1:?usage: bench/edge.sh EXPORTER [--smoke]}
SMOKE=0
[[ "${2:-}" == "--smoke" ]] && SMOKE=1
N=200   # timed requests per case
((SMOKE)) && N=20
IDLE_MAX=2000

WORK=$(mktemp -d /tmp/canary-edge.XXXXXX)
PID=""
cleanup() {
  if [[ -n "$PID" ]]; then
    kill "$PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "bench/edge: $*" >&2; }
calc() { awk "BEGIN {printf \"%.6g\n\", ($1)}"; }
fmt() { awk -v v="$1" -v p="${2:-3}" 'BEGIN {if (v == "nan" || v == "") print "n/a"; else printf "%.*f\n", p, v}'; }
median() { sort -g "$1" | awk '{a[NR] = $1} END {if (NR == 0) print "nan"; else print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
verdict() { awk "BEGIN {print ($1) ? \"PASS\" : \"FAIL\"}"; }
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' /proc/"$1"/status; }
threads() { awk '/^Threads:/ {print $2}' /proc/"$1"/status; }

# 2000 idle sockets in this shell, plus the exporter's own.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(($(ulimit -n) > IDLE_MAX + 100)) || { log "open-file limit $(ulimit -n) too low for $IDLE_MAX idle connections"; exit 1; }

# The embedded default config, but every idle connection comes from
# 127.0.0.1 here: lift the per-client limit so that all of them are held.
cat >"$WORK/edge.toml" <<'TOML'
[web]
max_connections_per_client = 4096
request_head_timeout = "5m"
[modules.canary]
timeout = "1s"
TOML
"$EXPORTER" --config.file="$WORK/edge.toml" --web.listen-address=127.0.0.1:0 --log.level=info \
  >"$WORK/exporter.log" 2>&1 &
PID=$!
PORT=""
for _ in $(seq 100); do
  PORT=$(sed -n 's/.*msg=listening address=127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$WORK/exporter.log")
  [[ -n "$PORT" ]] && break
  sleep 0.1
done
[[ -n "$PORT" ]] || { cat "$WORK/exporter.log" >&2; log "the exporter did not start"; exit 1; }
URL="http://127.0.0.1:$PORT/-/healthy"
for i in $(seq "$N"); do echo "url = \"$URL\""; echo 'output = "/dev/null"'; done >"$WORK/curl.cfg"

# Median wall time of N sequential /-/healthy requests from one curl process
# (a new connection each: the exporter answers Connection: close), in ms.
healthy_ms() {
  curl -s --max-time 30 -K "$WORK/curl.cfg" -w '%{time_total}\n' >"$WORK/t.$1" || true
  awk '{print $1 * 1000}' "$WORK/t.$1" >"$WORK/ms.$1"
  [[ $(wc -l <"$WORK/ms.$1") -eq $N ]] || log "only $(wc -l <"$WORK/ms.$1") of $N requests answered with $1 idle"
  median "$WORK/ms.$1"
}
awaiting() { curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" | awk '$1 == "canary_exporter_http_connections_awaiting_head" {print $2}'; }

healthy_ms warmup >/dev/null
sleep 0.5
rss0=$(rss_kib "$PID")
thr0=$(threads "$PID")
t0=$(healthy_ms 0)
FDS=()
open_idle() { # open_idle TOTAL
  while ((${#FDS[@]} < $1)); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
    FDS+=("$fd")
  done
}
open_idle 100
t100=$(healthy_ms 100)
open_idle "$IDLE_MAX"
sleep 0.5
held=$(awaiting)
t2000=$(healthy_ms 2000)
rss2000=$(rss_kib "$PID")
thr2000=$(threads "$PID")
log "healthy median: $t0 ms (0 idle), $t100 ms (100), $t2000 ms (2000); held ${held:-?} idle;" \
  "RSS $rss0 -> $rss2000 KiB; threads $thr0 -> $thr2000"
for fd in "${FDS[@]}"; do exec {fd}>&-; done
# The reference again once they are closed; the lower of the two medians
# (a shared machine's noise only ever adds time).
sleep 0.5
t0_after=$(healthy_ms 0after)
log "healthy median with 0 idle again: $t0_after ms"
t0=$(awk -v a="$t0" -v b="$t0_after" 'BEGIN {print (b < a) ? b : a}')

r100=$(calc "$t100 / $t0")
r2000=$(calc "$t2000 / $t0")
row 8 "/-/healthy median, 100 idle connections open (ms)" "$(fmt "$t100")" "$(fmt "$t0") 0 idle" "$(fmt "$r100" 2)" "<= 2" "$(verdict "$r100 <= 2")"
row 8 "/-/healthy median, 2000 idle connections open (ms)" "$(fmt "$t2000")" "$(fmt "$t0") 0 idle" "$(fmt "$r2000" 2)" "<= 2" "$(verdict "$r2000 <= 2")"
row 8 "  idle connections held (awaiting their head)" "${held:-n/a}" "$IDLE_MAX opened" "-" "info" "-"
row 8 "RSS with 2000 idle connections (MiB)" "$(fmt "$(calc "$rss2000/1024")" 1)" "$(fmt "$(calc "$rss0/1024")" 1) 0 idle" \
  "$(fmt "$(calc "$rss2000/$rss0")" 2)" "<= +16 MiB" "$(verdict "$rss2000 - $rss0 <= 16384")"
row 8 "threads with 2000 idle connections" "$thr2000" "$thr0 0 idle" "$(fmt "$(calc "$thr2000/$thr0")" 2)" "= 0 idle" \
  "$(verdict "$thr2000 == $thr0")"
