"""The served range's ceiling: the worst hour a queue has shown."""

from __future__ import annotations

import numpy as np

from features import schema as s
from features.spec import ORIGIN
from tests.toy_data import FAST
from training.pipeline import fit_forecaster


def test_a_served_range_never_reaches_above_the_worst_hour_the_queue_has_shown(data):
    """However wide a calibration makes a range (a change inside the calibration folds
    once made walk-in p90s of 30 hours), its p90 stays under the highest hourly p50 or
    p90 the queue had at that hour in the history the features read (or the p50)."""
    forecaster = fit_forecaster(data, FAST).forecaster
    huge = np.array([[1.0, 2.0, 1e6]])
    forecaster.wait_quantiles = lambda rows, X: (  # type: ignore[method-assign]
        np.repeat(huge, len(rows), axis=0),
        np.full(len(rows), "model", dtype=object),
    )
    out = forecaster.forecast(forecaster.origin, 3)
    history = forecaster.history
    worst = (
        history.assign(_w=history[[s.WAIT_P50, s.WAIT_P90]].max(axis=1))
        .groupby([s.OFFICE_ID, s.CHANNEL, s.HOUR], observed=True)["_w"]
        .max()
    )
    keys = list(zip(out[s.OFFICE_ID], out[s.CHANNEL], out[s.HOUR], strict=True))
    expected = np.array([worst.get(k, np.nan) for k in keys], dtype=float)
    seen = ~np.isnan(expected)
    assert seen.mean() > 0.9
    np.testing.assert_allclose(out.loc[seen, s.P90].to_numpy(float), expected[seen])
    assert (out[s.P90] < 1e6).all()
    # the p50 is the estimator's own: never moved by the ceiling
    assert (out[s.P50] == 2.0).all()


def test_the_ceiling_reads_the_history_it_serves_with(data):
    """The worst hours are built once per origin, at the first request; a forecaster given
    newer data (``with_history``) reads the new data's worst hours, not the old ones."""
    forecaster = fit_forecaster(data, FAST).forecaster
    rows = forecaster.queues.assign(
        **{s.DATE: forecaster.origin, s.HOUR: 10, ORIGIN: forecaster.origin}
    )
    before = forecaster.ceiling(rows)
    assert np.array_equal(forecaster.ceiling(rows), before)  # the second request: same
    worse = forecaster.history.assign(
        **{
            s.WAIT_P50: forecaster.history[s.WAIT_P50] * 10,
            s.WAIT_P90: forecaster.history[s.WAIT_P90] * 10,
        }
    )
    newer = forecaster.with_history(worse, forecaster.data_end)
    after = newer.ceiling(rows)
    finite = np.isfinite(before) & (before > 0)
    assert finite.any()
    np.testing.assert_allclose(after[finite], before[finite] * 10)
