"""The queue of one office day: priorities, giving up, lunch and closing."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from training.simulate.engine import QueueOutcome, run_queue
from training.simulate.roster import SessionMinutes

INF = math.inf
Day = tuple[list[SessionMinutes], list[tuple[float, float, float]], list[tuple[float, float]]]


def _queue(
    intervals: Sequence[SessionMinutes],
    walk_ins: Sequence[tuple[float, float, float]],
    appointments: Sequence[tuple[float, float]] = (),
    gap: float = 0.0,
) -> QueueOutcome:
    """Run the engine on (issued, deadline, service) walk-ins and (ready, service) holders."""
    walk = np.array(walk_ins, dtype=float).reshape(-1, 3)
    appt = np.array(appointments, dtype=float).reshape(-1, 2)
    return run_queue(intervals, walk[:, 0], walk[:, 1], walk[:, 2], appt[:, 0], appt[:, 1], gap)


def test_appointment_holders_are_called_before_walk_ins_who_came_earlier() -> None:
    out = _queue(
        [((0.0, 100.0),)],
        walk_ins=[(0.0, INF, 10.0), (0.0, INF, 10.0), (0.0, INF, 10.0)],
        appointments=[(1.0, 10.0)],
    )
    assert out.walk_in_called[0] == 0.0  # the holder was not ready yet at 0
    assert out.appointment_called[0] == 10.0  # then first, ahead of two waiting walk-ins
    assert list(out.walk_in_called[1:]) == [20.0, 30.0]


def test_walk_in_whose_patience_ran_out_is_never_called() -> None:
    out = _queue(
        [((0.0, 300.0),)],
        walk_ins=[(0.0, INF, 100.0), (1.0, 50.0, 10.0), (2.0, INF, 10.0)],
        gap=0.5,
    )
    assert math.isnan(out.walk_in_called[1])
    assert out.walk_in_window[1] == -1
    assert out.walk_in_called[2] == 100.5  # the next one in line, after the gap


def test_people_waiting_at_lunch_wait_through_it_and_services_may_overrun() -> None:
    out = _queue([((0.0, 60.0), (120.0, 200.0))], walk_ins=[(0.0, INF, 70.0), (10.0, INF, 5.0)])
    assert out.walk_in_called[0] == 0.0  # ends at 70, after the morning close
    assert out.walk_in_called[1] == 120.0  # called when the afternoon opens


def test_no_service_starts_after_closing_so_the_rest_are_sent_home() -> None:
    out = _queue([((0.0, 30.0),)], walk_ins=[(0.0, INF, 20.0)] * 4)
    assert list(out.walk_in_called[:2]) == [0.0, 20.0]
    assert np.isnan(out.walk_in_called[2:]).all()


def test_a_window_opening_later_does_not_serve_before_it_opens() -> None:
    out = _queue([((0.0, 100.0),), ((30.0, 100.0),)], walk_ins=[(0.0, INF, 50.0)] * 2)
    assert list(out.walk_in_called) == [0.0, 30.0]
    assert list(out.walk_in_window) == [0, 1]


@st.composite
def _days(draw: st.DrawFn) -> Day:
    n_windows = draw(st.integers(1, 3))
    intervals: list[SessionMinutes] = []
    for _ in range(n_windows):
        a = draw(st.floats(0, 60))
        b = a + draw(st.floats(10, 120))
        c = b + draw(st.floats(0, 60))
        intervals.append(((a, b), (c, c + draw(st.floats(10, 120)))))
    times = st.floats(0, 300)
    walk = sorted(
        draw(st.lists(st.tuples(times, st.floats(0, 200), st.floats(0.5, 30)), max_size=25))
    )
    walk_ins = [(t, t + patience, service) for t, patience, service in walk]
    appointments = sorted(draw(st.lists(st.tuples(times, st.floats(0.5, 30)), max_size=15)))
    return intervals, walk_ins, appointments


@settings(max_examples=150, deadline=None)
@given(_days())
def test_queue_invariants_hold_on_any_day(day: Day) -> None:
    intervals, walk_ins, appointments = day
    out = _queue(intervals, walk_ins, appointments, gap=0.5)
    starts = [
        (t_called, w, s)
        for (_, _, s), t_called, w in zip(
            walk_ins, out.walk_in_called, out.walk_in_window, strict=True
        )
        if not math.isnan(t_called)
    ]
    starts += [
        (t_called, w, s)
        for (_, s), t_called, w in zip(
            appointments, out.appointment_called, out.appointment_window, strict=True
        )
        if not math.isnan(t_called)
    ]
    # Called no earlier than ready; walk-ins called before they gave up.
    for (issued, deadline, _), called in zip(walk_ins, out.walk_in_called, strict=True):
        assert math.isnan(called) or issued <= called <= deadline
    for (ready, _), called in zip(appointments, out.appointment_called, strict=True):
        assert math.isnan(called) or ready <= called
    # Every service starts inside an open interval of its window; services never overlap.
    for window in range(len(intervals)):
        own = sorted((t, s) for t, w, s in starts if w == window)
        for t, _ in own:
            assert any(a <= t < b for a, b in intervals[window])
        for (t1, s1), (t2, _) in itertools.pairwise(own):
            assert t2 >= t1 + s1 + 0.5 - 1e-9
    # Walk-ins are called in ticket order (FIFO), skipping those who left.
    called = [c for c in out.walk_in_called if not math.isnan(c)]
    assert called == sorted(called)
    # Appointment holders first: when a walk-in is called, no ready holder is waiting.
    for t in called:
        for (ready, _), t_appt in zip(appointments, out.appointment_called, strict=True):
            assert not (ready <= t and (math.isnan(t_appt) or t_appt > t))
