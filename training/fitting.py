"""The fit recipe that both training engines share: the training frame and the model fits.

:func:`training.pipeline.fit_forecaster` fits in this process or on a Dask cluster
(``TrainConfig.engine``). The two engines differ only in *where* :func:`training_frame`
runs — on the whole hourly table, or on each partition of offices on the workers
(:mod:`training.dask_fit`) — and in *which estimator classes* :func:`fit_models` is given
(:data:`LOCAL`, or the ``lightgbm.dask`` ones). Everything else is spelled here once and
reads a pandas or a Dask frame alike: the target rows and their booking mask, which rows
each model learns from and with what weight, the LightGBM parameters, the starting level
of the wait models (the historical mean), early stopping and calibration on the
calibration window.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from features import schema as s
from features.build import build_features
from features.calendars import Calendars
from features.errors import UnusableInputError
from features.levels import LevelCache
from features.offices import OfficeRegistry
from features.spec import ORIGIN, FeatureSpec
from models.calibration import CalibratedWaitRegressor, CalibrationWindow
from models.estimators import (
    QUANTILE_TARGETS,
    CountRegressor,
    ShareRegressor,
    WaitQuantileRegressor,
)
from training.sampling import bounded_targets

if TYPE_CHECKING:
    from training.pipeline import TrainConfig

__all__ = [
    "LOCAL",
    "TARGET_COLUMNS",
    "Estimators",
    "fit_models",
    "masked_origin",
    "target",
    "training_frame",
]

#: The columns of the target rows that a training frame carries (see :func:`target`).
TARGET_COLUMNS = (*QUANTILE_TARGETS, s.N_OUTCOMES, s.ARRIVALS, s.NEVER_CALLED_SHARE)


def target(column: str) -> str:
    """The name of target ``column`` in a training frame (kept apart from feature names)."""
    return f"y_{column}"


@dataclass(frozen=True)
class Estimators:
    """The estimator classes an engine fits with (same constructor and ``fit`` contract)."""

    wait: type[WaitQuantileRegressor]
    count: type[CountRegressor]
    share: type[ShareRegressor]


LOCAL = Estimators(WaitQuantileRegressor, CountRegressor, ShareRegressor)


def masked_origin(origin: dt.date, config: TrainConfig) -> bool:
    """Whether the rows of ``origin`` are trained as if bookings were unknown (seeded)."""
    code = zlib.crc32(f"{config.seed}:{origin.isoformat()}".encode()) % 1000
    return code < config.booking_mask_share * 1000


def training_frame(
    hourly: pd.DataFrame,
    bookings: pd.DataFrame,
    calendars: Calendars,
    offices: OfficeRegistry,
    spec: FeatureSpec,
    origins: list[dt.date],
    config: TrainConfig,
    *,
    max_rows: int,
    seed: int,
    share: float | None = None,
    network: pd.DataFrame | None = None,
    factors: pd.DataFrame | None = None,
    levels: LevelCache | None = None,
) -> pd.DataFrame:
    """The model matrix of the target rows at ``origins``, with their targets.

    Columns: ``spec.feature_names``, then :data:`TARGET_COLUMNS` as :func:`target` names.
    Rows are :func:`training.sampling.bounded_targets` (``max_rows``, ``seed`` and
    ``share`` are its own); the booked count of masked origins is unknown (NaN).
    ``network``, ``factors`` and ``levels`` are :func:`features.build.build_features`' own (a
    partition of offices passes the network levels and weekday factors of the whole table;
    a training run, the levels its fits share).
    """
    rows = bounded_targets(hourly, origins, config.horizon_days, max_rows, seed, share)
    frame = build_features(
        rows, hourly, calendars, offices, spec, bookings, network, factors, levels
    )
    if spec.use_bookings and config.booking_mask_share > 0:
        masked = rows[ORIGIN].map(lambda d: masked_origin(d, config)).to_numpy()
        frame.loc[masked, s.BOOKED] = np.nan
    for column in TARGET_COLUMNS:
        frame[target(column)] = rows[column].to_numpy(dtype=float)
    return frame


def estimator_params(config: TrainConfig) -> dict[str, Any]:
    """The estimators' constructor parameters from the train config."""
    return {
        "n_estimators": config.n_estimators,
        "learning_rate": config.learning_rate,
        "num_leaves": config.num_leaves,
        "min_child_samples": config.min_child_samples,
        "random_state": config.seed,
        "n_jobs": config.n_jobs,
    }


def fit_models(
    frame: Any,
    calibration: CalibrationWindow,
    spec: FeatureSpec,
    config: TrainConfig,
    estimators: Estimators,
    *,
    waits_only: bool = False,
) -> tuple[CalibratedWaitRegressor, CountRegressor | None, ShareRegressor | None]:
    """Fit the calibrated wait quantiles, expected arrivals and the chance of being called.

    Args:
        frame: a :func:`training_frame` (pandas), or many of them as a Dask frame.
        calibration: the calibration window: the eval set of early stopping, and where the
            wait model's median shift and conformal offsets are fitted.
        estimators: the classes that fit (:data:`LOCAL` or the Dask ones).
        waits_only: fit the wait quantiles alone (arrivals and the chance of being called
            None): a backtest fold judges only the waits, and the two models take nearly
            two fifths of a fit's boosting.
    """
    params = estimator_params(config)
    features = spec.model_features
    has_wait = frame[target(s.N_OUTCOMES)] > 0
    if _count(has_wait) == 0:
        raise UnusableInputError("no hour with a measured wait before the calibration window")
    base = tuple(spec.base_level(t) for t in QUANTILE_TARGETS) if config.from_baseline else ()
    relative = tuple(spec.wait_level_names) if config.relative_levels and base else ()
    quantiles = estimators.wait(
        **params,
        median_loss=config.median_loss,
        base_columns=base,
        relative_columns=relative,
        keep_raw=config.raw_levels,
        median_bag=config.median_bag,
        range_learning_rate=config.range_learning_rate,
        bag_subsample=config.bag_subsample,
    )
    wait = CalibratedWaitRegressor(quantiles, early_stopping=config.early_stopping).fit(
        frame.loc[has_wait, features],
        frame.loc[has_wait, [target(c) for c in QUANTILE_TARGETS]].rename(
            columns={target(c): c for c in QUANTILE_TARGETS}
        ),
        sample_weight=np.sqrt(frame.loc[has_wait, target(s.N_OUTCOMES)]),
        calibration=calibration.select(features),
    )
    if waits_only:
        return wait, None, None
    arrivals = frame[target(s.ARRIVALS)]
    counted = arrivals.notnull()
    if _count(counted) == 0:
        return wait, None, None
    count = estimators.count(**params).fit(frame.loc[counted, features], arrivals[counted])
    walk_in = counted & (arrivals > 0)
    walk_in &= frame[s.CHANNEL].astype(str) == s.Channel.WALK_IN.value
    if _count(walk_in) == 0:
        return wait, count, None
    called = estimators.share(**params).fit(
        frame.loc[walk_in, features],
        1 - frame.loc[walk_in, target(s.NEVER_CALLED_SHARE)],
        sample_weight=arrivals[walk_in],
    )
    return wait, count, called


def _count(mask: Any) -> int:
    """How many rows a pandas or Dask boolean series selects."""
    total = mask.sum()
    return int(total.compute() if hasattr(total, "compute") else total)
