"""Live accuracy, pure: the rolling historical mean, the figures, the switch rule."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from features import schema as s
from training import monitor as m

MONDAY = dt.date(2025, 6, 2)
QUEUE = ("hz-xihu", "walk_in", "general")


def hourly(days: int, value: float = 10.0, start: dt.date = MONDAY) -> pd.DataFrame:
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    return pd.DataFrame(
        {
            s.OFFICE_ID: QUEUE[0],
            s.CHANNEL: QUEUE[1],
            s.SERVICE: QUEUE[2],
            s.DATE: dates,
            s.HOUR: 10,
            s.WAIT_P10: value / 2,
            s.WAIT_P50: value,
            s.WAIT_P90: value * 2,
        }
    )


def test_the_historical_mean_is_the_same_weekday_and_hour_over_the_8_weeks_before() -> None:
    frame = hourly(70)
    frame[s.WAIT_P50] = np.arange(70, dtype=float)  # the value is the day's number
    day = MONDAY + dt.timedelta(days=63)  # a Monday, 9 weeks on
    base = m.historical_mean(frame, [day])
    assert base[m.BASE_P50].tolist() == [np.mean([63 - 7 * k for k in range(1, 9)])]
    early = m.historical_mean(frame, [MONDAY + dt.timedelta(days=14)])  # two weeks of history
    assert early[m.BASE_P50].tolist() == [np.mean([0, 7])]
    assert m.historical_mean(frame, [MONDAY]).empty  # no history before the first day


def days_frame(model: list[float], base: float = 10.0, hours: int = 8) -> pd.DataFrame:
    dates = [MONDAY + dt.timedelta(days=i) for i in range(len(model))]
    return pd.DataFrame(
        {
            s.OFFICE_ID: QUEUE[0],
            s.CHANNEL: QUEUE[1],
            s.SERVICE: QUEUE[2],
            s.DATE: dates,
            m.HOURS: hours,
            m.MAE_MODEL: model,
            m.MAE_BASELINE: base,
            m.MAE_SERVED: model,
        }
    )


def last_day(frame: pd.DataFrame) -> dt.date:
    return frame[s.DATE].max()


@pytest.mark.parametrize(
    ("model", "switched"),
    [
        ([8.0] * 3 + [12.0] * 7, True),  # 7 days in a row worse by more than the margin
        ([8.0] * 4 + [12.0] * 6, False),  # six are not enough
        ([12.0] * 6 + [8.0] + [12.0] * 3, False),  # interrupted
        ([10.5] * 10, False),  # worse, but within the margin: a tie
    ],
)
def test_a_queue_switches_after_7_worse_days_in_a_row(model: list[float], switched: bool) -> None:
    frame = days_frame(model)
    after = m.decide_switches(frame, {}, last_day(frame))
    assert (QUEUE in after) is switched
    if switched:
        assert after[QUEUE].since == last_day(frame) + dt.timedelta(days=1)
        assert "7 days in a row" in after[QUEUE].reason and "12.0 vs 10.0" in after[QUEUE].reason


@pytest.mark.parametrize(
    ("model", "back"),
    [
        ([12.0] * 7 + [9.0] * 3, True),
        ([12.0] * 7 + [10.0] * 3, True),  # no worse is enough
        ([12.0] * 7 + [9.0] * 2, False),
        ([12.0] * 7 + [9.0, 9.0, 11.0], False),
    ],
)
def test_a_switched_queue_comes_back_after_3_days_no_worse(model: list[float], back: bool) -> None:
    frame = days_frame(model)
    current = {QUEUE: m.SwitchState(MONDAY, "why")}
    after = m.decide_switches(frame, current, last_day(frame))
    assert (QUEUE not in after) is back
    if not back:
        assert after[QUEUE] == current[QUEUE]  # since and reason kept


def test_days_with_too_few_hours_neither_count_nor_break_a_run() -> None:
    frame = days_frame([12.0] * 3 + [1.0] + [12.0] * 4)
    frame.loc[3, m.HOURS] = m.MIN_HOURS_A_DAY - 1
    assert QUEUE in m.decide_switches(frame, {}, last_day(frame))


def test_accuracy_scores_the_served_p50_against_the_baseline_and_the_coverage() -> None:
    history = hourly(70, value=10.0)
    day = MONDAY + dt.timedelta(days=69)
    history.loc[history[s.DATE] == day, s.WAIT_P50] = 16.0
    served = pd.DataFrame(
        [
            {
                s.OFFICE_ID: QUEUE[0],
                s.CHANNEL: QUEUE[1],
                s.SERVICE: QUEUE[2],
                s.DATE: day,
                s.HOUR: 10,
                s.VERSION: version,
                "estimator": "model",
                s.P10: 5.0,
                s.P50: p50,
                s.P90: 20.0,
                s.MODEL_P50: p50,
            }
            for version, p50 in (("v0001", 99.0), ("v0002", 13.0))
        ]
    )
    hours = m.scored_hours(served, history)
    assert hours[s.P50].tolist() == [13.0]  # the later version's record counts
    outcomes = pd.DataFrame(
        {
            s.OFFICE_ID: QUEUE[0],
            s.CHANNEL: QUEUE[1],
            s.SERVICE: QUEUE[2],
            s.DATE: day,
            s.HOUR: 10,
            s.WAIT: [1.0, 6.0, 12.0, 25.0],
        }
    )
    figures = m.accuracy(hours, outcomes, day, (7,))
    row = figures.iloc[0]
    assert (row[m.MAE_SERVED], row[m.MAE_BASELINE], row[m.RATIO]) == (3.0, 6.0, 0.5)
    assert row[m.COVERAGE] == 0.5 and row[m.HOURS] == 1


def test_baseline_cells_cover_each_weekday_and_hour_of_the_next_week() -> None:
    frame = hourly(70, value=12.0)
    day = MONDAY + dt.timedelta(days=70)
    cells = m.baseline_cells(frame, day, [QUEUE])[QUEUE]
    assert set(cells) == {(d, 10) for d in range(7)}
    assert cells[(0, 10)] == (6.0, 12.0, 24.0)
