"""A seeded factory of posted-wait feeds with the faults real feeds have.

Every fault is a knob, off by default: irregular sampling, empty posts, closed days,
outliers, a level shift, offices that appear or disappear, a daylight-saving time zone.
The waits follow a weekday × hour pattern per office, so a model that learns it beats the
8-week historical mean only by reading the data well, and a test can say what the right
answer is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from features import schema as s

__all__ = ["feed", "pattern_wait"]

OPEN_HOUR, CLOSE_HOUR = 8, 17


def pattern_wait(office: int, weekday: int, hour: int) -> float:
    """The typical wait (minutes) of an office at a weekday and hour."""
    peak = 1.6 if weekday == 0 else 1.0 if weekday < 4 else 0.8
    daily = 1.0 + 0.6 * np.exp(-((hour - 10.5) ** 2) / 3.0)
    return float((12.0 + 4.0 * office) * peak * daily)


def feed(
    start: dt.date,
    days: int,
    offices: int = 4,
    seed: int = 0,
    every_minutes: int = 15,
    irregular: bool = False,
    empty_share: float = 0.0,
    closed: tuple[dt.date, ...] = (),
    outlier_share: float = 0.0,
    shift: tuple[dt.date, float] | None = None,
    first_day: Mapping[int, dt.date] | None = None,
    last_day: Mapping[int, dt.date] | None = None,
    prefix: str = "zz",
    zone: str | None = None,
) -> pd.DataFrame:
    """Posted waits (raw text columns, as read from a CSV) of ``offices`` offices.

    Args:
        start: first day; ``days`` days are generated, Saturdays and Sundays closed.
        offices: how many offices (ids ``{prefix}-0`` ...).
        seed: the random seed.
        every_minutes: the sampling step (``irregular``: exponential gaps of that mean).
        empty_share: share of posts with an empty wait.
        closed: dates on which no office posts anything.
        outlier_share: share of posts replaced by an absurd 600-900 minute wait.
        shift: from this date on, waits are multiplied by this factor.
        first_day / last_day: per office index, the first or last day it posts.
        prefix: office id prefix.
        zone: when given, times are written in UTC (``Z``) from this local zone, as feeds
            that post UTC do; a daylight-saving change then moves the UTC hours.
    """
    rng = np.random.default_rng(seed)
    first_day, last_day = dict(first_day or {}), dict(last_day or {})
    rows = []
    for offset in range(days):
        date = start + dt.timedelta(days=offset)
        if date.weekday() >= 5 or date in closed:
            continue
        for office in range(offices):
            if date < first_day.get(office, start) or date > last_day.get(office, date):
                continue
            minute = OPEN_HOUR * 60.0
            while minute < CLOSE_HOUR * 60:
                hour = int(minute // 60)
                wait = pattern_wait(office, date.weekday(), hour) * rng.lognormal(0.0, 0.25)
                if shift is not None and date >= shift[0]:
                    wait *= shift[1]
                if rng.random() < outlier_share:
                    wait = rng.uniform(600, 900)
                text = "" if rng.random() < empty_share else f"{wait:.0f}"
                at = dt.datetime.combine(date, dt.time()) + dt.timedelta(minutes=minute)
                rows.append((f"{prefix}-{office}", _stamp(at, zone), text))
                step = rng.exponential(every_minutes) if irregular else every_minutes
                minute += max(step, 1.0)
    frame = pd.DataFrame(rows, columns=[s.OFFICE_ID, s.OBSERVED_AT, s.WAIT_MINUTES])
    frame[s.CHANNEL] = s.Channel.WALK_IN.value
    return frame


def _stamp(at: dt.datetime, zone: str | None) -> str:
    if zone is None:
        return at.isoformat(timespec="seconds")
    utc = pd.Timestamp(at).tz_localize(zone).tz_convert("UTC")
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
