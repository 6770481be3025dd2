"""`waitcast retrain --store DIR --inbox DIR`: each export once, train, promote, exit codes."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from cli import retrain as retrain_module
from cli import train as train_module
from cli.main import main
from models.registry import ModelRegistry
from store.layout import Store
from tests.factories import write_table
from tests.toy_data import toy_tickets
from training.promotion import Decision

pytestmark = pytest.mark.usefixtures("small_training")  # the flow, not the model


def _argv(tmp_path: Path) -> list[str]:
    return [
        "retrain",
        "--store",
        str(tmp_path / "st"),
        "--inbox",
        str(tmp_path / "inbox"),
        "--registry",
        str(tmp_path / "reg"),
        "--origins",
        "1",
    ]


@pytest.mark.slow
def test_retrain_ingests_each_export_once_and_promotes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first = write_table(toy_tickets(dt.date(2025, 6, 2), dt.date(2025, 7, 20)), inbox / "a.parquet")
    assert main(_argv(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "v0001: promoted" in out
    assert ModelRegistry(tmp_path / "reg").current_version() == "v0001"

    # the same export again, and a copy under another name: skipped, said so, exit 3
    shutil.copy(first, inbox / "copy-of-a.parquet")
    assert main(_argv(tmp_path)) == retrain_module.NOTHING_NEW
    captured = capsys.readouterr()
    assert "skipped" in captured.out and captured.out.count("already ingested (same content") == 2
    assert "nothing new" in captured.err and "no training" in captured.err
    assert len(ModelRegistry(tmp_path / "reg").versions()) == 1

    # a new export that does not make a better model: trained, stored, not promoted, exit 2
    write_table(toy_tickets(dt.date(2025, 7, 21), dt.date(2025, 7, 27)), inbox / "b.parquet")
    monkeypatch.setattr(
        train_module,
        "decide",
        lambda new, current: Decision(
            False, "backtest MAE 9.0 min is worse than the current 8.0 min"
        ),
    )
    assert main(_argv(tmp_path)) == retrain_module.NOT_PROMOTED
    captured = capsys.readouterr()
    assert "version v0002 not promoted: backtest MAE 9.0 min is worse" in captured.err
    assert ModelRegistry(tmp_path / "reg").current_version() == "v0001"
    assert len(Store.open(tmp_path / "st").manifest()) == 2  # a.parquet and b.parquet


def test_retrain_refuses_a_bad_export_and_ingests_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_table(toy_tickets(dt.date(2025, 6, 2), dt.date(2025, 6, 8)), inbox / "good.parquet")
    (inbox / "bad.csv").write_text("name,passport\nZhang San,E12345678\n")
    assert main(_argv(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "bad.csv" in err and "Traceback" not in err and "E12345678" not in err
    assert not (tmp_path / "st" / "CURRENT").exists()  # nothing ingested
    assert ModelRegistry(tmp_path / "reg").current_version() is None


@pytest.mark.parametrize(
    ("make", "code", "message"),
    [
        (lambda p: None, 1, "--inbox"),  # no such folder
        (lambda p: p.mkdir(), retrain_module.NOTHING_NEW, "holds no export"),
        (
            lambda p: (p.mkdir(), (p / "README.txt").write_text("x")),
            retrain_module.NOTHING_NEW,
            "holds no export",
        ),
    ],
)
def test_retrain_with_an_empty_or_missing_inbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make, code: int, message: str
) -> None:
    make(tmp_path / "inbox")
    assert main(_argv(tmp_path)) == code
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
