#!/usr/bin/env python3
"""check_fleet.py: checks what scripts/fleet.sh left after the CI fleet
(deploy/inventory.ci.ini): the results database holds the expected number
of machines, each with one run; REPORT-across.md has a column per machine
and a table row per claim of bench/report/claims_table.c; fleet.sh's
status file has each expected host in its expected state.
Usage: check_fleet.py DB REPORT STATUS MACHINES HOST=STATE..."""
import os
import re
import sqlite3
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def claims():
    """The claim ids, in order, from the claims table."""
    with open(os.path.join(ROOT, "bench/report/claims_table.c")) as f:
        ids = re.findall(r'\{"(C[0-9]+)"', f.read())
    if not ids:
        sys.exit("claims_table.c: no claims found")
    return ids


def check_db(path, machines):
    if not os.path.isfile(path):
        sys.exit(f"{path}: no database")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    n = db.execute("SELECT count(*) FROM machines").fetchone()[0]
    if n != machines:
        sys.exit(f"{path}: {n} machines, expected {machines}")
    rows = db.execute("SELECT m.machine_id, m.allowed_pu_list, "
                      "count(r.run_id) FROM machines AS m LEFT JOIN runs "
                      "AS r USING (machine_id) GROUP BY m.machine_id "
                      "ORDER BY m.machine_id").fetchall()
    for machine, _pus, runs in rows:
        if runs < 1:
            sys.exit(f"{path}: machine {machine} has no run")
    raw = db.execute("SELECT count(*) FROM raw").fetchone()[0]
    if raw == 0:
        sys.exit(f"{path}: no raw rows")
    print(f"{path}: {n} machines (" +
          ", ".join(f"{m}: PUs {p}" for m, p, _ in rows) +
          f"), {raw} raw rows")


def check_report(path, machines, ids):
    if not os.path.isfile(path):
        sys.exit(f"{path}: no report")
    with open(path) as f:
        lines = f.read().splitlines()
    header = [l for l in lines if l.startswith("| claim |")]
    if len(header) != 1:
        sys.exit(f"{path}: no claims table header")
    columns = [c.strip() for c in header[0].strip("|").split("|")]
    expected = ["claim", "the lesson says"] + [f"M{i + 1}"
                                               for i in range(machines)]
    if columns != expected:
        sys.exit(f"{path}: columns {columns}, expected {expected}")
    rows = [l for l in lines if re.match(r"\| C[0-9]+ \|", l)]
    got = [r.split("|")[1].strip() for r in rows]
    if got != ids:
        sys.exit(f"{path}: claim rows {got}, expected {ids}")
    for r in rows:
        cells = [c.strip() for c in r.strip("|").split("|")]
        if len(cells) != len(expected) or not all(cells):
            sys.exit(f"{path}: row {cells[0]} has {len(cells)} cells")
    for i in range(machines):
        if not any(l.startswith(f"- M{i + 1} = machine ") for l in lines):
            sys.exit(f"{path}: machine M{i + 1} not described")
    print(f"{path}: {len(rows)} claims x {machines} machines")


def check_status(path, expected):
    with open(path) as f:
        states = {}
        for line in f:
            host, state, _task, msg = line.rstrip("\n").split("\t")
            states[host] = (state, msg)
    for host, state in expected.items():
        got = states.get(host, ("missing", ""))[0]
        if got != state:
            sys.exit(f"{path}: host {host} is {got}, expected {state}")
    print(f"{path}: " + ", ".join(f"{h} {s}" for h, s in expected.items()))


def main(argv):
    if len(argv) < 5:
        sys.exit(__doc__)
    db, report, status, machines = argv[1], argv[2], argv[3], int(argv[4])
    expected = dict(a.split("=", 1) for a in argv[5:])
    check_db(db, machines)
    check_report(report, machines, claims())
    check_status(status, expected)


if __name__ == "__main__":
    main(sys.argv)
