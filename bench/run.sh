#!/usr/bin/env bash
# The benchmark harness of canary_exporter (issue 5, docs/benchmarks.md).
#
# One command: installs what is missing (bench/setup.sh), builds the exporter
# (Release) into build-bench/, starts nginx (the target), canary_exporter and
# blackbox_exporter on 127.0.0.1, runs every measurement against its
# reference in the same run and prints one table.
#
# Usage: bench/run.sh [--smoke] [--no-setup] [--no-build] [--keep]
#   --smoke     ~1 s version of every measurement (finishes well under a
#               minute); checks the harness, not the goals
#   --no-setup  skip bench/setup.sh (packages already installed)
#   --no-build  use the existing build-bench/canary_exporter
#   --keep      keep the work directory (configs, raw outputs, logs)
#   --micro     also build and run the Google Benchmark microbenchmarks
#               (bench/micro), with nginx up for the loopback transport one
# Environment: CANARY_BENCH_BUILD (build dir), CANARY_BENCH_JOBS (default 2),
#   CANARY_BENCH_EXPORTER (use this binary, implies --no-build).
#
# All traffic stays on 127.0.0.1; every loop is bounded in count and time;
# every process started here is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="$ROOT/bench"
SMOKE=0 SETUP=1 BUILD=1 KEEP=0 MICRO=0
for arg in "$@"; do
  case "$arg" in
    --smoke) SMOKE=1 ;;
    --no-setup) SETUP=0 ;;
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    --micro) MICRO=1 ;;
    -h | --help) sed -n "2,21p" "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

# Durations and counts: the issue's figures, or ~1 s each for --smoke.
if ((SMOKE)); then
  D=1 D3=1 DM=1 REPS=1 N_ONE=20 N_BB=30 OV_ROUNDS=1
else
  D=5 D3=3 DM=2 REPS=3 N_ONE=300 N_BB=300 OV_ROUNDS=3
fi
CONC=50
SCRAPE_TIMEOUT=30  # X-Prometheus-Scrape-Timeout-Seconds sent with /probe

WORK="$(mktemp -d /tmp/canary-bench.XXXXXX)"
PIDS=()
cleanup() {
  local pid
  for pid in $(jobs -p); do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if ((KEEP)); then echo "bench: work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }

# --- helpers -----------------------------------------------------------------

# A free TCP port on 127.0.0.1, from a fixed range (bounded search).
free_port() {
  local p
  for p in $(seq "$1" $(($1 + 200))); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  die "no free port near $1"
}

# Waits (at most 10 s) until the URL answers 2xx.
wait_http() {
  for _ in $(seq 100); do
    curl -sf -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  die "$1 did not come up"
}

# CPU time of every thread of a process, nanoseconds: the sum of
# /proc/PID/task/*/schedstat (exact, unlike the 10 ms ticks of
# /proc/PID/stat). The processes measured keep their threads alive, so no
# exited thread's time is lost.
# (printf %.0f: mawk's %d saturates at 2^31 ns.)
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'; }
# utime + stime in clock ticks from /proc/PID/stat (cross-check, logged).
cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
rss_kib() { awk '/^VmRSS:/ {print $2}' /proc/"$1"/status; }

# Value of one sample line of a Prometheus text file: metric FILE NAME{labels}.
metric() { awk -v n="$2" '$1 == n {print $2; f = 1; exit} END {if (!f) print "nan"}' "$1"; }

# Floating-point arithmetic and formatting.
calc() { awk "BEGIN {printf \"%.6g\n\", ($1)}"; }
fmt() { awk -v v="$1" -v p="${2:-3}" 'BEGIN {if (v == "nan" || v == "") print "n/a"; else printf "%.*f\n", p, v}'; }

# Quantile (linear interpolation, rank q*(n-1)) of the numbers in FILE.
quantile() {
  sort -g "$1" | awk -v q="$2" '{a[NR - 1] = $1} END {
    if (NR == 0) {print "nan"; exit}
    r = q * (NR - 1); i = int(r); f = r - i
    v = (i + 1 < NR) ? a[i] + f * (a[i + 1] - a[i]) : a[i]; printf "%.9g\n", v}'
}

