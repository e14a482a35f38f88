#!/usr/bin/env bash
# dockerfile_test.sh: checks the Dockerfile's structure in seconds, without
# a Docker engine (docker_image_test.sh builds and runs the image for real):
# a Debian 12 build stage that installs with scripts/setup.sh and takes the
# revision as a build arg, a Debian 12 slim runtime stage installing only
# scripts/runtime-packages.txt, a non-root USER, EXPOSE of the default port,
# the binary as ENTRYPOINT with the baked-in config file as the default of
# --config.file through CANARY_CONFIG_FILE (not a CMD, which any `docker run`
# flag would replace), a HEALTHCHECK by the binary itself; and that the
# runtime package list covers every library the built binary needs.
# Usage: dockerfile_test.sh path/to/canary_exporter
set -euo pipefail

bin=${1:?usage: dockerfile_test.sh path/to/canary_exporter}
root=$(cd "$(dirname "$0")/../.." && pwd)
df=$root/Dockerfile
pkgs=$root/scripts/runtime-packages.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }
check() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

# Joins continuation lines so each instruction is one line.
sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' "$df" | grep -v '^[[:space:]]*#' |
  grep -v '^[[:space:]]*$' >"$tmp/instructions"
mapfile -t froms < <(grep -n '^FROM ' "$tmp/instructions")
check "two stages" test "${#froms[@]}" -eq 2
check "the build stage is Debian 12, named build" \
  grep -qE '^FROM debian:12 AS build$' <<<"${froms[0]#*:}"
check "the runtime stage is Debian 12 slim" \
  grep -qE '^FROM debian:12-slim$' <<<"${froms[1]#*:}"

runtime_start=${froms[1]%%:*}
head -n $((runtime_start - 1)) "$tmp/instructions" >"$tmp/build"
tail -n +"$runtime_start" "$tmp/instructions" >"$tmp/runtime"

check "the build stage installs with scripts/setup.sh" \
  grep -qE '^RUN scripts/setup\.sh( |$)' "$tmp/build"
check "the README's commands use the same setup script" \
  grep -q 'scripts/setup.sh' "$root/scripts/run.sh" "$root/scripts/test.sh"
check "the build stage builds canary_exporter" \
  grep -qE 'cmake --build .*--target canary_exporter' "$tmp/build"
check "the build stage passes the CANARY_REVISION build arg to cmake" \
  grep -qE '^ARG CANARY_REVISION' "$tmp/build"
# shellcheck disable=SC2016  # the Dockerfile's literal ${CANARY_REVISION}
check "cmake gets -DCANARY_REVISION from it" \
  grep -q -- '-DCANARY_REVISION="${CANARY_REVISION}"' "$tmp/build"
check ".git stays out of the build context" grep -qx '.git' "$root/.dockerignore"
check "the build stage checks the baked-in default config" \
  grep -q -- '--config.dump-default > /config.toml.*--config.check --config.file=/config.toml' \
  "$tmp/build"

check "the runtime stage installs scripts/runtime-packages.txt" \
  grep -q 'COPY scripts/runtime-packages.txt' "$tmp/runtime"
no_dev_in_runtime() { ! grep -qE -- '-dev( |$)|setup\.sh' "$tmp/runtime"; }
no_dev_listed() { ! grep -v '^#' "$pkgs" | grep -q -- '-dev$'; }
check "the runtime stage installs no -dev package and not setup.sh" no_dev_in_runtime
check "the runtime package list has no -dev package" no_dev_listed
check "apt lists are cleaned in the runtime stage" \
  grep -q 'rm -rf /var/lib/apt/lists' "$tmp/runtime"

user=$(grep '^USER ' "$tmp/runtime" | tail -n 1 | awk '{print $2}')
check "the runtime stage sets USER" test -n "$user"
not_root() { [[ -n "$user" && "${user%%:*}" != root && "${user%%:*}" != 0 ]]; }
user_after_runs() {
  local last_run user_at
  last_run=$(grep -n '^RUN ' "$tmp/runtime" | tail -n1 | cut -d: -f1)
  user_at=$(grep -n '^USER ' "$tmp/runtime" | tail -n1 | cut -d: -f1)
  ((user_at > last_run))
}
check "USER is not root" not_root
check "USER comes after every RUN (nothing runs as root after it)" user_after_runs

