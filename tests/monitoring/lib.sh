# shellcheck shell=bash
# lib.sh: what the end-to-end tests share (sourced, not run):
# tests/monitoring/e2e_test.sh, kubernetes_e2e_test.sh, sharding_e2e_test.sh.
# Sourcing it makes $tmp (a scratch folder, removed on exit unless KEEP_TMP
# is set), $pids (servers started, killed on exit), ok/bad (print a check;
# bad counts it in $failed) and finish (the verdict, as the exit status).

tmp=$(mktemp -d)
pids=()
failed=0
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n "${KEEP_TMP:-}" ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
ok() { echo "ok: $*"; }
bad() {
  echo "FAIL: $*" >&2
  failed=$((failed + 1))
}
finish() {
  if ((failed)); then
    echo "$failed check(s) failed" >&2
    exit 1
  fi
  echo "PASS"
}

http() { curl -sS --noproxy '*' --max-time 20 "$@"; }

die() {
  echo "FATAL: $*" >&2
  for f in "$tmp"/*.log; do
    [[ -f "$f" ]] && { echo "--- $f (tail)" >&2; tail -n 15 "$f" >&2; }
  done
  exit 1
}

# A port nobody listens on now (bounded tries; a race with another process
# shows up as a failed start, with the log).
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

# start_target BIN NAME: starts a control_target, logs to $tmp/NAME.log,
# sets REPLY to its port.
start_target() {
  "$1" >"$tmp/$2.log" 2>&1 &
  pids+=($!)
  wait_for 10 "target port" grep -q 'listening port=' "$tmp/$2.log" || die "$2 did not start"
  REPLY=$(sed -n 's/.*listening port=\([0-9]*\).*/\1/p' "$tmp/$2.log" | head -1)
}

# start_exporter BIN CONFIG NAME: starts canary_exporter on 127.0.0.1:0, logs
# to $tmp/NAME.log, sets REPLY to its address.
start_exporter() {
  "$1" --config.file="$2" --web.listen-address=127.0.0.1:0 >"$tmp/$3.log" 2>&1 &
  pids+=($!)
  wait_for 15 "exporter address" grep -q 'msg="\?listening' "$tmp/$3.log" || die "$3 did not start"
  REPLY=$(grep -o 'address="\?127\.0\.0\.1:[0-9]*' "$tmp/$3.log" | head -1 | sed 's/address="\?//')
  [[ -n "$REPLY" ]] || die "no address in $tmp/$3.log"
}

# prom_query URL EXPR: the API answer (JSON); fails on an HTTP or PromQL error.
prom_query() { http -f --data-urlencode "query=$2" "$1/api/v1/query"; }

# check_dashboards PROM_URL DASHBOARD.json...: every panel and annotation
# query evaluates without error, and every panel whose description does not
# say "Empty when" (or, with DASH_FRESH=1, "Empty until") has data. Grafana's variables are resolved as a user would
# pick them by dashboard_queries.py (multi-value ones on All, single-select
# ones on their first value, or as DASH_VARS says: "name=value ..."),
# $__interval is DASH_INTERVAL (default 10s: two
# 5 s scrapes). Every query it ran is kept in $tmp/dashboard_queries.tsv
# (dashboard, panel title, query ref, base64 of the query). Calls bad() per
# failure; prints a summary.
check_dashboards() {
  local prom=$1 dash name title empty_ok expr ref q answer listing nq=0 npanels=0
  local interval=${DASH_INTERVAL:-10s}
  shift
  : >"$tmp/dashboard_queries.tsv"
  for dash in "$@"; do
    name=$(basename "$dash")
    local -A has_data=() may_be_empty=()
    local -a vars=()
    local v
    for v in ${DASH_VARS:-}; do vars+=(--var "$v"); done
    listing=$(python3 "$root/tests/monitoring/dashboard_queries.py" list --prometheus "$prom" \
      "${vars[@]}" --interval "$interval" --rate-interval 20s --range 5m "$dash") ||
      { bad "cannot list the queries of $name"; continue; }
    while IFS=$'\t' read -r _ title empty_ok _ expr ref; do
      nq=$((nq + 1))
      q=$(base64 -d <<<"$expr")
      printf '%s\t%s\t%s\t%s\n' "$name" "$title" "$ref" "$expr" >>"$tmp/dashboard_queries.tsv"
      if [[ "$title" == annotation* ]]; then
        [[ $(prom_query "$prom" "$q" | jq -r .status) == success ]] || bad "$name $title query failed: $q"
        continue
      fi
      # "Empty until" panels need history (a week back, a first rollup): a
      # fresh Prometheus (DASH_FRESH=1) may leave them empty, a backfilled one
      # may not.
      if [[ "$empty_ok" == until ]]; then
        if [[ -n "${DASH_FRESH:-}" ]]; then empty_ok=true; else empty_ok=false; fi
      fi
      may_be_empty[$title]=$empty_ok
      if ! answer=$(prom_query "$prom" "$q" 2>&1); then
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
  if ((nq > 0)); then echo "ok: $nq dashboard queries of $npanels panels evaluated"; else bad "no dashboard queries found"; fi
}

# dashboard_query TITLE REF: the query check_dashboards ran for that panel
# title and query ref (empty when there was none).
dashboard_query() {
  awk -F'\t' -v t="$1" -v r="$2" '$2 == t && $3 == r { print $4; exit }' \
    "$tmp/dashboard_queries.tsv" | base64 -d
}
