"""Where the advice gets its forecast rows: the interface, and the adapters that compute.

The advice asks its source once for a :class:`HourView` of the dates and offices it
needs: the open hours of each channel (services averaged, with their expected wait) and
the arrivals expected per hour. The adapters here compute the view from forecast rows
(unrounded) when asked: the CLI's forecaster, or a frame tests and the bench built. The
server's view reads hours prepared when its cube was built
(:mod:`serving.advice.prepared`), and answers the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from features import schema as s
from models.forecaster import Forecaster
from serving.advice.context import AdviceContext
from serving.advice.hours import hour_load, open_hours
from serving.advice.table import Table

Load = Mapping[tuple[str, dt.date, int], float]


class HourView(Protocol):
    """Open hours and expected arrivals of some offices over some dates."""

    def hours(
        self,
        channel: str,
        office_ids: Sequence[str],
        first: dt.date,
        last: dt.date,
        from_hour_on_first: int = 0,
    ) -> Table:
        """The open hours of ``channel`` at those offices in [first, last] (on ``first``
        from ``from_hour_on_first`` on), as :func:`serving.advice.hours.open_hours`."""
        ...

    def load(self) -> Load:
        """Arrivals expected per office, date and hour (:func:`hour_load`)."""
        ...


@dataclass(frozen=True)
class FrameView:
    """A view computed from forecast rows, on demand."""

    rows: pd.DataFrame
    ctx: AdviceContext

    def hours(
        self,
        channel: str,
        office_ids: Sequence[str],
        first: dt.date,
        last: dt.date,
        from_hour_on_first: int = 0,
    ) -> Table:
        """The open hours, computed from the rows of those offices."""
        mine = self.rows[self.rows[s.OFFICE_ID].astype(str).isin(list(office_ids))]
        return open_hours(mine, self.ctx, channel, first, last, from_hour_on_first)

    def load(self) -> Load:
        """Arrivals expected per office, date and hour, from the rows."""
        return hour_load(self.rows)


class ForecastSource(Protocol):
    """Anything that gives the hours of some offices over dates in [start, end]."""

    def view(
        self, start: dt.date, end: dt.date, office_ids: Sequence[str], ctx: AdviceContext
    ) -> HourView:
        """The view the advice reads (offices it does not know: none)."""
        ...


class RowSource:
    """A source of forecast rows; its view is computed from them (:class:`FrameView`)."""

    def frame(self, start: dt.date, end: dt.date, office_ids: Sequence[str]) -> pd.DataFrame:
        """Rows as ``Forecaster.forecast`` returns them (offices it does not know: none)."""
        raise NotImplementedError

    def view(
        self, start: dt.date, end: dt.date, office_ids: Sequence[str], ctx: AdviceContext
    ) -> HourView:
        """The rows' view, computed when asked."""
        return FrameView(self.frame(start, end, office_ids), ctx)


@dataclass(frozen=True)
class RowsSource(RowSource):
    """Rows computed beforehand (tests, the bench): filtered to the offices asked for."""

    rows: pd.DataFrame

    def frame(self, start: dt.date, end: dt.date, office_ids: Sequence[str]) -> pd.DataFrame:
        """The rows of those offices (dates are filtered by the advice itself)."""
        return self.rows[self.rows[s.OFFICE_ID].astype(str).isin(list(office_ids))]


@dataclass(frozen=True)
class ForecasterSource(RowSource):
    """A forecaster run on demand (the CLI)."""

    forecaster: Forecaster

    def frame(self, start: dt.date, end: dt.date, office_ids: Sequence[str]) -> pd.DataFrame:
        """One forecast for every office the model knows among ``office_ids``."""
        known = set(self.forecaster.queues[s.OFFICE_ID].astype(str))
        ids = [i for i in office_ids if i in known]
        if not ids or end < start:
            return pd.DataFrame(columns=list(s.FORECAST_TABLE_COLUMNS))
        return self.forecaster.forecast(start, (end - start).days + 1, ids)
