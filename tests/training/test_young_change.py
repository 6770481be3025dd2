"""A dated change younger than the cell's weeks: only folds that began two weeks or more
after it judge the model."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from features import schema as s
from features.events import Event, EventKind
from models.blend import POOLED
from tests.toy_data import FAST
from training.backtest import run_backtest
from training.metrics import ESTIMATOR, HISTORICAL_MEAN, SERVED

KEYS = [*s.QUEUE_KEYS, s.DATE, s.HOUR, "origin"]
CONFIG = dataclasses.replace(FAST, n_estimators=10)  # which folds judge, not how well


def _run(data, start: dt.date, country: str = "CN"):
    change = Event(start, None, EventKind.CHANGE, country, "new rules")
    return run_backtest(dataclasses.replace(data, events=(change,)), CONFIG, n_origins=2)


def _p50(result, estimator: str):
    rows = result.hours[result.hours[ESTIMATOR] == estimator]
    return rows.set_index(KEYS)[s.P50].sort_index()


@pytest.mark.slow
@pytest.mark.parametrize("start", [dt.date(2025, 10, 15), dt.date(2025, 9, 21)])
def test_no_fold_two_weeks_after_the_change_the_mean_serves_every_queue(data, start):
    """Both folds (from 6 September and 4 October) began before a change of 15 October,
    or 13 days after one of 21 September: their models and means had (next to) nothing
    of the new rules to read, so the model is not served on them."""
    result = _run(data, start)
    assert [str(o) for o in result.origins] == ["2025-09-06", "2025-10-04"]
    blend = result.blend
    assert blend.pooled == {POOLED: 0.0}
    queues = data.hourly[list(s.QUEUE_KEYS)].drop_duplicates()
    assert (blend.weight_of(queues) == 0.0).all()
    assert any(str(start) in note and "less than 8 weeks" in note for note in blend.notes)
    # what the backtest scores as served is the mean, hour by hour
    served, mean = _p50(result, SERVED), _p50(result, HISTORICAL_MEAN)
    assert served.index.equals(mean.index)
    np.testing.assert_allclose(served.to_numpy(), mean.to_numpy())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("start", "country"),
    [(dt.date(2025, 10, 15), "US"), (dt.date(2025, 8, 1), "CN")],
    ids=["another country's change", "a change older than the cell's weeks"],
)
def test_other_changes_leave_every_fold_judging(data, start, country):
    result = _run(data, start, country)
    assert not any("less than 8 weeks" in note for note in result.blend.notes)
    assert len(_p50(result, SERVED)) == len(_p50(result, HISTORICAL_MEAN))


@pytest.mark.slow
def test_a_fold_two_weeks_after_the_change_judges_alone(data):
    """A change of 20 September: the fold from 4 October (14 days after it) judges, the
    one from 6 September does not; every queue has a choice, and the served hours of the
    older fold are the mean's."""
    result = _run(data, dt.date(2025, 9, 20))
    assert any("2025-09-20" in note for note in result.blend.notes)
    served, mean = _p50(result, SERVED), _p50(result, HISTORICAL_MEAN)
    older = served.index.get_level_values("origin") == dt.date(2025, 9, 6)
    np.testing.assert_allclose(served[older].to_numpy(), mean[older].to_numpy())
    queues = data.hourly[list(s.QUEUE_KEYS)].drop_duplicates()
    assert not np.isnan(result.blend.weight_of(queues)).any()
