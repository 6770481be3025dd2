"""Open hours from forecast rows, ranked by their cost; the near-best rule; spreading.

Hours are ranked by their *cost* (:mod:`serving.advice.cost`): expected wait, travel there
and back, and a likely second trip when the chance of being called is low.

*Near-best*: an hour is about as good as the best one when its cost is within
``max(near_best_minutes, near_best_share × best)`` of the best one and its chance of being
called before closing is within ``p_called_tolerance`` of the best hour's.

*Spreading* (no herding): the advice served for the same question names a different
near-best hour first from one request to the next — request ``turn`` takes the hour where
``turn × 0.618… mod 1`` falls on the near-best hours laid end to end, each as long as its
spare capacity (:func:`rotation_pick`) — so that if everyone followed it, each hour would
get its share of the crowd and no more. Only open hours (checked again against the
office's sessions on that date) are ever kept, and none of an unconfirmed holiday (a public
holiday abroad the data have not shown the office open or closed on: forecast, but never
recommended). Pure: no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from features import schema as s
from serving.advice.context import AdviceContext
from serving.advice.cost import expected_wait, hour_cost, travel_minutes
from serving.advice.places import office_distance_km
from serving.advice.settings import AdviceSettings
from serving.advice.table import ORDINAL, Table, filled

# Columns of the advice's hour frames (besides the forecast's own, from features.schema).
ESTIMATED = "calendar_estimated"
EXPECTED = "expected_wait"
DISTANCE_KM = "distance_km"
TRAVEL = "travel_minutes"
COST = "cost_minutes"
NEAR_BEST = "near_best"
SPARE = "spare_capacity"
NUMBERS = (s.P10, s.P50, s.P90, s.P_CALLED, s.EXPECTED_ARRIVALS)
HOUR_COLUMNS = (s.OFFICE_ID, s.DATE, s.HOUR, *NUMBERS, EXPECTED, ESTIMATED)
GOLDEN = (5**0.5 - 1) / 2  # the rotation's step: successive turns fall far apart


def open_hour_rows(
    rows: pd.DataFrame,
    ctx: AdviceContext,
    channel: str,
    first: dt.date,
    last: dt.date,
    from_hour_on_first: int = 0,
) -> pd.DataFrame:
    """Forecast rows of one channel in [first, last] at hours the office is open (not on
    an unconfirmed holiday: :meth:`AdviceContext.recommendable_hours`).

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
        for hour in ctx.recommendable_hours(ctx.office(office_id), date)
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
            **{c: rows[c].to_numpy(float)[keep] for c in NUMBERS},
            ESTIMATED: estimated,
        }
    )
    if s.SERVICE in rows and rows[s.SERVICE].nunique() > 1:
        means = {c: "mean" for c in (s.P10, s.P50, s.P90, s.P_CALLED)}
        frame = frame.groupby([s.OFFICE_ID, s.DATE, s.HOUR], as_index=False, sort=False).agg(
            {**means, s.EXPECTED_ARRIVALS: "sum", ESTIMATED: "max"}
        )
    frame[EXPECTED] = expected_wait(frame[s.P10], frame[s.P50], frame[s.P90])
    return frame.sort_values([s.OFFICE_ID, s.DATE, s.HOUR], ignore_index=True)[columns]


def _as_dates(values: pd.Series) -> np.ndarray:
    """Dates as an object array of ``datetime.date`` (they may come as timestamps or text)."""
    if len(values) and type(values.iloc[0]) is dt.date:
        return values.to_numpy(object)
    return pd.to_datetime(values).dt.date.to_numpy(object)


def open_hours(
    rows: pd.DataFrame,
    ctx: AdviceContext,
    channel: str,
    first: dt.date,
    last: dt.date,
    from_hour_on_first: int = 0,
) -> Table:
    """:func:`open_hour_rows` as a :class:`Table`."""
    return Table.from_frame(open_hour_rows(rows, ctx, channel, first, last, from_hour_on_first))


def near_best_mask(frame: Table, settings: AdviceSettings) -> np.ndarray:
    """True for the rows about as good as the best row (least cost, then p_called)."""
    if frame.empty:
        return np.zeros(0, dtype=bool)
    cost = frame[COST].astype(float)
    called = filled(frame[s.P_CALLED], 1.0)
    best = int(np.lexsort((-called, cost))[0])
    margin = max(settings.near_best_minutes, settings.near_best_share * cost[best])
    return (cost <= cost[best] + margin) & (called >= called[best] - settings.p_called_tolerance)


