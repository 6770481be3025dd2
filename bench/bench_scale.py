"""National scale on one machine: generate a store, time its aggregation and a training run.

For each size (default 10⁶ and 10⁷ tickets; add 1e8 for the national run, ~3,000 offices ×
one year) the script

1. generates a store with :mod:`scale_generator` (vectorised, no ingest);
2. aggregates it to the hourly table in DuckDB (``store.queries.hourly_tickets``, memory
   limit 2 GB) in a fresh process: seconds and peak memory of the process;
3. trains on it with ``waitcast train --store DIR`` in a fresh process: seconds and peak
   memory of the whole process tree (the backtest folds run in worker processes);

and prints a table against the targets (aggregation of 10⁸ tickets ≤ 600 s and ≤ 4 GB).
Results accumulate in ``OUT/results.json`` (one size may be run at a time, e.g. 10⁸ in
the background) and ``--plot FILE`` draws time and memory against rows on log-log axes.

    python bench/bench_scale.py --sizes 1e6 1e7 --plot docs/scale.png
    nice python bench/bench_scale.py --sizes 1e8 --plot docs/scale.png
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TypedDict

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from scale_generator import generate_store

REPO = Path(__file__).resolve().parents[1]
TARGET_SECONDS, TARGET_GB = 600.0, 4.0
MEMORY_LIMIT = "2GB"
AGGREGATE = """
import sys, time
from pathlib import Path
from features import schema as s
from store.duck import connect
from store.layout import Store
from store.queries import hourly_tickets
store = Store.open(Path(sys.argv[1]))
con = connect(sys.argv[2], Path(sys.argv[1]) / ".spill")
hourly = hourly_tickets(con, store.partition_files(s.InputKind.TICKETS))
print(len(hourly))
"""
SERVE = """
import datetime as dt, random, sys, time
from pathlib import Path
from features.calendar_cn import default_calendar
from models.bundle import load_from_registry
from models.registry import ModelRegistry
from serving.cube import ForecastCube
started = time.perf_counter()
registry = ModelRegistry(Path(sys.argv[1]))
forecaster = load_from_registry(registry, registry.versions()[-1].version)
calendar = default_calendar()
cube = ForecastCube.build(forecaster, calendar, "bench", forecaster.origin, 60)
load = time.perf_counter() - started
every = [(o, forecaster.origin + dt.timedelta(days=d)) for o in cube.offices for d in range(60)]
keys = random.Random(0).sample(every, min(len(every), 4000))  # each day once, then again
t0 = time.perf_counter()
for office, date in keys:
    assert cube.lookup(office, date) is not None
first = (time.perf_counter() - t0) / len(keys)
t0 = time.perf_counter()
for office, date in keys:
    cube.lookup(office, date)
again = (time.perf_counter() - t0) / len(keys)
print(len(cube.offices), cube.forecast_calls, round(load, 2), round(first * 1e6, 1),
      round(again * 1e6, 2))
"""


class Measured(TypedDict):
    """What :func:`run_measured` found."""

    seconds: float
    peak_gb: float
    stdout: str


def run_measured(command: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run ``command``; its wall time, peak memory of its process tree (GB) and output."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    root = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.2)
    out, err = process.communicate()
    if process.returncode:
        raise SystemExit(f"{' '.join(command[:3])}... failed:\n{err[-2000:]}")
    return {"seconds": time.perf_counter() - started, "peak_gb": peak / 1e9, "stdout": out}


def bench_size(tickets: int, out: Path, args: argparse.Namespace, result: dict) -> dict:
    """Generate (or reuse), aggregate and train at one size, as ``args`` asks."""
    root = out / f"store-{tickets:.0e}"
    if not (args.reuse and (root / "CURRENT").exists()):
        shutil.rmtree(root, ignore_errors=True)
        started = time.perf_counter()
        made = generate_store(root, tickets)
        parquet = sum(f.stat().st_size for f in root.rglob("*.parquet"))
        result |= {
            "tickets": made["tickets"],
            "offices": made["offices"],
            "generate_seconds": round(time.perf_counter() - started, 1),
            "store_gb": round(parquet / 1e9, 2),
        }
        print(
            f"generated {made['tickets']:,} tickets of {made['offices']:,} offices in "
            f"{result['generate_seconds']} s ({result['store_gb']} GB of Parquet)",
            flush=True,
        )
    if not args.skip_aggregate:
        aggregate(root, result)
    if not args.no_train:
        train(root, out / f"registry-{tickets:.0e}", args.origins, result)
    return result


def aggregate(root: Path, result: dict) -> None:
    """The hourly table by DuckDB, in a fresh process: time and peak memory."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    agg = run_measured([sys.executable, "-c", AGGREGATE, str(root), MEMORY_LIMIT], env)
    result |= {
        "hourly_rows": int(agg["stdout"].split()[-1]),
        "aggregate_seconds": round(agg["seconds"], 1),
        "aggregate_peak_gb": round(agg["peak_gb"], 2),
    }
    print(
        f"aggregation: {result['hourly_rows']:,} hourly rows in {result['aggregate_seconds']} s,"
        f" peak {result['aggregate_peak_gb']} GB",
        flush=True,
    )


