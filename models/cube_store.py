"""The forecast cube stored with a model version: computed once at training, loaded by servers.

A version trained by ``waitcast train`` holds ``cube.parquet``: the forecaster's rows
(office, date, hour, channel, service, p10/p50/p90, arrivals, chance of being called,
calendar flag) for every open hour of :data:`STORED_DAYS` days from its origin, computed
a few offices at a time so memory stays bounded. A server loads it in seconds instead of
recomputing it, and indexes it by (office, date) for O(1) lookups. The calendar it was
computed with is fingerprinted over those days; a server whose calendar says otherwise
(an override file added since) ignores it and computes as before, as it does for versions
without the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features import schema as s
from features.calendar_cn import ChinaCalendar

if TYPE_CHECKING:  # the forecaster imports LightGBM: reading a cube must not
    from models.forecaster import Forecaster

__all__ = [
    "BUNDLE_FOLDER",
    "CUBE_FILE",
    "STORED_DAYS",
    "StoredCube",
    "load_cube",
    "read_cube",
    "save_cube",
]

CUBE_FILE = "cube.parquet"
BUNDLE_FOLDER = "bundle_folder"  # the forecaster's metadata key: the folder it was loaded from
STORED_DAYS = 75  # a 60-day cube from any day of the two weeks after training
OFFICES_PER_CHUNK = 200
_META = b"waitcast.cube"


def calendar_key(calendar: ChinaCalendar, start: dt.date, days: int) -> str:
    """A fingerprint of what the calendar says about ``days`` days from ``start``."""
    digest = hashlib.sha256()
    for offset in range(days):
        digest.update(repr(calendar.day(start + dt.timedelta(days=offset))).encode())
    return digest.hexdigest()


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for first in range(0, len(items), size):
        yield items[first : first + size]


def save_cube(
    forecaster: Forecaster, calendar: ChinaCalendar, folder: Path, days: int = STORED_DAYS
) -> None:
    """Compute the forecaster's cube from its origin and write ``folder/cube.parquet``."""
    start = forecaster.origin
    offices = sorted(set(forecaster.queues[s.OFFICE_ID].astype(str)))
    frames = [forecaster.forecast(start, days, ids) for ids in _chunks(offices, OFFICES_PER_CHUNK)]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    info = {
        "start": start.isoformat(),
        "days": days,
        "calendar": calendar_key(calendar, start, days),
    }
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), _META: json.dumps(info).encode()}
    )
    pq.write_table(table, folder / CUBE_FILE, compression="zstd")


@dataclass
class StoredCube:
    """A stored cube in memory: the rows sorted by office and date, and where each day is."""

    frame: pd.DataFrame
    start: dt.date
    days: int
    offices: frozenset[str]
    index: dict[tuple[str, dt.date], tuple[int, int]]

    def covers(self, office_id: str, date: dt.date) -> bool:
        """True when the stored rows answer this office and date (closed days included)."""
        return office_id in self.offices and 0 <= (date - self.start).days < self.days

    def rows(self, office_id: str, date: dt.date) -> pd.DataFrame:
        """The forecast rows of one office and date (empty when closed)."""
        first, last = self.index.get((office_id, date), (0, 0))
        return self.frame.iloc[first:last]


def load_cube(forecaster: Forecaster, calendar: ChinaCalendar) -> StoredCube | None:
    """The cube stored with the forecaster's version, or None (none stored, unreadable, or
    computed with a calendar that disagrees with ``calendar``)."""
    folder = forecaster.metadata.get(BUNDLE_FOLDER)
    return read_cube(Path(folder), forecaster.queues, calendar) if folder else None


def read_cube(folder: Path, queues: pd.DataFrame, calendar: ChinaCalendar) -> StoredCube | None:
    """The cube stored in a (verified) version folder whose forecaster forecasts ``queues``,
    or None (none stored, unreadable, or computed with a calendar that disagrees with
    ``calendar``)."""
    path = folder / CUBE_FILE
    if not path.is_file():
        return None
    try:
        table = pq.read_table(path)
        info = json.loads((table.schema.metadata or {})[_META])
        start, days = dt.date.fromisoformat(info["start"]), int(info["days"])
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return None
    if info.get("calendar") != calendar_key(calendar, start, days):
        return None
    frame = table.to_pandas(date_as_object=True)
    if frame.empty:
        return StoredCube(frame, start, days, frozenset(), {})
    frame = frame.sort_values([s.OFFICE_ID, s.DATE], kind="stable", ignore_index=True)
    offices = frame[s.OFFICE_ID].astype(str).to_numpy()
    dates = frame[s.DATE].to_numpy()
    change = np.flatnonzero((offices[1:] != offices[:-1]) | (dates[1:] != dates[:-1])) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(frame)]])
    index = {
        (str(offices[a]), dates[a]): (int(a), int(b)) for a, b in zip(starts, ends, strict=True)
    }
    known = frozenset(queues[s.OFFICE_ID].astype(str))
    return StoredCube(frame, start, days, known, index)