# wrk's latency line for a percentile, in milliseconds: wrk_pct FILE 50
wrk_pct() {
  awk -v p="$2%" '$1 == p {v = $2; u = v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v)
    m = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1
    printf "%.6g\n", v * m; exit}' "$1"
}
wrk_requests() { awk '/requests in/ {print $1; exit}' "$1"; }
wrk_rps() { awk '/^Requests\/sec:/ {print $2; exit}' "$1"; }

probe_url() { # probe_url MODULE PATH
  echo "http://127.0.0.1:$EXP_PORT/probe?module=$1&target=http%3A%2F%2F127.0.0.1%3A$NGX_PORT%2F$2"
}
bb_url() { echo "http://127.0.0.1:$BB_PORT/probe?module=http_2xx&target=http%3A%2F%2F127.0.0.1%3A$NGX_PORT%2Ffast"; }
probe() { # probe MODULE PATH OUTFILE -> prints the wall time (s)
  curl -s --max-time $((SCRAPE_TIMEOUT + 5)) -H "X-Prometheus-Scrape-Timeout-Seconds: $SCRAPE_TIMEOUT" \
    -o "$3" -w '%{time_total}\n' "$(probe_url "$1" "$2")"
}
# A curl config file requesting URL N times, each answer to its own file
# (or /dev/null): many requests from one curl process. @I@ in URL becomes
# the request number, so concurrent probes have distinct targets (the
# exporter runs one shared burst for concurrent probes of the same target).
curl_config() { # curl_config URL N OUTPREFIX|"" > file
  local i
  for i in $(seq "$2"); do
    echo "url = \"${1//@I@/$i}\""
    if [[ -n "$3" ]]; then echo "output = \"$3.$i\""; else echo 'output = "/dev/null"'; fi
  done
}

# --- table -------------------------------------------------------------------
ROWS="$WORK/rows.tsv"
: >"$ROWS"
# row ID FIGURE VALUE REFERENCE RATIO GOAL VERDICT
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWS"; }
verdict() { awk "BEGIN {print ($1) ? \"PASS\" : \"FAIL\"}"; }

# --- setup, build, start -------------------------------------------------------
((SETUP)) && "$BENCH/setup.sh"
BUILD_DIR="${CANARY_BENCH_BUILD:-$ROOT/build-bench}"
EXPORTER="${CANARY_BENCH_EXPORTER:-$BUILD_DIR/canary_exporter}"
if ((BUILD)) && [[ -z "${CANARY_BENCH_EXPORTER:-}" ]]; then
  targets=(canary_exporter canary_curl_floor canary_probe_clients)
  ((MICRO)) && targets+=(canary_microbench)
  log "building canary_exporter (Release) in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCANARY_BUILD_TESTS=OFF -DCANARY_BENCH=ON >"$WORK/cmake.log" 2>&1 || { cat "$WORK/cmake.log" >&2; die "cmake failed"; }
  cmake --build "$BUILD_DIR" -j"${CANARY_BENCH_JOBS:-2}" --target "${targets[@]}" >"$WORK/build.log" 2>&1 ||
    { tail -30 "$WORK/build.log" >&2; die "build failed"; }
fi
[[ -x "$EXPORTER" ]] || die "no exporter binary at $EXPORTER"
CURL_FLOOR="$BUILD_DIR/bench/canary_curl_floor"
PROBE_CLIENTS="$BUILD_DIR/bench/canary_probe_clients"
[[ -x "$CURL_FLOOR" && -x "$PROBE_CLIENTS" ]] || die "no bench tools in $BUILD_DIR/bench (build without --no-build)"
for tool in nginx wrk prometheus-blackbox-exporter curl; do
  command -v "$tool" >/dev/null || die "$tool is missing: run bench/setup.sh"
done
ECHO_MODULE=/usr/lib/nginx/modules/ngx_http_echo_module.so
[[ -f "$ECHO_MODULE" ]] || die "nginx echo module missing: run bench/setup.sh"

NGX_PORT=$(free_port 18080)
EXP_PORT=$(free_port 19427)
BB_PORT=$(free_port 19115)
IDLE_PORT=$(free_port 19627)
mkdir -p "$WORK/nginx-tmp"
sed -e "s|@ECHO_MODULE@|$ECHO_MODULE|" -e "s|@WORK@|$WORK|g" -e "s|@PORT@|$NGX_PORT|" \
  "$BENCH/nginx.conf.in" >"$WORK/nginx.conf"
sed -e "s|@D@|$D|" -e "s|@D3@|$D3|g" -e "s|@DM@|$DM|" "$BENCH/canary.toml.in" >"$WORK/canary.toml"

