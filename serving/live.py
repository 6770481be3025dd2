"""Live queue states posted by the offices, and the wait they imply. Pure.

The states themselves are kept by the state store (:mod:`serving.statestore`).

Estimate for a number taken now: appointment holders are called first, so

- people ahead of an appointment holder = appointment holders waiting;
- people ahead of a walk-in = everyone waiting;
- wait ≈ people ahead × minutes per ticket at a window ÷ windows open.

The range treats each ticket's service time as independent with a coefficient of
variation of 0.5, plus ±15 % uncertainty in the service rate itself, and takes the
normal 10 % / 90 % points of the total (never below zero).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from features import schema as s

SERVICE_CV = 0.5
RATE_UNCERTAINTY = 0.15
Z90 = 1.2816
DEFAULT_SERVICE_MINUTES = 10.0  # when the model's data hold no service times


@dataclass(frozen=True, slots=True)
class QueueState:
    """What an office's queue system posted."""

    waiting: dict[str, int]  # channel -> people waiting
    windows_open: int
    observed_at: dt.datetime  # aware
    received_at: dt.datetime  # aware, by the server's clock

    def age(self, now: dt.datetime) -> dt.timedelta:
        """How old the observation is at ``now`` (never negative)."""
        return max(now - self.observed_at, dt.timedelta(0))


@dataclass(frozen=True, slots=True)
class LiveWait:
    """The estimated wait of a number taken now in one channel."""

    channel: str
    people_ahead: int
    p10: float
    p50: float
    p90: float


def people_ahead(state: QueueState, channel: str) -> int:
    """People called before a number of ``channel`` taken now."""
    appointments = state.waiting.get(s.Channel.APPOINTMENT.value, 0)
    if channel == s.Channel.APPOINTMENT.value:
        return appointments
    return appointments + state.waiting.get(s.Channel.WALK_IN.value, 0)


def live_wait(state: QueueState, channel: str, service_minutes: float) -> LiveWait:
    """Estimated wait (minutes, 1 decimal) with its 10–90 % range."""
    ahead = people_ahead(state, channel)
    windows = max(state.windows_open, 1)
    mean = ahead * service_minutes / windows
    spread = math.sqrt(ahead * (SERVICE_CV * service_minutes) ** 2) / windows
    spread = math.hypot(spread, RATE_UNCERTAINTY * mean)
    return LiveWait(
        channel,
        ahead,
        round(max(mean - Z90 * spread, 0.0), 1),
        round(mean, 1),
        round(mean + Z90 * spread, 1),
    )
