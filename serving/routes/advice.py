"""`POST /v1/advice`: book, walk in or ask for urgent service, from the loaded model's cube.

Answered on the event loop from the cube's prepared hours, or from the answers kept for
the loaded model (:mod:`serving.answer_cache`); in the thread pool only when forecasts
must be computed (:mod:`serving.offload`).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response

from features.errors import ParameterError
from serving.advice import Advice, AdviceRequest, advise, parse_near
from serving.advice_responses import advice_response, json_bytes, json_response
from serving.cube_source import CubeSource
from serving.deps import advice_context, answers_of, serving_state, turns_of
from serving.offload import on_loop_or_thread
from serving.schemas import ErrorBody
from serving.schemas_advice import AdviceRequestBody, AdviceResponse
from serving.state import local_now

router = APIRouter(prefix="/v1", tags=["advice"])
PAST_DAYS = 366  # how far back `today` may be set (to replay a decision)

_ERRORS = {
    404: {
        "model": ErrorBody,
        "description": "Unknown office (or one the model does not forecast).",
    },
    422: {
        "model": ErrorBody,
        "description": "A bad field, named: e.g. a travel date before "
        "today, an appointment on a closed day.",
    },
    503: {"model": ErrorBody, "description": "No model is loaded."},
}


@router.post(
    "/advice",
    response_model=AdviceResponse,
    responses=_ERRORS,  # type: ignore[arg-type]
    summary="Should I book or walk in, when and where?",
    description="From the travel date and the issuing time (7 working days in "
    "Zhejiang, 20 days from elsewhere, 5 working days expedited), the "
    "last day to apply; the appointment option; the near-best walk-in "
    "hours before it, here and at offices nearby; the advice and its "
    "reasons in Chinese and English. See docs/advice.md.",
)
async def post_advice(body: AdviceRequestBody, request: Request) -> Response:
    """The advice for one traveller: kept, read from the cube, or computed in a thread."""
    state, answers = serving_state(request), answers_of(request)
    model = state.require_model()
    near = parse_near(body.near) if body.near is not None else None
    office = model.cube.office(body.office_id)
    now = local_now(state.clock, office.timezone)
    today = body.today or now.date()
    horizon = dt.timedelta(days=state.settings.horizon_days - 1)
    if not now.date() - dt.timedelta(days=PAST_DAYS) <= today <= now.date() + horizon:
        raise ParameterError(
            "today",
            f"{today} is more than {PAST_DAYS} days before or "
            f"beyond the forecast horizon after {now.date()}",
        )
    asked = AdviceRequest(
        office.id,
        today,
        body.travel_date,
        body.residency,
        body.expedited,
        body.earliest_appointment,
        now=now.time() if body.today is None else None,
        near=near,
        turn=turns_of(request).next(office.id),
    )
    # Everything the answer depends on but the turn (resolved through the kept rotation).
    key = (
        "advice",
        office.id,
        today,
        body.travel_date,
        body.residency,
        body.expedited,
        body.earliest_appointment,
        body.near,
        now.date(),
        now.hour if asked.now is not None else None,
    )
    kept = answers.advice_body(model, key, asked.turn)
    if kept is not None:
        return json_bytes(kept)
    last = max(today, now.date()) + horizon

    def work(compute: bool) -> Advice:
        return advise(asked, advice_context(state, model), CubeSource(model.cube, last, compute))

    advice = await on_loop_or_thread(work)
    answer = json_response(advice_response(advice, model.forecaster.offices, model.version))
    answers.keep_advice(model, key, advice.rotation, bytes(answer.body))
    return answer
