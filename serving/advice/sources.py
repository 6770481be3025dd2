"""Where the advice gets its forecast rows: a one-method interface and two adapters.

The advice asks its source once, for the dates and offices it needs, and decides on the
rows as they come (unrounded). The server passes its forecast cube (wrapped to stop at the
horizon), the CLI a forecaster, tests and the bench a frame they built.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from features import schema as s
from models.forecaster import Forecaster


class ForecastSource(Protocol):
    """Anything that gives forecast rows for dates in [start, end] and some offices."""

    def frame(self, start: dt.date, end: dt.date, office_ids: Sequence[str]) -> pd.DataFrame:
        """Rows as ``Forecaster.forecast`` returns them (offices it does not know: none)."""
        ...


@dataclass(frozen=True)
class RowsSource:
    """Rows computed beforehand (tests, the bench): filtered to the offices asked for."""

    rows: pd.DataFrame

    def frame(self, start: dt.date, end: dt.date, office_ids: Sequence[str]) -> pd.DataFrame:
        """The rows of those offices (dates are filtered by the advice itself)."""
        return self.rows[self.rows[s.OFFICE_ID].astype(str).isin(list(office_ids))]


@dataclass(frozen=True)
class ForecasterSource:
    """A forecaster run on demand (the CLI)."""

    forecaster: Forecaster

    def frame(self, start: dt.date, end: dt.date, office_ids: Sequence[str]) -> pd.DataFrame:
        """One forecast for every office the model knows among ``office_ids``."""
        known = set(self.forecaster.queues[s.OFFICE_ID].astype(str))
        ids = [i for i in office_ids if i in known]
        if not ids or end < start:
            return pd.DataFrame(columns=list(s.FORECAST_TABLE_COLUMNS))
        return self.forecaster.forecast(start, (end - start).days + 1, ids)
