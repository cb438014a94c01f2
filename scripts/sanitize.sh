#!/usr/bin/env bash
# sanitize.sh: builds syncmark and its tests under a sanitizer and runs every
# test through ctest. Usage: scripts/sanitize.sh thread|address
#   thread   ThreadSanitizer (tests run on the Criterion-compatible runner in
#            tests/tsan_shim/, since Criterion cannot start under TSan)
#   address  AddressSanitizer with UndefinedBehaviorSanitizer
set -euo pipefail
cd "$(dirname "$0")/.."

san="${1:-}"
case "$san" in
  thread) flags=(-DSYNCMARK_TSAN=ON) ;;
  address) flags=(-DSYNCMARK_ASAN=ON -DSYNCMARK_UBSAN=ON) ;;
  *) echo "usage: scripts/sanitize.sh thread|address (got '$san')" >&2; exit 2 ;;
esac
shift
scripts/deps.sh
cmake -S . -B "build-$san" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${flags[@]}" \
  >/dev/null
cmake --build "build-$san" -j"$(nproc)"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
export UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1"
ctest --test-dir "build-$san" --output-on-failure "$@"
