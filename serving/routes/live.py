"""Live queue states: `PUT /v1/offices/{id}/queue-state` and `GET /v1/offices/{id}/now`."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter

from features import schema as s
from features.errors import ParameterError
from serving import now as now_answers
from serving.deps import AdminDep, ModelDep, StateDep
from serving.live import QueueState
from serving.schemas import ErrorBody, NowResponse, QueueStateAck, QueueStateIn
from serving.state import local_now, zone

router = APIRouter(prefix="/v1", tags=["live"])
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)


@router.get(
    "/offices/{office_id}/now",
    response_model=NowResponse,
    responses={404: {"model": ErrorBody}, 503: {"model": ErrorBody}},
    summary="The wait for a number taken now",
    description="`source: live` from the office's queue state when it is fresher than "
                "`WAITCAST_LIVE_FRESH_MINUTES` (people ahead × minutes per ticket ÷ windows "
                "open, with a range); else `source: forecast`, this hour's forecast, or "
                "`closed: true` with the next opening.",
)
def get_now(office_id: str, model: ModelDep, state: StateDep) -> NowResponse:
    """Live when fresh, else the current hour's forecast."""
    office = model.cube.office(office_id)
    now = local_now(state.clock, office.timezone).replace(microsecond=0)
    fresh_for = dt.timedelta(minutes=state.settings.live_fresh_minutes)
    posted = state.board.fresh(office.id, now, fresh_for)
    if posted is not None:
        return now_answers.live_answer(model, office, posted, now)
    day = model.cube.day(office.id, now.date()) if now.date() >= model.cube.start else None
    return now_answers.forecast_answer(
        model, office, day, model.forecaster.calendars.of(office), now
    )


@router.put(
    "/offices/{office_id}/queue-state",
    response_model=QueueStateAck,
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody},
               404: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    summary="Post the office's queue state (admin token)",
)
async def put_queue_state(office_id: str, body: QueueStateIn, state: StateDep,
                          _admin: AdminDep) -> QueueStateAck:
    """Store people waiting per channel and windows open."""
    office = state.office(office_id)
    now = local_now(state.clock, office.timezone)
    observed = body.observed_at or now.replace(microsecond=0)
    if observed.tzinfo is None:
        observed = observed.replace(tzinfo=zone(office.timezone))
    if observed - now > MAX_CLOCK_SKEW:
        raise ParameterError("observed_at", f"{observed.isoformat()} is in the future")
    if body.waiting.appointment and not office.takes_appointments:
        raise ParameterError("waiting.appointment", f"office {office.id} is walk-in only")
    waiting = {s.Channel.WALK_IN.value: body.waiting.walk_in,
               s.Channel.APPOINTMENT.value: body.waiting.appointment}
    state.board.put(office.id, QueueState(waiting, body.windows_open, observed, now))
    fresh_until = observed + dt.timedelta(minutes=state.settings.live_fresh_minutes)
    return QueueStateAck(office_id=office.id, observed_at=observed.astimezone(now.tzinfo),
                         fresh_until=fresh_until.astimezone(now.tzinfo))