nginx -p "$WORK" -c "$WORK/nginx.conf" >"$WORK/nginx.out" 2>&1 &
PIDS+=($!)
"$EXPORTER" --config.file="$WORK/canary.toml" --web.listen-address="127.0.0.1:$EXP_PORT" \
  --log.level=warn >"$WORK/exporter.log" 2>&1 &
EXP_PID=$!
PIDS+=("$EXP_PID")
prometheus-blackbox-exporter --config.file="$BENCH/blackbox.yml" \
  --web.listen-address="127.0.0.1:$BB_PORT" >"$WORK/blackbox.log" 2>&1 &
BB_PID=$!
PIDS+=("$BB_PID")
wait_http "http://127.0.0.1:$NGX_PORT/fast"
wait_http "http://127.0.0.1:$EXP_PORT/-/healthy"
wait_http "http://127.0.0.1:$BB_PORT/-/healthy"
sleep 1 # let start-up settle before the idle figures

# --- 6a. idle memory --------------------------------------------------------------
# Idle RSS as a user starts it: a second exporter on the embedded default
# config (its worker pool follows server.max_concurrent_probes, 16 by
# default; the bench config admits 64 probes for figures 5b and 6b).
"$EXPORTER" --web.listen-address="127.0.0.1:$IDLE_PORT" --log.level=warn >"$WORK/exporter-idle.log" 2>&1 &
IDLE_PID=$!
PIDS+=("$IDLE_PID")
wait_http "http://127.0.0.1:$IDLE_PORT/-/healthy"
sleep 1
exp_idle=$(rss_kib "$IDLE_PID")
exp_idle_bench=$(rss_kib "$EXP_PID")
kill "$IDLE_PID"
bb_idle=$(rss_kib "$BB_PID")
floor_idle=$("$CURL_FLOOR" idle | sed -n 's/^rss_kib=//p')
row 6a "RSS idle, default config (MiB)" "$(fmt "$(calc "$exp_idle/1024")" 1)" "$(fmt "$(calc "$bb_idle/1024")" 1) bb" \
  "$(fmt "$(calc "$exp_idle/$bb_idle")" 2)" "<= 10 MiB" "$(verdict "$exp_idle <= 10240")"
row 6a "  RSS idle, bench config (64 probe slots) (MiB)" "$(fmt "$(calc "$exp_idle_bench/1024")" 1)" "-" "-" "info" "-"
# The floor under 6a: a process that only links libcurl and has called
# curl_global_init (bench/tools/curl_floor.cc), and the exporter's own share
# above it.
row 6f "  RSS of a libcurl-only process after curl_global_init (MiB)" "$(fmt "$(calc "$floor_idle/1024")" 1)" "-" "-" "info" "-"
row 6a "  exporter idle RSS above that floor (MiB)" "$(fmt "$(calc "($exp_idle - $floor_idle)/1024")" 1)" \
  "$(fmt "$(calc "$floor_idle/1024")" 1) floor" "$(fmt "$(calc "$exp_idle/$floor_idle")" 2)" "<= 4 MiB" \
  "$(verdict "$exp_idle - $floor_idle <= 4096")"

# --- 6b. memory at 50 concurrent 10-VU bursts --------------------------------------
log "6b: $CONC concurrent 10-VU bursts (${DM}s)"
mkdir -p "$WORK/mem"
curl_config "$(probe_url memory "fast%3Fc%3D@I@")" "$CONC" "$WORK/mem/p" >"$WORK/mem.cfg"
curl -s --parallel --parallel-immediate --parallel-max "$CONC" --max-time $((SCRAPE_TIMEOUT + 5)) \
  -H "X-Prometheus-Scrape-Timeout-Seconds: $SCRAPE_TIMEOUT" -K "$WORK/mem.cfg" 2>"$WORK/mem.err" &
mem_curl=$!
peak=0
for _ in $(seq $(((DM + 10) * 20))); do # sample every 50 ms, bounded
  kill -0 "$mem_curl" 2>/dev/null || break
  r=$(rss_kib "$EXP_PID")
  ((r > peak)) && peak=$r
  sleep 0.05
