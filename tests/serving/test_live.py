"""Live queue states: the token, validation, live vs forecast answers and freshness."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from fastapi.testclient import TestClient

from serving.live import QueueState, live_wait
from tests.serving.support import TODAY, WALK_IN_ONLY, FakeClock, at, auth

STATE = {"waiting": {"walk_in": 20, "appointment": 4}, "windows_open": 6}


def put(client: TestClient, office: str = "hz-city", body: object = STATE,
        headers: dict[str, str] | None = None) -> httpx.Response:
    return client.put(f"/v1/offices/{office}/queue-state", json=body,
                      headers=auth() if headers is None else headers)


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


def test_a_fresh_state_answers_live_with_people_ahead(client: TestClient, clock: FakeClock,
                                                      forecaster: object) -> None:
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


def test_a_stale_state_falls_back_to_this_hours_forecast(client: TestClient,
                                                         clock: FakeClock) -> None:
    put(client)
    clock.advance(minutes=15)
    assert now(client)["source"] == "live"  # exactly 15 minutes old: still fresh
    clock.advance(minutes=1)
    answer = now(client)
    assert answer["source"] == "forecast" and answer["live"] is None
    forecast = client.get("/v1/offices/hz-city/forecast", params={"date": str(TODAY)}).json()
    this_hour = [h for h in forecast["hours"] if h["hour"] == 10]
    assert [(c["channel"], c["p50"]) for c in answer["channels"]] == \
        [(h["channel"], h["p50"]) for h in this_hour]


def test_an_old_observation_is_stored_but_not_used(client: TestClient) -> None:
    old = {**STATE, "observed_at": "2026-11-26T10:00:00+08:00"}
    assert put(client, body=old).status_code == 200
    assert now(client)["source"] == "forecast"
    naive = {**STATE, "observed_at": "2026-11-26T10:25:00"}  # office time
    assert put(client, body=naive).json()["observed_at"] == "2026-11-26T10:25:00+08:00"
    assert now(client)["source"] == "live"


def test_when_closed_the_answer_says_when_it_opens(client: TestClient, clock: FakeClock) -> None:
    clock.at = at(TODAY, 12, 30)  # lunch break
    lunch = now(client)
    assert lunch["closed"] is True and lunch["channels"] == []
    assert lunch["next_opening"] == at(TODAY, 13, 30).isoformat()
    clock.at = at(dt.date(2026, 11, 27), 18, 0)  # Friday evening: next is Monday
    evening = now(client, WALK_IN_ONLY)
    assert evening["closed"] is True
    assert evening["next_opening"] == at(dt.date(2026, 11, 30), 9, 0).isoformat()


@pytest.mark.parametrize(("body", "names"), [
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
])
def test_bad_queue_states_are_422_naming_the_field(client: TestClient, body: object,
                                                   names: str) -> None:
    answer = put(client, body=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["message"].startswith(names)
    assert "Zhang San" not in answer.text


def test_walk_in_only_offices_take_no_appointment_counts(client: TestClient) -> None:
    answer = put(client, WALK_IN_ONLY, {"waiting": {"walk_in": 3, "appointment": 2},
                                        "windows_open": 1})
    assert answer.status_code == 422 and answer.json()["message"].startswith("waiting.appointment")
    assert put(client, "hz-nowhere").status_code == 404
    assert client.get("/v1/offices/hz-nowhere/now").status_code == 404


def test_live_wait_range_and_priorities() -> None:
    moment = at(TODAY, 10)
    state = QueueState({"walk_in": 10, "appointment": 0}, 2, moment, moment)
    wait = live_wait(state, "walk_in", 6.0)
    assert wait.people_ahead == 10 and wait.p50 == 30.0
    assert 0 <= wait.p10 < 30.0 < wait.p90
    empty = live_wait(QueueState({"walk_in": 0, "appointment": 0}, 3, moment, moment),
                      "walk_in", 6.0)
    assert (empty.p10, empty.p50, empty.p90) == (0.0, 0.0, 0.0)
