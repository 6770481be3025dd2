"""The one feature builder, used for training, backtests and forecasts alike.

A forecast is made at an *origin* (a date): everything known strictly before the origin
may be used, nothing after. Each target row is a queue × date × hour with its origin;
:func:`build_features` turns target rows into the model matrix:

- calendar of the target date: weekday, month, season (day-of-year sine/cosine),
  make-up day, days to and from the nearest holiday, school break, estimated calendar;
- place in the office day: hour, hours since opening, hours to closing, first hour
  after the lunch break;
- the queue: office, channel, service (categorical), office mode and windows;
- each queue's recent level as of the origin (trailing windows of the hourly table):
  the 8-week mean per weekday and hour (also the historical-mean baseline), the last
  same weekday and hour (also the seasonal-naive baseline), 28- and 7-day levels, and
  the last open day's level;
- horizon (days from the origin, capped at ``spec.horizon_days``);
- where booking data exist, the appointments already booked for the target hour before
  the origin (a known future input; NaN when the booking book is unknown).

Feature names are derived from :class:`FeatureSpec`'s parameters, so the spec stored
with a model rebuilds exactly the same columns at serving time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features import schema as s
from features.calendar_cn import ChinaCalendar
from features.hourly import HOURLY_KEYS
from features.offices import OfficeRegistry

ORIGIN = "origin"
HORIZON = "horizon"
SCHOOL_CODES = {None: 0, "winter": 1, "summer": 2}
_LEVEL_TARGETS = (s.WAIT_P10, s.WAIT_P50, s.WAIT_P90, s.ARRIVALS, s.NEVER_CALLED_SHARE)


@dataclass(frozen=True)
class FeatureSpec:
    """What the feature builder computes; stored with every model."""

    horizon_days: int = 28
    cell_weeks: int = 8  # the weekday × hour window (also the historical-mean baseline)
    long_cell_weeks: int = 26  # a longer, steadier weekday × hour level
    level_windows: tuple[int, ...] = (7, 28, 56)
    use_bookings: bool = False
    offices: tuple[str, ...] = ()
    channels: tuple[str, ...] = s.CHANNELS
    services: tuple[str, ...] = (s.DEFAULT_SERVICE,)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def history_days(self) -> int:
        """How many days before the origin the builder reads."""
        return max(7 * self.cell_weeks, 7 * self.long_cell_weeks, *self.level_windows)

    @property
    def level_names(self) -> list[str]:
        """Names of the trailing-level features, derived from the windows."""
        names = []
        for target in _LEVEL_TARGETS:
            names.append(f"cell{self.cell_weeks}w_{target}")
            names.append(f"cell{self.long_cell_weeks}w_{target}")
            names.append(f"last_same_hour_{target}")
            names.extend(f"lvl{w}d_hour_{target}" for w in self.level_windows)
            names.extend(f"lvl{w}d_{target}" for w in self.level_windows)
            names.append(f"last_day_{target}")
        names.append(f"cell{self.cell_weeks}w_days")
        return names

    @property
    def feature_names(self) -> list[str]:
        """Every column of the model matrix, in order."""
        calendar = [
            "weekday",
            "month",
            "doy_sin",
            "doy_cos",
            "makeup",
            "days_to_holiday",
            "days_from_holiday",
            "school_break",
            "calendar_estimated",
        ]
        day = [s.HOUR, "hours_since_open", "hours_to_close", "after_lunch"]
        queue = [s.OFFICE_ID, s.CHANNEL, s.SERVICE, "dual_track", "windows"]
        known = [HORIZON] + ([s.BOOKED] if self.use_bookings else [])
        return calendar + day + queue + known + self.level_names

    @property
    def categorical(self) -> list[str]:
        """Columns encoded as pandas categoricals with fixed levels."""
        return [s.OFFICE_ID, s.CHANNEL, s.SERVICE]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        """Inverse of :meth:`to_dict`."""
        values = dict(data)
        for key in ("level_windows", "offices", "channels", "services"):
            values[key] = tuple(values[key])
        return cls(**values)


DAY = "_day"  # the date as a day number, for fast window filters


def with_day_numbers(hourly: pd.DataFrame) -> pd.DataFrame:
    """The hourly table with an integer day number and the weekday (0 = Monday)."""
    day = np.fromiter((d.toordinal() for d in hourly[s.DATE]), dtype=np.int64, count=len(hourly))
    return hourly.assign(**{DAY: day, "weekday": ((day - 1) % 7).astype("int8")})


def origin_levels(
    hourly: pd.DataFrame, origin: dt.date, spec: FeatureSpec
) -> dict[str, pd.DataFrame]:
    """Trailing levels of every queue as of ``origin`` (rows with date < origin only).

    ``hourly`` must carry day numbers (:func:`with_day_numbers`).
    """
    day0 = origin.toordinal()
    days = hourly[DAY].to_numpy()
    past_long = hourly[(days < day0) & (days >= day0 - spec.history_days)]
    past = past_long[past_long[DAY].to_numpy() >= day0 - 7 * spec.cell_weeks]
    queue = list(s.QUEUE_KEYS)
    targets = list(_LEVEL_TARGETS)
    out: dict[str, pd.DataFrame] = {}
    cell_keys = [*queue, "weekday", s.HOUR]
    grouped = past.groupby(cell_keys, observed=True)
    cell = grouped[targets].mean()
    cell.columns = [f"cell{spec.cell_weeks}w_{c}" for c in cell.columns]
    cell[f"cell{spec.cell_weeks}w_days"] = grouped[DAY].nunique()
    days_before = past_long[DAY].to_numpy()
    long_past = past_long[days_before >= day0 - 7 * spec.long_cell_weeks]
    long_cell = long_past.groupby(cell_keys, observed=True)[targets].mean()
    long_cell.columns = [f"cell{spec.long_cell_weeks}w_{c}" for c in long_cell.columns]
    out["cell"] = cell.join(long_cell, how="outer").reset_index()
    last = past[past[DAY] == grouped[DAY].transform("max")].set_index(cell_keys)[targets]
    last.columns = [f"last_same_hour_{c}" for c in last.columns]
    out["last_same_hour"] = last.reset_index()
    for window in spec.level_windows:
        recent = past_long[days_before >= day0 - window]
        by_hour = recent.groupby([*queue, s.HOUR], observed=True)[targets].mean()
        by_hour.columns = [f"lvl{window}d_hour_{c}" for c in by_hour.columns]
        out[f"lvl{window}d_hour"] = by_hour.reset_index()
        by_queue = recent.groupby(queue, observed=True)[targets].mean()
        by_queue.columns = [f"lvl{window}d_{c}" for c in by_queue.columns]
        out[f"lvl{window}d"] = by_queue.reset_index()
    last_day = past.groupby(queue, observed=True)[DAY].transform("max")
    day = past[past[DAY] == last_day].groupby(queue, observed=True)[targets].mean()
    day.columns = [f"last_day_{c}" for c in day.columns]
    out["last_day"] = day.reset_index()
    return out


def booked_before(bookings: pd.DataFrame, targets: pd.DataFrame) -> np.ndarray:
    """Appointments booked before each target row's origin for its office, date and hour.

    Args:
        bookings: one row per appointment: ``office_id``, ``date`` and ``hour`` of the
            slot, and ``booked_date``.
        targets: rows with ``office_id, channel, date, hour, origin``.
    """
    counts = np.full(len(targets), np.nan)
    is_appt = (targets[s.CHANNEL] == s.Channel.APPOINTMENT.value).to_numpy()
    if bookings.empty or not is_appt.any():
        return counts
    keyed = targets.loc[is_appt, [s.OFFICE_ID, s.DATE, s.HOUR, ORIGIN]].reset_index()
    merged = keyed.merge(bookings, on=[s.OFFICE_ID, s.DATE, s.HOUR], how="left")
    merged["known"] = merged["booked_date"].notna() & (merged["booked_date"] < merged[ORIGIN])
    per_row = merged.groupby("index")["known"].sum()
    counts[per_row.index.to_numpy()] = per_row.to_numpy(dtype=float)
    return counts


def build_features(
    targets: pd.DataFrame,
    hourly: pd.DataFrame,
    calendar: ChinaCalendar,
    offices: OfficeRegistry,
    spec: FeatureSpec,
    bookings: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The model matrix for target rows (queue keys, date, hour, origin).

    Only hourly rows dated before each row's origin are read. Returns a frame with
    ``spec.feature_names`` as columns, aligned with ``targets``' order.
    """
    targets = targets.reset_index(drop=True)
    if targets.empty:
        return pd.DataFrame(columns=spec.feature_names)
    first = min(targets[ORIGIN]) - dt.timedelta(days=spec.history_days)
    history = with_day_numbers(hourly[hourly[s.DATE] >= first])
    # The levels of every origin, stacked with the origin as a key, then one merge each.
    stacked: dict[str, list[pd.DataFrame]] = {}
    for origin in sorted(set(targets[ORIGIN])):
        for name, frame in origin_levels(history, origin, spec).items():
            stacked.setdefault(name, []).append(frame.assign(**{ORIGIN: origin}))
    queue = [*s.QUEUE_KEYS, ORIGIN]
    keys = {"cell": [*queue, "weekday", s.HOUR], "last_same_hour": [*queue, "weekday", s.HOUR]}
    for window in spec.level_windows:
        keys |= {f"lvl{window}d_hour": [*queue, s.HOUR], f"lvl{window}d": queue}
    keys["last_day"] = queue
    X = targets.assign(weekday=np.array([d.weekday() for d in targets[s.DATE]], dtype="int8"))
    for name, on in keys.items():
        levels = pd.concat(stacked[name], ignore_index=True)
        X = X.merge(levels, on=on, how="left")
    X.index = targets.index
    X = X.join(_calendar_features(X[s.DATE], calendar))
    X = X.join(_office_features(X, calendar, offices))
    X[HORIZON] = np.clip(
        (pd.to_datetime(X[s.DATE]) - pd.to_datetime(X[ORIGIN])).dt.days, 0, spec.horizon_days
    )
    if spec.use_bookings:
        X[s.BOOKED] = booked_before(bookings, X) if bookings is not None else np.nan
    for name, categories in (
        (s.OFFICE_ID, spec.offices),
        (s.CHANNEL, spec.channels),
        (s.SERVICE, spec.services),
    ):
        X[name] = pd.Categorical(X[name].astype(str), categories=list(categories))
    for name in spec.level_names:
        if name not in X:
            X[name] = np.nan
    return X[spec.feature_names]


