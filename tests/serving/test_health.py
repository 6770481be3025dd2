"""Liveness, readiness (503 before a model, stale flag) and Prometheus metrics."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from fastapi.testclient import TestClient

from serving.app import create_app
from tests.serving.support import TODAY, FakeClock, at, settings_for


def test_an_empty_registry_starts_but_is_not_ready(tmp_path: Path, clock: FakeClock) -> None:
    with TestClient(create_app(settings_for(tmp_path / "none"), clock)) as client:
        assert client.get("/health/live").json() == {"status": "alive"}
        ready = client.get("/health/ready")
        assert ready.status_code == 503 and ready.json()["error"] == "no_model"
        assert "no current model" in ready.json()["message"]
        for path in ("/v1/offices/hz-city/forecast?date=2026-11-27", "/v1/offices/hz-city/now"):
            answer = client.get(path)
            assert answer.status_code == 503 and answer.json()["error"] == "no_model", path
        assert "waitcast_model_loaded 0.0" in client.get("/metrics").text


def test_a_broken_registry_is_reported_without_server_paths(
    tmp_path: Path, clock: FakeClock
) -> None:
    not_a_folder = tmp_path / "registry-file"
    not_a_folder.write_text("oops")
    with TestClient(create_app(settings_for(not_a_folder), clock)) as client:
        ready = client.get("/health/ready")
    assert ready.status_code == 503 and "not a folder" in ready.json()["message"]
    assert str(tmp_path) not in ready.text


def test_a_corrupted_current_model_at_start_is_reported(registry: Path, clock: FakeClock) -> None:
    victim = registry / "versions" / "v0001" / "history.parquet"
    os.chmod(victim.parent, 0o755)
    os.chmod(victim, 0o644)
    victim.write_bytes(victim.read_bytes()[:100])  # truncated
    with TestClient(create_app(settings_for(registry), clock)) as client:
        ready = client.get("/health/ready")
    assert ready.status_code == 503 and "history.parquet" in ready.json()["message"]


def test_ready_with_a_fresh_model(client: TestClient) -> None:
    body = client.get("/health/ready").json()
    assert body == {
        "status": "ready",
        "model_version": "v0001",
        "data_end": "2026-11-25",
        "stale": False,
        "cube_start": "2026-11-26",
        "cube_days": 60,
    }


def test_a_model_older_than_14_days_is_stale(base_registry: Path) -> None:
    late = TODAY + dt.timedelta(days=14)  # data end = TODAY - 1: 15 days before
    with TestClient(create_app(settings_for(base_registry), FakeClock(at(late, 9)))) as client:
        ready = client.get("/health/ready")
        metrics = client.get("/metrics").text
    assert ready.status_code == 200
    assert ready.json()["status"] == "stale" and ready.json()["stale"] is True
    assert "waitcast_model_stale 1.0" in metrics
    assert "waitcast_model_data_age_days 15.0" in metrics
    on_time = TODAY + dt.timedelta(days=13)  # 14 days before: not yet stale
    with TestClient(create_app(settings_for(base_registry), FakeClock(at(on_time, 9)))) as c:
        assert c.get("/health/ready").json()["stale"] is False


def test_metrics_count_requests_per_route_template_and_show_the_model(client: TestClient) -> None:
    for offset in range(3):
        client.get(
            "/v1/offices/hz-city/forecast", params={"date": str(TODAY + dt.timedelta(days=offset))}
        )
    client.get("/v1/offices/hz-xihu/forecast", params={"date": str(TODAY)})
    for junk in range(5):
        client.get(f"/junk/{junk}")
    text = client.get("/metrics").text
    assert (
        'waitcast_http_requests_total{method="GET",'
        'route="/v1/offices/{office_id}/forecast",status="200"} 4.0'
    ) in text
    assert 'route="<unmatched>",status="404"} 5.0' in text
    assert "/junk/" not in text  # raw paths never become labels
    assert 'waitcast_http_request_duration_seconds_bucket{le="0.005",method="GET"' in text
    assert 'waitcast_model_info{data_end="2026-11-25",version="v0001"} 1.0' in text
    assert "waitcast_forecast_cube_build_seconds" in text
    assert "waitcast_model_stale 0.0" in text
