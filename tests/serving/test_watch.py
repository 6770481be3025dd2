"""Each worker follows the registry's pointer and rolls its cube forward at midnight."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from models.forecaster import Forecaster
from models.registry import ModelRegistry
from serving.app import create_app
from serving.state import ServingState
from tests.serving.support import TODAY, FakeClock, at, publish, settings_for

TOMORROW = TODAY + dt.timedelta(days=1)


def state_of(client: TestClient) -> ServingState:
    state: ServingState = client.app.state.serving  # type: ignore[attr-defined]
    return state


def ready(client: TestClient) -> dict:
    answer = client.get("/health/ready")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def eventually(check: Callable[[], bool], seconds: float = 20.0) -> float:
    """Wait until ``check()`` holds; return how long it took."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, "not within the time allowed"
        time.sleep(0.02)
    return time.monotonic() - started


def tamper(registry: Path, version: str) -> None:
    path = registry / "versions" / version / "wait_p50.txt"
    os.chmod(path.parent, 0o755)
    os.chmod(path, 0o644)
    path.write_text(path.read_text() + "\n# changed\n")


@pytest.fixture
def manual(registry: Path, clock: FakeClock) -> Iterator[TestClient]:
    """An app whose refresh the test calls itself (no watch task)."""
    with TestClient(create_app(settings_for(registry), clock)) as client:
        yield client


def test_a_promotion_and_a_rollback_are_followed(
    manual: TestClient, registry: Path, forecaster: Forecaster
) -> None:
    state = state_of(manual)
    assert state.refresh() is None  # nothing new
    publish(registry, forecaster)
    assert state.refresh() == "reloaded"
    assert ready(manual)["model_version"] == "v0002"
    forecast = manual.get("/v1/offices/hz-city/forecast", params={"date": str(TODAY)})
    assert forecast.json()["model_version"] == "v0002"
    assert ModelRegistry(registry).rollback() == "v0001"
    assert state.refresh() == "reloaded"
    assert ready(manual)["model_version"] == "v0001"
    assert state.refresh() is None


def test_a_broken_promotion_is_tried_once_and_the_old_version_keeps_serving(
    manual: TestClient, registry: Path, forecaster: Forecaster
) -> None:
    state = state_of(manual)
    bad = publish(registry, forecaster)
    tamper(registry, bad)
    assert state.refresh() is None and state.reload_failures == 1
    assert state.refresh() is None and state.reload_failures == 1  # not again and again
    assert ready(manual)["model_version"] == "v0001"
    good = publish(registry, forecaster)
    assert state.refresh() == "reloaded" and ready(manual)["model_version"] == good


def test_the_watch_follows_a_promotion_by_itself(
    registry: Path, clock: FakeClock, forecaster: Forecaster
) -> None:
    settings = settings_for(registry, watch_seconds=0.05)
    with TestClient(create_app(settings, clock)) as client:
        assert ready(client)["model_version"] == "v0001"
        new = publish(registry, forecaster)
        eventually(lambda: ready(client)["model_version"] == new)


def test_the_cube_rolls_forward_at_midnight(manual: TestClient, clock: FakeClock) -> None:
    state = state_of(manual)
    clock.at = at(TODAY, 23, 59) + dt.timedelta(seconds=50)
    assert state.refresh() is None and ready(manual)["cube_start"] == str(TODAY)
    before = state.require_model()
    clock.advance(seconds=15)  # 00:00:05 the next day
    assert state.refresh() == "rolled"
    after = state.require_model()
    assert after.version == before.version and after.forecaster is before.forecaster
    assert after.cube.start == TOMORROW and after.cube.days == before.cube.days
    assert ready(manual)["cube_start"] == str(TOMORROW)
    last = TOMORROW + dt.timedelta(days=after.cube.days - 1)
    assert after.cube.lookup("hz-city", last) is not None  # precomputed, not on demand
    assert state.refresh() is None  # once a day
    past = manual.get("/v1/offices/hz-city/forecast", params={"date": str(TODAY)})
    assert past.status_code == 422


def test_no_roll_while_a_reload_runs(manual: TestClient, clock: FakeClock) -> None:
    state = state_of(manual)
    clock.at = at(TOMORROW, 0, 1)
    state._reload_lock.acquire()
    try:
        assert state.roll() is False
    finally:
        state._reload_lock.release()
    assert state.roll() is True


def test_the_watch_rolls_the_cube_by_itself(registry: Path) -> None:
    clock = FakeClock(at(TODAY, 23, 59) + dt.timedelta(seconds=59))
    with TestClient(create_app(settings_for(registry, watch_seconds=0.05), clock)) as client:
        assert ready(client)["cube_start"] == str(TODAY)
        clock.advance(seconds=2)
        eventually(lambda: ready(client)["cube_start"] == str(TOMORROW))


def test_a_roll_that_fails_keeps_the_old_cube_and_is_not_retried_all_day(
    manual: TestClient, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = state_of(manual)
    calls: list[dt.date] = []

    def broken(_forecaster: object, _version: str, start: dt.date) -> None:
        calls.append(start)
        raise RuntimeError("no memory left")

    monkeypatch.setattr(state, "_build_cube", broken)
    clock.at = at(TOMORROW, 0, 1)
    assert state.refresh() is None and state.refresh() is None
    assert calls == [TOMORROW] and state.require_model().cube.start == TODAY
    assert manual.get("/v1/offices/hz-city/now").status_code == 200  # still answering
