"""The expected wait of simulated data: what a perfect forecast would say.

A single hour's actual median is noisy. For simulated data the same window can be
replayed with other seeds; the median over the replays of each hour's median wait is the
*expected* wait that the backtest scores against.

What a perfect forecast made at the window's start knows is the history up to it — above
all the appointment book, which carries weeks of backlog. When the simulated world is
known (its seed and first day, :class:`World`), each replay therefore *forks* it: the
world's own draws up to the window's start, a fresh seed's from then on
(:class:`training.simulate.Forked`), so every replay starts from exactly the world's state.
Without it, replays start from an empty book ``warmup_days`` before the window — which
misses a backlog older than that (in July 2023 such replays expect walk-in waits less
than half of what the world's own state implies).

The expected wait is itself an estimate: its own error shrinks only with the square root
of the number of replays. :func:`expected_waits` therefore also takes the median of the
even and of the odd replays apart; half the gap between the two (``EXPECTED_NOISE``)
estimates the full median's own error, which the backtest reports beside every MAE.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from joblib import Parallel, delayed

from features import schema as s
from features.calendar_cn import ChinaCalendar
from features.calendars import Calendars
from features.hourly import HOURLY_KEYS, hourly_table, ticket_outcomes
from features.offices import OfficeRegistry
from training.metrics import EXPECTED, EXPECTED_NOISE
from training.simulate import Forked, Seed, simulate


@dataclass(frozen=True)
class World:
    """The simulated world whose windows are replayed: its seed and its first day
    (warm-up included)."""

    seed: int
    start: dt.date


def expected_waits(
    offices: OfficeRegistry,
    calendar: ChinaCalendar,
    start: dt.date,
    end: dt.date,
    seeds: list[int],
    warmup_days: int = 120,
    on_replay: Callable[[int, int], None] | None = None,
    n_jobs: int = 2,
    world: World | None = None,
) -> pd.DataFrame:
    """Median over replays of each queue-hour's median wait in [start, end], and an
    estimate of that median's own error (half the gap between the medians of the even
    and the odd replays; missing with fewer than two replays).

    With ``world``, each replay forks it at ``start`` (its history, then the replay's
    seed) and ``warmup_days`` is not used; without it, each replay starts from an empty
    book ``warmup_days`` before ``start``. Replays run in ``n_jobs`` processes; the result
    does not depend on it.
    """
    if world and start < world.start:
        raise ValueError(f"the window starts {start}, before the world's first day {world.start}")
    runs: list[tuple[Seed, int]] = [
        (Forked(world.seed, start, seed), (start - world.start).days)
        if world
        else (seed, warmup_days)
        for seed in seeds
    ]
    jobs = (
        delayed(_replay_medians)(offices, calendar, start, end, seed, warmup)
        for seed, warmup in runs
    )
    medians = []
    runner = Parallel(n_jobs=min(n_jobs, max(len(seeds), 1)), return_as="generator")
    for i, frame in enumerate(runner(jobs)):  # in the order of ``seeds``
        medians.append(frame.assign(_half=i % 2))
        if on_replay:
            on_replay(i + 1, len(seeds))
    stacked = pd.concat(medians, ignore_index=True)
    # Hours where a replay had nobody called count as missing for that replay.
    expected = stacked.groupby(HOURLY_KEYS, observed=True)[s.WAIT_P50].median()
    halves = stacked.groupby([*HOURLY_KEYS, "_half"], observed=True)[s.WAIT_P50].median()
    gap = halves.unstack("_half").reindex(columns=[0, 1]).diff(axis=1)[1].abs() / 2
    return pd.DataFrame(
        {EXPECTED: expected, EXPECTED_NOISE: gap.reindex(expected.index)}
    ).reset_index()


def _replay_medians(
    offices: OfficeRegistry,
    calendar: ChinaCalendar,
    start: dt.date,
    end: dt.date,
    seed: Seed,
    warmup_days: int,
) -> pd.DataFrame:
    """Each queue-hour's median wait in one replay."""
    tickets = simulate(offices, calendar, start, end, seed=seed, warmup_days=warmup_days)
    hourly = hourly_table(ticket_outcomes(tickets, offices, Calendars(calendar)), from_tickets=True)
    return hourly[[*HOURLY_KEYS, s.WAIT_P50]].dropna()
