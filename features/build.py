"""The one feature builder, used for training, backtests and forecasts alike.

A forecast is made at an *origin* (a date): everything known strictly before the origin
may be used, nothing after. Each target row is a queue × date × hour with its origin;
:func:`build_features` turns target rows into the model matrix:

- calendar of the target date on the office's own calendar: weekday, make-up day, days
  to and from the nearest holiday, estimated calendar; with two years of history or more
  also the season (month, day-of-year sine/cosine, school break);
- dated one-off events (:mod:`features.events`): inside a surge, days since the last
  change, and the same at the origin;
- place in the office day: hour, hours since opening, hours to closing, first hour
  after the lunch break;
- the queue: office, channel, service (categorical), office mode and windows;
- each queue's trailing levels as of the origin (:mod:`features.levels`) and, with more
  than a year of history, the same weeks last year (:mod:`features.last_year`);
- horizon (days from the origin, capped at ``spec.horizon_days``);
- where booking data exist, the appointments already booked for the target hour before
  the origin (a known future input; NaN when the booking book is unknown).

Feature names come from :class:`features.spec.FeatureSpec`, so the spec stored with a
model rebuilds exactly the same columns at serving time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from features import schema as s
from features.calendar_base import WorkCalendar
from features.calendars import Calendars
from features.events import EventKind
from features.last_year import last_year_features
from features.levels import LevelCache, level_keys, origin_levels, with_day_numbers
from features.offices import OfficeRegistry
from features.spec import (
    BREAK_FEATURES,
    CALENDAR_ESTIMATED,
    HORIZON,
    ORIGIN,
    TREND_TARGETS,
    WEEKDAY,
    FeatureSpec,
)

SCHOOL_CODES = {None: 0, "winter": 1, "summer": 2}
CHANGE_CAP_DAYS = 365  # days since a change are capped here (and "no change" is the cap)


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
    merged["known"] = merged[s.BOOKED_DATE].notna() & (merged[s.BOOKED_DATE] < merged[ORIGIN])
    per_row = merged.groupby("index")["known"].sum()
    counts[per_row.index.to_numpy()] = per_row.to_numpy(dtype=float)
    return counts


def build_features(
    targets: pd.DataFrame,
    hourly: pd.DataFrame,
    calendars: Calendars,
    offices: OfficeRegistry,
    spec: FeatureSpec,
    bookings: pd.DataFrame | None = None,
    network: pd.DataFrame | None = None,
    factors: pd.DataFrame | None = None,
    levels: LevelCache | None = None,
) -> pd.DataFrame:
    """The model matrix for target rows (queue keys, date, hour, origin).

    Only hourly rows dated before each row's origin are read. Returns a frame with
    ``spec.feature_names`` as columns, aligned with ``targets``' order.

    Args:
        network: the network levels (:func:`features.levels.network_table`) to read
            instead of those of ``hourly``: when ``hourly`` holds only some offices (a
            partition of a distributed fit), those of the whole table.
        factors: likewise, the channels' weekday factors of the whole table
            (:func:`features.levels.weekday_factors`, read by the served mean's shrunk cells).
        levels: the levels of origins already computed on a table of which ``hourly`` is a
            cut before a date (a training run's, :class:`features.levels.LevelCache`);
            not with ``factors``.
    """
    targets = targets.reset_index(drop=True)
    if targets.empty:
        return pd.DataFrame(columns=spec.feature_names)
    first = min(targets[ORIGIN]) - dt.timedelta(days=spec.history_days)
    history = with_day_numbers(hourly[hourly[s.DATE] >= first])
    # The levels of every origin, stacked with the origin as a key, then one merge each.
    stacked: dict[str, list[pd.DataFrame]] = {}
    countries = offices.countries()
    if levels is not None and factors is not None:
        raise ValueError("levels are of a whole table, factors of a partition: pass one")
    for origin in sorted(set(targets[ORIGIN])):
        factor = None if factors is None else factors[factors[ORIGIN] == origin]
        at_origin = levels.get(origin, spec) if levels is not None else None
        if at_origin is None:
            at_origin = origin_levels(history, origin, spec, countries, factor)
        for name, frame in at_origin.items():
            stacked.setdefault(name, []).append(frame.assign(**{ORIGIN: origin}))
    X = targets.assign(**{WEEKDAY: np.array([d.weekday() for d in targets[s.DATE]], dtype="int8")})
    if network is not None:
        stacked["network"] = [network]
    for name, on in level_keys(spec, ORIGIN).items():
        X = X.merge(pd.concat(stacked[name], ignore_index=True), on=on, how="left")
    X.index = targets.index
    X = X.assign(**_trends(X, spec))
    X = X.join(_calendar_features(X, calendars, offices, spec.holiday_reach_days))
    if not spec.holiday_breaks:
        X = X.drop(columns=list(BREAK_FEATURES))
    X = X.join(_event_features(X, offices, spec))
    X = X.join(_office_features(X, calendars, offices))
    if spec.last_year:
        X = X.join(last_year_features(X, history, calendars, offices, spec))
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


def _calendar_features(
    X: pd.DataFrame, calendars: Calendars, offices: OfficeRegistry, reach: int
) -> pd.DataFrame:
    """Calendar features of each row's date, on its office's calendar (one table per
    calendar, shared by its offices: 188 offices of one state read one)."""
    pairs = X[[s.OFFICE_ID, s.DATE]].drop_duplicates()
    by_calendar: dict[int, tuple[WorkCalendar, list[Any]]] = {}
    for office_id in pairs[s.OFFICE_ID].unique():
        calendar = calendars.of(offices.get(str(office_id)))
        by_calendar.setdefault(id(calendar), (calendar, []))[1].append(office_id)
    tables = []
    for calendar, office_ids in by_calendar.values():
        dates = pairs.loc[pairs[s.OFFICE_ID].isin(office_ids), s.DATE]
        table = _calendar_table(calendar, min(dates), max(dates), reach)
        tables.append(pd.DataFrame({s.OFFICE_ID: office_ids}).merge(table, how="cross"))
    merged = X[[s.OFFICE_ID, s.DATE]].merge(
        pd.concat(tables, ignore_index=True), on=[s.OFFICE_ID, s.DATE], how="left"
    )
    merged.index = X.index
    merged["school_break"] = merged["school_break"].astype("int8")
    return merged.drop(columns=[s.OFFICE_ID, s.DATE])


def _calendar_table(
    calendar: WorkCalendar, first: dt.date, last: dt.date, reach: int
) -> pd.DataFrame:
    """The calendar features of each date in [first, last] (and the calendar's padding)."""
    table = calendar.frame(first, last)
    doy = np.array([d.timetuple().tm_yday for d in table["date"]])
    return pd.DataFrame(
        {
            s.DATE: table["date"],
            "month": np.array([d.month for d in table["date"]], dtype="int8"),
            "doy_sin": np.sin(2 * np.pi * doy / 365.25),
            "doy_cos": np.cos(2 * np.pi * doy / 365.25),
            "makeup": table["makeup"].astype("int8"),
            "days_to_holiday": table["days_to_holiday"].clip(upper=reach).astype("int16"),
            "days_from_holiday": table["days_from_holiday"].clip(upper=reach).astype("int16"),
            # the break counts only within the reach of its holiday
            "break_ahead": np.where(
                table["days_to_holiday"] <= reach, table["break_ahead"], 0
            ).astype("int16"),
            "break_behind": np.where(
                table["days_from_holiday"] <= reach, table["break_behind"], 0
            ).astype("int16"),
            "school_break": table["school_break"].map(SCHOOL_CODES).fillna(0),
            CALENDAR_ESTIMATED: table["estimated"].astype("int8"),
        }
    )


def _trends(X: pd.DataFrame, spec: FeatureSpec) -> dict[str, np.ndarray]:
    """log1p ratios of short to long levels, per queue and per network."""
    out = {}
    for target in TREND_TARGETS:
        for short, long in spec.trend_windows:
            for network in (False, True):
                name = spec.network if network else lambda w, t: spec.level(w, t, by_hour=False)
                ratio = np.log1p(X[name(short, target)].astype(float)) - np.log1p(
                    X[name(long, target)].astype(float)
                )
                out[spec.trend(short, long, target, network)] = ratio.to_numpy()
    return out


def _event_features(X: pd.DataFrame, offices: OfficeRegistry, spec: FeatureSpec) -> pd.DataFrame:
    """Inside a surge; days since the last change at the target date and at the origin."""
    country = X[s.OFFICE_ID].astype(str).map(offices.countries()).to_numpy()
    day = np.array([d.toordinal() for d in X[s.DATE]])
    origin = np.array([d.toordinal() for d in X[ORIGIN]])
    surge = np.zeros(len(X), dtype=bool)
    since = np.full(len(X), CHANGE_CAP_DAYS)
    since_origin = np.full(len(X), CHANGE_CAP_DAYS)
    for event in spec.events:
        mine = country == event.country
        start = event.start.toordinal()
        if event.kind is EventKind.SURGE and event.end is not None:
            surge |= mine & (day >= start) & (day <= event.end.toordinal())
        elif event.kind is EventKind.CHANGE:
            since = np.where(mine & (day >= start), np.minimum(since, day - start), since)
            since_origin = np.where(
                mine & (origin >= start), np.minimum(since_origin, origin - start), since_origin
            )
    return pd.DataFrame(
        {
            "event_surge": surge.astype("int8"),
            "days_since_change": np.minimum(since, CHANGE_CAP_DAYS).astype("int16"),
            "origin_days_since_change": np.minimum(since_origin, CHANGE_CAP_DAYS).astype("int16"),
        },
        index=X.index,
    )


def _office_features(
    X: pd.DataFrame, calendars: Calendars, offices: OfficeRegistry
) -> pd.DataFrame:
    keys = X[[s.OFFICE_ID, s.DATE]].drop_duplicates()
    rows = []
    for office_id, date in keys.itertuples(index=False):
        office = offices.get(str(office_id))
        sessions = sorted(
            office.sessions_for(calendars.day(office, date)), key=lambda x: x.open_minute
        )
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
    columns = [s.OFFICE_ID, s.DATE, "open_min", "close_min", "lunch_end", "dual_track", "windows"]
    per_day = pd.DataFrame(rows, columns=columns)
    merged = X[[s.OFFICE_ID, s.DATE, s.HOUR]].merge(per_day, on=[s.OFFICE_ID, s.DATE], how="left")
    minute = merged[s.HOUR].to_numpy(dtype=float) * 60
    lunch_end = merged["lunch_end"].to_numpy()
    return pd.DataFrame(
        {
            "hours_since_open": (minute - merged["open_min"].to_numpy()) / 60,
            "hours_to_close": (merged["close_min"].to_numpy() - minute) / 60,
            "after_lunch": ((lunch_end >= minute) & (lunch_end < minute + 60)).astype("int8"),
            "dual_track": merged["dual_track"].to_numpy(),
            "windows": merged["windows"].to_numpy(dtype=float),
        },
        index=X.index,
    )


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
