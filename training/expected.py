"""The expected wait of simulated data: what a perfect forecast would say.

A single hour's actual median is noisy. For simulated data the same window can be
replayed with other seeds (same parameters, from a warm-up start so that the booking
backlog is in its state); the median over the replays of each hour's median wait is the
*expected* wait that the backtest scores against.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from features import schema as s
from features.calendar_cn import ChinaCalendar
from features.hourly import HOURLY_KEYS, hourly_table, ticket_outcomes
from features.offices import OfficeRegistry
from training.backtest import EXPECTED
from training.simulate import simulate


def expected_waits(
    offices: OfficeRegistry,
    calendar: ChinaCalendar,
    start: dt.date,
    end: dt.date,
    seeds: list[int],
    warmup_days: int = 120,
    on_replay: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Median over replays of each queue-hour's median wait in [start, end]."""
    medians = []
    for i, seed in enumerate(seeds):
        tickets = simulate(offices, calendar, start, end, seed=seed, warmup_days=warmup_days)
        hourly = hourly_table(ticket_outcomes(tickets, offices, calendar), from_tickets=True)
        medians.append(hourly[[*HOURLY_KEYS, s.WAIT_P50]].dropna())
        if on_replay:
            on_replay(i + 1, len(seeds))
    stacked = pd.concat(medians, ignore_index=True)
    # Hours where a replay had nobody called count as missing for that replay.
    expected = stacked.groupby(HOURLY_KEYS, observed=True)[s.WAIT_P50].median()
    return expected.rename(EXPECTED).reset_index()
