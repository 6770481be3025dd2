"""The bounded training set: a seeded sample above the limit, every row below it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from features.build import training_targets
from features.dataset import TrainingData
from tests.toy_data import FAST
from training.pipeline import fit_forecaster
from training.sampling import bounded_targets, cap_rows, sample_share

ORIGINS = [dt.date(2025, 7, 7) + dt.timedelta(days=7 * k) for k in range(8)]


def test_cap_rows_keeps_all_below_the_cap_and_a_repeatable_sample_above() -> None:
    rows = pd.DataFrame({"x": range(1000)})
    assert cap_rows(rows, 0, 0) is rows and cap_rows(rows, 5000, 0) is rows
    sample = cap_rows(rows, 100, 7)
    assert len(sample) == 100 and sample["x"].is_monotonic_increasing
    assert sample.equals(cap_rows(rows, 100, 7)) and not sample.equals(cap_rows(rows, 100, 8))


def test_below_the_limit_the_targets_are_all_there(data: TrainingData) -> None:
    full = training_targets(data.hourly, ORIGINS, 28)
    assert sample_share(data.hourly, ORIGINS, 28, len(full)) == 1.0
    pd.testing.assert_frame_equal(bounded_targets(data.hourly, ORIGINS, 28, len(full), 0), full)
    pd.testing.assert_frame_equal(bounded_targets(data.hourly, ORIGINS, 28, 0, 0), full)


def test_above_the_limit_a_seeded_sample_of_the_targets(data: TrainingData) -> None:
    full = training_targets(data.hourly, ORIGINS, 28)
    limit = len(full) // 5
    assert abs(sample_share(data.hourly, ORIGINS, 28, limit) - 0.2) < 0.01
    rows = bounded_targets(data.hourly, ORIGINS, 28, limit, 3)
    assert 0.8 * limit <= len(rows) <= limit
    assert rows.equals(bounded_targets(data.hourly, ORIGINS, 28, limit, 3))
    keys = ["office_id", "channel", "date", "hour", "origin"]
    assert len(rows.merge(full[keys], on=keys)) == len(rows)  # every one a real target row


def test_a_fit_over_the_limit_reads_only_the_sample(data: TrainingData, calendar) -> None:
    full = fit_forecaster(data, FAST).forecaster
    capped = fit_forecaster(data, dataclasses.replace(FAST, max_fit_rows=500))
    # fewer rows than min_data_in_leaf allows for the full set's splits: the trees differ
    assert full.wait.estimator_.to_texts() != capped.forecaster.wait.estimator_.to_texts()
