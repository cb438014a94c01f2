#!/usr/bin/env python3
"""check_gbench.py: checks a syncmark gbench.json against the fields Google
Benchmark's JSON reporter writes (and its compare.py reads). Exits 1 with a
message naming the first missing or mistyped field."""
import json
import numbers
import sys

CONTEXT = {"date": str, "host_name": str, "executable": str,
           "num_cpus": numbers.Number, "mhz_per_cpu": numbers.Number,
           "cpu_scaling_enabled": bool, "caches": list, "load_avg": list,
           "library_build_type": str}
CACHE = {"type": str, "level": int, "size": numbers.Number,
         "num_sharing": numbers.Number}
ENTRY = {"name": str, "family_index": int, "per_family_instance_index": int,
         "run_name": str, "run_type": str, "repetitions": int, "threads": int,
         "iterations": int, "real_time": numbers.Number,
         "cpu_time": numbers.Number, "time_unit": str}


def need(obj, fields, where):
    for key, kind in fields.items():
        if key not in obj:
            sys.exit(f"{where}: missing field '{key}'")
        if not isinstance(obj[key], kind):
            sys.exit(f"{where}: field '{key}' is {type(obj[key]).__name__}")


def main(path):
    with open(path) as f:
        doc = json.load(f)
    need(doc, {"context": dict, "benchmarks": list}, path)
    need(doc["context"], CONTEXT, "context")
    for i, cache in enumerate(doc["context"]["caches"]):
        need(cache, CACHE, f"context.caches[{i}]")
    if not doc["benchmarks"]:
        sys.exit("benchmarks: empty")
    kinds = set()
    for i, b in enumerate(doc["benchmarks"]):
        where = f"benchmarks[{i}] ({b.get('name')})"
        need(b, ENTRY, where)
        kinds.add(b["run_type"])
        if b["run_type"] == "iteration":
            need(b, {"repetition_index": int}, where)
        elif b["run_type"] == "aggregate":
            need(b, {"aggregate_name": str, "aggregate_unit": str}, where)
            if b["aggregate_name"] not in ("mean", "median", "stddev", "cv"):
                sys.exit(f"{where}: aggregate_name {b['aggregate_name']}")
        else:
            sys.exit(f"{where}: run_type {b['run_type']}")
        if b["time_unit"] not in ("ns", "us", "ms", "s"):
            sys.exit(f"{where}: time_unit {b['time_unit']}")
        if not b["name"].startswith(b["run_name"]):
            sys.exit(f"{where}: name does not start with run_name")
    if kinds != {"iteration", "aggregate"}:
        sys.exit(f"run types {sorted(kinds)}: both kinds are expected")
    print(f"{path}: {len(doc['benchmarks'])} entries OK")


if __name__ == "__main__":
    main(sys.argv[1])
