"""The accuracy suite's ``--overrule``: the same trained forecaster served with the choice
overruled gives the model alone, the shrunk mean alone, or their average, per hour."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

from features import schema as s
from features.build import build_features
from features.spec import ORIGIN
from models.baselines import HistoricalMean
from tests.toy_data import FAST
from training.pipeline import fit_forecaster


def _bench() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "bench_accuracy.py"
    spec = importlib.util.spec_from_file_location("bench_accuracy", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_overruled_serves_the_model_the_shrunk_mean_or_half_of_each(data):
    bench = _bench()
    fit = fit_forecaster(data, FAST)
    forecaster = fit.forecaster
    # as training attaches the served mean after its backtest (training.backtest)
    baseline = HistoricalMean.served(forecaster.spec)
    forecaster.baseline = baseline.fit(fit.calibration_X, fit.calibration_y)
    origin = forecaster.origin
    served = {
        name: bench.overruled(forecaster, share).forecast(origin, 3)
        for name, share in bench.OVERRULED.items()
    }
    rows = served["model"][[*s.QUEUE_KEYS, s.DATE, s.HOUR]].assign(**{ORIGIN: origin})
    X = build_features(
        rows, forecaster.history, forecaster.calendars, forecaster.offices, forecaster.spec
    )
    model = forecaster.wait.predict(X)[:, 1]
    shrunk = forecaster.baseline.predict(X)[:, 1]
    plain = forecaster.baseline.plain().predict(X)[:, 1]
    assert np.abs(shrunk - plain).max() > 0.01  # the shrunk mean is not the plain one here
    assert np.abs(model - shrunk).max() > 0.01
    for name, expected in (("model", model), ("shrunk", shrunk), ("half", (model + shrunk) / 2)):
        got = served[name][s.P50].to_numpy(float)
        np.testing.assert_allclose(got, np.clip(expected, 0, None), rtol=1e-9, atol=1e-9)
