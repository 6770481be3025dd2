"""The shrunk historical mean serves where the mean serves alone, on a channel whose
held-out hours show it better than the plain mean, and partners the model in a channel's
blends unless those hours show the plain partner better; the shares are always chosen
against the plain mean."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from features import schema as s
from features.spec import ORIGIN, FeatureSpec
from models.baselines import HistoricalMean
from models.blend import Blend
from training.selection import (
    SHRUNK_Q,
    choose_blend,
    choose_weights,
    served_out_of_fold,
    shrunk_channels,
)

ORIGINS = [dt.date(2025, 3, 3), dt.date(2025, 3, 31), dt.date(2025, 4, 28)]
WALK_IN = s.Channel.WALK_IN.value


def _wide(
    model_noise: dict[str, float], shrunk_noise: float | list[float], seed: int = 0
) -> pd.DataFrame:
    """Held-out walk-in hours: the truth, a plain mean off by 5 minutes of noise, a model
    off by ``model_noise[office]`` and a shrunk mean off by ``shrunk_noise`` (per origin
    when a list)."""
    rng = np.random.default_rng(seed)
    rows = []
    for office, noise in model_noise.items():
        for k, origin in enumerate(ORIGINS):
            spread = shrunk_noise[k] if isinstance(shrunk_noise, list) else shrunk_noise
            for i in range(120):
                truth = 20 + 10 * np.sin(i)
                values = [
                    max(truth + rng.normal(0, sd), 0) for sd in (noise, 5.0, spread)
                ]  # model, plain mean, shrunk mean
                rows.append(
                    (office, WALK_IN, s.DEFAULT_SERVICE, origin + dt.timedelta(days=i // 8),
                     9 + i % 8, origin, truth,
                     *[v * f for v in values for f in (0.7, 1.0, 1.3)])
                )  # fmt: skip
    columns = [*s.QUEUE_KEYS, s.DATE, s.HOUR, ORIGIN, s.WAIT_P50,
               "m_p10", "m_p50", "m_p90", "b_p10", "b_p50", "b_p90", *SHRUNK_Q]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _outcomes(wide: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    keys = [*s.QUEUE_KEYS, s.DATE, s.HOUR]
    out = wide[keys].loc[wide.index.repeat(4)].reset_index(drop=True)
    truth = wide[s.WAIT_P50].to_numpy().repeat(4)
    return out.assign(**{s.WAIT: truth * rng.lognormal(0, 0.4, len(out))})


def test_a_better_shrunk_mean_serves_where_the_mean_serves_alone() -> None:
    wide = _wide({"good": 1.0, "bad": 40.0}, shrunk_noise=2.0)
    blend = choose_weights(wide)
    weights = dict(zip(blend.weights[s.OFFICE_ID], blend.weights["weight"], strict=True))
    assert weights == {"good": 1.0, "bad": 0.0}
    assert blend.shrunk == [WALK_IN]
    # the shares are those chosen against the plain mean, whatever the shrunk one does
    plain = choose_weights(wide.drop(columns=list(SHRUNK_Q)))
    assert plain.shrunk == []
    pd.testing.assert_frame_equal(blend.weights, plain.weights)
    # scored out of fold, the mean's queue is served the shrunk p50, the model's the model
    keys = [*s.QUEUE_KEYS, s.DATE, s.HOUR, ORIGIN]
    served = served_out_of_fold(wide, _outcomes(wide)).merge(wide, on=keys)
    bad = (served[s.OFFICE_ID] == "bad").to_numpy()
    assert len(served) == len(wide)
    np.testing.assert_allclose(served.loc[bad, s.P50], served.loc[bad, "s_p50"])
    np.testing.assert_allclose(served.loc[~bad, s.P50], served.loc[~bad, "m_p50"])


def test_a_shrunk_mean_evidently_worse_is_not_served_and_one_as_good_is() -> None:
    worse = choose_weights(_wide({"good": 1.0, "bad": 40.0}, shrunk_noise=8.0))
    assert worse.shrunk == []
    # as good on the hours (no evidence either way: the same error, on the other side of
    # the actual): the shrunk one, the less noisy where the weekdays do not differ, stays
    same = _wide({"good": 1.0, "bad": 40.0}, shrunk_noise=5.0)
    same[[s.WAIT_P50, "b_p50"]] = same[[s.WAIT_P50, "b_p50"]].round()  # exact sums
    same["s_p50"] = 2 * same[s.WAIT_P50] - same["b_p50"]
    assert choose_weights(same).shrunk == [WALK_IN]
    # ... and with no shrunk mean to choose (the spec does not build it), none
    same["s_p50"] = same["b_p50"]
    assert choose_weights(same).shrunk == []


def test_where_the_model_serves_everywhere_the_shrunk_mean_is_not_chosen() -> None:
    blend = choose_weights(_wide({"a": 1.0, "b": 1.0}, shrunk_noise=1.0))
    assert set(blend.weights["weight"]) == {1.0}
    assert blend.shrunk == []


def test_a_shrunk_mean_that_stopped_winning_on_the_latest_fold_is_not_served() -> None:
    wide = _wide({"bad": 40.0}, shrunk_noise=[1.0, 1.0, 9.0])
    blend = choose_weights(wide)
    assert blend.shrunk == []
    assert shrunk_channels(blend, _wide({"bad": 40.0}, shrunk_noise=[9.0, 1.0, 1.0])) == [WALK_IN]


def test_a_blend_mixes_the_model_with_the_plain_mean() -> None:
    blend = Blend(pd.DataFrame(columns=[*s.QUEUE_KEYS, "weight"]), shrunk=[WALK_IN])
    channels = np.array([WALK_IN, WALK_IN, WALK_IN, "appointment"])
    weight = np.array([0.0, 0.5, 1.0, 0.0])
    model, plain, shrunk = (np.full((4, 3), v) for v in (10.0, 20.0, 30.0))
    mixed = blend.mix(channels, weight, model, plain, shrunk)
    np.testing.assert_allclose(mixed[:, 1], [30.0, 15.0, 10.0, 20.0])
    np.testing.assert_allclose(blend.mix(channels, weight, model, plain)[:, 1], [20, 15, 10, 20])


def test_the_channels_served_shrunk_are_stored_and_read_back() -> None:
    wide = _wide({"good": 1.0, "bad": 40.0}, shrunk_noise=2.0)
    blend = choose_blend(wide, _outcomes(wide))
    again = Blend.from_dict(blend.to_dict())
    assert again.shrunk == blend.shrunk == [WALK_IN]
    older = {k: v for k, v in blend.to_dict().items() if k != "shrunk"}
    assert Blend.from_dict(older).shrunk == []


def test_the_plain_twin_reads_the_cell_with_the_same_fallbacks() -> None:
    spec = FeatureSpec(shrunk_cell=True)
    cells = {spec.cell(q): [10.0, np.nan] for q in (s.WAIT_P10, s.WAIT_P50, s.WAIT_P90)}
    X = pd.DataFrame({s.CHANNEL: [WALK_IN, WALK_IN], **cells, spec.cell_shrunk(): [14.0, np.nan]})
    y = pd.DataFrame({s.WAIT_P10: [2.0, 4.0], s.WAIT_P50: [6.0, 8.0], s.WAIT_P90: [12.0, 16.0]})
    served = HistoricalMean.served(spec).fit(X, y)
    plain = served.plain()
    assert served.predict(X)[0, 1] == 14.0 and plain.predict(X)[0, 1] == 10.0
    np.testing.assert_allclose(served.predict(X)[1], plain.predict(X)[1])  # fallbacks
    assert plain.fallbacks() == served.fallbacks()


def test_a_blend_takes_the_shrunk_mean_as_partner_when_it_is_the_better_one() -> None:
    # a model as noisy as the plain mean: the two blended half and half win
    wide = _wide({"mid": 5.0, "good": 1.0}, shrunk_noise=2.0)
    blend = choose_weights(wide)
    weights = dict(zip(blend.weights[s.OFFICE_ID], blend.weights["weight"], strict=True))
    assert 0.0 < weights["mid"] < 1.0 and weights["good"] == 1.0
    assert blend.partner == [WALK_IN]
    # the shares are those chosen against the plain mean; the option off keeps the plain
    alone = choose_weights(wide, partner=False)
    assert alone.partner == []
    pd.testing.assert_frame_equal(blend.weights, alone.weights)
    # scored out of fold, the blended queue mixes the model with the shrunk p50
    keys = [*s.QUEUE_KEYS, s.DATE, s.HOUR, ORIGIN]
    served = served_out_of_fold(wide, _outcomes(wide)).merge(wide, on=keys)
    mid = (served[s.OFFICE_ID] == "mid").to_numpy()
    w = served.loc[mid, "weight"]  # each fold's share, chosen on the other folds
    assert ((w > 0) & (w < 1)).all()
    expected = w * served.loc[mid, "m_p50"] + (1 - w) * served.loc[mid, "s_p50"]
    np.testing.assert_allclose(served.loc[mid, s.P50], expected)
    np.testing.assert_allclose(served.loc[~mid, s.P50], served.loc[~mid, "m_p50"])
    # ... and with the option off (a version trained before it), the plain one
    plain = served_out_of_fold(wide, _outcomes(wide), partner=False).merge(wide, on=keys)
    w = plain.loc[mid, "weight"]
    expected = w * plain.loc[mid, "m_p50"] + (1 - w) * plain.loc[mid, "b_p50"]
    np.testing.assert_allclose(plain.loc[mid, s.P50], expected)


def test_an_evidently_worse_shrunk_partner_or_one_that_lost_the_latest_fold_is_not_taken() -> None:
    assert choose_weights(_wide({"mid": 5.0}, shrunk_noise=9.0)).partner == []
    assert choose_weights(_wide({"mid": 5.0}, shrunk_noise=[1.0, 1.0, 12.0])).partner == []
    assert choose_weights(_wide({"mid": 5.0}, shrunk_noise=[12.0, 1.0, 1.0])).partner == [WALK_IN]


def test_the_partner_mixes_only_the_blended_rows_of_its_channels() -> None:
    blend = Blend(pd.DataFrame(columns=[*s.QUEUE_KEYS, "weight"]), partner=[WALK_IN])
    channels = np.array([WALK_IN, WALK_IN, WALK_IN, "appointment"])
    weight = np.array([0.0, 0.5, 1.0, 0.5])
    model, plain, shrunk = (np.full((4, 3), v) for v in (10.0, 20.0, 30.0))
    mixed = blend.mix(channels, weight, model, plain, shrunk)
    np.testing.assert_allclose(mixed[:, 1], [20.0, 20.0, 10.0, 15.0])
    assert blend.reads_shrunk and not Blend.model_only().reads_shrunk
    again = Blend.from_dict(blend.to_dict())
    assert again.partner == [WALK_IN]
    older = {k: v for k, v in blend.to_dict().items() if k != "shrunk_partner"}
    assert Blend.from_dict(older).partner == []


def test_a_partner_a_hair_behind_on_the_latest_fold_is_still_taken() -> None:
    # the shrunk mean is the plain one but for a little noise on the latest fold: behind
    # there by a hair, not by evidence — the incumbent stays (a one-fold coin toss)
    wide = _wide({"mid": 5.0}, shrunk_noise=5.0)
    latest = (wide[ORIGIN] == max(ORIGINS)).to_numpy()
    jitter = np.random.default_rng(3).normal(0, 0.3, latest.sum())
    wide["s_p50"] = wide["b_p50"]
    wide.loc[latest, "s_p50"] += jitter
    actual = wide[s.WAIT_P50]
    weight = choose_weights(wide).weight_of(wide)
    assert ((weight > 0) & (weight < 1)).all()
    model, rest = weight * wide["m_p50"], 1 - weight
    with_shrunk = (model + rest * wide["s_p50"] - actual).abs()
    behind = with_shrunk - (model + rest * wide["b_p50"] - actual).abs()
    assert behind[latest].mean() > 0
    assert choose_weights(wide).partner == [WALK_IN]
