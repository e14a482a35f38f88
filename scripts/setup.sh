#!/usr/bin/env bash
# Installs every Debian 12 package canary_exporter needs to build, run and test.
# Idempotent: packages already present are skipped quickly by apt.
# Usage: scripts/setup.sh [--test]   (--test also installs what the test suite needs)
#        scripts/setup.sh --packages NAME...   (just these, e.g. the fuzzers' clang-14)
set -euo pipefail

pkgs=(cmake ninja-build pkg-config g++ libcivetweb-dev civetweb prometheus-cpp-dev zlib1g-dev
      libcurl4-openssl-dev libssl-dev libtomlplusplus-dev libabsl-dev libre2-dev libyaml-cpp-dev ca-certificates
      libcrypt-dev)
test_pkgs=(libgtest-dev libgmock-dev libbenchmark-dev prometheus openssl curl
           chromium yamllint python3-yaml prometheus-alertmanager jq
           docker.io debootstrap iptables git
           nginx-light brotli)  # the HTTP/2, TLS, IPv6 and br test target
# The Kubernetes manifest test validates with pinned npm packages (Node.js
# and npm from Debian; a machine that already has another Node.js keeps it).
if ! command -v npm >/dev/null; then test_pkgs+=(nodejs npm); fi

want=("${pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then want+=("${test_pkgs[@]}"); fi
if [[ "${1:-}" == "--packages" ]]; then want=("${@:2}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  # Packaged services (nginx) must not start or hold ports: tests run their
  # own copies.
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

# The schemas the manifest test validates against (tests/e2e/k8s_schemas/README.md):
# exact versions from its package-lock.json, into its node_modules (ignored by git).
if [[ "${1:-}" == "--test" ]]; then
  schemas=$(cd "$(dirname "$0")/.." && pwd)/tests/e2e/k8s_schemas
  if ! cmp -s "$schemas/package-lock.json" "$schemas/node_modules/.installed-lock.json" 2>/dev/null; then
    echo "setup: npm ci in tests/e2e/k8s_schemas"
    (cd "$schemas" && npm ci --no-audit --no-fund --loglevel=error &&
      cp package-lock.json node_modules/.installed-lock.json)
  fi
fi
