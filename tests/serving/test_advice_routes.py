"""`POST /v1/advice` and the best-times routes, on the session's small served model."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from cli.main import main
from features.calendar_cn import default_calendar
from features.offices import load_offices
from serving.schemas_advice import AdviceResponse, BestTimesResponse
from tests.serving.support import MODEL_OFFICES, NOT_IN_MODEL, TODAY, WALK_IN_ONLY

CAL, OFFICES = default_calendar(), load_offices()


def open_hour(office_id: str, date: dt.date, hour: int) -> bool:
    office = OFFICES.get(office_id)
    return hour in office.open_hours(office.sessions_for(CAL.day(date)))


def test_advice_answers_the_documented_shape_with_bilingual_reasons(client: TestClient) -> None:
    answer = client.post(
        "/v1/advice",
        json={"office_id": "hz-city", "travel_date": str(TODAY + dt.timedelta(days=30))},
    )
    assert answer.status_code == 200, answer.text
    body = AdviceResponse.model_validate(answer.json())
    assert body.model_version == "v0001" and body.today == TODAY
    assert body.advice.value in {"book", "walk_in", "urgent_service"}
    assert body.last_day_to_apply is not None and body.travel_date is not None
    assert body.last_day_to_apply < body.travel_date
    assert body.issuing.days == 7 and body.issuing.unit == "working_days"
    assert body.appointment is not None and body.reasons
    assert all(r.zh and r.en for r in body.reasons)
    assert body.last_day_to_apply.isoformat() in body.reasons[0].en
    for option in body.walk_in:
        assert option.office_id in MODEL_OFFICES and open_hour(
            option.office_id, option.date, option.hour
        )
        assert option.date <= body.last_day_to_apply
        # today's hours count from the clock's next hour on (the clock says 10:30)
        assert option.date > TODAY or option.hour >= 11


def test_walk_in_only_offices_get_walk_in_and_no_appointment(client: TestClient) -> None:
    body = client.post("/v1/advice", json={"office_id": WALK_IN_ONLY}).json()
    assert body["advice"] == "walk_in" and body["appointment"] is None and body["walk_in"]
    assert any("即来即办" in r["zh"] for r in body["reasons"])


def test_a_trip_too_soon_is_urgent_service(client: TestClient) -> None:
    body = client.post(
        "/v1/advice",
        json={
            "office_id": "hz-xihu",
            "travel_date": str(TODAY + dt.timedelta(days=3)),
            "residency": "out_of_province",
            "today": str(TODAY),
        },
    ).json()
    assert body["advice"] == "urgent_service" and body["document_ready"] is None
    assert body["issuing"] == {"rule": "out_of_province", "days": 20, "unit": "days"}


def test_the_earliest_slot_given_is_used(client: TestClient) -> None:
    slot = TODAY + dt.timedelta(days=1)  # a Friday
    body = client.post(
        "/v1/advice", json={"office_id": "hz-city", "earliest_appointment": str(slot)}
    ).json()
    assert body["appointment"]["source"] == "caller" and body["appointment"]["date"] == str(slot)
    assert body["appointment"]["wait"]["channel"] == "appointment"


def test_bad_advice_requests_are_named_422s_and_unknown_offices_404(client: TestClient) -> None:
    cases = {
        "travel_date": {"office_id": "hz-city", "travel_date": str(TODAY - dt.timedelta(days=1))},
        "residency": {"office_id": "hz-city", "residency": "mars"},
        "earliest_appointment": {"office_id": "hz-city", "earliest_appointment": "2026-11-29"},
        "today": {"office_id": "hz-city", "today": "2031-01-01"},
        "expedited": {"office_id": "hz-city", "expedited": "perhaps"},
        "surprise": {"office_id": "hz-city", "surprise": 1},
    }
    for name, body in cases.items():
        answer = client.post("/v1/advice", json=body)
        assert answer.status_code == 422, (name, answer.text)
        assert name in answer.json()["message"], (name, answer.json())
    for office_id in ("hz-nowhere", NOT_IN_MODEL):
        answer = client.post("/v1/advice", json={"office_id": office_id})
        assert answer.status_code == 404 and answer.json()["error"] == "unknown_office"
    assert client.post("/v1/advice", content=b"{not json").status_code == 422
    assert client.post("/v1/advice", json=[1, 2]).status_code == 422


def test_office_best_times_are_open_hours_near_best_first(client: TestClient) -> None:
    start, end = TODAY + dt.timedelta(days=1), TODAY + dt.timedelta(days=7)
    answer = client.get(
        "/v1/offices/hz-city/best-times", params={"from": str(start), "to": str(end), "limit": 6}
    )
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) >= {"from", "to", "times", "model_version", "channel"}
    body = BestTimesResponse.model_validate(answer.json())
    assert len(body.hours) == 6 and {t.office_id for t in body.hours} == {"hz-city"}
    assert all(
        t.channel.value == "walk_in"
        and open_hour("hz-city", t.date, t.hour)
        and start <= t.date <= end
        for t in body.hours
    )
    flags = [t.near_best for t in body.hours]
    assert flags == sorted(flags, reverse=True) and flags[0]
    booked = client.get(
        "/v1/offices/hz-city/best-times", params={"from": str(start), "channel": "appointment"}
    ).json()
    assert {t["channel"] for t in booked["hours"]} == {"appointment"}


def test_best_times_across_offices_nearest_first_among_equals(client: TestClient) -> None:
    xihu = OFFICES.get("hz-xihu")
    answer = client.get("/v1/best-times", params={"near": f"{xihu.lat},{xihu.lon}", "limit": 50})
    assert answer.status_code == 200, answer.text
    times = answer.json()["hours"]
    near_best = [t for t in times if t["near_best"]]
    assert near_best and {t["office_id"] for t in times} <= set(MODEL_OFFICES)
    distances = [t["distance_km"] for t in near_best]
    assert distances == sorted(distances)
    assert all(t["date"] > str(TODAY) or t["hour"] >= 11 for t in times)


def test_bad_best_times_parameters_are_named_422s(client: TestClient) -> None:
    later = str(TODAY + dt.timedelta(days=3))
    cases = [
        ("/v1/best-times", {"near": "north"}, "near"),
        ("/v1/best-times", {"near": "95,120"}, "near"),
        ("/v1/best-times", {"from": "2020-01-01"}, "from"),
        ("/v1/best-times", {"from": later, "to": str(TODAY)}, "to"),
        ("/v1/best-times", {"to": "2030-01-01"}, "to"),
        ("/v1/best-times", {"from": "soon"}, "from"),
        ("/v1/best-times", {"limit": 0}, "limit"),
        (f"/v1/offices/{WALK_IN_ONLY}/best-times", {"channel": "appointment"}, "channel"),
    ]
    for url, params, name in cases:
        answer = client.get(url, params=params)
        assert answer.status_code == 422, (url, params, answer.text)
        assert answer.json()["message"].startswith(name), (params, answer.json())
    assert client.get("/v1/offices/hz-nowhere/best-times").status_code == 404


def test_the_route_and_the_cli_give_the_same_advice(
    client: TestClient, base_registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    travel = str(TODAY + dt.timedelta(days=12))
    for office_id in ("hz-city", "hz-xihu", WALK_IN_ONLY):
        body = {"office_id": office_id, "travel_date": travel, "today": str(TODAY)}
        api = client.post("/v1/advice", json=body).json()
        code = main(
            [
                "advise",
                "--office",
                office_id,
                "--travel-date",
                travel,
                "--today",
                str(TODAY),
                "--format",
                "json",
                "--registry",
                str(base_registry),
            ]
        )
        assert code == 0
        assert json.loads(capsys.readouterr().out) == api


def test_advice_starts_from_near_and_refuses_a_bad_one(client: TestClient) -> None:
    xihu = OFFICES.get("hz-xihu")
    body = {
        "office_id": "hz-city",
        "today": str(TODAY),
        "near": f"{xihu.lat},{xihu.lon}",
        "travel_date": str(TODAY + dt.timedelta(days=20)),
    }
    answer = client.post("/v1/advice", json=body)
    assert answer.status_code == 200, answer.text
    options = answer.json()["walk_in"]
    assert options and all(
        o["travel_minutes"] is not None and o["cost_minutes"] is not None for o in options
    )
    for option in (o for o in options if o["office_id"] == "hz-xihu"):
        assert option["distance_km"] == 0.0
    for bad in ("north", "95,120", "30.2"):
        refused = client.post("/v1/advice", json={**body, "near": bad})
        assert refused.status_code == 422 and refused.json()["message"].startswith("near")


def test_the_same_question_asked_again_names_another_near_best_hour_first(
    client: TestClient,
) -> None:
    body = {  # a month ahead: the toy model's near-best walk-in hours fall on several days
        "office_id": "hz-city",
        "today": str(TODAY),
        "travel_date": str(TODAY + dt.timedelta(days=30)),
    }
    answers = [client.post("/v1/advice", json=body).json() for _ in range(6)]
    assert len(answers[0]["walk_in"]) >= 2
    assert len({a["advice"] for a in answers}) == 1
    firsts = {
        (a["walk_in"][0]["office_id"], a["walk_in"][0]["date"], a["walk_in"][0]["hour"])
        for a in answers
    }
    assert len(firsts) >= 2


def test_forecast_hours_carry_their_cost(client: TestClient) -> None:
    body = client.get(
        "/v1/offices/hz-city/forecast", params={"date": str(TODAY + dt.timedelta(days=1))}
    ).json()
    for row in body["hours"]:
        expected = 0.3 * row["p10"] + 0.4 * row["p50"] + 0.3 * row["p90"]
        missed = 1 - (row["p_called"] if row["p_called"] is not None else 1.0)
        assert abs(row["cost_minutes"] - (expected + missed * 120)) <= 0.2, row


def test_messages_name_the_parameter_the_form_and_the_limit(client: TestClient) -> None:
    def message(answer: httpx.Response) -> str:
        assert answer.status_code == 422, answer.text
        return str(answer.json()["message"])

    assert message(client.get("/v1/offices/hz-city/forecast", params={"date": "20261201"})) == (
        "date: expected a date YYYY-MM-DD, got '20261201'"
    )
    assert "expected a date YYYY-MM-DD" in message(
        client.get("/v1/best-times", params={"from": "2026/12/01"})
    )
    beyond = message(client.get("/v1/best-times", params={"to": "2030-01-01"}))
    assert beyond.startswith("to:") and "beyond the forecast horizon" in beyond
    wide = message(client.get("/v1/best-times", params={"to": str(TODAY + dt.timedelta(days=70))}))
    assert wide.startswith("to:") and "at most 62 days" in wide and "horizon" not in wide
    bare = message(client.post("/v1/advice", content=b'{"office_id": "hz-city"}'))
    assert bare.startswith("body:") and "no Content-Type" in bare
    for loose in ("yes", "true", 1):
        refused = message(
            client.post("/v1/advice", json={"office_id": "hz-city", "expedited": loose})
        )
        assert refused.startswith("expedited"), refused


def test_every_per_hour_list_is_called_hours(client: TestClient) -> None:
    body = client.get("/v1/best-times", params={"limit": 5}).json()
    assert body["hours"] and body["hours"] == body["times"]  # `times`: deprecated alias
    forecast = client.get(
        "/v1/offices/hz-city/forecast", params={"date": str(TODAY + dt.timedelta(days=1))}
    ).json()
    assert forecast["hours"]
