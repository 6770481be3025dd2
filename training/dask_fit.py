"""The Dask engine: the training frame built per partition of offices on the workers, the
LightGBM models fitted with ``lightgbm.dask`` (:mod:`models.dask_estimators`).

:func:`training.pipeline.fit_forecaster` with ``TrainConfig.engine == "dask"`` swaps two
things and nothing else: the training frame comes from :func:`distributed_frame` and the
estimators are :data:`DASK`. Targets, booking mask, weights, starting level, early
stopping and calibration are the local recipe's (:mod:`training.fitting`,
:mod:`training.pipeline`).

1. the hourly table and the appointment book are split into partitions of whole offices:
   a queue's trailing levels read only its own office's rows, so each partition builds
   its rows alone, but for the network levels and the weekday factors of the served
   mean's shrunk cells (per channel, over every office), computed here once and sent to
   every partition — a test checks the partitions' rows equal the
   single-process matrix;
2. each worker builds :func:`training.fitting.training_frame` of its partitions, each
   keeping the same share of hourly rows when the fit is bounded (``max_fit_rows``);
3. rows are shuffled across partitions at random (the quantile caveat of
   ``lightgbm.dask``, see :mod:`models.dask_estimators`) and kept on the workers;
4. the five models are fitted one after another on the cluster; the calibration window
   (one origin, small) is built and scored in this process, as locally.

The cluster is the current ``distributed.Client`` (``waitcast train --engine dask`` starts
one).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from dask import dataframe as dd
from dask import delayed
from distributed import get_client

from features import schema as s
from features.dataset import TrainingData
from features.levels import network_table, weekday_factors
from features.spec import FeatureSpec
from models.dask_estimators import (
    DaskCountRegressor,
    DaskShareRegressor,
    DaskWaitQuantileRegressor,
)
from training.fitting import Estimators, training_frame
from training.sampling import sample_share

if TYPE_CHECKING:
    from training.pipeline import FitPlan, TrainConfig

__all__ = ["DASK", "distributed_frame", "feature_partitions", "office_partitions"]

DASK = Estimators(DaskWaitQuantileRegressor, DaskCountRegressor, DaskShareRegressor)
SHUFFLE = "_shuffle"


def office_partitions(office_ids: list[str], n_parts: int) -> list[list[str]]:
    """Offices dealt into ``n_parts`` groups of about equal count (sorted, round robin)."""
    ordered = sorted(office_ids)
    groups = [ordered[i::n_parts] for i in range(max(1, min(n_parts, len(ordered))))]
    return [g for g in groups if g]


def _shuffled(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """``frame`` with a random shuffle key."""
    return frame.assign(**{SHUFFLE: np.random.default_rng(seed).random(len(frame))})


def _empty_like(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.head(0)


def feature_partitions(
    data: TrainingData,
    hourly: pd.DataFrame,
    spec: FeatureSpec,
    origins: list[dt.date],
    config: TrainConfig,
    n_parts: int,
) -> list[Any]:
    """One delayed :func:`training.fitting.training_frame` per partition of offices, with a
    shuffle key; together about ``config.max_fit_rows`` rows (each partition samples its
    hourly rows alike)."""
    share = sample_share(hourly, origins, config.horizon_days, config.max_fit_rows)
    network = network_table(hourly, origins, spec)  # per channel: read across partitions
    factors = weekday_factors(hourly, origins, spec) if spec.shrunk_cell else None
    parts = []
    for i, group in enumerate(office_partitions(list(spec.offices), n_parts)):
        seed = config.seed * 1000 + i
        frame = delayed(training_frame)(
            hourly[hourly[s.OFFICE_ID].astype(str).isin(group)],
            data.bookings[data.bookings[s.OFFICE_ID].astype(str).isin(group)],
            data.calendars,
            data.offices,
            spec,
            origins,
            config,
            max_rows=0,
            seed=seed,
            share=share,
            network=network,
            factors=factors,
        )
        parts.append(delayed(_shuffled)(frame, seed))
    return parts


def distributed_frame(data: TrainingData, plan: FitPlan, config: TrainConfig) -> dd.DataFrame:
    """The training frame of ``plan``, built and kept on the workers of the current client,
    its rows shuffled across one partition per worker."""
    client = get_client()
    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    parts = feature_partitions(
        data, plan.train_hourly, plan.spec, plan.origins, config, 2 * n_workers
    )
    futures = client.compute(parts)  # built on the workers, where they stay
    meta = client.submit(_empty_like, futures[0]).result()
    frame = dd.from_delayed(futures, meta=meta, verify_meta=False)
    return frame.shuffle(on=SHUFFLE, npartitions=n_workers).persist()
