"""Rolling-origin backtest of the model against the baselines, through one code path.

For each origin T (the last ``n_origins`` origins, ``horizon_days`` apart, ending at the
data end) the model is refitted on data before T — with its own calibration window
before T — and every estimator forecasts the hours of [T, T + horizon). Baselines read
the same feature matrix (see :mod:`models.baselines`).

Scores, per estimator, channel, office and horizon:

- ``mae_p50``: mean absolute error of p50 against the hour's actual median wait of the
  called tickets (or of the posted waits); ``mae_p50_expected`` against the *expected*
  median (the median over simulator replays) when given, beside the noise floor
  ``mae_expected_vs_actual``, and the expected median's own error ``expected_noise``
  (from two halves of the replays: the part of ``mae_p50_expected`` that no estimator
  can remove with this many replays);
- ``pinball``: mean pinball loss of p10, p50, p90 over individual outcomes;
- ``coverage``: share of individual outcomes inside [p10, p90] (target 80 %);
- ``under_share``: share of hours whose actual median is above p50.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from features import schema as s
from features.build import HORIZON, ORIGIN, build_features, training_targets
from features.calendar_cn import ChinaCalendar
from features.errors import UnusableInputError
from models.baselines import HistoricalMean, SeasonalNaive
from models.forecaster import Forecaster
from training.pipeline import TrainConfig, TrainingData, fit_forecaster

MODEL = "model"
HISTORICAL_MEAN = "historical_mean"
SEASONAL_NAIVE = "seasonal_naive"
ESTIMATORS = (MODEL, HISTORICAL_MEAN, SEASONAL_NAIVE)
BASELINES = (HISTORICAL_MEAN, SEASONAL_NAIVE)
EXPECTED = "expected_p50"
EXPECTED_NOISE = "expected_noise"
ESTIMATOR = "estimator"
QUANTILE_LEVELS = {s.P10: 0.1, s.P50: 0.5, s.P90: 0.9}


@dataclass
class BacktestResult:
    """Per-hour predictions of every estimator, per-outcome scores and the metrics."""

    origins: list[dt.date]
    horizon_days: int
    hours: pd.DataFrame  # one row per test hour × estimator
    outcomes: pd.DataFrame  # one row per test outcome × estimator
    metrics: dict[str, Any] = field(default_factory=dict)


def rolling_origins(
    start: dt.date, end: dt.date, n_origins: int, horizon_days: int
) -> list[dt.date]:
    """The last ``n_origins`` origins, ``horizon_days`` apart; the last window ends at ``end``."""
    origins = [end + dt.timedelta(days=1 - horizon_days * k) for k in range(n_origins, 0, -1)]
    return [o for o in origins if o > start]


def run_backtest(
    data: TrainingData,
    calendar: ChinaCalendar,
    config: TrainConfig,
    n_origins: int = 4,
    expected: pd.DataFrame | None = None,
    on_fold: Callable[[int, int], None] | None = None,
) -> BacktestResult:
    """Backtest at the last ``n_origins`` rolling origins."""
    result, _ = _run(data, calendar, config, n_origins, expected, on_fold, final_fit=False)
    return result


def backtest_and_fit(
    data: TrainingData,
    calendar: ChinaCalendar,
    config: TrainConfig,
    n_origins: int = 4,
    on_fold: Callable[[int, int], None] | None = None,
) -> tuple[BacktestResult, Forecaster]:
    """The backtest and the model fitted on all the data, as one batch of parallel jobs
    (the final fit runs beside the folds instead of after them)."""
    result, final = _run(data, calendar, config, n_origins, None, on_fold, final_fit=True)
    if final is None:  # pragma: no cover - the final job always returns a forecaster
        raise RuntimeError("the final fit returned nothing")
    return result, final


def _run(
    data: TrainingData,
    calendar: ChinaCalendar,
    config: TrainConfig,
    n_origins: int,
    expected: pd.DataFrame | None,
    on_fold: Callable[[int, int], None] | None,
    final_fit: bool,
) -> tuple[BacktestResult, Forecaster | None]:
    horizon = config.horizon_days
    origins = rolling_origins(data.start, data.end, n_origins, horizon)
    if not origins:
        raise UnusableInputError("the data are too short for one backtest origin")
    # The final fit (the longest job) goes first, so that it starts at once.
    jobs = [delayed(_final_fit)(data, calendar, config)] if final_fit else []
    jobs += [delayed(_fold)(data, calendar, config, origin) for origin in origins]
    hour_frames: list[pd.DataFrame] = []
    final: Forecaster | None = None
    runner = Parallel(n_jobs=min(config.parallel_folds, len(jobs)), return_as="generator")
    done = 0
    for output in runner(jobs):
        if isinstance(output, Forecaster):
            final = output
            continue
        hour_frames.extend(output)
        done += 1
        if on_fold:
            on_fold(done, len(origins))
    if not hour_frames:
        raise UnusableInputError("no hour with a measured wait in the backtest windows")
    hours = pd.concat(hour_frames, ignore_index=True)
    if expected is not None and not expected.empty:
        hours = hours.merge(expected, on=[*s.QUEUE_KEYS, s.DATE, s.HOUR], how="left")
    keys = [*s.QUEUE_KEYS, s.DATE, s.HOUR]
    outcomes = hours[[*keys, ORIGIN, ESTIMATOR, HORIZON, s.P10, s.P50, s.P90]].merge(
        data.outcomes, on=keys, how="inner"
    )
    result = BacktestResult(origins, horizon, hours, outcomes)
    result.metrics = compute_metrics(result)
    return result, final


def _final_fit(data: TrainingData, calendar: ChinaCalendar, config: TrainConfig) -> Forecaster:
    return fit_forecaster(data, calendar, config).forecaster


def _fold(
    data: TrainingData, calendar: ChinaCalendar, config: TrainConfig, origin: dt.date
) -> list[pd.DataFrame]:
    """Refit before ``origin`` and predict its window with the model and the baselines."""
    rows = training_targets(data.hourly, [origin], config.horizon_days, need_outcomes=True)
    if rows.empty:
        return []
    fit = fit_forecaster(data, calendar, config, until=origin)
    forecaster = fit.forecaster
    X = build_features(rows, data.hourly, calendar, data.offices, forecaster.spec, data.bookings)
    predictions = {MODEL: forecaster.wait.predict(X)}
    for name, baseline in ((HISTORICAL_MEAN, HistoricalMean()), (SEASONAL_NAIVE, SeasonalNaive())):
        baseline.set_params(cell_weeks=forecaster.spec.cell_weeks)
        predictions[name] = baseline.fit(fit.calibration_X, fit.calibration_y).predict(X)
    base = rows[[*s.QUEUE_KEYS, s.DATE, s.HOUR, ORIGIN, s.N_OUTCOMES, s.WAIT_P50]].assign(
        **{HORIZON: X[HORIZON].to_numpy()}
    )
    return [
        base.assign(**{ESTIMATOR: name, s.P10: q[:, 0], s.P50: q[:, 1], s.P90: q[:, 2]})
        for name, q in predictions.items()
    ]


def _pinball(y: np.ndarray, q: np.ndarray, level: float) -> np.ndarray:
    diff = y - q
    return np.maximum(level * diff, (level - 1) * diff)


def _hour_scores(hours: pd.DataFrame) -> pd.DataFrame:
    return hours.assign(
        abs_err=(hours[s.P50] - hours[s.WAIT_P50]).abs(),
        under=(hours[s.WAIT_P50] > hours[s.P50]).astype(float),
        **(
            {
                "abs_err_expected": (hours[s.P50] - hours[EXPECTED]).abs(),
                "noise_floor": (hours[EXPECTED] - hours[s.WAIT_P50]).abs(),
            }
            if EXPECTED in hours
            else {}
        ),
    )


def _outcome_scores(outcomes: pd.DataFrame) -> pd.DataFrame:
    y = outcomes[s.WAIT].to_numpy(float)
    loss = sum(_pinball(y, outcomes[c].to_numpy(float), lvl) for c, lvl in QUANTILE_LEVELS.items())
    inside = (y >= outcomes[s.P10].to_numpy() - 1e-9) & (y <= outcomes[s.P90].to_numpy() + 1e-9)
    return outcomes.assign(pinball=loss / 3, inside=inside.astype(float))


def _summaries(hours: pd.DataFrame, outcomes: pd.DataFrame, by: list[str]) -> dict[str, Any]:
    hour_cols = {"abs_err": "mae_p50", "under": "under_share"}
    if "abs_err_expected" in hours:
        hour_cols |= {
            "abs_err_expected": "mae_p50_expected",
            "noise_floor": "mae_expected_vs_actual",
        }
    if EXPECTED_NOISE in hours:
        hour_cols |= {EXPECTED_NOISE: EXPECTED_NOISE}
    h = hours.groupby(by)[list(hour_cols)].mean().rename(columns=hour_cols)
    h["n_hours"] = hours.groupby(by).size()
    o = outcomes.groupby(by)[["pinball", "inside"]].mean().rename(columns={"inside": "coverage"})
    o["n_outcomes"] = outcomes.groupby(by).size()
    table = h.join(o, how="outer")
    out: dict[str, Any] = {}
    for key, row in table.iterrows():
        parts = key if isinstance(key, tuple) else (key,)
        node = out
        for part in parts[:-1]:
            node = node.setdefault(str(part), {})
        node[str(parts[-1])] = {
            k: (None if pd.isna(v) else round(float(v), 4)) for k, v in row.items()
        }
    return out


def compute_metrics(result: BacktestResult) -> dict[str, Any]:
    """The metrics dictionary written to ``metrics.json`` and stored with a model."""
    hours = _hour_scores(result.hours)
    outcomes = _outcome_scores(result.outcomes)
    metrics: dict[str, Any] = {
        "origins": [o.isoformat() for o in result.origins],
        "horizon_days": result.horizon_days,
        "overall": _summaries(hours, outcomes, [ESTIMATOR]),
        "by_channel": _summaries(hours, outcomes, [s.CHANNEL, ESTIMATOR]),
        "by_office": _summaries(hours, outcomes, [s.OFFICE_ID, ESTIMATOR]),
        "by_horizon": _summaries(hours, outcomes, [ESTIMATOR, HORIZON]),
        "folds": _summaries(hours, outcomes, [ORIGIN, ESTIMATOR]),
    }
    metrics["ratios"] = _ratios(metrics)
    model = metrics["overall"].get(MODEL, {})
    metrics["summary"] = {
        k: model.get(k)
        for k in ("mae_p50", "coverage", "pinball", "under_share", "mae_p50_expected")
    }
    return metrics


def _ratios(metrics: dict[str, Any]) -> dict[str, Any]:
    """Model MAE over the better baseline's, per channel (and against expected waits)."""
    ratios: dict[str, Any] = {}
    for channel, by_est in metrics["by_channel"].items():
        entry = {}
        for key in ("mae_p50", "mae_p50_expected"):
            base = [by_est.get(b, {}).get(key) for b in BASELINES]
            base = [b for b in base if b]
            model = by_est.get(MODEL, {}).get(key)
            if model is not None and base:
                entry[f"{key}_ratio_to_best_baseline"] = round(model / min(base), 4)
        ratios[channel] = entry
    return ratios
