#!/usr/bin/env python3
"""check_results.py: checks that a run folder's CSV files exist, parse and
carry the documented headers (results/README.md), that every value parses
as a number, that every registered family produced rows, and that
REPORT.md lists every claim."""
import csv
import math
import os
import sys

HEADERS = {
    "raw.csv": "benchmark,variant,params,threads,placement,cpus,rep,metric,"
               "value,unit",
    "summary.csv": "benchmark,variant,params,threads,placement,metric,n,"
                   "median,mean,stddev,cv,ci_lo,ci_hi,min,max,outliers,unit",
    "machine.csv": "key,value",
}
OPTIONAL = {
    "series.csv": "benchmark,variant,params,threads,placement,rep,series,t_s,"
                  "value,unit",
    "problems.csv": "benchmark,variant,params,threads,placement,rep,status,"
                    "elapsed_s,reason",
}


def read(run_dir, name, header):
    with open(os.path.join(run_dir, name), newline="") as f:
        rows = list(csv.reader(f))
    if not rows or ",".join(rows[0]) != header:
        sys.exit(f"{name}: header is {rows[:1]}, expected {header}")
    width = len(rows[0])
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            sys.exit(f"{name}: line {i} has {len(row)} fields")
    print(f"{name}: {len(rows) - 1} rows, header OK")
    return rows[1:]


def check(run_dir, families):
    raw = read(run_dir, "raw.csv", HEADERS["raw.csv"])
    read(run_dir, "summary.csv", HEADERS["summary.csv"])
    read(run_dir, "machine.csv", HEADERS["machine.csv"])
    for name, header in OPTIONAL.items():
        if os.path.exists(os.path.join(run_dir, name)):
            read(run_dir, name, header)
    # Repetitions the runner marked invalid (valid 0: too fast to time, or
    # sampling too dear) have no rates: nan there is the documented value.
    invalid = {tuple(row[:7]) for row in raw
               if row[7] == "valid" and float(row[8]) == 0}
    for i, row in enumerate(raw, start=2):
        value = float(row[8])  # raises on a non-number
        if tuple(row[:7]) in invalid and math.isnan(value):
            continue
        if row[7].endswith("_per_s") and not (math.isfinite(value)
                                              and value >= 0):
            sys.exit(f"raw.csv line {i}: {row[7]} = {row[8]}")
    seen = {row[0] for row in raw}
    missing = [f for f in families if f not in seen]
    if missing:
        sys.exit(f"raw.csv: no rows of {', '.join(missing)}")
    report = os.path.join(run_dir, "REPORT.md")
    if os.path.exists(report):
        with open(report) as f:
            text = f.read()
        for claim in ("C1", "C5", "C13", "C17"):
            if f"### {claim}:" not in text:
                sys.exit(f"REPORT.md: claim {claim} missing")
        print("REPORT.md: claims listed")


if __name__ == "__main__":
    check(sys.argv[1], sys.argv[2:])
