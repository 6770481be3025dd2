"""The levels a training run's fits share: computed once per origin, read by every fit, and
the features built from them the same as those each fit would build alone."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from features import build
from features import schema as s
from features.build import build_features, training_targets
from features.dataset import TrainingData
from features.levels import LevelCache, level_cache
from tests.toy_data import FAST
from training import backtest, pipeline
from training.pipeline import make_spec, shared_levels


def _countries(data: TrainingData) -> dict[str, str]:
    return {office.id: office.country for office in data.offices}


def test_features_from_the_cache_equal_those_of_a_cut_table(data: TrainingData) -> None:
    # a fold's fit reads the table cut before its own date, the cache the whole table
    until = dt.date(2025, 9, 1)
    origins = [dt.date(2025, 8, 4), dt.date(2025, 8, 11)]
    spec = make_spec(data, FAST, until)
    cut = data.hourly[data.hourly[s.DATE] < until]
    rows = training_targets(cut, origins, 14)
    cache = level_cache(data.hourly, origins, spec, _countries(data))
    assert set(cache.by_origin) == set(origins)
    alone = build_features(rows, cut, data.calendars, data.offices, spec, data.bookings)
    shared = build_features(
        rows, cut, data.calendars, data.offices, spec, data.bookings, levels=cache
    )
    pd.testing.assert_frame_equal(shared, alone)


def test_a_spec_with_other_levels_reads_none_of_them(data: TrainingData) -> None:
    origin = dt.date(2025, 8, 4)
    spec = make_spec(data, FAST, data.end)
    cache = level_cache(data.hourly, [origin], spec, _countries(data))
    other = dataclasses.replace(spec, cell_weeks=4)
    assert cache.get(origin, spec) is not None
    assert cache.get(origin, other) is None
    assert cache.get(origin + dt.timedelta(days=1), spec) is None
    # ... but one that only reads further back (last year's weeks) reads them
    assert cache.get(origin, dataclasses.replace(spec, last_year=True)) is not None
    rows = training_targets(data.hourly, [origin], 7)
    built = build_features(rows, data.hourly, data.calendars, data.offices, other, levels=cache)
    alone = build_features(rows, data.hourly, data.calendars, data.offices, other)
    pd.testing.assert_frame_equal(built, alone)


def test_a_backtest_computes_each_origin_s_levels_once(
    data: TrainingData, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed: list[dt.date] = []
    fresh: list[dt.date] = []
    monkeypatch.setattr(pipeline, "level_cache", _counting(pipeline.level_cache, computed))
    monkeypatch.setattr(build, "origin_levels", _counting_one(build.origin_levels, fresh))
    config = dataclasses.replace(FAST, n_estimators=5)
    backtest.run_backtest(data, config, n_origins=2)
    assert computed and len(computed) == len(set(computed))  # each origin once
    assert fresh == []  # and no fit computed any again


def test_no_cache_past_its_budget_or_on_dask(
    data: TrainingData, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert shared_levels(data, FAST, [None]) is not None
    assert shared_levels(data, dataclasses.replace(FAST, engine="dask"), [None]) is None
    monkeypatch.setattr(pipeline, "SHARED_LEVEL_ROWS", 10)
    assert shared_levels(data, FAST, [None]) is None


def _counting(function, seen):
    def wrapper(hourly, origins, *args):
        origins = list(origins)
        seen.extend(origins)
        return function(hourly, origins, *args)

    return wrapper


def _counting_one(function, seen):
    def wrapper(hourly, origin, *args):
        seen.append(origin)
        return function(hourly, origin, *args)

    return wrapper


def test_merged_caches_keep_every_origin(data: TrainingData) -> None:
    spec = make_spec(data, FAST, data.end)
    a = level_cache(data.hourly, [dt.date(2025, 8, 4)], spec, _countries(data))
    b = level_cache(data.hourly, [dt.date(2025, 8, 11)], spec, _countries(data))
    merged = LevelCache.merged([a, b])
    assert merged is not None and set(merged.by_origin) == {
        dt.date(2025, 8, 4),
        dt.date(2025, 8, 11),
    }
    assert LevelCache.merged([]) is None
