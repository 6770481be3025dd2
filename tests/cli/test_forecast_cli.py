"""``waitcast forecast`` refuses what the API refuses and names the holidays of closed days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cli import common
from cli.main import main
from tests.cli.conftest import TODAY

NATIONAL_DAY = dt.date(2025, 10, 1)


def run(capsys: pytest.CaptureFixture[str], registry: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["forecast", *argv, "--registry", str(registry), "--today", str(TODAY)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("--start", str(TODAY - dt.timedelta(days=1))), "--start: 2025-09-14 is in the past"),
        (("--start", str(TODAY + dt.timedelta(days=200))), "beyond the forecast horizon"),
        (("--start", str(TODAY), "--days", "200"), "--days"),
        (
            ("--start", str(TODAY), "--office", "hz-qiantang", "--channel", "appointment"),
            "--channel: office hz-qiantang is walk-in only",
        ),
        (("--start", str(TODAY), "--office", "hz-nowhere"), "hz-nowhere"),
        (("--start", "15/09/2025"), "--start: expected a date YYYY-MM-DD"),
    ],
)
def test_what_the_api_refuses_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], registry: Path, argv: tuple[str, ...], fragment: str
) -> None:
    code, out, err = run(capsys, registry, *argv)
    lines = err.strip().splitlines()
    assert code == 1 and out == "" and len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("error:") and fragment in lines[0], lines[0]


def test_closed_days_are_named_with_their_holiday(
    capsys: pytest.CaptureFixture[str], registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common.console, "width", 250)  # one line per row
    code, out, err = run(
        capsys,
        registry,
        "--start",
        str(NATIONAL_DAY),
        "--days",
        "1",
        "--office",
        "hz-city",
        "--format",
        "csv",
    )
    assert code == 0 and out.strip().count("\n") == 0  # the header only: nothing is open
    assert "closed: hz-city 2025-10-01 National Day 国庆节" in err
    code, out, _ = run(
        capsys,
        registry,
        "--start",
        str(NATIONAL_DAY - dt.timedelta(days=1)),
        "--days",
        "2",
        "--office",
        "hz-city",
    )
    assert code == 0 and "closed: National Day 国庆节" in out and "2025-09-30" in out
