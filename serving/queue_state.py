"""What an office's queue system may post, checked strictly, and the state it becomes.

- Counts and windows are JSON integers: ``"5"``, ``5.0`` and ``true`` are refused.
- ``observed_at``, when given, is an ISO 8601 string with a UTC offset: a number (``0``
  would be 1970) or a time without an offset is refused. Absent, it is the server's now.
- It is at most :data:`MAX_AHEAD` ahead of the server's clock, and no older than the
  freshness window (``WAITCAST_LIVE_FRESH_MINUTES``): an older state would never be shown.
- The office is open then: a state for a closed office-hour is refused, with the next
  opening (and ``GET …/now`` ignores a stored state once the office has closed).
- ``windows_open`` is at most the office's windows in the registry (500 when unknown),
  and a walk-in-only office posts no appointment count.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt
from pydantic_core import PydanticCustomError

from features import schema as s
from features.calendar_base import WorkCalendar
from features.errors import ParameterError
from features.offices import Office
from serving.live import QueueState
from serving.now import is_open, next_opening

MAX_WAITING = 100_000
MAX_WINDOWS = 500
MAX_AHEAD = dt.timedelta(minutes=1)
EXAMPLE_TIME = "2026-11-26T10:05:00+08:00"


def _iso_time_with_offset(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise PydanticCustomError(
            "iso_time",
            f"expected an ISO 8601 time string with a UTC "
            f"offset, like {EXAMPLE_TIME}, not a number",
        )
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError(
            "iso_time", f"{value[:40]!r} is not an ISO 8601 time; expected one like {EXAMPLE_TIME}"
        ) from None
    if parsed.tzinfo is None:
        raise PydanticCustomError(
            "iso_time", f"{value[:40]!r} has no UTC offset; add one, like {EXAMPLE_TIME}"
        )
    return parsed


class Waiting(BaseModel):
    """People waiting per channel."""

    model_config = ConfigDict(extra="forbid")
    walk_in: StrictInt = Field(0, ge=0, le=MAX_WAITING)
    appointment: StrictInt = Field(0, ge=0, le=MAX_WAITING)


class QueueStateIn(BaseModel):
    """What an office's queue system posts."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "waiting": {"walk_in": 23, "appointment": 4},
                    "windows_open": 6,
                    "observed_at": EXAMPLE_TIME,
                }
            ]
        },
    )
    waiting: Waiting
    windows_open: StrictInt = Field(
        ge=1,
        le=MAX_WINDOWS,
        description=("Windows serving now: at most the office's windows in GET /v1/offices."),
    )
    observed_at: Annotated[dt.datetime, BeforeValidator(_iso_time_with_offset)] | None = Field(
        None,
        description="When counted: an ISO 8601 time with a UTC offset, at most a minute "
        "ahead and no older than the freshness window (default: now).",
    )


class QueueStateAck(BaseModel):
    """The stored queue state."""

    office_id: str
    observed_at: dt.datetime
    fresh_until: dt.datetime = Field(description="Until then GET …/now answers from it.")


class QueueStateCleared(BaseModel):
    """The answer to clearing an office's queue state."""

    office_id: str
    cleared: bool = Field(description="False when no state was stored.")


def to_state(
    body: QueueStateIn,
    office: Office,
    calendar: WorkCalendar,
    now: dt.datetime,
    fresh_for: dt.timedelta,
) -> QueueState:
    """The queue state ``body`` posts for ``office`` at ``now`` (office time), or a
    :class:`ParameterError` naming the field and why."""
    observed = body.observed_at.astimezone(now.tzinfo) if body.observed_at else now
    observed = observed.replace(microsecond=0)
    if observed - now > MAX_AHEAD:
        raise ParameterError(
            "observed_at",
            f"{observed.isoformat()} is more than a minute "
            f"ahead of the server's clock ({now.isoformat()})",
        )
    if now - observed > fresh_for:
        raise ParameterError(
            "observed_at",
            f"{observed.isoformat()} is older than "
            f"{fresh_for.total_seconds() / 60:g} minutes "
            "(WAITCAST_LIVE_FRESH_MINUTES): it would never be shown",
        )
    if not is_open(office, calendar, observed):
        raise ParameterError("observed_at", closed_message(office, calendar, observed))
    windows = office.windows or MAX_WINDOWS
    if body.windows_open > windows:
        raise ParameterError(
            "windows_open",
            f"{body.windows_open} is more than the {windows} windows of office {office.id}",
        )
    if body.waiting.appointment and not office.takes_appointments:
        raise ParameterError("waiting.appointment", f"office {office.id} is walk-in only")
    waiting = {
        s.Channel.WALK_IN.value: body.waiting.walk_in,
        s.Channel.APPOINTMENT.value: body.waiting.appointment,
    }
    return QueueState(waiting, body.windows_open, observed, now)


def closed_message(office: Office, calendar: WorkCalendar, moment: dt.datetime) -> str:
    """Why no queue state can be taken at ``moment``: closed, and when it opens next."""
    day = calendar.day(moment.date())
    holiday = f" ({day.holiday_en})" if day.holiday and day.holiday_en else ""
    opening = next_opening(office, calendar, moment)
    then = f" (next opening {opening.strftime('%Y-%m-%d %H:%M')})" if opening else ""
    return (
        f"office {office.id} is closed at {moment.strftime('%Y-%m-%d %H:%M')}{holiday}: a queue "
        f"state is taken only while it is open{then}"
    )
