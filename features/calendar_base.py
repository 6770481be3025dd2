"""What every working-day calendar answers: one :class:`DayInfo` per date, and what follows.

A calendar subclass computes one date (:meth:`WorkCalendar._compute`); this base caches
the answers and derives working-day arithmetic and the feature frame from them, so
China's calendar, other countries' calendars and calendars adjusted by what the data show
all behave alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

HOLIDAY_DISTANCE_CAP_DAYS = 60  # days_to/from_holiday are capped here


@dataclass(frozen=True, slots=True)
class DayInfo:
    """What the calendar says about one date."""

    date: dt.date
    working: bool  # a working day: a weekday that is no holiday, or a make-up day
    holiday: bool  # a public holiday (statutory day or day off of a holiday block)
    makeup: bool  # a weekend day declared a working day (调休)
    holiday_en: str | None  # the holiday's name on holidays and make-up days
    holiday_zh: str | None
    school_break: str | None  # "summer" / "winter" / None
    estimated: bool  # the holiday or school-break data for this date are an estimate
    # A public holiday of the office's country that the data have shown neither open nor
    # closed (outside China): its hours are forecast, flagged estimated, never recommended.
    unconfirmed: bool = False


class WorkCalendar:
    """Base of the calendars: a cached :meth:`day`, working-day arithmetic, the frame."""

    #: A short name of the calendar, e.g. ``CN`` or ``US-CA``.
    key: str = ""

    def __init__(self) -> None:
        self._cache: dict[dt.date, DayInfo] = {}

    def _compute(self, date: dt.date) -> DayInfo:  # pragma: no cover - abstract
        raise NotImplementedError

    def day(self, date: dt.date) -> DayInfo:
        """The calendar's verdict on one date (cached)."""
        info = self._cache.get(date)
        if info is None:
            info = self._compute(date)
            self._cache[date] = info
        return info

    def is_working_day(self, date: dt.date) -> bool:
        """True when offices open with their weekday hours."""
        return self.day(date).working

    def is_estimated(self, date: dt.date) -> bool:
        """True when this date's holidays are an estimate, not the official schedule."""
        return self.day(date).estimated

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after ``start`` (``start`` itself does not count)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        day = start
        while n > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def frame(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        """One row per date in [start, end] with the calendar features.

        Columns: date, weekday, working, holiday, makeup, holiday_en, holiday_zh,
        school_break (name or None), in_school_break, days_to_holiday,
        days_from_holiday (capped at 60), break_ahead, break_behind (the days off in a row
        of the next and of the last holiday: a golden week's 8, a lone holiday's 1), estimated.
        """
        pad = dt.timedelta(days=HOLIDAY_DISTANCE_CAP_DAYS)
        dates = pd.date_range(start - pad, end + pad, freq="D").date
        infos = [self.day(d) for d in dates]
        out = pd.DataFrame(
            {
                "date": dates,
                "weekday": [d.weekday() for d in dates],
                "working": [i.working for i in infos],
                "holiday": [i.holiday for i in infos],
                "makeup": [i.makeup for i in infos],
                "holiday_en": [i.holiday_en for i in infos],
                "holiday_zh": [i.holiday_zh for i in infos],
                "school_break": [i.school_break for i in infos],
                "estimated": [i.estimated for i in infos],
            }
        )
        out["in_school_break"] = out["school_break"].notna()
        out["days_to_holiday"] = _distance(out["holiday"].to_numpy(), forward=True)
        out["days_from_holiday"] = _distance(out["holiday"].to_numpy(), forward=False)
        block = _break_lengths(out["working"].to_numpy(bool), out["holiday"].to_numpy(bool))
        out["break_ahead"] = _at_distance(block, out["days_to_holiday"].to_numpy(), forward=True)
        out["break_behind"] = _at_distance(
            block, out["days_from_holiday"].to_numpy(), forward=False
        )
        keep = (out["date"] >= start) & (out["date"] <= end)
        return out[keep].reset_index(drop=True)


def _break_lengths(working: np.ndarray, holiday: np.ndarray) -> np.ndarray:
    """On each holiday, the length of its run of days off (weekends joined); else 0."""
    run = np.concatenate([[0], np.cumsum(working[1:] != working[:-1])])
    length = np.bincount(run)[run]
    return np.where(holiday & ~working, length, np.where(holiday, 1, 0))


def _at_distance(values: np.ndarray, distance: np.ndarray, forward: bool) -> np.ndarray:
    """``values`` at the index ``distance`` ahead (or behind); 0 at the distance cap."""
    index = np.arange(len(values)) + (distance if forward else -distance)
    inside = (distance < HOLIDAY_DISTANCE_CAP_DAYS) & (index >= 0) & (index < len(values))
    return np.where(inside, values[np.clip(index, 0, len(values) - 1)], 0)


def _distance(flags: Iterable[bool], forward: bool) -> list[int]:
    """Days to the next (forward) or from the last flagged day, capped."""
    values = list(flags)
    order = range(len(values) - 1, -1, -1) if forward else range(len(values))
    out = [HOLIDAY_DISTANCE_CAP_DAYS] * len(values)
    last: int | None = None
    for i in order:
        if values[i]:
            last = i
        if last is not None:
            out[i] = min(abs(last - i), HOLIDAY_DISTANCE_CAP_DAYS)
    return out
