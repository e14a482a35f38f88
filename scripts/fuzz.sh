#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz) with clang-14 into build-fuzz/ and runs each one.
#
#   scripts/fuzz.sh                      # every harness, 60 s each
#   scripts/fuzz.sh --seconds 600        # longer
#   scripts/fuzz.sh --seconds 30 exposition threshold   # some harnesses only
#
# Harnesses: config_loader threshold target_query exposition. Each starts from its seed corpus
# in tests/fuzz/corpus/<name>/ (read only) and writes new inputs to build-fuzz/corpus/<name>/;
# a crash leaves build-fuzz/artifacts/<name>/crash-* and makes the script fail. Re-run one input
# with: build-fuzz/tests/fuzz/<name>_fuzz <file>. See docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# FUZZ package list: the compiler, its sanitizer runtimes and libFuzzer (Debian 12).
fuzz_pkgs=(clang-14 libclang-rt-14-dev libfuzzer-14-dev)

seconds=60
harnesses=()
while (($#)); do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) harnesses+=("$1"); shift ;;
  esac
done
if ((${#harnesses[@]} == 0)); then
  harnesses=(config_loader threshold target_query exposition)
fi

"$root/scripts/setup.sh" --packages "${fuzz_pkgs[@]}"

CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$root/build-fuzz" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCANARY_BUILD_TESTS=OFF -DCANARY_FUZZ=ON >/dev/null
targets=()
for h in "${harnesses[@]}"; do targets+=("${h}_fuzz"); done
cmake --build "$root/build-fuzz" -j"${JOBS:-$(nproc)}" --target "${targets[@]}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for h in "${harnesses[@]}"; do
  corpus="$root/build-fuzz/corpus/$h"
  artifacts="$root/build-fuzz/artifacts/$h/"
  mkdir -p "$corpus" "$artifacts"
  echo "fuzz: $h for ${seconds}s"
  # New inputs go to the first directory; the seeds in the tree are only read.
  if ! "$root/build-fuzz/tests/fuzz/${h}_fuzz" "$corpus" "$root/tests/fuzz/corpus/$h" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
      -artifact_prefix="$artifacts" -print_final_stats=1 2>"$root/build-fuzz/$h.log"; then
    echo "fuzz: $h FAILED; see build-fuzz/$h.log and $artifacts" >&2
    tail -40 "$root/build-fuzz/$h.log" >&2
    status=1
  else
    grep -E "^stat::number_of_executed_units|^stat::new_units_added" "$root/build-fuzz/$h.log" \
      | sed "s/^/fuzz: $h /"
  fi
done
exit $status
