"""Training on toy ticket logs: forecasts on open hours, ordered quantiles, calibration."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from features import schema as s
from features.calendars import Calendars
from features.dataset import prepare_data
from features.errors import UnusableInputError
from features.spec import HORIZON, FeatureSpec
from tests.toy_data import FAST, toy_tickets
from training.pipeline import (
    BEFORE_THE_OPTION,
    TrainConfig,
    effective_windows,
    fit_forecaster,
    make_spec,
    recipe,
)


@pytest.fixture(scope="module")
def fitted(data, calendar):
    return fit_forecaster(data, FAST)


def test_forecast_rows_are_open_hours_with_ordered_quantiles(fitted, calendar):
    forecast = fitted.forecaster.forecast(dt.date(2025, 11, 3), 14)
    assert set(forecast.columns) >= {*s.FORECAST_COLUMNS, s.EXPECTED_ARRIVALS, s.P_CALLED}
    assert (forecast[s.P10] <= forecast[s.P50]).all()
    assert (forecast[s.P50] <= forecast[s.P90]).all()
    assert (forecast[s.P10] >= 0).all()
    assert (
        not forecast[s.DATE].isin([dt.date(2025, 11, 8), dt.date(2025, 11, 9)]).any()
        or (forecast[forecast[s.DATE] == dt.date(2025, 11, 8)][s.OFFICE_ID] == "hz-city").all()
    )
    # walk-in-only offices have no appointment queue; only walk-ins get p_called
    qt = forecast[forecast[s.OFFICE_ID] == "hz-qiantang"]
    assert set(qt[s.CHANNEL]) == {"walk_in"}
    walk_in = forecast[s.CHANNEL] == "walk_in"
    assert forecast.loc[walk_in, s.P_CALLED].between(0, 1).all()
    assert forecast.loc[~walk_in, s.P_CALLED].isna().all()


def test_forecast_skips_public_holidays(fitted, calendar):
    forecast = fitted.forecaster.forecast(dt.date(2025, 9, 29), 14)
    assert not forecast[s.DATE].between(dt.date(2025, 10, 1), dt.date(2025, 10, 8)).any()
    assert dt.date(2025, 10, 11) in set(forecast[s.DATE])  # make-up Saturday


def test_model_learns_the_monday_and_opening_peaks(fitted, calendar):
    forecast = fitted.forecaster.forecast(dt.date(2025, 11, 3), 7, ["hz-xihu"], "walk_in")
    monday = forecast[forecast[s.DATE] == dt.date(2025, 11, 3)][s.P50].mean()
    wednesday = forecast[forecast[s.DATE] == dt.date(2025, 11, 5)][s.P50].mean()
    assert monday > 1.2 * wednesday
    first = forecast[forecast[s.HOUR] == 9][s.P50].mean()
    later = forecast[forecast[s.HOUR] == 15][s.P50].mean()
    assert first > 1.15 * later


def test_conformal_offsets_exist_per_channel(fitted):
    offsets = fitted.forecaster.wait.offsets_
    assert {"walk_in", "appointment", "*"} <= set(offsets)


def test_short_history_is_refused(offices, calendar):
    tickets = toy_tickets(dt.date(2025, 6, 2), dt.date(2025, 6, 9), office_ids=("hz-xihu",))
    data = prepare_data(tickets, None, offices, Calendars(calendar))
    with pytest.raises(UnusableInputError, match="too little history"):
        fit_forecaster(data, FAST)


def test_a_few_weeks_of_history_train_with_shrunk_windows(offices, calendar):
    tickets = toy_tickets(dt.date(2025, 6, 2), dt.date(2025, 6, 27), office_ids=("hz-xihu",))
    data = prepare_data(tickets, None, offices, Calendars(calendar))
    windows = effective_windows(FAST, (data.end - data.start).days + 1)
    assert windows.calibration_days == 5 and windows.origin_step_days == 1
    forecast = fit_forecaster(data, FAST).forecaster.forecast(dt.date(2025, 6, 30), 2)
    assert len(forecast) > 0 and (forecast[s.P10] <= forecast[s.P90]).all()


def test_same_data_same_seed_same_model(data, calendar, fitted):
    again = fit_forecaster(data, FAST)
    a = fitted.forecaster.forecast(dt.date(2025, 11, 3), 3)
    b = again.forecaster.forecast(dt.date(2025, 11, 3), 3)
    np.testing.assert_allclose(a[s.P50], b[s.P50])
    other = fit_forecaster(data, dataclasses.replace(FAST, learning_rate=0.3, num_leaves=5))
    c = other.forecaster.forecast(dt.date(2025, 11, 3), 3)
    assert not np.allclose(a[s.P50], c[s.P50])


def test_a_waits_only_fit_has_the_same_wait_models_and_no_others(data, fitted):
    """A backtest fold fits the waits alone; what it judges is the full fit's waits."""
    alone = fit_forecaster(data, FAST, waits_only=True).forecaster
    assert alone.arrivals is None and alone.called is None
    assert fitted.forecaster.arrivals is not None and fitted.forecaster.called is not None
    a = fitted.forecaster.forecast(dt.date(2025, 11, 3), 3)
    b = alone.forecast(dt.date(2025, 11, 3), 3)
    for q in (s.P10, s.P50, s.P90):
        np.testing.assert_array_equal(a[q].to_numpy(), b[q].to_numpy())


