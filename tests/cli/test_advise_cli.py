"""``waitcast advise`` through the real entry point, on a small model in a temporary registry."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from cli.main import main
from features.calendar_cn import default_calendar
from features.offices import load_offices
from tests.cli.conftest import MODEL_OFFICES, TODAY

CAL, OFFICES = default_calendar(), load_offices()


def run(capsys: pytest.CaptureFixture[str], registry: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["advise", *argv, "--registry", str(registry)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_advice_has_the_deadline_options_and_reasons(
    capsys: pytest.CaptureFixture[str], registry: Path
) -> None:
    travel = TODAY + dt.timedelta(days=25)
    code, out, err = run(
        capsys,
        registry,
        "--office",
        "hz-city",
        "--travel-date",
        str(travel),
        "--today",
        str(TODAY),
        "--format",
        "json",
    )
    assert code == 0, err
    body = json.loads(out)
    assert body["advice"] in {"book", "walk_in"} and body["model_version"] == "v0001"
    last = dt.date.fromisoformat(body["last_day_to_apply"])
    assert last < travel and body["issuing"]["days"] == 7
    assert body["appointment"]["source"] == "predicted"
    assert body["walk_in"] and {o["office_id"] for o in body["walk_in"]} <= set(MODEL_OFFICES)
    for option in body["walk_in"]:
        office, date = OFFICES.get(option["office_id"]), dt.date.fromisoformat(option["date"])
        assert option["hour"] in office.open_hours(office.sessions_for(CAL.day(date)))
        assert TODAY < date <= last
    assert all(r["zh"] and r["en"] for r in body["reasons"])
    assert last.isoformat() in body["reasons"][0]["en"]


def test_table_output_says_what_to_do_and_why(
    capsys: pytest.CaptureFixture[str], registry: Path
) -> None:
    code, out, err = run(
        capsys,
        registry,
        "--office",
        "hz-qiantang",
        "--today",
        str(TODAY),
        "--residency",
        "out_of_province",
        "--travel-date",
        str(TODAY + dt.timedelta(days=40)),
    )
    assert code == 0, err
    assert "advice: WALK IN" in out and "last day to apply:" in out
    assert "20 days" in out and "外省居民" in out and "即来即办" in out


def test_a_trip_too_soon_is_urgent_service(
    capsys: pytest.CaptureFixture[str], registry: Path
) -> None:
    code, out, _ = run(
        capsys,
        registry,
        "--office",
        "hz-shangcheng",
        "--today",
        str(TODAY),
        "--travel-date",
        str(TODAY + dt.timedelta(days=2)),
        "--expedited",
        "--format",
        "json",
    )
    assert code == 0 and json.loads(out)["advice"] == "urgent_service"


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("--office", "hz-nowhere"), "hz-nowhere"),
        (("--office", "hz-linan"), "hz-linan"),  # in the registry, not in the model
        (("--office", "hz-city", "--travel-date", "next week"), "--travel-date"),
        (
            ("--office", "hz-city", "--today", str(TODAY), "--travel-date", "2025-09-01"),
            "--travel-date",  # the core's travel_date, named as this command's flag
        ),
        (
            ("--office", "hz-city", "--today", str(TODAY), "--earliest-appointment", "2025-09-21"),
            "--earliest-appointment",
        ),  # a Sunday: closed
        (("--office", "hz-city", "--residency", "mars"), "--residency"),
    ],
)
def test_user_errors_exit_1_with_one_line_naming_what_to_fix(
    capsys: pytest.CaptureFixture[str], registry: Path, argv: tuple[str, ...], fragment: str
) -> None:
    code, _, err = run(capsys, registry, *argv)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("error:") and fragment in lines[0]


def test_no_model_is_a_one_line_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, tmp_path / "empty", "--office", "hz-city")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "waitcast train" in err


def test_help_lists_the_options(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # no truncated option names
    assert main(["advise", "--help"]) == 0
    out = capsys.readouterr().out
    for option in (
        "--office",
        "--travel-date",
        "--residency",
        "--expedited",
        "--earliest-appointment",
        "--today",
        "--format",
        "--registry",
    ):
        assert option in out
