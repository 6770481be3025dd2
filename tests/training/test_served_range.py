"""The served range's ceiling: the worst hour a queue has shown."""

from __future__ import annotations

import numpy as np

from features import schema as s
from tests.toy_data import FAST
from training.pipeline import fit_forecaster


def test_a_served_range_never_reaches_above_the_worst_hour_the_queue_has_shown(data):
    """However wide a calibration makes a range (a change inside the calibration folds
    once made walk-in p90s of 30 hours), p10/p50/p90 stay under the highest hourly p90
    the queue had at that hour in the history the features read."""
    forecaster = fit_forecaster(data, FAST).forecaster
    huge = np.array([[1e5, 2e5, 1e6]])
    forecaster.wait_quantiles = lambda rows, X: (  # type: ignore[method-assign]
        np.repeat(huge, len(rows), axis=0),
        np.full(len(rows), "model", dtype=object),
    )
    out = forecaster.forecast(forecaster.origin, 3)
    history = forecaster.history
    worst = history.groupby([s.OFFICE_ID, s.CHANNEL, s.HOUR], observed=True)[s.WAIT_P90].max()
    keys = list(zip(out[s.OFFICE_ID], out[s.CHANNEL], out[s.HOUR], strict=True))
    expected = np.array([worst.get(k, np.nan) for k in keys], dtype=float)
    seen = ~np.isnan(expected)
    assert seen.mean() > 0.9
    np.testing.assert_allclose(out.loc[seen, s.P90].to_numpy(float), expected[seen])
    assert (out[s.P90] < 1e6).all() and (out[s.P50] <= out[s.P90]).all()
