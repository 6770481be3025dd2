"""Good times to go: open hours ranked by predicted wait, near-best sets, nearest first.

Hours are ranked by their *expected wait*, the mean of the predicted wait distribution by
Swanson's rule (``0.3·p10 + 0.4·p50 + 0.3·p90``): the median alone hides long tails, such
as numbers taken just before the lunch break that are called only after it.

*Near-best* (no herding): an hour is about as good as the best one when its expected wait
is within ``max(near_best_minutes, near_best_share × best)`` of the best one and its chance
of being called before closing is within ``p_called_tolerance`` of the best hour's. All such
hours are offered, spread over days and offices, instead of sending everyone to the single
best hour. Only open hours (checked again against the office's sessions on that date) are
ever offered. Pure: no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import schema as s
from features.calendar_cn import ChinaCalendar
from features.offices import Office, OfficeRegistry

ESTIMATED = "calendar_estimated"
EXPECTED = "expected_wait"
SWANSON = (0.3, 0.4, 0.3)  # weights of p10, p50, p90 in the expected wait
DISTANCE_KM = "distance_km"
NEAR_BEST = "near_best"
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True, slots=True)
class AdviceSettings:
    """The knobs of the advice; the defaults are the documented behaviour."""

    short_walk_in_p90_minutes: float = 30.0  # walk in instead of booking below this p90 ...
    short_walk_in_anywhere: bool = False  # ... at the office itself (True: at any offered)
    min_p_called: float = 0.8  # a "reasonable chance" of being called before closing
    last_chance_p_called: float = 0.95  # ... on the last open day before the deadline
    near_best_minutes: float = 5.0  # near-best: within max(5 min, 15 %) of the best wait
    near_best_share: float = 0.15
    p_called_tolerance: float = 0.05  # ... and p_called within 5 points of the best's
    nearby_km: float = 30.0  # other offices offered when at most this far (the metro area)
    max_options: int = 8  # walk-in options returned
    max_options_per_office: int = 4  # at most this many per office (one per day first)
    no_deadline_days: int = 14  # walk-in search window without a travel date
    max_search_days: int = 28  # walk-in search window at most (the model's horizon)
    default_lead_days: float = 7.0  # booking lead assumed when the model has none
    max_travel_days: int = 730  # travel and appointment dates at most this far ahead


@dataclass(frozen=True, slots=True)
class HourOption:
    """One office hour on one date, with its predicted wait."""

    office_id: str
    date: dt.date
    hour: int
    channel: str
    p10: float
    p50: float
    p90: float
    expected_wait: float  # 0.3·p10 + 0.4·p50 + 0.3·p90
    p_called: float | None  # walk-ins only
    distance_km: float | None
    near_best: bool
    calendar_estimated: bool
    document_ready: dt.date | None = None  # set by the advice for walk-in options


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def office_distance_km(office: Office, lat: float | None, lon: float | None) -> float | None:
    """Distance from a point to an office, None when either has no location."""
    if lat is None or lon is None or office.lat is None or office.lon is None:
        return None
    return haversine_km(lat, lon, office.lat, office.lon)


def nearby_offices(office: Office, offices: OfficeRegistry, within_km: float) -> list[Office]:
    """The office itself, then the others within ``within_km``, nearest first."""
    others = []
    for other in offices:
        distance = office_distance_km(other, office.lat, office.lon)
        if other.id != office.id and distance is not None and distance <= within_km:
            others.append((distance, other.id, other))
    return [office, *(o for _, _, o in sorted(others, key=lambda x: (x[0], x[1])))]


def open_hour_rows(
    rows: pd.DataFrame,
    offices: OfficeRegistry,
    calendar: ChinaCalendar,
    channel: str,
    first: dt.date,
    last: dt.date,
    from_hour_on_first: int = 0,
) -> pd.DataFrame:
    """Forecast rows of one channel in [first, last] at hours the office is open.

    Services are averaged into one row per office, date and hour. On ``first`` only hours
    from ``from_hour_on_first`` on are kept (today's remaining hours).
    """
    columns = [s.OFFICE_ID, s.DATE, s.HOUR, s.P10, s.P50, s.P90, EXPECTED, s.P_CALLED, ESTIMATED]
    if rows.empty or last < first:
        return pd.DataFrame(columns=columns)
    dates = _as_dates(rows[s.DATE])
    hours = rows[s.HOUR].to_numpy(int)
    keep = (rows[s.CHANNEL].astype(str).to_numpy() == channel) & (dates >= first) & (
        dates <= last) & ((dates > first) | (hours >= from_hour_on_first))
    office_ids = rows[s.OFFICE_ID].astype(str).to_numpy()
    open_cells = {
        (office_id, date, hour)
        for office_id, date in set(zip(office_ids[keep], dates[keep], strict=True))
        if office_id in offices
        for hour in _open_hours(offices.get(office_id), calendar, date)
    }
    keep[keep] = [cell in open_cells for cell in
                  zip(office_ids[keep], dates[keep], hours[keep], strict=True)]
    if not keep.any():
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame({
        s.OFFICE_ID: office_ids[keep], s.DATE: dates[keep], s.HOUR: hours[keep],
        **{c: rows[c].to_numpy(float)[keep] for c in (s.P10, s.P50, s.P90, s.P_CALLED)},
        ESTIMATED: (rows[ESTIMATED].to_numpy(bool)[keep] if ESTIMATED in rows
                    else np.zeros(int(keep.sum()), dtype=bool)),
    })
    if s.SERVICE in rows and rows[s.SERVICE].nunique() > 1:
        frame = frame.groupby([s.OFFICE_ID, s.DATE, s.HOUR], as_index=False, sort=False).agg(
            {s.P10: "mean", s.P50: "mean", s.P90: "mean", s.P_CALLED: "mean", ESTIMATED: "max"})
    frame[EXPECTED] = (SWANSON[0] * frame[s.P10] + SWANSON[1] * frame[s.P50]
                       + SWANSON[2] * frame[s.P90])
    return frame.sort_values([s.OFFICE_ID, s.DATE, s.HOUR], ignore_index=True)[columns]


def _as_dates(values: pd.Series) -> np.ndarray:
    """Dates as an object array of ``datetime.date`` (they may come as timestamps or text)."""
    if len(values) and type(values.iloc[0]) is dt.date:
        return values.to_numpy(object)
    return pd.to_datetime(values).dt.date.to_numpy(object)


def _open_hours(office: Office, calendar: ChinaCalendar, date: dt.date) -> list[int]:
    return office.open_hours(office.sessions_for(calendar.day(date)))


def near_best_mask(frame: pd.DataFrame, settings: AdviceSettings) -> np.ndarray:
    """True for the rows about as good as the best row (least expected wait, then p_called)."""
    if frame.empty:
        return np.zeros(0, dtype=bool)
    wait = frame[EXPECTED].to_numpy(float)
    called = frame[s.P_CALLED].fillna(1.0).to_numpy(float)
    best = int(np.lexsort((-called, wait))[0])
    margin = max(settings.near_best_minutes, settings.near_best_share * wait[best])
    return (wait <= wait[best] + margin) & (called >= called[best] - settings.p_called_tolerance)


def with_distance(frame: pd.DataFrame, offices: OfficeRegistry,
                  lat: float | None, lon: float | None) -> pd.DataFrame:
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
    rank_in_day = _rank_within(np.lexsort((hour, frame[EXPECTED].to_numpy(float), day, office)),
                               office * 1_000_000 + day)
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


def to_options(frame: pd.DataFrame, channel: str) -> list[HourOption]:
    """Rows (with distance and near-best columns) as :class:`HourOption` objects."""
    options = []
    for row in frame.itertuples(index=False):
        called = getattr(row, s.P_CALLED)
        distance = getattr(row, DISTANCE_KM)
        options.append(HourOption(
            office_id=str(getattr(row, s.OFFICE_ID)), date=getattr(row, s.DATE),
            hour=int(getattr(row, s.HOUR)), channel=channel,
            p10=round(float(getattr(row, s.P10)), 1), p50=round(float(getattr(row, s.P50)), 1),
            p90=round(float(getattr(row, s.P90)), 1),
            expected_wait=round(float(getattr(row, EXPECTED)), 1),
            p_called=None if pd.isna(called) else round(float(called), 3),
            distance_km=None if pd.isna(distance) else round(float(distance), 1),
            near_best=bool(getattr(row, NEAR_BEST)),
            calendar_estimated=bool(getattr(row, ESTIMATED)),
        ))
    return options


def best_times(
    rows: pd.DataFrame,
    offices: OfficeRegistry,
    calendar: ChinaCalendar,
    first: dt.date,
    last: dt.date,
    channel: str = s.Channel.WALK_IN.value,
    limit: int = 10,
    near: tuple[float, float] | None = None,
    settings: AdviceSettings | None = None,
    from_hour_on_first: int = 0,
) -> list[HourOption]:
    """The open hours with the shortest predicted wait in [first, last].

    The near-best hours (by expected wait, among those with at least ``min_p_called``
    chance of being called) come first — nearest office first when ``near`` is given, and
    the best hour of each day before second hours of a day, so that the list spreads people
    over days — then the other likely hours by expected wait, then the unlikely ones.
    """
    settings = settings or AdviceSettings()
    frame = open_hour_rows(rows, offices, calendar, channel, first, last, from_hour_on_first)
    if frame.empty:
        return []
    lat, lon = near if near is not None else (None, None)
    frame = with_distance(frame, offices, lat, lon)
    unlikely = (frame[s.P_CALLED].fillna(1.0) < settings.min_p_called).to_numpy()
    frame[NEAR_BEST] = False
    frame.loc[~unlikely, NEAR_BEST] = near_best_mask(frame[~unlikely], settings)
    frame["_unlikely"] = unlikely
    frame["_key"] = frame[EXPECTED] + np.where(unlikely, 1e9, 0.0)  # likely hours rank first
    frame["_rank"] = frame.groupby([s.OFFICE_ID, s.DATE])["_key"].rank(method="first")
    frame["_far"] = frame[DISTANCE_KM].fillna(np.inf)
    good = frame[frame[NEAR_BEST]].sort_values(["_far", "_rank", s.DATE, s.HOUR, s.OFFICE_ID])
    rest = frame[~frame[NEAR_BEST]].sort_values(
        ["_unlikely", EXPECTED, "_far", s.DATE, s.HOUR, s.OFFICE_ID])
    ordered = pd.concat([good, rest]).head(limit)
    return to_options(ordered, channel)
