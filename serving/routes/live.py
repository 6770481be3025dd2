"""Live queue states: `PUT` and `DELETE /v1/offices/{id}/queue-state`, `GET …/now`.

`GET …/now` answers on the event loop: one read of the state store (a local SQLite read,
as the rate limit's; Redis is read in the thread pool) and this hour's row of the cube; a
day missing from the cube is computed in the thread pool.
"""

from __future__ import annotations

import datetime as dt
import logging

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from serving import now as now_answers
from serving.deps import AdminDep, StateDep, serving_state
from serving.errors import StateStoreError
from serving.live import QueueState
from serving.queue_state import QueueStateAck, QueueStateCleared, QueueStateIn, to_state
from serving.schemas import ErrorBody, NowResponse
from serving.state import ServingState, local_now

router = APIRouter(prefix="/v1", tags=["live"])
log = logging.getLogger("waitcast.serving")
STORE_DOWN = {"model": ErrorBody, "description": "The state store is unavailable."}


def fresh_state(state: ServingState, office_id: str, now: dt.datetime) -> QueueState | None:
    """The office's stored queue state when fresh at ``now`` (None when the store fails)."""
    try:
        posted = state.store.queue_state(office_id)
    except StateStoreError as exc:
        log.warning("live state not read, answering from the forecast: %s", exc)
        return None
    fresh_for = dt.timedelta(minutes=state.settings.live_fresh_minutes)
    return posted if posted is not None and posted.age(now) <= fresh_for else None


@router.get(
    "/offices/{office_id}/now",
    response_model=NowResponse,
    responses={404: {"model": ErrorBody}, 503: {"model": ErrorBody}},
    summary="The wait for a number taken now",
    description="`source: live` from the office's queue state when it is fresher than "
    "`WAITCAST_LIVE_FRESH_MINUTES` and the office is open (people ahead × "
    "minutes per ticket ÷ windows open, with a range); else `source: forecast`, "
    "this hour's forecast, or `closed: true` with the next opening.",
)
async def get_now(office_id: str, request: Request) -> NowResponse:
    """Live when fresh and open, else the current hour's forecast (or closed)."""
    state = serving_state(request)
    model = state.require_model()
    office = model.cube.office(office_id)
    now = local_now(state.clock, office.timezone).replace(microsecond=0)
    calendar = state.calendar_of(office)
    if now_answers.is_open(office, calendar, now):
        if state.store.local:
            posted = fresh_state(state, office.id, now)
        else:  # a network store may take up to its timeout: not on the event loop
            posted = await run_in_threadpool(fresh_state, state, office.id, now)
        if posted is not None:
            return now_answers.live_answer(model, office, posted, now)
    day = None
    if now.date() >= model.cube.start:
        day = model.cube.lookup(office.id, now.date())
        if day is None:
            day = await run_in_threadpool(model.cube.day, office.id, now.date())
    return now_answers.forecast_answer(model, office, day, calendar, now)


@router.put(
    "/offices/{office_id}/queue-state",
    response_model=QueueStateAck,
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        404: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: STORE_DOWN,
    },
    summary="Post the office's queue state (admin token)",
    description="Refused (422, naming the field) when a count is not a JSON integer, "
    "`observed_at` has no UTC offset, is more than a minute ahead or older than "
    "the freshness window, the office is closed at that time, or `windows_open` "
    "exceeds the office's windows.",
)
def put_queue_state(
    office_id: str, body: QueueStateIn, state: StateDep, _admin: AdminDep
) -> QueueStateAck:
    """Store people waiting per channel and windows open (kept when newer than the stored)."""
    office = state.office(office_id)
    now = local_now(state.clock, office.timezone)
    fresh_for = dt.timedelta(minutes=state.settings.live_fresh_minutes)
    calendar = state.calendar_of(office)
    posted = to_state(body, office, calendar, now.replace(microsecond=0), fresh_for)
    stored = state.store.put_queue_state(office.id, posted)
    fresh_until = stored.observed_at + fresh_for
    return QueueStateAck(
        office_id=office.id,
        observed_at=stored.observed_at.astimezone(now.tzinfo),
        fresh_until=fresh_until.astimezone(now.tzinfo),
    )


@router.delete(
    "/offices/{office_id}/queue-state",
    response_model=QueueStateCleared,
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        404: {"model": ErrorBody},
        503: STORE_DOWN,
    },
    summary="Clear the office's queue state (admin token)",
    description="`GET …/now` then answers from the forecast until a new state is posted.",
)
def delete_queue_state(office_id: str, state: StateDep, _admin: AdminDep) -> QueueStateCleared:
    """Forget the office's queue state."""
    office = state.office(office_id)
    return QueueStateCleared(office_id=office.id, cleared=state.store.clear_queue_state(office.id))
