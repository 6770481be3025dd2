"""Request and response models of the advice and best-times API, with OpenAPI examples.

The builders (:func:`advice_response`, :func:`best_time_out`) turn the pure module's
dataclasses into these models; the CLI prints the same shape with ``--format json``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import Response
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from features.offices import OfficeRegistry
from features.schema import Channel
from serving.advice import Advice, AdviceKind, HourOption, Residency

WAIT_P10 = "Wait minutes, 10th percentile."
WAIT_P50 = "Wait minutes, median."
WAIT_P90 = "Wait minutes, 90th percentile."


class AdviceRequestBody(BaseModel):
    """What the traveller tells us."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "office_id": "hz-city",
                    "travel_date": "2026-12-20",
                    "residency": "in_province",
                    "expedited": False,
                    "earliest_appointment": None,
                    "today": "2026-11-26",
                }
            ]
        },
    )
    office_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="The office the traveller would go to.",
    )
    travel_date: dt.date | None = Field(
        None, description="Departure date; none = no trip planned yet."
    )
    residency: Residency = Field(
        Residency.IN_PROVINCE,
        description="`in_province` (Zhejiang "
        "household registration: 7 working days) or `out_of_province` "
        "(20 days).",
    )
    expedited: bool = Field(
        False,
        strict=True,
        description="Expedited with proof: 5 working days (`true` or `false`, nothing else).",
    )
    earliest_appointment: dt.date | None = Field(
        None,
        description="The earliest free slot on the booking site, when known; else the "
        "model's predicted booking lead is used.",
    )
    today: dt.date | None = Field(
        None,
        description="The day of the decision (default: today "
        "in the office's time zone, with today's remaining hours).",
    )
    near: str | None = Field(
        None,
        max_length=64,
        examples=["30.21,120.21"],
        description="`LAT,LON` where the citizen sets out from (default: "
        "the chosen office): options are ranked door to door, "
        "travel there and back included.",
    )


class Sentence(BaseModel):
    """One reason, in both languages."""

    zh: str = Field(examples=["浙江省内居民出证需 7 个工作日……"])
    en: str = Field(examples=["For residents of Zhejiang, issuing takes 7 working days…"])


class TimeOption(BaseModel):
    """One office hour on one date with its predicted wait."""

    office_id: str = Field(examples=["hz-city"])
    office_name_zh: str
    office_name_en: str
    date: dt.date
    hour: int = Field(ge=0, le=23, description="Local hour: take a number in [h:00, h+1:00).")
    channel: Channel
    p10: float = Field(description=WAIT_P10)
    p50: float = Field(description=WAIT_P50, examples=[12.5])
    p90: float = Field(description=WAIT_P90, examples=[31.0])
    expected_wait: float = Field(
        description="Predicted mean wait (0.3·p10 + 0.4·p50 + 0.3·p90), the ranking measure."
    )
    p_called: float | None = Field(description="Walk-in: chance of being called before closing.")
    distance_km: float | None = Field(
        description="From `near`, else from the chosen office (advice); from `near` (best times)."
    )
    travel_minutes: float | None = Field(
        None,
        description="Door to door, there and back: distance × 1.4 ÷ 25 km/h, twice "
        "(null when no start is known).",
    )
    cost_minutes: float | None = Field(
        None,
        description="The ranking measure: expected wait + travel + the chance of not "
        "being called × (a 120-minute second trip + the travel again).",
    )
    near_best: bool = Field(description="About as good as the best hour: pick any of these.")
    calendar_estimated: bool
    document_ready: dt.date | None = Field(
        None, description="Advice only: when the document would be ready."
    )
    last_day_to_apply: dt.date | None = Field(
        None,
        description="Advice with a travel date only: the last day this office opens on "
        "or before the latest application date the issuing rule allows.",
    )


class IssuingOut(BaseModel):
    """How long issuing takes."""

    rule: Literal["in_province", "out_of_province", "expedited"]
    days: int = Field(examples=[7])
    unit: Literal["working_days", "days"]


class AppointmentOut(BaseModel):
    """The appointment option."""

    date: dt.date
    source: Literal["caller", "predicted", "assumed"] = Field(
        description="`caller`: the earliest slot you gave; `predicted`: today + the model's "
        "booking lead; `assumed`: no lead known."
    )
    lead_days: float | None
    in_time: bool = Field(description="False when the date is after the last day to apply.")
    document_ready: dt.date
    wait: TimeOption | None = Field(
        description="The best appointment hour that day and its wait, when forecast."
    )


class AdviceResponse(BaseModel):
    """Book, walk in, or ask for urgent service; with the options and the reasons."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model_version": "v0001",
                    "office_id": "hz-city",
                    "today": "2026-11-26",
                    "advice": "walk_in",
                    "travel_date": "2026-12-20",
                    "last_day_to_apply": "2026-12-10",
                    "issuing": {"rule": "in_province", "days": 7, "unit": "working_days"},
                    "document_ready": "2026-12-08",
                    "calendar_estimated": False,
                    "appointment": None,
                    "walk_in": [],
                    "reasons": [{"zh": "……", "en": "…"}],
                }
            ]
        }
    )
    model_version: str | None
    office_id: str
    office_name_zh: str
    office_name_en: str
    today: dt.date
    advice: AdviceKind = Field(description="`book`, `walk_in` or `urgent_service`.")
    travel_date: dt.date | None
    last_day_to_apply: dt.date | None = Field(
        description="The last day the office opens on "
        "or before the latest application date whose "
        "document is ready the day before travel."
    )
    issuing: IssuingOut
    document_ready: dt.date | None = Field(description="For the recommended option.")
    calendar_estimated: bool = Field(
        description="Some date relies on an estimated holiday calendar."
    )
    appointment: AppointmentOut | None = Field(description="None at walk-in-only offices.")
    walk_in: list[TimeOption] = Field(
        description="Near-best walk-in hours before the deadline, "
        "nearest first among comparable ones; spread over days."
    )
    reasons: list[Sentence]


class BestTimesResponse(BaseModel):
    """The hours with the shortest predicted wait in a date range."""

    model_version: str
    start: dt.date = Field(
        validation_alias=AliasChoices("from", "start"),
        serialization_alias="from",
        description="First date.",
    )
    to: dt.date
    channel: Channel
    near: list[float] | None = Field(None, description="[lat, lon] distances are measured from.")
    hours: list[TimeOption] = Field(
        description="Near-best hours first (nearest first when "
        "`near` is given), then the rest by cost."
    )
    times: list[TimeOption] = Field(
        deprecated=True,
        description="Deprecated: the same list as "
        "`hours` (the name every per-hour list has), until /v2.",
    )


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
