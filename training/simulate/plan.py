"""The plan of one office: its days, rosters, demand and appointment book.

Everything that couples days (the appointment book) is settled here, before the
office days are simulated one by one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from features.calendar_cn import ChinaCalendar
from features.offices import Office
from training.simulate.booking import BookingOutcome, run_bookings
from training.simulate.config import SimConfig
from training.simulate.demand import calendar_factor, is_pre_holiday, office_scale, overtime
from training.simulate.roster import DayRoster, build_roster, session_minutes, staffed_windows
from training.simulate.streams import Purpose, Seed, day_rng


@dataclass(frozen=True, slots=True)
class OfficePlan:
    """The days of one office's run, from the first warm-up day to the end plus the
    booking horizon (so bookings made near the end find their slots)."""

    office: Office
    dates: list[dt.date]  # consecutive dates
    rosters: list[DayRoster | None]  # per date, None when closed
    bookings: BookingOutcome
    output_days: range  # indexes of the dates whose tickets are returned


def plan_office(
    office: Office,
    calendar: ChinaCalendar,
    start: dt.date,
    end: dt.date,
    seed: Seed,
    config: SimConfig,
    warmup_days: int,
) -> OfficePlan:
    """Plan the office's days and run its appointment book from the first warm-up day."""
    first = start - dt.timedelta(days=warmup_days)
    booking_days = (end - first).days + 1
    n_days = booking_days + config.booking_horizon_days + 1
    dates = [first + dt.timedelta(days=k) for k in range(n_days)]
    rosters, expected = _plan_days(office, calendar, dates, config)
    demand = np.zeros(booking_days)
    for i in range(booking_days):
        if rosters[i] is not None:
            noise = day_rng(seed, office.id, dates[i], Purpose.DAY_NOISE).gamma(
                config.day_noise_shape, 1.0 / config.day_noise_shape
            )
            demand[i] = expected[i] * noise
    bookings = run_bookings(
        office_id=office.id,
        dual_track=office.takes_appointments,
        dates=dates,
        rosters=rosters,
        demand=demand,
        booking_days=booking_days,
        seed=seed,
        config=config,
    )
    return OfficePlan(office, dates, rosters, bookings, range(warmup_days, booking_days))


def _plan_days(
    office: Office, calendar: ChinaCalendar, dates: list[dt.date], config: SimConfig
) -> tuple[list[DayRoster | None], np.ndarray]:
    """Per date the office's roster (None when closed) and its expected demand.

    The office staffs windows for the demand it expects that day (a deterministic
    function of date and office, so the day noise is not anticipated), within its
    regular staff outside the reopening surge: quiet days have fewer windows open,
    busy days of the steady state queue up.
    """
    windows = office.windows or config.default_windows
    scale = office_scale(office, config)
    rosters: list[DayRoster | None] = []
    expected = np.zeros(len(dates))
    for i, date in enumerate(dates):
        info = calendar.day(date)
        minutes = session_minutes(office.sessions_for(info))
        if not minutes:
            rosters.append(None)
            continue
        pre_holiday = is_pre_holiday(date, calendar, config)
        expected[i] = scale * calendar_factor(info, pre_holiday, config)
        full = build_roster(minutes, windows, config.edge_window_share)
        per_window = full.capacity_tickets(config.mean_service_minutes) / windows
        extra = overtime(date, config)
        staffed = staffed_windows(windows, expected[i], per_window, extra, config)
        rosters.append(build_roster(minutes, staffed, config.edge_window_share))
    return rosters, expected
