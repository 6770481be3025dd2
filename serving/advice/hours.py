"""Open hours from forecast rows, ranked by expected wait; the near-best rule; spreading.

Hours are ranked by their *expected wait*, the mean of the predicted wait distribution by
Swanson's rule (``0.3·p10 + 0.4·p50 + 0.3·p90``): the median alone hides long tails, such
as numbers taken just before the lunch break that are called only after it.

*Near-best* (no herding): an hour is about as good as the best one when its expected wait
is within ``max(near_best_minutes, near_best_share × best)`` of the best one and its chance
of being called before closing is within ``p_called_tolerance`` of the best hour's. Only
open hours (checked again against the office's sessions on that date) are ever kept.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from features import schema as s
from features.offices import OfficeRegistry
from serving.advice.context import AdviceContext
from serving.advice.places import office_distance_km
from serving.advice.settings import AdviceSettings

# Columns of the advice's hour frames (besides the forecast's own, from features.schema).
ESTIMATED = "calendar_estimated"
EXPECTED = "expected_wait"
DISTANCE_KM = "distance_km"
NEAR_BEST = "near_best"
HOUR_COLUMNS = (s.OFFICE_ID, s.DATE, s.HOUR, s.P10, s.P50, s.P90, EXPECTED, s.P_CALLED, ESTIMATED)
SWANSON = (0.3, 0.4, 0.3)  # weights of p10, p50, p90 in the expected wait


def open_hour_rows(
    rows: pd.DataFrame,
    ctx: AdviceContext,
    channel: str,
    first: dt.date,
    last: dt.date,
    from_hour_on_first: int = 0,
) -> pd.DataFrame:
    """Forecast rows of one channel in [first, last] at hours the office is open.

    Services are averaged into one row per office, date and hour. On ``first`` only hours
    from ``from_hour_on_first`` on are kept (today's remaining hours).
    """
    columns = list(HOUR_COLUMNS)
    if rows.empty or last < first:
        return pd.DataFrame(columns=columns)
    dates = _as_dates(rows[s.DATE])
    hours = rows[s.HOUR].to_numpy(int)
    keep = (
        (rows[s.CHANNEL].astype(str).to_numpy() == channel)
        & (dates >= first)
        & (dates <= last)
        & ((dates > first) | (hours >= from_hour_on_first))
    )
    office_ids = rows[s.OFFICE_ID].astype(str).to_numpy()
    open_cells = {
        (office_id, date, hour)
        for office_id, date in set(zip(office_ids[keep], dates[keep], strict=True))
        if office_id in ctx.offices
        for hour in ctx.open_hours(ctx.office(office_id), date)
    }
    keep[keep] = [
        cell in open_cells for cell in zip(office_ids[keep], dates[keep], hours[keep], strict=True)
    ]
    if not keep.any():
        return pd.DataFrame(columns=columns)
    estimated = (
        rows[ESTIMATED].to_numpy(bool)[keep]
        if ESTIMATED in rows
        else np.zeros(int(keep.sum()), dtype=bool)
    )
    frame = pd.DataFrame(
        {
            s.OFFICE_ID: office_ids[keep],
            s.DATE: dates[keep],
            s.HOUR: hours[keep],
            **{c: rows[c].to_numpy(float)[keep] for c in (s.P10, s.P50, s.P90, s.P_CALLED)},
            ESTIMATED: estimated,
        }
    )
    if s.SERVICE in rows and rows[s.SERVICE].nunique() > 1:
        means = {c: "mean" for c in (s.P10, s.P50, s.P90, s.P_CALLED)}
        frame = frame.groupby([s.OFFICE_ID, s.DATE, s.HOUR], as_index=False, sort=False).agg(
            {**means, ESTIMATED: "max"}
        )
    p10, p50, p90 = SWANSON
    frame[EXPECTED] = p10 * frame[s.P10] + p50 * frame[s.P50] + p90 * frame[s.P90]
    return frame.sort_values([s.OFFICE_ID, s.DATE, s.HOUR], ignore_index=True)[columns]


def _as_dates(values: pd.Series) -> np.ndarray:
    """Dates as an object array of ``datetime.date`` (they may come as timestamps or text)."""
    if len(values) and type(values.iloc[0]) is dt.date:
        return values.to_numpy(object)
    return pd.to_datetime(values).dt.date.to_numpy(object)


def near_best_mask(frame: pd.DataFrame, settings: AdviceSettings) -> np.ndarray:
    """True for the rows about as good as the best row (least expected wait, then p_called)."""
    if frame.empty:
        return np.zeros(0, dtype=bool)
    wait = frame[EXPECTED].to_numpy(float)
    called = frame[s.P_CALLED].fillna(1.0).to_numpy(float)
    best = int(np.lexsort((-called, wait))[0])
    margin = max(settings.near_best_minutes, settings.near_best_share * wait[best])
    return (wait <= wait[best] + margin) & (called >= called[best] - settings.p_called_tolerance)


def with_distance(
    frame: pd.DataFrame, offices: OfficeRegistry, lat: float | None, lon: float | None
) -> pd.DataFrame:
    """The frame with ``distance_km`` from a point (NaN without a location)."""
    distance = {o.id: office_distance_km(o, lat, lon) for o in offices}
    values = frame[s.OFFICE_ID].map(lambda o: distance.get(o)).astype(float)
    return frame.assign(**{DISTANCE_KM: values})


def spread_pick(frame: pd.DataFrame, per_office: int, limit: int) -> pd.DataFrame:
    """At most ``per_office`` rows per office, one per day first; nearest offices first.

    Within an office the best hour of each day is taken before any second hour of a day,
    earliest days first; offices are taken nearest first (NaN distances last).
    """
    if frame.empty:
        return frame
    office = pd.factorize(frame[s.OFFICE_ID])[0]
    day = np.array([d.toordinal() for d in frame[s.DATE]])
    hour = frame[s.HOUR].to_numpy(int)
    by_wait = np.lexsort((hour, frame[EXPECTED].to_numpy(float), day, office))
    rank_in_day = _rank_within(by_wait, office * 1_000_000 + day)
    rank_in_office = _rank_within(np.lexsort((hour, day, rank_in_day, office)), office)
    keep = rank_in_office < per_office
    far = frame[DISTANCE_KM].fillna(np.inf).to_numpy(float)
    order = np.lexsort((hour, day, office, far))
    return frame.iloc[order[keep[order]][:limit]]


def _rank_within(order: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Position of each row within its group, rows taken in ``order`` (grouped together)."""
    key = groups[order]
    starts = np.r_[True, key[1:] != key[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(len(key)), 0))
    rank = np.empty(len(key), dtype=int)
    rank[order] = np.arange(len(key)) - first
    return rank
