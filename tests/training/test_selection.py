"""Choosing per queue between the model, the historical mean and a blend, on held-out
hours only: never worse than the baseline by construction."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from features import schema as s
from features.spec import ORIGIN
from models.blend import Blend, label_of
from training import selection
from training.promotion import decide
from training.selection import (
    QUEUE_Z,
    choose_blend,
    choose_weights,
    queue_z,
    served_out_of_fold,
)

ORIGINS = [dt.date(2025, 3, 3), dt.date(2025, 3, 31), dt.date(2025, 4, 28)]


def _wide(model_noise: dict[str, float], seed: int = 0, hours: int = 120) -> pd.DataFrame:
    """Held-out hours of walk-in queues: the truth, a baseline off by 5 minutes of noise,
    and a model off by ``model_noise[office]``."""
    rng = np.random.default_rng(seed)
    rows = []
    for office, noise in model_noise.items():
        for origin in ORIGINS:
            for i in range(hours):
                date = origin + dt.timedelta(days=i // 8)
                truth = 20 + 10 * np.sin(i)
                base = max(truth + rng.normal(0, 5), 0)
                model = max(truth + rng.normal(0, noise), 0)
                rows.append(
                    (
                        office,
                        s.Channel.WALK_IN.value,
                        s.DEFAULT_SERVICE,
                        date,
                        9 + i % 8,
                        origin,
                        truth,
                        model * 0.7,
                        model,
                        model * 1.3,
                        base * 0.7,
                        base,
                        base * 1.3,
                    )
                )
    columns = [*s.QUEUE_KEYS, s.DATE, s.HOUR, ORIGIN, s.WAIT_P50,
               "m_p10", "m_p50", "m_p90", "b_p10", "b_p50", "b_p90"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _outcomes(wide: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    keys = [*s.QUEUE_KEYS, s.DATE, s.HOUR]
    out = wide[keys].loc[wide.index.repeat(4)].reset_index(drop=True)
    truth = wide[s.WAIT_P50].to_numpy().repeat(4)
    return out.assign(**{s.WAIT: np.clip(truth * rng.lognormal(0, 0.4, len(out)), 0, None)})


def test_a_good_model_serves_where_it_is_good_and_the_mean_where_it_is_not() -> None:
    wide = _wide({"good": 1.0, "bad": 15.0})
    blend = choose_weights(wide)
    weights = dict(zip(blend.weights[s.OFFICE_ID], blend.weights["weight"], strict=True))
    assert weights["good"] == 1.0
    assert weights["bad"] < 0.5
    assert label_of(weights["good"]) == "model"


def test_a_model_of_pure_noise_is_never_served_alone() -> None:
    wide = _wide({f"o{i}": 12.0 for i in range(4)})
    blend = choose_weights(wide)
    assert blend.pooled[s.Channel.WALK_IN.value] < 1.0
    assert (blend.weights["weight"] < 1.0).all()


def test_a_few_lucky_hours_do_not_move_a_queue_off_its_channel_s_choice() -> None:
    wide = _wide({"a": 5.0, "b": 5.0, "c": 5.0, "small": 5.0})
    wide = wide[(wide[s.OFFICE_ID] != "small") | (wide.index % 30 == 0)]  # 12 hours only
    blend = choose_weights(wide)
    weights = dict(zip(blend.weights[s.OFFICE_ID], blend.weights["weight"], strict=True))
    assert weights["small"] == blend.pooled[s.Channel.WALK_IN.value]


def test_the_honest_score_never_sees_the_fold_it_scores() -> None:
    """Leave-one-fold-out: a fold where the model is suddenly perfect gets the share chosen
    on the other folds, so its served error is not the model's perfect one."""
    wide = _wide({"o": 10.0})
    last = wide[ORIGIN] == ORIGINS[-1]
    wide.loc[last, "m_p50"] = wide.loc[last, s.WAIT_P50]
    served = served_out_of_fold(wide, _outcomes(wide))
    fold = served[served[ORIGIN] == ORIGINS[-1]]
    assert (fold["weight"] < 1.0).all()
    assert (fold[s.P50] - fold[s.WAIT_P50]).abs().mean() > 0.5