def _calendar_features(dates: pd.Series, calendar: ChinaCalendar) -> pd.DataFrame:
    unique = sorted(set(dates))
    table = calendar.frame(unique[0], unique[-1]).set_index("date")
    doy = np.array([d.timetuple().tm_yday for d in table.index])
    cal = pd.DataFrame(
        {
            "weekday": table["weekday"].astype("int8"),
            "month": np.array([d.month for d in table.index], dtype="int8"),
            "doy_sin": np.sin(2 * np.pi * doy / 365.25),
            "doy_cos": np.cos(2 * np.pi * doy / 365.25),
            "makeup": table["makeup"].astype("int8"),
            "days_to_holiday": table["days_to_holiday"].astype("int16"),
            "days_from_holiday": table["days_from_holiday"].astype("int16"),
            "school_break": table["school_break"].map(SCHOOL_CODES).fillna(0).astype("int8"),
            "calendar_estimated": table["estimated"].astype("int8"),
        },
        index=table.index,
    )
    out = cal.loc[list(dates)]
    out.index = dates.index
    return out.drop(columns=["weekday"])


def _office_features(
    X: pd.DataFrame, calendar: ChinaCalendar, offices: OfficeRegistry
) -> pd.DataFrame:
    keys = X[[s.OFFICE_ID, s.DATE]].drop_duplicates()
    rows = []
    for office_id, date in keys.itertuples(index=False):
        office = offices.get(str(office_id))
        sessions = sorted(office.sessions_for(calendar.day(date)), key=lambda x: x.open_minute)
        opens = [x.open_minute for x in sessions]
        closes = [x.close_minute for x in sessions]
        rows.append(
            (
                office_id,
                date,
                min(opens, default=np.nan),
                max(closes, default=np.nan),
                opens[1] if len(opens) > 1 else np.nan,
                int(office.takes_appointments),
                office.windows if office.windows else np.nan,
            )
        )
    per_day = pd.DataFrame(
        rows,
        columns=[
            s.OFFICE_ID,
            s.DATE,
            "open_min",
            "close_min",
            "lunch_end",
            "dual_track",
            "windows",
        ],
    )
    merged = X[[s.OFFICE_ID, s.DATE, s.HOUR]].merge(per_day, on=[s.OFFICE_ID, s.DATE], how="left")
    minute = merged[s.HOUR].to_numpy(dtype=float) * 60
    out = pd.DataFrame(
        {
            "hours_since_open": (minute - merged["open_min"].to_numpy()) / 60,
            "hours_to_close": (merged["close_min"].to_numpy() - minute) / 60,
            "after_lunch": (
                (merged["lunch_end"].to_numpy() >= minute)
                & (merged["lunch_end"].to_numpy() < minute + 60)
            ).astype("int8"),
            "dual_track": merged["dual_track"].to_numpy(),
            "windows": merged["windows"].to_numpy(dtype=float),
        },
        index=X.index,
    )
    return out


def training_targets(
    hourly: pd.DataFrame, origins: list[dt.date], horizon_days: int, need_outcomes: bool = False
) -> pd.DataFrame:
    """Target rows for a set of origins: the hourly rows in [origin, origin + horizon)."""
    frames = []
    for origin in origins:
        end = origin + dt.timedelta(days=horizon_days)
        rows = hourly[(hourly[s.DATE] >= origin) & (hourly[s.DATE] < end)]
        if need_outcomes:
            rows = rows[rows[s.N_OUTCOMES] > 0]
        frames.append(rows.assign(**{ORIGIN: origin}))
    if not frames:
        return hourly.head(0).assign(**{ORIGIN: pd.Series(dtype=object)})
    return pd.concat(frames, ignore_index=True)


TARGET_KEYS = [*HOURLY_KEYS, ORIGIN]
