#!/usr/bin/env python3
"""check_results.py: checks that a run folder's CSV files exist, parse and
carry the documented headers (results/README.md)."""
import csv
import math
import sys

HEADERS = {
    "raw.csv": "benchmark,variant,params,threads,placement,cpus,rep,metric,"
               "value,unit",
    "summary.csv": "benchmark,variant,params,threads,placement,metric,n,"
                   "median,mean,stddev,cv,ci_lo,ci_hi,min,max,outliers,unit",
    "machine.csv": "key,value",
}


def check(run_dir):
    for name, header in HEADERS.items():
        with open(f"{run_dir}/{name}", newline="") as f:
            rows = list(csv.reader(f))
        if ",".join(rows[0]) != header:
            sys.exit(f"{name}: header is {rows[0]}, expected {header}")
        if len(rows) < 2:
            sys.exit(f"{name}: no data rows")
        width = len(rows[0])
        for i, row in enumerate(rows[1:], start=2):
            if len(row) != width:
                sys.exit(f"{name}: line {i} has {len(row)} fields")
        if name == "raw.csv":
            ops = [float(r[8]) for r in rows[1:] if r[7] == "ops_per_s"]
            if not ops or not all(math.isfinite(v) and v >= 0 for v in ops):
                sys.exit("raw.csv: ops_per_s rows missing or not finite")
        print(f"{name}: {len(rows) - 1} rows, header OK")


if __name__ == "__main__":
    check(sys.argv[1])
