"""Security of the HTTP API: the admin token, CORS, body size, rate limit, no server details.

In-process (the ASGI app); ``test_faults.py`` repeats the header and body-size checks
against a real uvicorn server.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import serving.deps
from models.registry import ModelRegistry
from serving.app import create_app
from serving.cube import ForecastCube
from serving.logging import configure
from serving.state import ServingState
from tests.serving.support import TODAY, TOKEN, FakeClock, at, auth, settings_for

ALLOWED = "https://booking.example.cn"
FOREIGN = "https://evil.example.com"
LEAKS = re.compile(
    r"Traceback|File \"|/work/|/tmp/|site-packages|\.py\b|uvicorn|starlette|"
    r"fastapi|pydantic|python",
    re.IGNORECASE,
)


def assert_clean_error(answer: httpx.Response, status: int, code: str | None = None) -> None:
    """A JSON {error, message} answer with the status, without any server detail."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error", "message"} and body["message"]
    if code is not None:
        assert body["error"] == code, body
    assert not LEAKS.search(answer.text), answer.text
    for name, value in answer.headers.items():
        assert name.lower() not in ("server", "x-powered-by"), name
        assert not LEAKS.search(value), (name, value)


def client_for(registry: Path, **overrides: Any) -> TestClient:
    app = create_app(settings_for(registry, **overrides), FakeClock(at(TODAY, 10, 30)))
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def app_client(base_registry: Path) -> Iterator[TestClient]:
    """The app as deployed by default (rate limit on at its default), CORS for one origin."""
    with client_for(base_registry, cors_origins=[ALLOWED]) as client:
        yield client


# --- the admin token --------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "bearer "},
        {"X-Admin-Token": TOKEN},
    ],
)
def test_admin_routes_refuse_a_missing_token(
    app_client: TestClient, headers: dict[str, str]
) -> None:
    for method, path in (("POST", "/v1/admin/reload"), ("PUT", "/v1/offices/hz-city/queue-state")):
        answer = app_client.request(method, path, headers=headers, json={})
        assert_clean_error(answer, 401, "unauthorized")
        assert answer.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "token",
    ["", "x", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), TOKEN + "\u00e9", "\u00e9" * 40, TOKEN[::-1]],
)
def test_admin_routes_refuse_a_wrong_token(app_client: TestClient, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}".encode()}
    answer = app_client.post("/v1/admin/reload", headers=headers)
    assert answer.status_code in (401, 403)
    assert_clean_error(answer, answer.status_code)


