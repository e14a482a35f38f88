#!/usr/bin/env python3
"""The scrape configuration prometheus-operator v0.90.1 generates for the
shipped PodMonitor, ServiceMonitor and Probe objects, for a Prometheus that
runs without Kubernetes.

  operator_config.py TOPOLOGY_DIR KEY=VALUE...   prints scrape_configs YAML

Followed: pkg/prometheus/promcfg.go of prometheus-operator v0.90.1
(generatePodMonitorConfig, generateServiceMonitorConfig, generateProbeConfig,
initRelabelings, generateRunningFilter, generateRelabelConfig and the
appendSharding* helpers): job names, interval, timeout, path, params, and
the relabelings in the operator's order: __tmp_prometheus_job_name, the
running-pod filter, the selector keeps, the port keep, namespace/container/
pod (and service) labels, job, endpoint, the object's own relabelings, then
the shard keep with $(SHARD) as prometheus-config-reloader substitutes it.

The one part replaced is service discovery: kubernetes_sd_configs becomes a
static_configs entry carrying the __meta_kubernetes_* labels Kubernetes
discovery gives the shipped Deployment's pod (its template labels, the
container and port names, namespace, phase Running), at the loopback address
the test runs the exporter on. Everything after discovery is as generated.

KEY=VALUE: pod_address=HOST:PORT (where the exporter of the pod listens),
prober=HOST:PORT (Probe: replaces spec.prober.url, the Service address),
shard=N shards=M (default 0 of 1), namespace=NS (sidecar: the namespace
kubectl apply -k would use; default "default"), target_map=FROM>TO,...
(replaces text in Probe targets and PodMonitor params: a Service name:port
by a loopback host:port).
"""
import re
import subprocess
import sys

import yaml


def sanitize(name):
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def relabel(rcs):
    """generateRelabelConfig: CRD camelCase -> Prometheus keys, action lower case."""
    out = []
    for c in rcs or []:
        r = {}
        if c.get("sourceLabels"):
            r["source_labels"] = c["sourceLabels"]
        if "separator" in c:
            r["separator"] = c["separator"]
        if c.get("targetLabel"):
            r["target_label"] = c["targetLabel"]
        if c.get("regex"):
            r["regex"] = c["regex"]
        if c.get("modulus"):
            r["modulus"] = c["modulus"]
        if "replacement" in c:
            r["replacement"] = c["replacement"]
        if c.get("action"):
            r["action"] = c["action"].lower()
        out.append(r)
    return out


def sharding(label, shards, shard):
    return [
        {"source_labels": [label, "__tmp_hash"], "target_label": "__tmp_hash",
         "regex": "(.+);", "replacement": "$1", "action": "replace"},
        {"source_labels": ["__tmp_hash"], "target_label": "__tmp_hash",
         "modulus": shards, "action": "hashmod"},
        # "$(SHARD);|.+;.+" with $(SHARD) expanded by the config reloader.
        {"source_labels": ["__tmp_hash", "__tmp_disable_sharding"],
         "regex": f"{shard};|.+;.+", "action": "keep"},
    ]


def selector_keeps(prefix, selector):
    return [{"action": "keep",
             "source_labels": [f"{prefix}_label_{sanitize(k)}", f"{prefix}_labelpresent_{sanitize(k)}"],
             "regex": f"({v});true"} for k, v in sorted(selector.get("matchLabels", {}).items())]


def pod_meta(dep, container, port_name, ns):
    tmpl = dep["spec"]["template"]
    meta = {
        "__meta_kubernetes_namespace": ns,
        "__meta_kubernetes_pod_name": dep["metadata"]["name"] + "-7d9f8b6c5d-x2x4q",
        "__meta_kubernetes_pod_phase": "Running",
        "__meta_kubernetes_pod_container_name": container["name"],
        "__meta_kubernetes_pod_container_port_name": port_name,
        "__meta_kubernetes_pod_container_port_number": str(next(
            p["containerPort"] for p in container["ports"] if p.get("name") == port_name)),
    }
    for k, v in tmpl["metadata"].get("labels", {}).items():
        meta[f"__meta_kubernetes_pod_label_{sanitize(k)}"] = v
        meta[f"__meta_kubernetes_pod_labelpresent_{sanitize(k)}"] = "true"
    return meta


def monitor_tail(meta, m, ep, o):
    """What both monitors end with: the jobLabel override, the endpoint
    label, the endpoint's own relabelings, the shard keep on the address."""
    r = []
    if m["spec"].get("jobLabel"):
        r.append({"source_labels": [f"{meta}_label_{sanitize(m['spec']['jobLabel'])}"],
                  "target_label": "job", "regex": "(.+)", "replacement": "${1}"})
    r.append({"target_label": "endpoint", "replacement": ep["port"]})
    r += relabel(ep.get("relabelings"))
    return r + sharding("__address__", o["shards"], o["shard"])


