"""China's working-day calendar: invariants (hypothesis), known 2023 facts, and overrides."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.calendar_cn import SCHOOL_BREAKS, ChinaCalendar, default_calendar, load_calendar
from features.errors import CalendarError

CALENDAR = default_calendar()
LAST = CALENDAR.last_official_year
dates = st.dates(min_value=dt.date(2005, 1, 1), max_value=dt.date(LAST + 3, 12, 31))


@settings(max_examples=300, deadline=None)
@given(dates)
def test_a_makeup_day_is_a_working_weekend_day_and_a_holiday_is_never_working(
    day: dt.date,
) -> None:
    info = CALENDAR.day(day)
    if info.makeup:
        assert day.weekday() >= 5 and info.working
    if info.holiday:
        assert not info.working and not info.makeup
    if not info.holiday and not info.makeup:
        assert info.working == (day.weekday() < 5)


@settings(max_examples=100, deadline=None)
@given(dates, st.integers(min_value=0, max_value=40))
def test_add_working_days_lands_on_the_nth_working_day(start: dt.date, n: int) -> None:
    end = CALENDAR.add_working_days(start, n)
    between = [start + dt.timedelta(days=k) for k in range(1, (end - start).days + 1)]
    assert sum(CALENDAR.is_working_day(d) for d in between) == n
    if n > 0:
        assert CALENDAR.is_working_day(end)
    else:
        assert end == start


@settings(max_examples=60, deadline=None)
@given(dates, st.integers(min_value=0, max_value=90))
def test_days_to_holiday_is_zero_exactly_on_holidays(start: dt.date, length: int) -> None:
    frame = CALENDAR.frame(start, start + dt.timedelta(days=length))
    assert ((frame["days_to_holiday"] == 0) == frame["holiday"]).all()
    assert ((frame["days_from_holiday"] == 0) == frame["holiday"]).all()
    assert frame["days_to_holiday"].between(0, 60).all()


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=dt.date(min(SCHOOL_BREAKS), 1, 1), max_value=dt.date(LAST, 12, 31)))
def test_dates_within_the_official_years_are_not_estimated(day: dt.date) -> None:
    # From 2023 the school-break table is published too, so nothing is estimated up to
    # chinesecalendar's last year. (Earlier years carry estimated=True for school breaks.)
    assert not CALENDAR.is_estimated(day)


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=dt.date(LAST + 1, 1, 1), max_value=dt.date(LAST + 10, 12, 31)))
def test_dates_beyond_chinesecalendar_are_estimated(day: dt.date) -> None:
    assert CALENDAR.is_estimated(day)


def test_known_2023_days() -> None:
    spring = CALENDAR.day(dt.date(2023, 1, 23))
    assert spring.holiday and not spring.working
    assert (spring.holiday_en, spring.holiday_zh) == ("Spring Festival", "春节")
    makeup = CALENDAR.day(dt.date(2023, 1, 28))  # a Saturday worked for the Spring Festival
    assert makeup.makeup and makeup.working and not makeup.holiday
    dragon = CALENDAR.day(dt.date(2023, 6, 22))
    assert dragon.holiday and dragon.holiday_en == "Dragon Boat Festival"
    ordinary = CALENDAR.day(dt.date(2023, 6, 12))
    assert ordinary.working and not ordinary.holiday and ordinary.holiday_en is None
    assert CALENDAR.day(dt.date(2023, 7, 15)).school_break == "summer"
    # 2023-06-21 (Wed) + 1 working day skips the Dragon Boat break to the Sunday worked.
    assert CALENDAR.add_working_days(dt.date(2023, 6, 21), 1) == dt.date(2023, 6, 25)


def write_override(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "override.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_override_makes_its_year_official(tmp_path: Path) -> None:
    year = LAST + 2
    saturday = next(dt.date(year, 1, d) for d in range(8, 15) if dt.date(year, 1, d).weekday() == 5)
    path = write_override(
        tmp_path,
        f"date,kind,name\n{year}-01-01,holiday,New Year's Day\n{saturday},workday,New Year's Day\n",
    )
    calendar = load_calendar(path)
    assert isinstance(calendar, ChinaCalendar) and calendar.last_official_year == year
    assert calendar.day(dt.date(year, 1, 1)).holiday
    assert calendar.day(saturday).makeup and calendar.is_working_day(saturday)
    # Listed years are complete: a day the estimate would call a holiday is ordinary here.
    assert CALENDAR.day(dt.date(year, 10, 2)).holiday
    assert not calendar.day(dt.date(year, 10, 2)).holiday


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("day,kind\n2030-01-01,holiday\n", "date,kind,name"),
        ("date,kind,name\n2030-13-01,holiday,x\n", "line 2: bad date"),
        ("date,kind,name\n2030-01-02,workday,x\n", "line 2: .* is a weekday"),
        ("date,kind,name\n2030-01-01,festival,x\n", "kind must be holiday or workday"),
    ],
)
def test_a_bad_override_is_a_calendar_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        load_calendar(write_override(tmp_path, text))


def test_an_unreadable_override_is_a_calendar_error(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="cannot read"):
        load_calendar(tmp_path / "missing.csv")


def test_a_golden_week_is_a_long_break_and_a_lone_holiday_a_short_one() -> None:
    # Spring Festival 2026: 15-23 February off (9 days), 14 February a make-up Saturday;
    # Qingming 2025: 4-6 April (3 days).
    frame = CALENDAR.frame(dt.date(2025, 3, 30), dt.date(2026, 2, 26)).set_index("date")
    assert frame.loc[dt.date(2026, 2, 14), "break_ahead"] == 9
    assert frame.loc[dt.date(2026, 2, 24), "break_behind"] == 9
    assert frame.loc[dt.date(2025, 4, 3), "break_ahead"] == 3
    assert frame.loc[dt.date(2025, 4, 7), "break_behind"] == 3


@settings(max_examples=60, deadline=None)
@given(dates, st.integers(min_value=0, max_value=90))
def test_a_break_is_its_holiday_s_run_of_days_off(start: dt.date, length: int) -> None:
    frame = CALENDAR.frame(start, start + dt.timedelta(days=length))
    on_holiday = frame[frame["holiday"]]
    # on a holiday the break ahead and behind is its own, at least the holiday itself
    assert (on_holiday["break_ahead"] == on_holiday["break_behind"]).all()
    assert (on_holiday["break_ahead"] >= 1).all()
    assert frame["break_ahead"].between(0, 60).all()
