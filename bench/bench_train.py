"""Benchmark: `waitcast train` on one simulated year of the 15 offices, and `waitcast forecast`.

Targets (issue 3): train <= 120 s on 2 cores with peak memory <= 4 GB (the whole process
tree: the backtest fits its folds in worker processes); forecast for all offices x 28
days <= 5 s. Prints the figures and their ratios to the targets.

    .venv/bin/python bench/bench_train.py [--year 2025] [--seed 42]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

WAITCAST = str(Path(sys.executable).with_name("waitcast"))
TRAIN_TARGET_S, TRAIN_TARGET_GB, FORECAST_TARGET_S = 120.0, 4.0, 5.0


def tree_rss_bytes(root_pid: int) -> int:
    """Resident memory of a process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            pid, ppid, pages = int(entry), int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(pid)
        rss[pid] = pages * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run_measured(cmd: list[str]) -> tuple[float, int, str]:
    """Run a command; return wall seconds, peak tree RSS and its stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_bytes(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err}")
    return seconds, peak, out


def main() -> None:
    """Simulate a year, train on it, forecast all offices for 28 days; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "year.parquet"
        registry = Path(tmp) / "registry"
        subprocess.run(
            [
                WAITCAST,
                "simulate",
                "--start",
                f"{args.year}-01-01",
                "--end",
                f"{args.year}-12-31",
                "--seed",
                str(args.seed),
                "--out",
                str(data),
            ],
            check=True,
            capture_output=True,
        )
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        seconds, peak, out = run_measured(
            [WAITCAST, "train", str(data), "--registry", str(registry)]
        )
        print(out.splitlines()[0])
        print(
            f"train, one year x 15 offices : {seconds:7.1f} s  (target <= {TRAIN_TARGET_S:.0f} s,"
            f" ratio {seconds / TRAIN_TARGET_S:.2f})"
        )
        gb = peak / 2**30
        print(
            f"train, peak memory (tree)    : {gb:7.2f} GB (target <= {TRAIN_TARGET_GB:.0f} GB,"
            f" ratio {gb / TRAIN_TARGET_GB:.2f})"
        )
        start = f"{args.year + 1}-01-05"
        seconds, _, out = run_measured(
            [
                WAITCAST,
                "forecast",
                "--registry",
                str(registry),
                "--start",
                start,
                "--days",
                "28",
                "--format",
                "csv",
                "--out",
                str(Path(tmp) / "forecast.csv"),
            ]
        )
        rows = len((Path(tmp) / "forecast.csv").read_text().splitlines()) - 1
        print(
            f"forecast, 15 offices x 28 days: {seconds:7.1f} s  ({rows:,} rows; target <= "
            f"{FORECAST_TARGET_S:.0f} s, ratio {seconds / FORECAST_TARGET_S:.2f})"
        )


if __name__ == "__main__":
    main()
