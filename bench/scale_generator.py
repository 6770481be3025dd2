"""A vectorised generator of national-size ticket logs, written straight into a store.

Not the discrete-event simulator (which replays every queue minute by minute) but the
shapes it produces, drawn with numpy an office-year at a time: offices of lognormal size,
half of them dual track (about 40 % of their tickets booked), open on the working days
of the China calendar (make-up days included) 09:00-12:00 and 13:30-17:00, demand higher
on Mondays, at opening and in the summer holidays; walk-in waits gamma-distributed and
longer when the hour is busier, appointment waits short; 5-12 % of walk-ins never called
(more late in the day); bookings 1-30 days ahead. 3,000 offices × one year ≈ 10⁸ tickets.

Each office's rows go to its month partitions as :mod:`store.layout` lays them out, so the
result is a store that `waitcast train --store` reads as it reads an ingested one.
"""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from features import schema as s
from features.calendar_cn import default_calendar
from store.layout import (
    CURRENT,
    FORMAT_FILE,
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST,
    PART_FILE,
    SNAPSHOTS,
    partition_path,
)
from store.tables import KINDS

HOURS = np.array([9, 10, 11, 13, 14, 15, 16])
HOUR_SHAPE = np.array([1.5, 1.3, 1.0, 0.5, 1.0, 0.9, 0.7])
HOUR_START_MIN = np.array([0, 0, 0, 30, 0, 0, 0])  # the afternoon opens at 13:30
WEEKDAY_SHAPE = np.array([1.3, 1.05, 1.0, 0.95, 0.9, 0.8, 0.8])  # make-up Saturdays: low
SERVICES = np.array(["passport", "hk_macau_permit", "taiwan_permit", "endorsement"], dtype=object)
SERVICE_SHARE = np.array([0.45, 0.35, 0.1, 0.1])
NS_MIN = 60_000_000_000
SNAPSHOT = "s000001"


def open_days(year: int) -> np.ndarray:
    """The working days of ``year`` (as datetime64[D])."""
    calendar = default_calendar()
    days = [dt.date(year, 1, 1) + dt.timedelta(days=i) for i in range(366)]
    return np.array(
        [d for d in days if d.year == year and calendar.is_working_day(d)], dtype="datetime64[D]"
    )


