#!/usr/bin/env bash
# fleet.sh: syncmark on a fleet of hosts, collected into one database.
# Runs deploy/site.yml on every host of an Ansible inventory, collects the
# fetched run folders into one database and writes the across report.
# Usage: scripts/fleet.sh [INVENTORY] [--profile tiny|quick|default]
#          [--db FILE] [--out DIR] [-- ANSIBLE-PLAYBOOK-ARGS...]
# INVENTORY defaults to deploy/inventory.ini (start from
# deploy/inventory.example.ini); --profile to each host's syncmark_profile
# (quick unless the inventory says otherwise); --db to results/syncmark.db;
# --out, where the run folders land (DIR/<inventory host>/<host>/<stamp>/)
# and REPORT-across.md is written, to results/fleet. Arguments after -- go
# to ansible-playbook (-K for a sudo password, --limit HOSTS, -e VAR=V).
# Exit status: 0 every host delivered a complete run; 1 a host failed or
# was unreachable (each named on one line; the database and the report
# hold the others), a run had failed cases, or collect or report failed;
# 2 bad input.
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."
root=$PWD

usage() {
  sed -n '5,16p' "$0" | sed 's/^# \{0,1\}//'
}
bad() {
  echo "fleet.sh: $*" >&2
  exit 2
}
# A path the user gave, relative to where fleet.sh was started.
from_caller() {
  case "$1" in /*|"") printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$caller" "$1" ;; esac
}

inventory=""
inventory_arg=""
profile=""
db=results/syncmark.db
out=results/fleet
profiles="tiny quick default"
while [ $# -gt 0 ]; do
  case "$1" in
    --profile|--db|--out)
      [ $# -ge 2 ] || bad "$1 needs a value"
      case "$1" in
        --profile) profile=$2 ;;
        --db) db=$(from_caller "$2") ;;
        --out) out=$(from_caller "$2") ;;
      esac
      shift 2 ;;
    --profile=*) profile=${1#*=}; shift ;;
    --db=*) db=$(from_caller "${1#*=}"); shift ;;
    --out=*) out=$(from_caller "${1#*=}"); shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    -*) bad "unknown option '$1' (allowed: --profile, --db, --out, -- ANSIBLE-PLAYBOOK-ARGS)" ;;
    *)
      [ -z "$inventory" ] || bad "one inventory only (got '$inventory_arg' and '$1')"
      inventory=$(from_caller "$1"); inventory_arg=$1; shift ;;
  esac
done
inventory_arg=${inventory_arg:-deploy/inventory.ini}
inventory=${inventory:-$root/deploy/inventory.ini}
if [ ! -f "$inventory" ]; then
  if [ "$inventory_arg" = deploy/inventory.ini ]; then
    bad "inventory '$inventory_arg' does not exist; copy deploy/inventory.example.ini to it and list your hosts, or name an inventory file"
  fi
  bad "inventory '$inventory_arg' does not exist or is not a file"
fi
if [ -n "$profile" ] && ! [[ " $profiles " == *" $profile "* ]]; then
  bad "unknown profile '$profile' (allowed: ${profiles// /, })"
fi
[ -n "$db" ] || bad "--db needs a file name"
[ -n "$out" ] || bad "--out needs a folder"

# The controller: ansible-core and the packages syncmark needs, and a build
# of syncmark for collect and report.
scripts/deps.sh fleet
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSYNCMARK_TESTS=OFF >/dev/null
fi
cmake --build build -j"$(nproc)" >/dev/null
syncmark=$root/build/bench/syncmark

mkdir -p "$out"
out=$(cd "$out" && pwd)
case "$db" in /*) ;; *) db=$root/$db ;; esac

# One fleet.sh at a time per output folder.
exec 9>"$out/.fleet.lock"
flock -n 9 || { echo "fleet.sh: another fleet.sh is writing $out" >&2; exit 1; }

# The hosts this invocation runs on (the inventory, after any --limit).
list_status=0
listing=$(ANSIBLE_CONFIG=deploy/ansible.cfg ANSIBLE_LOCALHOST_WARNING=False \
  ansible-playbook -i "$inventory" deploy/site.yml --list-hosts "$@" 2>&1) ||
  list_status=$?
if [ "$list_status" -ne 0 ]; then
  why=$(printf '%s\n' "$listing" | grep -i 'error' | tail -n 1)
  bad "ansible-playbook refuses inventory '$inventory_arg'${*:+ with '$*'}: ${why:-status $list_status}"
fi
hosts=$(printf '%s\n' "$listing" | awk '
  /^  play #[0-9]+ .*: Run syncmark on every host/ { play = 1; next }
  play && /^    hosts \(/ { list = 1; next }
  list && NF == 0 { exit }
  list { print $1 }' | sort | tr '\n' ' ' | sed 's/ $//')
[ -n "$hosts" ] || bad "inventory '$inventory_arg' lists no hosts${*:+ (with '$*')}"

run_folders() {
  find "$out" -mindepth 3 -maxdepth 3 -type d -name '[0-9]*-[0-9]*' | sort
}
before=$(run_folders)
status_file="$out/status.tsv"
rm -f "$status_file"

extra=(-e "syncmark_fleet_dir=$out")
[ -z "$profile" ] || extra+=(-e "syncmark_profile=$profile")
echo "fleet.sh: hosts $hosts${profile:+, profile $profile}"
ansible_status=0
ANSIBLE_CONFIG=deploy/ansible.cfg SYNCMARK_FLEET_STATUS="$status_file" \
  ansible-playbook -i "$inventory" deploy/site.yml "${extra[@]}" "$@" ||
  ansible_status=$?

# Collect what arrived, even when some host failed.
status=0
new=$(comm -13 <(printf '%s\n' "$before") <(run_folders) | sed '/^$/d')
if [ -n "$new" ]; then
  mapfile -t folders <<<"$new"
  "$syncmark" collect "${folders[@]}" --db "$db" || status=1
  for f in "${folders[@]}"; do
    run_status=$(sed -n 's/^status,//p' "$f/machine.csv")
    if [ "$run_status" != complete ]; then
      host=${f#"$out"/}
      # The first case that failed, hung or crashed, and why.
      first=$(python3 - "$f/problems.csv" <<'PY' 2>/dev/null || true
import csv, sys
for r in csv.DictReader(open(sys.argv[1], newline="")):
    if r["status"] != "skipped":
        print(f'{r["benchmark"]}/{r["variant"]} {r["params"]} threads='
              f'{r["threads"]} {r["status"]}: {r["reason"]}')
        break
PY
)
      echo "fleet.sh: host ${host%%/*}: its run is '$run_status'${first:+: $first} ($f/problems.csv)" >&2
      status=1
    fi
  done
fi
report="$out/REPORT-across.md"
rm -f "$report"
if [ -f "$db" ]; then
  "$syncmark" report --across "$db" --markdown "$report" || status=1
fi

# Each host that did not deliver, on one line.
if [ -f "$status_file" ]; then
  while IFS=$'\t' read -r host state task msg; do
    [ "$state" = ok ] && continue
    task=${task#syncmark : }
    if [ "$host" = localhost ] && [[ " $hosts " != *" localhost "* ]]; then
      echo "fleet.sh: the controller FAILED (at \"$task\"): $msg" >&2
    else
      echo "fleet.sh: host $host ${state^^} at \"$task\": $msg" >&2
    fi
    status=1
  done <"$status_file"
  for host in $hosts; do
    awk -F'\t' -v h="$host" '$1 == h { found = 1 } END { exit !found }' \
      "$status_file" ||
      { echo "fleet.sh: host $host NOT RUN: the playbook stopped before it" >&2; status=1; }
  done
else
  echo "fleet.sh: ansible-playbook stopped (status $ansible_status) before any host ran" >&2
  [ "$ansible_status" -eq 5 ] && exit 2
  exit 1
fi
if [ "$ansible_status" -ne 0 ] && [ "$status" -eq 0 ]; then
  echo "fleet.sh: ansible-playbook exited $ansible_status" >&2
  status=1
fi
delivered=$(printf '%s\n' "$new" | sed '/^$/d' | wc -l)
[ -f "$report" ] || report="not written"
echo "fleet.sh: $delivered run folder(s) fetched into $out; database $db; report $report"
exit "$status"
