"""Baselines as estimators: they read the builder's trailing-level columns.

Like scikit-learn's ``DummyRegressor``, a baseline is just another estimator with
``fit``/``predict``, so the backtest runs baselines and models through the same code:

- :class:`HistoricalMean` — the mean over the last 8 weeks of the same queue, weekday
  and hour (the ``cell8w_*`` features); served, with ``after_change`` its p50 moved to
  the level since a dated change those 8 weeks straddle (:meth:`FeatureSpec.since_change`)
  and, where it serves alone and training chose so, shrunk toward the queue-hour's
  weekday-pooled level (:meth:`FeatureSpec.cell_shrunk`);
- :class:`SeasonalNaive` — the same hour of the last same weekday before the origin
  (``last_same_hour_*``; "same hour last week" for the first week of the horizon).

Where a queue has no such history they fall back to the 28-day level of the hour, then
of the queue, then the training median of the channel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError

from features import schema as s
from features.spec import FeatureSpec
from models.estimators import QUANTILE_TARGETS

MAX_CHANGE_SCALE = 5.0  # how far a change may move the served mean's cell


class _ColumnBaseline(BaseEstimator, RegressorMixin):
    def __init__(self, level_window: int = 28, cell_weeks: int = 8) -> None:
        self.level_window = level_window
        self.cell_weeks = cell_weeks

    def _column(self, target: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _p50(self, X: pd.DataFrame, value: pd.Series) -> pd.Series:
        """The p50 served from the read column's ``value`` (itself: unchanged)."""
        return value

    def fit(self, X: pd.DataFrame, y: pd.DataFrame) -> _ColumnBaseline:
        """Learn only the fallback: the median of each quantile per channel."""
        need = [self._column(c) for c in QUANTILE_TARGETS]
        missing = [c for c in need if c not in X]
        if missing:
            raise ValueError(f"X lacks the baseline columns {missing}")
        frame = y[list(QUANTILE_TARGETS)].assign(channel=X[s.CHANNEL].astype(str).to_numpy())
        self.fallback_ = frame.groupby("channel")[list(QUANTILE_TARGETS)].median()
        self.global_ = frame[list(QUANTILE_TARGETS)].median()
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """p10, p50, p90 per row, shape (n, 3), sorted."""
        if not hasattr(self, "fallback_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit first")
        out = np.empty((len(X), 3))
        channel = X[s.CHANNEL].astype(str)
        for j, target in enumerate(QUANTILE_TARGETS):
            value = X[self._column(target)].astype(float)
            if target == s.WAIT_P50:
                value = self._p50(X, value)
            for column in (
                FeatureSpec.level(self.level_window, target, by_hour=True),
                FeatureSpec.level(self.level_window, target, by_hour=False),
            ):
                if column in X:
                    value = value.fillna(X[column].astype(float))
            fallback = channel.map(self.fallback_[target]).astype(float)
            value = value.fillna(fallback).fillna(float(self.global_[target]))
            out[:, j] = value.to_numpy()
        out = np.clip(out, 0, None)
        # p50 stays (a moved level); the range widens to hold it
        out[:, 0] = np.minimum(out[:, 0], out[:, 1])
        out[:, 2] = np.maximum(out[:, 2], out[:, 1])
        return out

    def fallbacks(self) -> dict[str, Any]:
        """The fitted fallbacks, JSON-ready (see :meth:`with_fallbacks`)."""
        if not hasattr(self, "fallback_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit first")
        return {
            "per_channel": {str(c): row.to_dict() for c, row in self.fallback_.iterrows()},
            "global": {str(k): float(v) for k, v in self.global_.items()},
        }

    def with_fallbacks(self, data: dict[str, Any]) -> _ColumnBaseline:
        """This baseline, fitted with stored fallbacks (inverse of :meth:`fallbacks`)."""
        self.fallback_ = pd.DataFrame.from_dict(data["per_channel"], orient="index").reindex(
            columns=list(QUANTILE_TARGETS)
        )
        self.global_ = pd.Series(data["global"]).reindex(list(QUANTILE_TARGETS))
        return self


class HistoricalMean(_ColumnBaseline):
    """Mean of the same queue, weekday and hour over the last 8 weeks.

    Args:
        after_change: move the cell's p50 to its level since a dated change (the served
            fallback does; the reference that accuracy is reported against does not).
        change_column: the column of that level (:meth:`FeatureSpec.since_change`).
        shrunk_column: the column of the cell's p50 shrunk toward its weekday-pooled hour
            (:meth:`FeatureSpec.cell_shrunk`), read for the p50 instead of the cell's own
            mean (the served fallback does; the reference does not).
    """

    def __init__(
        self,
        level_window: int = 28,
        cell_weeks: int = 8,
        after_change: bool = False,
        change_column: str = FeatureSpec.cell_since_change(s.WAIT_P50),
        shrunk_column: str | None = None,
    ):
        super().__init__(level_window, cell_weeks)
        self.after_change = after_change
        self.change_column = change_column
        self.shrunk_column = shrunk_column

    @classmethod
    def served(cls, spec: FeatureSpec) -> HistoricalMean:
        """The historical mean that serves where the model does not: moved to the level
        since a dated change and, where training chose so (:meth:`plain` where it did
        not), its cells shrunk toward the weekday-pooled hour, when the spec builds those."""
        return cls(
            cell_weeks=spec.cell_weeks,
            after_change=spec.change_cell,
            change_column=spec.since_change(),
            shrunk_column=spec.cell_shrunk() if spec.shrunk_cell else None,
        )

    def plain(self) -> HistoricalMean:
        """This mean, fitted fallbacks and all, without the shrunk cells: what the blends
        take as the model's partner and the backtest judges the model against."""
        plain = HistoricalMean(
            level_window=self.level_window,
            cell_weeks=self.cell_weeks,
            after_change=self.after_change,
            change_column=self.change_column,
        )
        if hasattr(self, "fallback_"):
            plain.fallback_, plain.global_ = self.fallback_, self.global_
        return plain

    def _column(self, target: str) -> str:
        return FeatureSpec(cell_weeks=self.cell_weeks).cell(target)

    def _p50(self, X: pd.DataFrame, value: pd.Series) -> pd.Series:
        """The cell's p50 ``value``, where a dated change lies inside its weeks moved to
        the level since the change (already weekday-pooled): times that level over the
        cell's, within [1/5, 5] (the new regime's level, the cell's spread); elsewhere
        shrunk toward the weekday-pooled hour (with ``shrunk_column``)."""
        served = value
        if self.shrunk_column and self.shrunk_column in X:
            served = X[self.shrunk_column].astype(float).fillna(value)
        if not self.after_change or self.change_column not in X:
            return served
        since = X[self.change_column].astype(float)
        ratio = ((since + 1) / (value + 1)).clip(1 / MAX_CHANGE_SCALE, MAX_CHANGE_SCALE)
        return (value * ratio).where(since.notna() & value.notna(), served)


class SeasonalNaive(_ColumnBaseline):
    """The same hour on the last same weekday before the origin."""

    def _column(self, target: str) -> str:
        return FeatureSpec.last_same_hour(target)
