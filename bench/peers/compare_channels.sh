#!/usr/bin/env bash
# compare_channels.sh: runs the syncmark and Rust std::sync::mpsc channel peers alternately and tabulates median msgs/s and their ratio.
#
# usage: bench/peers/compare_channels.sh OUT.csv [BUILD_DIR]
#   OUT.csv    where the raw rows go (results/README.md's raw.csv schema)
#   BUILD_DIR  the CMake build folder holding bench/peers/mpsc-{c,rust}
#              (default: build/ at the repository root)
# Environment: ROUNDS (default 5) rounds of REPS (default 3) repetitions per
# peer and configuration. Within a round every configuration runs the C peer
# and then the Rust peer, so slow drifts in machine load hit both alike.
# No taskset: it pins a whole process, so on a 2-PU machine it can only give
# both PUs (what both peers get anyway) or one (a different benchmark, where
# producers and consumer time-share a PU). Both peers run unpinned alike.
set -euo pipefail

usage() {
  echo "compare_channels.sh: $1" >&2
  echo "usage: compare_channels.sh OUT.csv [BUILD_DIR]" >&2
  exit 2
}

[[ $# -ge 1 && $# -le 2 ]] || usage "expected OUT.csv and optionally BUILD_DIR"
out=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${2:-$root/build}
c_peer=$build/bench/peers/mpsc-c
rust_peer=$build/bench/peers/mpsc-rust
for peer in "$c_peer" "$rust_peer"; do
  [[ -x $peer ]] || usage "peer '$peer' is not built (build the peer-mpsc-c \
and peer-mpsc-rust targets; the Rust one needs rustc on PATH at configure time)"
done
rounds=${ROUNDS:-5}
reps=${REPS:-3}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || usage "ROUNDS '$rounds' is not allowed (a positive integer)"
[[ $reps =~ ^[1-9][0-9]*$ ]] || usage "REPS '$reps' is not allowed (a positive integer)"

# Configurations: capacity producers messages-per-producer.
configs=(
  "unbounded 1 2000000" "unbounded 2 2000000"
  "1024 1 2000000" "1024 2 2000000"
  "0 1 50000" "0 2 50000"
)

rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
echo "load before: $(uptime)"
for ((round = 1; round <= rounds; round++)); do
  for config in "${configs[@]}"; do
    read -r cap p m <<<"$config"
    for peer in "$c_peer" "$rust_peer"; do
      # A failed self-check (exit 1) or bad argument (2) stops the script.
      if ! "$peer" --producers "$p" --capacity "$cap" --messages "$m" \
        --reps "$reps" >>"$rows"; then
        echo "compare_channels.sh: $peer failed (capacity $cap," \
          "$p producers)" >&2
        exit 1
      fi
    done
  done
  echo "round $round/$rounds done" >&2
done
echo "load after:  $(uptime)"

# Rounds renumber the reps 1..rounds*reps per case, keeping run order.
{
  echo "benchmark,variant,params,threads,placement,cpus,rep,metric,value,unit"
  awk -F, -v OFS=, '{ $7 = ++n[$2 FS $3 FS $4]; print }' "$rows"
} >"$out.tmp.$$"
mv "$out.tmp.$$" "$out"

# Median per (variant, params, threads); the table pairs the two variants.
printf '\n%-28s %14s %14s %8s %8s\n' configuration syncmark rust_std_mpsc \
  ratio target
for config in "${configs[@]}"; do
  read -r cap p m <<<"$config"
  params="capacity=$cap;size=8"
  median() {
    awk -F, -v v="$1" -v pa="$params" -v t="$((p + 1))" \
      '$2 == v && $3 == pa && $4 == t { print $9 }' "$rows" | sort -g |
      awk '{ x[NR] = $1 } END { if (NR % 2) print x[(NR + 1) / 2];
             else print (x[NR / 2] + x[NR / 2 + 1]) / 2 }'
  }
  c=$(median syncmark)
  r=$(median rust_std_mpsc)
  target=1.2
  [[ $cap == 0 ]] && target=1.0
  awk -v cfg="cap=$cap p=$p m=$m" -v c="$c" -v r="$r" -v t="$target" \
    'BEGIN { q = c / r; printf "%-28s %14.0f %14.0f %8.2f %6s%s\n", cfg, c, r,
             q, ">=" t, (q >= t ? "" : "  MISSED") }'
done
echo "rows: $out"
