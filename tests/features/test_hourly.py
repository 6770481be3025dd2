"""Tickets -> outcomes -> hourly table, with censored tickets handled as such."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from features import schema as s
from features.calendar_cn import default_calendar
from features.calendars import Calendars
from features.hourly import (
    CENSOR_BOUND,
    hourly_table,
    observation_outcomes,
    open_grid,
    ticket_outcomes,
    with_open_hours,
)
from features.offices import load_offices

DAY = "2025-06-03 "  # a Tuesday; hz-xihu opens 09:00-12:00, 13:30-17:00


def _tickets(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows,
        columns=[s.OFFICE_ID, s.TICKET_ID, s.CHANNEL, s.ISSUED_AT, s.CALLED_AT, s.APPOINTMENT_AT],
    )
    for column in (s.ISSUED_AT, s.CALLED_AT, s.APPOINTMENT_AT):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def test_waits_censoring_and_appointment_start():
    tickets = _tickets(
        [
            ("hz-xihu", "W1", "walk_in", DAY + "09:10", DAY + "09:40", None),
            ("hz-xihu", "W2", "walk_in", DAY + "16:00", None, None),
            ("hz-xihu", "A1", "appointment", DAY + "09:50", DAY + "10:05", DAY + "10:00"),
            ("hz-xihu", "A2", "appointment", DAY + "10:20", DAY + "10:30", DAY + "10:00"),
        ]
    )
    out = ticket_outcomes(tickets, load_offices(), Calendars(default_calendar())).set_index(
        tickets[s.TICKET_ID]
    )
    assert out.loc["W1", s.WAIT] == 30
    assert out.loc["A1", s.WAIT] == 5  # arriving early is not waiting
    assert out.loc["A2", s.WAIT] == 10  # late: the wait starts at check-in
    assert out.loc["W2", s.CENSORED]
    assert np.isnan(out.loc["W2", s.WAIT])
    assert out.loc["W2", CENSOR_BOUND] == 60  # closes 17:00
    assert out.loc["A1", s.HOUR] == 9


def test_hourly_counts_never_called_in_arrivals_not_in_waits():
    tickets = _tickets(
        [
            (
                "hz-xihu",
                f"W{i}",
                "walk_in",
                DAY + "14:05",
                DAY + f"14:{10 + i}" if i < 3 else None,
                None,
            )
            for i in range(4)
        ]
    )
    table = hourly_table(
        ticket_outcomes(tickets, load_offices(), Calendars(default_calendar())), True
    )
    row = table.iloc[0]
    assert row[s.ARRIVALS] == 4
    assert row[s.N_NEVER_CALLED] == 1
    assert row[s.NEVER_CALLED_SHARE] == 0.25
    assert row[s.N_OUTCOMES] == 3
    assert row[s.WAIT_P50] == 6  # median of 5, 6, 7: the censored one is not a zero


def test_open_grid_skips_holidays_and_fills_zero_arrivals():
    offices, calendar = load_offices(), default_calendar()
    queues = pd.DataFrame(
        {s.OFFICE_ID: ["hz-xihu"], s.CHANNEL: ["walk_in"], s.SERVICE: [s.DEFAULT_SERVICE]}
    )
    grid = open_grid(
        queues, offices, Calendars(calendar), dt.date(2023, 1, 20), dt.date(2023, 1, 30)
    )
    dates = set(grid[s.DATE])
    assert dt.date(2023, 1, 23) not in dates  # Spring Festival
    assert dt.date(2023, 1, 28) in dates  # make-up Saturday
    assert dt.date(2023, 1, 29) in dates  # make-up Sunday
    assert sorted(set(grid[s.HOUR])) == [9, 10, 11, 13, 14, 15, 16]
    tickets = _tickets([("hz-xihu", "W1", "walk_in", "2023-01-20 09:10", "2023-01-20 09:20", None)])
    hourly = hourly_table(ticket_outcomes(tickets, offices, Calendars(calendar)), True)
    merged = with_open_hours(hourly, grid)
    assert (merged[s.ARRIVALS] == 0).sum() == len(grid) - 1


def test_open_grid_of_many_queues_is_each_queues_own_grid():
    """Queues of offices with other hours (a Saturday office, one open 08:30 and 14:00) each
    get their own office's open hours, in the order of ``queues``, one row per hour."""
    offices, calendars = load_offices(), Calendars(default_calendar())
    start, end = dt.date(2024, 9, 27), dt.date(2024, 10, 9)  # National Day in between
    queues = pd.DataFrame(
        {
            s.OFFICE_ID: ["hz-xihu", "hz-city", "hz-xihu", "hz-chunan"],
            s.CHANNEL: ["walk_in", "walk_in", "appointment", "walk_in"],
            s.SERVICE: [s.DEFAULT_SERVICE] * 4,
        }
    )
    grid = open_grid(queues, offices, calendars, start, end)
    for i, queue in queues.iterrows():
        alone = open_grid(queues.iloc[[i]], offices, calendars, start, end)
        office = offices.get(queue[s.OFFICE_ID])
        calendar = calendars.of(office)
        hours = [
            (day, hour)
            for day in pd.date_range(start, end).date
            for hour in office.open_hours_on(calendar.day(day))
        ]
        assert list(zip(alone[s.DATE], alone[s.HOUR], strict=True)) == hours
        mine = grid[
            (grid[s.OFFICE_ID] == queue[s.OFFICE_ID]) & (grid[s.CHANNEL] == queue[s.CHANNEL])
        ]
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), alone)
    assert len(grid) == len(grid.drop_duplicates())
    assert grid[s.OFFICE_ID].tolist()[0] == "hz-xihu"


def test_observations_with_empty_wait_are_not_outcomes():
    obs = pd.DataFrame(
        {
            s.OFFICE_ID: ["x", "x", "x"],
            s.OBSERVED_AT: pd.to_datetime(
                ["2017-11-09 09:00", "2017-11-09 09:05", "2017-11-09 10:00"]
            ),
            s.WAIT_MINUTES: [10.0, np.nan, 0.0],
            s.CHANNEL: "walk_in",
            s.SERVICE: "titles",
        }
    )
    out = observation_outcomes(obs)
    assert len(out) == 2
    table = hourly_table(out, from_tickets=False)
    assert table[s.N_OUTCOMES].tolist() == [1, 1]
    assert table[s.ARRIVALS].isna().all()
