"""How fast a server loads a national forecast cube stored with a model version.

Takes a trained version (with ``cube.parquet``, as ``waitcast train`` stores it), makes a
copy of it whose offices are repeated ``--copies`` times under new ids (the model, the
cube's rows and the queues alike), publishes it to a scratch registry, and measures what a
server does at load: verify the checksums, load the bundle, build the :class:`ForecastCube`
from the stored rows. Then lookups: each of 4,000 random (office, day) pairs once (the day
is turned into JSON and an ETag on first use) and again (cached). Prints the figures
against the target (a 3,000-office cube loads in 10 s or less) and, for scale, the time the
original version's cube takes when computed at load instead.

    python bench/bench_cube_load.py --registry .waitcast/bench-scale/registry-1e+06 --copies 101
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features import schema as s
from features.calendar_cn import default_calendar
from models.bundle import load_from_registry
from models.cube_store import CUBE_FILE
from models.registry import ModelRegistry
from serving.cube import ForecastCube

TARGET_SECONDS = 10.0
CUBE_DAYS = 60
SKIP = {"metadata.json", "manifest.json", "offices.json", "queues.parquet", CUBE_FILE}


def _renamed(ids: pd.Series, copy: int) -> pd.Series:
    return ids.astype(str) + f"-r{copy:03d}"


def replicate(source: Path, copies: int, folder: Path) -> None:
    """Write a bundle whose offices are those of ``source`` repeated ``copies`` times."""
    for path in source.iterdir():
        if path.name not in SKIP:
            shutil.copy(path, folder / path.name)
    offices = json.loads((source / "offices.json").read_text("utf-8"))["offices"]
    many = [{**o, "id": f"{o['id']}-r{c:03d}"} for c in range(copies) for o in offices]
    (folder / "offices.json").write_text(json.dumps({"offices": many}, ensure_ascii=False))
    queues = pd.read_parquet(source / "queues.parquet")
    pd.concat(
        [queues.assign(**{s.OFFICE_ID: _renamed(queues[s.OFFICE_ID], c)}) for c in range(copies)],
        ignore_index=True,
    ).to_parquet(folder / "queues.parquet", index=False)
    table = pq.read_table(source / CUBE_FILE)
    column = table.schema.get_field_index(s.OFFICE_ID)
    parts = []
    for c in range(copies):
        ids = pa.array(_renamed(table.column(s.OFFICE_ID).to_pandas(), c))
        parts.append(table.set_column(column, s.OFFICE_ID, ids))
    pq.write_table(
        pa.concat_tables(parts).replace_schema_metadata(table.schema.metadata),
        folder / CUBE_FILE,
        compression="zstd",
    )


def measure(registry: ModelRegistry, calendar: object) -> dict[str, float]:
    """Load as a server does; then lookups, first and again."""
    started = time.perf_counter()
    forecaster = load_from_registry(registry)
    cube = ForecastCube.build(forecaster, calendar, "bench", forecaster.origin, CUBE_DAYS)  # type: ignore[arg-type]
    load = time.perf_counter() - started
    every = [
        (o, forecaster.origin + dt.timedelta(days=d))
        for o in cube.offices
        for d in range(CUBE_DAYS)
    ]
    keys = random.Random(0).sample(every, min(len(every), 4000))
    timings = []
    for _ in range(2):
        t0 = time.perf_counter()
        for office, date in keys:
            assert cube.lookup(office, date) is not None
        timings.append((time.perf_counter() - t0) / len(keys) * 1e6)
    return {
        "offices": len(cube.offices),
        "forecast_calls": cube.forecast_calls,
        "load_seconds": load,
        "lookup_first_us": timings[0],
        "lookup_again_us": timings[1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--copies", type=int, default=101)
    args = parser.parse_args()
    calendar = default_calendar()
    source = ModelRegistry(args.registry)
    version = source.versions()[-1].version
    with tempfile.TemporaryDirectory() as scratch:
        big = ModelRegistry(Path(scratch) / "registry")
        folder = source.verified_path(version)
        big.promote(big.publish(lambda f: replicate(folder, args.copies, f), {"bench": True}))
        national = measure(big, calendar)
    print(
        f"stored cube, {national['offices']:,} offices: loaded in "
        f"{national['load_seconds']:.2f} s (target {TARGET_SECONDS:.0f} s) with "
        f"{national['forecast_calls']} forecaster calls; lookups "
        f"{national['lookup_first_us']:.0f} µs the first time, "
        f"{national['lookup_again_us']:.1f} µs again"
    )
    started = time.perf_counter()
    forecaster = load_from_registry(source, version)
    forecaster.metadata.pop("bundle_folder")  # as a version stored without a cube
    computed = ForecastCube.build(forecaster, calendar, "bench", forecaster.origin, CUBE_DAYS)
    print(
        f"computed at load instead, {len(computed.offices)} offices: "
        f"{time.perf_counter() - started:.2f} s ({computed.forecast_calls} forecaster call)"
    )


if __name__ == "__main__":
    main()
