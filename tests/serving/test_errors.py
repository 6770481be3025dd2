"""Junk never gets a 500: every error is JSON {error, message}, without server details."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.cube import ForecastCube
from tests.serving.support import FakeClock, auth, settings_for

JUNK_PATHS = [  # (path, status)
    ("/v1/offices/hz-city/forecast/extra", 404),
    ("/v1/offices//forecast?date=2026-11-27", 404),
    ("/%00", 404),
    ("/v1/offices/%ff%fe/forecast?date=2026-11-27", 404),
    ("/v1/../../etc/passwd", 404),
    ("/" + "a" * 5000, 404),
    ("/v1/offices/" + "x" * 10_000 + "/forecast?date=2026-11-27", 404),
    ("/v1/offices/hz-city/forecast?date=2026-11-27&date=2026-11-28&channel=walk_in&channel=", 422),
    ("/v1/offices/hz-city/forecast?date=%00", 422),
    ("/v1/offices/hz-city/now?x=" + "y" * 3000, 200),
    ("/static/../serving/app.py", 404),
    ("/static/nothing.js", 404),
    ("/docs/../../etc/passwd", 404),
]


def assert_json_error(answer: httpx.Response, status: int | None = None) -> dict:
    assert answer.status_code < 500 or answer.status_code == 503, answer.text
    if status is not None:
        assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error", "message"} and body["error"] and body["message"]
    for leak in ("Traceback", 'File "', "/work/", "site-packages", "/tmp/"):
        assert leak not in answer.text
    return body


@pytest.fixture
def small_client(base_registry: Path, clock: FakeClock) -> Iterator[TestClient]:
    """A client with a 2 KiB body limit."""
    app = create_app(settings_for(base_registry, max_body_bytes=2048), clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize(("path", "status"), JUNK_PATHS)
def test_junk_paths_get_json_errors(shared_client: TestClient, path: str, status: int) -> None:
    answer = shared_client.get(path)
    assert answer.status_code == status
    if status != 200:
        assert len(assert_json_error(answer)["message"]) <= 300


def test_a_huge_office_id_is_a_404_that_does_not_echo_it(shared_client: TestClient) -> None:
    answer = shared_client.get("/v1/offices/" + "x" * 10_000 + "/now")
    assert assert_json_error(answer, 404)["error"] == "unknown_office"
    assert "x" * 100 not in answer.text


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b'{"waiting": {"walk_in": 1}, "windows_open": 1}', "text/plain"),
        (b"waiting=1", "application/x-www-form-urlencoded"),
        (b"null", "application/json"),
        (b'"a string"', "application/json"),
    ],
)
def test_bad_bodies_are_422_naming_the_body(
    shared_client: TestClient, content: bytes, content_type: str
) -> None:
    answer = shared_client.put(
        "/v1/offices/hz-city/queue-state",
        content=content,
        headers={**auth(), "Content-Type": content_type},
    )
    body = assert_json_error(answer, 422)
    assert body["message"].startswith("body")


def test_bodies_over_the_limit_are_413(small_client: TestClient) -> None:
    big = b'{"waiting": {"walk_in": 1}, "windows_open": 1, "pad": "' + b"x" * 4096 + b'"}'
    declared = small_client.put(
        "/v1/offices/hz-city/queue-state",
        content=big,
        headers={**auth(), "Content-Type": "application/json"},
    )
    assert assert_json_error(declared, 413)["error"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:
        yield big[:1500]
        yield big[1500:]

    streamed = small_client.put(
        "/v1/offices/hz-city/queue-state",
        content=chunks(),
        headers={**auth(), "Content-Type": "application/json"},
    )
    assert assert_json_error(streamed, 413)["error"] == "payload_too_large"


def test_wrong_methods_are_405_with_allow(shared_client: TestClient) -> None:
    answer = shared_client.delete("/v1/offices/hz-city/forecast?date=2026-11-27")
    assert assert_json_error(answer, 405)["error"] == "method_not_allowed"
    assert "GET" in answer.headers["allow"]
    assert shared_client.post("/v1/offices").status_code == 405
    assert shared_client.get("/v1/admin/reload").status_code == 405


def test_an_unexpected_failure_is_a_503_without_details(
    shared_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object) -> None:
        raise RuntimeError("secret internal detail at /work/main/serving/cube.py")

    monkeypatch.setattr(ForecastCube, "lookup", explode)
    answer = shared_client.get("/v1/offices/hz-city/forecast", params={"date": "2026-11-27"})
    body = assert_json_error(answer, 503)
    assert body["error"] == "unavailable" and "secret" not in answer.text
    assert answer.headers["x-request-id"] in body["message"]
    assert shared_client.get("/health/live").status_code == 200  # the server goes on


def test_odd_methods_and_headers(shared_client: TestClient) -> None:
    head = shared_client.head("/health/live")
    assert head.status_code in (200, 405)
    options = shared_client.options("/v1/offices")
    assert options.status_code == 405
    weird = shared_client.get(
        "/v1/offices/hz-city/forecast",
        params={"date": "2026-11-27"},
        headers={"If-None-Match": "\x7f" * 100, "Accept": "text/html"},
    )
    assert weird.status_code == 200
    latin = {"Authorization": "Bearer \u00e9t\u00e9".encode("latin-1")}
    assert shared_client.get("/v1/offices", headers=latin).status_code == 200
    bad_token = shared_client.post("/v1/admin/reload", headers=latin)
    assert assert_json_error(bad_token, 403)["error"] == "forbidden"
