#!/usr/bin/env bash
# probe_cli_test.sh: `canary_exporter probe` as a CI gate, end to end on
# loopback: exit 0 when thresholds hold, 99 when one fails or (without
# thresholds) a request fails, 2 on usage and config errors, 107 when the
# probe cannot run (a metadata address: refused before any packet), 105 on
# Ctrl-C with the summary of what ran; the k6-like summary and
# --summary-export JSON; --output=prometheus passes promtool; the server's
# allowlist does not apply; no progress line and no colours when stdout is
# not a terminal, a progress line when it is, no colours with NO_COLOR.
# The target is a canary_exporter server (its /-/healthy).
# Usage: probe_cli_test.sh path/to/canary_exporter
set -euo pipefail

bin=${1:?usage: probe_cli_test.sh path/to/canary_exporter}
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }
check() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
has() { grep -qF -- "$1" "$tmp/out"; }
jqe() { jq -e "$@" >/dev/null; }

"$bin" --web.listen-address=127.0.0.1:0 >"$tmp/server.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/.*msg=listening address=127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$tmp/server.log")
  [[ -n "$port" ]] && break
  sleep 0.1
done
[[ -n "$port" ]] || { cat "$tmp/server.log" >&2; echo "FAIL: no target" >&2; exit 1; }
target=http://127.0.0.1:$port/-/healthy
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cat >"$tmp/gate.toml" <<'TOML'
[modules.pass]
timeout = "2s"
thresholds = ["p(95)<2s", "error_rate<0.01"]
[modules.pass.burst]
vus = 2
requests = 6

[modules.slow_gate]
timeout = "2s"
thresholds = ["p(95)<1us", "error_rate<0.01"]
[modules.slow_gate.burst]
vus = 1
requests = 3

[modules.plain]
timeout = "1s"
[modules.plain.burst]
vus = 1
requests = 2

[modules.long]
timeout = "1s"
[modules.long.burst]
vus = 1
think_time = "200ms"
duration = "3s"

[modules.k6_forms]
timeout = "2s"
thresholds = ["p(0)>=0", "max!=0", "rate==0", "p(99.9)<=2000", "med<2s"]
[modules.k6_forms.burst]
vus = 1
requests = 3

# The server's allowlist leaves loopback out: the CLI ignores it.
[security]
allowed_targets = ["10.0.0.0/8"]
TOML

