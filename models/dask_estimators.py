"""The estimators of :mod:`models.estimators`, fitted on a Dask cluster with ``lightgbm.dask``.

Same scikit-learn contract, same LightGBM parameters, objectives, labels, starting
level and early stopping (the parts of ``fit`` that :class:`WaitQuantileRegressor`
shares); only the training differs: it takes Dask collections (pandas frames are split
into partitions) and trains with LightGBM's data-parallel learner across the cluster's
workers. The fitted model is a plain LightGBM booster, so ``predict``, the text format,
bundles and serving are those of the local estimators.

Three caveats of distributed LightGBM, handled here and by :mod:`training.dask_fit`:

- **No early stopping.** ``lightgbm.dask`` does not support it (each worker would stop on
  its own share of the eval set); the rule is replayed afterwards on the whole eval set
  (:class:`DaskWaitQuantileRegressor`).

- **Quantile-type objectives.** For the absolute loss (our p50 model) and the quantile
  loss, each worker renews a leaf's value from *its own* rows and LightGBM averages those
  values across workers. The average of per-worker medians is the global median only
  when every worker holds a similar mix of rows: rows are shuffled across partitions at
  random, never one office per worker.
- **One fit at a time.** Concurrent ``lightgbm.dask`` fits on the same workers can hang
  (they compete for the workers' ports and threads): every fit holds a cluster-wide
  ``distributed.Lock``.
"""

from __future__ import annotations

import logging
from typing import Any

import dask
import dask.dataframe as dd
import lightgbm as lgb
import numpy as np
import pandas as pd
from distributed import Client, Lock, get_client
from lightgbm.dask import DaskLGBMRegressor

from models.estimators import (
    QUANTILE_TARGETS,
    CountRegressor,
    ShareRegressor,
    WaitQuantileRegressor,
    log_label,
)
from models.hyperparams import lightgbm_params

__all__ = ["FIT_LOCK", "DaskCountRegressor", "DaskShareRegressor", "DaskWaitQuantileRegressor"]

FIT_LOCK = "waitcast-lightgbm-fit"
# Parameters the scikit-learn wrapper knows by other names: passed under those.
_RENAMED = {
    "min_data_in_leaf": "min_child_samples",
    "feature_fraction": "colsample_bytree",
    "bagging_fraction": "subsample",
    "bagging_freq": "subsample_freq",
    "lambda_l2": "reg_lambda",
    "num_threads": "n_jobs",  # dropped: lightgbm.dask sets it per worker
    "seed": "random_state",
}


def quiet_lightgbm() -> None:
    """Send LightGBM's messages (its network setup is chatty) to Python logging."""
    lgb.register_logger(logging.getLogger("lightgbm"))


def _dask_fit(
    estimator: Any, params: dict[str, Any], X: Any, y: Any, weight: Any, init_score: Any = None
) -> lgb.Booster:
    """One distributed fit with LightGBM ``params``; returns the local booster."""
    client = _client()
    quiet_lightgbm()
    client.run(quiet_lightgbm)  # on every worker: they print LightGBM's network log
    params = {_RENAMED.get(k, k): v for k, v in params.items()}
    params.pop("n_jobs")  # lightgbm.dask gives each worker its own thread count
    model = DaskLGBMRegressor(client=client, n_estimators=estimator.n_estimators, **params)
    with Lock(FIT_LOCK):
        model.fit(X, y, sample_weight=weight, init_score=init_score)
    return model.booster_


def _client() -> Client:
    try:
        return get_client()
    except ValueError:
        raise RuntimeError("the dask estimators need a running distributed.Client") from None


def _as_dask(X: Any, *others: Any) -> tuple[Any, ...]:
    """Dask collections for X and the others (series, frames or arrays of X's rows, or
    None): pandas inputs are split into partitions alike."""
    if isinstance(X, dd.DataFrame):
        return (X, *others)
    n = max(1, len(_client().scheduler_info().get("workers", {})))
    parts = [dd.from_pandas(X, npartitions=n)]
    for other in others:
        if other is None:
            parts.append(None)
            continue
        if not isinstance(other, pd.Series | pd.DataFrame):
            other = pd.Series(np.asarray(other), index=X.index)
        parts.append(dd.from_pandas(other, npartitions=n))
    return tuple(parts)


# The validation loss of LightGBM's default metric for each objective we fit with.
_LOSSES = {"l1": np.abs, "l2": np.square}
_CURVE_CHUNK_ROWS = 100_000


def _validation_curve(
    booster: lgb.Booster, objective: str, X: pd.DataFrame, label: np.ndarray, init: np.ndarray
) -> np.ndarray:
    """The booster's validation loss after each round (as LightGBM reports it: mean loss
    of the float32 label against the init score plus the trees so far)."""
    loss = _LOSSES[objective]
    leaf_values = [
        np.array([booster.get_leaf_output(t, leaf) for leaf in range(tree["num_leaves"])])
        for t, tree in enumerate(booster.dump_model()["tree_info"])
    ]
    target = label.astype(np.float32).astype(float)
    total = np.zeros(len(leaf_values))
    for lo in range(0, len(X), _CURVE_CHUNK_ROWS):
        leaves = np.asarray(booster.predict(X.iloc[lo : lo + _CURVE_CHUNK_ROWS], pred_leaf=True))
        score = init[lo : lo + _CURVE_CHUNK_ROWS].astype(float)
        for t, values in enumerate(leaf_values):
            score = score + values[leaves[:, t]]
            total[t] += loss(target[lo : lo + _CURVE_CHUNK_ROWS] - score).sum()
    return total / max(1, len(X))


