"""LightGBM estimators with the scikit-learn contract, stored in LightGBM's text format.

- :class:`WaitQuantileRegressor`: p10, p50 and p90 of the wait in an hour. Each is a
  LightGBM model on ``log1p`` of the hour's own p10, p50 and p90: p50 with the absolute
  loss (so it estimates the median of the hour's median wait; ``median_loss="l2"`` is a
  faster, slightly less accurate option), p10 and p90 with the squared loss (their
  level is set by calibration). The p50 model may be a bag of ``median_bag`` boosters
  seeded apart, their outputs averaged (one by default). Quantiles never cross
  (sorted). The served model is this one inside
  :class:`models.calibration.CalibratedWaitRegressor`, whose ``fit`` adds, on a *later*
  window, the median shift (with the squared loss) and the split-conformal offsets that
  make p10–p90 hold 80 % of individual waits.
- :class:`CountRegressor`: expected arrivals per hour (Poisson loss).
- :class:`ShareRegressor`: the chance of being called before closing (cross-entropy on
  the hour's called share, weighted by arrivals).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from features import schema as s
from models import hyperparams
from models.hyperparams import (
    LightGBMEstimator,
    check_fitted,
    lightgbm_params,
    member_seed,
    train_booster,
)

QUANTILE_TARGETS = (s.WAIT_P10, s.WAIT_P50, s.WAIT_P90)
MAX_WAIT_MINUTES = 24 * 60.0  # a starting level above a day is a broken input


def sort_quantiles(log_q: np.ndarray) -> np.ndarray:
    """p10 and p90 (columns 0 and 2) moved onto their side of p50 (column 1), in place."""
    log_q[:, 0] = np.minimum(log_q[:, 0], log_q[:, 1])
    log_q[:, 2] = np.maximum(log_q[:, 2], log_q[:, 1])
    return log_q


def log_label(values: Any) -> Any:
    """The wait quantile models' label: log1p of the minutes, negatives as 0 (a pandas or
    Dask series)."""
    return np.log1p(values.astype(float).clip(lower=0))


def relative_name(column: str) -> str:
    """The trees' name of a level read relative to the starting level, beside the level."""
    return f"{column}__rel"


def member_name(quantile: str, member: int) -> str:
    """The text's name of booster ``member`` of a quantile's model: ``wait_p50``, then
    ``wait_p50.1``, ``wait_p50.2``..."""
    return quantile if member == 0 else f"{quantile}.{member}"


def member_count(names: Collection[str], quantile: str) -> int:
    """How many boosters of ``quantile`` ``names`` hold (members 0, 1, ... in a row)."""
    count = 0
    while member_name(quantile, count) in names:
        count += 1
    return count


