#!/usr/bin/env python3
"""plain_check.py: sets each family's headline figures beside its plain
reference (build/bench/plain/<family>: the same work, N operations, total
time, no harness), alternating the two in one run, and prints the ratios.

Usage: scripts/plain_check.py [--rounds N] [--tolerance T] [--build DIR]
                              [FAMILY...]
(default: every plain program, 3 rounds). A plain program prints one block
per case it measures:
    case: <syncmark run arguments selecting exactly one case>
    placement: <optional: the placement column of that case, for a pair
               family whose run arguments cannot select one>
    metric: <the syncmark metric to compare>
    plain: <median rate of the plain program>

Bracketing: the plain program runs before the first round and after every
round (plain, syncmark, plain, syncmark, ..., plain), so each syncmark
figure has a plain figure on either side. A round whose two plain figures
differ by more than --tolerance (default 0.15, relative) saw the machine
change under it (on a VM the host moves vCPUs: a cache line between two
vCPUs takes 50 or 250 ns, minute by minute); its ratio is left out and
counted in the `host changed` column. The ratio printed is the median of
the kept rounds' syncmark / (mean of the bracketing plain figures), with
their lowest and highest.
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
    ap.add_argument("--tolerance", type=float, default=0.15)
    ap.add_argument("--build", default="build")
    ap.add_argument("families", nargs="*")
    a = ap.parse_args()
    if a.rounds < 1:
        ap.error(f"--rounds must be at least 1, not {a.rounds}")
    if not 0 < a.tolerance < 1:
        ap.error(f"--tolerance must be above 0 and below 1, not "
                 f"{a.tolerance}")
    syncmark = os.path.join(a.build, "bench", "syncmark")
    plain_dir = os.path.join(a.build, "bench", "plain")
    if not os.access(syncmark, os.X_OK):
        print(f"plain_check.py: build first ({syncmark})", file=sys.stderr)
        return 2
    fams = a.families or sorted(os.listdir(plain_dir))
    print(f"{'case':<60} {'metric':<12} {'syncmark':>11} "
          f"{'ratio [lowest, highest]':>22} {'host changed':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for fam in fams:
            prog = os.path.join(plain_dir, fam)
            if not os.access(prog, os.X_OK):
                print(f"plain_check.py: no plain program '{fam}' "
                      f"(have: {', '.join(sorted(os.listdir(plain_dir)))})",
                      file=sys.stderr)
                return 2
            def plain_run():
                return {(case, metric): rate for case, metric, rate in blocks(
                    subprocess.run([prog], check=True, text=True,
                                   stdout=subprocess.PIPE).stdout)}
            before = plain_run()
            ratios = {key: [] for key in before}
            changed = {key: 0 for key in before}
            ours = {key: [] for key in before}
            for _ in range(a.rounds):
                mine = {(case, metric): syncmark_median(syncmark, case,
                                                        metric, tmp)
                        for case, metric in before}
                after = plain_run()
                for key, value in mine.items():
                    p0, p1 = before[key], after[key]
                    ours[key].append(value)
                    if abs(p0 - p1) > a.tolerance * min(p0, p1):
                        changed[key] += 1
                    else:
                        ratios[key].append(value / ((p0 + p1) / 2))
                before = after
            for (case, metric), r in ratios.items():
                o = statistics.median(ours[(case, metric)])
                text = (f"{statistics.median(r):6.3f} "
                        f"[{min(r):.3f}, {max(r):.3f}]" if r else "  none")
                print(f"{case:<60} {metric:<12} {o:11.4g} {text:>22} "
                      f"{changed[(case, metric)]:>6} of {a.rounds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
