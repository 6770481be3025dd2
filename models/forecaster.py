"""A trained forecaster: the feature spec, the fitted estimators and the state they read.

The state is the tail of the hourly table (enough days for every trailing window), the
office registry and the calendars (with what the data taught them) the model was trained
with, so that serving builds features with the same builder, from the same history, as
training did. The served wait quantiles are the model's, the historical mean's or a blend
of both per queue (:class:`models.blend.Blend`), as training chose on its backtest (the
mean alone, on some channels, with its cells shrunk toward the weekday-pooled hour).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features import schema as s
from features.build import build_features
from features.calendars import Calendars
from features.errors import ParameterError
from features.hourly import open_grid
from features.offices import OfficeRegistry
from features.spec import CALENDAR_ESTIMATED, ORIGIN, FeatureSpec
from models.baselines import HistoricalMean
from models.blend import ESTIMATOR, MODEL, Blend
from models.calibration import CalibratedWaitRegressor
from models.estimators import CountRegressor, ShareRegressor
from models.stored import FORECAST_ORDER, asked_queues

FORECAST_OUTPUT = [*s.FORECAST_TABLE_COLUMNS, ESTIMATOR, CALENDAR_ESTIMATED]


@dataclass
class Forecaster:
    """Everything needed to forecast: spec, models, history tail, offices, lead times."""

    spec: FeatureSpec
    wait: CalibratedWaitRegressor
    arrivals: CountRegressor | None
    called: ShareRegressor | None
    history: pd.DataFrame  # hourly table tail (dates < data_end + 1)
    offices: OfficeRegistry
    calendars: Calendars
    queues: pd.DataFrame  # distinct office_id, channel, service
    data_end: dt.date
    baseline: HistoricalMean | None = None
    blend: Blend = field(default_factory=Blend.model_only)
    lead_days: dict[str, float] = field(default_factory=dict)  # office -> booking lead (days)
    service_minutes: dict[str, float] = field(default_factory=dict)  # office -> minutes/ticket
    metadata: dict[str, Any] = field(default_factory=dict)
    # per origin, the worst hourly waits the ceiling reads (built once, not per request)
    _worst: dict[dt.date, WorstHours] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def origin(self) -> dt.date:
        """The forecast origin: the day after the last day of data."""
        return self.data_end + dt.timedelta(days=1)

    def with_history(self, hourly: pd.DataFrame, data_end: dt.date) -> Forecaster:
        """The same models reading newer data: levels as of the day after ``data_end``.

        ``hourly`` is an hourly table like the one the models were trained on (e.g. the
        data store's latest); only the tail the features read is kept.
        """
        if data_end < self.data_end:
            raise ParameterError(
                "data end", f"{data_end} is before the model's own data end {self.data_end}"
            )
        first = data_end - dt.timedelta(days=self.spec.history_days + 1)
        day = pd.to_datetime(hourly[s.DATE]).dt.date
        tail = hourly[(day > first) & (day <= data_end)].reset_index(drop=True)
        return dataclasses.replace(self, history=tail, data_end=data_end)

    def wait_quantiles(self, rows: pd.DataFrame, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Served p10/p50/p90 (n, 3) for target rows and their model matrix, and which
        estimator answered each row."""
        model_q = self.wait.predict(X)
        if self.baseline is None:
            return model_q, np.full(len(X), MODEL, dtype=object)
        plain = self.baseline.plain().predict(X)
        shrunk = self.baseline.predict(X) if self.blend.reads_shrunk else None
        return self.blend.combine(rows, model_q, plain, shrunk)

    def ceiling(self, rows: pd.DataFrame) -> np.ndarray:
        """Per row, the highest hourly p50 or p90 its queue had at that hour in the history
        the features read as of the row's origin (else at any hour; else no bound): a
        served p90 never reaches above the worst hour the queue has shown (or the served
        p50), however wide a calibration made it."""
        out = np.full(len(rows), np.inf)
        for origin in set(rows[ORIGIN]):
            mine = (rows[ORIGIN] == origin).to_numpy()
            out[mine] = self._worst_as_of(origin).lookup(rows[mine])
        return out

    def _worst_as_of(self, origin: dt.date) -> WorstHours:
        if origin not in self._worst:
            dates = pd.to_datetime(self.history[s.DATE]).dt.date
            first = origin - dt.timedelta(days=self.spec.history_days + 1)
            past = self.history[((dates >= first) & (dates < origin)).to_numpy()]
            self._worst[origin] = WorstHours.of(past)
        return self._worst[origin]

    def predict_rows(
        self, targets: pd.DataFrame, bookings: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Forecast for target rows with ``office_id, channel, service, date, hour, origin``."""
        out = targets.reset_index(drop=True).copy()
        if out.empty:
            return out.assign(
                **{
                    c: pd.Series(dtype=float)
                    for c in (s.P10, s.P50, s.P90, s.EXPECTED_ARRIVALS, s.P_CALLED)
                },
                **{ESTIMATOR: pd.Series(dtype=object)},
            )
        X = build_features(out, self.history, self.calendars, self.offices, self.spec, bookings)
        quantiles, labels = self.wait_quantiles(out, X)
        # the p50 stays; the range's top is held to the worst hour seen (or the p50)
        quantiles[:, 2] = np.minimum(quantiles[:, 2], np.fmax(self.ceiling(out), quantiles[:, 1]))
        out[s.P10], out[s.P50], out[s.P90] = quantiles[:, 0], quantiles[:, 1], quantiles[:, 2]
        out[ESTIMATOR] = labels
        out[s.EXPECTED_ARRIVALS] = self.arrivals.predict(X) if self.arrivals else np.nan
        called = self.called.predict(X) if self.called else np.full(len(out), np.nan)
        is_walk_in = out[s.CHANNEL].astype(str) == s.Channel.WALK_IN.value
        out[s.P_CALLED] = np.where(is_walk_in, called, np.nan)
        out[CALENDAR_ESTIMATED] = X[CALENDAR_ESTIMATED].astype(bool).to_numpy()
        return out

    def forecast(
        self,
        start: dt.date,
        days: int,
        office_ids: list[str] | None = None,
        channel: str | None = None,
    ) -> pd.DataFrame:
        """One row per queue, date and open hour in [start, start + days).

        Columns: office_id, date, hour, channel, service, p10, p50, p90 (minutes),
        expected_arrivals, p_called (walk-in), estimator, calendar_estimated.
        """
        queues = asked_queues(self.queues, days, office_ids, channel)
        end = start + dt.timedelta(days=days - 1)
        grid = open_grid(queues, self.offices, self.calendars, start, end)
        grid[ORIGIN] = self.origin
        rows = self.predict_rows(grid)
        if rows.empty:
            return pd.DataFrame(columns=FORECAST_OUTPUT)
        return rows[FORECAST_OUTPUT].sort_values(FORECAST_ORDER, ignore_index=True)


@dataclass(frozen=True)
class WorstHours:
    """The highest hourly p50 or p90 of each queue-hour, and of each queue, in a history."""

    by_hour: pd.DataFrame  # queue keys, hour, _h (as text keys)
    by_queue: pd.DataFrame  # queue keys, _q

    @classmethod
    def of(cls, history: pd.DataFrame) -> WorstHours:
        worst = history[[s.WAIT_P50, s.WAIT_P90]].max(axis=1)
        history = history.assign(_worst=worst)[worst.notna()]
        queue = list(s.QUEUE_KEYS)
        as_text = {c: str for c in queue}
        by_hour = history.groupby([*queue, s.HOUR], observed=True)["_worst"].max().rename("_h")
        by_queue = history.groupby(queue, observed=True)["_worst"].max().rename("_q")
        return cls(by_hour.reset_index().astype(as_text), by_queue.reset_index().astype(as_text))

    def lookup(self, rows: pd.DataFrame) -> np.ndarray:
        """Per row, its queue-hour's worst (else its queue's; else inf)."""
        queue = list(s.QUEUE_KEYS)
        keys = rows[[*queue, s.HOUR]].astype({c: str for c in queue}).reset_index(drop=True)
        hour_max = keys.merge(self.by_hour, on=[*queue, s.HOUR], how="left")
        queue_max = keys.merge(self.by_queue, on=queue, how="left")
        return hour_max["_h"].fillna(queue_max["_q"]).fillna(np.inf).to_numpy(dtype=float)
