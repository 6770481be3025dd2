"""The app as assembled: settings refuse unsafe defaults, offices, OpenAPI, logs, CORS."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from cli.main import main as cli_main
from serving import logging as serving_logging
from serving.app import create_app
from serving.routes import pages
from serving.settings import DEFAULT_ADMIN_TOKEN, Settings
from tests.serving.support import (
    MODEL_OFFICES,
    NOT_IN_MODEL,
    TOKEN,
    FakeClock,
    auth,
    settings_for,
)


@pytest.mark.parametrize("token", [None, DEFAULT_ADMIN_TOKEN, "short-token"])
def test_production_refuses_a_missing_default_or_short_token(token: str | None) -> None:
    with pytest.raises(ValidationError, match="WAITCAST_ADMIN_TOKEN"):
        Settings(env="production", admin_token=token)  # type: ignore[arg-type]


def test_development_allows_the_default_token_and_env_vars_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WAITCAST_ENV", "development")
    monkeypatch.setenv("WAITCAST_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("WAITCAST_HORIZON_DAYS", "90")
    monkeypatch.delenv("WAITCAST_ADMIN_TOKEN", raising=False)
    with pytest.warns(UserWarning, match="development"):
        settings = Settings()
    assert settings.token_bytes == DEFAULT_ADMIN_TOKEN.encode()
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.horizon_days == 90


def test_serve_refuses_to_start_without_a_token_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("WAITCAST_ENV", raising=False)
    monkeypatch.delenv("WAITCAST_ADMIN_TOKEN", raising=False)
    assert cli_main(["serve", "--port", "9"]) == 1
    err = capsys.readouterr().err
    assert "WAITCAST_ADMIN_TOKEN" in err and "Traceback" not in err


def test_offices_list_the_model_offices_with_forecast_flags(shared_client: TestClient) -> None:
    body = shared_client.get("/v1/offices").json()
    assert body["model_version"] == "v0001"
    ids = [o["office_id"] for o in body["offices"]]
    assert ids[0] == "hz-city" and len(ids) == 15
    assert all(o["id"] == o["office_id"] for o in body["offices"])  # deprecated alias
    available = {o["office_id"] for o in body["offices"] if o["forecast_available"]}
    assert available == set(MODEL_OFFICES)
    city = body["offices"][0]
    assert city["mode"] == "dual_track" and city["channels"] == ["walk_in", "appointment"]
    assert city["sessions"]["mon"][0] == {"open": "09:00", "close": "12:00"}
    assert city["sessions"]["sun"] == [] and city["timezone"] == "Asia/Shanghai"
    assert city["lat"] and city["lon"] and city["name_zh"] and city["name_en"]
    one = shared_client.get(f"/v1/offices/{NOT_IN_MODEL}").json()
    assert one["office_id"] == NOT_IN_MODEL
    assert one["mode"] == "walk_in_only" and one["forecast_available"] is False


def test_offices_answer_from_the_builtin_registry_before_a_model(
    tmp_path: Path, clock: FakeClock
) -> None:
    app = create_app(settings_for(tmp_path / "empty"), clock)
    with TestClient(app) as client:
        body = client.get("/v1/offices").json()
    assert body["model_version"] is None and len(body["offices"]) == 15
    assert not any(o["forecast_available"] for o in body["offices"])


def test_openapi_documents_every_route_with_models(shared_client: TestClient) -> None:
    spec = shared_client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/v1/offices",
        "/v1/offices/{office_id}/forecast",
        "/v1/offices/{office_id}/now",
        "/v1/offices/{office_id}/queue-state",
        "/v1/admin/reload",
        "/health/live",
        "/health/ready",
        "/metrics",
    ):
        assert path in paths, path
    forecast = paths["/v1/offices/{office_id}/forecast"]["get"]
    assert "ForecastResponse" in json.dumps(forecast["responses"]["200"])
    assert {"404", "422", "503"} <= set(forecast["responses"])
    assert "examples" in json.dumps(spec["components"]["schemas"]["QueueStateIn"])


def test_the_page_is_served_when_present_else_a_json_404(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "STATIC_DIR", tmp_path)
    missing = client.get("/")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    (tmp_path / "index.html").write_text("<!doctype html><title>waitcast</title>")
    page = client.get("/")
    assert page.status_code == 200 and "waitcast" in page.text
    assert page.headers["content-type"].startswith("text/html")


def test_request_ids_are_returned_and_a_safe_caller_id_is_kept(shared_client: TestClient) -> None:
    first, second = shared_client.get("/health/live"), shared_client.get("/health/live")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    kept = shared_client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    unsafe = shared_client.get("/health/live", headers={"X-Request-ID": 'a b"<script>'})
    assert unsafe.headers["x-request-id"] != 'a b"<script>'


def test_one_json_log_line_per_request_without_token_or_body(client: TestClient) -> None:
    stream = io.StringIO()
    handler = serving_logging.configure(stream=stream)
    try:
        client.get("/v1/offices/hz-city/forecast", params={"date": "2026-11-27"})
        client.put(
            "/v1/offices/hz-city/queue-state",
            headers=auth(),
            json={"waiting": {"walk_in": 3, "appointment": 1}, "windows_open": 2},
        )
        client.get("/no/such/route")
    finally:
        logging.getLogger("waitcast").removeHandler(handler)
    lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    access = [x for x in lines if x["logger"] == "waitcast.access"]
    assert [(x["method"], x["route"], x["status"]) for x in access] == [
        ("GET", "/v1/offices/{office_id}/forecast", 200),
        ("PUT", "/v1/offices/{office_id}/queue-state", 200),
        ("GET", "<unmatched>", 404),
    ]
    assert all(len(x["request_id"]) >= 8 and x["duration_ms"] >= 0 for x in access)
    text = stream.getvalue()
    assert TOKEN not in text and "Bearer" not in text and "walk_in" not in text


def test_cors_allows_only_the_configured_origins(base_registry: Path, clock: FakeClock) -> None:
    app = create_app(settings_for(base_registry, cors_origins=["https://booking.example"]), clock)
    with TestClient(app) as client:
        allowed = client.get("/v1/offices", headers={"Origin": "https://booking.example"})
        other = client.get("/v1/offices", headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://booking.example"
    assert "access-control-allow-origin" not in other.headers
