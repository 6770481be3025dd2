"""`waitcast monitor`: served forecasts against the logs, the table, the plot, the switch."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from cli.main import main
from features import schema as s
from serving.statestore import open_store
from serving.statestore.served import ACCURACY, SWITCHES, ServedForecast
from serving.switches import switches_from_json
from store import queries
from store.duck import connect
from store.layout import Store
from tests.factories import write_table
from tests.toy_data import toy_tickets

LAST = dt.date(2025, 9, 3)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("monitor")
    path = write_table(toy_tickets(dt.date(2025, 6, 2), LAST), folder / "t.parquet")
    assert main(["ingest", str(path), "--store", str(folder / "st")]) == 0
    return folder / "st"


def hourly(store: Path) -> pd.DataFrame:
    opened = Store.open(store)
    return queries.hourly_tickets(connect("512MB"), opened.partition_files(s.InputKind.TICKETS))


def record(url: str, store: Path, first: dt.date, last: dt.date, off_by: float) -> None:
    """Served forecasts equal to the waits the logs show, except hz-xihu walk-in's."""
    table = hourly(store)
    table = table[(table[s.DATE] >= first) & (table[s.DATE] <= last)]
    records = []
    for row in table.itertuples(index=False):
        bad = row.office_id == "hz-xihu" and row.channel == "walk_in"
        p50 = float(row.wait_p50) + (off_by if bad else 0.0)
        records.append(
            ServedForecast(
                row.office_id,
                row.channel,
                row.service,
                row.date,
                int(row.hour),
                "v0001",
                "model",
                p50 / 2,
                p50,
                p50 * 3,
                p50,
            )
        )
    open_store(url).record_served(records)


def test_a_queue_worse_than_the_baseline_is_switched_and_back(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    url = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    argv = ["monitor", "--store", str(store), "--state-url", url, "--out", str(tmp_path / "m")]
    record(url, store, dt.date(2025, 8, 18), dt.date(2025, 8, 31), off_by=60.0)
    assert main([*argv, "--today", "2025-09-01"]) == 0
    out = capsys.readouterr().out
    assert "switched to the historical mean from 2025-09-01: hz-xihu walk_in general" in out
    assert "live accuracy, 2025-08-04..2025-08-31" in out
    xihu = next(line for line in out.splitlines() if "hz-xihu" in line and "walk_in" in line)
    assert "historical mean" in xihu
    switches = switches_from_json(open_store(url).document(SWITCHES))
    assert [w.queue for w in switches] == [("hz-xihu", "walk_in", "general")]
    assert switches[0].cells  # the values the workers will serve
    accuracy = open_store(url).document(ACCURACY)
    assert accuracy is not None
    figures = json.loads(accuracy)["figures"]
    city = next(f for f in figures if f["office_id"] == "hz-city" and f["window_days"] == 7)
    assert city["mae_served"] == 0.0 and city["ratio"] == 0.0
    assert (tmp_path / "m" / "monitor.png").stat().st_size > 10_000
    assert json.loads((tmp_path / "m" / "monitor.json").read_text())["on_historical_mean"]

    record(url, store, dt.date(2025, 9, 1), LAST, off_by=0.0)  # the model recovers
    assert main([*argv, "--today", "2025-09-04"]) == 0
    out = capsys.readouterr().out
    assert "switched back to the model from 2025-09-04: hz-xihu walk_in general" in out
    assert switches_from_json(open_store(url).document(SWITCHES)) == ()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--store", "{tmp}/nowhere"], "no store at"),
        (["--store", "{store}", "--days", "3"], "--days"),
        (["--store", "{store}", "--state-url", "mysql://x"], "--state-url"),
        (
            ["--store", "{store}", "--state-url", "sqlite:///{tmp}/empty.sqlite3"],
            "no served forecasts recorded",
        ),
    ],
)
def test_bad_input_is_one_line(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    argv = [a.format(tmp=tmp_path, store=store) for a in extra]
    assert main(["monitor", *argv, "--out", str(tmp_path / "m")]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
