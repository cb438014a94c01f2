#!/usr/bin/env bash
# quickstart.sh: installs what is missing, builds syncmark, runs the quick
# suite on this machine, renders its figures and writes REPORT.md (the
# lesson's claims with verdicts) into the run folder.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# A run that exits 1 (a case failed or hung) still wrote the others: plot
# and report them, then exit 1. Bad input (2) or an interrupt stops here.
status=0
build/bench/syncmark run --quick "$@" | tee "$log" || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
  exit "$status"
fi
run_dir=$(sed -n 's/^results: //p' "$log" | tail -n 1)
if [ -z "$run_dir" ]; then
  echo "quickstart.sh: the run wrote no results folder" >&2
  exit 1
fi
build/bench/syncmark plot "$run_dir"
build/bench/syncmark report "$run_dir"
echo "quickstart.sh: done; read $run_dir/REPORT.md"
if [ "$status" -ne 0 ]; then
  echo "quickstart.sh: some cases failed; see problems.csv in $run_dir" >&2
fi
exit "$status"
