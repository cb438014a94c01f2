#!/usr/bin/env bash
# check_families.sh: fails when a family under bench/families times itself:
# a direct clock read (clock_gettime, sm_now_ns, rdtsc, a CLOCK_ constant),
# getrusage, or a family-level .measure (a variant's .measure, for a peer
# program that cannot be a worker loop, is allowed), or when a family file
# does not define its family with SM_FAMILY_DEFINE (where the .measure
# check looks). The runner owns every timing; a family measures through
# SM_MEASURED_LOOP, the sampling and manual-time hooks, and its metrics
# hook.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
for f in bench/families/*.c; do
  definition=$(awk '/^SM_FAMILY_DEFINE\(/,/\);$/' "$f")
  if [ -z "$definition" ]; then
    echo "check_families.sh: $f has no SM_FAMILY_DEFINE( at the start of a line" >&2
    status=1
    continue
  fi
  hits=$(grep -nE 'clock_gettime|sm_now_ns\(|rdtsc|getrusage|CLOCK_[A-Z]+' "$f" || true)
  # A family-level .measure, looked for inside the family's definition.
  measure=$(printf '%s\n' "$definition" | grep -nE '\.measure\s*=' || true)
  [ -z "$hits$measure" ] && continue
  echo "check_families.sh: $f times itself; the runner must:" >&2
  printf '%s\n' "$hits" "$measure" | sed '/^$/d; s/^/  /' >&2
  status=1
done
[ "$status" -eq 0 ] && echo "check_families.sh: no family times itself"
exit "$status"
