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
build/bench/syncmark run --quick "$@" | tee "$log"
run_dir=$(sed -n 's/^results: //p' "$log" | tail -n 1)
if [ -z "$run_dir" ]; then
  echo "quickstart.sh: the run wrote no results folder" >&2
  exit 1
fi
build/bench/syncmark plot "$run_dir"
build/bench/syncmark report "$run_dir"
echo "quickstart.sh: done; read $run_dir/REPORT.md"
