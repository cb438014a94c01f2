#!/usr/bin/env bash
# check_families.sh: fails when a family under bench/families times itself:
# a direct clock read (clock_gettime, sm_now_ns, rdtsc, a CLOCK_ constant),
# getrusage, or a family-level .measure (a variant's .measure, for a peer
# program that cannot be a worker loop, is allowed). The runner owns every
# timing; a family measures through SM_MEASURED_LOOP, the sampling and
# manual-time hooks, and its metrics hook. Families still being moved onto the runner
# are listed in PENDING and reported, not failed; the list only shrinks.
set -euo pipefail
cd "$(dirname "$0")/.."

# Families that still measure themselves (each to move onto the runner).
PENDING=(ctxswitch sleep wake)

status=0
for f in bench/families/*.c; do
  name=$(basename "$f" .c)
  hits=$(grep -nE 'clock_gettime|sm_now_ns\(|rdtsc|getrusage|CLOCK_[A-Z]+' "$f" || true)
  # A family-level .measure (a variant's own, for a peer program, is
  # allowed): looked for inside the sm_family definition only.
  measure=$(awk '/^const struct sm_family sm_family_/,/^};/' "$f" |
            grep -nE '^\s*\.measure\s*=' || true)
  [ -z "$hits$measure" ] && continue
  if printf '%s\n' "${PENDING[@]}" | grep -qx "$name"; then
    echo "check_families.sh: $name still times itself (pending)"
    continue
  fi
  echo "check_families.sh: $f times itself; the runner must:" >&2
  printf '%s\n' "$hits" "$measure" | sed '/^$/d; s/^/  /' >&2
  status=1
done
for name in "${PENDING[@]}"; do
  [ -f "bench/families/$name.c" ] || continue
  if ! grep -qE 'clock_gettime|sm_now_ns\(|rdtsc|getrusage|CLOCK_[A-Z]+' \
       "bench/families/$name.c" &&
     ! awk '/^const struct sm_family sm_family_/,/^};/' "bench/families/$name.c" |
       grep -qE '^\s*\.measure\s*='; then
    echo "check_families.sh: $name no longer times itself: remove it from PENDING" >&2
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "check_families.sh: no family outside PENDING times itself"
exit "$status"
