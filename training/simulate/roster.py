"""The day's roster of an office: half-hour periods, windows open in each, and per window
the intervals in which it may start a service.

Times are minutes after midnight (local wall clock) throughout the simulator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from features.offices import Session
from training.simulate.config import SimConfig

PERIOD_MINUTES = 30.0

SessionMinutes = tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class DayRoster:
    """Opening sessions, half-hour periods and the windows open in each period."""

    sessions: SessionMinutes  # (open, close) per session, in order
    period_start: np.ndarray  # float, start minute of each period
    period_end: np.ndarray  # float, end minute (a session's last period may be short)
    period_session: np.ndarray  # int, index of the session holding each period
    windows_open: np.ndarray  # int, windows open in each period
    window_intervals: tuple[SessionMinutes, ...]  # per window, when it may start a service

    def capacity_tickets(self, mean_service_minutes: float) -> float:
        """Tickets the open windows can serve in the day at full power."""
        window_minutes = float(np.sum(self.windows_open * (self.period_end - self.period_start)))
        return window_minutes / mean_service_minutes

    def session_of(self, minutes: np.ndarray) -> np.ndarray:
        """Index of the session that holds (or last started before) each time."""
        opens = np.array([open_ for open_, _ in self.sessions])
        return np.clip(np.searchsorted(opens, minutes, side="right") - 1, 0, len(opens) - 1)

    def open_clock(self, minutes: np.ndarray) -> np.ndarray:
        """Opening minutes elapsed by each time (the lunch break does not count)."""
        elapsed = np.zeros_like(minutes, dtype=float)
        for open_, close in self.sessions:
            elapsed += np.clip(minutes - open_, 0.0, close - open_)
        return elapsed

    def wall_time(self, clock: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`open_clock`: the time at which that much opening time has
        elapsed; ``inf`` beyond the day's close."""
        lengths = np.array([close - open_ for open_, close in self.sessions])
        ends = np.cumsum(lengths)
        starts = ends - lengths
        index = np.searchsorted(ends, clock, side="left")
        inside = index < len(ends)
        safe = np.minimum(index, len(ends) - 1)
        opens = np.array([open_ for open_, _ in self.sessions])
        return np.where(inside, opens[safe] + (clock - starts[safe]), np.inf)


def session_minutes(sessions: tuple[Session, ...]) -> SessionMinutes:
    """Sessions as (open, close) minute pairs, in order."""
    return tuple(
        (float(s.open_minute), float(s.close_minute))
        for s in sorted(sessions, key=lambda s: s.open_minute)
    )


def staffed_windows(
    windows: int,
    expected_demand: float,
    per_window_capacity: float,
    overtime: float,
    config: SimConfig,
) -> int:
    """Windows staffed on a day: enough to serve the expected demand at the target
    utilisation, within limits.

    The office has a fixed staff: it opens at most ``max_staffed_share`` of its windows
    (rounded up), however busy the day (Mondays, the summer break, before holidays);
    only while the reopening surge lasts does it work overtime (``overtime`` from 0 to
    1, see :func:`training.simulate.demand.overtime`), up to every window ("满功率").
    On quiet days it closes windows, down to ``min_staffed_share`` (in full overtime
    every window is open every day).
    """
    needed = expected_demand / (per_window_capacity * config.staffing_target_utilization)
    top = config.max_staffed_share + (1.0 - config.max_staffed_share) * overtime
    bottom = config.min_staffed_share + (1.0 - config.min_staffed_share) * overtime
    cap = min(windows, math.ceil(windows * top - 1e-9))
    floor = min(cap, max(1, math.floor(windows * bottom + 0.5)))
    return int(min(cap, max(floor, math.floor(needed + 0.5))))


@lru_cache(maxsize=1024)
def build_roster(sessions: SessionMinutes, windows: int, edge_window_share: float) -> DayRoster:
    """The roster of a day: all windows open except fewer in the first and last half hour.

    Args:
        sessions: (open, close) minutes of the day's sessions, in order; not empty.
        windows: windows of the office.
        edge_window_share: share of windows open in the day's first and last period.
    """
    starts: list[float] = []
    ends: list[float] = []
    owner: list[int] = []
    for index, (open_, close) in enumerate(sessions):
        t = open_
        while t < close:
            starts.append(t)
            ends.append(min(t + PERIOD_MINUTES, close))
            owner.append(index)
            t += PERIOD_MINUTES
    open_count = np.full(len(starts), windows, dtype=np.int64)
    edge = max(1, math.ceil(windows * edge_window_share))
    open_count[0] = min(open_count[0], edge)
    open_count[-1] = min(open_count[-1], edge)
    intervals = []
    for window in range(windows):
        merged: list[tuple[float, float]] = []
        for start, end, count in zip(starts, ends, open_count, strict=True):
            if window >= count:
                continue
            if merged and merged[-1][1] == start:
                merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        intervals.append(tuple(merged))
    return DayRoster(
        sessions=sessions,
        period_start=np.array(starts),
        period_end=np.array(ends),
        period_session=np.array(owner, dtype=np.int64),
        windows_open=open_count,
        window_intervals=tuple(intervals),
    )
