#!/usr/bin/env bash
# docker_image_test.sh: builds the repository's Dockerfile with a real Docker
# engine and runs the image, as a user would:
#   - the image builds (base images made locally, see below);
#   - the container serves /-/healthy on a port published on 127.0.0.1 only;
#   - /probe works (a loopback target inside the container: its own
#     /-/healthy) with a module from a mounted config file, while an extra
#     flag (--log.level=debug) is given: extra flags keep the config file;
#   - `docker run IMAGE --config.check` checks the baked config file;
#   - PID 1 runs as a non-root uid;
#   - the image's HEALTHCHECK command turns the container healthy (run
#     every 1 s here instead of every 30 s), and the same
#     check fails against a port nothing listens on;
#   - canary_exporter_build_info's revision is the checkout's git revision.
#
# Needs root, docker.io, debootstrap and iptables (scripts/setup.sh --test).
# Without them it FAILS (CI has them); run it alone with `ctest -L docker`.
#
# The test starts its own dockerd (overlay2) and stops it by its PID at the
# end. Its data root, CANARY_DOCKER_STATE (default
# /var/cache/canary_exporter-test), is a cache kept between runs: the Debian
# base images and the build cache of the package-install layers. A flock
# there serializes concurrent runs. Base images missing from it are made
# with `debootstrap --variant=minbase bookworm` from the mirror apt is
# configured with, and `docker import`ed under the names the Dockerfile's
# FROM lines use. Containers and the image this test builds are removed.
#
# Usage: docker_image_test.sh [path/to/canary_exporter]   (the argument,
# which ctest passes to every e2e script, is not used: the image builds its
# own binary from the source tree).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
docker=/usr/bin/docker  # an unrelated client may come first on PATH
state=${CANARY_DOCKER_STATE:-/var/cache/canary_exporter-test}
# Socket, pidfile and exec root: one set per state directory.
run_dir=/run/canary_exporter-test-docker-$(printf %s "$state" | md5sum | cut -c1-8)
start=$SECONDS

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
passed=0
ok() {
  echo "ok: $*"
  passed=$((passed + 1))
}
check() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}

# --- preconditions: missing tools are a failure, not a skip ----------------
[[ $(id -u) -eq 0 ]] || fail "needs root to start dockerd (CI runs as root)"
for tool in /usr/bin/docker /usr/sbin/dockerd /usr/sbin/debootstrap \
  /usr/sbin/iptables /usr/bin/curl /usr/bin/flock /usr/bin/git; do
  [[ -x $tool ]] ||
    fail "$tool is missing: scripts/setup.sh --test installs docker.io, debootstrap, iptables, curl"
done
revision=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null) ||
  fail "$root is not a git checkout: the test compares build_info's revision with git's"

mkdir -p "$state" "$run_dir"
exec 9>"$state/lock"
flock -w 900 9 || fail "another run holds $state/lock for over 15 minutes"

tag=canary-exporter-test:$$
container=""
dockerd_pid=""
tmp=$(mktemp -d)
cleanup() {
  local rc=$?
  set +e
  if [[ -n $dockerd_pid ]]; then
    [[ -n $container ]] && "$docker" rm -f "$container" >/dev/null 2>&1
    "$docker" rmi -f "$tag" >/dev/null 2>&1
    "$docker" image prune -f >/dev/null 2>&1  # untagged leftovers only
    # Keeps the base images and the package-install layers; bounds the rest.
    "$docker" builder prune -f --keep-storage 3000000000 >/dev/null 2>&1
    kill -TERM "$dockerd_pid" 2>/dev/null
    for _ in $(seq 1 300); do
      kill -0 "$dockerd_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$dockerd_pid" 2>/dev/null; then
      echo "dockerd $dockerd_pid did not stop in 30 s: killing it" >&2
      kill -KILL "$dockerd_pid"
    fi
    wait "$dockerd_pid" 2>/dev/null
    rm -rf "$run_dir" 2>/dev/null
  fi
  rm -rf "$tmp"
  echo "docker_image_test: $passed checks passed in $((SECONDS - start)) s"
  exit "$rc"
}
trap cleanup EXIT

