"""``waitcast train`` tells its phases as they happen, also when its output is not a terminal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cli.main import main
from features.calendar_cn import default_calendar
from features.offices import OfficeRegistry, load_offices
from training.simulate import simulate

pytestmark = pytest.mark.usefixtures("small_training")  # the flow, not the model


def test_train_prints_each_phase_on_any_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    offices = load_offices()
    chosen = OfficeRegistry([offices.get("hz-linping")])
    end = dt.date(2025, 9, 14)
    log = simulate(chosen, default_calendar(), end - dt.timedelta(days=90), end, seed=3)
    data = tmp_path / "log.parquet"
    log.to_parquet(data)
    code = main(["train", str(data), "--registry", str(tmp_path / "registry"), "--origins", "2"])
    out, err = capsys.readouterr()
    assert code == 0 and err == "", err
    lines = out.splitlines()
    phases = [
        "train: reading the inputs",
        "train: preparing the hourly table",
        "train: final fit and up to 2 backtest folds, side by side",
        "train: backtest fold 1 of 2 done",
        "train: backtest fold 2 of 2 done",
        "train: saving the version",
    ]
    assert [line for line in lines if line.startswith("train: ")] == phases
    assert lines.index(phases[-1]) < next(i for i, x in enumerate(lines) if "version v0001" in x)