def train(root: Path, registry: Path, origins: int, result: dict) -> None:
    """`waitcast train --store`, then loading its stored cube as a server does."""
    shutil.rmtree(registry, ignore_errors=True)
    waitcast = str(Path(sys.executable).with_name("waitcast"))
    fit = run_measured(
        [
            waitcast,
            "train",
            "--store",
            str(root),
            "--registry",
            str(registry),
            "--memory-limit",
            MEMORY_LIMIT,
            "--origins",
            str(origins),
        ]
    )
    result |= {
        "train_origins": origins,
        "train_seconds": round(fit["seconds"], 1),
        "train_peak_gb": round(fit["peak_gb"], 2),
    }
    print(f"training: {result['train_seconds']} s, peak {result['train_peak_gb']} GB", flush=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    serve = run_measured([sys.executable, "-c", SERVE, str(registry)], env)
    offices, calls, load, first, again = serve["stdout"].split()
    result |= {
        "cube_offices": int(offices),
        "cube_forecast_calls": int(calls),
        "cube_load_seconds": float(load),
        "lookup_first_us": float(first),
        "lookup_again_us": float(again),
        "serve_peak_gb": round(serve["peak_gb"], 2),
    }
    print(
        f"serving: cube of {offices} offices loaded in {load} s ({calls} forecast calls), "
        f"lookups {first} µs first, {again} µs again",
        flush=True,
    )


def plot(results: list[dict], path: Path) -> None:
    """Time and peak memory against tickets, log-log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(results, key=lambda r: r["tickets"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in (("aggregate", "aggregation (DuckDB)"), ("train", "training")):
        have = [r for r in rows if f"{key}_seconds" in r]
        x = [r["tickets"] for r in have]
        left.loglog(x, [r[f"{key}_seconds"] for r in have], "o-", label=label)
        right.loglog(x, [r[f"{key}_peak_gb"] for r in have], "o-", label=label)
    left.axhline(TARGET_SECONDS, ls="--", c="grey", label="aggregation target 600 s")
    right.axhline(TARGET_GB, ls="--", c="grey", label="aggregation target 4 GB")
    left.set(xlabel="tickets", ylabel="seconds", title="time")
    right.set(xlabel="tickets", ylabel="peak GB", title="peak memory")
    for axis in (left, right):
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7])
    parser.add_argument("--out", type=Path, default=REPO / ".waitcast" / "bench-scale")
    parser.add_argument("--no-train", action="store_true", help="Aggregation only.")
    parser.add_argument("--skip-aggregate", action="store_true", help="Training only.")
    parser.add_argument("--origins", type=int, default=1, help="Backtest origins of training.")
    parser.add_argument("--plot", type=Path, help="Write the log-log plot here.")
    parser.add_argument("--keep", action="store_true", help="Keep the generated stores.")
    parser.add_argument("--reuse", action="store_true", help="Reuse a store kept before.")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    saved = args.out / "results.json"
    results = {r["size"]: r for r in json.loads(saved.read_text())} if saved.exists() else {}
    print(f"load: {os.getloadavg()[0]:.2f} (1 min), {psutil.cpu_count()} cores", flush=True)
    for size in args.sizes:
        key = f"{size:.0e}"
        result = bench_size(int(size), args.out, args, dict(results.get(key, {})))
        results[key] = {**result, "size": key, "load": round(os.getloadavg()[0], 2)}
        ordered = sorted(results.values(), key=lambda r: r["tickets"])
        saved.write_text(json.dumps(ordered, indent=1))
        if not args.keep:
            shutil.rmtree(args.out / f"store-{int(size):.0e}", ignore_errors=True)
    print(
        f"\n{'tickets':>12} {'offices':>8} {'hourly rows':>12} {'agg s':>7} {'agg GB':>7} "
        f"{'train s':>8} {'train GB':>8} {'cube s':>7}"
    )
    for r in sorted(results.values(), key=lambda r: r["tickets"]):
        print(
            f"{r['tickets']:>12,} {r['offices']:>8,} {r.get('hourly_rows', 0):>12,} "
            f"{r.get('aggregate_seconds', '-'):>7} {r.get('aggregate_peak_gb', '-'):>7} "
            f"{r.get('train_seconds', '-'):>8} {r.get('train_peak_gb', '-'):>8} "
            f"{r.get('cube_load_seconds', '-'):>7}"
        )
    for r in results.values():
        if r["tickets"] >= 9e7 and "aggregate_seconds" in r:
            ok = r["aggregate_seconds"] <= TARGET_SECONDS and r["aggregate_peak_gb"] <= TARGET_GB
            print(
                f"10^8 aggregation: {r['aggregate_seconds']} s (target {TARGET_SECONDS:.0f}), "
                f"{r['aggregate_peak_gb']} GB (target {TARGET_GB}): {'met' if ok else 'MISSED'}"
            )
    if args.plot:
        plot(list(results.values()), args.plot)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