# The fields reproduced here, per kind (spec, endpoint). Any other field of a
# shipped object stops the generator: it would change the generated config
# in a way this file does not follow.
HANDLED = {
    "PodMonitor": ({"selector", "podMetricsEndpoints", "podTargetLabels", "jobLabel"},
                   {"port", "path", "params", "interval", "scrapeTimeout", "scheme", "relabelings",
                    "metricRelabelings", "filterRunning"}),
    "ServiceMonitor": ({"selector", "endpoints", "jobLabel"},
                       {"port", "path", "params", "interval", "scrapeTimeout", "scheme", "relabelings",
                        "filterRunning"}),
    "Probe": ({"jobName", "prober", "module", "params", "interval", "scrapeTimeout", "targets",
               "metricRelabelings"}, set()),
}


def check_handled(x):
    spec_keys, ep_keys = HANDLED[x["kind"]]
    extra = set(x["spec"]) - spec_keys
    for ep in x["spec"].get("podMetricsEndpoints", []) + x["spec"].get("endpoints", []):
        extra |= set(ep) - ep_keys
    if x["kind"] == "Probe":
        extra |= set(x["spec"]["targets"]) - {"staticConfig"}
        extra |= set(x["spec"]["targets"].get("staticConfig", {})) - {"static", "labels", "relabelingConfigs"}
        extra |= set(x["spec"]["prober"]) - {"url", "path", "scheme"}
    if extra:
        sys.exit(f"operator_config: {x['kind']}/{x['metadata']['name']} uses {sorted(extra)}, "
                 "which this reproduction does not follow: extend tests/e2e/operator_config.py")


def common(cfg, ep):
    for src, dst in (("interval", "scrape_interval"), ("scrapeTimeout", "scrape_timeout"),
                     ("path", "metrics_path"), ("params", "params"), ("scheme", "scheme")):
        if ep.get(src):
            cfg[dst] = ep[src]


def exporter_pod(docs, port_name):
    for d in docs:
        if d["kind"] == "Deployment":
            for c in d["spec"]["template"]["spec"]["containers"]:
                if any(p.get("name") == port_name for p in c.get("ports", [])):
                    return d, c
    sys.exit(f"operator_config: no Deployment container has a port named {port_name}")


def mapped(text, target_map):
    for a, b in target_map:
        text = text.replace(a, b)
    return text