def test_the_token_is_compared_in_constant_time(
    app_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = serving.deps.hmac.compare_digest

    def spy(given: bytes, expected: bytes) -> bool:
        calls.append((given, expected))
        return real(given, expected)

    monkeypatch.setattr(serving.deps.hmac, "compare_digest", spy)
    assert app_client.post("/v1/admin/reload", headers=auth("w" * 32)).status_code == 403
    assert app_client.post("/v1/admin/reload", headers=auth()).status_code == 200
    assert calls == [(b"w" * 32, TOKEN.encode()), (TOKEN.encode(), TOKEN.encode())]


def test_the_token_is_never_logged(registry: Path, caplog: pytest.LogCaptureFixture) -> None:
    stream = io.StringIO()
    handler = configure("DEBUG", stream)
    caplog.set_level(logging.DEBUG)
    try:
        with client_for(registry) as client:
            for token in (TOKEN, "wrong-" + TOKEN):
                client.post("/v1/admin/reload", headers=auth(token))
                client.put(
                    "/v1/offices/hz-city/queue-state",
                    headers=auth(token),
                    json={"waiting": {"walk_in": 3}, "windows_open": 2},
                )
                client.get(f"/v1/offices?token={token}", headers=auth(token))
            (registry / "CURRENT").write_text("garbage\n")  # a failing reload logs a warning
            assert client.post("/v1/admin/reload", headers=auth()).status_code == 503
    finally:
        logging.getLogger("waitcast").removeHandler(handler)
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    logs = stream.getvalue() + "\n".join(f"{r.name} {r.getMessage()}" for r in server)
    assert '"route": "/v1/admin/reload"' in logs and "model load failed" in logs
    assert TOKEN not in logs and TOKEN[:12] not in logs and "Bearer" not in logs


# --- CORS -------------------------------------------------------------------------------


def test_cors_answers_only_the_configured_origins(app_client: TestClient) -> None:
    path = "/v1/offices/hz-city/forecast?date=" + str(TODAY)
    allowed = app_client.get(path, headers={"Origin": ALLOWED})
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    foreign = app_client.get(path, headers={"Origin": FOREIGN})
    assert foreign.status_code == 200
    assert "access-control-allow-origin" not in foreign.headers
    preflight = {"Access-Control-Request-Method": "GET"}
    ok = app_client.options(path, headers={"Origin": ALLOWED, **preflight})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == ALLOWED
    refused = app_client.options(path, headers={"Origin": FOREIGN, **preflight})
    assert_clean_error(refused, 400, "cors_refused")
    assert "access-control-allow-origin" not in refused.headers


def test_without_configured_origins_no_origin_is_allowed(base_registry: Path) -> None:
    with client_for(base_registry) as client:
        answer = client.get("/v1/offices", headers={"Origin": ALLOWED})
        assert answer.status_code == 200
        assert not any(h.startswith("access-control-") for h in answer.headers)
        preflight = client.options(
            "/v1/offices", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "GET"}
        )
        assert_clean_error(preflight, 405, "method_not_allowed")


# --- body size ----------------------------------------------------------------------------


def _chunks(data: bytes, size: int = 700) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("path", ["/v1/advice", "/v1/offices/hz-city/queue-state"])
def test_bodies_over_the_limit_are_413_declared_or_chunked(base_registry: Path, path: str) -> None:
    big = b'{"office_id": "hz-city", "pad": "' + b"x" * 5000 + b'"}'
    headers = {**auth(), "Content-Type": "application/json"}
    method = "POST" if "advice" in path else "PUT"
    with client_for(base_registry, max_body_bytes=4096) as client:
        declared = client.request(method, path, content=big, headers=headers)
        assert_clean_error(declared, 413, "payload_too_large")
        chunked = client.request(method, path, content=_chunks(big), headers=headers)
        assert "content-length" not in chunked.request.headers
        assert chunked.request.headers["transfer-encoding"] == "chunked"
        assert_clean_error(chunked, 413, "payload_too_large")
        lying = client.request(
            method, path, content=b"{}", headers={**headers, "Content-Length": str(10**12)}
        )
        assert_clean_error(lying, 413, "payload_too_large")
        small = client.request(
            method, path, content=_chunks(b'{"office_id": "hz-city"}'), headers=headers
        )
        assert small.status_code in (200, 422)  # read whole, then judged on its content


# --- rate limit ----------------------------------------------------------------------------


def test_a_client_over_its_rate_gets_429_with_retry_after(base_registry: Path) -> None:
    with client_for(
        base_registry, rate_limit_per_minute=30, rate_limit_burst=5, cors_origins=[ALLOWED]
    ) as client:
        for _ in range(5):
            assert client.get("/v1/offices").status_code == 200
        limited = client.get("/v1/offices/hz-city/now", headers={"Origin": ALLOWED})
        assert_clean_error(limited, 429, "rate_limited")
        assert 1 <= int(limited.headers["retry-after"]) <= 2
        assert limited.headers["access-control-allow-origin"] == ALLOWED  # a page can read it
        assert client.post("/v1/admin/reload", headers=auth()).status_code == 429
        for path in ("/health/live", "/health/ready", "/metrics") * 20:
            assert client.get(path).status_code == 200, path
        metrics = client.get("/metrics").text
        assert re.search(
            r'waitcast_http_requests_total\{method="GET",route="[^"]+",'
            r'status="429"\} 1\.0',
            metrics,
        )
        assert re.search(r'method="POST",route="[^"]+",status="429"', metrics)


