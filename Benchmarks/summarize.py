#!/usr/bin/env python3
"""Turns the JMH exports of the benchmark run into the one table Benchmarks/run.sh prints.

Usage: summarize.py RESULTS_DIR

ops/s is 1 / mean latency (for the concurrency rows: calls / mean round time, a mixed round being four
calls per caller); p50 and p99 are
latency percentiles; "ratio" is raw p50 / library p50, the library's share of the raw-SQLite ceiling
(1.00 = as fast as the same SQL through the C API). The scaling summary compares each single-call
operation's p50 on queues holding 1,000 (the relaxed run), 100,000 and 1,000,000 files.
"""
import glob
import json
import os
import re
import sys

OPERATIONS = ["createGroup", "addFiles ×1", "addFiles ×100", "resume", "status", "progress", "claim-next-file",
              "checkpoint", "complete-file", "cancel (100 files)", "enumerate 10,000 groups"]
SINGLE_CALL = ["createGroup", "addFiles ×1", "resume", "status", "progress", "claim-next-file", "checkpoint",
               "complete-file"]


def load(directory):
    results = {}
    for path in glob.glob(os.path.join(directory, "*.json")):
        with open(path) as f:
            for element in json.load(f):
                name = element["benchmark"].split(".", 3)[3].replace("_", " ")
                wall = next(v for k, v in element["secondaryMetrics"].items() if "wall clock" in k.lower())
                results[name] = {"mean": wall["score"], "p50": wall["scorePercentiles"]["50.0"],
                                 "p99": wall["scorePercentiles"]["99.0"], "samples": element["measurementIterations"]}
    return results


def duration(us):
    if us >= 10_000:
        return f"{us / 1000:.1f} ms"
    return f"{us:.1f} µs" if us < 100 else f"{us:.0f} µs"


def rate(per_second):
    return f"{per_second:,.0f}"


def main():
    results = load(sys.argv[1])
    rows = []

    def row(label, name, calls=1):
        lib = results.get(name)
        if lib is None:
            return
        raw = results.get(name + " (raw)")
        ratio = f"{raw['p50'] / lib['p50']:.2f}" if raw else "—"
        raw_p50 = duration(raw["p50"]) if raw else "—"
        rows.append([label, rate(calls * 1e6 / lib["mean"]), duration(lib["p50"]), duration(lib["p99"]), raw_p50, ratio])

    for scale in ["full", "relaxed", "100k", "1M"]:
        for operation in OPERATIONS:
            prefix = {"100k": "relaxed, 100k files", "1M": "relaxed, 1M files"}.get(scale, scale)
            row(f"{prefix}: {operation}", f"{scale}: {operation}")
    def callers(name):
        return int(re.search(r"×(\d+) callers", name).group(1))
    def calls(name):
        # A mixed round is four calls per caller: createGroup, createJob, addFiles ×1, resume.
        return callers(name) * (4 if ": mixed" in name else 1)
    concurrency = (n for n in results if "callers" in n)
    for name in sorted(concurrency, key=lambda n: (not n.startswith("full"), ": mixed" in n, callers(n))):
        row(name, name, calls(name))

    header = ["operation", "ops/s", "p50", "p99", "raw p50", "ratio to raw"]
    print_table(header, rows)

    scaling = []
    for operation in SINGLE_CALL:
        cells = [results.get(f"{scale}: {operation}") for scale in ["relaxed", "100k", "1M"]]
        if cells[0] is None or cells[2] is None:
            continue
        scaling.append([operation] + [duration(c["p50"]) if c else "—" for c in cells]
                       + [f"{cells[2]['p50'] / cells[0]['p50']:.2f}"])
    if scaling:
        print()
        print_table(["scaling (relaxed, p50)", "1k files", "100k files", "1M files", "1M / 1k"], scaling)


def print_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    print(line(header))
    print("|" + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|")
    for r in rows:
        print(line(r))


if __name__ == "__main__":
    main()
