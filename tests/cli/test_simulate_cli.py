"""``waitcast simulate`` through the real entry point: files, determinism, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cli.main import main
from features import schema as s
from features.offices import default_registry_text
from training.simulate import LOG_COLUMNS

SHORT = ("--start", "2023-06-05", "--end", "2023-06-09")


@pytest.fixture
def two_offices(tmp_path: Path) -> Path:
    """A registry file with one dual-track and one walk-in-only office."""
    records = json.loads(default_registry_text())["offices"]
    keep = [r for r in records if r["id"] in ("hz-westlake-scenic", "hz-tonglu")]
    path = tmp_path / "offices.json"
    path.write_text(json.dumps({"offices": keep}), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["simulate", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".csv.gz"])
def test_same_seed_writes_the_same_bytes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, two_offices: Path, suffix: str
) -> None:
    paths = [tmp_path / f"a{suffix}", tmp_path / "sub" / f"b{suffix}"]
    for path in paths:
        code, out, err = run(
            capsys, *SHORT, "--seed", "5", "--offices", str(two_offices), "--out", str(path)
        )
        assert code == 0, err
        assert out.count("\n") == 1 and "tickets" in out  # a one-line summary
    assert paths[0].read_bytes() == paths[1].read_bytes()
    other = tmp_path / f"c{suffix}"
    run(capsys, *SHORT, "--seed", "6", "--offices", str(two_offices), "--out", str(other))
    assert other.read_bytes() != paths[0].read_bytes()


def test_the_file_holds_the_ticket_log(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, two_offices: Path
) -> None:
    csv = tmp_path / "log.csv"
    parquet = tmp_path / "log.parquet"
    for path in (csv, parquet):
        code, out, _ = run(capsys, *SHORT, "--offices", str(two_offices), "--out", str(path))
        assert code == 0
    from_csv = pd.read_csv(csv)
    from_parquet = pd.read_parquet(parquet)
    assert tuple(from_csv.columns) == LOG_COLUMNS == tuple(from_parquet.columns)
    assert len(from_csv) == len(from_parquet) > 100
    assert f"{len(from_csv):,} tickets" in out
    assert set(from_csv[s.OFFICE_ID]) == {"hz-westlake-scenic", "hz-tonglu"}
    assert from_csv[s.ISSUED_AT].str.fullmatch(r"2023-06-0[5-9] \d\d:\d\d:\d\d").all()
    # the default warm-up rebuilds the 2023 backlog: bookings from a month before
    booked = pd.to_datetime(from_csv[s.BOOKED_AT].dropna())
    assert booked.min() < pd.Timestamp("2023-05-15")


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (("--start", "2023-02-30", "--end", "2023-03-01", "--out", "x.csv"), "--start"),
        (("--start", "2023-03-01", "--end", "soon", "--out", "x.csv"), "--end"),
        (("--start", "2023-03-02", "--end", "2023-03-01", "--out", "x.csv"), "--end"),
        (("--start", "2023-03-01", "--end", "2023-03-02", "--out", "x.xlsx"), "--out"),
        (("--start", "2023-03-01", "--end", "2023-03-02", "--out", "x"), "--out"),
    ],
)
def test_bad_options_exit_1_with_one_line_naming_the_option(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
    named: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv)
    assert code == 1
    assert err.strip().count("\n") == 0 and named in err
    assert "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing written


def test_an_unreadable_registry_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(
        capsys, *SHORT, "--offices", str(tmp_path / "none.json"), "--out", str(tmp_path / "x.csv")
    )
    assert code == 1 and "none.json" in err and "Traceback" not in err