done
wait "$mem_curl" || true
mem_ok=$(cat "$WORK"/mem/p.* 2>/dev/null | awk '$1 == "probe_success" {n += $2} END {print n + 0}')
mem_sent=$(cat "$WORK"/mem/p.* 2>/dev/null | awk '$1 == "probe_http_requests_sent" {n += $2} END {print n + 0}')
log "6b: $mem_ok/$CONC probes succeeded, $mem_sent requests, peak RSS ${peak} KiB"
row 6b "RSS peak, $CONC concurrent 10-VU bursts (MiB)" "$(fmt "$(calc "$peak/1024")" 1)" "-" "-" \
  "<= 64 MiB" "$(verdict "$peak <= 65536")"

# --- 5a + 7 (reference). one-request probes, wall time and CPU -----------------------
log "5a: $N_ONE one-request probes (canary_exporter and blackbox_exporter)"
curl_config "$(probe_url one fast)" "$N_ONE" "" >"$WORK/one.cfg"
c0=$(cpu_ns "$EXP_PID")
curl -s -H "X-Prometheus-Scrape-Timeout-Seconds: $SCRAPE_TIMEOUT" -w '%{time_total}\n' \
  -K "$WORK/one.cfg" >"$WORK/one.times"
c1=$(cpu_ns "$EXP_PID")
exp_one_cpu_ms=$(calc "($c1 - $c0) / $N_ONE / 1e6")
curl_config "$(bb_url)" "$N_BB" "" >"$WORK/bb.cfg"
b0=$(cpu_ns "$BB_PID") bt0=$(cpu_ticks "$BB_PID")
curl -s -w '%{time_total}\n' -K "$WORK/bb.cfg" >"$WORK/bb.times"
b1=$(cpu_ns "$BB_PID") bt1=$(cpu_ticks "$BB_PID")
bb_cpu_ms=$(calc "($b1 - $b0) / $N_BB / 1e6")
log "7: blackbox CPU per probe ${bb_cpu_ms} ms (stat ticks: $((bt1 - bt0)) over $N_BB probes)"
one_med=$(calc "$(quantile "$WORK/one.times" 0.5) * 1000")
bb_med=$(calc "$(quantile "$WORK/bb.times" 0.5) * 1000")
row 5a "one-request /probe wall time, median (ms)" "$(fmt "$one_med")" "$(fmt "$bb_med") bb" \
  "$(fmt "$(calc "$one_med/$bb_med")" 2)" "<= 2 ms" "$(verdict "$one_med <= 2")"
row 7b "CPU per one-request probe (ms)" "$(fmt "$exp_one_cpu_ms")" "$(fmt "$bb_cpu_ms") bb" \
  "$(fmt "$(calc "$exp_one_cpu_ms/$bb_cpu_ms")" 3)" "info" "-"

# --- 5b. time beyond the burst with 50 probes running at once -----------------------------
# 50 clients, started 20 ms apart (Prometheus spreads scrapes the same way),
# each running OV_ROUNDS probes back to back: about 50 bursts overlap at any
# time. Each burst sends its last request 0.9 s after it starts, so
# wall time - 0.9 s is the probe's cost beyond the burst (an upper bound: it
# includes the last request's own ~0.1 ms latency). The 50 clients are one
# process (bench/tools/probe_clients.cc): 50 shell loops starting curl and
# awk would compete with the exporter for the 2 cores and become most of
# what the p99 shows.
log "5b: $CONC overlapping probes x $OV_ROUNDS rounds (10 arrivals at 10/s each)"
mkdir -p "$WORK/ov"
"$PROBE_CLIENTS" "$CONC" "$OV_ROUNDS" 20 $((SCRAPE_TIMEOUT + 5)) \
  "X-Prometheus-Scrape-Timeout-Seconds: $SCRAPE_TIMEOUT" "$(probe_url overhead "fast%3Fc%3D@I@")" \
  "$WORK/ov" >"$WORK/ov/clients.txt" 2>"$WORK/ov/clients.err" || log "5b: $(cat "$WORK/ov/clients.err")"
while read -r c r t status; do
  echo "$t $(metric "$WORK/ov/$c.$r" probe_http_requests_sent) $(metric "$WORK/ov/$c.$r" probe_duration_seconds)"
