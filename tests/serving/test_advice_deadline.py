"""The traveller's deadline on the China working-day calendar: holidays and make-up days."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from features.calendar_cn import default_calendar
from serving.advice.deadline import (
    ISSUING_TIMES,
    IssuingRule,
    Residency,
    issuing_time,
    last_day_to_apply,
    ready_date,
)

CAL = default_calendar()


def test_spring_festival_2023_counts_the_make_up_saturday_and_sunday() -> None:
    seven = ISSUING_TIMES[IssuingRule.IN_PROVINCE]
    # ready by Tue 31 Jan: 31, 30, Sun 29 (make-up), Sat 28 (make-up), then 20, 19, 18 Jan
    assert last_day_to_apply(dt.date(2023, 2, 1), seven, CAL) == dt.date(2023, 1, 17)
    assert ready_date(dt.date(2023, 1, 17), seven, CAL) == dt.date(2023, 1, 31)
    assert ready_date(dt.date(2023, 1, 18), seven, CAL) == dt.date(2023, 2, 1)
    five = ISSUING_TIMES[IssuingRule.EXPEDITED]
    assert last_day_to_apply(dt.date(2023, 2, 1), five, CAL) == dt.date(2023, 1, 19)


def test_spring_festival_2024_make_up_sundays_at_both_ends() -> None:
    seven = ISSUING_TIMES[IssuingRule.IN_PROVINCE]
    # ready by Sun 18 Feb (make-up); 10-17 Feb off; 9, 8, 7, 6, 5 Feb and Sun 4 Feb (make-up)
    assert last_day_to_apply(dt.date(2024, 2, 19), seven, CAL) == dt.date(2024, 2, 3)
    assert ready_date(dt.date(2024, 2, 3), seven, CAL) == dt.date(2024, 2, 18)


def test_out_of_province_counts_calendar_days_through_holidays() -> None:
    twenty = issuing_time(Residency.OUT_OF_PROVINCE, expedited=False)
    assert not twenty.working_days
    assert last_day_to_apply(dt.date(2023, 2, 1), twenty, CAL) == dt.date(2023, 1, 11)
    assert issuing_time(Residency.OUT_OF_PROVINCE, expedited=True).days == 5


def test_national_day_2023_block_and_its_make_up_weekend() -> None:
    seven = ISSUING_TIMES[IssuingRule.IN_PROVINCE]
    # ready by Mon 9 Oct: 9, Sun 8 and Sat 7 (make-up), 29 Sep - 6 Oct off, 28, 27, 26, 25
    assert last_day_to_apply(dt.date(2023, 10, 10), seven, CAL) == dt.date(2023, 9, 24)


@settings(deadline=None)  # the first calls fill the calendar's cache: slow on a busy machine
@given(
    travel=st.dates(dt.date(2023, 1, 1), dt.date(2026, 12, 31)),
    rule=st.sampled_from(list(IssuingRule)),
)
def test_the_last_day_to_apply_is_the_latest_that_is_ready_the_day_before(
    travel: dt.date, rule: IssuingRule
) -> None:
    issuing = ISSUING_TIMES[rule]
    last = last_day_to_apply(travel, issuing, CAL)
    assert ready_date(last, issuing, CAL) <= travel - dt.timedelta(days=1)
    assert ready_date(last + dt.timedelta(days=1), issuing, CAL) >= travel
