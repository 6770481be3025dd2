"""Whether a newly trained model may replace the current one. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from training.backtest import MODEL


@dataclass(frozen=True)
class Decision:
    """The verdict and the numbers behind it."""

    promote: bool
    reason: str
    new_mae: float | None = None
    current_mae: float | None = None
    folds: tuple[str, ...] = ()


def fold_mae(metrics: dict[str, Any], folds: list[str]) -> float | None:
    """Mean p50 MAE of the model over the given fold origins (None if any is missing)."""
    values = []
    for origin in folds:
        value = metrics.get("folds", {}).get(origin, {}).get(MODEL, {}).get("mae_p50")
        if value is None:
            return None
        values.append(value)
    return sum(values) / len(values) if values else None


def common_folds(new: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Fold origins present in both metrics."""
    return sorted(set(new.get("folds", {})) & set(current.get("folds", {})))


def decide(new: dict[str, Any], current: dict[str, Any] | None) -> Decision:
    """Promote when no model is current, or when the new backtest MAE is no worse on the same folds.

    Args:
        new: the new model's backtest metrics.
        current: the current model's backtest metrics *on the same folds* (None when
            there is no current model).
    """
    if current is None:
        return Decision(True, "no current model")
    folds = common_folds(new, current)
    new_mae, current_mae = fold_mae(new, folds), fold_mae(current, folds)
    if not folds or new_mae is None or current_mae is None:
        return Decision(False, "the current model has no backtest on the same folds")
    if new_mae <= current_mae:
        return Decision(
            True,
            f"backtest MAE {new_mae:.2f} min is no worse than the current "
            f"{current_mae:.2f} min on the same folds",
            new_mae,
            current_mae,
            tuple(folds),
        )
    return Decision(
        False,
        f"backtest MAE {new_mae:.2f} min is worse than the current "
        f"{current_mae:.2f} min on the same folds",
        new_mae,
        current_mae,
        tuple(folds),
    )
