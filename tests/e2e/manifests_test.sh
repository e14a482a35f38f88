#!/usr/bin/env bash
# manifests_test.sh: every Kubernetes manifest in deploy/kubernetes parses
# (yamllint), and the sidecar Deployment has the shape docs/deployment.md
# promises: an app container plus canary-exporter on :9427 with liveness on
# /-/healthy, readiness on /-/ready, memory requests and limit but no CPU
# limit, non-root as in the Dockerfile, its config from a ConfigMap that
# passes --config.check; a Service exposing the "canary" port.
# Usage: manifests_test.sh path/to/canary_exporter
set -euo pipefail

bin=${1:?usage: manifests_test.sh path/to/canary_exporter}
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$root/deploy/kubernetes
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }

if ! command -v yamllint >/dev/null; then
  echo "FAIL: yamllint is missing (scripts/setup.sh --test installs it)" >&2
  exit 1
fi
# Syntax, duplicate keys, indentation and truthy values ("on"/"yes") are
# errors; long lines (generated PromQL) are not.
cat >"$tmp/yamllint.yml" <<'YAML'
extends: default
rules:
  line-length: disable
  document-start: disable
  comments: {min-spaces-from-content: 1}
  truthy: {check-keys: false}
YAML
for f in "$dir"/*.yml; do
  if out=$(yamllint -s -c "$tmp/yamllint.yml" "$f" 2>&1); then
    ok "$(basename "$f") parses and lints clean"
  else
    bad "$(basename "$f"): $out"
  fi
done

# The shape checks need a YAML parser: python3-yaml comes with yamllint.
uid=$(sed -n 's/^USER \([0-9]*\).*/\1/p' "$root/Dockerfile")
if out=$(python3 - "$dir" "$tmp" "$uid" <<'PY' 2>&1
import glob, os, sys, yaml

d, tmp, uid = sys.argv[1], sys.argv[2], int(sys.argv[3])
docs = []
for f in sorted(glob.glob(os.path.join(d, "*.yml"))):
    with open(f) as fh:
        docs += [x for x in yaml.safe_load_all(fh) if x]
by_kind = {}
for x in docs:
    assert "apiVersion" in x and "kind" in x and x.get("metadata", {}).get("name"), \
        f"a manifest without apiVersion/kind/metadata.name: {str(x)[:80]}"
    by_kind.setdefault(x["kind"], []).append(x)
fails = []
def need(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond: fails.append(what)

deps = [x for x in by_kind.get("Deployment", [])
        if any(c["name"] == "canary-exporter"
               for c in x["spec"]["template"]["spec"]["containers"])]
need(len(deps) == 1, "one Deployment has a canary-exporter sidecar")
dep = deps[0]
pod = dep["spec"]["template"]["spec"]
cs = {c["name"]: c for c in pod["containers"]}
need(len(cs) >= 2, "the pod runs the app beside the sidecar")
s = cs["canary-exporter"]
ports = {p.get("name"): p["containerPort"] for p in s.get("ports", [])}
need(ports.get("canary") == 9427, "the sidecar's port 'canary' is 9427")
need(any(a.startswith("--web.listen-address=") and a.endswith(":9427")
         for a in s.get("args", [])), "the sidecar listens on :9427")
lp, rp = s.get("livenessProbe", {}), s.get("readinessProbe", {})
need(lp.get("httpGet", {}).get("path") == "/-/healthy", "liveness on /-/healthy")
need(rp.get("httpGet", {}).get("path") == "/-/ready", "readiness on /-/ready")
need(lp.get("httpGet", {}).get("port") in ("canary", 9427) and
     rp.get("httpGet", {}).get("port") in ("canary", 9427),
     "both probes hit the exporter's port")
res = s.get("resources", {})
need({"cpu", "memory"} <= set(res.get("requests", {})), "cpu and memory requests")
need("memory" in res.get("limits", {}), "a memory limit")
need("cpu" not in res.get("limits", {}),
     "no cpu limit (throttling would show as target latency)")
sc = s.get("securityContext", {})
need(sc.get("runAsNonRoot") is True and sc.get("runAsUser") == uid,
     f"runs non-root as the Dockerfile's user {uid}")
need(sc.get("readOnlyRootFilesystem") is True, "read-only root filesystem")

cfg_arg = [a for a in s.get("args", []) if a.startswith("--config.file=")]
need(len(cfg_arg) == 1, "the sidecar is given --config.file")
path = cfg_arg[0].split("=", 1)[1]
mounts = {m["mountPath"]: m["name"] for m in s.get("volumeMounts", [])}
mdir, key = os.path.split(path)
vol = {v["name"]: v for v in pod.get("volumes", [])}.get(mounts.get(mdir), {})
cm_name = vol.get("configMap", {}).get("name")
need(cm_name is not None, f"{mdir} is a ConfigMap volume")
cms = {c["metadata"]["name"]: c for c in by_kind.get("ConfigMap", [])}
need(cm_name in cms and key in cms[cm_name].get("data", {}),
     f"ConfigMap {cm_name} is in the manifests and has {key}")
if cm_name in cms and key in cms[cm_name].get("data", {}):
    with open(os.path.join(tmp, "config.toml"), "w") as fh:
        fh.write(cms[cm_name]["data"][key])

labels = dep["spec"]["template"]["metadata"]["labels"]
need(all(labels.get(k) == v for k, v in dep["spec"]["selector"]["matchLabels"].items()),
     "the Deployment's selector matches its pods")
svcs = [x for x in by_kind.get("Service", [])
        if all(labels.get(k) == v for k, v in x["spec"].get("selector", {}).items())
        and x["spec"].get("selector")]
need(len(svcs) >= 1, "a Service selects the pods")
need(any(p.get("targetPort") in ("canary", 9427)
         for x in svcs for p in x["spec"]["ports"]),
     "the Service exposes the sidecar's port")
sys.exit(1 if fails else 0)
PY
); then
  echo "$out"
  passed=$((passed + $(grep -c '^ok: ' <<<"$out")))
else
  echo "$out"
  passed=$((passed + $(grep -c '^ok: ' <<<"$out" || true)))
  failed=$((failed + $(grep -c '^FAIL: ' <<<"$out" || echo 1)))
fi

if [[ -f "$tmp/config.toml" ]]; then
  if out=$("$bin" --config.check --config.file="$tmp/config.toml" 2>&1); then
    ok "the ConfigMap's config.toml passes --config.check ($out)"
  else
    bad "the ConfigMap's config.toml fails --config.check: $out"
  fi
fi

echo "manifests_test: $passed passed, $failed failed"
((failed == 0))
