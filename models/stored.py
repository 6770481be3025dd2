"""A registry version read without its models: what a forecast of stored days needs.

``waitcast forecast`` answers from the forecast cube stored with the current version
(:mod:`models.cube_store`) when the cube holds every day asked for: the version's offices,
calendars and queues, and the cube's rows — no LightGBM to import (its import of
scikit-learn and scipy is most of a second or two) and no boosters to build. Days the
cube does not hold, a calendar that disagrees with the cube's, or newer data
(``--store``) take the full forecaster (:func:`models.bundle.load_from_registry`), whose
``forecast`` gives the same rows for the stored days: the cube was computed by it.

The files are read only from a version folder whose checksums matched its manifest
(:meth:`ModelRegistry.verified_path`), as the models are.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from features import schema as s
from features.calendar_cn import ChinaCalendar
from features.calendars import Calendars, LearnedDays
from features.errors import (
    ModelIntegrityError,
    NoCurrentModelError,
    ParameterError,
    UnknownOfficeError,
)
from features.offices import OfficeRegistry
from models.cube_store import StoredCube, read_cube
from models.registry import ModelRegistry

FORMAT_VERSION = 2  # of a bundle's files (``state.json``'s ``format``)
# The order of a forecast's rows.
FORECAST_ORDER = [s.OFFICE_ID, s.CHANNEL, s.SERVICE, s.DATE, s.HOUR]


def read_state(folder: Path) -> dict[str, Any]:
    """A bundle's ``state.json`` (ModelIntegrityError for another format)."""
    state = json.loads((folder / "state.json").read_text())
    if state.get("format") != FORMAT_VERSION:
        raise ModelIntegrityError(f"bundle format {state.get('format')} is not supported")
    return dict(state)


def read_offices(folder: Path) -> OfficeRegistry:
    """The office registry a bundle was trained with."""
    records = json.loads((folder / "offices.json").read_text("utf-8"))["offices"]
    return OfficeRegistry.from_records(records, "bundle")


def read_learned(folder: Path) -> LearnedDays:
    """The closed days and open holidays a bundle learned from its data."""
    return LearnedDays.from_dict(json.loads((folder / "calendar.json").read_text("utf-8")))


def read_queues(folder: Path) -> pd.DataFrame:
    """The queues a bundle forecasts."""
    return pd.read_parquet(folder / "queues.parquet")


def asked_queues(
    queues: pd.DataFrame, days: int, office_ids: list[str] | None, channel: str | None
) -> pd.DataFrame:
    """The queues of ``office_ids`` (all when None) and ``channel`` (both when None) that a
    forecast of ``days`` days asks for; UnknownOfficeError for an office without a queue,
    ParameterError for a channel that is none or fewer than one day."""
    if days < 1:
        raise ParameterError("days", "must be at least 1")
    if office_ids:
        known = set(queues[s.OFFICE_ID])
        for office_id in office_ids:
            if office_id not in known:
                raise UnknownOfficeError(office_id)
        queues = queues[queues[s.OFFICE_ID].isin(office_ids)]
    if channel is not None:
        if channel not in s.CHANNELS:
            raise ParameterError("channel", f"must be one of {', '.join(s.CHANNELS)}")
        queues = queues[queues[s.CHANNEL] == channel]
    return queues


@dataclass(frozen=True)
class StoredVersion:
    """A version (its registry name), its offices, calendars, queues and stored cube (None
    when it has none, or one computed with another calendar)."""

    version: str
    data_end: dt.date
    offices: OfficeRegistry
    calendars: Calendars
    queues: pd.DataFrame
    cube: StoredCube | None

    @property
    def origin(self) -> dt.date:
        """The forecast origin: the day after the last day of data."""
        return self.data_end + dt.timedelta(days=1)

    def forecast(
        self,
        start: dt.date,
        days: int,
        office_ids: list[str] | None = None,
        channel: str | None = None,
    ) -> pd.DataFrame | None:
        """The forecaster's rows of [start, start + days) (see ``Forecaster.forecast``)
        from the stored cube, or None when it does not hold every one of those days."""
        cube = self.cube
        if cube is None or s.DATE not in cube.frame:
            return None
        if start < cube.start or (start - cube.start).days + days > cube.days:
            return None
        queues = asked_queues(self.queues, days, office_ids, channel)
        frame = cube.frame
        end = start + dt.timedelta(days=days)
        keep = (frame[s.DATE] >= start) & (frame[s.DATE] < end)
        keep &= frame[s.OFFICE_ID].isin(queues[s.OFFICE_ID]) & frame[s.CHANNEL].isin(
            queues[s.CHANNEL]
        )
        return frame[keep].sort_values(FORECAST_ORDER, ignore_index=True)


def load_stored(registry: ModelRegistry, china: ChinaCalendar | None = None) -> StoredVersion:
    """The current version's :class:`StoredVersion`, after its checksums match; ``china``
    is China's calendar to use (e.g. with an override file; default built-in)."""
    version = registry.current_version()
    if version is None:
        raise NoCurrentModelError(f"no current model in {registry.root}")
    folder = registry.verified_path(version)
    try:
        state = read_state(folder)
        offices, queues = read_offices(folder), read_queues(folder)
        calendars = Calendars(china, read_learned(folder))
        data_end = dt.date.fromisoformat(state["data_end"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelIntegrityError(f"model bundle {folder} cannot be loaded: {exc}") from None
    cube = read_cube(folder, queues, calendars.china)
    return StoredVersion(version, data_end, offices, calendars, queues, cube)