done <"$WORK/ov/clients.txt" >"$WORK/ov/times.all"
n_ov=$((CONC * OV_ROUNDS))
awk '$2 == 10 {printf "%.6f\n", ($1 - 0.9) * 1000}' "$WORK/ov/times.all" >"$WORK/ov.ms"
ov_n=$(wc -l <"$WORK/ov.ms")
ov_p50=$(quantile "$WORK/ov.ms" 0.5)
ov_p99=$(quantile "$WORK/ov.ms" 0.99)
log "5b: $ov_n/$n_ov complete probes; beyond-burst p50 ${ov_p50} ms p99 ${ov_p99} ms"
row 5b "/probe time beyond the burst, $CONC at once, p99 (ms)" "$(fmt "$ov_p99")" \
  "p50 $(fmt "$ov_p50")" "-" "<= 2 ms" "$(verdict "$ov_p99 <= 2 && $ov_n == $n_ov")"
# The same from the exporter's own probe_duration_seconds: without HTTP
# serving and without the client's scheduling on this loaded 2-core machine.
awk '$2 == 10 {printf "%.6f\n", ($3 - 0.9) * 1000}' "$WORK/ov/times.all" >"$WORK/ovp.ms"
row 5b "  same, from probe_duration_seconds, p99 (ms)" "$(fmt "$(quantile "$WORK/ovp.ms" 0.99)")" \
  "p50 $(fmt "$(quantile "$WORK/ovp.ms" 0.5)")" "-" "info" "-"

# --- 3. timing accuracy on the 20 ms endpoint --------------------------------------------
log "3: accuracy, open model 40/s x ${D3}s vs wrk -t1 -c1 on /sleep20"
wrk -t1 -c1 -d"${D3}s" --latency "http://127.0.0.1:$NGX_PORT/sleep20" >"$WORK/wrk-acc.txt"
probe accuracy sleep20 "$WORK/acc.txt" >/dev/null
w50=$(wrk_pct "$WORK/wrk-acc.txt" 50)
w99=$(wrk_pct "$WORK/wrk-acc.txt" 99)
e50=$(calc "$(metric "$WORK/acc.txt" 'probe_http_request_duration_quantile_seconds{quantile="0.5"}') * 1000")
e99=$(calc "$(metric "$WORK/acc.txt" 'probe_http_request_duration_quantile_seconds{quantile="0.99"}') * 1000")
row 3 "latency median, 40/s on 20 ms endpoint (ms)" "$(fmt "$e50")" "$(fmt "$w50") wrk" \
  "diff $(fmt "$(calc "$e50 - $w50")")" "|diff| <= 0.3 ms" "$(verdict "($e50 - $w50) <= 0.3 && ($w50 - $e50) <= 0.3")"
row 3 "latency p99, same burst (ms)" "$(fmt "$e99")" "$(fmt "$w99") wrk" \
  "diff $(fmt "$(calc "$e99 - $w99")")" "info" "-"

# --- 4. pacing --------------------------------------------------------------------------
log "4: pacing, open model 200/s x ${D3}s"
probe pacing fast "$WORK/pace.txt" >/dev/null
want=$((200 * D3))
sent=$(metric "$WORK/pace.txt" probe_http_requests_sent)
dropped=$(metric "$WORK/pace.txt" probe_http_requests_dropped)
late99=$(calc "$(metric "$WORK/pace.txt" 'probe_http_request_duration_quantile_seconds{quantile="0.99"}') * 1000")
row 4 "requests sent, 200/s x ${D3} s (dropped $dropped)" "$sent" "$want planned" \
  "$(fmt "$(calc "$sent/$want")" 3)" "within 1 %" "$(verdict "$sent >= 0.99 * $want && $sent <= 1.01 * $want")"
row 4 "send jitter p99 <= p99 latency from intended send (ms)" "$(fmt "$late99")" "-" "-" "<= 1 ms" \
  "$(verdict "$late99 <= 1")"

