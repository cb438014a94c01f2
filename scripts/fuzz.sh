#!/usr/bin/env bash
# fuzz.sh: builds the libFuzzer targets in tests/fuzz/ with clang (address
# and undefined-behaviour sanitizers on) and runs each one for a bounded
# time on a copy of its seed corpus. Usage: scripts/fuzz.sh [SECONDS]
# (default 30 per target). Exits non-zero when a target crashes.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-30}"
case "$seconds" in
  ''|*[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] (got '$seconds')" >&2
               exit 2 ;;
esac
scripts/deps.sh lint
command -v clang >/dev/null || { echo "fuzz.sh: clang is needed" >&2; exit 1; }

out=build-fuzz
mkdir -p "$out"
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -D_GNU_SOURCE -std=c11 -Icore/include)
clang "${flags[@]}" core/src/csv.c tests/fuzz/fuzz_csv.c -o "$out/fuzz_csv"
# The option parser links the core library (placement names need hwloc).
# shellcheck disable=SC2046
clang "${flags[@]}" -Ibench -Ibench/cli core/src/*.c bench/cli/options.c \
  bench/cli/text.c \
  tests/fuzz/fuzz_options.c $(pkg-config --cflags --libs hwloc libcpuid) \
  -lpthread -lm -o "$out/fuzz_options"

for target in csv options; do
  corpus="$out/corpus-$target"
  rm -rf "$corpus"
  cp -r "tests/fuzz/corpus/$target" "$corpus"
  echo "fuzz.sh: $target for ${seconds} s"
  status=0
  # close_fd_mask=2: the targets' own stderr (bad-input messages) is
  # dropped; libFuzzer's report still reaches the log.
  "$out/fuzz_$target" -max_total_time="$seconds" -print_final_stats=1 \
    -close_fd_mask=2 \
    -artifact_prefix="$out/crash-$target-" "$corpus" >"$out/$target.log" 2>&1 ||
    status=$?
  grep -E "^Done|number_of_executed_units|ERROR|SUMMARY" "$out/$target.log" || true
  if [ "$status" -ne 0 ]; then
    echo "fuzz.sh: $target crashed (status $status); see $out/$target.log" >&2
    exit 1
  fi
done