# --- our own dockerd --------------------------------------------------------
# A fixed pidfile: dockerd itself refuses to start while an earlier one it
# names still runs. fd 9 (the lock) is not inherited by the daemon.
/usr/sbin/dockerd --storage-driver=overlay2 --data-root="$state/docker" \
  --exec-root="$run_dir/exec" --pidfile="$run_dir/dockerd.pid" \
  -H "unix://$run_dir/docker.sock" >"$state/dockerd.log" 2>&1 9>&- &
dockerd_pid=$!
export DOCKER_HOST=unix://$run_dir/docker.sock
export DOCKER_BUILDKIT=1
for _ in $(seq 1 600); do
  "$docker" version >/dev/null 2>&1 && break
  if ! kill -0 "$dockerd_pid" 2>/dev/null; then
    tail -n 20 "$state/dockerd.log" >&2
    dockerd_pid=""
    fail "dockerd exited at start (log above, in $state/dockerd.log)"
  fi
  sleep 0.1
done
"$docker" version >/dev/null || fail "dockerd did not answer within 60 s"
ok "dockerd $dockerd_pid runs (overlay2, data root $state/docker)"

# --- base images: the FROM lines' names, made locally when missing ---------
mapfile -t bases < <(sed -n 's/^FROM[[:space:]]\+\([^[:space:]]\+\).*/\1/p' \
  "$root/Dockerfile" | sort -u)
