"""Whether a newly trained version may replace the current one. Pure.

The rules, in order:

1. A version whose backtest serves a channel worse than that channel's best baseline
   (held-out p50 MAE) is never promoted over a current version. With no current version it
   is promoted (something must serve), and the reason is kept.
2. With no current version, the new one is promoted.
3. Otherwise the new version must be no worse than the current one on the same backtest
   folds (the current one's stored metrics when they cover the same folds, else its recipe
   backtested again on the new data — see :func:`current_on_same_folds`).
4. A version trained without a backtest (too little history) never replaces a current one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from training.metrics import BASELINES, MAE, MODEL, SERVED

Metrics = Mapping[str, Any]


@dataclass(frozen=True)
class Decision:
    """The verdict and the numbers behind it."""

    promote: bool
    reason: str
    new_mae: float | None = None
    current_mae: float | None = None
    folds: tuple[str, ...] = ()


def _served(by_estimator: Mapping[str, Any]) -> Mapping[str, Any]:
    """The served estimator's figures (older versions stored only the model's)."""
    return by_estimator.get(SERVED) or by_estimator.get(MODEL) or {}


def fold_mae(metrics: Metrics, folds: list[str]) -> float | None:
    """Mean served p50 MAE over the given fold origins (None if any is missing)."""
    values = []
    for origin in folds:
        value = _served(metrics.get("folds", {}).get(origin, {})).get(MAE)
        if value is None:
            return None
        values.append(value)
    return sum(values) / len(values) if values else None


def common_folds(new: Metrics, current: Metrics) -> list[str]:
    """Fold origins present in both metrics."""
    return sorted(set(new.get("folds", {})) & set(current.get("folds", {})))


def worse_than_baseline(metrics: Metrics) -> list[str]:
    """Channels whose served backtest MAE is above their best baseline's, with figures."""
    found = []
    for channel, by_est in sorted(metrics.get("by_channel", {}).items()):
        served = _served(by_est).get(MAE)
        bases = {b: by_est.get(b, {}).get(MAE) for b in BASELINES}
        bases = {b: v for b, v in bases.items() if v is not None}
        if served is None or not bases:
            continue
        best = min(bases, key=lambda b: bases[b])
        if served > bases[best]:
            found.append(f"{channel}: {served:.2f} min > {best} {bases[best]:.2f} min")
    return found


def decide(new: Metrics, current: Metrics | None) -> Decision:
    """Apply the rules of the module docstring.

    Args:
        new: the new version's backtest metrics.
        current: the current version's backtest metrics *on the same folds* (None when
            there is no current version).
    """
    worse = worse_than_baseline(new)
    if current is None:
        if worse:
            return Decision(
                True, "no current model; served although worse than a baseline: " + "; ".join(worse)
            )
        if not new.get("folds"):
            return Decision(True, f"no current model; {new.get('note', 'no backtest')}")
        return Decision(True, "no current model")
    if worse:
        return Decision(False, "worse than a baseline on the backtest: " + "; ".join(worse))
    if not new.get("folds"):
        return Decision(False, "the new version has no backtest to compare with the current one")
    folds = common_folds(new, current)
    new_mae, current_mae = fold_mae(new, folds), fold_mae(current, folds)
    if not folds or new_mae is None or current_mae is None:
        return Decision(False, "the current model has no backtest on the same folds")
    verdict = "no worse than" if new_mae <= current_mae else "worse than"
    return Decision(
        new_mae <= current_mae,
        f"backtest MAE {new_mae:.2f} min is {verdict} the current "
        f"{current_mae:.2f} min on the same folds",
        new_mae,
        current_mae,
        tuple(folds),
    )


def current_on_same_folds(
    new: Metrics,
    stored: Metrics | None,
    recipe: Mapping[str, Any] | None,
    rerun: Callable[[Mapping[str, Any]], Metrics],
) -> Metrics | None:
    """The current version's backtest on the new version's folds.

    Its stored metrics when they cover the same folds; otherwise its recipe (train config,
    the defaults when none was stored) backtested again on the new data by ``rerun``.
    None when there is no current version.
    """
    if stored is None:
        return None
    if not new.get("folds") or len(common_folds(new, stored)) == len(new["folds"]):
        return stored
    return rerun(recipe or {})
