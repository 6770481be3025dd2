"""The trailing levels, summed over group numbers (:func:`features.levels.origin_levels`),
equal pandas' groupby of the same rows, to the rounding of the sums."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from features import schema as s
from features.levels import (
    DAY,
    level_keys,
    origin_levels,
    weekday_factors,
    with_day_numbers,
)
from features.spec import LEVEL_TARGETS, ROBUST_TARGETS, TREND_TARGETS, WEEKDAY, FeatureSpec

SPEC = FeatureSpec(cell_weeks=4, long_cell_weeks=10, level_windows=(7, 21), robust_base=True)
FIRST = dt.date(2025, 1, 6)
QUEUE = list(s.QUEUE_KEYS)
CELL = [*QUEUE, WEEKDAY, s.HOUR]


def _hourly(seed: int) -> pd.DataFrame:
    """Ninety days of three offices, two channels (two services at one office), their days
    and hours each missing at random, waits on a half-minute grid (ties, even counts) and
    some missing; one office whose rows stop three weeks before the end."""
    rng = np.random.default_rng(seed)
    rows = []
    queues = [(o, c, s.DEFAULT_SERVICE) for o in ("a", "b", "c") for c in ("walk_in", "appt")]
    queues.append(("a", "walk_in", "permit"))
    for office, channel, service in queues:
        last = 69 if office == "c" else 90
        for day in range(last):
            if rng.random() < 0.2:
                continue
            for hour in range(8, 17):
                if rng.random() < 0.15:
                    continue
                wait = np.round(rng.gamma(2.0, 8.0) * 2) / 2
                missing = rng.random() < 0.1
                rows.append(
                    {
                        s.OFFICE_ID: office,
                        s.CHANNEL: channel,
                        s.SERVICE: service,
                        s.DATE: FIRST + dt.timedelta(days=day),
                        s.HOUR: np.int16(hour),
                        s.WAIT_P10: np.nan if missing else wait / 2,
                        s.WAIT_P50: np.nan if missing else wait,
                        s.WAIT_P90: np.nan if missing else wait * 2,
                        s.ARRIVALS: float(rng.poisson(6)),
                        s.NEVER_CALLED_SHARE: rng.random() / 10,
                    }
                )
    table = pd.DataFrame(rows).sample(frac=1.0, random_state=seed)  # rows in no order
    return table.astype({s.HOUR: "int16"}).reset_index(drop=True)


def _means(rows: pd.DataFrame, keys: list[str], columns: list[str], name) -> pd.DataFrame:
    means = rows.groupby(keys, observed=True)[columns].mean()
    return means.rename(columns=name)


def _pandas_levels(hourly: pd.DataFrame, origin: dt.date, spec: FeatureSpec) -> dict:
    """The levels as plain pandas groupbys of the rows before ``origin``."""
    day0, days = origin.toordinal(), hourly[DAY]
    before = hourly[days < day0]
    past = before[before[DAY] >= day0 - 7 * spec.cell_weeks]
    targets = list(LEVEL_TARGETS)
    cells = past.groupby(CELL, observed=True)
    cell = _means(past, CELL, targets, spec.cell)
    cell[spec.cell_days()] = cells[DAY].nunique()
    cell = cell.join(cells[list(ROBUST_TARGETS)].median().rename(columns=spec.cell_median))
    long = before[before[DAY] >= day0 - 7 * spec.long_cell_weeks]
    cell = cell.join(
        _means(long, CELL, targets, lambda c: spec.cell(c, spec.long_cell_weeks)), how="outer"
    )
    out = {"cell": cell}
    last = past.loc[cells[DAY].idxmax()].set_index(CELL)[targets]
    out["last_same_hour"] = last.rename(columns=spec.last_same_hour)
    for window in spec.level_windows:
        recent = before[before[DAY] >= day0 - window]
        out[f"lvl{window}d_hour"] = _means(
            recent, [*QUEUE, s.HOUR], targets, lambda c, w=window: spec.level(w, c, True)
        )
        out[f"lvl{window}d"] = _means(
            recent, QUEUE, targets, lambda c, w=window: spec.level(w, c, False)
        )
    out["network"] = pd.concat(
        [
            _means(
                before[before[DAY] >= day0 - w],
                [s.CHANNEL],
                list(TREND_TARGETS),
                lambda c, w=w: spec.network(w, c),
            )
            for w in spec.level_windows
        ],
        axis=1,
    )
    latest = past.groupby(QUEUE, observed=True)[DAY].transform("max")
    out["last_day"] = _means(past[past[DAY] == latest], QUEUE, targets, spec.last_day)
    return out


def _same(mine: pd.DataFrame, theirs: pd.DataFrame, keys: list[str]) -> None:
    theirs = theirs.reset_index()
    assert sorted(mine.columns) == sorted(theirs.columns)
    mine = mine.sort_values(keys).reset_index(drop=True)
    theirs = theirs.sort_values(keys).reset_index(drop=True)
    assert len(mine) == len(theirs)
    for column in theirs.columns:
        if column in keys:
            assert mine[column].astype(str).tolist() == theirs[column].astype(str).tolist()
        else:
            np.testing.assert_allclose(
                mine[column].to_numpy(float), theirs[column].to_numpy(float), rtol=1e-12
            )


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("back", [0, 11, 40])
def test_every_level_equals_pandas_groupby(seed: int, back: int) -> None:
    hourly = with_day_numbers(_hourly(seed))
    origin = FIRST + dt.timedelta(days=90 - back)
    mine = origin_levels(hourly, origin, SPEC)
    theirs = _pandas_levels(hourly, origin, SPEC)
    assert set(mine) == set(theirs)
    for name, keys in level_keys(SPEC, "_origin").items():
        _same(mine[name], theirs[name], [k for k in keys if k != "_origin"])


def test_an_origin_before_any_row_has_empty_levels() -> None:
    levels = origin_levels(with_day_numbers(_hourly(0)), FIRST, SPEC)
    assert all(frame.empty for frame in levels.values())


def test_the_shrunk_cells_read_the_given_factors_like_their_own() -> None:
    # a partition of offices reads the whole table's weekday factors; given those of its own
    # table, it must shrink exactly as when it reads them itself
    spec = dataclasses.replace(SPEC, shrunk_cell=True)
    table = _hourly(1)
    hourly = with_day_numbers(table)
    origin = FIRST + dt.timedelta(days=80)
    own = origin_levels(hourly, origin, spec)["cell"]
    factors = weekday_factors(table, [origin], spec)
    given = origin_levels(hourly, origin, spec, factors=factors)["cell"]
    pd.testing.assert_frame_equal(own, given)
    shrunk = own[spec.cell_shrunk()]
    assert shrunk.notna().sum() > 100
    assert not np.allclose(shrunk, own[spec.cell(s.WAIT_P50)], equal_nan=True)