((${#bases[@]} > 0)) || fail "no FROM line in the Dockerfile"
missing=()
for b in "${bases[@]}"; do
  [[ $b =~ ^debian:(12|bookworm)(-slim)?$ ]] ||
    fail "FROM $b: this test can only make Debian 12 base images"
  "$docker" image inspect "$b" >/dev/null 2>&1 || missing+=("$b")
done
if ((${#missing[@]})); then
  # shellcheck disable=SC2016  # apt's own $(REPO_URI) template
  mirror=$(apt-get indextargets --format '$(REPO_URI)' 'Codename: bookworm' \
    'Identifier: Packages' | head -n1)
  [[ -n $mirror ]] || fail "apt has no bookworm source to debootstrap from"
  t0=$SECONDS
  rootfs=$tmp/rootfs
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" \
    >"$tmp/debootstrap.log" 2>&1 ||
    { tail -n 20 "$tmp/debootstrap.log" >&2; fail "debootstrap from $mirror failed"; }
  # Like Debian's official images: no package lists or downloaded archives.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*
  mkdir -p "$rootfs/var/lib/apt/lists/partial" "$rootfs/var/cache/apt/archives/partial"
  for b in "${missing[@]}"; do
    [[ $b == *-slim ]] || tar -C "$rootfs" -c . | "$docker" import - "$b" >/dev/null
  done
  # The slim variant: no documentation, manual pages or translations, and
  # dpkg told not to install them (as in debian:12-slim).
  rm -rf "$rootfs"/usr/share/{doc,man,info,locale}/*
  mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d"
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
    'path-exclude /usr/share/locale/*' >"$rootfs/etc/dpkg/dpkg.cfg.d/slim"
  for b in "${missing[@]}"; do
    [[ $b != *-slim ]] || tar -C "$rootfs" -c . | "$docker" import - "$b" >/dev/null
  done
  rm -rf "$rootfs"
  ok "made ${missing[*]} with debootstrap from $mirror in $((SECONDS - t0)) s"
else
  ok "base images ${bases[*]} already in the data root"
fi

# --- build ------------------------------------------------------------------
t0=$SECONDS
if ! "$docker" build --progress=plain --build-arg "CANARY_REVISION=$revision" \
  -t "$tag" "$root" >"$tmp/build.log" 2>&1; then
  tail -n 40 "$tmp/build.log" >&2
  fail "docker build failed (last lines above)"
fi
ok "docker build in $((SECONDS - t0)) s"

# --- the baked config file, with extra flags --------------------------------
out=$("$docker" run --rm "$tag" --config.check --log.level=debug 2>&1) ||
  fail "docker run IMAGE --config.check --log.level=debug: $out"
check "--config.check with an extra flag checks the baked file ($out)" \
  grep -q '^config OK: /etc/canary_exporter/config.toml:' <<<"$out"
out=$("$docker" run --rm "$tag" --version 2>&1)
check "--version names the revision $revision ($out)" \
  grep -q "(revision $revision)" <<<"$out"

# --- run: a mounted config file plus an extra flag --------------------------
# The mounted file's only module is docker_test: /probe with it succeeds
# only if the container reads the file despite --log.level=debug.
cat >"$tmp/config.toml" <<'EOF'
[modules.docker_test]
timeout = "2s"
[modules.docker_test.burst]
requests = 3
EOF
chmod 0644 "$tmp/config.toml"
container=$("$docker" run -d --health-interval=1s \
  -p 127.0.0.1::9427 -v "$tmp/config.toml:/etc/canary_exporter/config.toml:ro" \
  "$tag" --log.level=debug)
hostport=$("$docker" port "$container" 9427/tcp | head -n1)
check "the port is published on 127.0.0.1 only ($hostport)" \
  grep -qx '127\.0\.0\.1:[0-9]\+' <<<"$hostport"
base=http://$hostport
for _ in $(seq 1 300); do
  curl -fsS "$base/-/healthy" >/dev/null 2>&1 && break
  [[ $("$docker" inspect -f '{{.State.Running}}' "$container") == true ]] ||
    { "$docker" logs "$container" >&2; fail "the container exited"; }
  sleep 0.1
done
check "/-/healthy answers OK" test "$(curl -fsS "$base/-/healthy")" = OK

probe=$(curl -sS "$base/probe?module=docker_test&target=http://127.0.0.1:9427/-/healthy")
check "/probe of the container's own /-/healthy succeeds with the mounted module" \
  grep -qx 'probe_success 1' <<<"$probe"
check "the burst sent the mounted module's 3 requests" \
  grep -qx 'probe_http_requests_sent 3' <<<"$probe"
logs=$("$docker" logs "$container" 2>&1)
check "the log names the mounted config file" \
  grep -q 'loaded config.*source=/etc/canary_exporter/config.toml' <<<"$logs"
check "--log.level=debug took effect" grep -q 'level=debug.*probe finished' <<<"$logs"

# --- non-root ---------------------------------------------------------------
comm=$("$docker" exec "$container" cat /proc/1/comm)
uids=$("$docker" exec "$container" sed -n 's/^Uid:[[:space:]]*//p' /proc/1/status)
check "PID 1 is canary_exporter ($comm)" test "$comm" = canary_exporter
check "PID 1 runs as uid 65532, not root (Uid: $uids)" \
  test "$(tr -s '[:space:]' ' ' <<<"$uids" | sed 's/ $//')" = "65532 65532 65532 65532"

# --- HEALTHCHECK ------------------------------------------------------------
hc=$("$docker" inspect -f '{{json .Config.Healthcheck.Test}}' "$tag")
check "the image has a HEALTHCHECK ($hc)" grep -q canary_exporter <<<"$hc"
status=""
for _ in $(seq 1 200); do
  status=$("$docker" inspect -f '{{.State.Health.Status}}' "$container")
  [[ $status == healthy ]] && break
  sleep 0.1
done
check "docker reports the container healthy (status: $status)" test "$status" = healthy
if out=$("$docker" exec "$container" /bin/canary_exporter healthcheck \
  --web.listen-address=127.0.0.1:1 2>&1); then
  fail "the healthcheck succeeded against a port nothing listens on: $out"
fi
ok "the healthcheck fails against a port nothing listens on ($out)"

# --- build_info -------------------------------------------------------------
info=$(curl -fsS "$base/metrics" | grep '^canary_exporter_build_info{' || true)
check "build_info's revision is $revision ($info)" \
  grep -q "revision=\"$revision\"" <<<"$info"

echo "docker_image_test: all checks passed"
