"""Advice and best-times answers written from the pure advice: the one place they round.

:func:`advice_response` and :func:`best_time_out` turn :mod:`serving.advice`'s
dataclasses into the models of :mod:`serving.schemas_advice` (minutes and km to 0.1,
shares to 0.001); the route and ``waitcast advise --format json`` both write through
them, so the decision itself always reads unrounded numbers.
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel

from features.offices import OfficeRegistry
from features.schema import Channel
from serving.advice import Advice, HourOption
from serving.schemas_advice import (
    AdviceResponse,
    AppointmentOut,
    IssuingOut,
    Sentence,
    TimeOption,
)

__all__ = ["advice_response", "best_time_out", "json_bytes", "json_response"]


def _minutes(value: float) -> float:
    return round(value, 1)


def _minutes_or_none(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _km(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def best_time_out(option: HourOption, offices: OfficeRegistry) -> TimeOption:
    """The API view of one hour option, rounded here (minutes and km to 0.1, shares to 0.001)."""
    office = offices.get(option.office_id)
    return TimeOption(
        office_id=option.office_id,
        office_name_zh=office.name_zh,
        office_name_en=office.name_en,
        date=option.date,
        hour=option.hour,
        channel=Channel(option.channel),
        p10=_minutes(option.p10),
        p50=_minutes(option.p50),
        p90=_minutes(option.p90),
        expected_wait=_minutes(option.expected_wait),
        p_called=_share(option.p_called),
        distance_km=_km(option.distance_km),
        near_best=option.near_best,
        calendar_estimated=option.calendar_estimated,
        document_ready=option.document_ready,
        last_day_to_apply=option.last_day_to_apply,
        travel_minutes=_minutes_or_none(option.travel_minutes),
        cost_minutes=_minutes_or_none(option.cost_minutes),
    )


def advice_response(
    advice: Advice, offices: OfficeRegistry, model_version: str | None
) -> AdviceResponse:
    """The API view of an advice."""
    office = offices.get(advice.office_id)
    issuing = advice.issuing
    appointment = None
    if advice.appointment is not None:
        a = advice.appointment
        appointment = AppointmentOut(
            date=a.date,
            source=a.source,  # type: ignore[arg-type]
            lead_days=a.lead_days,
            in_time=a.in_time,
            document_ready=a.document_ready,
            wait=best_time_out(a.wait, offices) if a.wait is not None else None,
        )
    return AdviceResponse(
        model_version=model_version,
        office_id=office.id,
        office_name_zh=office.name_zh,
        office_name_en=office.name_en,
        today=advice.today,
        advice=advice.advice,
        travel_date=advice.deadline.travel_date if advice.deadline else None,
        last_day_to_apply=advice.last_day_to_apply,
        issuing=IssuingOut(
            rule=issuing.rule.value,
            days=issuing.days,
            unit="working_days" if issuing.working_days else "days",
        ),
        document_ready=advice.document_ready,
        calendar_estimated=advice.calendar_estimated,
        appointment=appointment,
        walk_in=[best_time_out(o, offices) for o in advice.walk_in],
        reasons=[Sentence(zh=r.zh, en=r.en) for r in advice.reasons],
    )


def json_response(body: BaseModel) -> Response:
    """The model as a JSON answer, serialised once (by alias, as FastAPI's response models
    are): a route returning a Response is not validated and serialised again."""
    return json_bytes(body.model_dump_json(by_alias=True).encode())


def json_bytes(body: bytes) -> Response:
    """JSON bytes serialised before (a kept answer) as the answer."""
    return Response(body, media_type="application/json")
