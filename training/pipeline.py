"""Training: validated frames in, a fitted :class:`Forecaster` out. Pure: no file I/O.

Steps (see ``README.md`` → "How the model works"):

1. :func:`features.dataset.prepare_data` turns validated tickets and/or observations into
   outcomes, the hourly table on the open-hour grid, and the appointment book.
2. :func:`fit_forecaster` fits on everything before ``until``:
   - target rows for origins every ``origin_step_days``, each with the hours of the next
     ``horizon_days`` before the calibration window (direct multi-horizon training);
   - the wait quantile models, expected arrivals and the chance of being called;
   - conformal offsets on the last ``calibration_days`` (origin at their start), a window
     the trees never saw as targets.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from features import schema as s
from features.bookings import lead_days
from features.build import build_features, training_targets
from features.dataset import TrainingData
from features.errors import UnusableInputError
from features.spec import ORIGIN, FeatureSpec
from models.calibration import conformal_offsets
from models.estimators import (
    QUANTILE_TARGETS,
    CountRegressor,
    ShareRegressor,
    WaitQuantileRegressor,
)
from models.forecaster import Forecaster
from training.sampling import bounded_targets  # issue 14


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; stored with every model."""

    horizon_days: int = 28
    origin_step_days: int = 7
    calibration_days: int = 28
    max_train_days: int = 730
    n_estimators: int = 160
    learning_rate: float = 0.075
    num_leaves: int = 31
    min_child_samples: int = 40
    median_loss: str = "l1"  # loss of the p50 model: "l1" (the hour's median) or "l2"
    booking_mask_share: float = 0.5  # share of origins trained as if bookings were unknown
    # Trailing windows of the level features (days), and the long weekday × hour window.
    level_windows: tuple[int, ...] = (7, 28, 56)
    long_cell_weeks: int = 26
    # Seasons are learned only from two occurrences: day-of-year, month and school-break
    # features from two years of history, the same weeks last year from one year plus the
    # windows it reads.
    yearly_min_days: int = 730
    # The wait models learn corrections of the historical mean (their starting level)
    # rather than the wait itself: with no signal beyond it they stay at the baseline.
    from_baseline: bool = True
    # Days to/from a holiday count up to here: on short histories a longer reach only
    # stands for the date (a time proxy the trees overfit, seen on real data).
    holiday_reach_days: int = 3
    # The office as a category: its level is the trees' starting point already, and with
    # many offices the category overfits their past.
    office_feature: bool = False
    # Trees stop when they stop improving the calibration window (later than every
    # training target): corrections that do not carry forward in time are not learned.
    early_stopping: bool = True
    robust_base: bool = True  # start the wait models from the cell's median (FeatureSpec)
    last_year_min_days: int = 456
    seed: int = 0
    # Threads per LightGBM fit. One: the backtest runs folds in parallel processes, and
    # OpenMP threads on a busy machine slow a fit down by an order of magnitude.
    n_jobs: int = 1
    parallel_folds: int = 2  # backtest folds fitted at once (processes)
    # issue 14: above this many training rows a fit reads a seeded uniform sample of them
    # (training/sampling.py); 0 = every row. One city has a few hundred thousand.
    max_fit_rows: int = 1_000_000
    # issue 14: "local", or "dask": features built per office partition on the workers of
    # the current distributed.Client and LightGBM fitted with lightgbm.dask (training/dask_fit.py)
    engine: str = "local"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def make_spec(data: TrainingData, config: TrainConfig, until: dt.date) -> FeatureSpec:
    """The feature spec for the data before ``until``: category levels, whether bookings
    are known, and which seasonal features the history can support."""
    history = (until - data.start).days
    queues = data.hourly[list(s.QUEUE_KEYS)].drop_duplicates()
    return FeatureSpec(
        horizon_days=config.horizon_days,
        long_cell_weeks=config.long_cell_weeks,
        level_windows=tuple(config.level_windows),
        use_bookings=data.has_bookings,
        yearly=history >= config.yearly_min_days,
        last_year=history >= config.last_year_min_days,
        offices=tuple(sorted(queues[s.OFFICE_ID].astype(str).unique())),
        channels=s.CHANNELS,
        services=tuple(sorted(queues[s.SERVICE].astype(str).unique())),
        events=data.events,
        holiday_reach_days=config.holiday_reach_days,
        office_feature=config.office_feature,
        robust_base=config.robust_base,
    )


