"""The estimators keep the scikit-learn contract and never cross their quantiles."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from features import schema as s
from models.baselines import HistoricalMean, SeasonalNaive
from models.calibration import (
    CalibratedWaitRegressor,
    conformal_offsets,
    conformal_quantile,
    coverage,
)
from models.estimators import (
    MAX_WAIT_MINUTES,
    QUANTILE_TARGETS,
    CountRegressor,
    ShareRegressor,
    WaitQuantileRegressor,
    relative_name,
)
from models.hyperparams import member_seed


def _frame(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "hour": rng.integers(9, 17, n).astype(float),
            "level": rng.uniform(5, 60, n),
            s.CHANNEL: pd.Categorical(
                rng.choice(["walk_in", "appointment"], n), categories=["walk_in", "appointment"]
            ),
        }
    )
    p50 = X["level"] * (1 + (X["hour"] == 9))
    y = pd.DataFrame({s.WAIT_P10: p50 * 0.4, s.WAIT_P50: p50, s.WAIT_P90: p50 * 2.2})
    return X, y


def test_init_stores_params_and_fit_returns_self():
    model = WaitQuantileRegressor(n_estimators=7, learning_rate=0.2)
    assert model.get_params()["n_estimators"] == 7
    assert not hasattr(model, "boosters_")
    X, y = _frame(300)
    assert model.fit(X, y) is model
    assert clone(model).get_params() == model.get_params()


@pytest.mark.parametrize(
    "model",
    [
        WaitQuantileRegressor(),
        CalibratedWaitRegressor(),
        CountRegressor(),
        ShareRegressor(),
        HistoricalMean(),
        SeasonalNaive(),
    ],
)
def test_predict_refuses_an_unfitted_model(model):
    X, _ = _frame(5)
    with pytest.raises(NotFittedError):
        model.predict(X)


def test_fit_refuses_missing_targets_and_empty_input():
    X, y = _frame(50)
    with pytest.raises(ValueError, match="wait_p90"):
        WaitQuantileRegressor().fit(X, y.drop(columns=[s.WAIT_P90]))
    with pytest.raises(ValueError, match="no rows"):
        WaitQuantileRegressor().fit(X.head(0), y.head(0))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 1000), lower=st.floats(-2, 2), upper=st.floats(-2, 2))
def test_quantiles_never_cross_whatever_the_offsets(seed, lower, upper):
    X, y = _frame(200, seed)
    model = CalibratedWaitRegressor.from_parts(
        WaitQuantileRegressor(n_estimators=10).fit(X, y),
        shift={"walk_in": upper, "*": lower},
        offsets={"walk_in": (lower, upper), "appointment": (upper, lower)},
    )
    q = model.predict(_frame(100, seed + 1)[0])
    assert (q[:, 0] <= q[:, 1]).all() and (q[:, 1] <= q[:, 2]).all() and (q >= 0).all()


def test_texts_round_trip_gives_identical_predictions():
    X, y = _frame(300)
    quantiles = WaitQuantileRegressor(n_estimators=20).fit(X, y)
    model = CalibratedWaitRegressor.from_parts(quantiles, {"*": 0.1}, {"walk_in": (0.1, 0.2)})
    texts = WaitQuantileRegressor.from_texts(quantiles.to_texts(), list(X.columns))
    again = CalibratedWaitRegressor.from_parts(texts, model.shift_, model.offsets_)
    np.testing.assert_array_equal(model.predict(X), again.predict(X))


def test_the_median_model_is_a_bag_of_boosters_seeded_apart_and_averaged():
    X, y = _frame(400)
    bag = WaitQuantileRegressor(n_estimators=20, median_bag=3).fit(X, y)
    assert [len(m) for m in bag.boosters_] == [1, 3, 1]
    seeds = [b.params["seed"] for b in bag.boosters_[1]]
    assert seeds == [member_seed(0, i) for i in range(3)] and len(set(seeds)) == 3
    members = np.column_stack([b.predict(X) for b in bag.boosters_[1]])
    assert not np.allclose(members[:, 0], members[:, 1])  # sampled apart, not copies
    logs = bag.predict_log(X)
    np.testing.assert_allclose(logs[:, 1], members.mean(axis=1))
    # Member 0 is the lone booster that sees the bag's share of rows per tree.
    one = WaitQuantileRegressor(n_estimators=20, median_bag=1, subsample=bag.bag_subsample)
    np.testing.assert_array_equal(one.fit(X, y).boosters_[1][0].predict(X), members[:, 0])


def test_bag_members_see_their_share_of_rows_and_the_range_learns_at_its_own_rate():
    model = WaitQuantileRegressor(
        learning_rate=0.05, subsample=0.8, median_bag=3, bag_subsample=0.3, range_learning_rate=0.2
    )
    members = {q: model._member_params(q) for q in QUANTILE_TARGETS}
    assert [len(members[q]) for q in QUANTILE_TARGETS] == [1, 3, 1]
    assert {p["bagging_fraction"] for p in members[s.WAIT_P50]} == {0.3}
    assert all(p["bagging_freq"] == 1 for p in members[s.WAIT_P50])
    assert {p["learning_rate"] for p in members[s.WAIT_P50]} == {0.05}
    for q in (s.WAIT_P10, s.WAIT_P90):
        assert members[q][0]["learning_rate"] == 0.2
        assert members[q][0]["bagging_fraction"] == 0.8
    alone = WaitQuantileRegressor(subsample=0.8, median_bag=1, range_learning_rate=None)
    assert alone._member_params(s.WAIT_P50)[0]["bagging_fraction"] == 0.8
    assert alone._member_params(s.WAIT_P90)[0]["learning_rate"] == alone.learning_rate


def test_a_bag_round_trips_through_texts_and_a_single_booster_still_loads():
    X, y = _frame(300)
    bag = WaitQuantileRegressor(n_estimators=20, median_bag=3).fit(X, y)
    texts = bag.to_texts()
    assert sorted(texts) == ["wait_p10", "wait_p50", "wait_p50.1", "wait_p50.2", "wait_p90"]
    again = WaitQuantileRegressor.from_texts(texts, list(X.columns))
    assert again.median_bag == 3
    np.testing.assert_array_equal(bag.predict(X), again.predict(X))
    older = {k: v for k, v in texts.items() if "." not in k}  # stored before the bags
    alone = WaitQuantileRegressor.from_texts(older, list(X.columns))
    assert [len(m) for m in alone.boosters_] == [1, 1, 1]
    np.testing.assert_array_equal(alone.predict_log(X)[:, 1], bag.boosters_[1][0].predict(X))
    with pytest.raises(KeyError, match="wait_p50"):  # no first booster: not a model
        WaitQuantileRegressor.from_texts(
            {k: v for k, v in texts.items() if k != "wait_p50"}, list(X.columns)
        )


def test_conformal_offsets_reach_the_target_coverage_on_fresh_data():
    rng = np.random.default_rng(1)

    def sample(n):
        level = rng.uniform(5, 50, n)
        return level, level * rng.lognormal(0, 0.6, n)

    level, waits = sample(4000)
    narrow_lo, narrow_hi = np.log1p(level * 0.9), np.log1p(level * 1.1)
    channels = np.array(["walk_in"] * len(level))
    offsets = conformal_offsets(narrow_lo, narrow_hi, waits, channels)
    lo, hi = offsets["walk_in"]
    level2, waits2 = sample(4000)
    p10 = np.expm1(np.log1p(level2 * 0.9) - lo)
    p90 = np.expm1(np.log1p(level2 * 1.1) + hi)
    assert 0.77 <= coverage(p10, p90, waits2) <= 0.83
    assert coverage(level2 * 0.9, level2 * 1.1, waits2) < 0.3  # before calibration


def test_a_range_over_waits_of_zero_still_holds_80_percent():
    """A fifth of the waits are 0 under a p10 of 0: no p10 lets a tenth fall below it, so the
    upper side misses what the lower one could not, and the range holds 80 %, not 88 %."""
    rng = np.random.default_rng(2)

    def sample(n):
        level = rng.uniform(5, 50, n)
        waits = np.where(rng.uniform(size=n) < 0.2, 0.0, level * rng.lognormal(0, 0.6, n))
        return level, waits

    level, waits = sample(4000)
    log_lo, log_hi = np.zeros(len(level)), np.log1p(level * 1.1)
    offsets = conformal_offsets(log_lo, log_hi, waits, np.array(["walk_in"] * len(level)))
    lo, hi = offsets["walk_in"]
    level2, waits2 = sample(4000)
    p10 = np.clip(np.expm1(-lo), 0, None) * np.ones(len(level2))
    p90 = np.expm1(np.log1p(level2 * 1.1) + hi)
    assert (p10 == 0).all()
    assert 0.77 <= coverage(p10, p90, waits2) <= 0.83
    assert np.mean(waits2 > p90) > 0.15  # the upper side took the lower side's miss


def test_conformal_quantile_is_conservative():
    scores = np.arange(10.0)
    assert conformal_quantile(scores, 0.1) == 9.0
    assert conformal_quantile(np.array([]), 0.1) == 0.0


def test_baselines_read_their_columns_and_fall_back():
    X = pd.DataFrame(
        {
            s.CHANNEL: ["walk_in", "walk_in"],
            **{f"cell8w_{c}": [10.0, np.nan] for c in (s.WAIT_P10, s.WAIT_P50, s.WAIT_P90)},
            **{f"last_same_hour_{c}": [20.0, np.nan] for c in (s.WAIT_P10, s.WAIT_P50, s.WAIT_P90)},
            **{f"lvl28d_hour_{c}": [np.nan, 30.0] for c in (s.WAIT_P10, s.WAIT_P50, s.WAIT_P90)},
        }
    )
    y = pd.DataFrame({s.WAIT_P10: [1.0, 1.0], s.WAIT_P50: [2.0, 2.0], s.WAIT_P90: [3.0, 3.0]})
    assert HistoricalMean().fit(X, y).predict(X)[:, 1].tolist() == [10.0, 30.0]
    assert SeasonalNaive().fit(X, y).predict(X)[:, 1].tolist() == [20.0, 30.0]
    with pytest.raises(ValueError, match="baseline columns"):
        HistoricalMean().fit(X.drop(columns=["cell8w_wait_p50"]), y)


def _levels(n: int, seed: int, low: float, high: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Queues with a steady level; a third of the rows start from a cell in a one-off
    surge (the cell at twice or thrice the level), after which the wait is back to it."""
    rng = np.random.default_rng(seed)
    steady = rng.uniform(low, high, n)
    surge = np.where(rng.random(n) < 1 / 3, rng.choice([2.0, 3.0], n), 1.0)
    X = pd.DataFrame({"hour": rng.integers(9, 17, n), "cell": steady * surge, "long": steady})
    p50 = steady * rng.lognormal(0, 0.05, n)
    return X, pd.DataFrame({s.WAIT_P10: p50 * 0.5, s.WAIT_P50: p50, s.WAIT_P90: p50 * 2})