# --- 1, 2, 7. throughput and CPU per request, alternating with wrk --------------------------
best_w_rps=0 best_e_rps=0 best_w_cpu=1e9 best_e_cpu=1e9 best_f_rps=0 best_f_cpu=1e9
for rep in $(seq "$REPS"); do
  log "1/2: rep $rep: wrk -t1 -c10 -d${D}s, then a 10-VU ${D}s burst"
  TIMEFORMAT='%U %S'
  { time wrk -t1 -c10 -d"${D}s" "http://127.0.0.1:$NGX_PORT/fast" >"$WORK/wrk-tp.$rep.txt"; } 2>"$WORK/wrk-tp.$rep.time"
  w_cpu_s=$(awk '{print $1 + $2}' "$WORK/wrk-tp.$rep.time")
  w_req=$(wrk_requests "$WORK/wrk-tp.$rep.txt")
  w_rps=$(wrk_rps "$WORK/wrk-tp.$rep.txt")
  w_cpu_us=$(calc "$w_cpu_s / $w_req * 1e6")
  c0=$(cpu_ns "$EXP_PID") t0=$(cpu_ticks "$EXP_PID")
  probe throughput fast "$WORK/tp.$rep.txt" >/dev/null
  c1=$(cpu_ns "$EXP_PID") t1=$(cpu_ticks "$EXP_PID")
  e_req=$(metric "$WORK/tp.$rep.txt" probe_http_requests_sent)
  e_ok=$(metric "$WORK/tp.$rep.txt" 'probe_http_requests{result="success"}')
  e_dur=$(metric "$WORK/tp.$rep.txt" probe_duration_seconds)
  e_rps=$(calc "$e_req / $e_dur")
  e_cpu_us=$(calc "($c1 - $c0) / $e_req / 1e3")
  log "1/2: wrk $w_rps req/s, ${w_cpu_us} us CPU/req; exporter $e_rps req/s ($e_ok ok), ${e_cpu_us} us CPU/req" \
    "(stat ticks $((t1 - t0)))"
  # The libcurl floor (bench/tools/curl_floor.cc): the same load from a
  # minimal libcurl client, the same event loop the exporter uses.
  "$CURL_FLOOR" "http://127.0.0.1:$NGX_PORT/fast" 10 "$D" poll >"$WORK/floor.$rep.txt"
  f_rps=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' "$WORK/floor.$rep.txt")
  f_cpu_us=$(sed -n 's/.*cpu_us_per_request=\([0-9.]*\).*/\1/p' "$WORK/floor.$rep.txt")
  log "1/2: libcurl floor $f_rps req/s, ${f_cpu_us} us CPU/req"
  best_f_rps=$(calc "$f_rps > $best_f_rps ? $f_rps : $best_f_rps")
  best_f_cpu=$(calc "$f_cpu_us < $best_f_cpu ? $f_cpu_us : $best_f_cpu")
  best_w_rps=$(calc "$w_rps > $best_w_rps ? $w_rps : $best_w_rps")
  best_e_rps=$(calc "$e_rps > $best_e_rps ? $e_rps : $best_e_rps")
  best_w_cpu=$(calc "$w_cpu_us < $best_w_cpu ? $w_cpu_us : $best_w_cpu")
  best_e_cpu=$(calc "$e_cpu_us < $best_e_cpu ? $e_cpu_us : $best_e_cpu")
done
row 1 "throughput, 10 VUs keep-alive ${D} s (req/s)" "$(fmt "$best_e_rps" 0)" "$(fmt "$best_w_rps" 0) wrk" \
  "$(fmt "$(calc "$best_e_rps/$best_w_rps")" 2)" ">= 0.8x" "$(verdict "$best_e_rps >= 0.8 * $best_w_rps")"
row 2 "CPU per request in that burst (us)" "$(fmt "$best_e_cpu" 1)" "$(fmt "$best_w_cpu" 1) wrk" \
  "$(fmt "$(calc "$best_e_cpu/$best_w_cpu")" 2)" "<= 1.5x" "$(verdict "$best_e_cpu <= 1.5 * $best_w_cpu")"
row 1f "  libcurl floor: minimal libcurl client, same load (req/s)" "$(fmt "$best_f_rps" 0)" "$(fmt "$best_w_rps" 0) wrk" \
  "$(fmt "$(calc "$best_f_rps/$best_w_rps")" 2)" "info" "-"
row 1 "  exporter throughput against the libcurl floor (req/s)" "$(fmt "$best_e_rps" 0)" "$(fmt "$best_f_rps" 0) floor" \
  "$(fmt "$(calc "$best_e_rps/$best_f_rps")" 2)" ">= 0.85x floor" "$(verdict "$best_e_rps >= 0.85 * $best_f_rps")"
row 2f "  libcurl floor: CPU per request (us)" "$(fmt "$best_f_cpu" 1)" "$(fmt "$best_w_cpu" 1) wrk" \
  "$(fmt "$(calc "$best_f_cpu/$best_w_cpu")" 2)" "info" "-"
