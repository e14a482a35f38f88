#!/usr/bin/env python3
"""Reads the Kubernetes topologies (the `kubectl kustomize` output of
deploy/kubernetes/<topology>) for the manifest and end-to-end tests.

  kube_manifests.py docs DIR [MUTATION]     JSON for k8s_schemas/validate.mjs
  kube_manifests.py shape DIR OUTDIR UID    shape checks; writes OUTDIR/config.toml,
                                            OUTDIR/rules.yml, OUTDIR/dashboards/*.json
  kube_manifests.py promconfig DIR ...      see operator_config.py

Each document is labelled "<topology> <Kind>/<name> (<source file>)" so a
failure names the file to fix. MUTATION (negative tests) is KIND:PATH=VALUE
with PATH a dotted path (list indices as numbers) whose last part is renamed
to VALUE, e.g. Deployment:spec.template.spec.containers.0.readinessProbe=readinesProbe.
"""
import glob
import json
import os
import subprocess
import sys
import tomllib

import yaml


def kustomize(d):
    r = subprocess.run(["kubectl", "kustomize", d], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: kubectl kustomize {d}: {r.stderr.strip()}")
    return [x for x in yaml.safe_load_all(r.stdout) if x]


def sources(d):
    """(kind, name) -> the file under deploy/kubernetes that defines it."""
    out = {}
    for path in glob.glob(os.path.join(d, "*.yml")) + glob.glob(os.path.join(d, "..", "base", "*.yml")):
        with open(path) as fh:
            for x in yaml.safe_load_all(fh):
                if x and "kind" in x:
                    out[(x["kind"], x["metadata"]["name"])] = os.path.relpath(path, os.path.join(d, ".."))
    return out


def label(d, doc, src):
    kind, name = doc["kind"], doc["metadata"]["name"]
    where = src.get((kind, name))
    if where is None and kind == "ConfigMap":
        where = os.path.join(os.path.basename(d), "kustomization.yaml configMapGenerator")
    return f"{os.path.basename(os.path.normpath(d))} {kind}/{name} ({where or '?'})"


def mutate(docs, spec):
    kind, rest = spec.split(":", 1)
    path, new = rest.split("=", 1)
    parts = path.split(".")
    doc = next(x for x in docs if x["kind"] == kind)
    node = doc
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    node[new] = node.pop(parts[-1])
    return kind


def cmd_docs(*args):
    """docs DIR... | docs DIR MUTATION: every document of each topology, or
    only the mutated one."""
    out = []
    if len(args) == 2 and ":" in args[1]:
        docs = kustomize(args[0])
        kind = mutate(docs, args[1])
        src = sources(args[0])
        out = [{"label": "typo " + args[1] + ": " + label(args[0], x, src), "doc": x}
               for x in docs if x["kind"] == kind]
    else:
        for d in args:
            src = sources(d)
            out += [{"label": label(d, x, src), "doc": x} for x in kustomize(d)]
    json.dump(out, sys.stdout)


def exporter_containers(docs):
    for x in docs:
        if x["kind"] != "Deployment":
            continue
        for c in x["spec"]["template"]["spec"]["containers"]:
            if c["name"] == "canary-exporter":
                yield x, c


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def cmd_shape(d, outdir, uid):
    uid = int(uid)
    topo = os.path.basename(os.path.normpath(d))
    docs = kustomize(d)
    fails = []

    def need(cond, what):
        print(("ok: " if cond else "FAIL: ") + f"{topo}: {what}")
        if not cond:
            fails.append(what)

    by_kind = {}
    for x in docs:
        by_kind.setdefault(x["kind"], []).append(x)
    exps = list(exporter_containers(docs))
    need(len(exps) == 1, "one Deployment runs a canary-exporter container")
    dep, s = exps[0]
    pod = dep["spec"]["template"]["spec"]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    need(matches(dep["spec"]["selector"]["matchLabels"], labels), "the Deployment's selector matches its pods")
    ports = {p.get("name"): p["containerPort"] for p in s.get("ports", [])}
    need(ports.get("canary") == 9427, "the exporter's port 'canary' is 9427")
    need(any(a.startswith("--web.listen-address=") and a.endswith(":9427") for a in s.get("args", [])),
         "the exporter listens on :9427")
    lp, rp = s.get("livenessProbe", {}), s.get("readinessProbe", {})
    need(lp.get("httpGet", {}).get("path") == "/-/healthy", "liveness on /-/healthy")
    need(rp.get("httpGet", {}).get("path") == "/-/ready", "readiness on /-/ready")
    need(lp.get("httpGet", {}).get("port") in ("canary", 9427) and rp.get("httpGet", {}).get("port") in ("canary", 9427),
         "both health checks hit the exporter's port")
    res = s.get("resources", {})
    need({"cpu", "memory"} <= set(res.get("requests", {})), "cpu and memory requests")
    need("memory" in res.get("limits", {}), "a memory limit")
    need("cpu" not in res.get("limits", {}), "no cpu limit (throttling would show as target latency)")
    sc = s.get("securityContext", {})
    need(sc.get("runAsNonRoot") is True and sc.get("runAsUser") == uid, f"runs non-root as the Dockerfile's user {uid}")
    need(sc.get("readOnlyRootFilesystem") is True, "read-only root filesystem")
    need(sc.get("allowPrivilegeEscalation") is False and sc.get("capabilities", {}).get("drop") == ["ALL"],
         "no privilege escalation, every capability dropped")

    # The config: --config.file -> volume mount -> ConfigMap key.
    cfg_arg = [a for a in s.get("args", []) if a.startswith("--config.file=")]
    need(len(cfg_arg) == 1, "the exporter is given --config.file")
    mdir, key = os.path.split(cfg_arg[0].split("=", 1)[1])
    mounts = {m["mountPath"]: m["name"] for m in s.get("volumeMounts", [])}
    vol = {v["name"]: v for v in pod.get("volumes", [])}.get(mounts.get(mdir), {})
    cms = {c["metadata"]["name"]: c for c in by_kind.get("ConfigMap", [])}
    cm = cms.get(vol.get("configMap", {}).get("name"), {})
    need(key in cm.get("data", {}), f"{mdir}/{key} comes from a ConfigMap of the set")
    os.makedirs(outdir, exist_ok=True)
    config = cm.get("data", {}).get(key, "")
    with open(os.path.join(outdir, "config.toml"), "w") as fh:
        fh.write(config)

    # The PrometheusRule: its groups, as a rule file for promtool/Prometheus.
    rules = by_kind.get("PrometheusRule", [])
    need(len(rules) == 1, "one PrometheusRule")
    with open(os.path.join(outdir, "rules.yml"), "w") as fh:
        yaml.safe_dump({"groups": rules[0]["spec"]["groups"] if rules else []}, fh, sort_keys=False)

    # The dashboards ConfigMap: every dashboards/*.json, byte for byte.
    root = os.path.join(d, "..", "..", "..")
    dash = [c for c in by_kind.get("ConfigMap", []) if c["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
    need(len(dash) == 1, "one dashboards ConfigMap for Grafana's sidecar")
    shipped = {os.path.basename(p): open(p).read() for p in glob.glob(os.path.join(root, "dashboards", "*.json"))}
    got = dash[0].get("data", {}) if dash else {}
    need(shipped and got == shipped, f"the dashboards ConfigMap holds dashboards/*.json verbatim ({len(got)} of {len(shipped)})")
    os.makedirs(os.path.join(outdir, "dashboards"), exist_ok=True)
    for k, v in got.items():
        with open(os.path.join(outdir, "dashboards", k), "w") as fh:
            fh.write(v)

    # Only selected pods reach the exporter's port: every ingress rule that
    # opens it (it names the port, or names no port) admits from pod
    # selectors only.
    nps = [x for x in by_kind.get("NetworkPolicy", []) if matches(x["spec"]["podSelector"].get("matchLabels"), labels)]
    rules = [r for x in nps for r in x["spec"].get("ingress", [])]
    opening = [r for r in rules if not r.get("ports") or
               any(p.get("port") in ("canary", 9427) for p in r["ports"])]
    need(len(nps) == 1 and nps[0]["spec"].get("policyTypes") == ["Ingress"] and opening and
         all(r.get("from") and all(f.get("podSelector", {}).get("matchLabels") for f in r["from"]) for r in opening),
         "a NetworkPolicy admits only the Prometheus pods to the exporter's port")

    if topo == "sidecar":
        pms = by_kind.get("PodMonitor", [])
        need(len(pms) == 1 and matches(pms[0]["spec"]["selector"].get("matchLabels"), labels),
             "a PodMonitor selects the pods with the sidecar")
        eps = pms[0]["spec"]["podMetricsEndpoints"] if pms else []
        probe = [e for e in eps if e.get("path") == "/probe"]
        metrics = [e for e in eps if e.get("path", "/metrics") == "/metrics"]
        need(len(probe) == 1 and probe[0].get("port") == "canary", "one PodMonitor endpoint scrapes /probe on 'canary'")
        if probe:
            prm = probe[0].get("params", {})
            tgt = prm.get("target", [""])[0]
            need(len(prm.get("module", [])) == 1 and len(prm.get("target", [])) == 1,
                 "the /probe endpoint fixes module and target")
            need(tgt.startswith(("http://localhost:", "http://127.0.0.1:")),
                 f"the target is the app on loopback ({tgt})")
            need(probe[0].get("interval") and probe[0].get("scrapeTimeout"), "the /probe endpoint sets interval and scrapeTimeout")
        need(len(metrics) == 1 and metrics[0].get("port") == "canary", "one PodMonitor endpoint scrapes /metrics")
        try:
            sec = tomllib.loads(config).get("security")
        except tomllib.TOMLDecodeError:
            sec = None  # --config.check reports the syntax error with its place
        need(sec is None, "no [security] table: the default loopback-only allowlist holds")
        need(not any(p.get("targetPort") in ("canary", 9427) for x in by_kind.get("Service", []) for p in x["spec"]["ports"]),
             "no Service exposes the sidecar's port")
    else:
        ns = dep["metadata"].get("namespace", "default")
        svcs = [x for x in by_kind.get("Service", []) if matches(x["spec"].get("selector"), labels)]
        need(len(svcs) == 1 and any(p.get("targetPort") in ("canary", 9427) for p in svcs[0]["spec"]["ports"]),
             "a Service exposes the exporter's port")
        svc = svcs[0] if svcs else {"metadata": {"name": "?", "labels": {}}, "spec": {"ports": []}}
        sms = by_kind.get("ServiceMonitor", [])
        need(len(sms) == 1 and matches(sms[0]["spec"]["selector"].get("matchLabels"), svc["metadata"].get("labels", {}))
             and [e.get("path", "/metrics") for e in sms[0]["spec"]["endpoints"]] == ["/metrics"],
             "a ServiceMonitor scrapes the Service's /metrics")
        port = next((p["port"] for p in svc["spec"]["ports"] if p.get("name") == "canary"), None)
        probes = by_kind.get("Probe", [])
        need(probes and all(p["spec"]["prober"]["url"] == f"{svc['metadata']['name']}.{ns}.svc:{port}" and
                            p["spec"]["prober"].get("path") == "/probe" for p in probes),
             "every Probe's prober is the Service's address and /probe")
        pdbs = by_kind.get("PodDisruptionBudget", [])
        need(len(pdbs) == 1 and matches(pdbs[0]["spec"]["selector"].get("matchLabels"), labels),
             "a PodDisruptionBudget covers the exporter")
        with open(os.path.join(outdir, "targets.txt"), "w") as fh:
            for p in probes:
                for t in p["spec"]["targets"]["staticConfig"]["static"]:
                    fh.write(t + "\n")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"docs": cmd_docs, "shape": cmd_shape}[cmd](*args)
