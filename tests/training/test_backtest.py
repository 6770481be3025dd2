"""The rolling-origin backtest scores the model and both baselines on the same hours."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pandas as pd
import pytest

from features import schema as s
from tests.toy_data import FAST
from training.backtest import backtest_and_fit, rolling_origins, run_backtest
from training.metrics import (
    ESTIMATOR,
    ESTIMATORS,
    HISTORICAL_MEAN,
    MODEL,
    SEASONAL_NAIVE,
    SERVED,
)
from training.pipeline import fit_forecaster
from training.promotion import decide


@pytest.fixture(scope="module")
def result(data, calendar):
    return run_backtest(data, FAST, n_origins=2)


def test_rolling_origins_end_at_the_data_end():
    origins = rolling_origins(dt.date(2025, 1, 1), dt.date(2025, 10, 31), 4, 28)
    assert origins[-1] + dt.timedelta(days=27) == dt.date(2025, 10, 31)
    assert [(b - a).days for a, b in itertools.pairwise(origins)] == [28, 28, 28]


def test_every_estimator_scores_the_same_hours(result):
    per_estimator = result.hours.groupby(ESTIMATOR).size()
    assert set(per_estimator.index) == set(ESTIMATORS)
    assert per_estimator.nunique() == 1
    assert (result.hours[s.DATE] >= min(result.origins)).all()


def test_metrics_by_channel_office_and_horizon(result):
    metrics = result.metrics
    for channel in ("walk_in", "appointment"):
        for estimator in ESTIMATORS:
            values = metrics["by_channel"][channel][estimator]
            assert values["mae_p50"] > 0
            assert 0 <= values["coverage"] <= 1
    assert set(metrics["by_office"]) == {"hz-city", "hz-xihu", "hz-qiantang"}
    assert len(metrics["folds"]) == 2
    assert metrics["ratios"]["walk_in"]["mae_p50_ratio_to_best_baseline"] > 0


def test_the_served_choice_is_never_worse_than_the_historical_mean(result):
    """Held-out (leave-one-fold-out) score of what the version serves, per channel."""
    for by_est in [result.metrics["overall"], *result.metrics["by_channel"].values()]:
        assert by_est[SERVED]["mae_p50"] <= by_est[HISTORICAL_MEAN]["mae_p50"] + 1e-9
        assert by_est[MODEL]["mae_p50"] < by_est[SEASONAL_NAIVE]["mae_p50"]
    assert 0.72 <= result.metrics["overall"][SERVED]["coverage"] <= 0.88


def test_promotion_compares_the_same_folds(result):
    metrics = result.metrics
    assert decide(metrics, None).promote
    assert decide(metrics, metrics).promote  # no worse
    worse = {
        "folds": {
            k: {MODEL: {"mae_p50": v[MODEL]["mae_p50"] * 0.5}} for k, v in metrics["folds"].items()
        }
    }
    verdict = decide(metrics, worse)
    assert not verdict.promote and "worse" in verdict.reason
    assert not decide(metrics, {"folds": {"1999-01-01": {MODEL: {"mae_p50": 1}}}}).promote


def test_backtest_and_final_fit_in_one_batch_match_the_separate_runs(data, calendar, result):
    # two worker processes: the forecaster comes back from one of them
    parallel = dataclasses.replace(FAST, parallel_folds=2)
    both_result, forecaster = backtest_and_fit(data, parallel, n_origins=2)
    assert both_result.metrics == result.metrics
    alone = fit_forecaster(data, FAST).forecaster
    assert forecaster.data_end == data.end
    model_only = dataclasses.replace(forecaster, baseline=None)
    a = model_only.forecast(dt.date(2025, 11, 3), 3)
    b = alone.forecast(dt.date(2025, 11, 3), 3)
    pd.testing.assert_frame_equal(a, b)


def test_the_model_card_carries_the_accuracy_suite_s_figures(result):
    card = result.metrics["card"]
    for channel in ("walk_in", "appointment"):
        figures = card[channel]
        by_est = result.metrics["by_channel"][channel]
        ratio = by_est[SERVED]["mae_p50"] / by_est[HISTORICAL_MEAN]["mae_p50"]
        assert figures["ratio"] == pytest.approx(ratio, rel=1e-3)
        assert figures["coverage"] == pytest.approx(by_est[SERVED]["coverage"], abs=1e-3)
        assert figures["pinball"] == pytest.approx(by_est[SERVED]["pinball"], abs=1e-3)
        assert figures["missing"] == 0.0
        assert figures["worst_origin"] in result.metrics["folds"]
        assert figures["worst_ratio"] >= figures["ratio"] - 1e-9


def test_the_backtest_scores_the_model_as_it_is_served_without_a_future_book(data):
    # A forecast is served without the appointment book of the coming weeks (no input
    # carries it), so the backtest must not judge the model with it: what was booked for
    # the held-out slots before their origin leaves the model's held-out forecast alone.
    # (A model that reads the book: every origin with it, all trees, small leaves.)
    config = dataclasses.replace(
        FAST, early_stopping=False, booking_mask_share=0.0, min_child_samples=5
    )
    origin = run_backtest(data, config, n_origins=1).origins[0]
    ahead = data.bookings[s.DATE] >= origin
    early = data.bookings.copy()
    early.loc[ahead, s.BOOKED_DATE] = origin - dt.timedelta(days=60)
    assert ahead.sum() > 100
    runs = [
        run_backtest(d, config, n_origins=1).hours
        for d in (data, dataclasses.replace(data, bookings=early))
    ]
    model = [h[h[ESTIMATOR] == MODEL].reset_index(drop=True)[s.P50] for h in runs]
    pd.testing.assert_series_equal(model[0], model[1])
