#!/usr/bin/env bash
# Installs what the benchmark harness needs on Debian 12, after everything
# scripts/setup.sh installs (build and test packages): a fixed-delay nginx
# target (echo_sleep), wrk, blackbox_exporter, perf and Google Benchmark.
# Idempotent: packages already present are skipped quickly.
# Usage: bench/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test

bench_pkgs=(nginx-light libnginx-mod-http-echo wrk prometheus-blackbox-exporter
            linux-perf libbenchmark-dev curl procps)

missing=()
for p in "${bench_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bench/setup: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  # Packaged services must not start (or hold ports): we run our own copies.
  policy_added=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${sudo_cmd[@]}" chmod +x /usr/sbin/policy-rc.d
    policy_added=1
  fi
  "${sudo_cmd[@]}" apt-get update -o DPkg::Lock::Timeout=300 -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 \
    "${missing[@]}" || { ((policy_added)) && "${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d; exit 1; }
  if ((policy_added)); then "${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d; fi
fi
