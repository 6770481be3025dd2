"""Calendars of offices outside China, and calendars adjusted by what the data show.

- :class:`HolidayCalendar`: public holidays of a country (and subdivision) from the
  ``holidays`` package, with the country's own weekend. No make-up days, no school
  breaks. The package computes holidays by rule for any year, so nothing is flagged as
  estimated.
- :class:`AdjustedCalendar`: a calendar whose verdicts are corrected by the data: dates on
  which the offices were closed although the calendar says working day (learned closures),
  and holidays on which the offices were open (e.g. a motor-vehicle office that opens on
  Martin Luther King Jr. Day) — by holiday name, so the correction carries to next year;
  and, when the holidays seen closed are given, any other holiday is unconfirmed: a
  working day flagged as estimated (its hours are forecast, with the doubt shown).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays as holidays_lib

from features.calendar_base import DayInfo, WorkCalendar
from features.errors import CalendarError

CN = "CN"
LEARNED_CLOSURE = "closed (no activity in the data)"
LEARNED_CLOSURE_ZH = "停办(数据中无业务)"
OBSERVED_SUFFIX = " (observed)"


def holiday_name(raw: str) -> str:
    """A holiday's name without the "(observed)" suffix of a moved day."""
    name = raw.split(";")[0].strip()
    return name[: -len(OBSERVED_SUFFIX)] if name.endswith(OBSERVED_SUFFIX) else name


def check_country(country: str, region: str | None) -> None:
    """Refuse a country or subdivision the ``holidays`` package does not know."""
    supported = holidays_lib.list_supported_countries()
    if country not in supported:
        raise CalendarError(
            f"country {country!r} is not an ISO 3166 code with a known holiday calendar "
            "(e.g. CN, US, GB, DE)"
        )
    if region and country != CN and region not in supported[country]:
        known = ", ".join(supported[country][:12])
        raise CalendarError(f"region {region!r} is not a subdivision of {country} (e.g. {known})")


@lru_cache(maxsize=256)
def _year(country: str, region: str | None, year: int) -> tuple[dict[dt.date, str], frozenset]:
    lib = holidays_lib.country_holidays(country, subdiv=region, years=year)
    names = {date: holiday_name(str(name)) for date, name in lib.items()}
    return names, frozenset(getattr(lib, "weekend", {5, 6}))


class HolidayCalendar(WorkCalendar):
    """Public holidays of a country (and subdivision) from the ``holidays`` package."""

    def __init__(self, country: str, region: str | None = None) -> None:
        super().__init__()
        check_country(country, region)
        self.country, self.region = country, region
        self.key = f"{country}-{region}" if region else country

    def _compute(self, date: dt.date) -> DayInfo:
        names, weekend = _year(self.country, self.region, date.year)
        name = names.get(date)
        holiday = name is not None
        return DayInfo(
            date=date,
            working=not holiday and date.weekday() not in weekend,
            holiday=holiday,
            makeup=False,
            holiday_en=name,
            holiday_zh=name,
            school_break=None,
            estimated=False,
        )


class AdjustedCalendar(WorkCalendar):
    """A calendar corrected by learned closures and by holidays the offices work on.

    Args:
        base: the calendar to correct.
        closed: dates on which the offices were closed (no activity at all) although
            ``base`` says they work.
        open_holidays: names of ``base``'s holidays on which the offices were open.
        closed_holidays: names of ``base``'s holidays on which they were seen closed; when
            given, every other holiday is unconfirmed (open, estimated, name kept).
    """

    def __init__(
        self,
        base: WorkCalendar,
        closed: frozenset[dt.date],
        open_holidays: frozenset[str],
        closed_holidays: frozenset[str] | None = None,
    ) -> None:
        super().__init__()
        self.base, self.closed, self.open_holidays = base, closed, open_holidays
        self.closed_holidays = closed_holidays
        self.key = base.key

    def _compute(self, date: dt.date) -> DayInfo:
        info = self.base.day(date)
        name = holiday_name(info.holiday_en) if info.holiday and info.holiday_en else None
        confirmed = self.closed_holidays
        if name is not None and (
            name in self.open_holidays or (confirmed is not None and name not in confirmed)
        ):
            unconfirmed = name not in self.open_holidays
            return DayInfo(
                date=date,
                working=date.weekday() < 5,
                holiday=False,
                makeup=False,
                holiday_en=info.holiday_en if unconfirmed else None,
                holiday_zh=info.holiday_zh if unconfirmed else None,
                school_break=info.school_break,
                estimated=info.estimated or unconfirmed,
                unconfirmed=unconfirmed,
            )
        if date in self.closed and info.working:
            return DayInfo(
                date=date,
                working=False,
                holiday=True,
                makeup=False,
                holiday_en=LEARNED_CLOSURE,
                holiday_zh=LEARNED_CLOSURE_ZH,
                school_break=info.school_break,
                estimated=info.estimated,
            )
        return info
