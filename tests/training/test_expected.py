"""The expected wait from simulator replays, its own noise, and how the backtest reports them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from features import schema as s
from features.calendar_cn import ChinaCalendar
from features.calendars import Calendars
from features.hourly import HOURLY_KEYS, hourly_table, ticket_outcomes
from features.offices import OfficeRegistry
from tests.toy_data import FAST
from training.backtest import run_backtest
from training.expected import World, expected_waits
from training.metrics import EXPECTED, EXPECTED_NOISE, MODEL
from training.report import render_markdown
from training.simulate import simulate

START, END = dt.date(2025, 4, 7), dt.date(2025, 4, 11)


@pytest.fixture(scope="module")
def small(offices: OfficeRegistry) -> OfficeRegistry:
    return OfficeRegistry([offices.get("hz-westlake-scenic")])


def _replay(small: OfficeRegistry, calendar: ChinaCalendar, seeds: list[int]) -> pd.DataFrame:
    return expected_waits(small, calendar, START, END, seeds, warmup_days=30).set_index(HOURLY_KEYS)


def test_two_replays_give_their_midpoint_and_half_their_gap(small, calendar):
    a, b = _replay(small, calendar, [7]), _replay(small, calendar, [8])
    both = _replay(small, calendar, [7, 8])
    assert a[EXPECTED_NOISE].isna().all()  # one replay: no estimate of its own error
    common = a.index.intersection(b.index)
    assert len(common) > 20 and set(both.index) == set(a.index) | set(b.index)
    np.testing.assert_allclose(
        both.loc[common, EXPECTED], (a.loc[common, EXPECTED] + b.loc[common, EXPECTED]) / 2
    )
    gap = (a.loc[common, EXPECTED] - b.loc[common, EXPECTED]).abs() / 2
    np.testing.assert_allclose(both.loc[common, EXPECTED_NOISE], gap)
    assert gap.gt(0).any()


def test_more_replays_make_a_steadier_expected_wait(small, calendar):
    few = _replay(small, calendar, list(range(20, 24)))
    many = _replay(small, calendar, list(range(20, 36)))
    common = few.index.intersection(many.index)
    assert many.loc[common, EXPECTED_NOISE].mean() < few.loc[common, EXPECTED_NOISE].mean()


def test_backtest_reports_the_noise_floor_and_the_expected_noise(data, calendar):
    fake = data.hourly[[*HOURLY_KEYS, s.WAIT_P50]].dropna()
    fake = fake.assign(**{EXPECTED: fake[s.WAIT_P50] + 1.0, EXPECTED_NOISE: 0.25})
    result = run_backtest(data, FAST, n_origins=1, expected=fake.drop(columns=s.WAIT_P50))
    model = result.metrics["by_channel"]["walk_in"][MODEL]
    assert model["mae_expected_vs_actual"] == pytest.approx(1.0)
    assert model["expected_noise"] == pytest.approx(0.25)
    assert model["mae_p50_expected"] is not None
    assert "mae_p50_expected_ratio_to_best_baseline" in result.metrics["ratios"]["walk_in"]
    report = render_markdown(result.metrics)
    assert "expected_noise" in report and "two halves of the replays" in report


def test_replays_in_parallel_give_the_same_expected_wait(small, calendar):
    seeds = [40, 41, 42]
    one = expected_waits(small, calendar, START, END, seeds, warmup_days=30, n_jobs=1)
    two = expected_waits(small, calendar, START, END, seeds, warmup_days=30, n_jobs=2)
    pd.testing.assert_frame_equal(one, two)


def test_replays_fork_the_world_at_the_window(small, calendar):
    """Replays of a known world start from its state: forked into the world's own seed,
    a replay is the world's window itself; into other seeds, near the world's level."""
    world = World(seed=9, start=START - dt.timedelta(days=40))
    log = simulate(small, calendar, START, END, seed=9, warmup_days=40)
    own = hourly_table(ticket_outcomes(log, small, Calendars(calendar)), from_tickets=True)
    own = own[[*HOURLY_KEYS, s.WAIT_P50]].dropna().set_index(HOURLY_KEYS)[s.WAIT_P50]
    same = expected_waits(small, calendar, START, END, [9], world=world).set_index(HOURLY_KEYS)
    pd.testing.assert_series_equal(same[EXPECTED], own, check_names=False)
    other = expected_waits(small, calendar, START, END, [10, 11], world=world)
    assert not np.allclose(other[EXPECTED].mean(), own.mean())
    with pytest.raises(ValueError, match="before the world's first day"):
        expected_waits(small, calendar, world.start - dt.timedelta(days=1), END, [9], world=world)
