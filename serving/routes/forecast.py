"""`GET /v1/offices/{office_id}/forecast`: a lookup in the forecast cube.

The hot path: no pydantic on the answer (the cube holds its JSON bytes); the response
model is declared for the OpenAPI document only. It also skips FastAPI's dependency
resolution and header parameters (the state and ``If-None-Match`` are read from the
request: about 20 µs a request, measured). A miss beyond the cube is computed in the
thread pool, so the event loop never waits on the model.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from features.errors import ParameterError
from features.schema import Channel
from serving.cube import check_date
from serving.deps import serving_state
from serving.schemas import ErrorBody, ForecastResponse
from serving.state import local_now

router = APIRouter(prefix="/v1", tags=["forecasts"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the `If-None-Match` ETag still holds."},
    404: {"model": ErrorBody, "description": "Unknown office."},
    422: {
        "model": ErrorBody,
        "description": "A bad `date` (past, beyond the horizon) or "
        "`channel` (appointment at a walk-in-only office).",
    },
    503: {"model": ErrorBody, "description": "No model is loaded."},
}


def seconds_to_next_hour(now: dt.datetime) -> int:
    """Seconds until the next full hour (at least 1)."""
    return max(3600 - now.minute * 60 - now.second, 1)


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison of an ``If-None-Match`` list against ``etag``."""
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


@router.get(
    "/offices/{office_id}/forecast",
    response_model=ForecastResponse,
    responses=_ERRORS,
    summary="Waits per open hour and channel on one date",
    description="p10/p50/p90 wait minutes, expected arrivals and (walk-in) the chance of "
    "being called before closing, per open hour and channel, from the serving "
    "model. Strong `ETag`; `Cache-Control` until the next full hour. "
    "`channel=appointment` at a walk-in-only office is a 422.",
)
async def get_forecast(
    office_id: str,
    date: Annotated[
        dt.date, Query(description="Local date, today up to the horizon.", examples=["2026-12-01"])
    ],
    request: Request,
    channel: Annotated[Channel | None, Query(description="Only this channel.")] = None,
) -> Response:
    """Answer from the cube (or compute the day once, beyond it)."""
    state = serving_state(request)
    cube = state.require_model().cube
    office = cube.office(office_id)
    now = local_now(state.clock, office.timezone)
    check_date(date, now.date(), state.settings.horizon_days)
    key = channel.value if channel is not None else ""
    if channel is Channel.APPOINTMENT and not office.takes_appointments:
        raise ParameterError("channel", f"office {office.id} is walk-in only: no appointments")
    entry = cube.lookup(office.id, date)
    if entry is None:
        entry = await run_in_threadpool(cube.day, office.id, date)
    tag = entry.etags[key]
    headers = {"ETag": tag, "Cache-Control": f"public, max-age={seconds_to_next_hour(now)}"}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and etag_matches(if_none_match, tag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(entry.bodies[key], media_type="application/json", headers=headers)