def with_cost(frame: Table, ctx: AdviceContext, start: tuple[float, float] | None) -> Table:
    """The table with the distance from ``start`` (NaN without one), the travel there and
    back, and the cost of each hour (travel counted as 0 where the distance is unknown)."""
    lat, lon = start if start is not None else (None, None)
    distance = {o: office_distance_km(ctx.office(o), lat, lon) for o in set(frame[s.OFFICE_ID])}
    km = np.array([distance.get(o) for o in frame[s.OFFICE_ID]], dtype=float)
    if len(km) == 0:
        km = np.zeros(0)
    unknown = np.isnan(km)
    travel = travel_minutes(np.where(unknown, 0.0, km), ctx.settings)
    expected = frame[EXPECTED].astype(float)
    cost = hour_cost(expected, frame[s.P_CALLED].astype(float), travel, ctx.settings)
    shown = np.where(unknown, np.nan, travel)
    return frame.assign(**{DISTANCE_KM: km, TRAVEL: shown, COST: cost})


def hour_load(rows: pd.DataFrame) -> dict[tuple[str, dt.date, int], float]:
    """Arrivals expected per office, date and hour, every channel and service together."""
    if rows.empty:
        return {}
    keys = [
        rows[s.OFFICE_ID].astype(str).to_numpy(),
        _as_dates(rows[s.DATE]),
        rows[s.HOUR].to_numpy(int),
    ]
    load = rows[s.EXPECTED_ARRIVALS].astype(float).groupby(keys).sum()
    return dict(zip(load.index, load.to_numpy(float), strict=True))


def with_spare(
    frame: Table, load: Mapping[tuple[str, dt.date, int], float], ctx: AdviceContext
) -> Table:
    """The table with each hour's spare capacity: what the windows serve in the hour, less
    the arrivals expected then (``load``, by office, date and hour), at least a floor."""
    keys = zip(frame[s.OFFICE_ID], frame[s.DATE], frame[s.HOUR], strict=True)
    expected = np.array([load.get(k, 0.0) for k in keys], dtype=float)
    capacity = np.array([ctx.hour_capacity(ctx.office(o)) for o in frame[s.OFFICE_ID]], dtype=float)
    floor = ctx.settings.min_spare_share * capacity
    return frame.assign(**{SPARE: np.maximum(capacity - filled(expected, 0.0), floor)})


def rotation_pick(weights: np.ndarray, turn: int) -> int:
    """The index request ``turn`` is served first: ``turn × 0.618… mod 1`` on the weights
    laid end to end (turn 0 takes the first). Over many turns each index is served in
    proportion to its weight, never more than about one request beyond its share."""
    share = np.cumsum(weights) / float(np.sum(weights))
    point = (turn * GOLDEN) % 1.0
    index = int(np.searchsorted(share, point, side="right"))
    return min(index, len(weights) - 1)


def spread_pick(frame: Table, per_office: int, limit: int) -> Table:
    """At most ``per_office`` rows per office, one per day first; nearest offices first.

    Within an office the cheapest hour of each day is taken before any second hour of a
    day, earliest days first; offices are taken nearest first (NaN distances last).
    """
    if frame.empty:
        return frame
    office = pd.factorize(frame[s.OFFICE_ID])[0]
    day = frame[ORDINAL]
    hour = frame[s.HOUR].astype(int)
    by_wait = np.lexsort((hour, frame[COST].astype(float), day, office))
    rank_in_day = _rank_within(by_wait, office * 1_000_000 + day)
    rank_in_office = _rank_within(np.lexsort((hour, day, rank_in_day, office)), office)
    keep = rank_in_office < per_office
    far = filled(frame[DISTANCE_KM], np.inf)
    order = np.lexsort((hour, day, office, far))
    return frame.take(order[keep[order]][:limit])


def _rank_within(order: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Position of each row within its group, rows taken in ``order`` (grouped together)."""
    key = groups[order]
    starts = np.r_[True, key[1:] != key[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(len(key)), 0))
    rank = np.empty(len(key), dtype=int)
    rank[order] = np.arange(len(key)) - first
    return rank
