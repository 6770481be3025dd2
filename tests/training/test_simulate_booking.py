"""The appointment book: earliest free slots, lead times that emerge, no-shows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from features import schema as s
from features.calendar_cn import ChinaCalendar
from features.offices import Office, OfficeRegistry
from training.simulate import book_office, simulate_office
from training.simulate.booking import AppointmentBook, book_share_after_change
from training.simulate.config import SimConfig

D = dt.date
DUAL_SMALL = "hz-westlake-scenic"


def _lead_days(frame: pd.DataFrame) -> pd.Series:
    return (frame[s.APPOINTMENT_AT].dt.normalize() - frame[s.BOOKED_AT].dt.normalize()).dt.days


@pytest.fixture(scope="module")
def office(offices: OfficeRegistry) -> Office:
    return offices.get(DUAL_SMALL)


def test_book_gives_the_earliest_slot_with_a_free_place() -> None:
    book = AppointmentBook(np.array([1, 0, 2, 1]))
    assert book.earliest(0) == 0
    book.take(0)
    assert book.earliest(0) == 2  # slot 0 full, slot 1 has no places
    book.take(2)
    book.take(2)
    assert book.earliest(1) == 3
    book.take(3)
    assert book.earliest(0) == 4  # none left: one past the last slot


def test_booking_share_falls_as_the_lead_time_grows() -> None:
    config = SimConfig()
    shares = [book_share_after_change(lead, config) for lead in (0, 10, 30, 60)]
    assert shares == sorted(shares, reverse=True)
    assert shares[0] == config.book_share_short_lead
    assert shares[-1] == config.book_share_long_lead


def test_lead_times_grow_while_booking_demand_exceeds_the_slots(
    office: Office, calendar: ChinaCalendar
) -> None:
    bookings = book_office(office, calendar, D(2023, 1, 2), D(2023, 6, 7), seed=4)
    month = bookings[s.BOOKED_AT].dt.month
    median = _lead_days(bookings).groupby(month).median()
    assert median[1] < 12  # the book was nearly empty at the reopening
    assert median[2] < median[3] < median[5]
    assert 20 <= median[5] <= 40  # about a month by May


def test_no_shows_leave_booked_slots_without_a_ticket(
    office: Office, calendar: ChinaCalendar
) -> None:
    args = (office, calendar, D(2023, 3, 1), D(2023, 5, 31))
    bookings = book_office(*args, seed=6)
    log = simulate_office(*args, seed=6)
    window = (pd.Timestamp("2023-04-03"), pd.Timestamp("2023-06-01"))
    due = bookings[s.APPOINTMENT_AT].between(*window, inclusive="left").sum()
    appt = log[log[s.CHANNEL] == s.Channel.APPOINTMENT.value]
    shown = appt[s.APPOINTMENT_AT].between(*window, inclusive="left").sum()
    assert due > 1000
    assert 0.88 < shown / due < 0.97  # ~7% no-shows before the policy change
    # every shown appointment was booked: same (booked_at, appointment_at) pairs
    keys = set(zip(bookings[s.BOOKED_AT], bookings[s.APPOINTMENT_AT], strict=True))
    assert all(pair in keys for pair in zip(appt[s.BOOKED_AT], appt[s.APPOINTMENT_AT], strict=True))


def test_fewer_bookings_after_the_policy_change(
    offices: OfficeRegistry, calendar: ChinaCalendar
) -> None:
    office = offices.get("hz-xihu")  # 10 windows: steadier daily counts
    bookings = book_office(office, calendar, D(2023, 4, 10), D(2023, 7, 7), seed=2, warmup_days=90)
    per_day = bookings.groupby(bookings[s.BOOKED_AT].dt.date).size()
    change = D(2023, 6, 8)
    before = per_day[[d for d in per_day.index if D(2023, 5, 8) <= d < change]].mean()
    after = per_day[[d for d in per_day.index if d >= change]].mean()
    assert after < 0.88 * before  # some walk in now that they may
