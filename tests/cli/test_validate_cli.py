"""``waitcast validate`` through the real entry point: exit codes, output and written files."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from cli.main import main
from features import schema as s
from tests.factories import (
    PERSONAL_COLUMNS,
    observations,
    ticket_log,
    tickets_with_every_reason,
    with_personal_data,
    write_table,
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["validate", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_clean_input_exits_0_and_writes_report_and_rejects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_table(ticket_log(seed=1), tmp_path / "log.csv")
    code, out, err = run(capsys, str(path), "--out", str(tmp_path / "v"))
    assert code == 0, err
    assert "tickets" in out and f"{len(ticket_log(seed=1)):,}" in out
    report = json.loads((tmp_path / "v" / "report.json").read_text("utf-8"))
    assert report["usable"] is True
    [summary] = report["inputs"]
    assert summary["rows_in"] == summary["accepted"] == len(ticket_log(seed=1))
    assert summary["rejected"] == 0 and summary["files"] == [str(path)]
    assert pd.read_csv(tmp_path / "v" / "rejects-tickets.csv").empty


def test_too_many_rejects_exit_1_with_one_line_saying_how_to_override(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame, expected = tickets_with_every_reason()
    path = write_table(frame, tmp_path / "bad.csv")
    out_dir = tmp_path / "v"
    code, out, err = run(capsys, str(path), "--out", str(out_dir))
    assert code == 1
    assert "Traceback" not in out + err
    assert len(err.strip().splitlines()) == 1
    assert "8.40%" in err and "--max-reject-share" in err
    for reason in set(expected) - {""}:
        assert reason in out
    rejects = pd.read_csv(out_dir / "rejects-tickets.csv", dtype=str, keep_default_na=False)
    assert len(rejects) == sum(1 for r in expected if r)
    assert sorted(rejects[s.REJECT_REASON]) == sorted(r for r in expected if r)
    report = json.loads((out_dir / "report.json").read_text("utf-8"))
    assert report["usable"] is False
    assert report["inputs"][0]["counts_by_reason"]["unparsable_time"] == 3
    assert run(capsys, str(path), "--out", str(out_dir), "--max-reject-share", "0.1")[0] == 0
    assert run(capsys, str(path), "--out", str(out_dir), "--allow-rejects")[0] == 0


def test_personal_data_never_reaches_output_or_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame, _ = tickets_with_every_reason(seed=2)
    leaky = with_personal_data(frame, seed=2)
    path = write_table(leaky, tmp_path / "export.csv")
    code, out, err = run(capsys, str(path), "--out", str(tmp_path / "v"), "--allow-rejects")
    assert code == 0
    written = "".join(p.read_text("utf-8") for p in (tmp_path / "v").iterdir())
    assert "rejects-tickets.csv" in written  # the report names its rejects file
    for column in PERSONAL_COLUMNS:
        assert column not in written + out + err
        for value in leaky[column]:
            assert value not in written + out + err


def test_folder_with_both_kinds_writes_one_rejects_file_per_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_table(ticket_log(seed=3), tmp_path / "in" / "tickets.parquet")
    write_table(observations(days=1), tmp_path / "in" / "waits" / "obs.csv.gz")
    code, out, _ = run(capsys, str(tmp_path / "in"), "--out", str(tmp_path / "v"))
    assert code == 0
    assert "observations" in out
    assert (tmp_path / "v" / "rejects-tickets.csv").exists()
    assert (tmp_path / "v" / "rejects-observations.csv").exists()
    report = json.loads((tmp_path / "v" / "report.json").read_text("utf-8"))
    assert [i["kind"] for i in report["inputs"]] == ["tickets", "observations"]


def test_default_out_folder_is_validation_in_the_working_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_table(observations(days=1), tmp_path / "obs.csv")
    monkeypatch.chdir(tmp_path)
    assert run(capsys, str(path))[0] == 0
    assert (tmp_path / "validation" / "report.json").exists()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.csv", r"missing\.csv: no such file"),
        (
            lambda d: write_table(ticket_log().drop(columns=[s.ISSUED_AT]), d / "cut.csv"),
            r"cut\.csv.*issued_at",
        ),
        (lambda d: write_table(ticket_log().iloc[:0], d / "header.csv"), "no data rows"),
        (
            lambda d: write_table(ticket_log().assign(channel="fax"), d / "fax.csv"),
            "no usable rows",
        ),
    ],
)
def test_unusable_input_exits_1_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], Path],
    message: str,
) -> None:
    path = make(tmp_path)
    code, out, err = run(capsys, str(path), "--out", str(tmp_path / "v"))
    assert code == 1
    assert "Traceback" not in out + err
    assert len(err.strip().splitlines()) == 1
    assert re.search(message, err), err


def test_bad_limit_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_table(ticket_log(), tmp_path / "log.csv")
    code, _, err = run(capsys, str(path), "--max-reject-share", "2")
    assert code == 1 and "max-reject-share" in err


def test_help_names_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for option in ("--offices", "--out", "--max-reject-share", "--allow-rejects"):
        assert option in out
