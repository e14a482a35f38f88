#!/usr/bin/env bash
# manifests_test.sh: the two Kubernetes topologies of deploy/kubernetes
# (sidecar/ and central/, each a kustomization over base/) without a cluster:
#   - every YAML file lints clean (yamllint);
#   - `kubectl kustomize` of each topology builds, and every document of it
#     validates strictly (unknown fields rejected) against the Kubernetes
#     OpenAPI schemas and the prometheus-operator CRDs pinned in
#     tests/e2e/k8s_schemas (versions and sources in its README.md); a typo'd
#     field makes that validation fail (checked here on purpose);
#   - the generated files are current: base/grafana-dashboards.yml is
#     dashboards/*.json (deploy/kubernetes/render.sh), the PrometheusRule
#     loads in promtool;
#   - the shape of each set (tests/e2e/kube_manifests.py shape): health
#     checks, resources, non-root read-only securityContext, config from a
#     ConfigMap that passes canary_exporter --config.check, a NetworkPolicy
#     that opens the exporter's port to Prometheus pods only; sidecar:
#     PodMonitor with /probe (module+target fixed, target on loopback) and
#     /metrics, no [security]; central: Service, ServiceMonitor, Probe,
#     PodDisruptionBudget, and an allowlist that refuses every address
#     literal (403 from the exporter itself).
# Usage: manifests_test.sh path/to/canary_exporter
set -euo pipefail

bin=${1:?usage: manifests_test.sh path/to/canary_exporter}
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$root/deploy/kubernetes
schemas=$root/tests/e2e/k8s_schemas
tmp=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }
# count OUTPUT: adds its ok:/FAIL: lines to the totals.
count() {
  passed=$((passed + $(grep -c '^ok: ' <<<"$1" || true)))
  failed=$((failed + $(grep -c '^FAIL: ' <<<"$1" || true)))
}

for tool in yamllint kubectl node python3 promtool curl; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (scripts/setup.sh --test installs it)" >&2; exit 1; }
done
[[ -d "$schemas/node_modules/kubernetes-models" ]] ||
  { echo "FAIL: $schemas/node_modules is missing: run scripts/setup.sh --test (npm ci there)" >&2; exit 1; }

# --- lint -----------------------------------------------------------------
cat >"$tmp/yamllint.yml" <<'YAML'
extends: default
rules:
  line-length: disable
  document-start: disable
  comments: {min-spaces-from-content: 1}
  truthy: {check-keys: false}
YAML
mapfile -t yml < <(find "$dir" -name '*.yml' -o -name '*.yaml' | sort)
if out=$(yamllint -s -f parsable -c "$tmp/yamllint.yml" "${yml[@]}" 2>&1); then
  ok "${#yml[@]} YAML files under deploy/kubernetes lint clean"
else
  bad "yamllint: ${out//$root\//}"
fi

# --- generated files are current -------------------------------------------
"$dir/render.sh" "$tmp/grafana-dashboards.yml"
if diff -q "$tmp/grafana-dashboards.yml" "$dir/base/grafana-dashboards.yml" >/dev/null; then
  ok "base/grafana-dashboards.yml is dashboards/*.json"
else
  bad "deploy/kubernetes/base/grafana-dashboards.yml is stale: run deploy/kubernetes/render.sh"
fi

uid=$(sed -n 's/^USER \([0-9]*\).*/\1/p' "$root/Dockerfile")
[[ -n "$uid" ]] || { bad "no numeric USER in the Dockerfile"; uid=0; }

# check_config FILE LABEL: canary_exporter --config.check.
check_config() {
  local out
  if out=$("$bin" --config.check --config.file="$1" 2>&1); then
    ok "$2 passes --config.check"
  else
    bad "$2 fails --config.check: $out"
  fi
}

# --- strict schema validation: both topologies, and typos that must fail -----
# One validator run (the TypeScript compiler takes seconds to start): every
# document of both topologies, plus single mutated documents whose label
# starts with "typo".
typos=(
  'sidecar Deployment:spec.template.spec.containers.1.readinessProbe=readinesProbe'
  'sidecar PodMonitor:spec.podMetricsEndpoints.0.scrapeTimeout=scrapeTimout'
  'central Probe:spec.prober=probr'
  'central NetworkPolicy:spec.podSelector=podselector'
)
if python3 "$root/tests/e2e/kube_manifests.py" docs "$dir/sidecar" "$dir/central" >"$tmp/docs.json"; then
  parts=("$tmp/docs.json")
  for i in "${!typos[@]}"; do
    read -r topo mutation <<<"${typos[$i]}"
    python3 "$root/tests/e2e/kube_manifests.py" docs "$dir/$topo" "$mutation" >"$tmp/typo$i.json"
    parts+=("$tmp/typo$i.json")
  done
  # A value of the wrong shape fails too (the CRD's duration pattern).
  python3 - "$tmp/docs.json" >"$tmp/typo-duration.json" <<'PY'