MIN_HISTORY_DAYS = 10


@dataclass(frozen=True)
class Windows:
    """The training windows actually used, shrunk for short histories."""

    calibration_days: int
    warmup_days: int
    origin_step_days: int


def effective_windows(config: TrainConfig, span_days: int) -> Windows:
    """Shrink the calibration window, warm-up and origin step when history is short.

    With a year or more of data the configured values hold; a few weeks of data (a new
    office, or a wait board scraped for a month) still get a calibration window of about
    a fifth of the history and an origin every day or two.
    """
    if span_days < MIN_HISTORY_DAYS:
        return Windows(config.calibration_days, 14, config.origin_step_days)
    return Windows(
        calibration_days=min(config.calibration_days, max(3, span_days // 5)),
        warmup_days=min(14, max(3, span_days // 5)),
        origin_step_days=min(config.origin_step_days, max(1, span_days // 20)),
    )


@dataclass
class FitResult:
    """A fitted forecaster plus its calibration window (read by the baselines' fallbacks,
    and by the range of a version that has no backtest)."""

    forecaster: Forecaster
    calibration_X: pd.DataFrame
    calibration_y: pd.DataFrame
    calibration_rows: pd.DataFrame  # queue keys, date, hour, origin, wait_p50
    calibration_outcomes: pd.DataFrame  # the individual outcomes of those hours


def fit_forecaster(
    data: TrainingData, config: TrainConfig, until: dt.date | None = None
) -> FitResult:
    """Fit on data dated before ``until`` (default: all data)."""
    if config.engine == "dask":  # issue 14: the same recipe, fitted on a Dask cluster
        from training.dask_fit import fit_forecaster_dask

        return fit_forecaster_dask(data, config, until)
    until = until or data.end + dt.timedelta(days=1)
    spec = make_spec(data, config, until)
    calendars = data.calendars
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
    fit_rows = bounded_targets(  # issue 14: training_targets, at most max_fit_rows of them
        hourly[hourly[s.DATE] < calibration_start],
        sorted(origins),
        config.horizon_days,
        config.max_fit_rows,
        config.seed,
    )
    X_all = build_features(fit_rows, hourly, calendars, data.offices, spec, data.bookings)
    if spec.use_bookings and config.booking_mask_share > 0:
        masked = fit_rows[ORIGIN].map(lambda d: _masked(d, config)).to_numpy()
        X_all.loc[masked, s.BOOKED] = np.nan
    params: dict[str, Any] = {
        "n_estimators": config.n_estimators,
        "learning_rate": config.learning_rate,
        "num_leaves": config.num_leaves,
        "min_child_samples": config.min_child_samples,
        "random_state": config.seed,
        "n_jobs": config.n_jobs,
    }
    has_wait = (fit_rows[s.N_OUTCOMES] > 0).to_numpy()
    if has_wait.sum() == 0:
        raise UnusableInputError("no hour with a measured wait before the calibration window")
    cal_rows = training_targets(
        hourly[hourly[s.DATE] >= calibration_start],
        [calibration_start],
        config.horizon_days,
        need_outcomes=True,
    )
    cal_X = build_features(cal_rows, hourly, calendars, data.offices, spec, data.bookings)
    base = tuple(spec.base_level(t) for t in QUANTILE_TARGETS) if config.from_baseline else ()
    wait = WaitQuantileRegressor(**params, median_loss=config.median_loss, base_columns=base)
    wait.fit(
        X_all[has_wait],
        fit_rows.loc[has_wait, list(QUANTILE_TARGETS)],
        sample_weight=np.sqrt(fit_rows.loc[has_wait, s.N_OUTCOMES].to_numpy(float)),
        eval_set=(cal_X, cal_rows[list(QUANTILE_TARGETS)]) if config.early_stopping else None,
    )
    arrivals, called = _fit_counts(X_all, fit_rows, params)
    _calibrate(wait, cal_rows, cal_X, data.outcomes)
    tail_start = until - dt.timedelta(days=spec.history_days + 1)
    forecaster = Forecaster(
        spec=spec,
        wait=wait,
        arrivals=arrivals,
        called=called,
        history=hourly[hourly[s.DATE] >= tail_start].reset_index(drop=True),
        offices=data.offices,
        calendars=calendars,
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


def _masked(origin: dt.date, config: TrainConfig) -> bool:
    code = zlib.crc32(f"{config.seed}:{origin.isoformat()}".encode()) % 1000
    return code < config.booking_mask_share * 1000


def _fit_counts(
    X: pd.DataFrame, rows: pd.DataFrame, params: dict[str, Any]
) -> tuple[CountRegressor | None, ShareRegressor | None]:
    has_arrivals = rows[s.ARRIVALS].notna().to_numpy()
    if has_arrivals.sum() == 0:
        return None, None
    arrivals = CountRegressor(**params).fit(X[has_arrivals], rows.loc[has_arrivals, s.ARRIVALS])
    walk_in = has_arrivals & (rows[s.CHANNEL] == s.Channel.WALK_IN.value).to_numpy()
    walk_in &= (rows[s.ARRIVALS] > 0).to_numpy()
    if walk_in.sum() == 0:
        return arrivals, None
    share = 1 - rows.loc[walk_in, s.NEVER_CALLED_SHARE].to_numpy(float)
    called = ShareRegressor(**params).fit(
        X[walk_in], share, sample_weight=rows.loc[walk_in, s.ARRIVALS].to_numpy(float)
    )
    return arrivals, called


def _calibrate(
    wait: WaitQuantileRegressor, rows: pd.DataFrame, X: pd.DataFrame, outcomes: pd.DataFrame
) -> None:
    """Conformal offsets on the calibration window; with the squared p50 loss, first the
    per-channel median shift.

    The absolute loss already estimates the median of the hour's median wait, so its p50
    is not re-centred: a shift fitted on one 28-day window follows that window's own
    noise (it made the appointment p50 worse by a fifth in the backtest).
    """
    if rows.empty:
        return
    if wait.median_loss == "l2":
        residual = np.log1p(rows[s.WAIT_P50].to_numpy(float)) - wait.predict_log(X)[:, 1]
        channels = rows[s.CHANNEL].astype(str).to_numpy()
        shift = {str(c): float(np.median(residual[channels == c])) for c in np.unique(channels)}
        shift["*"] = float(np.median(residual))
        wait.set_shift(shift)
    log_q = wait.predict_log(X)
    keyed = rows[[*s.QUEUE_KEYS, s.DATE, s.HOUR]].assign(log_p10=log_q[:, 0], log_p90=log_q[:, 2])
    joined = keyed.merge(outcomes, on=[*s.QUEUE_KEYS, s.DATE, s.HOUR], how="inner")
    if joined.empty:
        return
    wait.set_offsets(
        conformal_offsets(
            joined["log_p10"].to_numpy(),
            joined["log_p90"].to_numpy(),
            joined[s.WAIT].to_numpy(float),
            joined[s.CHANNEL].astype(str).to_numpy(),
        )
    )


def recipe(stored: Mapping[str, Any]) -> TrainConfig:
    """The train config of a stored version (unknown keys of other versions ignored)."""
    known = set(TrainConfig.__dataclass_fields__)
    values = {k: v for k, v in stored.items() if k in known}
    if "level_windows" in values:
        values["level_windows"] = tuple(values["level_windows"])
    return TrainConfig(**values)
