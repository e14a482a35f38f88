#!/usr/bin/env bash
# dashboards_test.sh: structure of every dashboards/*.json and the metric names
# the dashboards and rules use.
#   - valid JSON, unique uid, no __inputs (file provisioning ignores them), a
#     datasource variable and job/instance/module variables;
#   - every panel (rows aside) has a description, a unit and at least one
#     query, and queries the ${datasource} variable;
#   - every metric name used by a dashboard or a rule is documented in
#     docs/metrics.md (or is a recording rule of alerts/, or up/ALERTS);
#   - no rate()/increase()/irate() of a per-burst probe_* gauge;
#   - range queries read raw probe_* series only through *_over_time over
#     [$__interval] in panels whose min interval is $scrape_interval; [30d]
#     windows read only canary:*_rollup series; Target detail is single-select
#     and the fleet table links each row to it.
# Needs jq. Usage: dashboards_test.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
failed=0
bad() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }

shopt -s nullglob
dashboards=("$root"/dashboards/*.json)
((${#dashboards[@]} >= 4)) || bad "expected at least 4 dashboards, found ${#dashboards[@]}"

declare -A uids=()
for dash in "${dashboards[@]}"; do
  name=$(basename "$dash")
  jq -e . "$dash" >/dev/null 2>&1 || { bad "$name: not valid JSON"; continue; }
  uid=$(jq -r '.uid // empty' "$dash")
  [[ -n "$uid" ]] || bad "$name: no uid"
  [[ -z "${uids[$uid]:-}" ]] || bad "$name: uid $uid also in ${uids[$uid]}"
  uids[$uid]=$name
  jq -e 'has("__inputs") | not' "$dash" >/dev/null || bad "$name: has __inputs"
  jq -e '[.templating.list[] | select(.type == "datasource" and .query == "prometheus")] | length == 1' \
    "$dash" >/dev/null || bad "$name: no prometheus datasource variable"
  for v in job instance module; do
    jq -e --arg v "$v" '[.templating.list[] | select(.name == $v)] | length == 1' "$dash" >/dev/null ||
      bad "$name: no $v variable"
  done
  # Every panel, rows' children included, except the rows themselves.
  problems=$(jq -r '
    [.panels[] | ., (.panels[]?)] | .[] | select(.type != "row") |
    (if (.description // "") == "" then "\(.title): no description" else empty end),
    (if (.fieldConfig.defaults.unit // "") == "" then "\(.title): no unit" else empty end),
    (if ([.targets[]? | select((.expr // "") != "")] | length) == 0 then "\(.title): no query" else empty end),
    (if .datasource.uid != "${datasource}" then "\(.title): datasource is not ${datasource}" else empty end),
    (.targets[]? | select(.datasource.uid != "${datasource}") | "\(.refId): target datasource is not ${datasource}")
  ' "$dash")
  [[ -z "$problems" ]] || while IFS= read -r p; do bad "$name: $p"; done <<<"$problems"
  jq -e '[.panels[] | ., (.panels[]?)] | map(.id) | (length == (unique | length))' "$dash" >/dev/null ||
    bad "$name: duplicate panel ids"
done

# --- per-burst series are added up per step -------------------------------------
# In a range query, every raw probe_* selector is read through an *_over_time
# function over $__interval (plus an optional offset), and the panel's min
# interval is the scrape interval variable, so each step holds whole bursts
# and the step totals are the same at any range. [30d] selectors read rollups.
for dash in "${dashboards[@]}"; do
  name=$(basename "$dash")
  problems=$(jq -r '
    [.panels[] | ., (.panels[]?)] | .[] | select(.type != "row") | . as $p |
    .targets[]? | select(.expr) |
    ((.instant // false) and ((.range // false) | not)) as $instant |
    (if ($instant | not) and (.expr | test("(?<![a-zA-Z0-9_:])probe_[a-z_]+\\{")) then
       ( .expr | [scan("(?<![a-zA-Z0-9_:])(probe_[a-z_]+)\\{[^}]*\\}(\\[[^]]*\\])?")] | .[] |
         select(.[1] != "[$__interval]") | "\($p.title) \(.[0]): not over [$__interval]" ),
       ( if ($p.interval // "") != "$scrape_interval" then "\($p.title): min interval is not $scrape_interval" else empty end )
     else empty end),
    ( .expr | [scan("([a-zA-Z_:]+)\\{[^}]*\\}\\[30d\\]")] | .[] | select(.[0] | test("^canary:.*_rollup$") | not) |
      "\($p.title) \(.[0])[30d]: 30 days of a raw series, not a rollup" )
  ' "$dash")
  [[ -z "$problems" ]] || while IFS= read -r p; do bad "$name: $p"; done <<<"$problems"
done
# Target detail is one target at a time; the fleet table links to it.
jq -e '[.templating.list[] | select(.name == "job" or .name == "instance" or .name == "module") |
        select((.multi // false) or (.includeAll // false))] | length == 0' \
  "$root/dashboards/canary-target.json" >/dev/null ||
  bad "canary-target.json: job/instance/module must be single-select without All"
jq -e '[.panels[] | select(.type == "table") | .fieldConfig.defaults.links[]?.url |
        select(test("^/d/canary-target/") and test("var-instance=\\$\\{__data.fields.instance") and
               test("var-module=\\$\\{__data.fields.module") and test("var-job=\\$\\{__data.fields.job"))] | length >= 1' \
  "$root/dashboards/canary-overview.json" >/dev/null ||
  bad "canary-overview.json: the targets table does not link each row to canary-target"

# --- metric names ---------------------------------------------------------------
exprs=$(
  for dash in "${dashboards[@]}"; do
    jq -r '[.panels[] | ., (.panels[]?)] | .[] | .targets[]?.expr // empty, (.annotations.list[]?.expr // empty)' "$dash"
    jq -r '.templating.list[] | .definition // empty' "$dash"
  done
  sed -n 's/^ *expr: //p; /^ *expr: |/,/^ *[a-z_]*:/p' "$root"/alerts/canary.yml
)
recorded=$(sed -n 's/^ *- record: //p' "$root"/alerts/canary.yml | sort -u)
# Words followed by "(" are functions; words in {...} or after "by"/"without" are labels.
names=$(sed -E -e 's/\{[^}]*\}//g' -e 's/(by|without|on|ignoring) *\([^)]*\)//g' \
  -e 's/"[^"]*"//g' -e 's/\[[^]]*\]//g' <<<"$exprs" |
  grep -oE '[a-zA-Z_:][a-zA-Z0-9_:]*' | sort -u)
nmetrics=0
for n in $names; do
  case "$n" in
    probe_* | canary_exporter_* | process_*)
      nmetrics=$((nmetrics + 1))
      base=$(sed -E 's/_(bucket|sum|count)$//' <<<"$n")
      grep -q "\`$n\`\|\`$base\`" "$root/docs/metrics.md" || bad "metric $n is not in docs/metrics.md"
      ;;
    canary:*)
      grep -qx "$n" <<<"$recorded" || bad "recording rule $n is used but not defined in alerts/"
      ;;
  esac
done
((nmetrics >= 15)) || bad "found only $nmetrics metric names: the extraction is broken"
if grep -qE '(rate|increase|irate|deriv)\(\s*probe_' <<<"$exprs"; then
  bad "rate()/increase() of a per-burst probe_* gauge: $(grep -oE '(rate|increase|irate|deriv)\(\s*probe_[a-z_]*' <<<"$exprs" | head -3)"
fi

if ((failed)); then
  echo "$failed problem(s)" >&2
  exit 1
fi
echo "PASS: ${#dashboards[@]} dashboards, $nmetrics documented metric names"