run() { rc=0; "$bin" probe "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?; }

run --config.file="$tmp/gate.toml" --module=pass "$target"
check "thresholds hold: exit 0" test "$rc" -eq 0
check "✓ per threshold with its value" has "✓ p(95)<2s "
check "error rate shown" has "error_rate=0.00%"
check "requests planned/sent/dropped" has "planned 6, sent 6, dropped 0"
check "results by class" has "success 6 (100.0%)"
check "status codes" has "200 x6"
check "latency line with p(99)" grep -qE 'latency\.+: min=.* p\(99\)=.* max=' "$tmp/out"
check "per-phase p50/p95" grep -qE 'connect\.+: p\(50\)=.* p\(95\)=' "$tmp/out"
check "verdict line" has "probe succeeded: every threshold holds"
check "no colours or progress when piped" bash -c "! grep -q $'\\e' '$tmp/out'"

run --config.file="$tmp/gate.toml" --module=slow_gate "$target"
check "a crossed threshold: exit 99" test "$rc" -eq 99
check "✗ on the crossed threshold" has "✗ p(95)<1us "
check "the failure is explained" has "probe failed: 1 of 2 thresholds crossed"

run --config.file="$tmp/gate.toml" --module=plain "http://127.0.0.1:$closed/"
check "no thresholds, refused requests: exit 99" test "$rc" -eq 99
check "the first error is shown" has "first error"
check "connect class counted" has "connect 2 (100.0%)"

run --config.file="$tmp/gate.toml" --module=pass --output=prometheus "$target"
check "--output=prometheus exits 0" test "$rc" -eq 0
check "--output=prometheus prints probe_success" grep -qx 'probe_success 1' "$tmp/out"
if command -v promtool >/dev/null; then
  check "--output=prometheus passes promtool check metrics" \
    bash -c "promtool check metrics <'$tmp/out' >/dev/null 2>&1"
fi

run --config.file="$tmp/gate.toml" --module=k6_forms --summary-export="$tmp/s.json" "$target"
check "k6 threshold forms and a [security] list without loopback: exit 0" test "$rc" -eq 0
check "k6 forms shown" has "✓ rate==0 "
check "--summary-export is JSON" jqe . "$tmp/s.json"
check "--summary-export counts requests as k6" jqe '.metrics.http_reqs.count == 3' "$tmp/s.json"
check "--summary-export: thresholds, false = held (k6's meaning)" \
  jqe '.metrics.http_req_duration.thresholds["max!=0"] == false and .metrics.http_req_failed.thresholds["rate==0"] == false' "$tmp/s.json"
check "--summary-export: verdict and exit code" \
  jqe '.canary.success == true and .canary.exit_code == 0' "$tmp/s.json"

run --config.file="$tmp/gate.toml" --module=slow_gate --summary-export="$tmp/s.json" "$target"
check "--summary-export on a failed gate: exit 99" test "$rc" -eq 99
check "--summary-export marks the crossed threshold true (k6's meaning)" \
  jqe '.metrics.http_req_duration.thresholds["p(95)<1us"] == true and .canary.exit_code == 99' "$tmp/s.json"

run --summary-export="$tmp/no/such/dir/s.json" "$target"
check "unwritable --summary-export: exit 2 before probing" test "$rc" -eq 2

# A metadata address is refused before any packet is sent.
run --config.file="$tmp/gate.toml" --module=plain "http://169.254.169.254/latest/meta-data/"
check "metadata address: the probe could not run, exit 107" test "$rc" -eq 107
check "the refusal names the address and the lifting flag" grep -q -- 'address 169.254.169.254 is not allowed: link-local, cloud metadata and unspecified addresses are refused; --allow-metadata-targets lifts this guard' "$tmp/err"

# Ctrl-C: the burst stops early, the summary of what ran is printed, 105.
start=$(date +%s%N)
rc=0
"$bin" probe --config.file="$tmp/gate.toml" --module=long "$target" >"$tmp/out" 2>"$tmp/err" &
probe_pid=$!
sleep 1
kill -INT "$probe_pid"
wait "$probe_pid" || rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
check "Ctrl-C: exit 105" test "$rc" -eq 105
check "Ctrl-C: the summary is printed" has "requests"
check "Ctrl-C: it says it was interrupted" has "interrupted (Ctrl-C): the summary covers the"
check "Ctrl-C: the 3 s burst ended early (${elapsed_ms} ms)" test "$elapsed_ms" -lt 2800

run "$target" extra
check "two targets: exit 2" test "$rc" -eq 2
check "usage names the stray argument" grep -q 'unexpected argument "extra"' "$tmp/err"
run --module=nope "$target"
check "unknown module: exit 2" test "$rc" -eq 2
check "unknown module lists the modules" grep -q 'unknown module "nope" (have: canary, http_2xx)' "$tmp/err"
printf '[modules.x]\ntimeout = "soon"\n' >"$tmp/bad.toml"
run --config.file="$tmp/bad.toml" "$target"
check "bad config: exit 2" test "$rc" -eq 2
check "config error names file:line:col" grep -qE 'bad\.toml:2:[0-9]+: modules\.x\.timeout' "$tmp/err"
run --output=json "$target"
check "bad --output: exit 2" test "$rc" -eq 2
run "ftp://127.0.0.1/"
check "unsupported target scheme: exit 2" test "$rc" -eq 2
run --help
check "--help exits 0 with usage" grep -q '^usage: canary_exporter probe' "$tmp/out"

# On a terminal (script(1) gives one), a burst past 2 s draws a progress
# line and the summary gets colours.
if command -v script >/dev/null; then
  rc=0
  script -qec "'$bin' probe --config.file='$tmp/gate.toml' --module=long '$target'" \
    /dev/null >"$tmp/tty" 2>&1 || rc=$?
  check "on a terminal: exit 0" test "$rc" -eq 0
  check "on a terminal: a live progress line" grep -qE $'\r''.*running: [0-9]+ requests, 0 errors, [0-9.]+s/3s' "$tmp/tty"
  check "on a terminal: coloured ✓" grep -q $'\e\\[32m✓' "$tmp/tty"
  rc=0
  NO_COLOR=1 script -qec "'$bin' probe --config.file='$tmp/gate.toml' --module=pass '$target'" \
    /dev/null >"$tmp/tty" 2>&1 || rc=$?
  check "on a terminal with NO_COLOR: exit 0" test "$rc" -eq 0
  check "on a terminal with NO_COLOR: no colours" bash -c "! grep -q $'\\e\\[3' '$tmp/tty'"
  check "on a terminal with NO_COLOR: still the summary" grep -q '✓ p(95)<2s' "$tmp/tty"
fi

echo "probe_cli_test: $passed passed, $failed failed"
((failed == 0))
