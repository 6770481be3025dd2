"""Training: validated frames in, a fitted :class:`Forecaster` out. Pure: no file I/O.

Steps (see ``README.md`` → "How the model works"):

1. :func:`features.dataset.prepare_data` turns validated tickets and/or observations into
   outcomes, the hourly table on the open-hour grid, and the appointment book.
2. :func:`fit_forecaster` fits on everything before ``until``:
   - target rows for origins every ``origin_step_days``, each with the hours of the next
     ``horizon_days`` before the calibration window (direct multi-horizon training);
   - the wait quantile models (calibrated by their own ``fit``: median shift and conformal
     offsets on the last ``calibration_days``, origin at their start, a window the trees
     never saw as targets), expected arrivals and the chance of being called.

   The training frame and the model fits are :mod:`training.fitting`'s; with
   ``engine="dask"`` the frame is built on a Dask cluster and the models fitted with
   ``lightgbm.dask`` (:mod:`training.dask_fit`), the recipe unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from joblib import Parallel, delayed

from features import schema as s
from features.bookings import lead_days
from features.build import build_features, training_targets
from features.dataset import TrainingData
from features.errors import UnusableInputError
from features.levels import LevelCache, level_cache
from features.spec import ORIGIN, FeatureSpec
from models import hyperparams
from models.calibration import CalibrationWindow
from models.estimators import QUANTILE_TARGETS
from models.forecaster import Forecaster
from training.fitting import LOCAL, Estimators, fit_models, training_frame


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; stored with every model."""

    horizon_days: int = 28
    origin_step_days: int = 7
    calibration_days: int = 28
    max_train_days: int = 730
    # LightGBM's hyper-parameters: defaults in models/hyperparams.py, the one place.
    n_estimators: int = hyperparams.N_ESTIMATORS
    learning_rate: float = hyperparams.LEARNING_RATE
    num_leaves: int = hyperparams.NUM_LEAVES
    min_child_samples: int = hyperparams.MIN_CHILD_SAMPLES
    median_loss: str = hyperparams.MEDIAN_LOSS
    median_bag: int = hyperparams.MEDIAN_BAG  # p50 boosters averaged (models.estimators)
    range_learning_rate: float | None = hyperparams.RANGE_LEARNING_RATE  # p10, p90 models
    bag_subsample: float = hyperparams.BAG_SUBSAMPLE  # rows per tree of a bag's member
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
    holiday_breaks: bool = True  # days off in a row of the next/last holiday (FeatureSpec)
    robust_base: bool = True  # start the wait models from the cell's median (FeatureSpec)
    # The wait models' trees read every trailing wait level relative to that starting
    # level, as its log1p over it (models.estimators: relative_columns) ...
    relative_levels: bool = True
    # ... beside the level in minutes, not instead of it (models.estimators: keep_raw).
    raw_levels: bool = True
    horizon_feature: bool = False  # the days ahead as a model feature (FeatureSpec)
    change_cell: bool = True  # each cell's mean since a dated change (FeatureSpec)
    change_pooled: bool = True  # ... read with the weekdays pooled (FeatureSpec)
    # The served mean's cells shrunk toward the hour (FeatureSpec), served where the mean
    # serves alone (training.selection: shrunk_channels) ...
    shrunk_cell: bool = True
    shrunk_base: bool = True  # ... and the p50 wait model starts from it (FeatureSpec)
    # ... and a channel's blends mix the model with it rather than the plain mean, unless
    # the backtest shows the plain partner better (training.selection: partner_channels).
    shrunk_partner: bool = True
    last_year_min_days: int = 456
    seed: int = hyperparams.RANDOM_STATE  # LightGBM's, and the sampling and booking mask's
    n_jobs: int = hyperparams.N_JOBS  # threads per LightGBM fit
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
        holiday_breaks=config.holiday_breaks,
        robust_base=config.robust_base,
        change_cell=config.change_cell,
        change_pooled=config.change_pooled,
        shrunk_cell=config.shrunk_cell,
        shrunk_base=config.shrunk_base,
        horizon_feature=config.horizon_feature,
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
    data: TrainingData,
    config: TrainConfig,
    until: dt.date | None = None,
    *,
    waits_only: bool = False,
    levels: LevelCache | None = None,
) -> FitResult:
    """Fit on data dated before ``until`` (default: all data).

    The engine (``config.engine``) swaps only where the training frame is built and which
    estimator classes fit; the recipe is :mod:`training.fitting`'s. ``waits_only`` (a
    backtest fold, which judges only the waits) leaves out the expected arrivals and the
    chance of being called; the wait models are the same either way. ``levels`` are the
    levels the fits of one training run share (:func:`shared_levels`; local engine).
    """
    plan = _plan(data, config, until)
    if config.engine == "dask":  # issue 14: features per office partition, lightgbm.dask
        from training.dask_fit import DASK, distributed_frame

        frame = distributed_frame(data, plan, config)
        return _finish(data, config, plan, frame, DASK, waits_only, levels)
    frame = training_frame(
        plan.train_hourly,
        data.bookings,
        data.calendars,
        data.offices,
        plan.spec,
        plan.origins,
        config,
        max_rows=config.max_fit_rows,  # issue 14: at most max_fit_rows target rows
        seed=config.seed,
        levels=levels,
    )
    return _finish(data, config, plan, frame, LOCAL, waits_only, levels)


