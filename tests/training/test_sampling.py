"""The bounded training set: a seeded uniform sample above the cap, every row below it."""

from __future__ import annotations

import dataclasses

import pandas as pd

from tests.toy_data import FAST
from training.pipeline import TrainingData, fit_forecaster
from training.sampling import cap_rows


def test_cap_rows_keeps_all_below_the_cap_and_a_repeatable_sample_above() -> None:
    rows = pd.DataFrame({"x": range(1000)})
    assert cap_rows(rows, 0, 0) is rows and cap_rows(rows, 5000, 0) is rows
    sample = cap_rows(rows, 100, 7)
    assert len(sample) == 100 and sample["x"].is_monotonic_increasing
    assert sample.equals(cap_rows(rows, 100, 7)) and not sample.equals(cap_rows(rows, 100, 8))


def test_a_fit_over_the_cap_reads_only_the_sample(data: TrainingData, calendar) -> None:
    full = fit_forecaster(data, calendar, FAST).forecaster
    capped = fit_forecaster(data, calendar, dataclasses.replace(FAST, max_fit_rows=500))
    assert full.wait.boosters_[1].num_trees() == capped.forecaster.wait.boosters_[1].num_trees()
    # fewer rows than min_data_in_leaf allows for the full set's splits: the trees differ
    assert full.wait.to_texts() != capped.forecaster.wait.to_texts()