def _early_stopped(booster: lgb.Booster, curve: np.ndarray, rounds: int) -> lgb.Booster:
    """The booster cut where ``lgb.early_stopping(rounds)`` would have kept it, given its
    validation curve (its own rule, replayed round by round)."""
    stop = lgb.early_stopping(rounds, verbose=False)
    best = len(curve)
    for i, value in enumerate(curve):
        env = lgb.callback.CallbackEnv(
            model=booster,
            params={},
            iteration=i,
            begin_iteration=0,
            end_iteration=len(curve),
            evaluation_result_list=[lgb.EvalResult("valid_0", "loss", float(value), False, 0.0)],
        )
        try:
            stop(env)
        except lgb.callback.EarlyStopException as stopped:
            best = stopped.best_iteration + 1
            break
    cut = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    cut.best_iteration = best
    return cut


class DaskWaitQuantileRegressor(WaitQuantileRegressor):
    """:class:`WaitQuantileRegressor` fitted with ``lightgbm.dask``, one quantile at a time.

    The same labels, weights, parameters and starting level (``init_score``) as the local
    fit. Early stopping: ``lightgbm.dask`` does not support it (each worker would stop on
    its own share of the eval set, and the fit hangs; LightGBM issues 4493, 6351), so each
    quantile's model is fitted to ``n_estimators`` rounds and then cut at the round the
    local ``lgb.early_stopping`` would have stopped at, by replaying its rule over the
    validation curve computed here on the whole eval set. Boosting never looks at the eval
    set, so this is the model early stopping keeps.
    """

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        eval_set: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    ) -> DaskWaitQuantileRegressor:
        """Fit p10, p50 and p90 on the log1p of ``y``'s columns (Dask or pandas)."""
        self._check_fit_input(X, y)
        X, y, sample_weight = _as_dask(X, y, sample_weight)
        labels = [log_label(y[c]) for c in QUANTILE_TARGETS]
        self.base_fill_ = [float(np.median(v.to_numpy())) for v in dask.compute(*labels)]
        base = None
        if self.base_columns:
            meta = pd.DataFrame({c: pd.Series(dtype=float) for c in QUANTILE_TARGETS})
            base = X.map_partitions(self._base_frame, meta=meta)
        trees = X.map_partitions(self._partition_input) if self.relative_columns else X
        evaluation = self._eval_targets(eval_set)
        boosters = []
        for j, target in enumerate(QUANTILE_TARGETS):
            init = None if base is None else base[target]
            members = []
            for params in self._member_params(target):
                booster = _dask_fit(self, params, trees, labels[j], sample_weight, init)
                if evaluation is not None:
                    X_val, val_labels, val_base = evaluation
                    curve = _validation_curve(
                        booster,
                        params["objective"],
                        self._tree_input(X_val, val_base),
                        val_labels[j],
                        val_base[:, j],
                    )
                    booster = _early_stopped(booster, curve, self.early_stopping_rounds)
                members.append(booster)
            boosters.append(members)
        return self._fitted(X, boosters)

    def _partition_input(self, X: pd.DataFrame) -> pd.DataFrame:
        """The trees' matrix of one partition (see ``relative_columns``)."""
        return self._tree_input(X, self._base(X))

    def _base_frame(self, X: pd.DataFrame) -> pd.DataFrame:
        """The base levels of one partition, a column per quantile."""
        return pd.DataFrame(self._base(X), index=X.index, columns=list(QUANTILE_TARGETS))


class DaskCountRegressor(CountRegressor):
    """:class:`CountRegressor` fitted with ``lightgbm.dask``."""

    def fit(self, X: Any, y: Any) -> DaskCountRegressor:
        """Fit on hourly arrival counts (Dask or pandas)."""
        X_d, y_d = _as_dask(X, y.clip(lower=0) if hasattr(y, "clip") else np.clip(y, 0, None))
        self.booster_ = _dask_fit(self, lightgbm_params(self, self.objective), X_d, y_d, None)
        self.feature_names_in_ = list(X.columns)
        return self


class DaskShareRegressor(ShareRegressor):
    """:class:`ShareRegressor` fitted with ``lightgbm.dask``."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> DaskShareRegressor:
        """Fit on the hour's called share in [0, 1], weighted by arrivals (Dask or pandas)."""
        share = y.clip(0, 1) if hasattr(y, "clip") else np.clip(y, 0, 1)
        X_d, y_d, w_d = _as_dask(X, share, sample_weight)
        self.booster_ = _dask_fit(self, lightgbm_params(self, self.objective), X_d, y_d, w_d)
        self.feature_names_in_ = list(X.columns)
        return self
