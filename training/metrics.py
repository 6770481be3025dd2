"""Scores of backtest forecasts, per estimator, channel, office, horizon and fold.

- ``mae_p50``: mean absolute error of p50 against the hour's actual median wait of the
  called tickets (or of the posted waits); ``mae_p50_expected`` against the *expected*
  median (the median over simulator replays) when given, beside the noise floor
  ``mae_expected_vs_actual``, and the expected median's own error ``expected_noise``
  (from two halves of the replays: the part of ``mae_p50_expected`` that no estimator
  can remove with this many replays);
- ``pinball``: mean pinball loss of p10, p50, p90 over individual outcomes;
- ``coverage``: share of individual outcomes inside [p10, p90] (target 80 %);
- ``under_share``: share of hours whose actual median is above p50.

The estimators are the model, the baselines and ``served``: what the version serves (the
per-queue choice between model, historical mean and blend), scored leave-one-fold-out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from features import schema as s
from features.spec import HORIZON, ORIGIN

MODEL = "model"
HISTORICAL_MEAN = "historical_mean"
SEASONAL_NAIVE = "seasonal_naive"
SERVED = "served"
# The historical mean with its cells shrunk toward the weekday-pooled hour: backtested when
# the spec builds it, and served where the mean serves alone on channels it wins. Not a
# baseline a version must beat (it is part of what the version serves).
SHRUNK_MEAN = "shrunk_mean"
BASELINES = (HISTORICAL_MEAN, SEASONAL_NAIVE)
ESTIMATORS = (SERVED, MODEL, HISTORICAL_MEAN, SHRUNK_MEAN, SEASONAL_NAIVE)
ESTIMATOR = "estimator"
EXPECTED = "expected_p50"
EXPECTED_NOISE = "expected_noise"
QUANTILE_LEVELS = {s.P10: 0.1, s.P50: 0.5, s.P90: 0.9}
#: The figures of one estimator in one group, as ``metrics.json`` spells them.
MAE = "mae_p50"
MAE_EXPECTED = "mae_p50_expected"
SUMMARY_KEYS = (MAE, "coverage", "pinball", "under_share", MAE_EXPECTED)


def pinball(y: np.ndarray, q: np.ndarray, level: float) -> np.ndarray:
    """The pinball (quantile) loss of predictions ``q`` at ``level`` for outcomes ``y``."""
    diff = y - q
    return np.maximum(level * diff, (level - 1) * diff)


def _hour_scores(hours: pd.DataFrame) -> pd.DataFrame:
    return hours.assign(
        abs_err=(hours[s.P50] - hours[s.WAIT_P50]).abs(),
        under=(hours[s.WAIT_P50] > hours[s.P50]).astype(float),
        **(
            {
                "abs_err_expected": (hours[s.P50] - hours[EXPECTED]).abs(),
                "noise_floor": (hours[EXPECTED] - hours[s.WAIT_P50]).abs(),
            }
            if EXPECTED in hours
            else {}
        ),
    )


def _outcome_scores(outcomes: pd.DataFrame) -> pd.DataFrame:
    y = outcomes[s.WAIT].to_numpy(float)
    loss = sum(pinball(y, outcomes[c].to_numpy(float), lvl) for c, lvl in QUANTILE_LEVELS.items())
    inside = (y >= outcomes[s.P10].to_numpy() - 1e-9) & (y <= outcomes[s.P90].to_numpy() + 1e-9)
    return outcomes.assign(pinball=loss / 3, inside=inside.astype(float))


def _summaries(hours: pd.DataFrame, outcomes: pd.DataFrame, by: list[str]) -> dict[str, Any]:
    hour_cols = {"abs_err": MAE, "under": "under_share"}
    if "abs_err_expected" in hours:
        hour_cols |= {"abs_err_expected": MAE_EXPECTED, "noise_floor": "mae_expected_vs_actual"}
    if EXPECTED_NOISE in hours:
        hour_cols |= {EXPECTED_NOISE: EXPECTED_NOISE}
    h = hours.groupby(by)[list(hour_cols)].mean().rename(columns=hour_cols)
    h["n_hours"] = hours.groupby(by).size()
    o = outcomes.groupby(by)[["pinball", "inside"]].mean().rename(columns={"inside": "coverage"})
    o["n_outcomes"] = outcomes.groupby(by).size()
    table = h.join(o, how="outer")
    out: dict[str, Any] = {}
    for key, row in table.iterrows():
        parts = key if isinstance(key, tuple) else (key,)
        node = out
        for part in parts[:-1]:
            node = node.setdefault(str(part), {})
        node[str(parts[-1])] = {
            k: (None if pd.isna(v) else round(float(v), 4)) for k, v in row.items()
        }
    return out


def compute_metrics(
    hours: pd.DataFrame, outcomes: pd.DataFrame, origins: list[Any], horizon_days: int
) -> dict[str, Any]:
    """The metrics dictionary written to ``metrics.json`` and stored with a model."""
    hour_scores = _hour_scores(hours)
    outcome_scores = _outcome_scores(outcomes)
    metrics: dict[str, Any] = {
        "origins": [o.isoformat() for o in origins],
        "horizon_days": horizon_days,
        "overall": _summaries(hour_scores, outcome_scores, [ESTIMATOR]),
        "by_channel": _summaries(hour_scores, outcome_scores, [s.CHANNEL, ESTIMATOR]),
        "by_office": _summaries(hour_scores, outcome_scores, [s.OFFICE_ID, ESTIMATOR]),
        "by_horizon": _summaries(hour_scores, outcome_scores, [ESTIMATOR, HORIZON]),
        "folds": _summaries(hour_scores, outcome_scores, [ORIGIN, ESTIMATOR]),
    }
    metrics["ratios"] = ratios(metrics)
    metrics["card"] = accuracy_card(hour_scores, outcome_scores)
    served = metrics["overall"].get(SERVED, metrics["overall"].get(MODEL, {}))
    metrics["summary"] = {k: served.get(k) for k in SUMMARY_KEYS}
    return metrics


def accuracy_card(hours: pd.DataFrame, outcomes: pd.DataFrame) -> dict[str, Any]:
    """Per channel, the accuracy suite's figures of what the version serves, held out.

    ``ratio``: served p50 MAE over the historical mean's on the same hours; ``pinball``
    and ``pinball_historical_mean``; ``coverage`` of p10–p90; ``missing``: share of the
    held-out hours with outcomes that got no served forecast; ``worst_origin`` and its
    ``worst_ratio``. Scored on the backtest's held-out hours only.
    """
    card: dict[str, Any] = {}
    served = hours[hours[ESTIMATOR] == SERVED]
    base = hours[hours[ESTIMATOR] == HISTORICAL_MEAN]
    if served.empty or base.empty:
        return card
    keys = [*s.QUEUE_KEYS, s.DATE, s.HOUR, ORIGIN]
    pair = base[[*keys, "abs_err"]].merge(
        served[[*keys, "abs_err"]], on=keys, how="left", suffixes=("_hm", "")
    )
    for channel, mine in pair.groupby(s.CHANNEL, observed=True):
        have = mine[mine["abs_err"].notna()]
        per_fold = have.groupby(ORIGIN)[["abs_err", "abs_err_hm"]].mean()
        fold_ratio = per_fold["abs_err"] / per_fold["abs_err_hm"].where(per_fold["abs_err_hm"] > 0)
        o = outcomes[outcomes[s.CHANNEL].astype(str) == str(channel)]
        scores = o.groupby(ESTIMATOR)[["pinball", "inside"]].mean()
        hm_mae = float(have["abs_err_hm"].mean())
        worst = fold_ratio.idxmax() if fold_ratio.notna().any() else None
        figures = {
            "ratio": float(have["abs_err"].mean()) / hm_mae if hm_mae > 0 else None,
            "pinball": scores["pinball"].get(SERVED),
            "pinball_historical_mean": scores["pinball"].get(HISTORICAL_MEAN),
            "coverage": scores["inside"].get(SERVED),
            "missing": float(mine["abs_err"].isna().mean()),
            "worst_origin": str(worst) if worst is not None else None,
            "worst_ratio": float(fold_ratio.max()) if worst is not None else None,
        }
        card[str(channel)] = {
            k: (round(float(v), 4) if isinstance(v, int | float) and not pd.isna(v) else v)
            for k, v in figures.items()
        }
    return card


def ratios(metrics: dict[str, Any]) -> dict[str, Any]:
    """Served and model MAE over the better baseline's, per channel (also vs expected)."""
    out: dict[str, Any] = {}
    for channel, by_est in metrics["by_channel"].items():
        entry = {}
        for key in (MAE, MAE_EXPECTED):
            base = [by_est.get(b, {}).get(key) for b in BASELINES]
            base = [b for b in base if b]
            for name in (SERVED, MODEL):
                value = by_est.get(name, {}).get(key)
                if value is not None and base:
                    prefix = "" if name == MODEL else "served_"
                    entry[f"{prefix}{key}_ratio_to_best_baseline"] = round(value / min(base), 4)
        out[channel] = entry
    return out


def empty_metrics(note: str) -> dict[str, Any]:
    """The metrics of a version trained without any backtest (too little history)."""
    return {
        "origins": [],
        "horizon_days": 0,
        "overall": {},
        "by_channel": {},
        "by_office": {},
        "by_horizon": {},
        "folds": {},
        "ratios": {},
        "card": {},
        "summary": {k: None for k in SUMMARY_KEYS},
        "note": note,
    }
