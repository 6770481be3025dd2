"""Split-conformal calibration of the p10–p90 range on individual outcomes.

On a calibration window that the quantile models did not see, each outcome (one
citizen's wait, or one posted wait) gets two scores in log1p minutes:
``lower = log1p(p10) - log1p(y)`` and ``upper = log1p(y) - log1p(p90)``. The offsets are
the conformal quantiles of these scores per channel, so that about 10 % of outcomes fall
below the widened p10 and 10 % above the widened p90 (conformalized quantile
regression, Romano et al. 2019, with asymmetric tails). An offset may be negative: the
range then narrows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from features import schema as s

MIN_OUTCOMES = 30


def conformal_quantile(scores: np.ndarray, miss: float) -> float:
    """The finite-sample conformal quantile at level ceil((n + 1)(1 - miss)) / n."""
    n = len(scores)
    if n == 0:
        return 0.0
    level = min(1.0, math.ceil((n + 1) * (1 - miss)) / n)
    return float(np.quantile(scores, level, method="higher"))


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
    pooled = (
        conformal_quantile(lower_scores, miss_each_side),
        conformal_quantile(upper_scores, miss_each_side),
    )
    offsets: dict[str, tuple[float, float]] = {}
    for channel in pd.unique(channels):
        mask = channels == channel
        if mask.sum() < MIN_OUTCOMES:
            offsets[str(channel)] = pooled
            continue
        offsets[str(channel)] = (
            conformal_quantile(lower_scores[mask], miss_each_side),
            conformal_quantile(upper_scores[mask], miss_each_side),
        )
    offsets["*"] = pooled
    return offsets


def coverage(p10: np.ndarray, p90: np.ndarray, waits: np.ndarray) -> float:
    """Share of outcomes inside [p10, p90] (inclusive)."""
    if len(waits) == 0:
        return float("nan")
    inside = (waits >= p10 - 1e-9) & (waits <= p90 + 1e-9)
    return float(inside.mean())


OUTCOME_COLUMNS = [*s.QUEUE_KEYS, s.DATE, s.HOUR, s.WAIT]
