"""The served mean's cells shrunk toward the weekday-pooled hour: as far as their noise
says, no further (empirical Bayes per queue-hour, :func:`features.levels.origin_levels`)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from features import schema as s
from features.levels import origin_levels, with_day_numbers
from features.spec import LEVEL_TARGETS, WEEKDAY, FeatureSpec
from models.baselines import HistoricalMean
from models.estimators import QUANTILE_TARGETS, WaitQuantileRegressor

ORIGIN = dt.date(2025, 3, 3)  # a Monday
SPEC = FeatureSpec(shrunk_cell=True)
HOURS = (9, 10, 11)


def _hourly(seed: int = 0) -> tuple[pd.DataFrame, dict[tuple[str, int], float]]:
    """Eight weeks of weekday hours before ORIGIN for three queues, and their true levels:

    - ``same0`` … ``same9`` (walk-in): 30 min on every weekday, hours ±12 min of noise;
    - ``monday`` (appointment): 60 min on Mondays, 20 on the other days, ±1 min, among
      ``flat0`` … ``flat4`` (appointment) at 20 min on every weekday, ±1 min;
    - ``two_days`` (walk-in): open Mondays and Tuesdays only, 30 min, ±12 min.
    """
    rng = np.random.default_rng(seed)
    truth: dict[tuple[str, int], float] = {}
    rows = []
    for back in range(1, 57):
        date = ORIGIN - dt.timedelta(days=back)
        weekday = date.weekday()
        if weekday > 4:
            continue
        queues = [(f"same{k}", s.Channel.WALK_IN.value, 30.0, 12.0) for k in range(10)]
        queues += [(f"flat{k}", s.Channel.APPOINTMENT.value, 20.0, 1.0) for k in range(5)]
        queues += [
            ("monday", s.Channel.APPOINTMENT.value, 60.0 if weekday == 0 else 20.0, 1.0),
            ("two_days", s.Channel.WALK_IN.value, 30.0, 12.0),
        ]
        for office, channel, level, noise in queues:
            if office == "two_days" and weekday > 1:
                continue
            truth[(office, weekday)] = level
            for hour in HOURS:
                wait = max(0.0, level + rng.normal(0, noise))
                row = {target: 1.0 for target in LEVEL_TARGETS}
                row |= {s.WAIT_P10: wait / 2, s.WAIT_P50: wait, s.WAIT_P90: wait * 2}
                rows.append(
                    {
                        s.OFFICE_ID: office,
                        s.CHANNEL: channel,
                        s.SERVICE: s.DEFAULT_SERVICE,
                        s.DATE: date,
                        s.HOUR: hour,
                        **row,
                    }
                )
    return with_day_numbers(pd.DataFrame(rows)), truth


def _cells(spec: FeatureSpec = SPEC, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    hourly, truth = _hourly(seed)
    return origin_levels(hourly, ORIGIN, spec)["cell"], truth


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noisy_cells_of_equal_weekdays_move_toward_the_hour_and_the_truth(seed: int) -> None:
    cells, _ = _cells(seed=seed)
    same = cells[cells[s.OFFICE_ID].str.startswith("same")]
    spread = same.groupby([s.OFFICE_ID, s.HOUR])[[SPEC.cell(s.WAIT_P50), SPEC.cell_shrunk()]].std()
    # the weekdays' cells closer together ...
    assert spread[SPEC.cell_shrunk()].mean() < 0.6 * spread[SPEC.cell(s.WAIT_P50)].mean()
    # ... and closer to the truth
    raw_error = (same[SPEC.cell(s.WAIT_P50)] - 30.0).abs().mean()
    assert (same[SPEC.cell_shrunk()] - 30.0).abs().mean() < 0.7 * raw_error


def test_a_weekday_that_really_differs_keeps_its_own_level() -> None:
    cells, _ = _cells()
    monday = cells[cells[s.OFFICE_ID] == "monday"]
    raw, shrunk = monday[SPEC.cell(s.WAIT_P50)], monday[SPEC.cell_shrunk()]
    assert (shrunk - raw).abs().max() < 1.0
    assert (shrunk[monday[WEEKDAY] == 0] > 55).all() and (shrunk[monday[WEEKDAY] > 0] < 25).all()


def test_fewer_than_three_weekdays_are_not_pooled() -> None:
    cells, _ = _cells()
    two = cells[cells[s.OFFICE_ID] == "two_days"]
    assert len(two) == 2 * len(HOURS)
    np.testing.assert_array_equal(two[SPEC.cell_shrunk()], two[SPEC.cell(s.WAIT_P50)])


def test_the_spec_builds_the_column_only_when_asked() -> None:
    cells, _ = _cells(FeatureSpec())
    assert SPEC.cell_shrunk() not in cells
    assert SPEC.cell_shrunk() in SPEC.feature_names
    assert SPEC.cell_shrunk() not in SPEC.model_features


def test_the_p50_wait_model_starts_from_the_shrunk_cell_and_falls_back_to_the_median() -> None:
    """With ``shrunk_base`` the p50 model corrects the shrunk cell (where a cell has none,
    its median, as before); p10 and p90 keep the cells' medians; the trees read it too."""
    spec = FeatureSpec(shrunk_cell=True, robust_base=True, shrunk_base=True)
    assert spec.base_level(s.WAIT_P50)[0] == spec.cell_shrunk()
    assert spec.base_level(s.WAIT_P50)[1:] == FeatureSpec(robust_base=True).base_level(s.WAIT_P50)
    for q in (s.WAIT_P10, s.WAIT_P90):
        assert spec.base_level(q)[0] == spec.cell_median(q)
    assert spec.cell_shrunk() in spec.model_features
    # never without the shrunk cell to start from
    assert FeatureSpec(robust_base=True, shrunk_base=True).base_level(s.WAIT_P50)[0] == (
        spec.cell_median(s.WAIT_P50)
    )
    columns = {c for q in QUANTILE_TARGETS for c in spec.base_level(q)}
    cells, _ = _cells(spec)
    X = cells.assign(**{c: cells.get(c, np.nan) for c in columns}).reset_index(drop=True)
    X.loc[0, spec.cell_shrunk()] = np.nan
    model = WaitQuantileRegressor(base_columns=tuple(spec.base_level(q) for q in QUANTILE_TARGETS))
    model.base_fill_ = [0.0, 0.0, 0.0]
    base = np.expm1(model._base(X))
    np.testing.assert_allclose(base[1:, 1], X[spec.cell_shrunk()][1:].clip(0), rtol=1e-9)
    assert base[0, 1] == pytest.approx(X.loc[0, spec.cell_median(s.WAIT_P50)])
    np.testing.assert_allclose(base[:, 0], X[spec.cell_median(s.WAIT_P10)], rtol=1e-9)


