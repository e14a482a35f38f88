#!/usr/bin/env bash
# landing_chromium_test.sh: the landing page renders in a real browser.
# Starts canary_exporter on loopback, runs a passing and a failing probe,
# then loads "/" in headless Chromium (Debian's `chromium`): the DOM must
# hold both probes' SVG charts (histogram bars, request dots coloured by
# result) and debug links, and the screenshot must show the charts' colours
# (the page has no scripts or external assets, so this is what an
# air-gapped operator sees). Usage: landing_chromium_test.sh path/to/canary_exporter
# Only loopback traffic; every wait is bounded; the trap kills what we start.
set -euo pipefail

bin=${1:?usage: landing_chromium_test.sh path/to/canary_exporter}
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

chromium=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$chromium" ]]; then
  echo "FAIL: chromium is missing (scripts/setup.sh --test installs it)" >&2
  exit 1
fi

cat >"$tmp/config.toml" <<'TOML'
[modules.fast]
timeout = "2s"
[modules.fast.burst]
vus = 2
requests = 12

[modules.down]
timeout = "1s"
[modules.down.burst]
vus = 1
requests = 3
TOML
"$bin" --config.file="$tmp/config.toml" --web.listen-address=127.0.0.1:0 \
  --history.limit=5 >"$tmp/exporter.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/.*msg=listening address=127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$tmp/exporter.log")
  [[ -n "$port" ]] && break
  sleep 0.1
done
if [[ -z "$port" ]]; then
  cat "$tmp/exporter.log" >&2
  echo "FAIL: the exporter did not start" >&2
  exit 1
fi
base=http://127.0.0.1:$port
http() { curl -sS --noproxy '*' --max-time 30 "$@"; }
# A port nobody listens on: bind and close to learn one.
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
http "$base/probe?module=fast&target=$base/-/healthy" >/dev/null
http "$base/probe?module=down&target=http://127.0.0.1:$closed/" >/dev/null

flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --disable-extensions --hide-scrollbars --user-data-dir="$tmp/profile")
timeout 90 "$chromium" "${flags[@]}" --dump-dom "$base/" >"$tmp/dom.html" 2>"$tmp/chromium.log" || true
timeout 90 "$chromium" "${flags[@]}" --window-size=1000,1400 \
  --screenshot="$tmp/landing.png" "$base/" >>"$tmp/chromium.log" 2>&1 || true

count() { grep -o "$1" "$tmp/dom.html" | wc -l; }
check "Chromium produced a DOM" test -s "$tmp/dom.html"
check "the page lists recent probes" grep -q '<h2>Recent probes</h2>' "$tmp/dom.html"
check "two latency histograms" test "$(count '<svg class="chart latency-histogram"')" -eq 2
check "two timelines" test "$(count '<svg class="chart timeline"')" -eq 2
# Default buckets: 13 and +Inf per histogram.
check "14 bars per histogram" test "$(count '<rect class="bar"')" -eq 28
check "a dot per successful request" test "$(count 'class="req r-success"')" -eq 12
check "a dot per refused request" test "$(count 'class="req r-connect"')" -eq 3
check "debug links for both probes" \
  test "$(count 'href="/debug?id=[0-9]*"')" -eq 2
check "no external assets" bash -c "! grep -qE '(src|href)=\"https?://' '$tmp/dom.html'"
debug_id=$(grep -o 'href="/debug?id=[0-9]*"' "$tmp/dom.html" | head -n1 | tr -dc 0-9)
http "$base/debug?id=$debug_id" >"$tmp/debug.txt"
check "the debug link answers the probe's debug text" grep -q '^--- requests' "$tmp/debug.txt"

check "Chromium wrote a screenshot" test -s "$tmp/landing.png"
# Decodes the PNG (no imaging library needed) and counts pixels of the
# charts' colours: the bars' blue, success green and connect red.
if out=$(python3 - "$tmp/landing.png" <<'PY' 2>&1
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), (depth, ctype)
        bpp = 3 if ctype == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw, stride = zlib.decompress(idat), w * bpp
prev, rows, i = bytearray(stride), [], 0
for _ in range(h):
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line); prev = line
def near(px, rgb): return all(abs(px[k] - rgb[k]) < 24 for k in range(3))
want = {"bar blue": (0x15, 0x65, 0xc0), "success green": (0x2e, 0x7d, 0x32),
        "connect red": (0x6d, 0x1b, 0x1b)}
counts = {k: 0 for k in want}
for line in rows:
    for x in range(0, stride, bpp):
        px = line[x:x + 3]
        for k, rgb in want.items():
            if near(px, rgb): counts[k] += 1
print(" ".join(f"{k}={v}" for k, v in counts.items()))
sys.exit(0 if all(v >= 20 for v in counts.values()) else 1)
PY
); then
  ok "the screenshot shows the charts' colours ($out)"
else
  bad "the screenshot lacks the charts' colours: $out"
fi
if [[ -n "${KEEP_SCREENSHOT:-}" ]]; then cp "$tmp/landing.png" "$KEEP_SCREENSHOT"; fi

echo "landing_chromium_test: $passed passed, $failed failed"
((failed == 0))
