"""The served forecast: per queue, the model, the historical mean, or a blend of the two.

After the rolling-origin backtest, training chooses for every queue (or, for a queue with
too few backtest hours, for its pooled group) the share ``w`` of the model in

    p = w · model + (1 − w) · historical mean          (per quantile, in minutes)

among :data:`WEIGHTS`, on held-out backtest hours only (:mod:`training.selection`). The
p10–p90 range of the result is then calibrated by split-conformal offsets (in log1p
minutes) learned on the individual outcomes of the backtest fold nearest the forecast,
per channel and weight, so the range holds 80 % of outcomes whichever estimator answers.
Each forecast row says which one answered (``estimator``: ``model``, ``historical_mean``
or ``blend``).

The shares are chosen with the plain 8-week cell as the model's partner. Where the mean
serves alone (``w = 0``), a channel that training found better served by the cells
shrunk toward the weekday-pooled hour (``shrunk``, judged on the same held-out hours) is
served those instead; and a channel whose blends training found no worse with those
cells as the partner (``partner``) mixes the model with them at the same shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features import schema as s

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
MODEL = "model"
HISTORICAL_MEAN = "historical_mean"
BLEND = "blend"
ESTIMATOR = "estimator"
POOLED = "*"


def label_of(weight: float) -> str:
    """The estimator that answers with this model share."""
    if weight >= 1.0:
        return MODEL
    if weight <= 0.0:
        return HISTORICAL_MEAN
    return BLEND


def offset_key(channel: str, weight: float) -> str:
    """The key of a channel's conformal offsets for a model share."""
    return f"{channel}|{weight:g}"


@dataclass
class Blend:
    """Per-queue model shares and the conformal offsets of the blended range.

    Attributes:
        weights: rows of ``office_id, channel, service, weight``.
        pooled: model share per channel (and ``*``) for queues not in ``weights``.
        offsets: (lower, upper) log1p offsets per :func:`offset_key`, per channel and ``*``.
        notes: why a channel fell back to the baseline, if it did.
        shrunk: channels whose mean, where it serves alone, is the shrunk one.
        partner: channels whose blends (a model share strictly between 0 and 1) mix the
            model with the shrunk mean rather than the plain one.
    """

    weights: pd.DataFrame
    pooled: dict[str, float] = field(default_factory=lambda: {POOLED: 1.0})
    offsets: dict[str, tuple[float, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    shrunk: list[str] = field(default_factory=list)
    partner: list[str] = field(default_factory=list)

    @property
    def reads_shrunk(self) -> bool:
        """Whether any served row takes the shrunk mean (alone or in a blend)."""
        return bool(self.shrunk or self.partner)

    @classmethod
    def model_only(cls) -> Blend:
        """The model everywhere, its range as it is."""
        return cls(pd.DataFrame(columns=[*s.QUEUE_KEYS, "weight"]))

    def weight_of(self, rows: pd.DataFrame) -> np.ndarray:
        """The model share of each row's queue."""
        keys = list(s.QUEUE_KEYS)
        merged = (
            rows[keys]
            .astype(str)
            .merge(self.weights.astype({k: str for k in keys}), on=keys, how="left")
        )
        pooled = rows[s.CHANNEL].astype(str).map(self.pooled).fillna(self.pooled.get(POOLED, 1.0))
        return merged["weight"].fillna(pd.Series(pooled.to_numpy())).to_numpy(float)

    def combine(
        self,
        rows: pd.DataFrame,
        model_q: np.ndarray,
        baseline_q: np.ndarray,
        shrunk_q: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Blended, calibrated p10/p50/p90 (n, 3) and the estimator label of each row, from
        the model's, the plain mean's and the shrunk mean's quantiles (n, 3)."""
        weight = self.weight_of(rows)
        channels = rows[s.CHANNEL].astype(str).to_numpy()
        q = self.mix(channels, weight, model_q, baseline_q, shrunk_q)
        q = self.calibrate(q, channels, weight)
        return q, np.array([label_of(w) for w in weight], dtype=object)

    def mix(
        self,
        channels: np.ndarray,
        weight: np.ndarray,
        model_q: np.ndarray,
        baseline_q: np.ndarray,
        shrunk_q: np.ndarray | None = None,
    ) -> np.ndarray:
        """``w · model + (1 − w) · mean`` per row (uncalibrated), the mean being the shrunk
        one where it serves alone on a :attr:`shrunk` channel or in a blend on a
        :attr:`partner` channel."""
        base = np.asarray(baseline_q, float)
        if shrunk_q is not None and self.reads_shrunk:
            alone = (weight <= 0.0) & np.isin(channels, self.shrunk)
            blended = (weight > 0.0) & (weight < 1.0) & np.isin(channels, self.partner)
            base = np.where((alone | blended)[:, None], np.asarray(shrunk_q, float), base)
        return weight[:, None] * np.asarray(model_q, float) + (1 - weight[:, None]) * base

    def calibrate(self, q: np.ndarray, channels: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """Apply the conformal offsets to p10 and p90 (in log1p minutes); sorted, >= 0."""
        q = np.clip(np.asarray(q, float), 0, None)
        if not self.offsets:
            return np.sort(q, axis=1)
        pooled = self.offsets.get(POOLED, (0.0, 0.0))
        lower, upper = np.empty(len(q)), np.empty(len(q))
        for i, (channel, w) in enumerate(zip(channels, weight, strict=True)):
            lo, hi = self.offsets.get(offset_key(channel, w), self.offsets.get(channel, pooled))
            lower[i], upper[i] = lo, hi
        log_q = np.log1p(q)
        log_q[:, 0] = np.minimum(log_q[:, 0] - lower, log_q[:, 1])
        log_q[:, 2] = np.maximum(log_q[:, 2] + upper, log_q[:, 1])
        return np.sort(np.clip(np.expm1(log_q), 0, None), axis=1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "weights": self.weights.astype({"weight": float}).to_dict(orient="records"),
            "pooled": self.pooled,
            "offsets": {k: list(v) for k, v in self.offsets.items()},
            "notes": self.notes,
            "shrunk": self.shrunk,
            "shrunk_partner": self.partner,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Blend:
        """Inverse of :meth:`to_dict`."""
        weights = pd.DataFrame(data.get("weights", []), columns=[*s.QUEUE_KEYS, "weight"])
        return cls(
            weights=weights,
            pooled={str(k): float(v) for k, v in data.get("pooled", {POOLED: 1.0}).items()},
            offsets={
                str(k): (float(v[0]), float(v[1])) for k, v in data.get("offsets", {}).items()
            },
            notes=list(data.get("notes", [])),
            shrunk=[str(c) for c in data.get("shrunk", [])],
            partner=[str(c) for c in data.get("shrunk_partner", [])],
        )
