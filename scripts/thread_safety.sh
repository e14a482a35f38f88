#!/usr/bin/env bash
# Builds everything (product and tests) with clang-14's thread-safety analysis as errors, into
# build-tsa/: every lock is canary::Mutex (base/sync.h), annotated with Abseil's
# ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED, and this build proves the annotations hold.
#
#   scripts/thread_safety.sh
#
# Exit status is non-zero when the build fails or the analysis reports anything. JOBS=N overrides
# the parallelism (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${JOBS:-$(nproc)}

pkgs=(clang-14)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "thread_safety: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -o DPkg::Lock::Timeout=300 -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 \
    "${missing[@]}"
fi

start=$SECONDS
cmake -S "$root" -B "$root/build-tsa" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCANARY_BUILD_TESTS=ON \
  -DCMAKE_CXX_FLAGS="-Wthread-safety -Wthread-safety-beta -Werror=thread-safety -Werror=thread-safety-beta" \
  >/dev/null
cmake --build "$root/build-tsa" -j"$jobs"
echo "thread_safety: clean in $((SECONDS - start)) s"
