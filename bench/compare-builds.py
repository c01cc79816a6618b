#!/usr/bin/env python3
"""Times two builds of pop3decode_bench against each other on a shared machine.

Runs the chosen benchmarks of build A and build B alternately (A B A B ...), so that both see
the same load over time, and prints per build the median and the best (highest) rate over all
repetitions, and their ratio B/A. The best rate is the least disturbed run of each build; the
median shows what a typical run gets.

  bench/compare-builds.py OLD_BUILD NEW_BUILD [--filter REGEX] [--rounds N] [--reps R]

Each build folder is one configured with -DPOP3DECODE_BUILD_BENCH=ON and built (the binary is
BUILD/bench/pop3decode_bench).
"""
import argparse
import json
import statistics
import subprocess
import sys


def run(build, pattern, reps):
    out = subprocess.run(
        [f"{build}/bench/pop3decode_bench", f"--benchmark_filter={pattern}",
         f"--benchmark_repetitions={reps}", "--benchmark_min_time=0.3",
         "--benchmark_format=json"],
        check=True, capture_output=True, text=True).stdout
    rates = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        rate = b.get("lines/s") or b.get("bytes_per_second")
        rates.setdefault(b["run_name"], []).append(rate)
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--filter", default="BM_Lines/chunk:1460$")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()

    samples = {args.a: {}, args.b: {}}
    for round_number in range(args.rounds):
        order = (args.a, args.b) if round_number % 2 == 0 else (args.b, args.a)
        for build in order:
            for name, rates in run(build, args.filter, args.reps).items():
                samples[build].setdefault(name, []).extend(rates)
    for name in sorted(samples[args.a]):
        a, b = samples[args.a][name], samples[args.b].get(name, [])
        if not b:
            continue
        print(f"{name} ({len(a)} runs each, rate = lines/s or bytes/s)")
        for label, values in (("A", a), ("B", b)):
            print(f"  {label}: median {statistics.median(values) / 1e6:8.2f} M  "
                  f"best {max(values) / 1e6:8.2f} M  worst {min(values) / 1e6:8.2f} M")
        print(f"  B/A: median {statistics.median(b) / statistics.median(a):.2f}  "
              f"best {max(b) / max(a):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
