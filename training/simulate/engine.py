"""The queue of one office day: a lean discrete-event loop over windows and two FIFO queues.

Events are windows becoming free (a heap) and people joining a queue (two sorted
arrays: walk-ins at their ticket time, appointment holders at the later of their check-in
and their slot start). A free window calls the head of the appointment queue first, then
the head of the walk-in queue. Walk-ins give up lazily: one whose patience ran out before
the call has left and is never called. A window starts a service only inside its open
intervals; people still waiting when every window has closed are sent home.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from training.simulate.roster import SessionMinutes

INF = math.inf


@dataclass(frozen=True, slots=True)
class QueueOutcome:
    """When each person was called (NaN = never) and by which window (-1 = none)."""

    walk_in_called: np.ndarray
    walk_in_window: np.ndarray
    appointment_called: np.ndarray
    appointment_window: np.ndarray


def _next_open(intervals: SessionMinutes, t: float) -> float:
    """The first time >= t at which the window may start a service (inf = never)."""
    for start, end in intervals:
        if t < end:
            return start if t < start else t
    return INF


def run_queue(
    window_intervals: Sequence[SessionMinutes],
    walk_in_issued: np.ndarray,
    walk_in_deadline: np.ndarray,
    walk_in_service: np.ndarray,
    appointment_ready: np.ndarray,
    appointment_service: np.ndarray,
    gap_minutes: float,
) -> QueueOutcome:
    """Simulate one office day.

    Args:
        window_intervals: per window, the (start, end) minutes in which it may start a
            service (a service may run past the end).
        walk_in_issued: ticket minutes of the walk-ins, sorted.
        walk_in_deadline: minute at which each walk-in gives up (inf = never).
        walk_in_service: service minutes of each walk-in.
        appointment_ready: minute at which each appointment holder may be called, sorted.
        appointment_service: service minutes of each appointment holder.
        gap_minutes: time a window needs between two tickets.

    Returns:
        The call minute and window of everyone, NaN and -1 for those never called.
    """
    walk_times = walk_in_issued.tolist()
    deadline = walk_in_deadline.tolist()
    walk_service = walk_in_service.tolist()
    ready_times = appointment_ready.tolist()
    appt_service = appointment_service.tolist()
    n_walk, n_appt = len(walk_times), len(ready_times)
    walk_called = [math.nan] * n_walk
    walk_window = [-1] * n_walk
    appt_called = [math.nan] * n_appt
    appt_window = [-1] * n_appt

    busy = [(iv[0][0], w) for w, iv in enumerate(window_intervals) if iv]
    heapq.heapify(busy)  # (minute the window is free, window)
    idle: list[int] = []  # free windows with nobody to call, lowest number first
    walk_queue: deque[int] = deque()
    appt_queue: deque[int] = deque()
    next_walk = next_appt = 0
    t_walk = walk_times[0] if n_walk else INF
    t_appt = ready_times[0] if n_appt else INF
    push, pop = heapq.heappush, heapq.heappop

    def call(window: int, t: float) -> bool:
        """The window calls the next person, appointment holders first; False if none."""
        if appt_queue:
            person = appt_queue.popleft()
            appt_called[person] = t
            appt_window[person] = window
            push(busy, (t + appt_service[person] + gap_minutes, window))
            return True
        while walk_queue and deadline[walk_queue[0]] < t:
            walk_queue.popleft()  # gave up before being called
        if not walk_queue:
            return False
        person = walk_queue.popleft()
        walk_called[person] = t
        walk_window[person] = window
        push(busy, (t + walk_service[person] + gap_minutes, window))
        return True

    while True:
        t_free = busy[0][0] if busy else INF
        t_join = t_walk if t_walk < t_appt else t_appt
        if t_join <= t_free:  # people join first, so a holder ready at t beats a walk-in
            if t_join == INF:
                break  # nobody left to come and no window busy
            t = t_join
            while t_walk <= t:
                walk_queue.append(next_walk)
                next_walk += 1
                t_walk = walk_times[next_walk] if next_walk < n_walk else INF
            while t_appt <= t:
                appt_queue.append(next_appt)
                next_appt += 1
                t_appt = ready_times[next_appt] if next_appt < n_appt else INF
            while idle and (appt_queue or walk_queue):  # idle windows open now take them
                window = pop(idle)
                opens = _next_open(window_intervals[window], t)
                if opens == t:
                    if not call(window, t):
                        push(idle, window)
                        break
                elif opens < INF:  # closed for lunch: it wakes up when it reopens
                    push(busy, (opens, window))
        else:  # a window becomes free
            t, window = pop(busy)
            opens = _next_open(window_intervals[window], t)
            if opens > t:
                if opens < INF:
                    push(busy, (opens, window))
            elif not call(window, t) and (t_walk < INF or t_appt < INF):
                push(idle, window)

    return QueueOutcome(
        walk_in_called=np.array(walk_called, dtype=float),
        walk_in_window=np.array(walk_window, dtype=np.int64),
        appointment_called=np.array(appt_called, dtype=float),
        appointment_window=np.array(appt_window, dtype=np.int64),
    )
