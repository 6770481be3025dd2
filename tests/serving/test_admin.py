"""Hot reload: the token, the swap, and a bad version leaving the old one serving."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from models.forecaster import Forecaster
from models.registry import ModelRegistry
from serving.app import create_app
from serving.state import ServingState
from tests.serving.support import TODAY, FakeClock, auth, publish, settings_for

FORECAST = "/v1/offices/hz-city/forecast"


@pytest.fixture
def app_client(registry: Path, clock: FakeClock) -> Iterator[TestClient]:
    """An app on a private registry copy (v0001 current)."""
    with TestClient(
        create_app(settings_for(registry), clock), raise_server_exceptions=False
    ) as client:
        yield client


def state_of(client: TestClient) -> ServingState:
    state: ServingState = client.app.state.serving  # type: ignore[attr-defined]
    return state


def version_served(client: TestClient) -> str:
    answer = client.get(FORECAST, params={"date": str(TODAY)})
    assert answer.status_code == 200
    return str(answer.json()["model_version"])


def tamper(registry: Path, version: str, name: str = "wait_p50.txt") -> None:
    path = registry / "versions" / version / name
    os.chmod(path.parent, 0o755)
    os.chmod(path, 0o644)
    with path.open("a") as handle:
        handle.write("\n# changed\n")


def test_reload_needs_the_token(app_client: TestClient) -> None:
    assert app_client.post("/v1/admin/reload").status_code == 401
    assert app_client.post("/v1/admin/reload", headers=auth("x" * 40)).status_code == 403
    assert app_client.post("/v1/admin/reload", headers=auth()).status_code == 200


def test_reload_swaps_in_the_new_version(
    app_client: TestClient, registry: Path, forecaster: Forecaster
) -> None:
    before = app_client.get(FORECAST, params={"date": str(TODAY)})
    old_model = state_of(app_client).model
    new = publish(registry, forecaster)
    answer = app_client.post("/v1/admin/reload", headers=auth())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model_version"] == new == "v0002" and body["previous_version"] == "v0001"
    assert body["cube_build_seconds"] > 0 and body["cube_days"] == 60
    assert state_of(app_client).model is not old_model
    after = app_client.get(FORECAST, params={"date": str(TODAY)})
    assert after.json()["model_version"] == "v0002"
    assert after.headers["etag"] != before.headers["etag"]
    stale_etag = app_client.get(
        FORECAST, params={"date": str(TODAY)}, headers={"If-None-Match": before.headers["etag"]}
    )
    assert stale_etag.status_code == 200


def test_a_tampered_version_is_refused_and_the_old_one_keeps_serving(
    app_client: TestClient, registry: Path, forecaster: Forecaster
) -> None:
    bad = publish(registry, forecaster)
    tamper(registry, bad)
    answer = app_client.post("/v1/admin/reload", headers=auth())
    assert answer.status_code == 503
    body = answer.json()
    assert body["error"] == "model_integrity"
    assert "sha256" in body["message"] and "still serving v0001" in body["message"]
    assert str(registry) not in body["message"] and "Traceback" not in answer.text
    assert version_served(app_client) == "v0001"
    assert app_client.get("/health/ready").json()["model_version"] == "v0001"
    metrics = app_client.get("/metrics").text
    assert "waitcast_model_load_failures_total 1.0" in metrics


def test_a_missing_current_pointer_is_refused_too(app_client: TestClient, registry: Path) -> None:
    (registry / "CURRENT").write_text("garbage\n")
    answer = app_client.post("/v1/admin/reload", headers=auth())
    assert answer.status_code == 503 and answer.json()["error"] == "model_integrity"
    (registry / "CURRENT").unlink()
    answer = app_client.post("/v1/admin/reload", headers=auth())
    assert answer.status_code == 503 and answer.json()["error"] == "model_not_found"
    assert version_served(app_client) == "v0001"


def test_a_reload_while_one_runs_is_409(app_client: TestClient) -> None:
    lock = state_of(app_client)._reload_lock
    lock.acquire()
    try:
        answer = app_client.post("/v1/admin/reload", headers=auth())
    finally:
        lock.release()
    assert answer.status_code == 409 and answer.json()["error"] == "reload_in_progress"


def test_reload_from_an_empty_start_makes_the_server_ready(
    tmp_path: Path, clock: FakeClock, forecaster: Forecaster
) -> None:
    root = tmp_path / "registry"
    with TestClient(create_app(settings_for(root), clock)) as client:
        assert client.get("/health/ready").status_code == 503
        publish(root, forecaster)
        assert client.post("/v1/admin/reload", headers=auth()).status_code == 200
        assert client.get("/health/ready").status_code == 200
        assert ModelRegistry(root).current_version() == version_served(client)
        assert state_of(client).require_model().cube.start == TODAY
        assert state_of(client).require_model().data_end == TODAY - dt.timedelta(days=1)
