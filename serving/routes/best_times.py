"""`GET /v1/offices/{office_id}/best-times` and `GET /v1/best-times`: the quickest hours.

Near-best hours come first (about as good as the best one: take any, so that not
everyone comes at the same hour), nearest first when `near` is given; then the rest.
Answered on the event loop from the cube's prepared hours or the answers kept for the
loaded model (:mod:`serving.answer_cache`); in the thread pool only when forecasts must be
computed (:mod:`serving.offload`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from features.errors import ParameterError
from features.offices import Office
from features.schema import Channel
from serving.advice import best_times_of, parse_near
from serving.advice_responses import best_time_out, json_bytes, json_response
from serving.answer_cache import AnswerCache
from serving.cube_source import CubeSource
from serving.deps import advice_context, answers_of, serving_state
from serving.offload import on_loop_or_thread
from serving.schemas import ErrorBody
from serving.schemas_advice import BestTimesResponse
from serving.state import LoadedModel, ServingState, local_now

router = APIRouter(prefix="/v1", tags=["best times"])
MAX_RANGE_DAYS = 62

_ERRORS = {
    404: {"model": ErrorBody, "description": "Unknown office."},
    422: {"model": ErrorBody, "description": "A bad `from`, `to`, `channel`, `near` or `limit`."},
    503: {"model": ErrorBody, "description": "No model is loaded."},
}
From = Annotated[dt.date | None, Query(alias="from", description="First date (default today).")]
To = Annotated[dt.date | None, Query(description="Last date, inclusive (default from + 6).")]
Limit = Annotated[int, Query(ge=1, le=200, description="At most this many hours.")]
ChannelQuery = Annotated[Channel, Query(description="The queue (default walk_in).")]


@router.get(
    "/offices/{office_id}/best-times",
    response_model=BestTimesResponse,
    response_model_by_alias=True,
    responses=_ERRORS,  # type: ignore[arg-type]
    summary="The quickest hours at one office",
)
async def office_best_times(
    office_id: str,
    request: Request,
    start: From = None,
    to: To = None,
    channel: ChannelQuery = Channel.WALK_IN,
    limit: Limit = 10,
) -> Response:
    """The open hours of one office with the shortest predicted wait in [from, to]."""
    state, answers = serving_state(request), answers_of(request)
    model = state.require_model()
    office = model.cube.office(office_id)
    if channel is Channel.APPOINTMENT and not office.takes_appointments:
        raise ParameterError("channel", f"office {office.id} is walk-in only: no appointments")
    key = ("office", office.id, start, to, channel, limit)
    return await _answer(state, answers, key, model, [office], start, to, channel, limit, None)


@router.get(
    "/best-times",
    response_model=BestTimesResponse,
    response_model_by_alias=True,
    responses=_ERRORS,  # type: ignore[arg-type]
    summary="The quickest hours across offices",
)
async def all_best_times(
    request: Request,
    start: From = None,
    to: To = None,
    near: Annotated[
        str | None, Query(description="`LAT,LON`: nearest first among equally good hours.")
    ] = None,
    channel: ChannelQuery = Channel.WALK_IN,
    limit: Limit = 10,
) -> Response:
    """The open hours across offices with the shortest predicted wait in [from, to]."""
    state, answers = serving_state(request), answers_of(request)
    model = state.require_model()
    point = parse_near(near) if near is not None else None
    offices = [o for o in model.cube.offices.values() if channel in o.channels]
    key = ("all", start, to, near, channel, limit)
    return await _answer(state, answers, key, model, offices, start, to, channel, limit, point)


async def _answer(
    state: ServingState,
    answers: AnswerCache,
    key: tuple[object, ...],
    model: LoadedModel,
    offices: list[Office],
    start: dt.date | None,
    to: dt.date | None,
    channel: Channel,
    limit: int,
    near: tuple[float, float] | None,
) -> Response:
    zone = offices[0].timezone if offices else "Asia/Shanghai"
    now = local_now(state.clock, zone)
    first = start or now.date()
    last = to or first + dt.timedelta(days=6)
    horizon_end = now.date() + dt.timedelta(days=state.settings.horizon_days - 1)
    if first < now.date():
        raise ParameterError("from", f"{first} is in the past; the earliest date is {now.date()}")
    if last < first:
        raise ParameterError("to", f"{last} is before from ({first})")
    if last > horizon_end:
        raise ParameterError(
            "to",
            f"{last} is beyond the forecast horizon of "
            f"{state.settings.horizon_days} days; the last date is "
            f"{horizon_end}",
        )
    if (last - first).days >= MAX_RANGE_DAYS:
        raise ParameterError(
            "to",
            f"{last} is {(last - first).days + 1} days from `from` "
            f"({first}); a range holds at most {MAX_RANGE_DAYS} days",
        )
    key = ("best-times", *key, now.date(), now.hour)  # the hour: `from` today
    kept = answers.body(model, key)
    if kept is not None:
        return json_bytes(kept)
    registry = model.forecaster.offices
    ids = [o.id for o in offices]
    ctx = advice_context(state, model)
    from_hour = now.hour + 1 if first == now.date() else 0

    def work(compute: bool) -> Response:
        view = CubeSource(model.cube, horizon_end, compute).view(first, last, ids, ctx)
        times = best_times_of(
            view.hours(channel.value, ids, first, last, from_hour), ctx, channel.value, limit, near
        )
        hours = [best_time_out(t, registry) for t in times]
        return json_response(
            BestTimesResponse(
                model_version=model.version,
                start=first,
                to=last,
                channel=channel,
                near=list(near) if near else None,
                hours=hours,
                times=hours,
            )
        )

    answer = await on_loop_or_thread(work)
    answers.keep(model, key, bytes(answer.body))
    return answer
