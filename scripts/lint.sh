#!/usr/bin/env bash
# lint.sh: runs cppcheck and clang-tidy over core/ and bench/ (not tests/)
# and exits 1 on any finding. The checks are pinned here (cppcheck) and in
# .clang-tidy; a false positive is suppressed where it occurs, with its
# reason (cppcheck-suppress, NOLINTNEXTLINE). clang-tidy takes the compiler
# flags from build-lint/ (configured; only its generated header is built).
# Usage: scripts/lint.sh [cppcheck|clang-tidy]; LINT_JOBS (default 2) sets
# how many files are checked at once.
set -euo pipefail
cd "$(dirname "$0")/.."

only="${1:-}"
case "$only" in
  ""|cppcheck|clang-tidy) ;;
  *) echo "usage: scripts/lint.sh [cppcheck|clang-tidy] (got '$only')" >&2
     exit 2 ;;
esac
jobs="${LINT_JOBS:-2}"
scripts/deps.sh lint

# The sources; the headers of core/include, core/src and bench are checked
# where these include them.
files=(core/src/*.c bench/*.c bench/cli/*.c bench/harness/*.c bench/report/*.c
       bench/families/*.c)
what="${#files[@]} files: core/src/*.c, bench/{,cli,harness,report,families}/*.c and"
what+=" the headers they include"
status=0
start=$SECONDS

if [ -z "$only" ] || [ "$only" = cppcheck ]; then
  classes=warning,style,performance,portability
  echo "lint.sh: $(cppcheck --version) ($classes) on $what"
  t=$SECONDS
  cppcheck --quiet --enable="$classes" --std=c11 -D_GNU_SOURCE -D__CPPCHECK__ \
    -Icore/include -Ibench -Ibench/cli -Ibench/harness -Ibench/report \
    --inline-suppr --error-exitcode=1 -j"$jobs" \
    "${files[@]}" 2>&1 || status=1
  echo "lint.sh: cppcheck $([ "$status" -eq 0 ] && echo clean ||
    echo found the above), $((SECONDS - t)) s"
fi

if [ -z "$only" ] || [ "$only" = clang-tidy ]; then
  cmake -S . -B build-lint -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
    -DSYNCMARK_TESTS=OFF >/dev/null
  # The one generated header (the build's commit) must exist to be read.
  cmake --build build-lint --target syncmark-git-commit >/dev/null
  version=$(clang-tidy --version | sed -n 's/.*LLVM version \([^ ]*\).*/\1/p')
  checks=$(clang-tidy --list-checks -p build-lint "${files[0]}" |
           grep -c '^    ')
  echo "lint.sh: clang-tidy $version (.clang-tidy: $checks checks) on $what"
  t=$SECONDS
  tidy=0
  # --quiet still reports, on stderr, the count of warnings it suppressed.
  printf '%s\n' "${files[@]}" |
    xargs -P"$jobs" -n1 clang-tidy -p build-lint --quiet \
      2> >(grep -v '^[0-9]* warnings\? generated\.$' >&2) || tidy=1
  echo "lint.sh: clang-tidy $([ "$tidy" -eq 0 ] && echo clean ||
    echo found the above), $((SECONDS - t)) s"
  [ "$tidy" -eq 0 ] || status=1
fi

echo "lint.sh: $([ "$status" -eq 0 ] && echo clean || echo FAILED)" \
     "after $((SECONDS - start)) s"
exit "$status"