@dataclass(frozen=True)
class FitPlan:
    """What a fit before ``until`` reads: its spec, hourly rows and training origins."""

    until: dt.date
    spec: FeatureSpec
    hourly: pd.DataFrame  # the hourly table before ``until``
    calibration_start: dt.date
    origins: list[dt.date]  # training origins, ascending, all before calibration_start

    @property
    def train_hourly(self) -> pd.DataFrame:
        """The hourly rows the training targets come from (before the calibration window)."""
        return self.hourly[self.hourly[s.DATE] < self.calibration_start]


def _plan(data: TrainingData, config: TrainConfig, until: dt.date | None) -> FitPlan:
    until = until or data.end + dt.timedelta(days=1)
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
    hourly = data.hourly[data.hourly[s.DATE] < until]
    spec = make_spec(data, config, until)
    return FitPlan(until, spec, hourly, calibration_start, sorted(origins))


# The levels a training run's fits share are kept when at most this many rows (about
# 200 bytes each): a city's year holds ~100,000; a country's would hold tens of millions,
# and each fit computes its own instead (as every fit held them all at once).
SHARED_LEVEL_ROWS = 5_000_000


def shared_levels(
    data: TrainingData, config: TrainConfig, untils: list[dt.date | None]
) -> LevelCache | None:
    """The levels that fits before each of ``untils`` (None: all data) and their
    forecasts at each ``until`` read, computed once (``config.parallel_folds`` processes
    share the origins) — or None with the dask engine or past :data:`SHARED_LEVEL_ROWS`.

    Folds whole weeks apart share nearly every training origin: without this each fit
    computes the levels of all of its origins again, most of a small fit's time.
    """
    if config.engine != "local" or not untils:
        return None
    origins: set[dt.date] = set()
    spec = None
    for until in untils:
        try:
            plan = _plan(data, config, until)
        except UnusableInputError:
            continue
        if spec is None:
            spec = plan.spec
        origins |= {*plan.origins, plan.calibration_start}
        if until is not None:  # a backtest fold's forecast
            origins.add(until)
    last_week = data.hourly[data.hourly[s.DATE] > data.end - dt.timedelta(days=7)]
    if spec is None or len(last_week) * len(origins) > SHARED_LEVEL_ROWS:
        return None
    countries = data.offices.countries()
    ordered = sorted(origins)
    n_jobs = max(1, min(config.parallel_folds, len(ordered)))
    chunks = [ordered[i::n_jobs] for i in range(n_jobs)]
    jobs = (delayed(level_cache)(data.hourly, chunk, spec, countries) for chunk in chunks)
    return LevelCache.merged(Parallel(n_jobs=n_jobs)(jobs))


def _finish(
    data: TrainingData,
    config: TrainConfig,
    plan: FitPlan,
    frame: Any,
    estimators: Estimators,
    waits_only: bool,
    levels: LevelCache | None,
) -> FitResult:
    """Fit the models on ``frame``, calibrate them on the calibration window, and wrap."""
    spec, hourly, until = plan.spec, plan.hourly, plan.until
    cal_rows = training_targets(
        hourly[hourly[s.DATE] >= plan.calibration_start],
        [plan.calibration_start],
        config.horizon_days,
        need_outcomes=True,
    )
    # as served: without the book of the coming weeks (see training.backtest._fold)
    cal_X = build_features(cal_rows, hourly, data.calendars, data.offices, spec, levels=levels)
    calibration = CalibrationWindow(cal_X, cal_rows, data.outcomes)
    wait, arrivals, called = fit_models(
        frame, calibration, spec, config, estimators, waits_only=waits_only
    )
    tail_start = until - dt.timedelta(days=spec.history_days + 1)
    forecaster = Forecaster(
        spec=spec,
        wait=wait,
        arrivals=arrivals,
        called=called,
        history=hourly[hourly[s.DATE] >= tail_start].reset_index(drop=True),
        offices=data.offices,
        calendars=data.calendars,
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


#: Options added after versions were stored, as a stored recipe without the key was
#: trained: a re-run of it (on the candidate's folds) must do the same.
BEFORE_THE_OPTION = {
    "robust_base": False,
    "change_cell": False,
    "change_pooled": False,
    "holiday_breaks": False,
    "relative_levels": False,
    "raw_levels": False,
    "horizon_feature": True,
    "shrunk_cell": False,
    "shrunk_base": False,
    "shrunk_partner": False,
    "range_learning_rate": None,
    # a bag stored before the option (median_bag > 1) had its members on SUBSAMPLE rows
    "bag_subsample": hyperparams.SUBSAMPLE,
}


def recipe(stored: Mapping[str, Any]) -> TrainConfig:
    """The train config of a stored version (unknown keys of other versions ignored; the
    options it predates as they were before them)."""
    known = set(TrainConfig.__dataclass_fields__)
    values = {**BEFORE_THE_OPTION, **{k: v for k, v in stored.items() if k in known}}
    if "level_windows" in values:
        values["level_windows"] = tuple(values["level_windows"])
    return TrainConfig(**values)
