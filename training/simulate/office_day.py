"""One office day: who comes (appointment holders and walk-ins), what they need, and
the queue that serves them. Returns plain arrays; the simulator assembles the frame."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from training.simulate.booking import BookingOutcome
from training.simulate.config import SimConfig
from training.simulate.demand import sample_times, walk_in_profile
from training.simulate.engine import run_queue
from training.simulate.roster import DayRoster
from training.simulate.streams import Purpose, Seed, day_rng

APPOINTMENT_CODE = 0  # channel codes; appointment sorts first, like ticket ids A… < W…
WALK_IN_CODE = 1
MIN_SERVICE_MINUTES = 0.5


@dataclass(frozen=True, slots=True)
class DayTickets:
    """The tickets of one office day: appointment holders, then walk-ins (minutes after
    midnight)."""

    channel: np.ndarray  # int, APPOINTMENT_CODE or WALK_IN_CODE
    number: np.ndarray  # int, ticket counter within the channel (1-based, issue order)
    service: np.ndarray  # int, index into config.services
    documents: np.ndarray  # int
    issued: np.ndarray  # float
    called: np.ndarray  # float, NaN = never called
    finished: np.ndarray  # float, NaN = never called
    window: np.ndarray  # int, -1 = never called
    appointment: np.ndarray  # float, NaN for walk-ins
    booked_day: np.ndarray  # int, plan-day index of the booking, -1 for walk-ins
    booked_minute: np.ndarray  # float, NaN for walk-ins


@dataclass(frozen=True, slots=True)
class _Holders:
    """The day's appointment holders who came, in the order they may be called."""

    appointment: np.ndarray  # slot start
    check_in: np.ndarray  # ticket time
    ready: np.ndarray  # may be called from: max(check-in, slot start)
    booked_day: np.ndarray
    booked_minute: np.ndarray


def simulate_day(
    *,
    office_id: str,
    date: dt.date,
    day_index: int,
    roster: DayRoster,
    bookings: BookingOutcome,
    seed: Seed,
    config: SimConfig,
    extra_walk_ins: np.ndarray | None = None,
) -> DayTickets:
    """Draw the day's tickets and run its queue.

    ``extra_walk_ins`` (ticket minutes) are walk-ins added to the day's own, e.g. people
    following an advice; their patience and needs come from a stream of their own, so the
    day's own people keep every draw they have without them.
    """
    holders = _appointment_holders(
        bookings, day_index, roster, day_rng(seed, office_id, date, Purpose.SHOW), date, config
    )
    # Walk-ins: numbers from the kiosk, limited to the released quota before the change.
    walk_rng = day_rng(seed, office_id, date, Purpose.WALK_IN)
    profile = walk_in_profile(roster, config)
    arrivals = sample_times(walk_rng, int(bookings.walk_in_demand[day_index]), profile)
    quota = int(bookings.walk_in_quota[day_index])
    if quota >= 0:
        arrivals = arrivals[:quota]
    patience = walk_rng.lognormal(
        np.log(config.patience_median_minutes), config.patience_sigma, len(arrivals)
    )
    n_appt = len(holders.appointment)
    service, documents, duration = _needs(
        day_rng(seed, office_id, date, Purpose.SERVICE), n_appt + len(arrivals), config
    )
    if extra_walk_ins is not None and len(extra_walk_ins):
        arrivals, patience, service, documents, duration = _with_extra(
            arrivals,
            patience,
            (service, documents, duration),
            n_appt,
            extra_walk_ins,
            day_rng(seed, office_id, date, Purpose.EXTRA),
            config,
        )
    deadline = roster.wall_time(roster.open_clock(arrivals) + patience)
    n_walk = len(arrivals)
    queue = run_queue(
        roster.window_intervals,
        arrivals,
        deadline,
        duration[n_appt:],
        holders.ready,
        duration[:n_appt],
        config.call_gap_minutes,
    )
    called = np.concatenate([queue.appointment_called, queue.walk_in_called])
    issue_rank = np.empty(n_appt, dtype=np.int64)
    issue_rank[np.argsort(holders.check_in, kind="stable")] = np.arange(1, n_appt + 1)
    return DayTickets(
        channel=np.repeat([APPOINTMENT_CODE, WALK_IN_CODE], [n_appt, n_walk]),
        number=np.concatenate([issue_rank, np.arange(1, n_walk + 1)]),
        service=service,
        documents=documents,
        issued=np.concatenate([holders.check_in, arrivals]),
        called=called,
        finished=called + duration,
        window=np.concatenate([queue.appointment_window, queue.walk_in_window]),
        appointment=np.concatenate([holders.appointment, np.full(n_walk, np.nan)]),
        booked_day=np.concatenate([holders.booked_day, np.full(n_walk, -1, dtype=np.int64)]),
        booked_minute=np.concatenate([holders.booked_minute, np.full(n_walk, np.nan)]),
    )


