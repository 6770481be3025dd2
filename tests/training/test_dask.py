"""The dask engine: features per office partition on the workers, lightgbm.dask fits, and
backtest figures within 3 % of the single-process model's on the same data."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from cli.main import main
from features.build import build_features, training_targets
from features.calendar_cn import ChinaCalendar
from features.dataset import TrainingData
from models.dask_estimators import DaskWaitQuantileRegressor, _early_stopped, _validation_curve
from models.estimators import WaitQuantileRegressor
from tests.factories import write_table
from tests.toy_data import FAST, toy_tickets
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
    # the served mean's shrunk cells too: their weekday factors are read across offices
    spec = dataclasses.replace(make_spec(data, FAST, data.end), shrunk_cell=True)
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
    local = run_backtest(data, FAST, 1).metrics
    config = dataclasses.replace(FAST, engine="dask", parallel_folds=1)
    remote = run_backtest(data, config, 1).metrics
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
    model = DaskWaitQuantileRegressor(n_estimators=20, n_jobs=1, median_bag=2).fit(
        X, rows[["wait_p10", "wait_p50", "wait_p90"]]
    )
    predicted = model.predict(X)
    assert predicted.shape == (len(X), 3) and (predicted[:, 0] <= predicted[:, 2]).all()
    assert set(model.to_texts()) == {"wait_p10", "wait_p50", "wait_p50.1", "wait_p90"}


@pytest.mark.parametrize("objective", ["l1", "l2"])
def test_early_stopping_replayed_on_a_full_booster_cuts_where_lightgbm_stops(
    objective: str,
) -> None:
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(600, 4)), columns=list("abcd"))
    y = X["a"] + rng.normal(scale=2.0, size=600)  # noisy: the trees soon overfit
    init = rng.normal(scale=0.1, size=600)
    params = {"objective": objective, "learning_rate": 0.3, "num_leaves": 15, "verbosity": -1}
    params |= {"deterministic": True, "force_row_wise": True, "boost_from_average": False}
    train = lgb.Dataset(X[:400], label=y[:400], init_score=init[:400])
    valid = lgb.Dataset(X[400:], label=y[400:], init_score=init[400:], reference=train)
    recorded: dict[str, Any] = {}
    stopped = lgb.train(
        params,
        train,
        num_boost_round=150,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(10, verbose=False), lgb.record_evaluation(recorded)],
    )
    assert 0 < stopped.best_iteration < 150  # LightGBM itself stopped early
    full = lgb.train(params, train, num_boost_round=150)
    curve = _validation_curve(full, objective, X[400:], y[400:].to_numpy(), init[400:])
    seen = recorded["valid_0"][objective]
    np.testing.assert_allclose(curve[: len(seen)], seen, rtol=1e-9)
    cut = _early_stopped(full, curve, 10)
    assert cut.num_trees() == stopped.best_iteration
    np.testing.assert_array_equal(cut.predict(X[400:]), stopped.predict(X[400:]))


@pytest.mark.slow
def test_the_dask_wait_model_starts_from_the_base_level_and_stops_early_like_the_local_one(
    data: TrainingData, calendar: ChinaCalendar, cluster: object
) -> None:
    spec = make_spec(data, FAST, data.end)
    rows = training_targets(data.hourly, [dt.date(2025, 8, 4), dt.date(2025, 8, 18)], 14)
    rows = rows[rows["n_outcomes"] > 0]
    X = build_features(rows, data.hourly, data.calendars, data.offices, spec, data.bookings)
    later = training_targets(data.hourly, [dt.date(2025, 9, 1)], 14, need_outcomes=True)
    X_val = build_features(later, data.hourly, data.calendars, data.offices, spec, data.bookings)
    targets = ["wait_p10", "wait_p50", "wait_p90"]
    base = tuple(spec.historical_mean(t) for t in targets)
    relative = tuple(spec.wait_level_names)  # the trees read the wait levels relative to it
    kwargs: dict[str, Any] = {
        "median_loss": "l1",
        "base_columns": base,
        "relative_columns": relative,
        "keep_raw": True,  # ... beside the levels in minutes, as trained by default
        "n_jobs": 1,
    }
    # A few small steps: the fit stays near its starting level, the historical mean
    # (without it the trees start from the label's mean: a median gap of 2 to 3).
    few = {"n_estimators": 3, "learning_rate": 0.05, **kwargs}
    local = WaitQuantileRegressor(**few).fit(X, rows[targets])
    remote = DaskWaitQuantileRegressor(**few).fit(X, rows[targets])
    gap = np.abs(remote.predict_log(X_val) - local.predict_log(X_val))
    assert np.median(gap) < 0.05, np.median(gap, axis=0)
    # Many rounds on few rows: both stop early on the eval set, each model cut at its best
    # round. The rounds differ (the distributed trees are not the local ones, and the
    # absolute loss's curve is flat near its minimum); the forecasts stay close.
    many = {"n_estimators": 150, "learning_rate": 0.05, "min_child_samples": 5, **kwargs}
    eval_set = (X_val, later[targets])
    local = WaitQuantileRegressor(**many).fit(X, rows[targets], eval_set=eval_set)
    remote = DaskWaitQuantileRegressor(**many).fit(X, rows[targets], eval_set=eval_set)
    assert max(local.best_rounds_) < 150 and max(remote.best_rounds_) < 150
    assert [m[0].num_trees() for m in remote.boosters_] == remote.best_rounds_
    gap = np.abs(remote.predict_log(X_val) - local.predict_log(X_val))
    assert np.median(gap) < 0.1, (local.best_rounds_, remote.best_rounds_)


@pytest.mark.slow
@pytest.mark.usefixtures("small_training")  # the engine's flow, not the model
def test_waitcast_train_from_a_store_on_a_local_dask_cluster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tickets = toy_tickets(dt.date(2025, 6, 2), dt.date(2025, 7, 13), office_ids=("hz-city",))
    store, registry = tmp_path / "store", tmp_path / "reg"
    assert (
        main(["ingest", str(write_table(tickets, tmp_path / "t.parquet")), "--store", str(store)])
        == 0
    )
    argv = ["train", "--store", str(store), "--registry", str(registry), "--origins", "1"]
    assert main([*argv, "--engine", "dask", "--workers", "1"]) == 0  # 2: the cluster fixture
    assert "v0001: promoted" in capsys.readouterr().out
    metadata = json.loads((registry / "versions" / "v0001" / "metadata.json").read_text())
    assert metadata["train_config"]["engine"] == "dask"
