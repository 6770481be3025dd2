"""Open hours prepared per office when the forecast cube is built, read by the advice.

For each office the cube forecasts, :func:`prepare_office` runs once what every advice and
best-times request used to run on its own forecast rows: the open hours of each channel
over the cube's days (services averaged, with their expected wait:
:func:`serving.advice.hours.open_hour_rows`) and the arrivals expected per hour
(:func:`serving.advice.hours.hour_load`). A request then slices the days and offices it
needs (:class:`PreparedView`) instead of building and filtering a frame: the same rows, in
the same order, so the same answers (a test compares the two on many requests).
"""

from __future__ import annotations

import datetime as dt
from collections import ChainMap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import schema as s
from serving.advice.context import AdviceContext
from serving.advice.hours import hour_load, open_hours
from serving.advice.sources import Load
from serving.advice.table import ORDINAL, ROW_ID, Table


@dataclass(frozen=True)
class OfficeHours:
    """One office's open hours per channel over [first, last], sorted by date and hour,
    and its expected arrivals per hour."""

    first: dt.date
    last: dt.date
    tables: dict[str, Table]
    load: dict[tuple[str, dt.date, int], float]

    def covers(self, first: dt.date, last: dt.date) -> bool:
        """True when [first, last] lies within the prepared days."""
        return self.first <= first and last <= self.last


def prepare_office(
    rows: pd.DataFrame, ctx: AdviceContext, first: dt.date, last: dt.date
) -> OfficeHours:
    """Prepare one office's hours from its forecast rows of [first, last]."""
    tables = {channel: open_hours(rows, ctx, channel, first, last) for channel in s.CHANNELS}
    return OfficeHours(first, last, tables, hour_load(rows))


@dataclass(frozen=True)
class PreparedView:
    """The advice's view of some offices, sliced from their prepared hours.

    Args:
        prepared: the prepared hours of an office (computed on first use for a cube too
            large to prepare every office at build).
        office_ids: the offices the request reads (those the cube forecasts).
        last: the last date forecast (the horizon): later dates have no hours.
    """

    prepared: Callable[[str], OfficeHours]
    office_ids: Sequence[str]
    last: dt.date

    def hours(
        self,
        channel: str,
        office_ids: Sequence[str],
        first: dt.date,
        last: dt.date,
        from_hour_on_first: int = 0,
    ) -> Table:
        """The open hours of ``channel`` at those offices in [first, last]."""
        last = min(last, self.last)
        parts = []
        for office_id in sorted(set(office_ids) & set(self.office_ids)):
            table = self.prepared(office_id).tables[channel]
            days = table[ORDINAL]
            start = np.searchsorted(days, first.toordinal(), side="left")
            end = np.searchsorted(days, last.toordinal(), side="right")
            parts.append(table.take(slice(int(start), int(end))))
        found = Table.concat(parts) if parts else _empty(self.prepared, self.office_ids, channel)
        if from_hour_on_first and not found.empty:
            found = found.take(
                (found[ORDINAL] > first.toordinal()) | (found[s.HOUR] >= from_hour_on_first)
            )
        return found.assign(**{ROW_ID: np.arange(len(found))})

    def load(self) -> Load:
        """Arrivals expected per office, date and hour."""
        return ChainMap(*(self.prepared(o).load for o in self.office_ids))


def _empty(
    prepared: Callable[[str], OfficeHours], office_ids: Sequence[str], channel: str
) -> Table:
    for office_id in office_ids:
        return prepared(office_id).tables[channel].head(0)
    return Table({ROW_ID: np.zeros(0, dtype=int)})


def covered(
    prepared: Callable[[str], OfficeHours], office_ids: Sequence[str], first: dt.date, last: dt.date
) -> bool:
    """True when every office's prepared hours cover [first, last]."""
    return all(prepared(o).covers(first, last) for o in office_ids)