def test_the_served_mean_reads_the_shrunk_cell_unless_a_change_moved_it() -> None:
    """Where the level since a dated change exists (already weekday-pooled) the served p50
    moves to it from the cell's own mean, as before; elsewhere the shrunk cell serves; the
    reference mean reads the cell itself."""
    spec = FeatureSpec(shrunk_cell=True, change_cell=True, change_pooled=True)
    cell = {t: spec.cell(t) for t in (s.WAIT_P10, s.WAIT_P50, s.WAIT_P90)}
    X = pd.DataFrame(
        {
            s.CHANNEL: [s.Channel.WALK_IN.value] * 3,
            cell[s.WAIT_P10]: [5.0, 5.0, 5.0],
            cell[s.WAIT_P50]: [10.0, 10.0, 10.0],
            cell[s.WAIT_P90]: [40.0, 40.0, 40.0],
            spec.cell_shrunk(): [14.0, 14.0, np.nan],
            spec.since_change(): [np.nan, 21.0, np.nan],
        }
    )
    y = pd.DataFrame({s.WAIT_P10: [5.0] * 3, s.WAIT_P50: [10.0] * 3, s.WAIT_P90: [40.0] * 3})
    served = HistoricalMean.served(spec).fit(X, y).predict(X)[:, 1]
    np.testing.assert_allclose(served, [14.0, 10.0 * 22 / 11, 10.0])
    reference = HistoricalMean().fit(X, y).predict(X)[:, 1]
    np.testing.assert_allclose(reference, [10.0, 10.0, 10.0])
