"""``waitcast forecast`` answers the days its version stored from the stored forecasts,
without loading the models (nor importing LightGBM), and prints what the models print;
other days, and another calendar, take the models."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main
from features.calendar_cn import ChinaCalendar, default_calendar
from models.cube_store import STORED_DAYS
from models.registry import ModelRegistry
from models.stored import load_stored
from tests.cli.conftest import TODAY

ROOT = Path(__file__).resolve().parents[2]


def _printed(capsys: pytest.CaptureFixture[str], registry: Path, *argv: str) -> tuple[str, str]:
    code = main(["forecast", *argv, "--registry", str(registry), "--format", "csv"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out, captured.err


@pytest.mark.parametrize(
    "argv",
    [
        ("--start", str(TODAY), "--days", "14"),
        ("--start", str(TODAY + dt.timedelta(days=20)), "--days", "30", "--office", "hz-city"),
        ("--start", str(TODAY + dt.timedelta(days=3)), "--channel", "appointment"),
        ("--start", str(TODAY), "--office", "hz-qiantang", "--office", "hz-city"),
    ],
)
def test_stored_days_print_what_the_models_print(
    capsys: pytest.CaptureFixture[str], registry: Path, cube_registry: Path, argv: tuple[str, ...]
) -> None:
    stored = load_stored(ModelRegistry(cube_registry))
    start, days = dt.date.fromisoformat(argv[1]), 7
    assert stored.forecast(start, days) is not None  # the stored rows answer
    from_cube, closed = _printed(capsys, cube_registry, *argv)
    from_models, closed_too = _printed(capsys, registry, *argv)
    assert from_cube == from_models and closed == closed_too
    assert from_cube.count("\n") > 10


def test_days_past_the_stored_ones_take_the_models(
    capsys: pytest.CaptureFixture[str], registry: Path, cube_registry: Path
) -> None:
    stored = load_stored(ModelRegistry(cube_registry))
    start = stored.origin + dt.timedelta(days=STORED_DAYS - 3)
    assert stored.forecast(start, 3) is not None and stored.forecast(start, 4) is None
    argv = ("--start", str(start), "--days", "6", "--today", str(start))
    from_cube, _ = _printed(capsys, cube_registry, *argv)
    assert from_cube == _printed(capsys, registry, *argv)[0]
    past = stored.origin + dt.timedelta(days=STORED_DAYS)
    assert str(past) in from_cube or str(past + dt.timedelta(days=1)) in from_cube  # not stored


def _imports_lightgbm(registry: Path, start: dt.date) -> bool:
    script = (
        "import sys\nfrom cli.main import main\n"
        f"code = main(['forecast', '--registry', {str(registry)!r}, '--start', '{start}', "
        f"'--today', '{start}', '--format', 'json', '--out', '/dev/null'])\n"
        "print(code, 'lightgbm' in sys.modules, 'sklearn' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    code, lightgbm, sklearn = done.stdout.split()[-3:]
    assert code == "0", done.stderr
    return lightgbm == "True" or sklearn == "True"


def test_stored_days_load_no_model(cube_registry: Path) -> None:
    assert not _imports_lightgbm(cube_registry, TODAY)
    # ... while days past the stored ones do (the check can tell)
    assert _imports_lightgbm(cube_registry, TODAY + dt.timedelta(days=STORED_DAYS - 1))


def test_a_calendar_other_than_the_stored_one_takes_the_models(
    capsys: pytest.CaptureFixture[str],
    registry: Path,
    cube_registry: Path,
    tmp_path: Path,
) -> None:
    class Moved(ChinaCalendar):
        def day(self, date: dt.date):  # every day a working day: not what was stored
            return dataclasses.replace(super().day(date), working=True)

    assert load_stored(ModelRegistry(cube_registry), default_calendar()).cube is not None
    assert load_stored(ModelRegistry(cube_registry), Moved()).cube is None
    # an override file that makes a stored Sunday a make-up working day
    sunday = TODAY + dt.timedelta(days=6)
    override = tmp_path / "calendar.csv"
    override.write_text(f"date,kind,name\n{sunday},workday,make-up day\n")
    argv = ("--start", str(TODAY), "--calendar", str(override), "--office", "hz-city")
    from_cube, _ = _printed(capsys, cube_registry, *argv)
    assert from_cube == _printed(capsys, registry, *argv)[0]
    assert str(sunday) in from_cube  # forecast as the override says: open


def test_a_corrupted_stored_cube_is_refused_like_a_corrupted_model(
    capsys: pytest.CaptureFixture[str], cube_registry: Path, tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "registry"
    shutil.copytree(cube_registry, copy)
    cube = next(copy.glob("versions/*/cube.parquet"))
    cube.write_bytes(cube.read_bytes()[:-100])
    code = main(["forecast", "--registry", str(copy), "--start", str(TODAY)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "cube.parquet" in err or "checksum" in err, err
    assert json.loads((copy / "versions" / "v0001" / "manifest.json").read_text())
