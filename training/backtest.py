"""Rolling-origin backtest, the per-queue choice of estimator, and the final fit.

For each origin T (the last ``n`` origins, ``horizon`` days apart, ending at the data
end) the model is refitted on data before T — with its own calibration window before T —
and the model and the baselines forecast the hours of [T, T + horizon). Baselines read
the same feature matrix (see :mod:`models.baselines`). With a short history the backtest
shrinks (:func:`plan_origins`): fewer origins, a shorter horizon, down to none.

On the held-out hours :mod:`training.selection` chooses, per queue, the model, the
historical mean or a blend, and calibrates the served range; the served choice is scored
leave-one-fold-out (estimator ``served`` in the metrics). :func:`backtest_and_fit` runs the
folds and the final fit as one batch of parallel jobs and returns the forecaster that
serves the choice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from features import schema as s
from features.build import build_features, training_targets
from features.dataset import TrainingData
from features.events import latest_changes
from features.levels import LevelCache
from features.spec import HORIZON, MIN_CHANGE_DAYS, ORIGIN, FeatureSpec
from models.baselines import HistoricalMean, SeasonalNaive
from models.blend import POOLED, Blend
from models.forecaster import Forecaster
from training.metrics import (
    ESTIMATOR,
    EXPECTED,
    HISTORICAL_MEAN,
    MAE,
    MODEL,
    SEASONAL_NAIVE,
    SERVED,
    SHRUNK_MEAN,
    compute_metrics,
    empty_metrics,
)
from training.pipeline import (
    MIN_HISTORY_DAYS,
    FitResult,
    TrainConfig,
    fit_forecaster,
    shared_levels,
)
from training.selection import (
    BASE_Q,
    MODEL_Q,
    SHRUNK_Q,
    choose_blend,
    fit_offsets,
    mixed,
    served_out_of_fold,
    wide_hours,
)

MIN_TEST_DAYS = 3  # a backtest window shorter than this is no test
# A dated change younger than this (the served mean's cell) lets only the folds that began
# MIN_CHANGE_DAYS after it judge the model (see _before_young_change).
YOUNG_CHANGE_WEEKS = FeatureSpec().cell_weeks
FOLD_DAYS = 7  # at least this many test days per origin when history is short

OnFold = Callable[[int, int], None]


@dataclass
class BacktestResult:
    """Per-hour predictions of every estimator, per-outcome scores, metrics and the choice."""

    origins: list[dt.date]
    horizon_days: int
    hours: pd.DataFrame  # one row per test hour × estimator
    outcomes: pd.DataFrame  # one row per test outcome × estimator
    metrics: dict[str, Any] = field(default_factory=dict)
    blend: Blend = field(default_factory=Blend.model_only)


def rolling_origins(
    start: dt.date, end: dt.date, n_origins: int, horizon_days: int
) -> list[dt.date]:
    """The last ``n_origins`` origins, ``horizon_days`` apart; the last window ends at ``end``."""
    origins = [end + dt.timedelta(days=1 - horizon_days * k) for k in range(n_origins, 0, -1)]
    return [o for o in origins if o > start]


def plan_origins(data: TrainingData, n_origins: int, horizon_days: int) -> tuple[list, int]:
    """Backtest origins and horizon that the history allows.

    At most half of the history is tested, and the first fold keeps at least
    ``MIN_HISTORY_DAYS`` to train on; with less than ``MIN_TEST_DAYS`` to test there is no
    backtest (no origins).
    """
    span = data.span_days
    test_days = min(span // 2, span - MIN_HISTORY_DAYS)
    if test_days < MIN_TEST_DAYS:
        return [], 0
    n = min(n_origins, max(1, test_days // FOLD_DAYS))
    horizon = min(horizon_days, test_days // n)
    return rolling_origins(data.start, data.end, n, horizon), horizon


def run_backtest(
    data: TrainingData,
    config: TrainConfig,
    n_origins: int = 4,
    expected: pd.DataFrame | None = None,
    on_fold: OnFold | None = None,
) -> BacktestResult:
    """Backtest at up to ``n_origins`` rolling origins (see :func:`plan_origins`)."""
    result, _ = _run(data, config, n_origins, expected, on_fold, final_fit=False)
    return result


def backtest_and_fit(
    data: TrainingData,
    config: TrainConfig,
    n_origins: int = 4,
    on_fold: OnFold | None = None,
) -> tuple[BacktestResult, Forecaster]:
    """The backtest and the served forecaster fitted on all the data, as one batch of
    parallel jobs (the final fit runs beside the folds instead of after them)."""
    result, final = _run(data, config, n_origins, None, on_fold, final_fit=True)
    assert final is not None  # the final job always returns a fit
    forecaster = final.forecaster
    baseline = HistoricalMean.served(forecaster.spec)
    forecaster.baseline = baseline.fit(final.calibration_X, final.calibration_y)
    forecaster.blend = result.blend if result.origins else _baseline_only(final, baseline)
    return result, forecaster


def _baseline_only(fit: FitResult, baseline: HistoricalMean) -> Blend:
    """With no backtest the model cannot be judged: the historical mean serves, its range
    calibrated on the fit's calibration window."""
    blend = Blend(pd.DataFrame(columns=[*s.QUEUE_KEYS, "weight"]), {"*": 0.0})
    rows = fit.calibration_rows
    if rows.empty:
        return blend
    q = baseline.plain().predict(fit.calibration_X)  # no choice made: the plain mean serves
    wide = rows.assign(
        **{name: q[:, j] for names in (MODEL_Q, BASE_Q, SHRUNK_Q) for j, name in enumerate(names)}
    )
    calibrated = fit_offsets(blend, wide, fit.calibration_outcomes)
    calibrated.notes.append("no backtest (history too short): the historical mean serves")
    return calibrated


