"""Training: validated frames in, a fitted :class:`Forecaster` out. Pure: no file I/O.

Steps (see ``README.md`` → "How the model works"):

1. :func:`prepare_data` turns validated tickets and/or observations into outcomes, the
   hourly table on the open-hour grid, and the appointment book.
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
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features import schema as s
from features.build import ORIGIN, FeatureSpec, build_features, training_targets
from features.calendar_cn import ChinaCalendar
from features.errors import UnusableInputError
from features.hourly import (
    hourly_table,
    observation_outcomes,
    open_grid,
    ticket_outcomes,
    with_open_hours,
)
from features.offices import OfficeRegistry, infer_offices
from models.calibration import conformal_offsets
from models.estimators import (
    QUANTILE_TARGETS,
    CountRegressor,
    ShareRegressor,
    WaitQuantileRegressor,
)
from models.forecaster import Forecaster
from training.sampling import bounded_targets  # issue 14

BOOKED_DATE = "booked_date"


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


@dataclass
class TrainingData:
    """What the models learn from, derived once from the validated input."""

    hourly: pd.DataFrame
    outcomes: pd.DataFrame  # called waits / posted waits: queue keys, date, hour, wait
    bookings: pd.DataFrame  # office_id, date, hour (of the slot), booked_date
    offices: OfficeRegistry
    queues: pd.DataFrame
    start: dt.date
    end: dt.date
    kinds: tuple[str, ...]
    service_minutes: dict[str, float] = field(default_factory=dict)

    @property
    def has_bookings(self) -> bool:
        """True when the tickets carry booked_at."""
        return not self.bookings.empty


def prepare_data(
    tickets: pd.DataFrame | None,
    observations: pd.DataFrame | None,
    offices: OfficeRegistry,
    calendar: ChinaCalendar,
) -> TrainingData:
    """Outcomes, hourly table and bookings from validated frames (either may be None)."""
    activity = []
    if tickets is not None and len(tickets):
        activity.append(tickets[[s.OFFICE_ID, s.CHANNEL]].assign(at=tickets[s.ISSUED_AT]))
    if observations is not None and len(observations):
        seen = observations[observations[s.WAIT_MINUTES].notna()]
        activity.append(seen[[s.OFFICE_ID, s.CHANNEL]].assign(at=seen[s.OBSERVED_AT]))
    if not activity:
        raise UnusableInputError("no usable rows to train on")
    offices = offices.merged(infer_offices(pd.concat(activity), offices))
    outcome_frames, hourly_frames, kinds = [], [], []
    bookings = pd.DataFrame(columns=[s.OFFICE_ID, s.DATE, s.HOUR, BOOKED_DATE])
    service: dict[str, float] = {}
    if tickets is not None and len(tickets):
        per_ticket = ticket_outcomes(tickets, offices, calendar)
        hourly_frames.append(hourly_table(per_ticket, from_tickets=True))
        outcome_frames.append(per_ticket[~per_ticket[s.CENSORED]])
        bookings = appointment_book(tickets)
        service = service_minutes(tickets)
        kinds.append(s.InputKind.TICKETS.value)
    if observations is not None and len(observations):
        per_obs = observation_outcomes(observations)
        hourly_frames.append(hourly_table(per_obs, from_tickets=False))
        outcome_frames.append(per_obs)
        kinds.append(s.InputKind.OBSERVATIONS.value)
    hourly = pd.concat(hourly_frames, ignore_index=True)
    if hourly.empty:
        raise UnusableInputError("the input has no waits to learn from")
    queues = hourly[list(s.QUEUE_KEYS)].drop_duplicates().reset_index(drop=True)
    start, end = min(hourly[s.DATE]), max(hourly[s.DATE])
    grid = open_grid(queues, offices, calendar, start, end)
    outcomes = pd.concat(outcome_frames, ignore_index=True)
    return TrainingData(
        hourly=with_open_hours(hourly, grid),
        outcomes=outcomes[[*s.QUEUE_KEYS, s.DATE, s.HOUR, s.WAIT]],
        bookings=bookings,
        offices=offices,
        queues=queues,
        start=start,
        end=end,
        kinds=tuple(kinds),
        service_minutes=service,
    )


def service_minutes(tickets: pd.DataFrame, last_days: int = 56) -> dict[str, float]:
    """Median minutes at the window per ticket, per office, over the last weeks of data."""
    if s.FINISHED_AT not in tickets or s.CALLED_AT not in tickets:
        return {}
    recent = tickets[
        tickets[s.ISSUED_AT] >= tickets[s.ISSUED_AT].max() - pd.Timedelta(days=last_days)
    ]
    minutes = (recent[s.FINISHED_AT] - recent[s.CALLED_AT]).dt.total_seconds() / 60
    valid = minutes.notna() & (minutes > 0)
    per_office = minutes[valid].groupby(recent.loc[valid, s.OFFICE_ID].astype(str)).median()
    return {str(k): round(float(v), 2) for k, v in per_office.items()}


def appointment_book(tickets: pd.DataFrame) -> pd.DataFrame:
    """One row per appointment ticket with a booking time: slot office, date, hour, booked date."""
    if s.BOOKED_AT not in tickets or s.APPOINTMENT_AT not in tickets:
        return pd.DataFrame(columns=[s.OFFICE_ID, s.DATE, s.HOUR, BOOKED_DATE])
    rows = tickets[
        (tickets[s.CHANNEL] == s.Channel.APPOINTMENT.value)
        & tickets[s.BOOKED_AT].notna()
        & tickets[s.APPOINTMENT_AT].notna()
    ]
    slot = rows[s.APPOINTMENT_AT]
    return pd.DataFrame(
        {
            s.OFFICE_ID: rows[s.OFFICE_ID].astype(str).to_numpy(),
            s.DATE: slot.dt.date.to_numpy(),
            s.HOUR: slot.dt.hour.astype("int16").to_numpy(),
            BOOKED_DATE: rows[s.BOOKED_AT].dt.date.to_numpy(),
        }
    )


def lead_days(bookings: pd.DataFrame, until: dt.date, window_days: int = 14) -> dict[str, float]:
    """Median booking lead (slot date − booking date, days) of slots in the last window."""
    if bookings.empty:
        return {}
    recent = bookings[
        (bookings[s.DATE] < until) & (bookings[s.DATE] >= until - dt.timedelta(days=window_days))
    ]
    if recent.empty:
        return {}
    lead = (pd.to_datetime(recent[s.DATE]) - pd.to_datetime(recent[BOOKED_DATE])).dt.days
    return {
        str(k): float(v) for k, v in lead.groupby(recent[s.OFFICE_ID].to_numpy()).median().items()
    }


def make_spec(data: TrainingData, config: TrainConfig) -> FeatureSpec:
    """The feature spec for this data: category levels and whether bookings are known."""
    return FeatureSpec(
        horizon_days=config.horizon_days,
        long_cell_weeks=config.long_cell_weeks,
        level_windows=tuple(config.level_windows),
        use_bookings=data.has_bookings,
        offices=tuple(sorted(data.queues[s.OFFICE_ID].astype(str).unique())),
        channels=s.CHANNELS,
        services=tuple(sorted(data.queues[s.SERVICE].astype(str).unique())),
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
    """A fitted forecaster plus its calibration rows (used by the backtest's baselines)."""

    forecaster: Forecaster
    calibration_X: pd.DataFrame
    calibration_y: pd.DataFrame


def fit_forecaster(
    data: TrainingData,
    calendar: ChinaCalendar,
    config: TrainConfig,
    until: dt.date | None = None,
) -> FitResult:
    """Fit on data dated before ``until`` (default: all data)."""
    if config.engine == "dask":  # issue 14: the same recipe, fitted on a Dask cluster
        from training.dask_fit import fit_forecaster_dask

        return fit_forecaster_dask(data, calendar, config, until)
    until = until or data.end + dt.timedelta(days=1)
    spec = make_spec(data, config)
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
    X_all = build_features(fit_rows, hourly, calendar, data.offices, spec, data.bookings)
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
    wait = WaitQuantileRegressor(**params, median_loss=config.median_loss).fit(
        X_all[has_wait],
        fit_rows.loc[has_wait, list(QUANTILE_TARGETS)],
        sample_weight=np.sqrt(fit_rows.loc[has_wait, s.N_OUTCOMES].to_numpy(float)),
    )
    arrivals, called = _fit_counts(X_all, fit_rows, params)
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
        queues=data.queues,
        data_end=until - dt.timedelta(days=1),
        lead_days=lead_days(data.bookings, until),
        service_minutes=data.service_minutes,
    )
    return FitResult(forecaster, cal_X, cal_rows[list(QUANTILE_TARGETS)].reset_index(drop=True))


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
