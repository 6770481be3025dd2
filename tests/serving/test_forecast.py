"""The forecast route: a lookup in the cube built at load, ETags, dates, channels."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from features import schema as s
from models.forecaster import Forecaster
from serving.app import create_app
from serving.schemas import ForecastResponse
from serving.state import ServingState
from tests.serving.support import NOT_IN_MODEL, TODAY, WALK_IN_ONLY, FakeClock, at, settings_for

URL = "/v1/offices/{}/forecast"


def state_of(client: TestClient) -> ServingState:
    state: ServingState = client.app.state.serving  # type: ignore[attr-defined]
    return state


def get(client: TestClient, office: str, date: dt.date | str, **params: str) -> httpx.Response:
    return client.get(URL.format(office), params={"date": str(date), **params})


def test_the_cube_is_built_once_at_load_and_requests_are_lookups(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = state_of(client).require_model()
    assert model.cube.forecast_calls == 1 and model.cube.start == TODAY
    calls: list[tuple[Any, ...]] = []
    original = Forecaster.forecast

    def counted(self: Forecaster, *a: Any, **k: Any) -> Any:
        calls.append(a)
        return original(self, *a, **k)

    monkeypatch.setattr(Forecaster, "forecast", counted)
    for offset in range(60):
        for channel in ({}, {"channel": "walk_in"}):
            answer = get(client, "hz-city", TODAY + dt.timedelta(days=offset), **channel)
            assert answer.status_code == 200
    assert calls == [] and model.cube.forecast_calls == 1


def test_the_answer_has_the_documented_shape_and_rounded_quantiles(
    shared_client: TestClient,
) -> None:
    answer = get(shared_client, "hz-city", TODAY + dt.timedelta(days=1))  # a Friday
    body = ForecastResponse.model_validate_json(answer.content)
    assert body.model_version == "v0001" and body.office_id == "hz-city"
    assert not body.closed and body.channel is None and body.hours
    assert {h.channel.value for h in body.hours} == {"walk_in", "appointment"}
    assert [h.hour for h in body.hours] == sorted(h.hour for h in body.hours)
    for hour in body.hours:
        assert hour.p10 is not None and hour.p50 is not None and hour.p90 is not None
        assert hour.p10 <= hour.p50 <= hour.p90
        assert round(hour.p50, 1) == hour.p50
        assert (hour.p_called is None) == (hour.channel.value == "appointment")
    walk_in = get(shared_client, "hz-city", TODAY + dt.timedelta(days=1), channel="walk_in").json()
    assert walk_in["channel"] == "walk_in"
    assert {h["channel"] for h in walk_in["hours"]} == {"walk_in"}


def test_a_closed_day_has_no_hours_and_names_the_holiday(shared_client: TestClient) -> None:
    new_year = get(shared_client, "hz-city", dt.date(2027, 1, 1)).json()
    assert new_year["closed"] is True and new_year["hours"] == []
    assert new_year["holiday_zh"] == "元旦" and new_year["holiday_en"]
    assert new_year["calendar_estimated"] is True  # 2027 is not published yet
    sunday = get(shared_client, "hz-city", dt.date(2026, 11, 29)).json()
    assert sunday["closed"] is True and sunday["holiday_en"] is None


def test_etag_cache_control_and_304(shared_client: TestClient) -> None:
    first = get(shared_client, "hz-city", TODAY)
    tag = first.headers["etag"]
    assert tag.startswith('"') and not tag.startswith("W/")
    assert first.headers["cache-control"] == "public, max-age=1800"  # 10:30 -> 11:00
    assert get(shared_client, "hz-city", TODAY).headers["etag"] == tag
    assert get(shared_client, "hz-city", TODAY, channel="walk_in").headers["etag"] != tag
    for header in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        again = shared_client.get(
            URL.format("hz-city"), params={"date": str(TODAY)}, headers={"If-None-Match": header}
        )
        assert again.status_code == 304 and again.content == b"", header
        assert again.headers["etag"] == tag
    stale = shared_client.get(
        URL.format("hz-city"), params={"date": str(TODAY)}, headers={"If-None-Match": '"other"'}
    )
    assert stale.status_code == 200 and stale.content == first.content


def test_past_dates_and_dates_beyond_the_horizon_are_422_naming_them(
    shared_client: TestClient,
) -> None:
    past = get(shared_client, "hz-city", TODAY - dt.timedelta(days=1))
    assert past.status_code == 422 and past.json()["message"].startswith("date:")
    beyond = get(shared_client, "hz-city", TODAY + dt.timedelta(days=180))
    assert beyond.status_code == 422
    message = beyond.json()["message"]
    assert message.startswith("date:") and "horizon of 180 days" in message
    last = get(shared_client, "hz-city", TODAY + dt.timedelta(days=179))
    assert last.status_code == 200
    for junk in ("tomorrow", "2026-13-01", "2026-02-30", ""):
        answer = get(shared_client, "hz-city", junk)
        assert answer.status_code == 422 and answer.json()["message"].startswith("date"), junk
    missing = shared_client.get(URL.format("hz-city"))
    assert missing.status_code == 422 and "date" in missing.json()["message"]


def test_dates_beyond_the_cube_are_computed_once_then_cached(client: TestClient) -> None:
    cube = state_of(client).require_model().cube
    later = TODAY + dt.timedelta(days=100)
    first = get(client, "hz-xihu", later)
    assert first.status_code == 200 and cube.forecast_calls == 2
    assert get(client, "hz-xihu", later).content == first.content
    assert get(client, "hz-xihu", later + dt.timedelta(days=3)).status_code == 200  # same week
    assert cube.forecast_calls == 2


def test_unknown_offices_are_404_and_channels_are_checked(shared_client: TestClient) -> None:
    unknown = get(shared_client, "hz-nowhere", TODAY)
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_office"
    assert get(shared_client, NOT_IN_MODEL, TODAY).status_code == 404
    walk_in_only = get(shared_client, WALK_IN_ONLY, TODAY, channel="appointment")
    assert walk_in_only.status_code == 422
    assert walk_in_only.json()["message"].startswith("channel:")
    bogus = get(shared_client, "hz-city", TODAY, channel="vip")
    assert bogus.status_code == 422 and bogus.json()["message"].startswith("channel:")


def test_the_cube_starts_today_by_the_clock_whatever_the_data_end(base_registry: Path) -> None:
    later = dt.date(2027, 2, 1)
    app = create_app(
        settings_for(base_registry, cube_days=5, horizon_days=30), FakeClock(at(later, 8))
    )
    with TestClient(app) as client:
        cube = state_of(client).require_model().cube
        assert cube.start == later and cube.end == later + dt.timedelta(days=5)
        assert get(client, "hz-city", later).status_code == 200
        assert cube.forecast_calls == 1
        assert "horizon of 30 days" in get(client, "hz-city", later + dt.timedelta(days=30)).text


def test_the_cube_frame_is_the_forecast_unrounded_and_the_api_rounds_it(
    client: TestClient, forecaster: Forecaster
) -> None:
    cube = state_of(client).require_model().cube
    date = TODAY + dt.timedelta(days=1)
    frame = cube.frame(TODAY, TODAY + dt.timedelta(days=2), ["hz-city"])
    day = frame[frame[s.DATE] == date]
    api = get(client, "hz-city", date).json()["hours"]
    assert [round(v, 1) for v in day[s.P50]] == [h["p50"] for h in api]
    order = [s.HOUR, s.CHANNEL, s.SERVICE]
    exact = forecaster.forecast(date, 1, ["hz-city"])
    day, exact = day.sort_values(order), exact.sort_values(order)
    for column in (s.P10, s.P50, s.P90, s.EXPECTED_ARRIVALS, s.P_CALLED):
        assert day[column].to_numpy(float) == pytest.approx(
            exact[column].to_numpy(float), rel=1e-12, nan_ok=True
        ), column


def test_a_frame_beyond_the_cube_is_one_forecaster_call(client: TestClient) -> None:
    cube = state_of(client).require_model().cube
    start = cube.end - dt.timedelta(days=2)
    frame = cube.frame(start, start + dt.timedelta(days=9), ["hz-city", "hz-xihu"])
    assert cube.forecast_calls == 2  # the build, then every missing office-day at once
    assert set(frame[s.OFFICE_ID]) == {"hz-city", "hz-xihu"}
    assert frame[s.DATE].min() >= start and frame[s.DATE].max() <= start + dt.timedelta(days=9)
    later = get(client, "hz-xihu", start + dt.timedelta(days=5))
    assert later.status_code == 200 and cube.forecast_calls == 2
