"""The estimators of :mod:`models.estimators`, fitted on a Dask cluster with ``lightgbm.dask``.

Same scikit-learn contract, same LightGBM parameters and objectives; only ``fit`` differs:
it takes Dask collections (pandas frames are split into partitions) and trains with
LightGBM's data-parallel learner across the cluster's workers. The fitted model is a
plain LightGBM booster, so ``predict``, the text format, bundles and serving are those of
the local estimators.

Two caveats of distributed LightGBM, handled here and by :mod:`training.dask_fit`:

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
    _params,
)

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


def _dask_fit(estimator: Any, objective: str, X: Any, y: Any, weight: Any) -> Any:
    """One distributed fit with the estimator's parameters; returns the local booster."""
    client = _client()
    quiet_lightgbm()
    client.run(quiet_lightgbm)  # on every worker: they print LightGBM's network log
    params = {_RENAMED.get(k, k): v for k, v in _params(estimator, objective).items()}
    params.pop("n_jobs")  # lightgbm.dask gives each worker its own thread count
    model = DaskLGBMRegressor(client=client, n_estimators=estimator.n_estimators, **params)
    with Lock(FIT_LOCK):
        model.fit(X, y, sample_weight=weight)
    return model.booster_


def _client() -> Client:
    try:
        return get_client()
    except ValueError:
        raise RuntimeError(
            "the dask estimators need a running distributed.Client (waitcast train --engine "
            "dask starts one)"
        ) from None


def _as_dask(X: Any, *others: Any) -> tuple[Any, ...]:
    """Dask collections for X and the others: pandas inputs are split into partitions."""
    if isinstance(X, dd.DataFrame):
        return (X, *others)
    n = max(1, len(_client().scheduler_info().get("workers", {})))
    parts = [dd.from_pandas(X, npartitions=n)]
    for other in others:
        if other is None:
            parts.append(None)
        else:
            series = pd.Series(np.asarray(other), index=X.index)
            parts.append(dd.from_pandas(series, npartitions=n))
    return tuple(parts)


class DaskWaitQuantileRegressor(WaitQuantileRegressor):
    """:class:`WaitQuantileRegressor` fitted with ``lightgbm.dask``, one quantile at a time."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> DaskWaitQuantileRegressor:
        """Fit p10, p50 and p90 on the log1p of ``y``'s columns (Dask or pandas)."""
        missing = [c for c in QUANTILE_TARGETS if c not in y.columns]
        if missing:
            raise ValueError(f"y needs the columns {missing}")
        self.boosters_ = []
        for target in QUANTILE_TARGETS:
            label = np.log1p(y[target].clip(lower=0))
            X_d, label_d, weight_d = _as_dask(X, label, sample_weight)
            objective = self.median_loss if target == QUANTILE_TARGETS[1] else "l2"
            self.boosters_.append(_dask_fit(self, objective, X_d, label_d, weight_d))
        self.offsets_: dict[str, tuple[float, float]] = {}
        self.shift_: dict[str, float] = {}
        self.feature_names_in_ = list(X.columns)
        return self


class DaskCountRegressor(CountRegressor):
    """:class:`CountRegressor` fitted with ``lightgbm.dask``."""

    def fit(self, X: Any, y: Any) -> DaskCountRegressor:
        """Fit on hourly arrival counts (Dask or pandas)."""
        X_d, y_d = _as_dask(X, y.clip(lower=0) if hasattr(y, "clip") else np.clip(y, 0, None))
        self.booster_ = _dask_fit(self, self.objective, X_d, y_d, None)
        self.feature_names_in_ = list(X.columns)
        return self


class DaskShareRegressor(ShareRegressor):
    """:class:`ShareRegressor` fitted with ``lightgbm.dask``."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> DaskShareRegressor:
        """Fit on the hour's called share in [0, 1], weighted by arrivals (Dask or pandas)."""
        share = y.clip(0, 1) if hasattr(y, "clip") else np.clip(y, 0, 1)
        X_d, y_d, w_d = _as_dask(X, share, sample_weight)
        self.booster_ = _dask_fit(self, self.objective, X_d, y_d, w_d)
        self.feature_names_in_ = list(X.columns)
        return self
