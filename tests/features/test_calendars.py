"""Each office on its own calendar, corrected by what the data show."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest

from features import schema as s
from features.calendar_world import HolidayCalendar
from features.calendars import Calendars, LearnedDays, WeekendCalendar, learn_days
from features.errors import CalendarError, InputError
from features.events import EventKind, load_events, parse_events


def _office(office_id: str, country: str | None, region: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(id=office_id, country=country, region=region)


def test_china_keeps_make_up_days_and_other_countries_never_get_china_s_calendar() -> None:
    calendars = Calendars()
    hangzhou, oakland = _office("hz", "CN"), _office("ca", "US", "CA")
    assert calendars.day(hangzhou, dt.date(2023, 10, 2)).holiday  # National Day block
    assert calendars.day(hangzhou, dt.date(2023, 10, 7)).makeup  # a Saturday worked
    assert calendars.day(oakland, dt.date(2023, 10, 2)).working  # a Monday in California
    assert not calendars.day(oakland, dt.date(2023, 10, 7)).working
    assert not calendars.day(oakland, dt.date(2023, 11, 23)).working  # Thanksgiving
    assert calendars.day(hangzhou, dt.date(2023, 11, 23)).working
    assert isinstance(calendars.of(oakland), HolidayCalendar)


def test_an_office_whose_country_is_unknown_works_monday_to_friday() -> None:
    calendars = Calendars()
    nowhere = _office("x", None)
    assert isinstance(calendars.of(nowhere), WeekendCalendar)
    assert calendars.day(nowhere, dt.date(2023, 10, 2)).working
    assert not calendars.day(nowhere, dt.date(2023, 10, 8)).working


def test_an_unknown_country_code_is_refused_with_a_clear_message() -> None:
    with pytest.raises(CalendarError, match="ISO 3166"):
        Calendars().of(_office("x", "XX"))


def test_closures_are_learned_per_region_and_open_holidays_by_name() -> None:
    offices = [_office(f"ca-{i}", "US", "CA") for i in range(3)] + [_office("md", "US", "MD")]
    dates = pd.date_range("2023-11-01", "2024-01-31", freq="D").date
    quiet = dt.date(2023, 12, 13)  # a Wednesday: nobody in California worked
    rows = [
        (o.id, d)
        for o in offices
        for d in dates
        if d.weekday() < 5 and not (o.id.startswith("ca") and d == quiet)
    ]
    activity = pd.DataFrame(rows, columns=[s.OFFICE_ID, s.DATE])
    learned = learn_days(activity, offices, Calendars())
    assert quiet in learned.closed["US-CA"]
    assert quiet not in learned.closed.get("US-MD", frozenset())  # Maryland worked
    # Every office worked on Veterans Day (a Saturday holiday is not a weekday, so use one
    # that falls on a weekday): it becomes an open holiday of both regions, by name.
    assert "Veterans Day" in learned.open_holidays["US-CA"]
    calendars = Calendars(learned=LearnedDays.from_dict(learned.to_dict()))
    assert not calendars.day(offices[0], quiet).working
    assert calendars.day(offices[3], quiet).working
    assert calendars.day(offices[0], dt.date(2024, 11, 11)).working  # next year's too


def test_holidays_not_yet_in_the_data_are_forecast_as_unconfirmed_outside_china() -> None:
    """Offices closed on Thanksgiving in the data stay closed on it; Juneteenth, after the
    data end, is forecast open and flagged as an estimate; China's calendar is official."""
    ca = [_office(f"ca-{i}", "US", "CA") for i in range(2)]
    cn = _office("hz", "CN")
    dates = pd.date_range("2024-10-01", "2024-12-31", freq="D").date
    closed_by_package = Calendars().base("US", "CA")
    rows = [
        (o.id, d)
        for o in [*ca, cn]
        for d in dates
        if (closed_by_package if o is not cn else Calendars().of(cn)).day(d).working
    ]
    learned = learn_days(pd.DataFrame(rows, columns=[s.OFFICE_ID, s.DATE]), [*ca, cn], Calendars())
    assert "Thanksgiving Day" in learned.closed_holidays["US-CA"]
    calendars = Calendars(learned=LearnedDays.from_dict(learned.to_dict()))
    thanksgiving = calendars.day(ca[0], dt.date(2025, 11, 27))
    assert not thanksgiving.working and not thanksgiving.estimated
    juneteenth = calendars.day(ca[0], dt.date(2025, 6, 19))
    assert juneteenth.working and juneteenth.estimated
    assert juneteenth.holiday_en and "Juneteenth" in juneteenth.holiday_en
    assert not juneteenth.holiday  # an office opens its weekday sessions: forecast
    assert not calendars.day(ca[0], dt.date(2025, 6, 18)).estimated  # an ordinary day
    assert not calendars.day(cn, dt.date(2025, 10, 1)).working  # National Day: official
    # a model without the record (older bundles) keeps the package's verdict
    old = Calendars(learned=LearnedDays(closed=learned.closed))
    assert not old.day(ca[0], dt.date(2025, 6, 19)).working


def test_the_events_table_dates_the_one_off_events() -> None:
    events = load_events()
    kinds = {(e.kind, e.start) for e in events}
    assert (EventKind.CHANGE, dt.date(2023, 6, 8)) in kinds
    assert (EventKind.SURGE, dt.date(2023, 1, 8)) in kinds
    change = next(e for e in events if e.kind is EventKind.CHANGE)
    assert change.covers(dt.date(2024, 6, 8)) and not change.covers(dt.date(2023, 6, 7))


def test_a_bad_events_file_names_the_line() -> None:
    text = (
        "start,end,kind,country,name\n"
        "2023-01-08,2023-10-31,surge,CN,reopening\n"
        "2023-13-01,,change,CN,x\n"
    )
    with pytest.raises(InputError, match="line 3"):
        parse_events(text, "events.csv")


def test_a_break_outside_china_joins_its_holidays_and_weekend() -> None:
    calendars = Calendars()
    frame = calendars.of(_office("ca", "US", "CA")).frame(
        dt.date(2023, 11, 20), dt.date(2023, 12, 1)
    )
    days = frame.set_index("date")
    # Thanksgiving and the day after (a California state holiday), then the weekend
    assert days.loc[dt.date(2023, 11, 22), "break_ahead"] == 4
    assert days.loc[dt.date(2023, 11, 27), "break_behind"] == 4
