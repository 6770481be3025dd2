"""The forecast cube stored with a version at training: loaded by the server, not recomputed,
answering byte for byte what a cube computed at load answers."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from features.calendar_cn import ChinaCalendar, default_calendar
from models.bundle import load_from_registry, save_bundle
from models.cube_store import CUBE_FILE, STORED_DAYS
from models.forecaster import Forecaster
from models.registry import ModelRegistry
from serving.cube import ForecastCube


def _publish(root: Path, forecaster: Forecaster, calendar: ChinaCalendar | None) -> Forecaster:
    registry = ModelRegistry(root)
    version = registry.publish(lambda folder: save_bundle(forecaster, folder, calendar), {})
    registry.promote(version)
    return load_from_registry(registry)


def test_a_stored_cube_answers_as_a_computed_one_without_forecasting(
    forecaster: Forecaster, tmp_path: Path
) -> None:
    calendar = default_calendar()
    stored = _publish(tmp_path / "with", forecaster, calendar)
    computed = _publish(tmp_path / "without", forecaster, None)
    assert (tmp_path / "with" / "versions" / "v0001" / CUBE_FILE).is_file()
    assert not (tmp_path / "without" / "versions" / "v0001" / CUBE_FILE).exists()
    start = forecaster.origin + dt.timedelta(days=3)
    fast = ForecastCube.build(stored, calendar, "v0001", start, 20)
    slow = ForecastCube.build(computed, calendar, "v0001", start, 20)
    assert fast.forecast_calls == 0 and slow.forecast_calls == 1
    for office in fast.offices:
        for offset in range(20):
            date = start + dt.timedelta(days=offset)
            a, b = fast.lookup(office, date), slow.lookup(office, date)
            assert a is not None and b is not None
            assert a.bodies == b.bodies and a.etags == b.etags and a.closed == b.closed
    beyond = forecaster.origin + dt.timedelta(days=STORED_DAYS - 1)
    assert fast.lookup(next(iter(fast.offices)), beyond) is not None  # still stored
    assert fast.forecast_calls == 0


def test_days_past_the_stored_cube_are_computed_at_load_as_before(
    forecaster: Forecaster, tmp_path: Path
) -> None:
    calendar = default_calendar()
    stored = _publish(tmp_path / "with", forecaster, calendar)
    start = forecaster.origin + dt.timedelta(days=STORED_DAYS - 5)
    cube = ForecastCube.build(stored, calendar, "v0001", start, 10)
    assert cube.forecast_calls == 1
    office = next(iter(cube.offices))
    assert all(cube.lookup(office, start + dt.timedelta(days=i)) for i in range(10))


def test_a_stored_cube_made_with_another_calendar_is_ignored(
    forecaster: Forecaster, tmp_path: Path
) -> None:
    calendar = default_calendar()
    stored = _publish(tmp_path / "with", forecaster, calendar)

    class Moved(ChinaCalendar):
        def day(self, date: dt.date):  # every day a working day: not what was stored
            return dataclasses.replace(super().day(date), working=True)

    cube = ForecastCube.build(stored, Moved(), "v0001", forecaster.origin, 5)
    assert cube.forecast_calls == 1
