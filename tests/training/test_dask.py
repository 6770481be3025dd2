"""The dask engine: features per office partition on the workers, lightgbm.dask fits, and
backtest figures within 3 % of the single-process model's on the same data."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import dask
import pandas as pd
import pytest

from features.build import build_features, training_targets
from features.calendar_cn import ChinaCalendar
from features.dataset import TrainingData
from models.dask_estimators import DaskWaitQuantileRegressor
from tests.toy_data import FAST
from training.backtest import run_backtest
from training.dask_fit import SHUFFLE, feature_partitions, office_partitions
from training.fitting import TARGET_COLUMNS, target, training_frame
from training.pipeline import make_spec


def test_offices_are_dealt_into_partitions_whole() -> None:
    groups = office_partitions(["c", "a", "b", "d", "e"], 2)
    assert groups == [["a", "c", "e"], ["b", "d"]]
    assert office_partitions(["a"], 4) == [["a"]]


def test_features_built_per_office_partition_equal_the_single_process_matrix(
    data: TrainingData, calendar: ChinaCalendar
) -> None:
    spec = make_spec(data, FAST, data.end)
    assert spec.use_bookings  # the booking mask is part of what is compared
    origins = [dt.date(2025, 8, 4), dt.date(2025, 9, 1)]
    parts = feature_partitions(data, data.hourly, spec, origins, FAST, 3)
    assert len(parts) == 3
    (frames,) = dask.compute(parts, scheduler="synchronous")
    distributed = pd.concat(frames, ignore_index=True).drop(columns=[SHUFFLE])
    local = training_frame(
        data.hourly,
        data.bookings,
        data.calendars,
        data.offices,
        spec,
        origins,
        FAST,
        max_rows=FAST.max_fit_rows,
        seed=FAST.seed,
    )
    columns = [*spec.feature_names, *(target(c) for c in TARGET_COLUMNS)]
    assert list(distributed.columns) == list(local.columns) == columns
    a, b = _in_row_order(distributed), _in_row_order(local)
    assert len(a) == len(b) > 0
    for column in columns:  # column by column, so that a failure names the column
        pd.testing.assert_series_equal(a[column], b[column], check_categorical=False)


def _in_row_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by every column: equal frames up to row order compare equal."""
    return frame.sort_values(list(frame.columns), kind="stable", ignore_index=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=40
        ) as local,
        distributed.Client(local) as client,
    ):
        yield client


@pytest.mark.slow
def test_the_dask_backtest_is_within_3_percent_of_the_local_one(
    data: TrainingData, calendar: ChinaCalendar, cluster: object
) -> None:
    local = run_backtest(data, FAST, 2).metrics
    config = dataclasses.replace(FAST, engine="dask", parallel_folds=1)
    remote = run_backtest(data, config, 2).metrics
    for channel, by_estimator in local["by_channel"].items():
        for metric in ("mae_p50", "pinball", "coverage"):
            ours, theirs = by_estimator["model"][metric], remote["by_channel"][channel]["model"]
            assert abs(theirs[metric] / ours - 1) <= 0.03, (channel, metric, ours, theirs)


@pytest.mark.slow
def test_a_dask_estimator_is_a_plain_lightgbm_model_once_fitted(
    data: TrainingData, calendar: ChinaCalendar, cluster: object
) -> None:
    spec = make_spec(data, FAST, data.end)
    rows = training_targets(data.hourly, [dt.date(2025, 9, 1)], 28, need_outcomes=True)
    X = build_features(rows, data.hourly, data.calendars, data.offices, spec, data.bookings)
    model = DaskWaitQuantileRegressor(n_estimators=20, n_jobs=1).fit(
        X, rows[["wait_p10", "wait_p50", "wait_p90"]]
    )
    predicted = model.predict(X)
    assert predicted.shape == (len(X), 3) and (predicted[:, 0] <= predicted[:, 2]).all()
    assert set(model.to_texts()) == {"wait_p10", "wait_p50", "wait_p90"}
