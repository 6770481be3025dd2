"""The appointment book of a dual-track office, and each day's split of demand into
bookers and walk-ins.

Lead times are not drawn: each booking request takes the earliest half-hour slot with
free capacity from the day it would like, so lead times grow when booking demand
exceeds the slots released, and shrink when it falls below them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from training.simulate.config import SimConfig
from training.simulate.demand import overtime
from training.simulate.roster import DayRoster
from training.simulate.streams import Purpose, Seed, day_rng


@dataclass(frozen=True, slots=True)
class SlotLayout:
    """Every appointment slot of the plan, in time order."""

    day: np.ndarray  # int, plan-day index of each slot
    start: np.ndarray  # float, slot start minute
    capacity: np.ndarray  # int, people per slot
    first_slot: np.ndarray  # int, per plan day: index of its first slot (or the next day's)
    n_slots: np.ndarray  # int, per plan day: number of slots


def appointment_share(date: dt.date, config: SimConfig) -> float:
    """Share of the windows' throughput released as slots on a date: most of it before
    the policy change; after it the dual-track split, reached as the surge fades (while
    the backlog lasts the offices keep releasing the overtime capacity as slots)."""
    if date < config.policy_change:
        return config.appointment_share
    after = config.appointment_share_after_change
    return after + (config.appointment_share - after) * overtime(date, config)


def slot_layout(
    dates: Sequence[dt.date], rosters: Sequence[DayRoster | None], config: SimConfig
) -> SlotLayout:
    """Half-hour slots of each open day; capacity = a share of the windows' throughput
    (a larger share before the policy change, when offices ran mainly by appointment)."""
    days: list[np.ndarray] = []
    starts: list[np.ndarray] = []
    capacities: list[np.ndarray] = []
    n_slots = np.zeros(len(rosters), dtype=np.int64)
    for index, roster in enumerate(rosters):
        if roster is None:
            continue
        per_minute = appointment_share(dates[index], config) / config.mean_service_minutes
        length = roster.period_end - roster.period_start
        capacity = np.rint(roster.windows_open * length * per_minute).astype(np.int64)
        days.append(np.full(len(capacity), index, dtype=np.int64))
        starts.append(roster.period_start)
        capacities.append(capacity)
        n_slots[index] = len(capacity)
    first_slot = np.concatenate([[0], np.cumsum(n_slots)[:-1]]).astype(np.int64)
    empty_int = np.empty(0, dtype=np.int64)
    return SlotLayout(
        day=np.concatenate(days) if days else empty_int,
        start=np.concatenate(starts) if starts else np.empty(0),
        capacity=np.concatenate(capacities) if capacities else empty_int,
        first_slot=first_slot,
        n_slots=n_slots,
    )


class AppointmentBook:
    """Free places per slot, with the earliest free slot from a position in near O(1)."""

    def __init__(self, capacity: np.ndarray) -> None:
        self._free = capacity.tolist()
        size = len(self._free)
        # _next[p] leads towards the first slot >= p with a free place (size = none).
        self._next = [p if self._free[p] > 0 else p + 1 for p in range(size)] + [size]

    def earliest(self, position: int) -> int:
        """The first slot at or after ``position`` with a free place (len = none)."""
        follow = self._next
        root = position
        while follow[root] != root:
            root = follow[root]
        while follow[position] != root:  # path compression
            follow[position], position = root, follow[position]
        return root

    def take(self, position: int) -> None:
        """Book one place in a slot that has one."""
        self._free[position] -= 1
        if self._free[position] == 0:
            self._next[position] = position + 1


@dataclass(frozen=True, slots=True)
class BookingOutcome:
    """Per booking day the walk-in demand, and every booking made, ordered by slot."""

    layout: SlotLayout
    walk_in_demand: np.ndarray  # int, per plan day: people who come without booking
    walk_in_quota: np.ndarray  # int, per plan day: released walk-in numbers, -1 = no quota
    booked_slot: np.ndarray  # int, slot of each booking (sorted)
    booked_day: np.ndarray  # int, plan day on which it was booked
    booked_minute: np.ndarray  # float, minute of that day at which it was booked


def book_share_after_change(lead_days: float, config: SimConfig) -> float:
    """Share of demand that books after the policy change, falling as the lead grows."""
    reach = min(max(lead_days, 0.0), config.long_lead_days) / config.long_lead_days
    short, long = config.book_share_short_lead, config.book_share_long_lead
    return short + (long - short) * reach


def _book_requests(
    book: AppointmentBook, starts: list[int], slot_day: list[int], last_day: int
) -> list[int]:
    """Book each request at the earliest free slot from its start; -1 when none is free
    up to ``last_day`` (a plan-day index)."""
    taken = []
    total = len(slot_day)
    for start in starts:
        slot = book.earliest(start)
        if slot < total and slot_day[slot] <= last_day:
            book.take(slot)
            taken.append(slot)
        else:
            taken.append(-1)
    return taken


def run_bookings(
    *,
    office_id: str,
    dual_track: bool,
    dates: Sequence[dt.date],
    rosters: Sequence[DayRoster | None],
    demand: np.ndarray,
    booking_days: int,
    seed: Seed,
    config: SimConfig,
) -> BookingOutcome:
    """Split each open day's demand into walk-ins and bookers, and book the latter.

    Args:
        office_id: the office (seeds its random streams).
        dual_track: whether it takes appointments; if not, all demand walks in.
        dates: the plan's consecutive dates; slots exist on all of them.
        rosters: per date the office's roster, None when closed.
        demand: per date the expected demand (noise included), for the booking days.
        booking_days: bookings are made on the first ``booking_days`` dates only.
        seed: the simulation seed.
        config: the parameters.
    """
    n_days = len(dates)
    layout = slot_layout(dates, rosters if dual_track else [None] * n_days, config)
    book = AppointmentBook(layout.capacity)
    total_slots = len(layout.capacity)
    open_days = np.array([i for i, r in enumerate(rosters) if r is not None], dtype=np.int64)
    slot_day = layout.day.tolist()
    walk_in = np.zeros(n_days, dtype=np.int64)
    quota = np.full(n_days, -1, dtype=np.int64)
    slots: list[int] = []
    booked_day: list[int] = []
    booked_minute: list[float] = []
    retry = 0
    delay_p = 1.0 / (1.0 + config.preference_delay_mean_days)
    for i in range(booking_days):
        roster = rosters[i]
        if roster is None:
            continue
        date = dates[i]
        counts = day_rng(seed, office_id, date, Purpose.COUNTS)
        if not dual_track:
            walk_in[i] = counts.poisson(demand[i])
            continue
        next_open = int(np.searchsorted(open_days, i, side="right"))
        if date < config.policy_change:
            share = config.must_book_share
            capacity = roster.capacity_tickets(config.mean_service_minutes)
            quota[i] = round(config.walk_in_quota_share * capacity)
        else:
            lead = config.booking_horizon_days  # the lead a booker would see today
            if next_open < len(open_days):
                first = book.earliest(int(layout.first_slot[open_days[next_open]]))
                lead = min(lead, slot_day[first] - i) if first < total_slots else lead
            share = book_share_after_change(float(lead), config)
        n_book = int(counts.poisson(demand[i] * share)) + retry
        walk_in[i] = counts.poisson(demand[i] * (1.0 - share))
        retry = 0
        if n_book == 0:
            continue
        draw = day_rng(seed, office_id, date, Purpose.BOOKING)
        minutes = np.sort(
            draw.uniform(config.booking_open_minute, config.booking_close_minute, n_book)
        )
        wanted = next_open + draw.geometric(delay_p, n_book) - 1
        preference = draw.random(n_book)
        bookable = wanted < len(open_days)  # the plan ends before: retry (never in range)
        day = open_days[wanted[bookable]]
        starts = layout.first_slot[day] + (preference[bookable] * layout.n_slots[day]).astype(int)
        taken = _book_requests(book, starts.tolist(), slot_day, i + config.booking_horizon_days)
        kept = np.asarray(taken, dtype=np.int64) >= 0
        retry = n_book - int(kept.sum())  # fully booked within the horizon: try again
        slots.extend(slot for slot in taken if slot >= 0)
        booked_day.extend([i] * int(kept.sum()))
        booked_minute.extend(minutes[bookable][kept].tolist())
    slot_array = np.array(slots, dtype=np.int64)
    order = np.argsort(slot_array, kind="stable")
    return BookingOutcome(
        layout=layout,
        walk_in_demand=walk_in,
        walk_in_quota=quota,
        booked_slot=slot_array[order],
        booked_day=np.array(booked_day, dtype=np.int64)[order],
        booked_minute=np.array(booked_minute, dtype=float)[order],
    )
