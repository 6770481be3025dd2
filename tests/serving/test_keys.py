"""Partner keys: `waitcast keys add/list/revoke`, and their quotas on the HTTP API."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from cli.main import main
from serving import keys
from serving.app import create_app
from serving.errors import StateStoreError
from serving.statestore import default_state_url
from tests.serving.support import TODAY, FakeClock, at, auth, private_state_url, settings_for

OFFICES = "/v1/offices"
ANONYMOUS = {"rate_limit_per_minute": 30, "rate_limit_burst": 5}


def frozen() -> float:
    """The rate limits' clock, stopped: no bucket refills during a test."""
    return 1_795_000_000.0


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["keys", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def add(capsys: pytest.CaptureFixture[str], url: str, name: str, *more: str) -> str:
    code, out, err = run(capsys, "add", name, "--state-url", url, *more)
    assert code == 0, err
    return out.split()[-1]  # the key is the last word


def one_line_error(err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], err


@pytest.fixture
def url() -> str:
    return private_state_url()


@pytest.fixture
def limited(base_registry: Path, url: str) -> Iterator[TestClient]:
    """An app with a low per-address limit (30 a minute, 5 at once) on the store ``url``."""
    app = create_app(
        settings_for(base_registry, state_url=url, **ANONYMOUS),
        FakeClock(at(TODAY, 10, 30)),
        rate_clock=frozen,
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def statuses(client: TestClient, n: int, headers: dict[str, str] | None = None) -> list[int]:
    return [client.get(OFFICES, headers=headers).status_code for _ in range(n)]


def test_add_prints_the_key_once_as_the_last_word_and_stores_only_its_hash(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, out, err = run(capsys, "add", "booking-site", "--per-minute", "600", "--state-url", url)
    assert code == 0 and err == ""
    key = out.split()[-1]
    assert key.startswith(keys.KEY_PREFIX) and len(key) == len(keys.KEY_PREFIX) + 43
    assert "600 requests a minute, 100 at once" in " ".join(out.split())
    database = Path(url.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert key.encode() not in stored and keys.digest(key).encode() in stored
    code, listed, _ = run(capsys, "list", "--state-url", url)
    assert code == 0 and "booking-site" in listed and "600" in listed
    assert key not in listed and key[:8] in listed
    another = add(capsys, url, "travel-app")
    assert another != key


def test_list_json_revoke_and_a_name_freed_for_a_new_key(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    add(capsys, url, "booking-site")
    code, out, _ = run(capsys, "list", "--state-url", url, "--format", "json")
    assert code == 0 and '"per_minute": 12000' in out and '"revoked_at": null' in out
    code, out, _ = run(capsys, "revoke", "booking-site", "--state-url", url)
    assert code == 0 and "revoked key 'booking-site'" in out
    code, out, _ = run(capsys, "list", "--state-url", url)
    assert "booking-site" in out and "-" in out
    add(capsys, url, "booking-site")  # the name is free again


def test_keys_errors_are_one_line(capsys: pytest.CaptureFixture[str], url: str) -> None:
    add(capsys, url, "booking-site")
    code, _, err = run(capsys, "add", "booking-site", "--state-url", url)
    assert code == 1
    one_line_error(err, "a key named 'booking-site' exists", "waitcast keys revoke")
    code, _, err = run(capsys, "add", "no spaces please", "--state-url", url)
    assert code == 1
    one_line_error(err, "NAME", "letters, digits")
    code, _, err = run(capsys, "revoke", "nobody", "--state-url", url)
    assert code == 1
    one_line_error(err, "no active key named 'nobody'")
    code, _, err = run(capsys, "add", "x", "--per-minute", "0", "--state-url", url)
    assert code == 1 and "--per-minute" in err
    code, _, err = run(capsys, "list", "--state-url", "mysql://db/waitcast")
    assert code == 1
    one_line_error(err, "--state-url", "sqlite:///PATH or redis://HOST:PORT/DB")


def test_keys_default_to_the_store_beside_the_registry(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WAITCAST_STATE_URL", raising=False)
    registry = tmp_path / "registry"
    code, _, err = run(capsys, "add", "booking-site", "--registry", str(registry))
    assert code == 0, err
    assert (tmp_path / "registry-state.sqlite3").is_file()
    assert default_state_url(registry).endswith("registry-state.sqlite3")
    monkeypatch.setenv("WAITCAST_REGISTRY", str(registry))
    assert "booking-site" in run(capsys, "list")[1]


def test_keys_work_on_redis_too(capsys: pytest.CaptureFixture[str], redis_url: str) -> None:
    key = add(capsys, redis_url, "redis-partner")
    code, out, _ = run(capsys, "list", "--state-url", redis_url)
    assert code == 0 and "redis-partner" in out and key not in out
    assert run(capsys, "revoke", "redis-partner", "--state-url", redis_url)[0] == 0


@pytest.mark.parametrize("header", ["X-API-Key", "Authorization"])
def test_a_partner_gets_its_keys_quota_not_the_addresss(
    capsys: pytest.CaptureFixture[str], url: str, limited: TestClient, header: str
) -> None:
    key = add(capsys, url, "booking-site", "--per-minute", "600")  # 100 at once
    sent = {header: key if header == "X-API-Key" else f"Bearer {key}"}
    assert statuses(limited, 100, sent) == [200] * 100  # anonymous callers get 5 at once
    over = limited.get(OFFICES, headers=sent)
    assert over.status_code == 429 and over.json()["error"] == "rate_limited"
    assert "with the key 'booking-site' (at most 600 a minute)" in over.json()["message"]
    assert int(over.headers["retry-after"]) >= 1
    assert statuses(limited, 6) == [200] * 5 + [429]  # the address's bucket is its own


def test_unknown_and_revoked_keys_are_refused(
    capsys: pytest.CaptureFixture[str], url: str, limited: TestClient
) -> None:
    key = add(capsys, url, "booking-site")
    for sent in (
        {"X-API-Key": "wck_not-a-key"},
        {"X-API-Key": "guess"},
        {"Authorization": "Bearer wck_not-a-key"},
    ):
        answer = limited.get(OFFICES, headers=sent)
        assert answer.status_code == 401 and answer.json()["error"] == "unknown_api_key", sent
    assert limited.get(OFFICES, headers={"X-API-Key": key}).status_code == 200
    assert run(capsys, "revoke", "booking-site", "--state-url", url)[0] == 0
    revoked = limited.get(OFFICES, headers={"X-API-Key": key})
    assert revoked.status_code == 401 and "revoked" in revoked.json()["message"]
    assert limited.get("/health/ready", headers={"X-API-Key": key}).status_code == 200


def test_the_admin_token_is_no_partner_key(url: str, limited: TestClient) -> None:
    """The admin token passes to the admin routes and counts against the address."""
    assert limited.post("/v1/admin/reload", headers=auth()).status_code == 200
    assert statuses(limited, 5, auth()) == [200] * 4 + [429]


def test_limits_are_shared_by_every_app_on_the_store(base_registry: Path, store_url: str) -> None:
    """Two apps on one store, as two workers are: one bucket per address between them."""
    clock = FakeClock(at(TODAY, 10, 30))
    first, second = (
        create_app(
            settings_for(base_registry, state_url=store_url, **ANONYMOUS), clock, rate_clock=frozen
        )
        for _ in range(2)
    )
    with TestClient(first) as one, TestClient(second) as two:
        assert statuses(one, 3) + statuses(two, 3) == [200] * 5 + [429]


def test_a_failing_store_lets_requests_through(
    limited: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = limited.app.state.serving.store  # type: ignore[attr-defined]

    def broken(*_args: object) -> int:
        raise StateStoreError("the state store is down")

    monkeypatch.setattr(store, "take", broken)
    with caplog.at_level(logging.WARNING, "waitcast.serving"):
        assert statuses(limited, 20) == [200] * 20
    assert sum("rate limit not applied" in r.getMessage() for r in caplog.records) == 1


def test_keys_never_reach_the_log(
    capsys: pytest.CaptureFixture[str],
    url: str,
    limited: TestClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = add(capsys, url, "booking-site")
    with caplog.at_level(logging.DEBUG):
        limited.get(OFFICES, headers={"X-API-Key": key})
        limited.get(OFFICES, headers={"X-API-Key": key + "x"})
    assert key not in caplog.text


def test_without_a_limit_no_key_is_checked(base_registry: Path) -> None:
    app = create_app(settings_for(base_registry, rate_limit_per_minute=0))
    transport = httpx.ASGITransport(app=app)

    async def fetch() -> int:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return (await client.get(OFFICES, headers={"X-API-Key": "anything"})).status_code

    import asyncio

    assert asyncio.run(fetch()) == 200
