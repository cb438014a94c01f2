#!/usr/bin/env python3
"""plain_check.py: sets each family's headline figures beside its plain
reference (build/bench/plain/<family>: the same work, N operations, total
time, no harness), alternating the two in one run, and prints the ratios.

Usage: scripts/plain_check.py [--rounds N] [--build DIR] [FAMILY...]
(default: every plain program, 3 alternations). A plain program prints one
block per case it measures:
    case: <syncmark run arguments selecting exactly one case>
    placement: <optional: the placement column of that case, for a pair
               family whose run arguments cannot select one>
    metric: <the syncmark metric to compare>
    plain: <median rate of the plain program>
Exit status: 0, or 2 for bad input or a missing build.
"""
import argparse
import csv
import glob
import os
import statistics
import subprocess
import sys
import tempfile


def blocks(text):
    """The (case, metric, plain) triples a plain program printed; a case
    with a placement line is "<args>@<placement>"."""
    out, cur = [], {}
    for line in text.splitlines():
        key, _, value = line.partition(": ")
        if key in ("case", "placement", "metric", "plain"):
            cur[key] = value
            if key == "plain":
                case = cur["case"]
                if "placement" in cur:
                    case += "@" + cur["placement"]
                out.append((case, cur["metric"], float(value)))
                cur = {}
    return out


def syncmark_median(syncmark, case, metric, tmp):
    """The summary median of `metric` for the one case `case` selects (run
    arguments, optionally "@placement")."""
    args, _, placement = case.partition("@")
    out = os.path.join(tmp, "run")
    subprocess.run(["rm", "-rf", out], check=True)
    subprocess.run([syncmark, "run", *args.split(), "--out", out],
                   check=True, stdout=subprocess.DEVNULL)
    summary = glob.glob(os.path.join(out, "*", "*", "summary.csv"))[0]
    rows = [r for r in csv.DictReader(open(summary))
            if r["metric"] == metric
            and (not placement or r["placement"] == placement)]
    if len(rows) != 1:
        sys.exit(f"plain_check.py: '{case}' gave {len(rows)} rows of {metric}")
    return float(rows[0]["median"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build", default="build")
    ap.add_argument("families", nargs="*")
    a = ap.parse_args()
    if a.rounds < 1:
        ap.error(f"--rounds must be at least 1, not {a.rounds}")
    syncmark = os.path.join(a.build, "bench", "syncmark")
    plain_dir = os.path.join(a.build, "bench", "plain")
    if not os.access(syncmark, os.X_OK):
        print(f"plain_check.py: build first ({syncmark})", file=sys.stderr)
        return 2
    fams = a.families or sorted(os.listdir(plain_dir))
    print(f"{'case':<60} {'metric':<12} {'syncmark':>11} {'plain':>11} "
          f"{'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for fam in fams:
            prog = os.path.join(plain_dir, fam)
            if not os.access(prog, os.X_OK):
                print(f"plain_check.py: no plain program '{fam}' "
                      f"(have: {', '.join(sorted(os.listdir(plain_dir)))})",
                      file=sys.stderr)
                return 2
            ours, plains = {}, {}
            for _ in range(a.rounds):
                for case, metric, rate in blocks(
                        subprocess.run([prog], check=True, text=True,
                                       stdout=subprocess.PIPE).stdout):
                    plains.setdefault((case, metric), []).append(rate)
                    ours.setdefault((case, metric), []).append(
                        syncmark_median(syncmark, case, metric, tmp))
            for (case, metric), p in plains.items():
                o = statistics.median(ours[(case, metric)])
                pm = statistics.median(p)
                print(f"{case:<60} {metric:<12} {o:11.4g} {pm:11.4g} "
                      f"{o / pm:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
