"""Advice and best times read hours prepared with the cube: answers identical to computing
them from the forecast rows on each request (the way the CLI does)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from features.calendar_cn import default_calendar
from features.schema import Channel
from models.forecaster import Forecaster
from serving.advice import AdviceContext, AdviceRequest, Residency, RowsSource, advise
from serving.advice.best_times import best_times, best_times_of
from serving.cube import ForecastCube
from serving.cube_source import CubeSource
from serving.switches import QueueSwitch
from tests.serving.support import TODAY

DAYS = 60


@pytest.fixture(scope="module")
def cube(forecaster: Forecaster) -> ForecastCube:
    # one queue switched to the historical mean: its rows are prepared as served
    switch = QueueSwitch(
        "hz-city",
        "walk_in",
        "general",
        TODAY,
        "test",
        {(d, h): (1.0, 2.0, 3.0) for d in range(7) for h in range(24)},
    )
    return ForecastCube.build(
        forecaster, default_calendar(), "v0001", TODAY, DAYS, switches=(switch,)
    )


def context(forecaster: Forecaster) -> AdviceContext:
    return AdviceContext(
        forecaster.calendars,
        forecaster.offices,
        forecaster.lead_days,
        service_minutes=forecaster.service_minutes,
    )


def test_the_cube_prepares_every_office_at_build(cube: ForecastCube) -> None:
    assert set(cube._prepared) == set(cube.offices)
    city = cube.prepared("hz-city").tables["walk_in"]
    assert set(city["p50"]) == {2.0}  # the switched queue, as served


def test_advice_from_prepared_hours_is_the_computed_advice(
    cube: ForecastCube, forecaster: Forecaster
) -> None:
    ctx = context(forecaster)
    last = TODAY + dt.timedelta(days=DAYS - 1)
    prepared = CubeSource(cube, last)
    computed = RowsSource(cube.frame(TODAY, last))
    rng = random.Random(3)
    offices = sorted(cube.offices)
    for turn in range(60):
        today = TODAY + dt.timedelta(days=rng.randrange(0, 5))
        travel = rng.choice([None, *(today + dt.timedelta(days=d) for d in (3, 9, 16, 30, 45))])
        request = AdviceRequest(
            rng.choice(offices),
            today,
            travel,
            rng.choice(list(Residency)),
            rng.random() < 0.3,
            now=rng.choice([None, dt.time(rng.randrange(8, 17), 10)]),
            near=rng.choice([None, (30.27, 120.15), (30.2, 120.3)]),
            turn=turn,
        )
        assert prepared.view(today, last, offices, ctx).__class__.__name__ == "PreparedView"
        assert advise(request, ctx, prepared) == advise(request, ctx, computed), request


def test_best_times_from_prepared_hours_are_the_computed_ones(
    cube: ForecastCube, forecaster: Forecaster
) -> None:
    ctx = context(forecaster)
    last = TODAY + dt.timedelta(days=DAYS - 1)
    source = CubeSource(cube, last)
    rng = random.Random(5)
    for _ in range(40):
        first = TODAY + dt.timedelta(days=rng.randrange(0, 20))
        to = first + dt.timedelta(days=rng.randrange(0, 14))
        ids = rng.sample(sorted(cube.offices), rng.randrange(1, len(cube.offices) + 1))
        channel = rng.choice([c.value for c in Channel])
        near = rng.choice([None, (30.27, 120.15)])
        from_hour = rng.choice([0, 11])
        hours = source.view(first, to, ids, ctx).hours(channel, ids, first, to, from_hour)
        fast = best_times_of(hours, ctx, channel, 25, near)
        slow = best_times(
            cube.frame(first, to, ids),
            ctx,
            first,
            to,
            channel,
            25,
            near,
            from_hour_on_first=from_hour,
        )
        assert fast == slow


def test_a_request_outside_the_cubes_days_is_computed_the_same(
    cube: ForecastCube, forecaster: Forecaster
) -> None:
    ctx = context(forecaster)
    last = TODAY + dt.timedelta(days=150)  # beyond the cube's 60 days, within the horizon
    source = CubeSource(cube, last)
    assert source.view(TODAY, last, ["hz-xihu"], ctx).__class__.__name__ == "FrameView"
    request = AdviceRequest("hz-xihu", TODAY + dt.timedelta(days=50), TODAY + dt.timedelta(days=90))
    assert advise(request, ctx, source) == advise(request, ctx, RowsSource(cube.frame(TODAY, last)))
