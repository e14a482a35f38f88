#!/usr/bin/env bash
# cli_test.sh: end-to-end checks of the canary_exporter binary: flags,
# --config.check, the HTTP endpoints through promtool, SIGHUP and POST
# reloads, SIGTERM. Usage: cli_test.sh path/to/canary_exporter
# Only loopback traffic; every wait is bounded; the trap kills what we start.
set -euo pipefail

bin=${1:?usage: cli_test.sh path/to/canary_exporter}
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }
check() {  # check "what" command...
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
http() { curl -sS --noproxy '*' --max-time 20 "$@"; }

good=$tmp/good.toml
cat >"$good" <<'TOML'
[modules.canary]
timeout = "2s"
[modules.canary.burst]
vus = 1
requests = 1

[modules.other]
timeout = "1s"
TOML
broken=$tmp/broken.toml
printf '[modules.canary]\ntimeout = "2 seconds"\n' >"$broken"

# --- --config.check -----------------------------------------------------------
rc=0
out=$("$bin" --config.check --config.file="$good" 2>&1) || rc=$?
check "config.check on a good file exits 0" test "$rc" -eq 0
check "config.check prints the OK line" \
  test "$out" = "config OK: $good: 2 modules (canary, other)"

rc=0
out=$("$bin" --config.check --config.file "$good" 2>&1) || rc=$?
check "--config.file F (space form) is accepted" test "$rc" -eq 0

rc=0
out=$("$bin" --config.check=true --config.file="$broken" 2>&1) || rc=$?
check "config.check on a bad file exits 1" test "$rc" -eq 1
check "the error names file:line:col" \
  grep -qE 'broken\.toml:2:[0-9]+: modules\.canary\.timeout' <<<"$out"

rc=0
out=$("$bin" --config.check 2>&1) || rc=$?
check "config.check without a file checks the embedded default" \
  grep -q '^config OK: embedded default: ' <<<"$out"

# --- --config.convert (blackbox.yml -> TOML) ----------------------------------
example=$(cd "$(dirname "$0")/../testdata/config/blackbox" && pwd)/example.yml
rc=0
"$bin" --config.convert="$example" >"$tmp/converted.toml" 2>"$tmp/convert.err" || rc=$?
check "config.convert exits 0" test "$rc" -eq 0
rc=0
out=$("$bin" --config.check --config.file="$tmp/converted.toml" 2>&1) || rc=$?
check "the converted config passes --config.check" test "$rc" -eq 0
check "every http module converted" grep -q '5 modules' <<<"$out"
check "skipped probers named on stderr" \
  grep -q 'example.yml:83: module grpc skipped: prober grpc' "$tmp/convert.err"
check "options not carried over named on stderr" \
  grep -q 'http.oauth2: OAuth 2.0 client credentials are not supported' "$tmp/convert.err"
check "and as TOML comments" grep -q '^# not carried over (line 62): ' "$tmp/converted.toml"
printf 'global:\n  scrape_interval: 15s\n' >"$tmp/prometheus.yml"
rc=0
out=$("$bin" --config.convert "$tmp/prometheus.yml" 2>&1) || rc=$?
check "config.convert of a non-blackbox file exits 1" test "$rc" -eq 1
check "the error names file:line:col and the key" \
  grep -q 'prometheus.yml:1:1: global: not a blackbox_exporter configuration' <<<"$out"

rc=0
out=$("$bin" --no.such-flag 2>&1) || rc=$?
check "an unknown flag exits 2" test "$rc" -eq 2
check "the usage error names the flag and prints usage" \
  grep -q 'unknown flag --no.such-flag' <<<"$out"
check "usage follows the error" grep -q '^usage: canary_exporter' <<<"$out"

rc=0
"$bin" --log.level=loud >/dev/null 2>&1 || rc=$?
check "a bad flag value exits 2" test "$rc" -eq 2

rc=0
out=$("$bin" --version 2>&1) || rc=$?
check "--version exits 0 and prints the version" \
  grep -q '^canary_exporter, version ' <<<"$out"

# --- serving ------------------------------------------------------------------
cp "$good" "$tmp/live.toml"
log=$tmp/exporter.log
"$bin" --config.file "$tmp/live.toml" --web.listen-address=127.0.0.1:0 \
  2>"$log" &
pid=$!

port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*msg=listening address=127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$log")
  [[ -n "$port" ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$port" ]]; then
  cat "$log" >&2
  echo "FAIL: the exporter did not log its listening address" >&2
  exit 1
fi
ok "started on 127.0.0.1:$port"
base=http://127.0.0.1:$port

check "/-/healthy answers OK" test "$(http "$base/-/healthy")" = "OK"
check "/-/ready answers OK" test "$(http "$base/-/ready")" = "OK"

http "$base/metrics" >"$tmp/metrics.txt"
check "/metrics passes promtool check metrics" \
  promtool check metrics <"$tmp/metrics.txt"
check "/metrics has build_info" \
  grep -q '^canary_exporter_build_info{' "$tmp/metrics.txt"
check "/metrics has process metrics" \
  grep -q '^process_resident_memory_bytes ' "$tmp/metrics.txt"

code=$(http -o /dev/null -w '%{http_code}' "$base/-/reload")
check "GET /-/reload is 405" test "$code" = 405
allow=$(http -o /dev/null -D - "$base/-/reload" | tr -d '\r' | sed -n 's/^Allow: //ip')
check "GET /-/reload says Allow: POST" test "$allow" = "POST"

code=$(http -o /dev/null -w '%{http_code}' "$base/no/such/page")
check "an unknown path is 404" test "$code" = 404

body=$(http "$base/probe?module=canary")
check "/probe without target is 400 with its reason" \
  test "$body" = "target parameter is missing"

http "$base/probe?target=127.0.0.1:$port/-/healthy&module=canary" \
  >"$tmp/probe.txt"
check "a probe of our own /-/healthy succeeds" \
  grep -q '^probe_success 1' "$tmp/probe.txt"

metric_is() {  # metric_is NAME VALUE: polls /metrics for up to 10 s
  for _ in $(seq 1 100); do
    if http "$base/metrics" | grep -qx "$1 $2"; then return 0; fi
    sleep 0.1
  done
  return 1
}

cp "$broken" "$tmp/live.toml"
kill -HUP "$pid"
check "SIGHUP with a broken file sets last_reload_successful 0" \
  metric_is canary_exporter_config_last_reload_successful 0
check "the failed reload is logged with its reason" \
  grep -q 'msg="reloading config failed".*live\.toml:2:' "$log"
check "still serving after the failed reload" \
  test "$(http "$base/-/healthy")" = "OK"
code=$(http -o /dev/null -w '%{http_code}' "$base/probe?target=127.0.0.1:$port/-/healthy&module=other")
check "the old config is kept (module other still known)" test "$code" = 200

code=$(http -o /dev/null -w '%{http_code}' -X POST "$base/-/reload")
check "POST /-/reload with the broken file is 500" test "$code" = 500

cp "$good" "$tmp/live.toml"
code=$(http -o /dev/null -w '%{http_code}' -X POST "$base/-/reload")
check "POST /-/reload with the fixed file is 200" test "$code" = 200
check "the fixed reload sets last_reload_successful 1" \
  metric_is canary_exporter_config_last_reload_successful 1

# A second instance on the same port, and one with a broken config, fail to
# start: exit 1 with the reason logged.
rc=0
"$bin" --web.listen-address="127.0.0.1:$port" 2>"$tmp/second.log" || rc=$?
check "a port in use fails startup with exit 1" test "$rc" -eq 1
check "the bind error is logged readably" \
  grep -q "cannot listen on 127.0.0.1:$port" "$tmp/second.log"
rc=0
"$bin" --config.file="$broken" --web.listen-address=127.0.0.1:0 \
  2>"$tmp/third.log" || rc=$?
check "a broken config fails startup with exit 1" test "$rc" -eq 1
check "the config error is logged" \
  grep -q 'msg="loading config failed".*broken\.toml:2:' "$tmp/third.log"

kill -TERM "$pid"
rc=0
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  bad "the exporter did not exit within 10 s of SIGTERM"
else
  wait "$pid" || rc=$?
  check "SIGTERM exits 0" test "$rc" -eq 0
fi
pid=""

echo "$passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