def _run(
    data: TrainingData,
    config: TrainConfig,
    n_origins: int,
    expected: pd.DataFrame | None,
    on_fold: OnFold | None,
    final_fit: bool,
) -> tuple[BacktestResult, FitResult | None]:
    origins, horizon = plan_origins(data, n_origins, config.horizon_days)
    untils: list[dt.date | None] = [None] if final_fit else []
    levels = shared_levels(data, config, [*untils, *origins])
    # The final fit (the longest job) goes first, so that it starts at once.
    jobs = [delayed(fit_forecaster)(data, config, levels=levels)] if final_fit else []
    jobs += [delayed(_fold)(data, config, origin, horizon, levels) for origin in origins]
    hour_frames: list[pd.DataFrame] = []
    final: FitResult | None = None
    runner = Parallel(n_jobs=max(1, min(config.parallel_folds, len(jobs))), return_as="generator")
    done = 0
    for output in runner(jobs):
        if isinstance(output, FitResult):
            final = output
            continue
        hour_frames.extend(output)
        done += 1
        if on_fold:
            on_fold(done, len(origins))
    if not hour_frames:
        note = "no backtest: the history is too short to hold out any days"
        empty = BacktestResult([], 0, pd.DataFrame(), pd.DataFrame(), empty_metrics(note))
        return empty, final
    hours = pd.concat(hour_frames, ignore_index=True)
    keys = [*s.QUEUE_KEYS, s.DATE, s.HOUR]
    unjudged = _before_young_change(hours, data)
    blend, served = _choose(hours, data.outcomes, unjudged, config.shrunk_partner)
    hours = pd.concat([hours, served], ignore_index=True)
    if expected is not None and not expected.empty:
        hours = hours.merge(expected, on=keys, how="left")
    outcomes = hours[[*keys, ORIGIN, ESTIMATOR, HORIZON, s.P10, s.P50, s.P90]].merge(
        data.outcomes, on=keys, how="inner"
    )
    result = BacktestResult(origins, horizon, hours, outcomes, blend=blend)
    result.metrics = compute_metrics(hours, outcomes, origins, horizon)
    result.metrics["choice"] = _choice_summary(blend)
    return result, final


def _before_young_change(hours: pd.DataFrame, data: TrainingData) -> pd.Series:
    """Per held-out hour, the start of the dated change it cannot judge (else NaT): the
    hour's fold began less than ``MIN_CHANGE_DAYS`` after a change of its office's
    country that is less than the cell's weeks before the forecast origin. Such a fold's
    model and mean had (next to) nothing of the new regime to read, and a model that wins
    there has not shown it can forecast it."""
    origin = data.end + dt.timedelta(days=1)
    starts = latest_changes(data.events, origin, 0, 7 * YOUNG_CHANGE_WEEKS)
    country = data.offices.countries()
    start = hours[s.OFFICE_ID].astype(str).map(lambda o: starts.get(country.get(o, "")))
    start = pd.to_datetime(start)
    settled = start + pd.Timedelta(days=MIN_CHANGE_DAYS)
    return start.where(pd.to_datetime(hours[ORIGIN]) < settled)


