#!/usr/bin/env bash
# Builds and runs the test suite under sanitizers (g++ 12, Debian's libasan/libtsan).
#
#   scripts/sanitize.sh asan   # whole suite under ASan+UBSan, in build-asan/ (less the tests
#                              # labelled static: they run none of our binaries)
#   scripts/sanitize.sh tsan   # the concurrency tests under TSan, in build-tsan/
#   scripts/sanitize.sh all    # both, asan first
#
# Exit status is non-zero when a build fails, a test fails or a sanitizer reports anything
# (every sanitizer here halts on its first report). JOBS=N overrides the parallelism (default:
# nproc). Runtimes on the 2-core CI box are in docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${JOBS:-$(nproc)}

usage() {
  echo "usage: scripts/sanitize.sh asan|tsan|all" >&2
  exit 2
}

configure() {  # dir sanitizer
  cmake -S "$root" -B "$root/$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCANARY_BUILD_TESTS=ON -DCANARY_SANITIZE="$2" >/dev/null
}

run_asan() {
  local start=$SECONDS
  configure build-asan address
  cmake --build "$root/build-asan" -j"$jobs"
  # detect_leaks: the suite must also be leak-free. halt_on_error makes any report a failure.
  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:strict_string_checks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$root/build-asan" --output-on-failure -j"$jobs" --timeout 900 -LE static
  echo "sanitize: asan passed in $((SECONDS - start)) s"
}

# The tests that run many threads at once: the exporter's server tests (concurrent probes,
# reloads), the integration bursts, the hostile targets, and the overload tests when present.
tsan_labels='exporter|integration|hostile|overload'

run_tsan() {
  local start=$SECONDS
  configure build-tsan thread
  local targets=()
  for t in exporter_tests integration_tests hostile_tests overload_tests; do
    if ninja -C "$root/build-tsan" -t targets all 2>/dev/null | grep -q "^$t:"; then
      targets+=("$t")
    fi
  done
  cmake --build "$root/build-tsan" -j"$jobs" --target "${targets[@]}"
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:history_size=4:suppressions=$root/scripts/tsan.supp" \
    ctest --test-dir "$root/build-tsan" --output-on-failure -j"$jobs" --timeout 900 \
    -L "$tsan_labels"
  echo "sanitize: tsan passed in $((SECONDS - start)) s"
}

case "${1:-}" in
  asan) run_asan ;;
  tsan) run_tsan ;;
  all) run_asan && run_tsan ;;
  *) usage ;;
esac
