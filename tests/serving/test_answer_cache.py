"""Kept advice and best-times answers are the computed ones, byte for byte; a new model
empties them; requests that need forecasts computed leave the event loop."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import numpy as np
import pytest
from fastapi.testclient import TestClient

from serving.advice import AdviceContext
from serving.advice.hours import rotation_pick
from serving.advice.walk_in import Rotation
from serving.answer_cache import AnswerCache
from serving.app import create_app
from serving.cube_source import CubeSource, NeedsComputing
from serving.offload import on_loop_or_thread
from tests.serving.support import TODAY, FakeClock, at, auth, settings_for

DAY = dt.timedelta(days=1)


def _requests() -> list[tuple[str, str, dict[str, object] | None]]:
    """Advice (each asked many times: its turn rotates the first hour) and best times."""
    bodies: list[dict[str, object] | None] = [
        {"office_id": "hz-city", "travel_date": str(TODAY + 30 * DAY)},
        {"office_id": "hz-xihu", "travel_date": str(TODAY + 12 * DAY), "expedited": True},
        {"office_id": "hz-qiantang"},
        {"office_id": "hz-linping", "near": "30.27,120.15", "residency": "out_of_province"},
        {"office_id": "hz-city", "today": str(TODAY - 2 * DAY)},  # computed, not prepared
        {"office_id": "hz-xihu", "travel_date": "1970-01-01"},  # a 422, never kept
    ]
    paths = [
        f"/v1/offices/hz-city/best-times?from={TODAY + DAY}&limit=10",
        f"/v1/offices/hz-xihu/best-times?from={TODAY}&channel=appointment",
        f"/v1/best-times?from={TODAY + 2 * DAY}&near=30.27,120.15&limit=20",
        f"/v1/best-times?from={TODAY + 50 * DAY}&to={TODAY + 70 * DAY}",  # beyond the cube
    ]
    advice = [("POST", "/v1/advice", b) for b in bodies]
    best = [("GET", p, None) for p in paths]
    return (advice * 12) + (best * 3)


@pytest.fixture(scope="module")
def pair(base_registry: Path) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps on the same model and clock: one keeps no answers, one keeps them."""
    clock = FakeClock(at(TODAY, 10, 30))
    apps = [create_app(settings_for(base_registry, response_cache_mb=mb), clock) for mb in (0, 64)]
    with TestClient(apps[0]) as computing, TestClient(apps[1]) as keeping:
        yield computing, keeping


def test_kept_answers_are_the_computed_ones_byte_for_byte(
    pair: tuple[TestClient, TestClient],
) -> None:
    computing, keeping = pair
    statuses = set()
    for method, path, body in _requests():
        a, b = (c.request(method, path, json=body) for c in (computing, keeping))
        assert (a.status_code, a.content) == (b.status_code, b.content), (path, body)
        statuses.add(a.status_code)
    assert statuses == {200, 422}
    kept: AnswerCache = keeping.app.state.answers  # type: ignore[attr-defined]
    assert kept.hits > 0 and kept.misses > 0  # some answers came from the cache
    computed: AnswerCache = computing.app.state.answers  # type: ignore[attr-defined]
    assert computed.hits == 0 and computed.misses == kept.hits + kept.misses
    metrics = keeping.get("/metrics").text
    assert f"waitcast_answer_cache_hits_total {float(kept.hits)}" in metrics


def test_the_turn_still_rotates_the_first_hour_with_kept_answers(
    pair: tuple[TestClient, TestClient],
) -> None:
    _, keeping = pair
    body = {"office_id": "hz-city", "travel_date": str(TODAY + 40 * DAY)}
    firsts = {
        json.dumps(keeping.post("/v1/advice", json=body).json()["walk_in"][0]) for _ in range(20)
    }
    assert len(firsts) > 1


def test_a_reload_empties_the_kept_answers(base_registry: Path) -> None:
    app = create_app(settings_for(base_registry), FakeClock(at(TODAY, 10, 30)))
    path = f"/v1/offices/hz-city/best-times?from={TODAY + DAY}"
    with TestClient(app) as client:
        first = client.get(path).content
        assert client.get(path).content == first
        kept: AnswerCache = app.state.answers
        assert (kept.hits, kept.misses) == (1, 1)
        assert client.post("/v1/admin/reload", headers=auth()).status_code == 200
        assert client.get(path).content == first  # same version, but computed again
        assert (kept.hits, kept.misses) == (1, 2)


def test_entries_belong_to_one_model() -> None:
    cache, old, new = AnswerCache(1 << 20), object(), object()
    cache.keep(old, "k", b"x")  # no model seen yet: not kept
    assert cache.body(old, "k") is None
    cache.keep(old, "k", b"x")
    assert cache.body(old, "k") == b"x"
    assert cache.body(new, "k") is None  # a new model: everything is dropped
    cache.keep(old, "k", b"late")  # computed for the old model while the new one came
    assert cache.body(new, "k") is None and cache.body(old, "k") is None
    assert AnswerCache(0).body(old, "k") is None  # 0 MiB keeps nothing
    tiny = AnswerCache(4)
    tiny.body(old, "k")
    tiny.keep(old, "k", b"too long")
    assert tiny.body(old, "k") is None


def test_a_kept_advice_is_found_by_the_index_its_turn_picks() -> None:
    cache, model = AnswerCache(1 << 20), object()
    weights = (3.0, 1.0, 2.0)
    rotation = Rotation(weights, rotation_pick(np.asarray(weights), 0))
    assert cache.advice_body(model, "k", 0) is None
    cache.keep_advice(model, "k", rotation, b"turn 0")
    for turn in range(50):
        same = rotation_pick(np.asarray(weights), turn) == rotation.pick
        assert cache.advice_body(model, "k", turn) == (b"turn 0" if same else None)
    cache.keep_advice(model, "none", None, b"no walk-in hour")  # the turn changes nothing
    assert cache.advice_body(model, "none", 7) == b"no walk-in hour"


def test_a_source_that_must_not_compute_refuses_what_the_cube_lacks(
    pair: tuple[TestClient, TestClient],
) -> None:
    model = pair[0].app.state.serving.model  # type: ignore[attr-defined]
    ctx = AdviceContext(
        model.forecaster.calendars, model.forecaster.offices, model.forecaster.lead_days
    )
    cube, last = model.cube, TODAY + 179 * DAY
    strict = CubeSource(cube, last, compute=False)
    assert strict.view(TODAY, TODAY + 6 * DAY, ["hz-city"], ctx) is not None
    with pytest.raises(NeedsComputing):
        strict.view(TODAY, TODAY + 90 * DAY, ["hz-city"], ctx)  # beyond the cube's days
    with pytest.raises(NeedsComputing):
        strict.view(TODAY - DAY, TODAY, ["hz-city"], ctx)  # before them


def test_work_that_needs_computing_runs_again_in_a_thread() -> None:
    calls: list[tuple[bool, str]] = []

    def work(compute: bool) -> str:
        calls.append((compute, threading.current_thread().name))
        if not compute:
            raise NeedsComputing
        return "computed"

    async def both() -> tuple[str, str]:
        return await on_loop_or_thread(work), await on_loop_or_thread(lambda compute: "cheap")

    assert anyio.run(both) == ("computed", "cheap")
    loop_thread = threading.current_thread().name
    assert calls[0] == (False, loop_thread)
    assert calls[1][0] is True and calls[1][1] != loop_thread
