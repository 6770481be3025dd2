"""Walk-ins added from outside (people following an advice) join one day's queue."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from features import schema as s
from features.calendar_cn import ChinaCalendar
from features.offices import OfficeRegistry
from training.simulate.simulator import simulate_office

START, END = dt.date(2025, 9, 15), dt.date(2025, 9, 19)  # Monday to Friday
CROWDED = dt.date(2025, 9, 17)


def _walk_ins(log: pd.DataFrame, date: dt.date) -> pd.DataFrame:
    issued = log[s.ISSUED_AT]
    return log[(issued.dt.date == date) & (log[s.CHANNEL] == s.Channel.WALK_IN.value)]


def _waits(frame: pd.DataFrame) -> pd.Series:
    return (frame[s.CALLED_AT] - frame[s.ISSUED_AT]).dt.total_seconds() / 60


def test_extra_walk_ins_join_their_day_and_leave_the_other_days_alone(
    offices: OfficeRegistry, calendar: ChinaCalendar
) -> None:
    office = offices.get("hz-linping")
    plain = simulate_office(office, calendar, START, END, seed=3)
    extra = np.full(120, 15 * 60.0) + np.linspace(0, 59, 120)  # 120 people from 15:00
    crowded = simulate_office(office, calendar, START, END, seed=3, extra_walk_ins={CROWDED: extra})
    other = plain[s.ISSUED_AT].dt.date != CROWDED
    same = crowded[crowded[s.ISSUED_AT].dt.date != CROWDED]
    pd.testing.assert_frame_equal(plain[other].reset_index(drop=True), same.reset_index(drop=True))
    before, after = _walk_ins(plain, CROWDED), _walk_ins(crowded, CROWDED)
    assert len(after) == len(before) + 120
    late = after[after[s.ISSUED_AT].dt.hour == 15]
    assert len(late) >= 120
    late_before = before[before[s.ISSUED_AT].dt.hour == 15]
    assert late[s.CALLED_AT].isna().mean() > late_before[s.CALLED_AT].isna().mean()
    assert _waits(late).median() > _waits(late_before).median()