def _choose(
    hours: pd.DataFrame, outcomes: pd.DataFrame, unjudged: pd.Series, partner: bool = True
) -> tuple[Blend, pd.DataFrame]:
    """The served choice, and its leave-one-fold-out predictions as estimator ``served``;
    with ``partner``, blends may take the shrunk mean as the model's partner.

    Hours of folds before a young dated change (``unjudged``, see
    :func:`_before_young_change`) do not judge; a queue none of whose hours judge is
    served the historical mean (since the change). A channel whose served error is above
    the historical mean's falls back to it.
    """
    keys = [*s.QUEUE_KEYS, s.DATE, s.HOUR]
    out = wide_hours(hours[unjudged.notna()], MODEL, HISTORICAL_MEAN, ESTIMATOR, SHRUNK_MEAN)
    wide = wide_hours(hours[unjudged.isna()], MODEL, HISTORICAL_MEAN, ESTIMATOR, SHRUNK_MEAN)
    if wide.empty:
        blend, served = Blend(pd.DataFrame(columns=[*s.QUEUE_KEYS, "weight"]), {POOLED: 0.0}), None
    else:
        blend, served = _choose_judged(wide, outcomes, partner)
    if not out.empty:
        blend = _mean_for_unjudged(blend, wide, out, outcomes)
        for day in sorted(set(unjudged.dropna().dt.date)):
            blend.notes.append(
                f"a dated change on {day} is less than {YOUNG_CHANGE_WEEKS} weeks old: "
                f"only backtest folds that began {MIN_CHANGE_DAYS} days or more after it "
                "judge the model for its offices, and where none did the historical mean "
                "since the change serves"
            )
        weight = np.zeros(len(out))
        channels = out[s.CHANNEL].astype(str).to_numpy()
        q = blend.calibrate(mixed(out, weight, blend), channels, weight)
        by_mean = out[[*keys, ORIGIN, s.WAIT_P50]].assign(
            **{s.P10: q[:, 0], s.P50: q[:, 1], s.P90: q[:, 2], "weight": weight}
        )
        served = by_mean if served is None else pd.concat([served, by_mean], ignore_index=True)
    assert served is not None  # some hours judged, or some did not
    info = hours[hours[ESTIMATOR] == MODEL][[*keys, ORIGIN, HORIZON, s.N_OUTCOMES]]
    served = served.merge(info, on=[*keys, ORIGIN], how="left").assign(**{ESTIMATOR: SERVED})
    return blend, served.drop(columns=["weight"])


def _mean_for_unjudged(
    blend: Blend, judged: pd.DataFrame, unjudged: pd.DataFrame, outcomes: pd.DataFrame
) -> Blend:
    """The blend with the historical mean for every queue that has no judging hour (the
    range's offsets from all hours when no hour judged)."""
    queue = list(s.QUEUE_KEYS)
    have = judged[queue].astype(str).drop_duplicates()
    lack = unjudged[queue].astype(str).drop_duplicates().merge(have, how="left", indicator=True)
    lack = lack[lack["_merge"] == "left_only"][queue].assign(weight=0.0)
    weights = pd.concat([blend.weights.astype({k: str for k in queue}), lack], ignore_index=True)
    blend = dataclasses.replace(blend, weights=weights, notes=list(blend.notes))
    if judged.empty:
        keys = [*s.QUEUE_KEYS, s.DATE, s.HOUR]
        blend = fit_offsets(blend, unjudged, outcomes.merge(unjudged[keys], on=keys))
    return blend