check "EXPOSE 9427, the default listen port" grep -qx 'EXPOSE 9427' "$tmp/runtime"
default_port() { "$bin" --help | grep -q '":9427"'; }
check "the binary's default port is 9427" default_port
check "ENTRYPOINT is the binary, exec form" \
  grep -qx 'ENTRYPOINT \["/bin/canary_exporter"\]' "$tmp/runtime"
no_cmd() { ! grep -q '^CMD ' "$tmp/runtime"; }
check "no CMD: flags given to docker run replace nothing" no_cmd
check "CANARY_CONFIG_FILE names the baked-in config file" \
  grep -qx 'ENV CANARY_CONFIG_FILE=/etc/canary_exporter/config.toml' "$tmp/runtime"
check "the binary reads CANARY_CONFIG_FILE" \
  grep -q 'kConfigFileEnv\[\] = "CANARY_CONFIG_FILE"' "$root/exporter/process/flags.h"
check "the config file is copied to where CANARY_CONFIG_FILE points" \
  grep -qx 'COPY --from=build /config.toml /etc/canary_exporter/config.toml' "$tmp/runtime"
check "the binary is copied from the build stage" \
  grep -qx 'COPY --from=build /build/canary_exporter /bin/canary_exporter' "$tmp/runtime"
check "HEALTHCHECK runs the binary's own healthcheck, exec form" \
  grep -qE '^HEALTHCHECK .*CMD \["/bin/canary_exporter", "healthcheck"\]$' "$tmp/runtime"
entrypoint_last() { tail -n1 "$tmp/runtime" | grep -q '^ENTRYPOINT'; }
check "ENTRYPOINT comes last" entrypoint_last
healthcheck_usage() { "$bin" healthcheck --help | grep -q 'usage: canary_exporter healthcheck'; }
check "the binary has the healthcheck subcommand" healthcheck_usage

# What the build stage does with the default config, done here for real.
"$bin" --config.dump-default >"$tmp/config.toml"
check "--config.dump-default prints the embedded default" \
  grep -q '^\[modules.canary\]' "$tmp/config.toml"
check "the dumped default passes --config.check" \
  "$bin" --config.check --config.file="$tmp/config.toml"

# Every library the binary links comes from a listed package or from the
# base image (debian:12-slim has libc6, libstdc++6, libgcc-s1, zlib1g,
# libcrypt1).
base="libc6 libstdc++6 libgcc-s1 zlib1g libcrypt1"
listed=$(grep -v '^#' "$pkgs" | tr '\n' ' ')
if command -v readelf >/dev/null && command -v dpkg >/dev/null; then
  missing=()
  while read -r lib; do
    # A sanitizer build (scripts/sanitize.sh) links its runtime; the image
    # ships a normal build, which does not.
    case "$lib" in libasan.so.* | libubsan.so.* | libtsan.so.*) continue ;; esac
    path=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF}' | head -n1)
    if [[ -z "$path" ]]; then
      missing+=("$lib(unresolved)")
      continue
    fi
    # usrmerge: dpkg knows each file under one of /lib and /usr/lib.
    pkg=""
    for p in "$(readlink -f "$path")" "$path" "${path/#\/usr\/lib/\/lib}" \
      "/usr$(readlink -f "$path")"; do
      pkg=$(dpkg -S "$p" 2>/dev/null | head -n1 | cut -d: -f1 || true)
      [[ -n "$pkg" ]] && break
    done
    if [[ " $base $listed " != *" $pkg "* ]]; then missing+=("$lib($pkg)"); fi
  done < <(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  check "runtime-packages.txt covers every NEEDED library${missing:+: missing ${missing[*]}}" \
    test "${#missing[@]}" -eq 0
else
  echo "skip: readelf or dpkg not available for the library check"
fi

echo "dockerfile_test: $passed passed, $failed failed"
((failed == 0))
