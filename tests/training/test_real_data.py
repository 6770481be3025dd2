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


@pytest.mark.slow
def test_three_weeks_of_maryland_train_and_beat_the_mean_on_the_fourth(tmp_path, capsys):
    """`waitcast train` on the observations before 29 November 2017 (three weeks), then
    `waitcast forecast` of the next week: every open hour with posts is forecast, and the
    p50 is closer to each hour's median posted wait than the mean of the same office,
    service, weekday and hour over those three weeks."""
    import json

    import pandas as pd

    from cli.main import main

    raw = pd.read_csv(real_data_path(MARYLAND), dtype=str)
    history = raw[raw["observed_at"] < "2017-11-29"]
    path = tmp_path / "md.csv"
    history.to_csv(path, index=False)
    registry = str(tmp_path / "reg")
    place = ["--country", "US", "--region", "MD", "--timezone", "America/New_York"]
    assert main(["train", str(path), "--registry", registry, *place]) == 0
    capsys.readouterr()
    argv = ["forecast", "--registry", registry, "--start", "2017-11-29", "--days", "7"]
    assert main([*argv, "--format", "json"]) == 0
    forecast = pd.DataFrame(json.loads(capsys.readouterr().out))
    posts = raw.assign(
        at=pd.to_datetime(raw["observed_at"].str[:19]),
        wait=pd.to_numeric(raw["wait_minutes"], errors="coerce"),
    ).dropna(subset=["wait"])
    posts = posts.assign(date=posts["at"].dt.date.astype(str), hour=posts["at"].dt.hour)
    keys = ["office_id", "service", "date", "hour"]
    hourly = posts.groupby(keys, as_index=False)["wait"].median()
    hourly["weekday"] = pd.to_datetime(hourly["date"]).dt.day_of_week
    past, test = hourly[hourly["date"] < "2017-11-29"], hourly[hourly["date"] >= "2017-11-29"]
    test = test[test["date"] <= "2017-12-05"]
    cell = ["office_id", "service", "weekday", "hour"]
    mean = past.groupby(cell, as_index=False)["wait"].mean().rename(columns={"wait": "hm"})
    scored = test.merge(mean, on=cell).merge(
        forecast[["office_id", "service", "date", "hour", "p50"]],
        on=keys,
        how="left",
    )
    assert scored["p50"].notna().all()  # no open hour with posts goes unforecast
    model = (scored["p50"] - scored["wait"]).abs().mean()
    baseline = (scored["hm"] - scored["wait"]).abs().mean()
    assert model < 0.95 * baseline
