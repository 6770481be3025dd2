"""Live queue states: the token, strict validation, open hours, live vs forecast answers,
freshness, clearing, and the state store behind them."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient

from features.offices import OfficeRegistry
from models.forecaster import Forecaster
from serving.app import create_app
from serving.errors import StateStoreError
from serving.live import QueueState, live_wait
from tests.serving.support import (
    TODAY,
    WALK_IN_ONLY,
    FakeClock,
    at,
    auth,
    publish,
    settings_for,
)

STATE = {"waiting": {"walk_in": 20, "appointment": 4}, "windows_open": 6}


def put(
    client: TestClient,
    office: str = "hz-city",
    body: object = STATE,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return client.put(
        f"/v1/offices/{office}/queue-state",
        json=body,
        headers=auth() if headers is None else headers,
    )


def now(client: TestClient, office: str = "hz-city") -> dict:
    answer = client.get(f"/v1/offices/{office}/now")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_posting_needs_the_token(client: TestClient) -> None:
    missing = put(client, headers={})
    assert missing.status_code == 401 and missing.json()["error"] == "unauthorized"
    assert missing.headers["www-authenticate"] == "Bearer"
    basic = put(client, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401
    wrong = put(client, headers=auth("test-admin-token-0123456789abcdeX"))
    assert wrong.status_code == 403 and wrong.json()["error"] == "forbidden"
    assert put(client).status_code == 200


def test_a_fresh_state_answers_live_with_people_ahead(
    client: TestClient, clock: FakeClock, forecaster: object
) -> None:
    stored = put(client).json()
    assert stored["observed_at"] == at(TODAY, 10, 30).isoformat()
    assert stored["fresh_until"] == at(TODAY, 10, 45).isoformat()
    answer = now(client)
    assert answer["source"] == "live" and answer["closed"] is False
    minutes = answer["live"]["service_minutes"]
    assert minutes == forecaster.service_minutes["hz-city"]  # type: ignore[attr-defined]
    assert answer["live"]["windows_open"] == 6
    by_channel = {c["channel"]: c for c in answer["channels"]}
    walk_in, appointment = by_channel["walk_in"], by_channel["appointment"]
    assert walk_in["people_ahead"] == 24 and appointment["people_ahead"] == 4
    assert walk_in["p50"] == pytest.approx(24 * minutes / 6, abs=0.05)
    assert walk_in["p10"] < walk_in["p50"] < walk_in["p90"]
    assert appointment["p50"] < walk_in["p50"]


def test_a_stale_state_falls_back_to_this_hours_forecast(
    client: TestClient, clock: FakeClock
) -> None:
    put(client)
    clock.advance(minutes=15)
    assert now(client)["source"] == "live"  # exactly 15 minutes old: still fresh
    clock.advance(minutes=1)
    answer = now(client)
    assert answer["source"] == "forecast" and answer["live"] is None
    forecast = client.get("/v1/offices/hz-city/forecast", params={"date": str(TODAY)}).json()
    this_hour = [h for h in forecast["hours"] if h["hour"] == 10]
    assert [(c["channel"], c["p50"]) for c in answer["channels"]] == [
        (h["channel"], h["p50"]) for h in this_hour
    ]


def test_an_older_observation_never_replaces_a_newer_one(client: TestClient) -> None:
    newer = {**STATE, "observed_at": "2026-11-26T10:28:00+08:00"}
    assert put(client, body=newer).json()["observed_at"] == "2026-11-26T10:28:00+08:00"
    older = {
        "waiting": {"walk_in": 90, "appointment": 0},
        "windows_open": 2,
        "observed_at": "2026-11-26T02:25:00Z",
    }  # 10:25 in Hangzhou
    ack = put(client, body=older)
    assert ack.status_code == 200 and ack.json()["observed_at"] == "2026-11-26T10:28:00+08:00"
    assert now(client)["live"]["windows_open"] == 6


def test_a_state_is_shared_by_apps_on_the_same_store(
    base_registry: Path, clock: FakeClock, store_url: str
) -> None:
    """What one worker (or the process before a restart) stored, another answers from."""
    url = store_url
    with TestClient(create_app(settings_for(base_registry, state_url=url), clock)) as first:
        assert put(first).status_code == 200
    with TestClient(create_app(settings_for(base_registry, state_url=url), clock)) as second:
        answer = now(second)
    assert answer["source"] == "live" and answer["live"]["windows_open"] == 6


def test_now_reads_a_network_store_off_the_event_loop(
    base_registry: Path, clock: FakeClock, store_url: str
) -> None:
    """SQLite is read on the loop (microseconds); Redis, which may wait its timeout, not."""
    with TestClient(create_app(settings_for(base_registry, state_url=store_url), clock)) as c:
        assert put(c).status_code == 200
        store = c.app.state.serving.store  # type: ignore[attr-defined]
        read, on_loop = store.queue_state, []

        def queue_state(office_id: str) -> QueueState | None:
            try:
                asyncio.get_running_loop()
                on_loop.append(True)
            except RuntimeError:
                on_loop.append(False)
            return read(office_id)

        store.queue_state = queue_state
        assert now(c)["source"] == "live"
    assert on_loop == [store_url.startswith("sqlite")]


def test_when_closed_the_answer_says_when_it_opens(client: TestClient, clock: FakeClock) -> None:
    clock.at = at(TODAY, 12, 30)  # lunch break
    lunch = now(client)
    assert lunch["closed"] is True and lunch["channels"] == []
    assert lunch["next_opening"] == at(TODAY, 13, 30).isoformat()
    clock.at = at(dt.date(2026, 11, 27), 18, 0)  # Friday evening: next is Monday
    evening = now(client, WALK_IN_ONLY)
    assert evening["closed"] is True
    assert evening["next_opening"] == at(dt.date(2026, 11, 30), 9, 0).isoformat()


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"waiting": {"walk_in": -1, "appointment": 0}, "windows_open": 2}, "waiting.walk_in"),
        ({"waiting": {"walk_in": 10**9, "appointment": 0}, "windows_open": 2}, "waiting.walk_in"),
        ({"waiting": {"walk_in": 1}, "windows_open": 0}, "windows_open"),
        ({"waiting": {"walk_in": 1}, "windows_open": 501}, "windows_open"),
        ({"waiting": {"walk_in": "many"}, "windows_open": 1}, "waiting.walk_in"),
        ({"waiting": {"walk_in": 1}}, "windows_open"),
        ({"waiting": {"walk_in": 1}, "windows_open": 1, "name": "Zhang San"}, "name"),
        ({**STATE, "observed_at": "2026-11-26T12:00:00+08:00"}, "observed_at"),
        ({**STATE, "observed_at": "yesterday"}, "observed_at"),
        ([1, 2], "body"),
        # numbers only where numbers belong, and no number where a time belongs
        ({**STATE, "observed_at": 0}, "observed_at"),
        ({**STATE, "observed_at": 1795660200}, "observed_at"),
        ({**STATE, "observed_at": "1795660200"}, "observed_at"),
        ({"waiting": {"walk_in": "5"}, "windows_open": 1}, "waiting.walk_in"),
        ({"waiting": {"walk_in": 5.0}, "windows_open": 1}, "waiting.walk_in"),
        ({"waiting": {"walk_in": True}, "windows_open": 1}, "waiting.walk_in"),
        ({"waiting": {"walk_in": 1}, "windows_open": "3"}, "windows_open"),
        ({"waiting": {"walk_in": 1}, "windows_open": 2.5}, "windows_open"),
        # a time with an offset, at most a minute ahead, no older than the freshness window
        ({**STATE, "observed_at": "2026-11-26T10:25:00"}, "observed_at"),
        ({**STATE, "observed_at": "2026-11-26"}, "observed_at"),
        ({**STATE, "observed_at": "2026-11-26T10:31:30+08:00"}, "observed_at"),
        ({**STATE, "observed_at": "2026-11-26T10:14:59+08:00"}, "observed_at"),
        ({**STATE, "observed_at": "1970-01-01T00:00:00Z"}, "observed_at"),
        # no more windows than the office has (hz-city: 24)
        ({"waiting": {"walk_in": 1}, "windows_open": 25}, "windows_open"),
    ],
)
def test_bad_queue_states_are_422_naming_the_field(
    client: TestClient, body: object, names: str
) -> None:
    answer = put(client, body=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["message"].startswith(names), answer.text
    assert "Zhang San" not in answer.text
    assert now(client)["source"] == "forecast"  # nothing was stored


@pytest.mark.parametrize(
    "body",
    [
        {**STATE, "observed_at": "2026-11-26T10:31:00+08:00"},  # a minute ahead: clocks differ
        {**STATE, "observed_at": "2026-11-26T10:15:00+08:00"},  # exactly 15 minutes old
        {**STATE, "observed_at": "2026-11-26T02:20:00Z"},  # another offset, same moment rules
        {"waiting": {"walk_in": 1}, "windows_open": 24},  # every window of hz-city
    ],
)
def test_good_queue_states_at_the_limits_are_taken(client: TestClient, body: object) -> None:
    answer = put(client, body=body)
    assert answer.status_code == 200, answer.text


def test_the_errors_say_what_to_send(client: TestClient) -> None:
    def message(body: object, office: str = "hz-city") -> str:
        return str(put(client, office, body).json()["message"])

    assert "not a number" in message({**STATE, "observed_at": 0})
    assert "no UTC offset" in message({**STATE, "observed_at": "2026-11-26T10:25:00"})
    assert "more than a minute ahead" in message(
        {**STATE, "observed_at": "2026-11-26T10:35:00+08:00"}
    )
    assert "WAITCAST_LIVE_FRESH_MINUTES" in message(
        {**STATE, "observed_at": "2026-11-26T10:00:00+08:00"}
    )
    assert "25 is more than the 24 windows of office hz-city" in message(
        {"waiting": {"walk_in": 1}, "windows_open": 25}
    )


@pytest.mark.parametrize(
    ("moment", "why"),
    [
        (at(TODAY, 2, 29), "closed at 2026-11-26 02:29: {taken} (next opening 2026-11-26 09:00)"),
        (at(TODAY, 12, 30), "closed at 2026-11-26 12:30: {taken} (next opening 2026-11-26 13:30)"),
        (at(TODAY, 17, 0), "closed at 2026-11-26 17:00: {taken} (next opening 2026-11-27 09:00)"),
        (
            at(dt.date(2026, 11, 29), 10, 0),
            "closed at 2026-11-29 10:00: {taken} (next opening 2026-11-30 09:00)",
        ),
        (at(dt.date(2027, 1, 1), 10, 0), "closed at 2027-01-01 10:00 (New Year"),
    ],
)
def test_a_state_for_a_closed_office_hour_is_refused(
    client: TestClient, clock: FakeClock, moment: dt.datetime, why: str
) -> None:
    clock.at = moment
    answer = put(client)
    assert answer.status_code == 422, answer.text
    message = answer.json()["message"]
    why = why.format(taken="a queue state is taken only while it is open")
    assert message.startswith("observed_at: office hz-city is") and why in message, message
    reply = now(client)
    assert reply["source"] == "forecast" and reply["closed"] is True and reply["live"] is None


def test_now_ignores_a_fresh_state_once_the_office_closes(
    client: TestClient, clock: FakeClock
) -> None:
    clock.at = at(TODAY, 11, 55)
    assert put(client).status_code == 200
    assert now(client)["source"] == "live"
    clock.at = at(TODAY, 12, 5)  # 10 minutes later: fresh, but the lunch break has begun
    closed = now(client)
    assert closed["closed"] is True and closed["source"] == "forecast" and closed["live"] is None
    assert closed["next_opening"] == at(TODAY, 13, 30).isoformat()


def test_deleting_a_state_clears_it_with_the_token(client: TestClient) -> None:
    path = "/v1/offices/hz-city/queue-state"
    assert put(client).status_code == 200
    assert client.delete(path).status_code == 401
    assert client.delete(path, headers=auth("x" * 40)).status_code == 403
    assert now(client)["source"] == "live"
    cleared = client.delete(path, headers=auth())
    assert cleared.status_code == 200 and cleared.json() == {
        "office_id": "hz-city",
        "cleared": True,
    }
    assert now(client)["source"] == "forecast"
    again = client.delete(path, headers=auth())
    assert again.status_code == 200 and again.json()["cleared"] is False
    assert client.delete("/v1/offices/hz-nowhere/queue-state", headers=auth()).status_code == 404


def test_a_failing_store_leaves_now_on_the_forecast_and_refuses_posts(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert put(client).status_code == 200
    store = client.app.state.serving.store  # type: ignore[attr-defined]

    def broken(*_args: object) -> None:
        raise StateStoreError("the state store sqlite:////secret/path cannot be read: disk I/O")

    monkeypatch.setattr(store, "queue_state", broken)
    monkeypatch.setattr(store, "put_queue_state", broken)
    assert now(client)["source"] == "forecast"
    refused = put(client)
    assert refused.status_code == 503 and refused.json()["error"] == "state_store_unavailable"
    assert "/secret/path" not in refused.text


def test_walk_in_only_offices_take_no_appointment_counts(client: TestClient) -> None:
    answer = put(
        client, WALK_IN_ONLY, {"waiting": {"walk_in": 3, "appointment": 2}, "windows_open": 1}
    )
    assert answer.status_code == 422 and answer.json()["message"].startswith("waiting.appointment")
    assert put(client, "hz-nowhere").status_code == 404
    assert client.get("/v1/offices/hz-nowhere/now").status_code == 404


def test_live_wait_range_and_priorities() -> None:
    moment = at(TODAY, 10)
    state = QueueState({"walk_in": 10, "appointment": 0}, 2, moment, moment)
    wait = live_wait(state, "walk_in", 6.0)
    assert wait.people_ahead == 10 and wait.p50 == 30.0
    assert 0 <= wait.p10 < 30.0 < wait.p90
    empty = live_wait(
        QueueState({"walk_in": 0, "appointment": 0}, 3, moment, moment), "walk_in", 6.0
    )
    assert (empty.p10, empty.p50, empty.p90) == (0.0, 0.0, 0.0)


def test_a_method_the_path_lacks_names_both_it_has(client: TestClient) -> None:
    answer = client.request("POST", "/v1/offices/hz-city/queue-state", json={})
    assert answer.status_code == 405 and answer.headers["allow"] == "PUT, DELETE"
    assert answer.json()["message"].endswith("allowed: PUT, DELETE")


LOS_ANGELES = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def abroad_client(forecaster: Forecaster, tmp_path: Path) -> Iterator[tuple[TestClient, FakeClock]]:
    """The session's model with hz-city standing in California (an inferred office's
    country), served at a settable clock."""
    office = forecaster.offices.get("hz-city").model_copy(
        update={"country": "US", "region": "CA", "timezone": "America/Los_Angeles"}
    )
    others = [o for o in forecaster.offices if o.id != office.id]
    moved = dataclasses.replace(forecaster, offices=OfficeRegistry([office, *others]))
    publish(tmp_path / "registry", moved)
    clock = FakeClock(dt.datetime(2026, 10, 1, 10, 30, tzinfo=LOS_ANGELES))
    app = create_app(settings_for(tmp_path / "registry"), clock)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client, clock


def test_an_office_abroad_takes_states_on_its_own_calendar(
    abroad_client: tuple[TestClient, FakeClock],
) -> None:
    client, clock = abroad_client
    # China's National Day is a working Thursday in California: taken
    answer = put(client)
    assert answer.status_code == 200, answer.text
    # China's make-up working Sunday is a Sunday in California: refused as closed
    clock.at = dt.datetime(2026, 9, 20, 10, 30, tzinfo=LOS_ANGELES)
    refused = put(client)
    assert refused.status_code == 422, refused.text
    assert "office hz-city is closed" in refused.json()["message"]
    assert now(client)["closed"] is True
