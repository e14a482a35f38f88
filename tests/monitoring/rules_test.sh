#!/usr/bin/env bash
# rules_test.sh: the alert rules and the Prometheus/Alertmanager configs.
#   - alerts/*.yml, alerts/cadence-*/*.yml and
#     deploy/kubernetes/base/prometheusrule.yml are what alerts/render.sh makes from
#     alerts/src/, alerts/params.env and the alerts/cadence-*.env overlays;
#   - promtool check rules / check config, amtool check-config pass;
#   - promtool test rules alerts/tests/*_test.yml passes (outage_* and paging_*
#     test each cadence), and every alert has a
#     firing case (exp_alerts with labels) and a pending case (ALERTS{alertstate="pending"});
#   - every alert has severity, summary, description and a runbook_url whose
#     anchor is a heading of docs/runbook.md; at least 10 alerts.
# Usage: rules_test.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
bad() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }

# Rendered files are up to date (render into a copy of the tree and compare).
mkdir -p "$tmp/tree/deploy/kubernetes/base"
cp -r "$root/alerts" "$tmp/tree/alerts"
"$tmp/tree/alerts/render.sh"
for f in "$root"/alerts/*.yml "$root"/alerts/cadence-*/*.yml "$root"/deploy/kubernetes/base/prometheusrule.yml; do
  rel=${f#"$root"/}
  diff -q "$root/$rel" "$tmp/tree/$rel" >/dev/null 2>&1 ||
    bad "$rel is stale: run alerts/render.sh"
done

for overlay in "$root"/alerts/cadence-*.env; do
  name=$(basename "$overlay" .env)
  [[ -d "$root/alerts/$name" ]] || bad "alerts/$name/ missing: run alerts/render.sh"
  grep -ql "^  - \.\./$name/" "$root"/alerts/tests/*_test.yml ||
    bad "no promtool test of alerts/$name/"
done
promtool check rules "$root"/alerts/*.yml "$root"/alerts/cadence-*/*.yml >"$tmp/out" 2>&1 || bad "promtool check rules: $(cat "$tmp/out")"
promtool check config "$root/deploy/prometheus/prometheus.yml" >"$tmp/out" 2>&1 ||
  bad "promtool check config: $(cat "$tmp/out")"
if command -v amtool >/dev/null; then
  amtool check-config "$root/deploy/alertmanager/alertmanager.yml" >"$tmp/out" 2>&1 ||
    bad "amtool check-config: $(cat "$tmp/out")"
fi
(cd "$root/alerts/tests" && promtool test rules ./*_test.yml) >"$tmp/out" 2>&1 ||
  bad "promtool test rules: $(cat "$tmp/out")"

alerts=$(sed -n 's/^ *- alert: //p' "$root"/alerts/*.yml)
n=$(wc -w <<<"$alerts")
((n >= 10)) || bad "only $n alerts"
for a in $alerts; do
  # The alert's block: from its "- alert:" line to the next rule.
  block=$(awk -v a="$a" '$0 ~ "- alert: "a"$" {on=1; print; next} on && /^ *- (alert|record):/ {on=0} on' "$root"/alerts/*.yml)
  for key in 'severity:' 'summary:' 'description:' 'runbook_url:' 'for:'; do
    grep -q "^ *$key" <<<"$block" || bad "$a has no $key"
  done
  anchor=$(tr '[:upper:]' '[:lower:]' <<<"$a")
  grep -q "runbook_url: .*#$anchor\"" <<<"$block" || bad "$a: runbook_url does not point at #$anchor"
  grep -q "^### $a\$" "$root/docs/runbook.md" || bad "$a has no '### $a' section in docs/runbook.md"
  grep -q "alertname: $a\$" "$root"/alerts/tests/*_test.yml ||
    grep -q "^ *- alertname: $a\$" "$root"/alerts/tests/*_test.yml || bad "$a has no alert_rule_test"
  grep -A3 "alertname: $a\$" "$root"/alerts/tests/*_test.yml | grep -q "exp_labels" ||
    bad "$a has no firing case"
  grep -q "alertname=\"$a\",alertstate=\"pending\"" "$root"/alerts/tests/*_test.yml ||
    bad "$a has no pending case"
  grep -q "{alertname: $a, eval_time: [0-9]*m, exp_alerts: \[\]}" "$root"/alerts/tests/*_test.yml ||
    bad "$a has no must-not-fire case"
done

if ((failed)); then
  echo "$failed problem(s)" >&2
  exit 1
fi
echo "PASS: $n alerts checked, promtool tests pass"
