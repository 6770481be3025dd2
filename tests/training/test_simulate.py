"""The simulated ticket log: its shape, determinism, opening hours and daily patterns.

Short windows and few offices keep these fast; the year-long checks are in
``test_simulate_year.py``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from features import schema as s
from features.calendar_cn import ChinaCalendar
from features.errors import ParameterError
from features.offices import WEEKDAYS, Office, OfficeRegistry
from training.simulate import LOG_COLUMNS, Forked, ServiceType, SimConfig, simulate

D = dt.date
WALK_IN = s.Channel.WALK_IN.value
APPOINTMENT = s.Channel.APPOINTMENT.value
DUAL_SMALL = "hz-westlake-scenic"  # dual track, 3 windows: cheap to simulate
WALK_IN_SMALL = "hz-tonglu"  # walk-in only, 3 windows, opens 08:30-12:00 / 14:00-17:00


def _subset(offices: OfficeRegistry, *ids: str) -> OfficeRegistry:
    return OfficeRegistry([offices.get(i) for i in ids])


@pytest.fixture(scope="module")
def spring(offices: OfficeRegistry, calendar: ChinaCalendar) -> pd.DataFrame:
    """Two small offices around the policy change, with the booking backlog built up."""
    subset = _subset(offices, DUAL_SMALL, WALK_IN_SMALL)
    return simulate(subset, calendar, D(2023, 5, 15), D(2023, 6, 30), seed=11, warmup_days=130)


def test_columns_types_and_order(spring: pd.DataFrame) -> None:
    assert tuple(spring.columns) == LOG_COLUMNS
    for column in s.TICKET_TIME_COLUMNS:
        assert spring[column].dtype == np.dtype("M8[ns]")
    assert spring[s.DOCUMENTS].dtype == np.int64
    ordered = spring.sort_values([s.OFFICE_ID, s.ISSUED_AT, s.TICKET_ID], kind="stable")
    assert ordered.index.equals(spring.index)
    per_day = spring.groupby([spring[s.OFFICE_ID], spring[s.ISSUED_AT].dt.date])[s.TICKET_ID]
    assert not per_day.apply(lambda ids: ids.duplicated().any()).any()
    prefix = spring[s.TICKET_ID].str[0]
    assert ((prefix == "A") == (spring[s.CHANNEL] == APPOINTMENT)).all()
    assert spring[s.ISSUED_AT].min() >= pd.Timestamp("2023-05-15")
    assert spring[s.ISSUED_AT].max() < pd.Timestamp("2023-07-01")


def test_times_are_consistent(spring: pd.DataFrame) -> None:
    called = spring[spring[s.CALLED_AT].notna()]
    assert (called[s.CALLED_AT] >= called[s.ISSUED_AT]).all()
    assert (called[s.FINISHED_AT] > called[s.CALLED_AT]).all()
    assert called[s.WINDOW_ID].notna().all()
    never = spring[spring[s.CALLED_AT].isna()]
    assert never[s.FINISHED_AT].isna().all() and never[s.WINDOW_ID].isna().all()
    appt = spring[spring[s.CHANNEL] == APPOINTMENT]
    walk = spring[spring[s.CHANNEL] == WALK_IN]
    assert appt[s.APPOINTMENT_AT].notna().all() and appt[s.BOOKED_AT].notna().all()
    assert walk[s.APPOINTMENT_AT].isna().all() and walk[s.BOOKED_AT].isna().all()
    assert (appt[s.BOOKED_AT] < appt[s.APPOINTMENT_AT]).all()
    booked_hour = appt[s.BOOKED_AT].dt.hour
    assert booked_hour.between(7, 22).all()  # booked between 07:00 and 23:00
    assert (spring[s.DOCUMENTS] >= 1).all()
    assert spring[s.WINDOW_ID].dropna().str.fullmatch(r"W\d\d").all()


def test_same_seed_same_log_other_seed_other_but_similar(
    offices: OfficeRegistry, calendar: ChinaCalendar
) -> None:
    subset = _subset(offices, DUAL_SMALL, WALK_IN_SMALL)
    args = (subset, calendar, D(2024, 3, 4), D(2024, 3, 29))
    first = simulate(*args, seed=3)
    pd.testing.assert_frame_equal(first, simulate(*args, seed=3))
    other = simulate(*args, seed=4)
    assert not first.equals(other)
    assert abs(len(other) / len(first) - 1) < 0.1


def test_a_warm_up_replays_the_window_of_a_longer_run(
    offices: OfficeRegistry, calendar: ChinaCalendar
) -> None:
    subset = _subset(offices, DUAL_SMALL)
    long = simulate(subset, calendar, D(2023, 3, 1), D(2023, 5, 31), seed=9)
    window = simulate(subset, calendar, D(2023, 4, 20), D(2023, 5, 31), seed=9, warmup_days=50)
    tail = long[long[s.ISSUED_AT] >= pd.Timestamp("2023-04-20")].reset_index(drop=True)
    pd.testing.assert_frame_equal(window, tail)
    # and a shorter run is the start of a longer one
    head = simulate(subset, calendar, D(2023, 3, 1), D(2023, 4, 10), seed=9)
    early = long[long[s.ISSUED_AT] < pd.Timestamp("2023-04-11")].reset_index(drop=True)
    pd.testing.assert_frame_equal(head, early)


def test_a_fork_keeps_the_history_and_draws_a_new_future(
    offices: OfficeRegistry, calendar: ChinaCalendar
) -> None:
    subset = _subset(offices, DUAL_SMALL)
    args = (subset, calendar, D(2023, 3, 1), D(2023, 5, 31))
    world = simulate(*args, seed=9)
    fork = D(2023, 5, 8)
    # forking into the same seed is the world itself
    pd.testing.assert_frame_equal(simulate(*args, seed=Forked(9, fork, 9)), world)
    replay = simulate(*args, seed=Forked(9, fork, 10))
    before = pd.Timestamp(fork)
    pd.testing.assert_frame_equal(
        replay[replay[s.ISSUED_AT] < before].reset_index(drop=True),
        world[world[s.ISSUED_AT] < before].reset_index(drop=True),
    )
    after_world = world[world[s.ISSUED_AT] >= before].reset_index(drop=True)
    after_replay = replay[replay[s.ISSUED_AT] >= before].reset_index(drop=True)
    assert not after_replay.equals(after_world)
    # the new future starts from the world's appointment book: the slots booked before
    # the fork are still there after it
    booked = world[(world[s.ISSUED_AT] >= before) & (world[s.CHANNEL] == APPOINTMENT)]
    assert len(booked) and abs(len(after_replay) / len(after_world) - 1) < 0.1
    with pytest.raises(ParameterError, match="seed"):
        simulate(*args, seed=Forked(9, fork, -1))


def test_closed_on_public_holidays_open_on_make_up_days(
    offices: OfficeRegistry, calendar: ChinaCalendar
) -> None:
    subset = _subset(offices, "hz-city", DUAL_SMALL, WALK_IN_SMALL)
    log = simulate(subset, calendar, D(2023, 1, 19), D(2023, 2, 5), seed=2, warmup_days=14)
    per_day = log.groupby([log[s.ISSUED_AT].dt.date, s.OFFICE_ID]).size().unstack(fill_value=0)
    spring_festival = [D(2023, 1, 21) + dt.timedelta(days=k) for k in range(7)]
    assert not set(per_day.index) & set(spring_festival)  # 2023-01-21..27: no tickets
    assert (per_day.loc[D(2023, 1, 28)] > 0).all()  # make-up Saturday: every office open
    assert (per_day.loc[D(2023, 1, 29)] > 0).all()  # make-up Sunday too
    saturday = per_day.loc[D(2023, 2, 4)]  # an ordinary Saturday: only the city hall
    assert saturday["hz-city"] > 0 and saturday[[DUAL_SMALL, WALK_IN_SMALL]].sum() == 0
    assert D(2023, 2, 5) not in per_day.index  # Sunday


def test_tickets_are_issued_within_opening_sessions(
    spring: pd.DataFrame, offices: OfficeRegistry, calendar: ChinaCalendar
) -> None:
    config = SimConfig()
    for (office_id, date), day in spring.groupby([s.OFFICE_ID, spring[s.ISSUED_AT].dt.date]):
        sessions = offices.get(str(office_id)).sessions_for(calendar.day(date))
        minute = day[s.ISSUED_AT].dt.hour * 60 + day[s.ISSUED_AT].dt.minute
        inside = np.zeros(len(day), dtype=bool)
        for session in sessions:
            inside |= (minute >= session.open_minute) & (minute < session.close_minute)
        assert inside.all(), f"{office_id} {date}: a ticket outside the opening sessions"
        cutoff = sessions[-1].close_minute - config.walk_in_cutoff_minutes
        walk_minute = minute[day[s.CHANNEL] == WALK_IN]
        assert (walk_minute < cutoff).all(), "walk-in numbers after the kiosk's cut-off"


def test_appointments_are_on_open_half_hour_slots(
    spring: pd.DataFrame, offices: OfficeRegistry, calendar: ChinaCalendar
) -> None:
    appt = spring[spring[s.CHANNEL] == APPOINTMENT]
    assert len(appt) > 1000
    office = offices.get(DUAL_SMALL)
    for date, day in appt.groupby(appt[s.APPOINTMENT_AT].dt.date):
        sessions = office.sessions_for(calendar.day(date))
        slot_starts = {m for x in sessions for m in range(x.open_minute, x.close_minute, 30)}
        at = day[s.APPOINTMENT_AT]
        assert set(at.dt.hour * 60 + at.dt.minute) <= slot_starts
        assert (at.dt.second == 0).all()


def test_walk_in_only_offices_never_have_appointments(spring: pd.DataFrame) -> None:
    walk_in_only = spring[spring[s.OFFICE_ID] == WALK_IN_SMALL]
    assert len(walk_in_only) > 500
    assert (walk_in_only[s.CHANNEL] == WALK_IN).all()


def test_policy_change_mostly_appointments_before_walk_ins_after(spring: pd.DataFrame) -> None:
    dual = spring[spring[s.OFFICE_ID] == DUAL_SMALL]
    change = pd.Timestamp("2023-06-08")
    before = dual[dual[s.ISSUED_AT] < change]
    after = dual[dual[s.ISSUED_AT] >= change]
    assert (before[s.CHANNEL] == APPOINTMENT).mean() > 0.8
    assert (after[s.CHANNEL] == WALK_IN).mean() > 0.25
    assert (after[s.CHANNEL] == APPOINTMENT).mean() > 0.4  # appointments continue


def test_walk_ins_at_all_offices_from_the_policy_change(
    offices: OfficeRegistry, calendar: ChinaCalendar
) -> None:
    log = simulate(offices, calendar, D(2023, 6, 8), D(2023, 6, 9), seed=5, warmup_days=60)
    walk = log[log[s.CHANNEL] == WALK_IN]
    for date in (D(2023, 6, 8), D(2023, 6, 9)):
        seen = set(walk.loc[walk[s.ISSUED_AT].dt.date == date, s.OFFICE_ID])
        assert seen == set(offices.ids)


def test_arrivals_peak_at_opening_and_after_lunch(
    offices: OfficeRegistry, calendar: ChinaCalendar
) -> None:
    subset = _subset(offices, WALK_IN_SMALL, "hz-linping")
    log = simulate(subset, calendar, D(2024, 3, 1), D(2024, 5, 31), seed=8)
    for office in subset:
        own = log[log[s.OFFICE_ID] == office.id]
        sessions = office.weekly_sessions(1)  # Tuesday: morning and afternoon
        minute = own[s.ISSUED_AT].dt.hour * 60 + own[s.ISSUED_AT].dt.minute
        morning, afternoon = sessions[0], sessions[1]
        first_hour = ((minute >= morning.open_minute) & (minute < morning.open_minute + 60)).sum()
        last_morning = (minute >= morning.close_minute - 60) & (minute < morning.close_minute)
        after_lunch = (minute >= afternoon.open_minute) & (minute < afternoon.open_minute + 60)
        late = (minute >= afternoon.close_minute - 90) & (minute < afternoon.close_minute - 30)
        assert first_hour > 1.3 * last_morning.sum(), office.id
        assert after_lunch.sum() > 1.3 * late.sum(), office.id


def test_bad_arguments_are_refused(offices: OfficeRegistry, calendar: ChinaCalendar) -> None:
    subset = _subset(offices, WALK_IN_SMALL)
    with pytest.raises(ParameterError, match="end"):
        simulate(subset, calendar, D(2024, 3, 2), D(2024, 3, 1))
    with pytest.raises(ParameterError, match="warmup_days"):
        simulate(subset, calendar, D(2024, 3, 1), D(2024, 3, 2), warmup_days=-1)
    with pytest.raises(ParameterError, match="services"):
        SimConfig(services=(ServiceType("passport", 0.5, 10.0),))
    with pytest.raises(ParameterError, match="no_show_share"):
        dataclasses.replace(SimConfig(), no_show_share=1.5)


def test_config_changes_only_what_it_says(offices: OfficeRegistry, calendar: ChinaCalendar) -> None:
    subset = _subset(offices, WALK_IN_SMALL)
    args = (subset, calendar, D(2024, 4, 8), D(2024, 4, 19))
    base = simulate(*args, seed=1)
    slow = simulate(*args, seed=1, config=SimConfig(call_gap_minutes=3.0))
    pd.testing.assert_series_equal(base[s.ISSUED_AT], slow[s.ISSUED_AT])  # same arrivals
    base_wait = (base[s.CALLED_AT] - base[s.ISSUED_AT]).mean()
    assert (slow[s.CALLED_AT] - slow[s.ISSUED_AT]).mean() > base_wait  # slower windows


def test_a_window_of_holidays_gives_an_empty_log_of_the_same_shape(
    offices: OfficeRegistry, calendar: ChinaCalendar
) -> None:
    subset = _subset(offices, WALK_IN_SMALL)
    empty = simulate(subset, calendar, D(2023, 1, 22), D(2023, 1, 24))
    some = simulate(subset, calendar, D(2023, 1, 19), D(2023, 1, 20))
    assert len(empty) == 0 and len(some) > 0
    assert empty.dtypes.to_dict() == some.dtypes.to_dict()


def test_an_office_outside_the_built_in_registry(calendar: ChinaCalendar) -> None:
    """Any registry works: odd session lengths, no window count, unknown id."""
    office = Office.model_validate(
        {
            "id": "elsewhere-1",
            "name_zh": "某地",
            "name_en": "Elsewhere",
            "mode": "dual_track",
            "sessions": {day: [["08:15", "11:45"], ["13:00", "16:10"]] for day in WEEKDAYS[:5]},
        }
    )
    log = simulate(OfficeRegistry([office]), calendar, D(2024, 3, 4), D(2024, 3, 8), seed=1)
    assert set(log[s.CHANNEL]) == {WALK_IN, APPOINTMENT}
    minute = log[s.ISSUED_AT].dt.hour * 60 + log[s.ISSUED_AT].dt.minute
    assert (((minute >= 495) & (minute < 705)) | ((minute >= 780) & (minute < 970))).all()
    windows = log[s.WINDOW_ID].dropna().str[1:].astype(int)
    assert windows.max() <= SimConfig().default_windows
