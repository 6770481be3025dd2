"""`waitcast train/evaluate --store DIR` and `--engine`: from the store, with one-line errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from cli.main import main
from tests.factories import write_table
from tests.toy_data import toy_tickets

pytestmark = pytest.mark.usefixtures("small_training")  # the flow, not the model


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("store-cli")
    tickets = toy_tickets(dt.date(2025, 6, 2), dt.date(2025, 8, 31))
    path = write_table(tickets, folder / "t.parquet")
    assert main(["ingest", str(path), "--store", str(folder / "st")]) == 0
    return folder / "st"


@pytest.mark.slow
def test_train_and_evaluate_read_the_store(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = tmp_path / "reg"
    argv = ["train", "--store", str(store), "--registry", str(registry), "--origins", "1"]
    assert main([*argv, "--memory-limit", "512MB"]) == 0
    assert "v0001: promoted" in capsys.readouterr().out
    version = registry / "versions" / "v0001"
    assert (version / "cube.parquet").is_file()  # the forecasts, computed at training
    metadata = json.loads((version / "metadata.json").read_text())
    assert "snapshot s000001" in metadata["data"]["files"][0]
    assert len(metadata["data"]["fingerprint_sha256"]) == 64
    out = tmp_path / "report"
    assert (
        main(
            [
                "evaluate",
                "--store",
                str(store),
                "--origins",
                "1",
                "--out",
                str(out),
                "--until",
                "2025-08-15",
            ]
        )
        == 0
    )
    assert json.loads((out / "metrics.json").read_text())["origins"] == ["2025-07-18"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--store", "{missing}"], "no store at"),
        (["--store", "{store}", "{store}"], "either input files or --store"),
        ([], "give input files or folders, or --store DIR"),
        (["--store", "{store}", "--workers", "2"], "--workers: is for --engine dask"),
        (
            [
                "--store",
                "{store}",
                "--engine",
                "dask",
                "--scheduler",
                "tcp://127.0.0.1:9",
                "--workers",
                "2",
            ],
            "give it or --scheduler",
        ),
        (["--store", "{store}", "--memory-limit", "plenty"], "--memory-limit"),
    ],
)
def test_wrong_store_or_engine_options_fail_in_one_line(
    store: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    args = [a.format(store=store, missing=tmp_path / "nowhere") for a in extra]
    assert main(["train", *args, "--registry", str(tmp_path / "reg")]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_big_stores_and_the_dask_engine_fit_one_fold_at_a_time() -> None:
    from cli.engine import SEQUENTIAL_FOLDS_ROWS, Engine, engine_config
    from training.pipeline import TrainConfig

    base = TrainConfig()
    assert engine_config(base, Engine.LOCAL, 1000) == base and base.parallel_folds == 2
    assert engine_config(base, Engine.LOCAL, SEQUENTIAL_FOLDS_ROWS + 1).parallel_folds == 1
    dask = engine_config(base, Engine.DASK)
    assert (dask.engine, dask.parallel_folds) == ("dask", 1)


@pytest.mark.slow
def test_forecast_reads_the_store_s_latest_data_with_the_current_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Trained on June–July; once August is ingested, `forecast --store` counts from
    August's last day of data and reads August's levels, without retraining."""
    tickets = toy_tickets(dt.date(2025, 6, 2), dt.date(2025, 8, 31))
    store, registry = str(tmp_path / "st"), str(tmp_path / "reg")
    july = tickets[tickets["issued_at"] < "2025-08-01"]
    assert main(["ingest", str(write_table(july, tmp_path / "a.parquet")), "--store", store]) == 0
    assert main(["train", "--store", store, "--registry", registry, "--origins", "1"]) == 0
    everything = write_table(tickets, tmp_path / "b.parquet")
    assert main(["ingest", str(everything), "--store", store]) == 0
    capsys.readouterr()

    def run(*extra: str) -> tuple[int, str, str]:
        code = main(["forecast", "--registry", registry, "--format", "json", *extra])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, _, err = run("--start", "2025-08-15", "--store", store)
    assert code == 1 and "in the past; the earliest date is 2025-08-3" in err  # August's end
    assert run("--start", "2025-08-15")[0] == 0  # the model alone still counts from August
    code, fresh, _ = run("--start", "2025-09-01", "--days", "2", "--store", store)
    assert code == 0
    code, stale, _ = run("--start", "2025-09-01", "--days", "2")
    assert code == 0
    fresh_rows, stale_rows = json.loads(fresh), json.loads(stale)
    assert len(fresh_rows) == len(stale_rows) > 0
    assert [r["p50"] for r in fresh_rows] != [r["p50"] for r in stale_rows]
