"""Each office on its own calendar, corrected by what the data show.

:class:`Calendars` answers ``calendars.of(office)``: China's calendar (chinesecalendar,
make-up days included) for offices in China, the ``holidays`` package's calendar of the
office's country and region for the others, or weekends only for an office whose country
is unknown. It never applies the China calendar to an office outside China.

What the data show (:class:`LearnedDays`, learned by :func:`learn_days` and stored with
every model) corrects each calendar per country and region:

- a date on which *every* office of the region had no activity (no ticket issued, no wait
  posted) while the calendar says they work is a closed day;
- a holiday on which most of the region's offices were open is a working day for them,
  by holiday name, so that next year's same holiday is open too; one on which they were
  closed stays closed, by name;
- outside China, a holiday of the ``holidays`` package that the region's data have not
  shown yet (say Juneteenth, first listed after the data begin) is *unconfirmed*: its
  hours are forecast, flagged as an estimate, rather than left without a forecast —
  many offices work some of their country's holidays. China's calendar is official and
  never second-guessed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from features import schema as s
from features.calendar_base import DayInfo, WorkCalendar
from features.calendar_cn import ChinaCalendar, default_calendar
from features.calendar_world import CN, AdjustedCalendar, HolidayCalendar, holiday_name

NO_COUNTRY = ""  # an office whose country is unknown: weekends only, closures learned
OPEN_HOLIDAY_SHARE = 0.5  # a holiday is open when at least this share of offices worked


def calendar_key(country: str | None, region: str | None) -> str:
    """The key of a country's (and region's) calendar, e.g. ``CN``, ``US-CA``, ``""``."""
    if not country:
        return NO_COUNTRY
    if country == CN or not region:
        return country
    return f"{country}-{region}"


class WeekendCalendar(WorkCalendar):
    """No public holidays known: Monday to Friday work."""

    key = NO_COUNTRY

    def _compute(self, date: dt.date) -> DayInfo:
        return DayInfo(date, date.weekday() < 5, False, False, None, None, None, False)


@dataclass(frozen=True)
class LearnedDays:
    """Per calendar key: dates learned closed, and holiday names learned open."""

    closed: Mapping[str, frozenset[dt.date]] = field(default_factory=dict)
    open_holidays: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Holiday names seen closed, for every calendar key with data (an empty set when none
    # was): a holiday neither here nor open is unconfirmed. Absent in older models.
    closed_holidays: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "closed": {k: sorted(d.isoformat() for d in v) for k, v in self.closed.items()},
            "open_holidays": {k: sorted(v) for k, v in self.open_holidays.items()},
            "closed_holidays": {k: sorted(v) for k, v in self.closed_holidays.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LearnedDays:
        """Inverse of :meth:`to_dict`."""
        return cls(
            closed={
                str(k): frozenset(dt.date.fromisoformat(d) for d in v)
                for k, v in data.get("closed", {}).items()
            },
            open_holidays={str(k): frozenset(v) for k, v in data.get("open_holidays", {}).items()},
            closed_holidays={
                str(k): frozenset(v) for k, v in data.get("closed_holidays", {}).items()
            },
        )


class Calendars:
    """The calendar of each office: its country's and region's, corrected by the data.

    Args:
        china: China's calendar (with the override file's official years, if any).
        learned: what the data taught (none by default).
    """

    def __init__(self, china: ChinaCalendar | None = None, learned: LearnedDays | None = None):
        self.china = china or default_calendar()
        self.learned = learned or LearnedDays()
        self._by_key: dict[str, WorkCalendar] = {}

    def base(self, country: str | None, region: str | None) -> WorkCalendar:
        """The uncorrected calendar of a country and region."""
        if not country:
            return WeekendCalendar()
        if country == CN:
            return self.china
        return HolidayCalendar(country, region)

    def of(self, office: Any) -> WorkCalendar:
        """The calendar of an office (anything with ``country`` and ``region``)."""
        key = calendar_key(office.country, office.region)
        calendar = self._by_key.get(key)
        if calendar is None:
            base = self.base(office.country, office.region)
            closed = self.learned.closed.get(key, frozenset())
            names = self.learned.open_holidays.get(key, frozenset())
            shut = self.learned.closed_holidays.get(key)
            confirmed = shut if isinstance(base, HolidayCalendar) else None
            adjust = closed or names or confirmed is not None
            calendar = AdjustedCalendar(base, closed, names, confirmed) if adjust else base
            self._by_key[key] = calendar
        return calendar

    def day(self, office: Any, date: dt.date) -> DayInfo:
        """What the office's calendar says about a date."""
        return self.of(office).day(date)

    def with_learned(self, learned: LearnedDays) -> Calendars:
        """The same calendars corrected by ``learned``."""
        return Calendars(self.china, learned)


def learn_days(activity: pd.DataFrame, offices: Iterable[Any], calendars: Calendars) -> LearnedDays:
    """Closed days and open holidays per calendar key, from the offices' activity.

    Args:
        activity: one row per office and date with any activity (columns ``office_id``,
            ``date``).
        offices: the offices (with ``id``, ``country``, ``region``).
        calendars: the uncorrected calendars.
    """
    groups: dict[str, list[Any]] = {}
    for office in offices:
        groups.setdefault(calendar_key(office.country, office.region), []).append(office)
    active = activity[[s.OFFICE_ID, s.DATE]].drop_duplicates()
    closed: dict[str, frozenset[dt.date]] = {}
    open_names: dict[str, frozenset[str]] = {}
    closed_names: dict[str, frozenset[str]] = {}
    for key, members in groups.items():
        ids = {o.id for o in members}
        rows = active[active[s.OFFICE_ID].isin(ids)]
        if rows.empty:
            continue
        per_day = rows.groupby(s.DATE)[s.OFFICE_ID].nunique()
        base = calendars.base(members[0].country, members[0].region)
        dates = pd.date_range(min(per_day.index), max(per_day.index), freq="D").date
        n_offices = rows[s.OFFICE_ID].nunique()
        shut: set[dt.date] = set()
        worked: set[str] = set()
        shut_names: set[str] = set()
        for date in dates:
            info = base.day(date)
            count = int(per_day.get(date, 0))
            if info.working and count == 0:
                shut.add(date)
            elif info.holiday and info.holiday_en:
                is_open = count >= OPEN_HOLIDAY_SHARE * n_offices
                (worked if is_open else shut_names).add(holiday_name(info.holiday_en))
        if shut:
            closed[key] = frozenset(shut)
        if worked:
            open_names[key] = frozenset(worked)
        closed_names[key] = frozenset(shut_names - worked)
    return LearnedDays(closed, open_names, closed_names)