def _with_extra(
    arrivals: np.ndarray,
    patience: np.ndarray,
    needs: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_appt: int,
    extra: np.ndarray,
    rng: np.random.Generator,
    config: SimConfig,
) -> tuple[np.ndarray, ...]:
    """The day's walk-ins with ``extra`` ones merged in ticket-time order (appointments
    first in the needs arrays, as :func:`simulate_day` keeps them)."""
    extra_patience = rng.lognormal(
        np.log(config.patience_median_minutes), config.patience_sigma, len(extra)
    )
    extra_needs = _needs(rng, len(extra), config)
    order = np.argsort(np.concatenate([arrivals, extra]), kind="stable")
    merged = [
        np.concatenate([arrivals, extra])[order],
        np.concatenate([patience, extra_patience])[order],
    ]
    for own, added in zip(needs, extra_needs, strict=True):
        walk = np.concatenate([own[n_appt:], added])[order]
        merged.append(np.concatenate([own[:n_appt], walk]))
    return tuple(merged)


def _appointment_holders(
    bookings: BookingOutcome,
    day_index: int,
    roster: DayRoster,
    rng: np.random.Generator,
    date: dt.date,
    config: SimConfig,
) -> _Holders:
    """The day's bookings minus no-shows; the others check in around their slot, within
    the slot's session."""
    slot_day = bookings.layout.day[bookings.booked_slot]
    lo, hi = np.searchsorted(slot_day, [day_index, day_index + 1])
    slots = bookings.booked_slot[lo:hi]
    no_show = (
        config.no_show_share if date < config.policy_change else config.no_show_share_after_change
    )
    shows = rng.random(len(slots)) >= no_show
    offset = rng.normal(config.check_in_mean_minutes, config.check_in_sd_minutes, len(slots))
    appointment = bookings.layout.start[slots][shows]
    session = roster.session_of(appointment)
    session_open = np.array([o for o, _ in roster.sessions])[session]
    session_close = np.array([c for _, c in roster.sessions])[session]
    check_in = np.clip(appointment + offset[shows], session_open, session_close - 1.0)
    ready = np.maximum(check_in, appointment)
    order = np.lexsort((check_in, ready))
    return _Holders(
        appointment=appointment[order],
        check_in=check_in[order],
        ready=ready[order],
        booked_day=bookings.booked_day[lo:hi][shows][order],
        booked_minute=bookings.booked_minute[lo:hi][shows][order],
    )


def _needs(
    rng: np.random.Generator, n: int, config: SimConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Primary service (index), documents and service minutes of ``n`` tickets."""
    shares = np.cumsum([s.share for s in config.services])
    service = np.minimum(np.searchsorted(shares, rng.random(n), side="right"), len(shares) - 1)
    extra = np.minimum(rng.poisson(config.extra_documents_mean, n), config.max_documents - 1)
    medians = np.array([s.median_minutes for s in config.services])[service]
    duration = medians * np.exp(config.service_sigma * rng.standard_normal(n))
    duration = np.maximum(duration + extra * config.extra_document_minutes, MIN_SERVICE_MINUTES)
    return service, extra + 1, duration
