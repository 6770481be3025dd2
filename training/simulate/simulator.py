"""The simulator's entry points: data in, DataFrame out (no I/O, no clock).

Each office is planned (rosters, demand, appointment book), then its days are simulated
one by one and assembled into the ticket log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from features import schema as s
from features.calendar_cn import ChinaCalendar
from features.errors import ParameterError
from features.offices import Office, OfficeRegistry
from training.simulate.config import SimConfig
from training.simulate.log import LOG_COLUMNS, assemble_log, day_starts, empty_log, to_datetimes
from training.simulate.office_day import DayTickets, simulate_day
from training.simulate.plan import plan_office
from training.simulate.streams import Seed, seed_values

__all__ = ["LOG_COLUMNS", "book_office", "combine_logs", "simulate", "simulate_office"]


def check_window(start: dt.date, end: dt.date, seed: Seed, warmup_days: int) -> None:
    """Refuse a date window, seed or warm-up that cannot be simulated."""
    if end < start:
        raise ParameterError("end", f"{end} is before start {start}")
    if min(seed_values(seed)) < 0:
        raise ParameterError("seed", f"must be >= 0, got {seed}")
    if warmup_days < 0:
        raise ParameterError("warmup_days", f"must be >= 0, got {warmup_days}")


def simulate(
    offices: OfficeRegistry,
    calendar: ChinaCalendar,
    start: dt.date,
    end: dt.date,
    seed: Seed = 0,
    config: SimConfig | None = None,
    warmup_days: int = 0,
) -> pd.DataFrame:
    """The simulated ticket log of every office for tickets issued in [start, end].

    Args:
        offices: the offices to simulate.
        calendar: holidays, make-up days and school breaks.
        start: first day of the log.
        end: last day of the log (inclusive).
        seed: the randomness; the same seed gives the same log (a :class:`Forked` seed
            replays the history of one seed with the future of another).
        config: the parameters (default: :class:`SimConfig`).
        warmup_days: days simulated before ``start`` (so the booking book fills up) and
            left out of the log.

    Returns:
        One row per ticket, columns :data:`LOG_COLUMNS`, sorted by office, issue time
        and ticket id.
    """
    check_window(start, end, seed, warmup_days)
    frames = [
        simulate_office(office, calendar, start, end, seed, config, warmup_days)
        for office in offices
    ]
    return combine_logs(frames)


def combine_logs(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """One log from per-office logs, in office order (each already sorted)."""
    ordered = sorted((f for f in frames if len(f)), key=lambda f: str(f[s.OFFICE_ID].iloc[0]))
    if not ordered:
        return empty_log()
    return pd.concat(ordered, ignore_index=True)


def simulate_office(
    office: Office,
    calendar: ChinaCalendar,
    start: dt.date,
    end: dt.date,
    seed: Seed = 0,
    config: SimConfig | None = None,
    warmup_days: int = 0,
    extra_walk_ins: Mapping[dt.date, np.ndarray] | None = None,
) -> pd.DataFrame:
    """The ticket log of one office (same arguments as :func:`simulate`).

    ``extra_walk_ins`` maps a date to ticket minutes of walk-ins added to that day's own
    (the advice bench adds the people who follow an advice); the rest of the log stays as
    it is without them.
    """
    check_window(start, end, seed, warmup_days)
    config = config or SimConfig()
    plan = plan_office(office, calendar, start, end, seed, config, warmup_days)
    days: list[tuple[int, DayTickets]] = []
    for i in plan.output_days:
        roster = plan.rosters[i]
        if roster is None:
            continue
        tickets = simulate_day(
            office_id=office.id,
            date=plan.dates[i],
            day_index=i,
            roster=roster,
            bookings=plan.bookings,
            seed=seed,
            config=config,
            extra_walk_ins=(extra_walk_ins or {}).get(plan.dates[i]),
        )
        days.append((i, tickets))
    return assemble_log(office.id, plan.dates[0], days, config)


def book_office(
    office: Office,
    calendar: ChinaCalendar,
    start: dt.date,
    end: dt.date,
    seed: Seed = 0,
    config: SimConfig | None = None,
    warmup_days: int = 0,
) -> pd.DataFrame:
    """Every booking made at one office from ``start`` to ``end``, no-shows included.

    The same run as :func:`simulate_office` (same arguments, same book), seen from the
    booking system: columns office_id, booked_at, appointment_at, one row per booking,
    in booking order; appointments may fall after ``end``.
    """
    check_window(start, end, seed, warmup_days)
    config = config or SimConfig()
    plan = plan_office(office, calendar, start, end, seed, config, warmup_days)
    book = plan.bookings
    slot_day = book.layout.day[book.booked_slot]
    booked = to_datetimes(day_starts(plan.dates[0], book.booked_day), book.booked_minute)
    appointment = to_datetimes(
        day_starts(plan.dates[0], slot_day), book.layout.start[book.booked_slot]
    )
    frame = pd.DataFrame(
        {
            s.OFFICE_ID: np.full(len(booked), office.id, dtype=object),
            s.BOOKED_AT: booked,
            s.APPOINTMENT_AT: appointment,
        }
    )
    keep = frame[s.BOOKED_AT] >= pd.Timestamp(start)
    return frame[keep].sort_values(s.BOOKED_AT, kind="stable").reset_index(drop=True)
