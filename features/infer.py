"""Offices found in data but not in the registry: their hours, mode, country and region.

An unknown office's hours are inferred from its activity (tickets issued, waits posted);
its country, region and time zone come from the :class:`Locale` that the command line's
``--country/--region/--timezone`` give.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from features import schema as s
from features.offices import WEEKDAYS, Office, OfficeRegistry


@dataclass(frozen=True)
class Locale:
    """Where offices inferred from data stand: country, region and time zone.

    ``country=None`` means "not given": such offices get China's calendar unless their
    data contradict it (see :func:`features.calendars.learn_days`).
    """

    country: str | None = None
    region: str | None = None
    timezone: str | None = None


INFER_WEEKS = 8  # inferred hours cover the activity of the office's last weeks
HOUR_COVERAGE = 0.99  # ... at least this share of it
MIN_ACTIVE_DATES = 2  # an hour active on this many dates of those weeks is open
YEAR_WEEKS = 52  # ... as is one active on MIN_YEAR_DATES dates of the last year (seasonal
MIN_YEAR_DATES = 4  # hours, and clocks that move with daylight-saving time)
PEER_SHARE = 0.5  # an hour most of the inferred offices kept on a date is the region's hour


def infer_offices(
    activity: pd.DataFrame, known: OfficeRegistry, locale: Locale | None = None
) -> list[Office]:
    """Offices that appear in data but not in the registry, with hours and mode inferred.

    The hours of each weekday are those active on at least two dates of the office's
    last eight weeks of data or on four dates of its last year, those active once on that
    weekday that are regular on most of its open weekdays, plus the busiest remaining ones
    until they hold at least 99 % of the eight weeks' tickets or observations. An open
    weekday also gets the hours its peers (the other inferred offices) kept, unless its own
    data, on the dates they kept them, say it is closed then (:func:`_peer_hours`).

    Args:
        activity: one row per ticket or observation with columns ``office_id``,
            ``channel`` and a local timestamp column ``at`` (tickets: issued_at;
            observations: observed_at of rows with a wait).
        known: offices that need no inference.
        locale: country, region and time zone of the inferred offices.

    Returns:
        One inferred :class:`Office` per unknown office id, with whole-hour sessions.
    """
    locale = locale or Locale()
    unknown = sorted(set(activity[s.OFFICE_ID].astype(str).unique()) - set(known.ids))
    peers = activity[activity[s.OFFICE_ID].astype(str).isin(unknown)]
    shared = _peer_hours(peers[s.OFFICE_ID].astype(str), pd.to_datetime(peers[s.ACTIVITY_AT]))
    inferred = []
    for office_id in unknown:
        rows = activity[activity[s.OFFICE_ID] == office_id]
        at = pd.to_datetime(rows[s.ACTIVITY_AT])
        hours = _hours_by_weekday(at)
        for weekday, hour in shared.get(office_id, ()):
            if hour not in hours.get(weekday, [hour]):
                hours[weekday] = sorted([*hours[weekday], hour])
        sessions = {WEEKDAYS[w]: _runs_to_sessions(hours.get(w, [])) for w in range(7)}
        channels = set(rows[s.CHANNEL].astype(str)) if s.CHANNEL in rows else set()
        mode = (
            s.OfficeMode.DUAL_TRACK
            if s.Channel.APPOINTMENT.value in channels
            else s.OfficeMode.WALK_IN_ONLY
        )
        extra: dict[str, Any] = {"country": locale.country or "CN", "region": locale.region}
        if locale.timezone:
            extra["timezone"] = locale.timezone
        record = {"id": office_id, "name_zh": office_id, "name_en": office_id, "mode": mode}
        # Sessions as text, parsed by the registry's own validator.
        record |= {"sessions": sessions, "inferred": True, **extra}
        inferred.append(Office.model_validate(record))
    return inferred


def _cells(at: pd.Series) -> pd.DataFrame:
    """Activity per weekday × hour: rows (``n``) and distinct dates (``dates``)."""
    cells = pd.DataFrame({"weekday": at.dt.day_of_week, "hour": at.dt.hour, "date": at.dt.date})
    return cells.groupby(["weekday", "hour"]).agg(n=("date", "size"), dates=("date", "nunique"))


def _hours_by_weekday(at: pd.Series) -> dict[int, list[int]]:
    """Open hours per weekday (0 = Monday) from activity times (see infer_offices)."""
    end = at.max().normalize()
    per_cell = _cells(at[at >= end - pd.Timedelta(weeks=INFER_WEEKS)])
    year = _cells(at[at >= end - pd.Timedelta(weeks=YEAR_WEEKS)])
    seasonal = year[year["dates"] >= MIN_YEAR_DATES].index
    regular = per_cell[per_cell["dates"] >= MIN_ACTIVE_DATES]
    rest = per_cell[per_cell["dates"] < MIN_ACTIVE_DATES].sort_values("n", ascending=False)
    missing = HOUR_COVERAGE * per_cell["n"].sum() - regular["n"].sum()
    # The busiest one-off hours, until the regular ones and they hold 99 % of the activity.
    extra = rest[rest["n"].cumsum().shift(fill_value=0) < missing] if missing > 0 else rest.head(0)
    # An hour seen once on a weekday that is regular on most of the office's open weekdays is
    # open too: a weekday seen on few dates (a holiday week, a short history) has thin evidence.
    per_weekday = regular.reset_index().groupby("hour")["weekday"].nunique()
    open_weekdays = regular.index.get_level_values("weekday").nunique()
    typical = set(per_weekday[per_weekday * 2 > open_weekdays].index)
    usual = [cell for cell in rest.index if cell[1] in typical]
    hours: dict[int, list[int]] = {}
    for weekday, hour in sorted({*regular.index, *extra.index, *seasonal, *usual}):
        hours.setdefault(int(weekday), []).append(int(hour))
    return hours


def _peer_hours(office: pd.Series, at: pd.Series) -> dict[str, set[tuple[int, int]]]:
    """Weekday × hour cells each office keeps with its peers, the other inferred offices.

    A cell is the peers' on the dates of the last year on which most offices active that
    day were active at that hour; it needs ``MIN_YEAR_DATES`` such dates. An office keeps
    it when, on those of its own dates, it was active at that hour at least half the time,
    or when it was never seen on them: an office that started after a daylight-saving
    change, or posts once at a season's first hour, opens like its region until its own
    data say otherwise.
    """
    frame = pd.DataFrame({"office": office.to_numpy(), "at": at.to_numpy()})
    if frame.empty or frame["office"].nunique() < 2:
        return {}
    frame = frame[frame["at"] >= frame["at"].max().normalize() - pd.Timedelta(weeks=YEAR_WEEKS)]
    frame = frame.assign(date=frame["at"].dt.normalize(), hour=frame["at"].dt.hour)
    seen = frame[["office", "date", "hour"]].drop_duplicates()
    offices_on = seen.groupby("date")["office"].nunique()
    at_hour = seen.groupby(["date", "hour"])["office"].nunique()
    share = at_hour / offices_on.reindex(at_hour.index.get_level_values("date")).to_numpy()
    peer = share[share > PEER_SHARE].reset_index()[["date", "hour"]]
    if peer.empty:
        return {}
    peer["weekday"] = peer["date"].dt.day_of_week
    cells = ["weekday", "hour"]
    peer = peer[peer.groupby(cells)["date"].transform("size") >= MIN_YEAR_DATES]
    # Per office and cell: its own dates among the peers' (observed), and those on which it
    # was active at that hour too (there).
    own_dates = seen[["office", "date"]].drop_duplicates()
    observed = own_dates.merge(peer, on="date").groupby(["office", *cells]).size()
    there = seen.merge(peer, on=["date", "hour"]).groupby(["office", *cells]).size()
    there = there.reindex(observed.index, fill_value=0)
    agrees = set(observed[2 * there >= observed].index)
    seen_on_them = set(observed.index)
    every = [
        (name, int(weekday), int(hour))
        for name in own_dates["office"].unique()
        for weekday, hour in peer[cells].drop_duplicates().itertuples(index=False)
    ]
    kept: dict[str, set[tuple[int, int]]] = {}
    for name, weekday, hour in every:
        if (name, weekday, hour) in agrees or (name, weekday, hour) not in seen_on_them:
            kept.setdefault(str(name), set()).add((weekday, hour))
    return kept


def _runs_to_sessions(hours: list[int]) -> list[list[str]]:
    """Consecutive hours -> sessions, e.g. [9, 10, 11, 14] -> 09:00-12:00, 14:00-15:00."""
    sessions: list[list[str]] = []
    for hour in hours:
        if sessions and int(sessions[-1][1][:2]) == hour:
            sessions[-1][1] = f"{hour + 1:02d}:00" if hour < 23 else "23:59"
        else:
            sessions.append([f"{hour:02d}:00", f"{hour + 1:02d}:00" if hour < 23 else "23:59"])
    return sessions