row 2 "  exporter CPU per request against the libcurl floor (us)" "$(fmt "$best_e_cpu" 1)" "$(fmt "$best_f_cpu" 1) floor" \
  "$(fmt "$(calc "$best_e_cpu/$best_f_cpu")" 2)" "<= 1.15x floor" "$(verdict "$best_e_cpu <= 1.15 * $best_f_cpu")"
row 7 "CPU per measured request vs bb CPU per probe (us)" "$(fmt "$best_e_cpu" 1)" \
  "$(fmt "$(calc "$bb_cpu_ms * 1000")" 0) bb" "$(fmt "$(calc "$best_e_cpu / ($bb_cpu_ms * 1000)")" 4)" \
  "<= 0.02x" "$(verdict "$best_e_cpu <= 0.02 * $bb_cpu_ms * 1000")"

row 7f "  libcurl floor CPU per request vs bb CPU per probe (us)" "$(fmt "$best_f_cpu" 1)" \
  "$(fmt "$(calc "$bb_cpu_ms * 1000")" 0) bb" "$(fmt "$(calc "$best_f_cpu / ($bb_cpu_ms * 1000)")" 4)" "info" "-"

# --- 6c. memory after the bursts --------------------------------------------------------
# Every figure above has run, including REPS throughput bursts of ~250k
# requests each: what the exporter keeps once they are answered.
exp_idle_after=$(rss_kib "$EXP_PID")
log "exporter RSS after all measurements: ${exp_idle_after} KiB"
row 6c "RSS after all of the above, incl. the throughput bursts (MiB)" "$(fmt "$(calc "$exp_idle_after/1024")" 1)" \
  "$(fmt "$(calc "$exp_idle_bench/1024")" 1) idle" "$(fmt "$(calc "$exp_idle_after/$exp_idle_bench")" 2)" "<= 64 MiB" \
  "$(verdict "$exp_idle_after <= 65536")"

# --- 8. the exporter's own port under idle connections (bench/edge.sh) -------------------
log "edge: /-/healthy with 0, 100 and 2000 idle connections"
"$BENCH/edge.sh" "$EXPORTER" $( ((SMOKE)) && echo --smoke) >>"$ROWS"

# --- report ------------------------------------------------------------------------------
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo
echo "canary_exporter benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ)$( ((SMOKE)) && echo ' (SMOKE: ~1 s figures, goals not meaningful)')"
echo "machine: ${cpu_model:-unknown CPU}, $(nproc) cores, Linux $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: canary_exporter $(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo '?')," \
  "$(wrk -v 2>&1 | head -1 | awk '{print $1, $2}'), $(nginx -v 2>&1 | sed 's/.*: //')," \
  "blackbox_exporter $(prometheus-blackbox-exporter --version 2>&1 | head -1 | awk '{print $3}' | tr -d ,)," \
  "$(curl --version | head -1 | awk '{print $1, $2}')"
echo
{
  printf '#\tfigure\tcanary_exporter\treference\tratio\tgoal\tverdict\n'
  cat "$ROWS"
} | awk -F'\t' '{printf "| %-3s | %-56s | %-15s | %-15s | %-10s | %-16s | %-7s |\n", $1, $2, $3, $4, $5, $6, $7
  if (NR == 1) printf "|-----|%s|%s|%s|%s|%s|%s|\n", "----------------------------------------------------------",
    "-----------------", "-----------------", "------------", "------------------", "---------"}'
fails=$(awk -F'\t' '$7 == "FAIL"' "$ROWS" | wc -l)
echo
echo "$fails goal(s) failed."

if ((MICRO)); then
  echo
  echo "microbenchmarks (bench/micro/probes_bench.cc):"
  min_time=0.5
  ((SMOKE)) && min_time=0.01
  CANARY_BENCH_URL="http://127.0.0.1:$NGX_PORT/fast" "$BUILD_DIR/bench/canary_microbench" \
    --benchmark_min_time="$min_time" --benchmark_filter=-BM_BurstMemoryPerRequest 2>/dev/null
  # Memory per request of a burst's records: each case in a process of its own, so what an
  # earlier benchmark freed cannot be reused and hide the growth.
  for args in 100000/0 100000/1; do
    "$BUILD_DIR/bench/canary_microbench" --benchmark_filter="^BM_BurstMemoryPerRequest/$args/" \
      2>/dev/null | grep '^BM_'
  done
fi
