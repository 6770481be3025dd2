"""Real wait observations (Maryland MVA, Nov–Dec 2017): the model beats the historical mean.

Trained on the observations before 29 November 2017 and tested on the days after, as the
data's README describes. The file lives in the shared folder beside the project and is
not redistributed with it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from features.calendars import Calendars
from features.dataset import prepare_data
from features.read import read_inputs
from features.validate import validate
from tests.conftest import real_data_path
from training.backtest import run_backtest
from training.metrics import HISTORICAL_MEAN, MODEL
from training.pipeline import TrainConfig

MARYLAND = "maryland-mva-2017.csv.gz"


@pytest.fixture(scope="module")
def maryland(offices, calendar):
    [raw] = read_inputs([real_data_path(MARYLAND)])
    result = validate(raw, offices)
    assert result.rows_in == 254_041
    return prepare_data(None, result.accepted, offices, Calendars(calendar))


def test_model_beats_the_historical_mean_after_29_november(maryland, calendar):
    config = dataclasses.replace(TrainConfig(), horizon_days=8, parallel_folds=1)
    result = run_backtest(maryland, config, n_origins=1)
    assert result.origins == [dt.date(2017, 11, 29)]
    overall = result.metrics["overall"]
    assert overall[MODEL]["mae_p50"] < overall[HISTORICAL_MEAN]["mae_p50"]
    assert 0.7 <= overall[MODEL]["coverage"] <= 0.9
