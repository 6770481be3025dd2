"""Fitting on a Dask cluster: features built per partition of offices on the workers, the
LightGBM models fitted with ``lightgbm.dask`` (:mod:`models.dask_estimators`).

The same recipe as :func:`training.pipeline.fit_forecaster` (same origins, windows,
targets, weights, booking mask and calibration), distributed where the work is:

1. the hourly table and the appointment book are split into partitions of whole offices
   (a queue's trailing levels read only its own office's rows, so each partition builds
   its feature rows alone — a test checks they equal the single-process matrix);
2. each worker builds the training rows and features of its partitions;
3. rows are shuffled across partitions at random (the quantile caveat of
   ``lightgbm.dask``, see :mod:`models.dask_estimators`), bounded as the local fit is;
4. the five models are fitted one after another on the cluster; the calibration window
   (one origin, small) is built and scored in this process, as locally.

Selected by ``TrainConfig.engine == "dask"``; the cluster is the current
``distributed.Client`` (``waitcast train --engine dask`` starts one).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from dask import dataframe as dd
from dask import delayed
from distributed import get_client

from features import schema as s
from features.bookings import lead_days
from features.build import build_features, training_targets
from features.calendars import Calendars
from features.dataset import TrainingData
from features.errors import UnusableInputError
from features.offices import OfficeRegistry
from features.spec import ORIGIN, FeatureSpec
from models.dask_estimators import (
    DaskCountRegressor,
    DaskShareRegressor,
    DaskWaitQuantileRegressor,
)
from models.estimators import QUANTILE_TARGETS
from models.forecaster import Forecaster
from training.pipeline import (
    MIN_HISTORY_DAYS,
    FitResult,
    TrainConfig,
    _calibrate,
    _masked,
    effective_windows,
    make_spec,
)
from training.sampling import bounded_targets, sample_share

__all__ = ["feature_partitions", "fit_forecaster_dask", "office_partitions"]

SHUFFLE = "_shuffle"
TARGET_COLUMNS = [*QUANTILE_TARGETS, s.N_OUTCOMES, s.ARRIVALS, s.NEVER_CALLED_SHARE]


def office_partitions(office_ids: list[str], n_parts: int) -> list[list[str]]:
    """Offices dealt into ``n_parts`` groups of about equal count (sorted, round robin)."""
    ordered = sorted(office_ids)
    groups = [ordered[i::n_parts] for i in range(max(1, min(n_parts, len(ordered))))]
    return [g for g in groups if g]


def _partition_rows(
    hourly: pd.DataFrame,
    bookings: pd.DataFrame,
    calendars: Calendars,
    offices: OfficeRegistry,
    spec: FeatureSpec,
    origins: list[dt.date],
    config: TrainConfig,
    seed: int,
    share: float = 1.0,
) -> pd.DataFrame:
    """Training rows of one partition of offices: features, targets and a shuffle key."""
    rows = bounded_targets(hourly, origins, config.horizon_days, 0, seed, share)
    X = build_features(rows, hourly, calendars, offices, spec, bookings)
    if spec.use_bookings and config.booking_mask_share > 0:
        masked = rows[ORIGIN].map(lambda d: _masked(d, config)).to_numpy()
        X.loc[masked, s.BOOKED] = np.nan
    out = X.copy()
    for column in TARGET_COLUMNS:
        out[f"y_{column}"] = rows[column].to_numpy(dtype=float)
    out[SHUFFLE] = np.random.default_rng(seed).random(len(out))
    return out


def _empty_like(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.head(0)


def feature_partitions(
    data: TrainingData,
    hourly: pd.DataFrame,
    calendars: Calendars,
    spec: FeatureSpec,
    origins: list[dt.date],
    config: TrainConfig,
    n_parts: int,
) -> list[Any]:
    """One delayed frame of training rows per partition of offices; together about
    ``config.max_fit_rows`` of them (each partition samples its hourly rows alike)."""
    share = sample_share(hourly, origins, config.horizon_days, config.max_fit_rows)
    parts = []
    for i, group in enumerate(office_partitions(list(spec.offices), n_parts)):
        part_hourly = hourly[hourly[s.OFFICE_ID].astype(str).isin(group)]
        part_bookings = data.bookings[data.bookings[s.OFFICE_ID].astype(str).isin(group)]
        parts.append(
            delayed(_partition_rows)(
                part_hourly,
                part_bookings,
                calendars,
                data.offices,
                spec,
                origins,
                config,
                config.seed * 1000 + i,
                share,
            )
        )
    return parts


def fit_forecaster_dask(
    data: TrainingData, config: TrainConfig, until: dt.date | None = None
) -> FitResult:
    """:func:`training.pipeline.fit_forecaster`, with features and fits on the cluster."""
    client = get_client()
    until = until or data.end + dt.timedelta(days=1)
    spec = make_spec(data, config, until)
    calendar = data.calendars
    hourly = data.hourly[data.hourly[s.DATE] < until]
    windows = effective_windows(config, (until - data.start).days)
    calibration_start = until - dt.timedelta(days=windows.calibration_days)
    first = max(
        data.start + dt.timedelta(days=windows.warmup_days),
        until - dt.timedelta(days=config.max_train_days),
    )
    origins = []
    origin = calibration_start - dt.timedelta(days=1)
    while origin >= first:
        origins.append(origin)
        origin -= dt.timedelta(days=windows.origin_step_days)
    if not origins:
        raise UnusableInputError(
            f"too little history to train: need at least {MIN_HISTORY_DAYS} days before "
            f"{until}, the data start on {data.start}"
        )
    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    parts = feature_partitions(
        data,
        hourly[hourly[s.DATE] < calibration_start],
        calendar,
        spec,
        sorted(origins),
        config,
        2 * n_workers,
    )
    futures = client.compute(parts)  # built on the workers, where they stay
    meta = client.submit(_empty_like, futures[0]).result()
    frame = dd.from_delayed(futures, meta=meta, verify_meta=False)
    frame = frame.shuffle(on=SHUFFLE, npartitions=n_workers).persist()
    wait, arrivals, called = _fit_models(frame, spec, config)
    cal_rows = training_targets(
        hourly[hourly[s.DATE] >= calibration_start],
        [calibration_start],
        config.horizon_days,
        need_outcomes=True,
    )
    cal_X = build_features(cal_rows, hourly, calendar, data.offices, spec, data.bookings)
    _calibrate(wait, cal_rows, cal_X, data.outcomes)
    tail_start = until - dt.timedelta(days=spec.history_days + 1)
    forecaster = Forecaster(
        spec=spec,
        wait=wait,
        arrivals=arrivals,
        called=called,
        history=hourly[hourly[s.DATE] >= tail_start].reset_index(drop=True),
        offices=data.offices,
        calendars=calendar,
        queues=data.queues,
        data_end=until - dt.timedelta(days=1),
        lead_days=lead_days(data.bookings, until),
        service_minutes=data.service_minutes,
    )
    keys = [*s.QUEUE_KEYS, s.DATE, s.HOUR]
    cal_rows = cal_rows.reset_index(drop=True)
    return FitResult(
        forecaster,
        cal_X,
        cal_rows[list(QUANTILE_TARGETS)],
        cal_rows[[*keys, ORIGIN, s.WAIT_P50]],
        data.outcomes.merge(cal_rows[keys], on=keys, how="inner"),
    )


def _fit_models(
    frame: dd.DataFrame, spec: FeatureSpec, config: TrainConfig
) -> tuple[DaskWaitQuantileRegressor, DaskCountRegressor | None, DaskShareRegressor | None]:
    params: dict[str, Any] = {
        "n_estimators": config.n_estimators,
        "learning_rate": config.learning_rate,
        "num_leaves": config.num_leaves,
        "min_child_samples": config.min_child_samples,
        "random_state": config.seed,
        "n_jobs": config.n_jobs,
    }
    features = spec.feature_names
    has_wait = frame[frame[f"y_{s.N_OUTCOMES}"] > 0]
    if int(has_wait.shape[0].compute()) == 0:
        raise UnusableInputError("no hour with a measured wait before the calibration window")
    y = has_wait[[f"y_{c}" for c in QUANTILE_TARGETS]].rename(
        columns={f"y_{c}": c for c in QUANTILE_TARGETS}
    )
    wait = DaskWaitQuantileRegressor(**params, median_loss=config.median_loss).fit(
        has_wait[features], y, sample_weight=np.sqrt(has_wait[f"y_{s.N_OUTCOMES}"])
    )
    counted = frame[frame[f"y_{s.ARRIVALS}"].notnull()]
    if int(counted.shape[0].compute()) == 0:
        return wait, None, None
    arrivals = DaskCountRegressor(**params).fit(counted[features], counted[f"y_{s.ARRIVALS}"])
    walk_in = counted[
        (counted[s.CHANNEL].astype(str) == s.Channel.WALK_IN.value)
        & (counted[f"y_{s.ARRIVALS}"] > 0)
    ]
    if int(walk_in.shape[0].compute()) == 0:
        return wait, arrivals, None
    called = DaskShareRegressor(**params).fit(
        walk_in[features],
        1 - walk_in[f"y_{s.NEVER_CALLED_SHARE}"],
        sample_weight=walk_in[f"y_{s.ARRIVALS}"],
    )
    return wait, arrivals, called