def test_the_blended_range_is_calibrated_to_hold_about_80_percent() -> None:
    wide = _wide({"o": 3.0, "p": 3.0})
    outcomes = _outcomes(wide)
    blend = choose_blend(wide, outcomes)
    served = served_out_of_fold(wide, outcomes)
    joined = served.merge(outcomes, on=[*s.QUEUE_KEYS, s.DATE, s.HOUR])
    inside = (joined[s.WAIT] >= joined[s.P10]) & (joined[s.WAIT] <= joined[s.P90])
    assert 0.74 <= inside.mean() <= 0.86
    assert blend.offsets


def test_a_version_worse_than_the_baseline_is_never_promoted_over_a_current_one() -> None:
    channel = {"served": {"mae_p50": 11.0}, "historical_mean": {"mae_p50": 10.0}}
    new = {
        "by_channel": {"walk_in": channel},
        "folds": {"2025-03-03": {"served": {"mae_p50": 11.0}}},
    }
    current = {"folds": {"2025-03-03": {"served": {"mae_p50": 12.0}}}}
    verdict = decide(new, current)
    assert not verdict.promote and "worse than a baseline" in verdict.reason
    first = decide(new, None)
    assert first.promote and "historical_mean" in first.reason


def test_a_blend_round_trips_through_its_stored_form() -> None:
    wide = _wide({"o": 3.0, "p": 20.0})
    blend = choose_blend(wide, _outcomes(wide))
    again = Blend.from_dict(blend.to_dict())
    rows = wide[list(s.QUEUE_KEYS)].drop_duplicates()
    np.testing.assert_array_equal(again.weight_of(rows), blend.weight_of(rows))
    assert again.offsets == blend.offsets


def test_one_lucky_day_is_not_evidence_for_a_whole_channel() -> None:
    """A model that only copies the mean (plus a small bias), except on one day where it is
    perfect, wins on the mean over hours but not day after day: the mean serves."""
    wide = _wide({"o": 5.0, "p": 5.0})
    wide["m_p50"] = wide["b_p50"] + 1.0
    lucky = wide[s.DATE] == wide[s.DATE].min()
    wide.loc[lucky, "m_p50"] = wide.loc[lucky, s.WAIT_P50]
    errors = (wide["m_p50"] - wide[s.WAIT_P50]).abs().mean()
    assert errors < (wide["b_p50"] - wide[s.WAIT_P50]).abs().mean()  # wins over hours
    assert choose_weights(wide).pooled[s.Channel.WALK_IN.value] == 0.0


def test_a_model_that_stopped_winning_on_the_latest_fold_is_not_served() -> None:
    """Better than the mean on the older folds, worse on the latest one: the mean serves
    (the latest fold is the one nearest the forecast)."""
    good, bad = _wide({"a": 1.0, "b": 1.0}), _wide({"a": 9.0, "b": 9.0}, seed=3)
    latest = good[ORIGIN] == ORIGINS[-1]
    assert choose_weights(good).pooled[s.Channel.WALK_IN.value] == 1.0
    mixed = pd.concat([good[~latest], bad[bad[ORIGIN] == ORIGINS[-1]]], ignore_index=True)
    errors = (mixed["m_p50"] - mixed[s.WAIT_P50]).abs() - (mixed["b_p50"] - mixed[s.WAIT_P50]).abs()
    assert errors.mean() < 0  # over all folds the model still looks better
    blend = choose_weights(mixed)
    assert blend.pooled[s.Channel.WALK_IN.value] == 0.0
    assert (blend.weights["weight"] == 0.0).all()