def office_tickets(office: int, per_day: float, days: np.ndarray, seed: int) -> pa.Table:
    """One office's year of tickets, in the store's ticket schema."""
    rng = np.random.default_rng([seed, office])
    dual = office % 2 == 0
    weekday = (days.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday
    doy = (days - days.astype("datetime64[Y]")).astype(int)
    season = 1 + 0.4 * np.exp(-(((doy - 200) / 25.0) ** 2))
    day_level = per_day * WEEKDAY_SHAPE[weekday] * season * rng.gamma(20, 1 / 20, len(days))
    hour_level = day_level[:, None] * (HOUR_SHAPE / HOUR_SHAPE.sum())[None, :]
    channels = (
        (s.Channel.WALK_IN.value, s.Channel.APPOINTMENT.value)
        if dual
        else (s.Channel.WALK_IN.value,)
    )
    shares = (0.6, 0.4) if dual else (1.0,)
    tables = []
    for c, (channel, share) in enumerate(zip(channels, shares, strict=True)):
        lam = hour_level * share
        counts = rng.poisson(lam).ravel()
        n = int(counts.sum())
        cell = np.repeat(np.arange(counts.size), counts)
        day_i, hour_i = np.divmod(cell, len(HOURS))
        midnight = days[day_i].astype("datetime64[ns]").view("int64")
        start_min = HOURS[hour_i] * 60 + HOUR_START_MIN[hour_i]
        span = 60 - HOUR_START_MIN[hour_i]
        issued = midnight + ((start_min + rng.uniform(0, span)) * NS_MIN).astype("int64")
        load = lam.ravel()[cell] / max(lam.mean(), 1e-9)
        if channel == s.Channel.APPOINTMENT.value:
            slot = issued - issued % (30 * NS_MIN) + 30 * NS_MIN
            issued = slot - (rng.uniform(0, 20, n) * NS_MIN).astype("int64")
            wait = rng.gamma(2.0, 3.0, n)
            start = slot
            lead = rng.geometric(1 / 10, n).clip(1, 30)
            booked = slot - lead * 1440 * NS_MIN - (rng.uniform(0, 600, n) * NS_MIN).astype("int64")
            never = np.zeros(n, bool)
        else:
            wait = rng.gamma(1.5, (20.0 if dual else 10.0) / 1.5 * load.clip(0.3, 3), n)
            start = issued
            never = rng.random(n) < np.where(HOURS[hour_i] >= 16, 0.12, 0.05)
            slot = booked = None
        called = start + (wait * NS_MIN).astype("int64")
        finished = called + (rng.uniform(3, 15, n) * NS_MIN).astype("int64")
        seq = np.arange(n) % 100_000
        prefix = "A" if c else "W"
        ticket = pc.binary_join_element_wise(
            pa.scalar(prefix), pc.cast(pa.array(seq + (office % 100) * 100_000), pa.string()), ""
        )
        time_type = pa.timestamp("ns")
        tables.append(
            pa.table(
                {
                    s.OFFICE_ID: pa.array(
                        np.full(n, f"cn-{office:04d}", dtype=object), pa.string()
                    ),
                    s.TICKET_ID: ticket,
                    s.CHANNEL: pa.array(np.full(n, channel, dtype=object), pa.string()),
                    s.ISSUED_AT: pa.array(issued, time_type),
                    s.CALLED_AT: pa.array(called, time_type, mask=never),
                    s.FINISHED_AT: pa.array(finished, time_type, mask=never),
                    s.SERVICE: pa.array(SERVICES[rng.choice(len(SERVICES), n, p=SERVICE_SHARE)]),
                    s.APPOINTMENT_AT: pa.array(
                        slot if slot is not None else np.zeros(n, "int64"),
                        time_type,
                        mask=None if slot is not None else np.ones(n, bool),
                    ),
                    s.BOOKED_AT: pa.array(
                        booked if booked is not None else np.zeros(n, "int64"),
                        time_type,
                        mask=None if booked is not None else np.ones(n, bool),
                    ),
                    s.WINDOW_ID: pa.array(np.full(n, "", dtype=object), pa.string()),
                }
            )
        )
    table = pa.concat_tables(tables)
    return table.cast(KINDS[s.InputKind.TICKETS].schema)


def _write_office(args: tuple[Path, int, float, np.ndarray, int]) -> int:
    folder, office, per_day, days, seed = args
    table = office_tickets(office, per_day, days, seed)
    months = pc.strftime(table.column(s.ISSUED_AT), "%Y-%m")
    for month in pc.unique(months).to_pylist():
        part = table.filter(pc.equal(months, month))
        target = folder / partition_path(s.InputKind.TICKETS, f"cn-{office:04d}", month)
        target.mkdir(parents=True, exist_ok=True)
        pq.write_table(part, target / PART_FILE, compression="zstd")
    return table.num_rows


def generate_store(
    root: Path,
    tickets: int,
    year: int = 2025,
    seed: int = 0,
    per_office: int = 33_000,
    workers: int = 2,
) -> dict[str, int]:
    """Write a store of about ``tickets`` tickets (``per_office`` a year each); return counts."""
    n_offices = max(1, round(tickets / per_office))
    days = open_days(year)
    rng = np.random.default_rng(seed)
    size = rng.lognormal(0, 0.5, n_offices)
    weekday = (days.view("int64") - 4) % 7
    doy = (days - days.astype("datetime64[Y]")).astype(int)
    mean_shape = float(
        np.mean(WEEKDAY_SHAPE[weekday] * (1 + 0.4 * np.exp(-(((doy - 200) / 25.0) ** 2))))
    )
    per_day = size / size.sum() * tickets / len(days) / mean_shape
    folder = root / SNAPSHOTS / SNAPSHOT
    folder.mkdir(parents=True)
    jobs = [(folder, i, float(per_day[i]), days, seed) for i in range(n_offices)]
    with ProcessPoolExecutor(workers) as pool:
        total = sum(pool.map(_write_office, jobs, chunksize=8))
    manifest = {
        "files": [
            {
                "file": f"bench_scale generator, seed {seed}",
                "kind": "tickets",
                "sha256": f"generated-{seed}-{tickets}",
                "rows_in": total,
                "accepted": total,
                "added": total,
                "snapshot": SNAPSHOT,
            }
        ],
        "rows": {"tickets": total, "observations": 0},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))
    (root / FORMAT_FILE).write_text(json.dumps({"format": FORMAT_NAME, "version": FORMAT_VERSION}))
    (root / CURRENT).write_text(SNAPSHOT + "\n")
    return {"offices": n_offices, "tickets": total, "open_days": len(days)}
