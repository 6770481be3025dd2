"""Benchmark: simulate one year of all 15 Hangzhou offices; print wall time and peak memory.

The simulation runs in a child process so its peak resident memory is measured alone
(``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``). The figures are compared with the
budget (60 s, 2 GB on 2 cores) and, as a baseline measured in the same run, with the
bare start-up of the child (interpreter + imports + registry + calendar).

Usage: ``python bench/bench_simulate.py [--year 2023] [--seed 42]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 60.0
BUDGET_BYTES = 2 * 1024**3

CHILD = """
import datetime as dt, json, sys, time
t0 = time.perf_counter()
from features.calendar_cn import default_calendar
from features.offices import load_offices
from training.simulate import simulate
offices, calendar = load_offices(), default_calendar()
year, seed, run = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "run"
t1 = time.perf_counter()
rows = documents = 0
if run:
    log = simulate(offices, calendar, dt.date(year, 1, 1), dt.date(year, 12, 31), seed=seed)
    rows, documents = len(log), int(log["documents"].sum())
t2 = time.perf_counter()
print(json.dumps({"setup": t1 - t0, "simulate": t2 - t1, "rows": rows, "documents": documents,
                  "offices": len(offices)}))
"""


def measure(year: int, seed: int, run: bool) -> dict[str, float]:
    """Run the child once: its timings, rows, and peak RSS in bytes.

    ``ru_maxrss`` of children is the maximum over all children waited for so far (KiB on
    Linux), so the baseline must be measured before the simulation.
    """
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(year), str(seed), "run" if run else "setup"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    figures = json.loads(done.stdout)
    figures["peak_bytes"] = peak_kib * 1024
    figures["wall"] = wall
    return figures


def main() -> None:
    """Print the benchmark's figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    baseline = measure(args.year, args.seed, run=False)
    result = measure(args.year, args.seed, run=True)
    seconds = result["simulate"]
    peak = result["peak_bytes"]
    mib = 1024**2
    print(f"simulate one year ({args.year}) of {result['offices']} offices, seed {args.seed}")
    print(f"  tickets            {result['rows']:>12,.0f}  ({result['documents']:,.0f} documents)")
    print(f"  simulate time      {seconds:>12.2f} s   (process wall {result['wall']:.2f} s)")
    print(f"  peak memory (RSS)  {peak / mib:>12.0f} MiB")
    print(f"  target             {BUDGET_SECONDS:>12.0f} s,  {BUDGET_BYTES / mib:.0f} MiB")
    print(
        f"  ratio to target    {seconds / BUDGET_SECONDS:>12.2f} (time)  "
        f"{peak / BUDGET_BYTES:.2f} (memory)"
    )
    print(
        f"  baseline (start-up, no simulation): {baseline['wall']:.2f} s wall, "
        f"{baseline['peak_bytes'] / mib:.0f} MiB; simulation adds "
        f"{(peak - baseline['peak_bytes']) / mib:.0f} MiB"
    )
    print(f"  throughput         {result['rows'] / seconds:>12,.0f} tickets/s")
    if seconds > BUDGET_SECONDS or peak > BUDGET_BYTES:
        print("  OVER BUDGET")
        sys.exit(1)


if __name__ == "__main__":
    main()