def test_a_queue_needs_two_standard_errors_to_leave_its_channel_s_choice() -> None:
    """One of hundreds of queues: its own advantage must exceed two standard errors of the
    daily difference (here 1.6) before it leaves the channel's choice."""
    day_gain = [-1.0, 0.3] * 5  # the model's error minus the mean's, per day
    rows = []
    for office, gains in (("q", day_gain), ("bad", [2.0] * 10)):
        for day, gain in enumerate(gains):
            origin = ORIGINS[day // 5]
            for hour in range(9, 17):
                model, base = 21.0 + gain, 21.0
                rows.append(
                    (office, s.Channel.WALK_IN.value, s.DEFAULT_SERVICE,
                     origin + dt.timedelta(days=day % 5), hour, origin, 20.0,
                     model * 0.7, model, model * 1.3, base * 0.7, base, base * 1.3)
                )  # fmt: skip
    columns = [*s.QUEUE_KEYS, s.DATE, s.HOUR, ORIGIN, s.WAIT_P50,
               "m_p10", "m_p50", "m_p90", "b_p10", "b_p50", "b_p90"]  # fmt: skip
    wide = pd.DataFrame(rows, columns=columns)
    blend = choose_weights(wide)
    assert blend.pooled[s.Channel.WALK_IN.value] == 0.0
    weights = dict(zip(blend.weights[s.OFFICE_ID], blend.weights["weight"], strict=True))
    assert weights["q"] == 0.0


def _noisy_copies(queues: int, seed: int = 5) -> pd.DataFrame:
    """Held-out hours of many queues whose model is the mean plus noise: no queue has a
    true gain from the model, only luck."""
    rng = np.random.default_rng(seed)
    wide = _wide({f"q{i:03d}": 5.0 for i in range(queues)}, seed=seed, hours=64)
    days = wide.groupby([s.OFFICE_ID, s.DATE]).ngroup().to_numpy()
    noise = rng.normal(0, 4.0, days.max() + 1)[days]  # one error per queue and day
    for col, factor in (("m_p10", 0.7), ("m_p50", 1.0), ("m_p90", 1.3)):
        wide[col] = np.clip(wide["b_p50"] + noise, 0, None) * factor
    return wide


def test_among_many_queues_luck_alone_moves_none_off_the_channel_s_choice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """150 queues whose model only adds noise to the mean: at a fixed two standard errors
    some leave the channel's choice by chance (and would lose in the weeks served); at the
    threshold that holds for all of them together none does."""
    wide = _noisy_copies(150)
    blend = choose_weights(wide)
    assert blend.pooled[s.Channel.WALK_IN.value] == 0.0
    assert (blend.weights["weight"] == 0.0).all()
    assert queue_z(150) > 3.0
    monkeypatch.setattr(selection, "queue_z", lambda queues: QUEUE_Z)
    assert (choose_weights(wide).weights["weight"] > 0.0).any()


def test_the_range_is_calibrated_on_the_fold_nearest_the_forecast() -> None:
    """Waits strayed far from the forecast in the older folds and little in the latest:
    the range is fitted to the latest, and holds about 80 % of waits like it."""
    wide = _wide({"o": 3.0, "p": 3.0})
    rng = np.random.default_rng(4)
    keys = [*s.QUEUE_KEYS, s.DATE, s.HOUR]
    out = wide[keys].loc[wide.index.repeat(4)].reset_index(drop=True)
    truth = wide[s.WAIT_P50].to_numpy().repeat(4)
    latest = np.repeat((wide[ORIGIN] == ORIGINS[-1]).to_numpy(), 4)
    spread = np.where(latest, 0.2, 0.9)
    outcomes = out.assign(**{s.WAIT: truth * rng.lognormal(0, 1, len(out)) ** spread})
    blend = choose_blend(wide, outcomes)
    fresh = wide[wide[ORIGIN] == ORIGINS[-1]]
    weight = blend.weight_of(fresh)
    q = blend.calibrate(
        weight[:, None] * fresh[["m_p10", "m_p50", "m_p90"]].to_numpy()
        + (1 - weight[:, None]) * fresh[["b_p10", "b_p50", "b_p90"]].to_numpy(),
        fresh[s.CHANNEL].astype(str).to_numpy(),
        weight,
    )
    truth = fresh[s.WAIT_P50].to_numpy().repeat(4)
    waits = truth * rng.lognormal(0, 1, len(truth)) ** 0.2
    p10, p90 = q[:, 0].repeat(4), q[:, 2].repeat(4)
    inside = (waits >= p10) & (waits <= p90)
    assert 0.72 <= inside.mean() <= 0.88