def pod_monitor(m, docs, o):
    ns = m["metadata"].get("namespace", o["namespace"])
    out = []
    for i, ep in enumerate(m["spec"]["podMetricsEndpoints"]):
        dep, c = exporter_pod(docs, ep["port"])
        cfg = {"job_name": f"podMonitor/{ns}/{m['metadata']['name']}/{i}", "honor_labels": False,
               "static_configs": [{"targets": [o["pod_address"]], "labels": pod_meta(dep, c, ep["port"], ns)}]}
        common(cfg, ep)
        if "params" in cfg:
            cfg["params"] = {k: [mapped(v, o["target_map"]) for v in vs] for k, vs in cfg["params"].items()}
        r = [{"source_labels": ["job"], "target_label": "__tmp_prometheus_job_name"}]
        if ep.get("filterRunning", True):
            r.append({"action": "drop", "source_labels": ["__meta_kubernetes_pod_phase"], "regex": "(Failed|Succeeded)"})
        r += selector_keeps("__meta_kubernetes_pod", m["spec"]["selector"])
        r.append({"action": "keep", "source_labels": ["__meta_kubernetes_pod_container_port_name"], "regex": ep["port"]})
        r += [{"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
              {"source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container"},
              {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"}]
        for l in m["spec"].get("podTargetLabels", []):
            r.append({"source_labels": [f"__meta_kubernetes_pod_label_{sanitize(l)}"], "target_label": sanitize(l),
                      "regex": "(.+)", "replacement": "${1}"})
        r.append({"target_label": "job", "replacement": f"{ns}/{m['metadata']['name']}"})
        cfg["relabel_configs"] = r + monitor_tail("__meta_kubernetes_pod", m, ep, o)
        if ep.get("metricRelabelings"):
            cfg["metric_relabel_configs"] = relabel(ep["metricRelabelings"])
        out.append(cfg)
    return out


def service_monitor(m, docs, o):
    ns = m["metadata"].get("namespace", o["namespace"])
    out = []
    svc = next(d for d in docs if d["kind"] == "Service" and
               all(d["metadata"].get("labels", {}).get(k) == v for k, v in m["spec"]["selector"]["matchLabels"].items()))
    for i, ep in enumerate(m["spec"]["endpoints"]):
        sport = next(p for p in svc["spec"]["ports"] if p.get("name") == ep["port"])
        dep, c = exporter_pod(docs, sport["targetPort"])
        meta = pod_meta(dep, c, sport["targetPort"], ns)
        meta.update({"__meta_kubernetes_service_name": svc["metadata"]["name"],
                     "__meta_kubernetes_endpoint_port_name": ep["port"],
                     "__meta_kubernetes_endpoint_address_target_kind": "Pod",
                     "__meta_kubernetes_endpoint_address_target_name": meta["__meta_kubernetes_pod_name"]})
        for k, v in svc["metadata"].get("labels", {}).items():
            meta[f"__meta_kubernetes_service_label_{sanitize(k)}"] = v
            meta[f"__meta_kubernetes_service_labelpresent_{sanitize(k)}"] = "true"
        cfg = {"job_name": f"serviceMonitor/{ns}/{m['metadata']['name']}/{i}", "honor_labels": False,
               "static_configs": [{"targets": [o["pod_address"]], "labels": meta}]}
        common(cfg, ep)
        r = [{"source_labels": ["job"], "target_label": "__tmp_prometheus_job_name"}]
        r += selector_keeps("__meta_kubernetes_service", m["spec"]["selector"])
        r.append({"action": "keep", "source_labels": ["__meta_kubernetes_endpoint_port_name"], "regex": ep["port"]})
        kind_name = ["__meta_kubernetes_endpoint_address_target_kind", "__meta_kubernetes_endpoint_address_target_name"]
        r += [{"source_labels": kind_name, "separator": ";", "regex": "Node;(.*)", "replacement": "${1}", "target_label": "node"},
              {"source_labels": kind_name, "separator": ";", "regex": "Pod;(.*)", "replacement": "${1}", "target_label": "pod"},
              {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
              {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "service"},
              {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
              {"source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container"}]
        if ep.get("filterRunning", True):
            r.append({"action": "drop", "source_labels": ["__meta_kubernetes_pod_phase"], "regex": "(Failed|Succeeded)"})
        r.append({"source_labels": ["__meta_kubernetes_service_name"], "target_label": "job", "replacement": "${1}"})
        cfg["relabel_configs"] = r + monitor_tail("__meta_kubernetes_service", m, ep, o)
        out.append(cfg)
    return out


def probe(m, docs, o):
    ns = m["metadata"].get("namespace", o["namespace"])
    s = m["spec"]
    cfg = {"job_name": f"probe/{ns}/{m['metadata']['name']}", "honor_timestamps": True,
           "metrics_path": s["prober"].get("path", "/probe")}
    if s.get("interval"):
        cfg["scrape_interval"] = s["interval"]
    if s.get("scrapeTimeout"):
        cfg["scrape_timeout"] = s["scrapeTimeout"]
    if s["prober"].get("scheme"):
        cfg["scheme"] = s["prober"]["scheme"]
    params = {}
    if s.get("module"):
        params["module"] = [s["module"]]
    for p in s.get("params", []):
        if not (s.get("module") and p["name"] == "module"):
            params[p["name"]] = p["values"]
    if params:
        cfg["params"] = params
    r = [{"source_labels": ["job"], "target_label": "__tmp_prometheus_job_name"}]
    if s.get("jobName"):
        r.append({"target_label": "job", "replacement": s["jobName"]})
    st = s["targets"]["staticConfig"]
    labels = dict(st.get("labels") or {})
    labels.setdefault("namespace", ns)
    cfg["static_configs"] = [{"targets": [mapped(t, o["target_map"]) for t in st["static"]], "labels": labels}]
    r += [{"source_labels": ["__address__"], "target_label": "__param_target"},
          {"source_labels": ["__param_target"], "target_label": "instance"},
          {"target_label": "__address__", "replacement": o.get("prober") or s["prober"]["url"]}]
    r += relabel(st.get("relabelingConfigs"))
    r += sharding("__param_target", o["shards"], o["shard"])
    cfg["relabel_configs"] = r
    if s.get("metricRelabelings"):
        cfg["metric_relabel_configs"] = relabel(s["metricRelabelings"])
    return [cfg]


def main():
    d = sys.argv[1]
    o = {"namespace": "default", "shard": 0, "shards": 1, "target_map": [], "pod_address": None, "prober": None}
    for kv in sys.argv[2:]:
        k, v = kv.split("=", 1)
        if k in ("shard", "shards"):
            o[k] = int(v)
        elif k == "target_map":
            o[k] = [tuple(x.split(">", 1)) for x in v.split(",") if x]
        else:
            o[k] = v
    r = subprocess.run(["kubectl", "kustomize", d], capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"operator_config: kubectl kustomize {d}: {r.stderr.strip()}")
    docs = [x for x in yaml.safe_load_all(r.stdout) if x]
    gen = {"PodMonitor": pod_monitor, "ServiceMonitor": service_monitor, "Probe": probe}
    jobs = []
    for x in docs:
        if x["kind"] in gen:
            check_handled(x)
            jobs += gen[x["kind"]](x, docs, o)
    yaml.safe_dump({"scrape_configs": jobs}, sys.stdout, sort_keys=False, width=1000)


if __name__ == "__main__":
    main()
