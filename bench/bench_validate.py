"""Benchmark: read + validate 1,000,000 ticket rows (about 1 % broken) from a CSV file.

Prints rows/s for read+validate and for validate alone, against the target (100,000 rows/s)
and against a baseline measured in the same run: plain ``pandas.read_csv`` of the same file
as text (no checks at all).

    .venv/bin/python bench/bench_validate.py [--rows N] [--seed N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.factories

from features import schema as s
from features.offices import load_offices
from features.read import read_inputs
from features.validate import validate
from tests.factories import ticket_log

TARGET_ROWS_PER_S = 100_000
BROKEN_SHARE = 0.01


def make_log(rows: int, seed: int) -> pd.DataFrame:
    """About ``rows`` tickets over the 15 Hangzhou offices, with ~1 % broken rows."""
    offices = tuple(load_offices().ids)
    days = 100
    per_office_day = max(1, round(rows / (len(offices) * days)))
    log = ticket_log(per_office_day=per_office_day, days=days, offices=offices, seed=seed)
    rng = np.random.default_rng(seed)
    broken = rng.choice(len(log), size=int(len(log) * BROKEN_SHARE), replace=False)
    kinds = np.array_split(broken, 5)
    log.loc[kinds[0], s.CHANNEL] = "online"
    log.loc[kinds[1], s.ISSUED_AT] = "not a time"
    log.loc[kinds[2], s.CALLED_AT] = "2020-01-01 00:00:00"
    log.loc[kinds[3], s.OFFICE_ID] = ""
    log.loc[kinds[4], s.TICKET_ID] = log.loc[kinds[4] - 1, s.TICKET_ID].to_numpy()
    return log


def timed(label: str, rows: int, seconds: float, baseline: float | None = None) -> None:
    rate = rows / seconds
    line = (
        f"{label:<28} {seconds:7.2f} s  {rate:>12,.0f} rows/s  "
        f"x{rate / TARGET_ROWS_PER_S:5.1f} of target"
    )
    if baseline is not None:
        line += f"  x{rate / (rows / baseline):5.2f} of plain read_csv"
    print(line)


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    offices = load_offices()
    log = make_log(args.rows, args.seed)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tickets.csv"
        log.to_csv(path, index=False)
        rows = len(log)
        size_mb = path.stat().st_size / 1e6
        print(f"{rows:,} ticket rows, {size_mb:.0f} MB CSV; target {TARGET_ROWS_PER_S:,} rows/s")

        start = time.perf_counter()
        pd.read_csv(path, dtype=str, keep_default_na=False)
        baseline = time.perf_counter() - start

        start = time.perf_counter()
        [raw] = read_inputs([path])
        read_seconds = time.perf_counter() - start
        start = time.perf_counter()
        result = validate(raw, offices)
        validate_seconds = time.perf_counter() - start

    timed("baseline: pandas read_csv", rows, baseline)
    timed("read", rows, read_seconds, baseline)
    timed("validate only", rows, validate_seconds)
    timed("read + validate", rows, read_seconds + validate_seconds, baseline)
    print(
        f"accepted {len(result.accepted):,}, rejected {len(result.rejected):,} "
        f"({result.rejected_share:.2%}): {result.counts_by_reason}"
    )
    ok = rows / (read_seconds + validate_seconds) >= TARGET_ROWS_PER_S
    print("target met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