def _choose_judged(
    wide: pd.DataFrame, outcomes: pd.DataFrame, partner: bool
) -> tuple[Blend, pd.DataFrame]:
    """The choice on the judging hours, and its leave-one-fold-out predictions."""
    keys = [*s.QUEUE_KEYS, s.DATE, s.HOUR]
    served = served_out_of_fold(wide, outcomes.merge(wide[keys], on=keys), partner=partner)
    channel = served[s.CHANNEL].astype(str)
    forced = []
    for name in sorted(channel.unique()):
        mine = served[channel == name]
        served_mae = float((mine[s.P50] - mine[s.WAIT_P50]).abs().mean())
        base = wide[wide[s.CHANNEL].astype(str) == name]
        base_mae = float((base["b_p50"] - base[s.WAIT_P50]).abs().mean())
        if served_mae > base_mae:
            forced.append(name)
    if forced:
        wide = wide.assign(m_p10=_force(wide, forced, "p10"), m_p50=_force(wide, forced, "p50"))
        wide = wide.assign(m_p90=_force(wide, forced, "p90"))
        served = served_out_of_fold(wide, outcomes.merge(wide[keys], on=keys), partner=partner)
    blend = choose_blend(wide, outcomes.merge(wide[keys], on=keys), partner=partner)
    for name in forced:
        blend.pooled[name] = 0.0
        mine = blend.weights[s.CHANNEL].astype(str) == name
        blend.weights.loc[mine, "weight"] = 0.0
        blend.notes.append(
            f"{name}: the model's held-out error is above the historical mean's, so the "
            "historical mean serves this channel (fallback)"
        )
    return blend, served


def _force(wide: pd.DataFrame, channels: list[str], q: str) -> np.ndarray:
    """The model's quantile column, replaced by the baseline's on forced channels."""
    forced = wide[s.CHANNEL].astype(str).isin(channels).to_numpy()
    return np.where(forced, wide[f"b_{q}"].to_numpy(), wide[f"m_{q}"].to_numpy())


def _choice_summary(blend: Blend) -> dict[str, Any]:
    weights = blend.weights.astype({s.CHANNEL: str})
    per_channel = {
        str(c): {f"{w:g}": int(n) for w, n in g["weight"].value_counts().sort_index().items()}
        for c, g in weights.groupby(s.CHANNEL)
    }
    return {
        "queues_by_model_share": per_channel,
        "pooled": blend.pooled,
        # channels whose mean, where it serves alone, is the shrunk one (selection)
        "shrunk_mean_alone": list(blend.shrunk),
        # channels whose blends mix the model with the shrunk mean (selection)
        "shrunk_partner": list(blend.partner),
        "notes": blend.notes,
    }


def _fold(
    data: TrainingData,
    config: TrainConfig,
    origin: dt.date,
    horizon: int,
    levels: LevelCache | None = None,
) -> list[pd.DataFrame]:
    """Refit before ``origin`` and predict its window with the model and the baselines."""
    rows = training_targets(data.hourly, [origin], horizon, need_outcomes=True)
    if rows.empty:
        return []
    fit = fit_forecaster(data, config, until=origin, waits_only=True, levels=levels)
    forecaster = fit.forecaster
    # No book of the coming weeks: the forecast is served without one (no input carries
    # it), so the held-out hours are judged as they will be served.
    spec = forecaster.spec
    X = build_features(rows, data.hourly, data.calendars, data.offices, spec, levels=levels)
    predictions = {MODEL: forecaster.wait.predict(X)}
    served = HistoricalMean.served(spec).fit(fit.calibration_X, fit.calibration_y)
    predictions[HISTORICAL_MEAN] = served.plain().predict(X)  # the model's judge and partner
    if served.shrunk_column:  # the mean alone, shrunk (where training chooses it)
        predictions[SHRUNK_MEAN] = served.predict(X)
    naive = SeasonalNaive(cell_weeks=spec.cell_weeks)
    predictions[SEASONAL_NAIVE] = naive.fit(fit.calibration_X, fit.calibration_y).predict(X)
    base = rows[[*s.QUEUE_KEYS, s.DATE, s.HOUR, ORIGIN, s.N_OUTCOMES, s.WAIT_P50]].assign(
        **{HORIZON: X[HORIZON].to_numpy()}
    )
    return [
        base.assign(**{ESTIMATOR: name, s.P10: q[:, 0], s.P50: q[:, 1], s.P90: q[:, 2]})
        for name, q in predictions.items()
    ]


__all__ = [
    "EXPECTED",
    "MAE",
    "BacktestResult",
    "backtest_and_fit",
    "plan_origins",
    "rolling_origins",
    "run_backtest",
]
