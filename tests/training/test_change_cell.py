"""The cell since a dated change: the served mean's level of the new regime."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from features import schema as s
from features.build import build_features, training_targets
from features.calendars import Calendars
from features.events import Event, EventKind
from models.baselines import HistoricalMean
from tests.toy_data import FAST
from training.pipeline import fit_forecaster, make_spec


def _features(data, calendar, change_age: int, country: str = "CN"):
    origin = data.start + dt.timedelta(days=100)
    change = Event(origin - dt.timedelta(days=change_age), None, EventKind.CHANGE, country, "x")
    spec = dataclasses.replace(make_spec(data, FAST, data.end), events=(change,), change_cell=True)
    targets = training_targets(data.hourly, [origin], 7)
    X = build_features(targets, data.hourly, Calendars(calendar), data.offices, spec)
    return origin, change.start, targets, X


def _cell_mean(data, row, start: dt.date, end: dt.date) -> float:
    hourly = data.hourly
    cell = (
        (hourly[s.OFFICE_ID] == row[s.OFFICE_ID])
        & (hourly[s.CHANNEL] == row[s.CHANNEL])
        & (hourly[s.HOUR] == row[s.HOUR])
        & (np.array([d.weekday() for d in hourly[s.DATE]]) == row[s.DATE].weekday())
        & (hourly[s.DATE] >= start)
        & (hourly[s.DATE] < end)
    )
    return float(hourly.loc[cell, s.WAIT_P50].mean())


def test_the_cell_since_a_change_reads_only_the_weeks_after_it(data, calendar):
    origin, start, targets, X = _features(data, calendar, change_age=24)
    name = "cell_since_change_wait_p50"
    assert X[name].notna().mean() > 0.9
    for i in (0, len(targets) // 2, len(targets) - 1):
        row = targets.iloc[i]
        if np.isnan(X.iloc[i][name]):
            continue
        assert X.iloc[i][name] == pytest.approx(_cell_mean(data, row, start, origin))
    # ... and that is not the 8-week cell's mean
    assert not np.allclose(X[name], X["cell8w_wait_p50"], equal_nan=True)


@pytest.mark.parametrize(("age", "country"), [(6, "CN"), (70, "CN"), (24, "US")])
def test_no_cell_since_a_change_too_new_too_old_or_elsewhere(data, calendar, age, country):
    """A week-old change is one hour per cell; one older than the 8 weeks is the cell
    itself; a change in another country is not this office's."""
    _, _, _, X = _features(data, calendar, change_age=age, country=country)
    assert X["cell_since_change_wait_p50"].isna().all()


def test_the_served_mean_moves_to_the_level_since_the_change_the_reference_does_not(data, calendar):
    """The served mean's p50 is the cell's, times the cell's level since the change over
    its 8-week level (at most 5 times either way); the reference mean stays the cell's."""
    _, _, targets, X = _features(data, calendar, change_age=24)
    y = targets[[s.WAIT_P10, s.WAIT_P50, s.WAIT_P90]]
    served = HistoricalMean(after_change=True).fit(X, y).predict(X)
    reference = HistoricalMean().fit(X, y).predict(X)
    since = X["cell_since_change_wait_p50"].to_numpy(float)
    cell = X["cell8w_wait_p50"].to_numpy(float)
    have = ~np.isnan(since) & ~np.isnan(cell)
    factor = np.clip((since[have] + 1) / (cell[have] + 1), 0.2, 5)
    np.testing.assert_allclose(served[have, 1], cell[have] * factor, rtol=1e-9)
    np.testing.assert_allclose(reference[have, 1], cell[have], rtol=1e-9)
    assert not np.allclose(served[have, 1], reference[have, 1])
    # the range holds the moved p50
    assert (served[:, 0] <= served[:, 1]).all() and (served[:, 1] <= served[:, 2]).all()


def test_the_models_do_not_learn_from_the_change_cell(data, calendar):
    """The cell since a change is the served mean's input, not a model feature: the
    models' columns are the spec's without it (and without the days ahead, which only
    the backtest's reports read)."""
    spec = dataclasses.replace(make_spec(data, FAST, data.end), change_cell=True)
    assert "cell_since_change_wait_p50" in spec.feature_names
    assert "cell_since_change_wait_p50" not in spec.model_features
    only_in_matrix = {"cell_since_change_wait_p50", "horizon"}
    assert spec.model_features == [n for n in spec.feature_names if n not in only_in_matrix]
    fitted = fit_forecaster(data, FAST).forecaster
    assert fitted.spec.change_cell
    assert "cell_since_change_wait_p50" not in fitted.wait.feature_names_in_