def test_the_limit_is_per_client(base_registry: Path) -> None:
    app = create_app(settings_for(base_registry, rate_limit_per_minute=60, rate_limit_burst=3))

    async def statuses(client_ip: str, n: int) -> list[int]:
        transport = httpx.ASGITransport(app=app, client=(client_ip, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [(await client.get("/v1/offices")).status_code for _ in range(n)]

    async def run() -> tuple[list[int], list[int]]:
        return await statuses("203.0.113.7", 5), await statuses("198.51.100.9", 3)

    first, second = asyncio.run(run())
    assert first == [200, 200, 200, 429, 429] and second == [200, 200, 200]


def test_the_default_limit_is_high_and_zero_turns_it_off(base_registry: Path) -> None:
    default = settings_for(base_registry)
    assert default.rate_limit_per_minute >= 600 and default.rate_limit_burst >= 100
    with client_for(base_registry, rate_limit_per_minute=0) as client:
        assert {client.get("/v1/offices").status_code for _ in range(300)} == {200}
        assert "429" not in str(client.get("/openapi.json").json()["paths"]["/v1/offices"])
    with client_for(base_registry) as client:
        paths = client.get("/openapi.json").json()["paths"]
        assert "429" in paths["/v1/offices"]["get"]["responses"]
        assert "429" not in paths["/health/ready"]["get"]["responses"]


# --- no server detail in any error -----------------------------------------------------------


def _explode(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("secret detail zq7 in /work/main/serving/cube.py, uvicorn 0.1")


@pytest.mark.parametrize(
    ("target", "name", "method", "path", "body"),
    [
        (ForecastCube, "lookup", "GET", f"/v1/offices/hz-city/forecast?date={TODAY}", None),
        (ForecastCube, "lookup", "GET", "/v1/offices/hz-city/now", None),  # what it reads
        (ForecastCube, "prepared", "GET", "/v1/best-times", None),  # what they read (issue 15)
        (ForecastCube, "prepared", "POST", "/v1/advice", {"office_id": "hz-city"}),
        (ServingState, "_load", "POST", "/v1/admin/reload", None),
        (ServingState, "office", "GET", "/v1/offices/hz-city", None),
        (ModelRegistry, "current_version", "POST", "/v1/admin/reload", None),
    ],
)
def test_forced_failures_answer_without_server_details(
    base_registry: Path,
    monkeypatch: pytest.MonkeyPatch,
    target: type,
    name: str,
    method: str,
    path: str,
    body: dict | None,
) -> None:
    with client_for(base_registry) as client:
        monkeypatch.setattr(target, name, _explode)
        answer = client.request(method, path, json=body, headers=auth())
        assert_clean_error(answer, 503)
        assert "secret" not in answer.text and "zq7" not in answer.text
        assert client.get("/health/live").status_code == 200


def test_every_kind_of_error_is_clean(app_client: TestClient) -> None:
    app: FastAPI = app_client.app  # type: ignore[assignment]
    assert app.openapi()["info"]["title"] == "waitcast"
    cases = [
        (app_client.get("/nowhere/../../etc/passwd"), 404),
        (app_client.get("/v1/offices/hz-nowhere/now"), 404),
        (app_client.delete("/v1/offices"), 405),
        (app_client.get("/v1/offices/hz-city/forecast?date=tomorrow"), 422),
        (
            app_client.post(
                "/v1/advice", content=b"\xff\xfe{", headers={"Content-Type": "application/json"}
            ),
            422,
        ),
        (app_client.post("/v1/advice", json={"office_id": "hz-city", "x": 1}), 422),
        (app_client.post("/v1/admin/reload"), 401),
        (app_client.post("/v1/admin/reload", headers=auth("nope" * 8)), 403),
    ]
    for answer, status in cases:
        assert_clean_error(answer, status)