BASE = (("cell",), ("cell",), ("cell",))


def test_relative_levels_carry_a_steady_peak_above_every_level_seen():
    """Trees reading the levels in minutes learn "a high cell comes down" from the surges
    and apply it to a steady peak higher than any level in training; read relative to the
    starting level, the same trees see a steady cell (cell = long) and keep it."""
    X, y = _levels(4000, 0, 5, 60)
    peak = pd.DataFrame(
        {"hour": [11] * 3, "cell": [150.0, 200.0, 240.0], "long": [150.0, 200.0, 240.0]}
    )
    raw = WaitQuantileRegressor(n_estimators=150, base_columns=BASE).fit(X, y)
    relative = WaitQuantileRegressor(
        n_estimators=150, base_columns=BASE, relative_columns=("cell", "long")
    ).fit(X, y)
    truth = peak["long"].to_numpy()
    rel_error = np.abs(relative.predict(peak)[:, 1] / truth - 1)
    raw_error = np.abs(raw.predict(peak)[:, 1] / truth - 1)
    assert (rel_error < 0.1).all(), rel_error
    assert (raw_error > 2 * rel_error).all(), (raw_error, rel_error)


@settings(max_examples=15, deadline=None)
@given(shift=st.floats(-1.5, 1.9), row=st.integers(0, 99))
def test_relative_levels_move_the_forecast_exactly_with_the_starting_level(shift, row):
    """Every wait level moved by the same amount in log1p: the trees read the same matrix,
    so the log1p quantiles move by exactly that amount (and the texts keep the columns).
    Up to a starting level of a day (MAX_WAIT_MINUTES, beyond which it is clipped as broken
    input): the levels here reach 180 minutes, times e^1.9 about 1,210."""
    X, y = _levels(600, 1, 5, 60)
    model = WaitQuantileRegressor(
        n_estimators=30, base_columns=BASE, relative_columns=("cell", "long")
    ).fit(X, y)
    model = WaitQuantileRegressor.from_texts(
        model.to_texts(), list(X.columns), BASE, model.base_fill_, model.relative_columns
    )
    one = X.iloc[[row]]
    assert np.expm1(np.log1p(X["cell"].max()) + 1.9) < MAX_WAIT_MINUTES
    moved = one.assign(**{c: np.expm1(np.log1p(one[c]) + shift) for c in ("cell", "long")})
    np.testing.assert_allclose(model.predict_log(moved), model.predict_log(one) + shift, atol=1e-9)


def test_the_relative_levels_kept_beside_the_minutes_are_read_and_need_the_bundle_flag():
    """With ``keep_raw`` the trees read each level both ways; the texts rebuild the same
    model only with the flag (the bundle stores it): without it the matrix lacks columns."""
    X, y = _levels(600, 1, 5, 60)
    kept = ("cell", "long")
    model = WaitQuantileRegressor(
        n_estimators=30, base_columns=BASE, relative_columns=kept, keep_raw=True
    ).fit(X, y)
    read = set(model.boosters_[1][0].feature_name())
    assert {*kept, *(relative_name(c) for c in kept)} <= read
    texts, names = model.to_texts(), list(X.columns)
    back = WaitQuantileRegressor.from_texts(texts, names, BASE, model.base_fill_, kept, True)
    np.testing.assert_array_equal(back.predict_log(X), model.predict_log(X))
    without = WaitQuantileRegressor.from_texts(texts, names, BASE, model.base_fill_, kept)
    with pytest.raises(lgb.basic.LightGBMError, match="number of features"):
        without.predict_log(X)