class WaitQuantileRegressor(LightGBMEstimator):
    """Hourly p10/p50/p90 of the wait (minutes), uncalibrated: the served model wraps it in
    :class:`models.calibration.CalibratedWaitRegressor`."""

    def __init__(
        self,
        n_estimators: int = hyperparams.N_ESTIMATORS,
        learning_rate: float = hyperparams.LEARNING_RATE,
        num_leaves: int = hyperparams.NUM_LEAVES,
        min_child_samples: int = hyperparams.MIN_CHILD_SAMPLES,
        subsample: float = hyperparams.SUBSAMPLE,
        colsample: float = hyperparams.COLSAMPLE,
        reg_lambda: float = hyperparams.REG_LAMBDA,
        n_jobs: int = hyperparams.N_JOBS,
        random_state: int = hyperparams.RANDOM_STATE,
        median_loss: str = hyperparams.MEDIAN_LOSS,
        base_columns: tuple[tuple[str, ...], ...] = (),
        early_stopping_rounds: int = hyperparams.EARLY_STOPPING_ROUNDS,
        relative_columns: tuple[str, ...] = (),
        keep_raw: bool = False,
        median_bag: int = hyperparams.MEDIAN_BAG,
        range_learning_rate: float | None = hyperparams.RANGE_LEARNING_RATE,
        bag_subsample: float = hyperparams.BAG_SUBSAMPLE,
    ) -> None:
        super().__init__(
            n_estimators,
            learning_rate,
            num_leaves,
            min_child_samples,
            subsample,
            colsample,
            reg_lambda,
            n_jobs,
            random_state,
        )
        self.early_stopping_rounds = early_stopping_rounds
        self.median_loss = median_loss  # the loss of the p50 model: "l2" or "l1"
        # Per quantile, the columns whose first non-missing value (log1p) the trees start
        # from: the model learns corrections of that level (e.g. the historical mean)
        # instead of the level itself. Empty: the trees start from the label's mean.
        self.base_columns = base_columns
        # The trailing wait levels the trees read as their log1p over the p50 starting
        # level, not as minutes: how a cell stands against the queue's other levels (a
        # steady peak, or one high week) rather than how high it is. Read raw, the trees
        # learn "a high level comes down" from transient surges and pull every steady
        # peak down with them. Empty: every column as built.
        self.relative_columns = relative_columns
        # Whether the trees read the relative values *beside* the levels in minutes (as
        # ``<column>__rel``) rather than instead of them: appointment waits are nearly the
        # same at every office, and for them a high level in minutes does come down.
        self.keep_raw = keep_raw
        # Boosters of the p50 model, seeded apart, their outputs averaged (p10 and p90: one).
        self.median_bag = median_bag
        # The share of rows each tree of a bag's member sees (``subsample`` without a bag).
        self.bag_subsample = bag_subsample
        # The learning rate of the p10 and p90 models (None: ``learning_rate``).
        self.range_learning_rate = range_learning_rate

    def _base(self, X: pd.DataFrame) -> np.ndarray:
        """The starting level of each quantile (log1p minutes), shape (n, 3)."""
        base = np.zeros((len(X), len(QUANTILE_TARGETS)))
        if not self.base_columns:
            return base
        for j, columns in enumerate(self.base_columns):
            value = pd.Series(np.nan, index=X.index)
            for column in columns:
                value = value.fillna(X[column].astype(float))
            value = value.where(np.isfinite(value)).clip(0, MAX_WAIT_MINUTES)
            base[:, j] = np.log1p(value.fillna(self.base_fill_[j]).to_numpy())
        return base

    def _tree_input(self, X: Any, base: np.ndarray) -> Any:
        """The matrix the trees read: ``X`` with each of ``relative_columns`` as its log1p
        minus the p50 starting level (``base``'s column 1, log1p minutes), in its place or,
        with ``keep_raw``, beside it."""
        columns = [c for c in self.relative_columns if c in X.columns]
        if not columns or not self.base_columns:
            return X
        levels = log_label(X[columns]).to_numpy() - base[:, 1:2]
        if not self.keep_raw:
            return X.assign(**dict(zip(columns, levels.T, strict=True)))
        beside = pd.DataFrame(levels, index=X.index, columns=[relative_name(c) for c in columns])
        return pd.concat([X, beside], axis=1)

    def fit(
        self,
        X: pd.DataFrame,
        y: pd.DataFrame,
        sample_weight: np.ndarray | None = None,
        eval_set: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    ) -> WaitQuantileRegressor:
        """Fit one model per quantile column of ``y`` (wait_p10, wait_p50, wait_p90).

        With ``eval_set`` (later rows than the training ones, e.g. the calibration
        window), each model stops adding trees once they stop helping on it for
        ``early_stopping_rounds`` rounds, keeping the best count: corrections of the base
        level that do not carry forward in time are not learned.
        """
        self._check_fit_input(X, y)
        # One binned dataset for the three models: only the label changes between them.
        labels = [log_label(y[c]).to_numpy() for c in QUANTILE_TARGETS]
        self.base_fill_ = [float(np.median(label)) for label in labels]
        base = self._base(X)
        data = lgb.Dataset(
            self._tree_input(X, base), label=labels[0], weight=sample_weight, free_raw_data=True
        )
        if self.base_columns:
            data.set_init_score(np.ascontiguousarray(base[:, 0]))
        evaluation = self._eval_targets(eval_set)
        valid = None
        if evaluation is not None:
            X_val, val_labels, val_base = evaluation
            valid = lgb.Dataset(
                self._tree_input(X_val, val_base),
                label=val_labels[0],
                reference=data,
                free_raw_data=True,
            )
        boosters: list[list[lgb.Booster]] = []
        for j, (target, label) in enumerate(zip(QUANTILE_TARGETS, labels, strict=True)):
            if boosters:
                data.set_label(label)
                if self.base_columns:
                    data.set_init_score(np.ascontiguousarray(base[:, j]))
            if valid is not None:
                valid.set_label(val_labels[j])
                if self.base_columns:
                    valid.set_init_score(np.ascontiguousarray(val_base[:, j]))
            members = []
            for params in self._member_params(target):
                callbacks: list[Any] = []
                if valid is not None:
                    callbacks = [lgb.early_stopping(self.early_stopping_rounds, verbose=False)]
                members.append(
                    lgb.train(
                        params,
                        data,
                        num_boost_round=self.n_estimators,
                        valid_sets=[valid] if valid is not None else None,
                        callbacks=callbacks,
                    )
                )
            boosters.append(members)
        return self._fitted(X, boosters)

    # --- the parts of fit that the distributed fit shares (models.dask_estimators) ------
    def _check_fit_input(self, X: Any, y: Any) -> None:
        missing = [c for c in QUANTILE_TARGETS if c not in y.columns]
        if missing:
            raise ValueError(f"y needs the columns {missing}")
        if len(X) == 0:
            raise ValueError("no rows to fit on")

    def _target_params(self, target: str) -> dict[str, Any]:
        """LightGBM parameters of one quantile's model: p50 with ``median_loss``, p10 and
        p90 with the squared loss at ``range_learning_rate``; from the base level (not the
        label's mean) if any."""
        params = lightgbm_params(self, self.median_loss if target == s.WAIT_P50 else "l2")
        if target != s.WAIT_P50 and self.range_learning_rate is not None:
            params["learning_rate"] = self.range_learning_rate
        if self.base_columns:
            params["boost_from_average"] = False
        return params

    def _member_params(self, target: str) -> list[dict[str, Any]]:
        """The parameters of each booster of one quantile's model: ``median_bag`` seeds
        for p50 (:func:`models.hyperparams.member_seed`), each tree of a member seeing
        ``bag_subsample`` of the rows; one booster for p10 and p90."""
        params = self._target_params(target)
        count = max(1, self.median_bag) if target == s.WAIT_P50 else 1
        if count > 1:
            params = {**params, "bagging_fraction": self.bag_subsample, "bagging_freq": 1}
        return [{**params, "seed": member_seed(self.random_state, i)} for i in range(count)]

    def _eval_targets(
        self, eval_set: tuple[pd.DataFrame, pd.DataFrame] | None
    ) -> tuple[pd.DataFrame, list[np.ndarray], np.ndarray] | None:
        """The early-stopping rows: their matrix, log labels and base levels (or None)."""
        if eval_set is None or not len(eval_set[0]):
            return None
        X_val, y_val = eval_set
        labels = [log_label(y_val[c]).to_numpy() for c in QUANTILE_TARGETS]
        return X_val, labels, self._base(X_val)

    def _fitted(self, X: Any, boosters: list[list[lgb.Booster]]) -> Any:
        """Keep the fitted boosters, per quantile its members (each cut at its best round,
        if stopped early); ``best_rounds_`` are the first member's."""
        self.boosters_ = boosters
        self.best_rounds_ = [m[0].best_iteration or m[0].current_iteration() for m in boosters]
        self.feature_names_in_ = list(X.columns)
        return self

    def predict_log(self, X: pd.DataFrame) -> np.ndarray:
        """log1p quantiles, shape (n, 3); p10 and p90 kept on their side of p50 (p50 is
        never moved: it is the median model's own)."""
        check_fitted(self, "boosters_")
        base = self._base(X)
        trees = self._tree_input(X[self.feature_names_in_], base)
        raw = np.column_stack(
            [np.mean([b.predict(trees) for b in members], axis=0) for members in self.boosters_]
        )
        raw += base
        return sort_quantiles(raw)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Uncalibrated p10, p50, p90 in minutes, shape (n, 3); sorted, all >= 0."""
        return np.clip(np.expm1(self.predict_log(X)), 0, None)

    def to_texts(self) -> dict[str, str]:
        """LightGBM text of each booster, by :func:`member_name`."""
        check_fitted(self, "boosters_")
        return {
            member_name(name, i): b.model_to_string()
            for name, members in zip(QUANTILE_TARGETS, self.boosters_, strict=True)
            for i, b in enumerate(members)
        }

    @classmethod
    def from_texts(
        cls,
        texts: dict[str, str],
        feature_names: list[str],
        base_columns: tuple[tuple[str, ...], ...] = (),
        base_fill: list[float] | None = None,
        relative_columns: tuple[str, ...] = (),
        keep_raw: bool = False,
    ) -> WaitQuantileRegressor:
        """Rebuild a fitted regressor from :meth:`to_texts` output."""
        model = cls(
            base_columns=tuple(tuple(c) for c in base_columns),
            relative_columns=tuple(relative_columns),
            keep_raw=keep_raw,
        )
        model.base_fill_ = list(base_fill or [0.0] * len(QUANTILE_TARGETS))
        model.boosters_ = [  # each quantile's first booster is required, as ever
            [
                lgb.Booster(model_str=texts[member_name(name, i)])
                for i in range(max(1, member_count(texts, name)))
            ]
            for name in QUANTILE_TARGETS
        ]
        model.median_bag = len(model.boosters_[1])
        model.feature_names_in_ = list(feature_names)
        return model


class _SingleBooster(LightGBMEstimator):
    objective = "regression"

    def _fit(self, X: pd.DataFrame, y: np.ndarray, weight: np.ndarray | None) -> None:
        if len(X) == 0:
            raise ValueError("no rows to fit on")
        self.booster_ = train_booster(
            lightgbm_params(self, self.objective), X, y, weight, self.n_estimators
        )
        self.feature_names_in_ = list(X.columns)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predictions for the rows of X."""
        check_fitted(self, "booster_")
        return np.asarray(self.booster_.predict(X[self.feature_names_in_]))

    def to_text(self) -> str:
        """LightGBM text of the model."""
        check_fitted(self, "booster_")
        return str(self.booster_.model_to_string())

    @classmethod
    def from_text(cls, text: str, feature_names: list[str]) -> Any:
        """Rebuild from :meth:`to_text` output."""
        model = cls()
        model.booster_ = lgb.Booster(model_str=text)
        model.feature_names_in_ = list(feature_names)
        return model


class CountRegressor(_SingleBooster):
    """Expected arrivals per hour (Poisson loss)."""

    objective = "poisson"

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> CountRegressor:
        """Fit on hourly arrival counts."""
        self._fit(X, np.clip(np.asarray(y, float), 0, None), None)
        return self


class ShareRegressor(_SingleBooster):
    """Probability that a number taken in this hour is called before closing."""

    objective = "cross_entropy"

    def fit(
        self, X: pd.DataFrame, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> ShareRegressor:
        """Fit on the hour's called share in [0, 1], weighted by arrivals."""
        self._fit(X, np.clip(np.asarray(y, float), 0, 1), sample_weight)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Chance of being called, in [0, 1]."""
        return np.clip(super().predict(X), 0, 1)
