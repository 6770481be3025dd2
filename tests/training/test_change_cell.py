"""The cell since a dated change: the served mean's level of the new regime."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.stats import trim_mean

from features import schema as s
from features.build import build_features, training_targets
from features.calendars import Calendars
from features.events import Event, EventKind
from features.levels import CHANGE_TRIM, trimmed_mean
from models.baselines import HistoricalMean
from tests.toy_data import FAST
from training.pipeline import fit_forecaster, make_spec

CELL, POOLED = "cell_since_change_wait_p50", "hour_since_change_wait_p50"


def _features(data, calendar, change_age: int, country: str = "CN", pooled: bool = False):
    origin = data.start + dt.timedelta(days=100)
    change = Event(origin - dt.timedelta(days=change_age), None, EventKind.CHANGE, country, "x")
    spec = dataclasses.replace(
        make_spec(data, FAST, data.end), events=(change,), change_cell=True, change_pooled=pooled
    )
    targets = training_targets(data.hourly, [origin], 7)
    X = build_features(targets, data.hourly, Calendars(calendar), data.offices, spec)
    return origin, change.start, targets, X


def _mean(data, start: dt.date, end: dt.date, trim: float = 0.0, **match) -> float:
    """The p50 mean (``trim`` of each end left out) of the hours in [start, end) whose
    columns (and ``weekday``) match."""
    hourly = data.hourly
    weekday = np.array([d.weekday() for d in hourly[s.DATE]])
    keep = (hourly[s.DATE] >= start) & (hourly[s.DATE] < end)
    for column, value in match.items():
        keep &= (weekday if column == "weekday" else hourly[column]) == value
    values = hourly.loc[keep, s.WAIT_P50].dropna().to_numpy(float)
    return float(trim_mean(values, trim))


def _cell_mean(data, row, start: dt.date, end: dt.date) -> float:
    return _mean(
        data,
        start,
        end,
        **{s.OFFICE_ID: row[s.OFFICE_ID], s.CHANNEL: row[s.CHANNEL], s.HOUR: row[s.HOUR]},
        weekday=row[s.DATE].weekday(),
    )


def test_the_cell_since_a_change_reads_only_the_weeks_after_it(data, calendar):
    origin, start, targets, X = _features(data, calendar, change_age=24)
    name = CELL
    assert X[name].notna().mean() > 0.9
    for i in (0, len(targets) // 2, len(targets) - 1):
        row = targets.iloc[i]
        if np.isnan(X.iloc[i][name]):
            continue
        assert X.iloc[i][name] == pytest.approx(_cell_mean(data, row, start, origin))
    # ... and that is not the 8-week cell's mean
    assert not np.allclose(X[name], X["cell8w_wait_p50"], equal_nan=True)


def test_the_pooled_level_since_a_change_is_the_hour_shaped_by_the_channels_weekday(data, calendar):
    """Pooled: the queue-hour's trimmed mean over every weekday since the change, times
    the channel's weekday mean since it over the channel's mean."""
    origin, start, targets, X = _features(data, calendar, change_age=24, pooled=True)
    assert CELL not in X
    assert X[POOLED].notna().mean() > 0.9
    for i in (0, len(targets) // 3, len(targets) - 1):
        row = targets.iloc[i]
        hour = _mean(
            data,
            start,
            origin,
            CHANGE_TRIM,
            **{s.OFFICE_ID: row[s.OFFICE_ID], s.CHANNEL: row[s.CHANNEL], s.HOUR: row[s.HOUR]},
        )
        weekday = _mean(
            data, start, origin, **{s.CHANNEL: row[s.CHANNEL]}, weekday=row[s.DATE].weekday()
        )
        factor = weekday / _mean(data, start, origin, **{s.CHANNEL: row[s.CHANNEL]})
        assert X.iloc[i][POOLED] == pytest.approx(hour * factor)


def test_the_level_since_a_change_leaves_out_a_tenth_of_each_end() -> None:
    """A queue-hour's level since a change is a trimmed mean: of 20 days, the lowest and
    the highest two do not count (one overloaded day of hours does not set the level);
    with fewer than 10 days nothing is left out."""
    waits = [5.0] * 8 + [6.0] * 8 + [0.0, 1.0, 240.0, 300.0]
    frame = pd.DataFrame({"queue": ["a"] * 20 + ["b"] * 3, "wait": [*waits, 1.0, 2.0, 90.0]})
    level = trimmed_mean(frame, ["queue"], "wait", CHANGE_TRIM)
    assert level["a"] == pytest.approx(5.5)
    assert level["b"] == pytest.approx(31.0)


@pytest.mark.parametrize(("age", "country"), [(6, "CN"), (70, "CN"), (24, "US")])
def test_no_cell_since_a_change_too_new_too_old_or_elsewhere(data, calendar, age, country):
    """A week-old change is one hour per cell; one older than the 8 weeks is the cell
    itself; a change in another country is not this office's."""
    for pooled, name in ((False, CELL), (True, POOLED)):
        _, _, _, X = _features(data, calendar, change_age=age, country=country, pooled=pooled)
        assert X[name].isna().all()


@pytest.mark.parametrize(("pooled", "name"), [(False, CELL), (True, POOLED)])
def test_the_served_mean_moves_to_the_level_since_the_change_the_reference_does_not(
    data, calendar, pooled, name
):
    """The served mean's p50 is the cell's, times the level since the change over the
    cell's 8-week level (at most 5 times either way); the reference mean stays the cell's."""
    _, _, targets, X = _features(data, calendar, change_age=24, pooled=pooled)
    y = targets[[s.WAIT_P10, s.WAIT_P50, s.WAIT_P90]]
    served = HistoricalMean(after_change=True, change_column=name).fit(X, y).predict(X)
    reference = HistoricalMean().fit(X, y).predict(X)
    since = X[name].to_numpy(float)
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
    models' columns are the spec's without it, the days ahead (which only the backtest's
    reports read) and, unless the p50 model starts from it, the shrunk cell."""
    for (pooled, name), base in itertools.product(((False, CELL), (True, POOLED)), (False, True)):
        spec = dataclasses.replace(
            make_spec(data, FAST, data.end),
            change_cell=True,
            change_pooled=pooled,
            shrunk_base=base,
        )
        assert spec.since_change() == name
        assert name in spec.feature_names
        assert name not in spec.model_features
        only_in_matrix = {name, "horizon"} | (set() if base else {spec.cell_shrunk()})
        assert spec.model_features == [n for n in spec.feature_names if n not in only_in_matrix]
    fitted = fit_forecaster(data, FAST).forecaster
    assert fitted.spec.change_cell and fitted.spec.change_pooled and fitted.spec.shrunk_base
    assert POOLED not in fitted.wait.feature_names_in_
    assert fitted.spec.cell_shrunk() in fitted.wait.feature_names_in_
    # the served mean reads the level the spec builds
    assert HistoricalMean.served(fitted.spec).change_column == POOLED
    # ... and its cells shrunk toward the weekday-pooled hour only when the spec builds
    # them; its plain twin (the blends' partner) never
    for on in (False, True):
        spec = dataclasses.replace(fitted.spec, shrunk_cell=on)
        assert HistoricalMean.served(spec).shrunk_column == (spec.cell_shrunk() if on else None)
        assert HistoricalMean.served(spec).plain().shrunk_column is None
