"""The served wait model calibrates itself in ``fit``, so ``clone`` rebuilds all of it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from features import schema as s
from models.calibration import CalibratedWaitRegressor, CalibrationWindow
from models.estimators import QUANTILE_TARGETS, CountRegressor, WaitQuantileRegressor
from training.pipeline import TrainConfig

START = dt.date(2025, 3, 3)


def _hours(n: int, seed: int, first_day: int = 0) -> pd.DataFrame:
    """Target rows of two channels at one office: keys, features and the hour's quantiles."""
    rng = np.random.default_rng(seed)
    channel = rng.choice(["walk_in", "appointment"], n)
    rows = pd.DataFrame(
        {
            s.OFFICE_ID: "hz-city",
            s.CHANNEL: pd.Categorical(channel, categories=["walk_in", "appointment"]),
            s.SERVICE: "general",
            s.DATE: [START + dt.timedelta(days=first_day + int(d)) for d in rng.integers(0, 20, n)],
            s.HOUR: rng.integers(9, 17, n),
            "level": rng.uniform(5, 60, n),
        }
    ).drop_duplicates([s.CHANNEL, s.DATE, s.HOUR], ignore_index=True)
    p50 = rows["level"] * (1 + (rows[s.HOUR] == 9)) * rng.lognormal(0, 0.3, len(rows))
    return rows.assign(**{s.WAIT_P10: p50 * 0.4, s.WAIT_P50: p50, s.WAIT_P90: p50 * 2.2})


FEATURES = [s.HOUR, "level", s.CHANNEL]


def _window(seed: int) -> CalibrationWindow:
    """A later window of hours and, for each hour, a few individual outcomes."""
    rows = _hours(400, seed, first_day=40)
    rng = np.random.default_rng(seed + 1)
    outcomes = rows.loc[rows.index.repeat(4), [*s.QUEUE_KEYS, s.DATE, s.HOUR]]
    spread = rng.lognormal(0, 0.8, len(outcomes))
    outcomes[s.WAIT] = rows.loc[outcomes.index, s.WAIT_P50].to_numpy() * spread
    return CalibrationWindow(rows[FEATURES], rows, outcomes.reset_index(drop=True))


@pytest.mark.parametrize("median_loss", ["l1", "l2"])
def test_clone_and_fit_rebuild_the_whole_calibrated_model(median_loss: str) -> None:
    rows, window = _hours(1500, 0), _window(1)
    y = rows[list(QUANTILE_TARGETS)]
    quantiles = WaitQuantileRegressor(n_estimators=60, median_loss=median_loss)
    model = CalibratedWaitRegressor(quantiles).fit(rows[FEATURES], y, calibration=window)
    assert set(model.offsets_) == {"walk_in", "appointment", "*"}
    assert (median_loss == "l2") == bool(model.shift_)
    again = clone(model).fit(rows[FEATURES], y, calibration=window)
    X_new = _hours(300, 2, first_day=70)[FEATURES]
    np.testing.assert_array_equal(again.predict(X_new), model.predict(X_new))
    # the calibration is part of what clone + fit rebuild: it moves the range
    uncalibrated = model.estimator_.predict(X_new)
    assert not np.allclose(uncalibrated[:, [0, 2]], model.predict(X_new)[:, [0, 2]])


def test_without_a_calibration_window_the_model_is_served_as_fitted() -> None:
    rows = _hours(800, 3)
    model = CalibratedWaitRegressor(WaitQuantileRegressor(n_estimators=20)).fit(
        rows[FEATURES], rows[list(QUANTILE_TARGETS)]
    )
    assert model.offsets_ == {} and model.shift_ == {}
    np.testing.assert_array_equal(
        model.predict(rows[FEATURES]), model.estimator_.predict(rows[FEATURES])
    )


def test_early_stopping_reads_the_calibration_window() -> None:
    rows, window = _hours(1500, 4), _window(5)
    y = rows[list(QUANTILE_TARGETS)]
    quantiles = WaitQuantileRegressor(n_estimators=400, learning_rate=0.3)
    stopped = CalibratedWaitRegressor(quantiles).fit(rows[FEATURES], y, calibration=window)
    full = CalibratedWaitRegressor(quantiles, early_stopping=False).fit(
        rows[FEATURES], y, calibration=window
    )
    assert max(stopped.estimator_.best_rounds_) < 400
    assert full.estimator_.best_rounds_ == [400, 400, 400]


def test_the_estimators_defaults_are_the_train_configs() -> None:
    """One source of defaults: an estimator built with no arguments is the one
    ``waitcast train`` fits (TrainConfig's values)."""
    config = TrainConfig()
    for estimator in (WaitQuantileRegressor(), CountRegressor()):
        params = estimator.get_params()
        for name in ("n_estimators", "learning_rate", "num_leaves", "min_child_samples"):
            assert params[name] == getattr(config, name), name
        assert params["n_jobs"] == config.n_jobs and params["random_state"] == config.seed
    assert WaitQuantileRegressor().median_loss == config.median_loss
    assert dataclasses.asdict(config)["n_estimators"] == 160  # what production fits with
