"""Split-conformal calibration of the p10–p90 range on individual outcomes.

On a calibration window that the quantile models did not see, each outcome (one
citizen's wait, or one posted wait) gets two scores in log1p minutes:
``lower = log1p(p10) - log1p(y)`` and ``upper = log1p(y) - log1p(p90)``. The offsets are
the conformal quantiles of these scores per channel, so that about 10 % of outcomes fall
below the widened p10 and 10 % above the widened p90 (conformalized quantile
regression, Romano et al. 2019, with asymmetric tails). An offset may be negative: the
range then narrows.

:class:`CalibratedWaitRegressor` wraps the quantile model in the manner of
scikit-learn's ``CalibratedClassifierCV``: its ``fit`` fits the quantile model, then the
median shift and the conformal offsets on the :class:`CalibrationWindow` it is given, so
that ``sklearn.base.clone(model).fit(...)`` rebuilds the whole served model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone

from features import schema as s
from models.estimators import QUANTILE_TARGETS, WaitQuantileRegressor, sort_quantiles
from models.hyperparams import check_fitted

__all__ = [
    "MIN_OUTCOMES",
    "CalibratedWaitRegressor",
    "CalibrationWindow",
    "conformal_offsets",
    "conformal_quantile",
    "coverage",
    "median_shift",
]

MIN_OUTCOMES = 30
POOLED = "*"  # the key of the offsets and shift of every channel together
_HOUR_KEYS = [*s.QUEUE_KEYS, s.DATE, s.HOUR]


def conformal_quantile(scores: np.ndarray, miss: float) -> float:
    """The finite-sample conformal quantile at level ceil((n + 1)(1 - miss)) / n."""
    n = len(scores)
    if n == 0:
        return 0.0
    return float(np.quantile(scores, _conformal_level(n, miss), method="higher"))


def _conformal_level(n: int, miss: float) -> float:
    return min(1.0, math.ceil((n + 1) * (1 - miss)) / n)


def conformal_offsets(
    log_p10: np.ndarray,
    log_p90: np.ndarray,
    waits: np.ndarray,
    channels: np.ndarray,
    miss_each_side: float = 0.1,
) -> dict[str, tuple[float, float]]:
    """Per-channel (lower, upper) offsets from calibration outcomes.

    Channels with fewer than ``MIN_OUTCOMES`` outcomes borrow the pooled offsets.
    """
    log_y = np.log1p(np.clip(waits, 0, None))
    lower_scores = log_p10 - log_y
    upper_scores = log_y - log_p90
    pooled = _pair(lower_scores, upper_scores, miss_each_side)
    offsets: dict[str, tuple[float, float]] = {}
    for channel in pd.unique(channels):
        mask = channels == channel
        if mask.sum() < MIN_OUTCOMES:
            offsets[str(channel)] = pooled
            continue
        offsets[str(channel)] = _pair(lower_scores[mask], upper_scores[mask], miss_each_side)
    offsets[POOLED] = pooled
    return offsets


def _pair(lower: np.ndarray, upper: np.ndarray, miss: float) -> tuple[float, float]:
    """The (lower, upper) offsets of one group; the range misses ``2 · miss`` of it in all.

    Where many outcomes sit exactly on the lower bound (waits of 0 under a p10 of 0), no
    offset lets ``miss`` of them fall below: the lower side then misses less, and the upper
    side may miss what the lower side could not (at most ``2 · miss``), so that the range
    still holds ``1 − 2 · miss`` of the outcomes rather than more.
    """
    n = len(lower)
    low = conformal_quantile(lower, miss)
    if n == 0:
        return low, conformal_quantile(upper, miss)
    # What the lower side misses without ties (the finite-sample level), less what it did.
    shortfall = (1 - _conformal_level(n, miss)) - float(np.mean(lower > low))
    return low, conformal_quantile(upper, min(2 * miss, miss + max(0.0, shortfall)))


def median_shift(
    log_p50: np.ndarray, hourly_p50: np.ndarray, channels: np.ndarray
) -> dict[str, float]:
    """Per-channel shift of the log quantiles that makes p50 median-unbiased (and pooled).

    The squared loss on log waits estimates a mean of logs, which sits below the median
    when hourly medians are skewed; the shift is the median log residual of p50.
    """
    residual = np.log1p(hourly_p50) - log_p50
    shift = {str(c): float(np.median(residual[channels == c])) for c in np.unique(channels)}
    shift[POOLED] = float(np.median(residual))
    return shift


def coverage(p10: np.ndarray, p90: np.ndarray, waits: np.ndarray) -> float:
    """Share of outcomes inside [p10, p90] (inclusive)."""
    if len(waits) == 0:
        return float("nan")
    inside = (waits >= p10 - 1e-9) & (waits <= p90 + 1e-9)
    return float(inside.mean())


@dataclass(frozen=True)
class CalibrationWindow:
    """A window later than every training target, that the quantile model fits nothing on.

    Attributes:
        X: the model matrix of its target rows.
        rows: those target rows: queue keys, date, hour and the hour's wait_p10/p50/p90.
        outcomes: the individual outcomes of its hours (queue keys, date, hour, wait).
    """

    X: pd.DataFrame
    rows: pd.DataFrame
    outcomes: pd.DataFrame

    def select(self, columns: list[str]) -> CalibrationWindow:
        """The same window with only ``columns`` of its model matrix."""
        return CalibrationWindow(self.X[columns], self.rows, self.outcomes)


class CalibratedWaitRegressor(BaseEstimator, RegressorMixin):
    """The served wait model: a :class:`WaitQuantileRegressor` and its calibration.

    ``fit`` fits a clone of ``estimator``, then on the calibration window: with the
    squared p50 loss, the per-channel median shift (:func:`median_shift`); then the
    conformal offsets of p10–p90 on the window's individual outcomes
    (:func:`conformal_offsets`). The absolute loss already estimates the median of the
    hour's median wait, so its p50 is not re-centred: a shift fitted on one 28-day window
    follows that window's own noise (it made the appointment p50 worse by a fifth in the
    backtest).

    Args:
        estimator: the quantile model to fit (default: one with default parameters).
        early_stopping: stop adding trees when they stop helping on the calibration window.
        miss_each_side: the share of outcomes the range may miss below p10 and above p90.
    """

    def __init__(
        self,
        estimator: WaitQuantileRegressor | None = None,
        early_stopping: bool = True,
        miss_each_side: float = 0.1,
    ) -> None:
        self.estimator = estimator
        self.early_stopping = early_stopping
        self.miss_each_side = miss_each_side

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        calibration: CalibrationWindow | None = None,
    ) -> CalibratedWaitRegressor:
        """Fit the quantile model on ``X``, ``y``, then calibrate it on ``calibration``.

        Without a calibration window (or with an empty one) the model is served as fitted.
        """
        estimator = clone(self.estimator) if self.estimator is not None else WaitQuantileRegressor()
        eval_set = None
        if calibration is not None and self.early_stopping:
            eval_set = (calibration.X, calibration.rows[list(QUANTILE_TARGETS)])
        estimator.fit(X, y, sample_weight=sample_weight, eval_set=eval_set)
        self.estimator_ = estimator
        self.feature_names_in_ = list(estimator.feature_names_in_)
        self.shift_: dict[str, float] = {}
        self.offsets_: dict[str, tuple[float, float]] = {}
        if calibration is None or calibration.rows.empty:
            return self
        rows = calibration.rows
        channels = rows[s.CHANNEL].astype(str).to_numpy()
        if estimator.median_loss == "l2":
            log_p50 = estimator.predict_log(calibration.X)[:, 1]
            self.shift_ = median_shift(log_p50, rows[s.WAIT_P50].to_numpy(float), channels)
        log_q = self.predict_log(calibration.X)
        keyed = rows[_HOUR_KEYS].assign(log_p10=log_q[:, 0], log_p90=log_q[:, 2])
        joined = keyed.merge(calibration.outcomes, on=_HOUR_KEYS, how="inner")
        if not joined.empty:
            self.offsets_ = conformal_offsets(
                joined["log_p10"].to_numpy(),
                joined["log_p90"].to_numpy(),
                joined[s.WAIT].to_numpy(float),
                joined[s.CHANNEL].astype(str).to_numpy(),
                self.miss_each_side,
            )
        return self

    @classmethod
    def from_parts(
        cls,
        estimator: WaitQuantileRegressor,
        shift: dict[str, float] | None,
        offsets: dict[str, Any],
    ) -> CalibratedWaitRegressor:
        """A fitted model from a fitted quantile model and its stored calibration."""
        model = cls(estimator)
        model.estimator_ = estimator
        model.feature_names_in_ = list(estimator.feature_names_in_)
        model.shift_ = {str(k): float(v) for k, v in (shift or {}).items()}
        model.offsets_ = {str(k): (float(v[0]), float(v[1])) for k, v in offsets.items()}
        return model

    def predict_log(self, X: pd.DataFrame) -> np.ndarray:
        """log1p quantiles with the median shift, before the conformal offsets, (n, 3)."""
        check_fitted(self, "estimator_")
        log_q = self.estimator_.predict_log(X)
        if not self.shift_:
            return log_q
        pooled = self.shift_.get(POOLED, 0.0)
        channel = X[s.CHANNEL].astype(str).to_numpy()
        log_q += np.array([self.shift_.get(c, pooled) for c in channel])[:, None]
        return sort_quantiles(log_q)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated p10, p50, p90 in minutes, shape (n, 3); p10 <= p50 <= p90, all >= 0."""
        log_q = self.predict_log(X)
        if self.offsets_:
            channel = X[s.CHANNEL].astype(str).to_numpy()
            pooled = self.offsets_.get(POOLED, (0.0, 0.0))
            lower = np.array([self.offsets_.get(c, pooled)[0] for c in channel])
            upper = np.array([self.offsets_.get(c, pooled)[1] for c in channel])
            log_q[:, 0] = np.minimum(log_q[:, 0] - lower, log_q[:, 1])
            log_q[:, 2] = np.maximum(log_q[:, 2] + upper, log_q[:, 1])
        return np.clip(np.expm1(log_q), 0, None)
