"""The monitor's switches as the server applies them, what it records, and /metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from features import schema as s
from serving.app import create_app
from serving.state import ServingState
from serving.statestore import open_store
from serving.statestore.served import ACCURACY, SWITCHES
from serving.switches import (
    QueueSwitch,
    apply_switches,
    switches_from_json,
    switches_to_json,
)
from tests.serving.support import TODAY, FakeClock, at, private_state_url, settings_for

REASON = "the model's p50 was further from the waits than the 8-week historical mean"
WEEKDAY = TODAY.weekday()


def switch(
    office: str = "hz-xihu",
    channel: str = "walk_in",
    hour: int = 10,
    cell: tuple[float, float, float] = (1.0, 77.0, 150.0),
) -> QueueSwitch:
    return QueueSwitch(office, channel, "general", TODAY, REASON, {(WEEKDAY, hour): cell})


def rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            s.OFFICE_ID: ["hz-xihu", "hz-xihu", "hz-xihu", "hz-city"],
            s.DATE: [TODAY] * 4,
            s.HOUR: [10, 11, 10, 10],
            s.CHANNEL: ["walk_in", "walk_in", "appointment", "walk_in"],
            s.SERVICE: ["general"] * 4,
            s.P10: [2.0] * 4,
            s.P50: [10.0] * 4,
            s.P90: [30.0] * 4,
            "estimator": ["model"] * 4,
        }
    )


def test_a_switched_queue_is_served_by_its_historical_mean_saying_why() -> None:
    out = apply_switches(rows(), [switch()])
    assert out.loc[0, [s.P10, s.P50, s.P90]].tolist() == [1.0, 77.0, 150.0]
    assert out.loc[0, "estimator"] == "historical_mean" and out.loc[0, "estimator_reason"] == REASON
    assert out.loc[0, s.MODEL_P50] == 10.0  # what the version itself serves, kept
    # another hour without a value, another channel, another office: as they were
    assert out.loc[1:, s.P50].tolist() == [10.0, 10.0, 10.0]
    assert out.loc[1:, "estimator"].tolist() == ["model"] * 3
    assert out.loc[1:, "estimator_reason"].isna().all()
    assert apply_switches(rows(), [])[s.P50].tolist() == [10.0] * 4


def test_the_switches_document_round_trips_and_a_bad_one_is_refused() -> None:
    both = (switch(), switch("hz-city", hour=9))
    assert switches_from_json(switches_to_json(both, "2026-11-25")) == both
    assert switches_from_json(None) == ()
    with pytest.raises(ValueError, match="not a switches document"):
        switches_from_json('{"switches": [{"office_id": "x"}]}')


@pytest.fixture
def served_app(base_registry: Path, clock: FakeClock) -> Iterator[TestClient]:
    url = private_state_url()
    app = create_app(settings_for(base_registry, state_url=url), clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _state(client: TestClient) -> ServingState:
    state: ServingState = client.app.state.serving  # type: ignore[attr-defined]
    return state


def _hour(client: TestClient, hour: int, channel: str = "walk_in") -> dict:
    body = client.get(f"/v1/offices/hz-xihu/forecast?date={TODAY}&channel={channel}").json()
    return next(h for h in body["hours"] if h["hour"] == hour)


def test_every_worker_follows_the_switches_and_they_survive_a_restart(
    served_app: TestClient, base_registry: Path, clock: FakeClock
) -> None:
    state = _state(served_app)
    before = _hour(served_app, 10)
    assert before["estimator"] != "historical_mean" and before["estimator_reason"] is None
    state.store.put_document(SWITCHES, switches_to_json([switch()], str(TODAY)))
    assert state.refresh() == "rolled"  # the cube rebuilt with the switch
    after = _hour(served_app, 10)
    assert (after["p50"], after["estimator"], after["estimator_reason"]) == (
        77.0,
        "historical_mean",
        REASON,
    )
    assert _hour(served_app, 11)["estimator"] == before["estimator"]  # no value: as before
    assert _hour(served_app, 10, "appointment")["estimator"] != "historical_mean"
    # a second app on the same store (another worker, or after a restart) serves it too
    settings = state.settings
    with TestClient(create_app(settings, clock)) as other:
        assert _hour(other, 10)["estimator"] == "historical_mean"
    state.store.put_document(SWITCHES, switches_to_json([], str(TODAY)))
    assert state.refresh() == "rolled"
    assert _hour(served_app, 10) == before


def test_served_forecasts_are_recorded_once_per_hour_and_version(
    served_app: TestClient, clock: FakeClock
) -> None:
    state = _state(served_app)
    clock.at = at(TODAY, 10, 5)
    state.refresh()
    first = state.store.served_forecasts(TODAY, TODAY)
    assert first and {r.hour for r in first} == {10} and {r.version for r in first} == {"v0001"}
    xihu = [r for r in first if r.office_id == "hz-xihu" and r.channel == "walk_in"]
    assert xihu[0].p50 == pytest.approx(_exact_p50(state, 10))
    clock.at = at(TODAY, 10, 50)
    state.refresh()
    state.refresh()
    assert state.store.served_forecasts(TODAY, TODAY) == first  # not per refresh or request
    clock.at = at(TODAY, 11, 1)
    state.refresh()
    assert {r.hour for r in state.store.served_forecasts(TODAY, TODAY)} == {10, 11}


def _exact_p50(state: ServingState, hour: int) -> float:
    day = state.require_model().cube.day("hz-xihu", TODAY)
    return float(
        next(r[s.P50] for r in day.exact if r[s.HOUR] == hour and r[s.CHANNEL] == "walk_in")
    )


def test_metrics_expose_the_monitors_figures_and_switches(served_app: TestClient) -> None:
    state = _state(served_app)
    figures = [
        {
            "office_id": "hz-xihu",
            "channel": "walk_in",
            "window_days": 7,
            "hours": 40,
            "mae_served": 12.5,
            "mae_baseline": 10.0,
            "ratio": 1.25,
            "coverage": 0.78,
        }
    ]
    state.store.put_document(ACCURACY, json.dumps({"until": str(TODAY), "figures": figures}))
    state.store.put_document(SWITCHES, switches_to_json([switch()], str(TODAY)))
    state.refresh()
    text = served_app.get("/metrics").text
    labels = 'channel="walk_in",office_id="hz-xihu",window_days="7"'
    assert f"waitcast_live_mae_minutes{{{labels}}} 12.5" in text
    assert f"waitcast_live_mae_ratio{{{labels}}} 1.25" in text
    assert f"waitcast_live_coverage_p10_p90{{{labels}}} 0.78" in text
    assert (
        'waitcast_queue_on_historical_mean{channel="walk_in",office_id="hz-xihu",'
        'service="general"} 1.0'
    ) in text


def test_a_store_that_fails_costs_no_answer(served_app: TestClient) -> None:
    state = _state(served_app)
    state.store.close()  # every store call now fails
    state.refresh()
    assert served_app.get(f"/v1/offices/hz-xihu/forecast?date={TODAY}").status_code == 200
    assert served_app.get("/metrics").status_code == 200
    state.store = open_store(state.settings.state_store_url)