def test_only_the_squared_loss_median_is_recentred(data, calendar, fitted):
    """The absolute loss aims at the median already; the squared loss (a mean of logs)
    gets the per-channel median shift from the calibration window."""
    assert FAST.median_loss == "l1" and fitted.forecaster.wait.shift_ == {}
    l2 = fit_forecaster(data, dataclasses.replace(FAST, median_loss="l2"))
    shift = l2.forecaster.wait.shift_
    assert {"walk_in", "appointment", "*"} <= set(shift)
    assert any(abs(v) > 0 for v in shift.values())


def test_level_windows_come_from_the_config(data):
    config = dataclasses.replace(FAST, level_windows=(7, 28, 91), long_cell_weeks=13)
    spec = make_spec(data, config, data.end + dt.timedelta(days=1))
    assert spec.level_windows == (7, 28, 91) and spec.long_cell_weeks == 13
    assert "lvl91d_hour_wait_p50" in spec.feature_names
    assert "cell13w_wait_p50" in spec.feature_names


def test_a_stored_recipe_is_rerun_as_it_was_trained() -> None:
    """The current version's recipe is re-run on the candidate's folds: an option added
    after it was stored is off in it (it was trained without), never today's default."""
    today = TrainConfig()
    assert recipe(today.to_dict()) == today
    older = {k: v for k, v in today.to_dict().items() if k not in BEFORE_THE_OPTION}
    rerun = recipe({**older, "an_option_of_a_later_version": 1})
    assert all(getattr(rerun, k) == v for k, v in BEFORE_THE_OPTION.items())
    assert all(getattr(today, k) != v for k, v in BEFORE_THE_OPTION.items())  # today's


def test_the_models_do_not_read_the_days_ahead_unless_an_older_spec_did(data) -> None:
    """Over a short history the horizon stands for the target date, and the trees carried
    the weeks' trend through it: no model reads it; the matrix still has it (the backtest
    reports by it), and a spec stored before the option keeps it as a feature."""
    spec = make_spec(data, FAST, data.end)
    assert HORIZON in spec.feature_names and HORIZON not in spec.model_features
    assert HORIZON in dataclasses.replace(spec, horizon_feature=True).model_features
    loaded = FeatureSpec.from_dict(
        {k: v for k, v in spec.to_dict().items() if k != "horizon_feature"}
    )
    assert loaded.horizon_feature  # an older model's stored spec
