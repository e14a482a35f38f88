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
"$root/scripts/setup.sh" --packages "${pkgs[@]}"

start=$SECONDS
cmake -S "$root" -B "$root/build-tsa" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCANARY_BUILD_TESTS=ON \
  -DCMAKE_CXX_FLAGS="-Wthread-safety -Wthread-safety-beta -Werror=thread-safety -Werror=thread-safety-beta" \
  >/dev/null
cmake --build "$root/build-tsa" -j"$jobs"
echo "thread_safety: clean in $((SECONDS - start)) s"
