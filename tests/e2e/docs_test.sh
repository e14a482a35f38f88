#!/usr/bin/env bash
# docs_test.sh: the docs say what ships, once.
#   - the README's Prometheus recipe is deploy/prometheus/prometheus.yml's
#     scrape_configs (compared as YAML data, so comments may differ; a
#     dropped relabel such as the `module` one fails);
#   - no heading appears twice at the same level in one file, and no
#     paragraph (120+ characters) appears twice in README.md and docs/*.md.
# Each check is also run on a broken copy, which must fail.
# Usage: docs_test.sh [ignored: the binary the e2e glob passes]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/check.py" <<'PY'
import collections, re, sys
import yaml

def recipe(readme):
    """The first ```yaml block after '## Prometheus'."""
    text = open(readme).read()
    sec = text.split("\n## Prometheus\n", 1)
    if len(sec) < 2:
        return None, f"{readme}: no '## Prometheus' section"
    m = re.search(r"```yaml\n(.*?)```", sec[1], re.S)
    if not m:
        return None, f"{readme}: no ```yaml block in '## Prometheus'"
    return yaml.safe_load(m.group(1)), None

def check_recipe(readme, shipped):
    got, err = recipe(readme)
    if err:
        return [err]
    want = yaml.safe_load(open(shipped))["scrape_configs"]
    have = (got or {}).get("scrape_configs")
    if have == want:
        return []
    errs = []
    wj = {j["job_name"]: j for j in want}
    hj = {j["job_name"]: j for j in have or []}
    for name in sorted(set(wj) | set(hj)):
        if wj.get(name) != hj.get(name):
            errs.append(f"{readme}: job {name!r} differs from {shipped}:\n  README:  {hj.get(name)}\n  shipped: {wj.get(name)}")
    return errs or [f"{readme}: scrape_configs differ from {shipped} (job order)"]

def check_dups(files):
    errs = []
    paras = collections.defaultdict(list)
    for f in files:
        text = re.sub(r"```.*?```", "", open(f).read(), flags=re.S)
        heads = collections.Counter(l.strip() for l in text.split("\n") if re.match(r"#{1,6} ", l))
        errs += [f"{f}: heading {h!r} appears {n} times" for h, n in heads.items() if n > 1]
        for p in re.split(r"\n\s*\n", text):
            p = p.strip()
            if len(p) >= 120:
                paras[p].append(f)
    errs += [f"paragraph in {', '.join(fs)} appears {len(fs)} times: {p[:70]!r}..." for p, fs in paras.items() if len(fs) > 1]
    return errs

mode, args = sys.argv[1], sys.argv[2:]
errs = check_recipe(*args) if mode == "recipe" else check_dups(args)
for e in errs:
    print("FAIL: " + e)
sys.exit(1 if errs else 0)
PY

failed=0
docs=("$root/README.md" "$root"/docs/*.md)
if out=$(python3 "$tmp/check.py" recipe "$root/README.md" "$root/deploy/prometheus/prometheus.yml"); then
  echo "ok: the README's Prometheus recipe is deploy/prometheus/prometheus.yml's scrape_configs"
else
  echo "$out" >&2; failed=$((failed + 1))
fi
if out=$(python3 "$tmp/check.py" dups "${docs[@]}"); then
  echo "ok: no heading or paragraph twice in README.md and docs/*.md (${#docs[@]} files)"
else
  echo "$out" >&2; failed=$((failed + 1))
fi

# The checks can fail: a recipe without the module relabel, a section twice.
grep -v -e '__param_module' -e 'target_label: module' "$root/README.md" >"$tmp/README.md"
if python3 "$tmp/check.py" recipe "$tmp/README.md" "$root/deploy/prometheus/prometheus.yml" >/dev/null; then
  echo "FAIL: a README recipe without the module relabel passed" >&2; failed=$((failed + 1))
else
  echo "ok: a README recipe without the module relabel fails"
fi
{ cat "$root/docs/configuration.md"; sed -n '/^## `\[security\]`/,/^## `\[server\]`/p' "$root/docs/configuration.md" | sed '$d'; } >"$tmp/configuration.md"
if python3 "$tmp/check.py" dups "$tmp/configuration.md" >/dev/null; then
  echo "FAIL: a docs file with [security] twice passed" >&2; failed=$((failed + 1))
else
  echo "ok: a docs file with a section twice fails"
fi
((failed == 0))
