"""China's working-day calendar: public holidays, make-up working days and school breaks.

Sources, in order of trust:

1. an override file (``load_calendar(path)``) with the State Council's official schedule
   of a year that the libraries do not know yet — a year listed there is official;
2. ``chinesecalendar`` for the years it covers (2004 to its last published year);
3. beyond those, an *estimate* from ``holidays`` (statutory dates by rule, without most
   make-up days): every such day carries ``estimated=True``, and so does every feature,
   forecast and piece of advice built on it.

School breaks for Hangzhou come from a dated table of published term dates, and by rule
(summer: 1 July–31 August; winter: about four weeks around the Spring Festival) beyond it,
also flagged as estimated.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import chinese_calendar
import holidays as holidays_lib

from features.calendar_base import DayInfo, WorkCalendar
from features.errors import CalendarError

__all__ = ["ChinaCalendar", "DayInfo", "default_calendar", "load_calendar", "parse_override"]

HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}
# ``holidays`` spells names differently; map them onto chinesecalendar's English names.
_HOLIDAYS_LIB_NAMES = {  # checked in order: "chinese new year" before "new year"
    "spring festival": "Spring Festival",
    "chinese new year": "Spring Festival",
    "new year": "New Year's Day",
    "tomb": "Tomb-sweeping Day",
    "labor": "Labour Day",
    "labour": "Labour Day",
    "dragon boat": "Dragon Boat Festival",
    "national day": "National Day",
    "mid-autumn": "Mid-autumn Festival",
}

# Hangzhou primary and middle schools: published term dates (winter, summer) per year.
SCHOOL_BREAKS: dict[int, tuple[tuple[str, str], tuple[str, str]]] = {
    2023: (("2023-01-14", "2023-02-05"), ("2023-07-01", "2023-08-31")),
    2024: (("2024-01-27", "2024-02-25"), ("2024-07-06", "2024-08-31")),
    2025: (("2025-01-18", "2025-02-16"), ("2025-07-05", "2025-08-31")),
    2026: (("2026-01-31", "2026-03-01"), ("2026-07-04", "2026-08-31")),
}


@dataclass(frozen=True, slots=True)
class _Override:
    holidays: dict[dt.date, str]
    makeup_days: dict[dt.date, str]
    years: frozenset[int]


class ChinaCalendar(WorkCalendar):
    """Working days, holidays and school breaks, with the estimated years flagged."""

    key = "CN"

    def __init__(self, override: _Override | None = None) -> None:
        super().__init__()
        self._override = override or _Override({}, {}, frozenset())
        library_last = max(d.year for d in chinese_calendar.constants.holidays)
        self.last_official_year = max([library_last, *self._override.years])

    def _compute(self, date: dt.date) -> DayInfo:
        weekend = date.weekday() >= 5
        name: str | None
        if date.year in self._override.years:
            estimated = False
            if date in self._override.holidays:
                holiday, makeup, name = True, False, self._override.holidays[date]
            elif date in self._override.makeup_days:
                holiday, makeup, name = False, True, self._override.makeup_days[date]
            else:
                holiday, makeup, name = False, False, None
        elif date.year <= self.last_official_year and date.year >= 2004:
            estimated = False
            on_holiday, name = chinese_calendar.get_holiday_detail(date)
            holiday = bool(on_holiday and name)
            makeup = bool(weekend and not on_holiday)
            if not holiday and not makeup:
                name = None
        else:
            estimated = True
            holiday, makeup, name = _estimate(date)
        working = makeup or (not weekend and not holiday)
        school, school_estimated = _school_break(date)
        return DayInfo(
            date=date,
            working=working,
            holiday=holiday,
            makeup=makeup,
            holiday_en=name,
            holiday_zh=HOLIDAY_NAMES_ZH.get(name, name) if name else None,
            school_break=school,
            estimated=estimated or school_estimated,
        )


@lru_cache(maxsize=64)
def _estimated_year(year: int) -> tuple[dict[dt.date, str], frozenset[dt.date]]:
    lib = holidays_lib.China(years=year)
    holiday_names = {date: _canonical_name(str(raw)) for date, raw in lib.items()}
    makeup = frozenset(d for d in getattr(lib, "weekend_workdays", set()) if d.year == year)
    return holiday_names, makeup


def _estimate(date: dt.date) -> tuple[bool, bool, str | None]:
    holiday_names, makeup = _estimated_year(date.year)
    if date in holiday_names:
        return True, False, holiday_names[date]
    if date in makeup:
        return False, True, None
    return False, False, None


def _canonical_name(raw: str) -> str:
    lowered = raw.lower()
    for key, name in _HOLIDAYS_LIB_NAMES.items():
        if key in lowered:
            return name
    return raw


def _school_break(date: dt.date) -> tuple[str | None, bool]:
    table = SCHOOL_BREAKS.get(date.year)
    if table is not None:
        (w0, w1), (s0, s1) = table
        if dt.date.fromisoformat(w0) <= date <= dt.date.fromisoformat(w1):
            return "winter", False
        if dt.date.fromisoformat(s0) <= date <= dt.date.fromisoformat(s1):
            return "summer", False
        return None, False
    # By rule: flagged as estimated only for years after the published table.
    beyond = date.year > max(SCHOOL_BREAKS)
    if dt.date(date.year, 7, 1) <= date <= dt.date(date.year, 8, 31):
        return "summer", beyond
    spring = _spring_festival(date.year)
    if spring is not None and spring - dt.timedelta(days=14) <= date <= spring + dt.timedelta(
        days=14
    ):
        return "winter", beyond
    return None, beyond


def _spring_festival(year: int) -> dt.date | None:
    for date, raw in holidays_lib.China(years=year).items():
        if "spring festival" in str(raw).lower() or "chinese new year" in str(raw).lower():
            return date
    return None


def parse_override(text: str, source: str = "") -> _Override:
    """Parse an override CSV: ``date,kind,name`` with kind ``holiday`` or ``workday``.

    Every year that appears in the file is taken as fully official: days of that year
    not listed are ordinary days.
    """
    reader = csv.DictReader(io.StringIO(text))
    need = {"date", "kind", "name"}
    if reader.fieldnames is None or not need <= set(reader.fieldnames):
        raise CalendarError(f"calendar override {source}: needs the columns date,kind,name")
    hols: dict[dt.date, str] = {}
    makeup: dict[dt.date, str] = {}
    for line, row in enumerate(reader, start=2):
        try:
            date = dt.date.fromisoformat(row["date"].strip())
        except ValueError:
            raise CalendarError(
                f"calendar override {source}: line {line}: bad date {row['date']!r}"
            ) from None
        kind = row["kind"].strip().lower()
        name = row["name"].strip() or "Holiday"
        if kind == "holiday":
            hols[date] = name
        elif kind == "workday":
            if date.weekday() < 5:
                raise CalendarError(
                    f"calendar override {source}: line {line}: {date} is a weekday, "
                    "a make-up workday must be a Saturday or Sunday"
                )
            makeup[date] = name
        else:
            raise CalendarError(
                f"calendar override {source}: line {line}: kind must be holiday or workday"
            )
    years = frozenset(d.year for d in [*hols, *makeup])
    return _Override(hols, makeup, years)


def load_calendar(override_path: Path | None = None) -> ChinaCalendar:
    """The calendar, with an optional override file of official schedules."""
    if override_path is None:
        return default_calendar()
    try:
        text = Path(override_path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarError(f"calendar override {override_path}: cannot read it ({exc})") from None
    return ChinaCalendar(parse_override(text, str(override_path)))


@lru_cache(maxsize=1)
def default_calendar() -> ChinaCalendar:
    """The shared calendar without overrides."""
    return ChinaCalendar()