import json, sys
docs = [d for d in json.load(open(sys.argv[1])) if d["doc"]["kind"] == "Probe"][:1]
for d in docs:
    d["doc"]["spec"]["interval"] = "1 minute"
    d["label"] = "typo Probe interval \"1 minute\": " + d["label"]
json.dump(docs, sys.stdout)
PY
  parts+=("$tmp/typo-duration.json")
  python3 -c 'import json, sys; json.dump(sum((json.load(open(f)) for f in sys.argv[1:]), []), sys.stdout)' \
    "${parts[@]}" >"$tmp/all.json"
  out=$(node "$schemas/validate.mjs" "$tmp/all.json" "$tmp/tsc" 2>&1) || true
  real=$(grep -v '^[a-zA-Z]*: typo ' <<<"$out" || true)
  echo "$real"
  count "$real"
  n=$(grep -c '^ok: ' <<<"$real" || true)
  ((n >= 15)) || bad "only $n documents validated"
  for i in "${!typos[@]}"; do
    field=${typos[$i]##*=}
    line=$(grep -F ": typo ${typos[$i]#* }" <<<"$out" || true)
    if [[ "$line" == FAIL:*"\"$field\""* ]]; then
      ok "a typo is rejected: ${line#FAIL: }"
    else
      bad "a typo'd field ($field) was not rejected by name: ${line:-no output}"
    fi
  done
  line=$(grep -F ': typo Probe interval' <<<"$out" || true)
  [[ "$line" == FAIL:*interval*pattern* ]] && ok "a bad duration is rejected: ${line#FAIL: }" ||
    bad "a Probe interval of \"1 minute\" was not rejected: ${line:-no output}"
else
  bad "kubectl kustomize failed"
fi

# --- shape, config, rules ------------------------------------------------------
for topo in sidecar central; do
  out=$(python3 "$root/tests/e2e/kube_manifests.py" shape "$dir/$topo" "$tmp/$topo" "$uid" 2>&1) || true
  echo "$out"
  count "$out"
  [[ -s "$tmp/$topo/config.toml" ]] && check_config "$tmp/$topo/config.toml" "deploy/kubernetes/$topo/config.toml (its ConfigMap, as kustomize renders it; line numbers match)"
  if out=$(promtool check rules "$tmp/$topo/rules.yml" 2>&1); then
    ok "$topo PrometheusRule groups load in promtool"
  else
    bad "$topo PrometheusRule (base/prometheusrule.yml): $out"
  fi
done

# --- a config that does not load fails, naming the place -----------------------
sed 's/^vus = .*/vus = 0/' "$tmp/sidecar/config.toml" >"$tmp/bad.toml"
if out=$("$bin" --config.check --config.file="$tmp/bad.toml" 2>&1); then
  bad "a ConfigMap config with vus = 0 passed --config.check"
elif grep -q 'bad.toml:[0-9]*:[0-9]*: modules.canary.burst.vus' <<<"$out"; then
  ok "a broken ConfigMap config is reported with file:line:column ($out)"
else
  bad "a broken config's error does not name its place: $out"
fi

# --- central: the allowlist refuses everything but the named targets ----------
# Address literals only: a refused target is answered 403 before any
# connection, so nothing leaves this machine. (Allowed names are probed by
# the end-to-end test, mapped to loopback.)
cp "$tmp/central/config.toml" "$tmp/central.toml"
"$bin" --config.file="$tmp/central.toml" --web.listen-address=127.0.0.1:0 >"$tmp/exporter.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do grep -q 'listening' "$tmp/exporter.log" && break; sleep 0.1; done
addr=$(grep -o 'address="\?127\.0\.0\.1:[0-9]*' "$tmp/exporter.log" | head -1 | sed 's/address="\?//')
if [[ -z "$addr" ]]; then
  bad "the central exporter did not start: $(tail -3 "$tmp/exporter.log")"
else
  for t in http://127.0.0.1:8080/ http://10.96.0.10:8080/ 'http://[::1]:8080/' http://169.254.169.254/; do
    code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 5 \
      "http://$addr/probe?module=canary&target=$t")
    [[ "$code" == 403 ]] && ok "central allowlist refuses $t (403)" ||
      bad "central allowlist answered $code for $t (want 403)"
  done
fi

echo "manifests_test: $passed passed, $failed failed"
((failed == 0))
