"""Book or walk in: the advice for one traveller — the one entry point, :func:`advise`.

Pure: the request, an :class:`AdviceContext` and a :class:`ForecastSource` come in; no
HTTP, no I/O, no clock. The decision, in order:

1. A travel date gives the last day to apply (:mod:`serving.advice.deadline`).
2. Walk-in candidates: open hours from ``today`` (remaining hours, when ``now`` is given)
   or tomorrow up to that day, at the office and the others within ``nearby_km``, with at
   least ``min_p_called`` chance of being called before closing. The near-best set of them
   is offered, spread over days and offices (no herding).
3. The appointment (dual-track offices only): the earliest slot the caller gives, else
   today + the office's predicted booking lead; its best hour's wait that day.
4. Walk-in-only office → ``walk_in``. An appointment after the last day to apply →
   ``walk_in``. Whenever walking in is needed but no candidate exists before the last
   day → ``urgent_service``. Otherwise → ``book`` (the bureau's advice), unless a good
   walk-in hour *at the office itself* has a p90 of at most ``short_walk_in_p90_minutes``
   → ``walk_in`` (a booking is not traded for a trip to another district).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

from features import schema as s
from features.calendar_cn import DayInfo
from features.errors import ParameterError
from features.offices import Office
from serving.advice import reasons as say
from serving.advice.appointment import AppointmentOption, appointment_date, appointment_option
from serving.advice.context import AdviceContext
from serving.advice.deadline import (
    Deadline,
    IssuingTime,
    Residency,
    deadline_for,
    issuing_time,
    on_open_day,
)
from serving.advice.deadline import ready_date as issued_on
from serving.advice.options import HourOption
from serving.advice.places import nearby_offices, start_point
from serving.advice.reasons import Reason
from serving.advice.sources import ForecastSource
from serving.advice.walk_in import Rotation, walk_in_candidates, walk_in_options

ONE_DAY = dt.timedelta(days=1)
MAX_YEARS_AHEAD = 4  # travel dates are at most max_travel_days (two years) ahead


class AdviceKind(StrEnum):
    """What to do."""

    BOOK = "book"
    WALK_IN = "walk_in"
    URGENT_SERVICE = "urgent_service"


@dataclass(frozen=True, slots=True)
class AdviceRequest:
    """What the traveller tells us; ``now`` (local time) adds today's remaining hours."""

    office_id: str
    today: dt.date
    travel_date: dt.date | None = None
    residency: Residency = Residency.IN_PROVINCE
    expedited: bool = False
    earliest_appointment: dt.date | None = None
    now: dt.time | None = None
    near: tuple[float, float] | None = None  # where the citizen sets out from (lat, lon)
    turn: int = 0  # the request's number for this office (serving.advice.hours.rotation_pick)


@dataclass(frozen=True, slots=True)
class Advice:
    """The answer: what to do, by when, the options and why."""

    advice: AdviceKind
    office_id: str
    today: dt.date
    deadline: Deadline | None
    issuing: IssuingTime
    document_ready: dt.date | None
    appointment: AppointmentOption | None
    walk_in: tuple[HourOption, ...]
    reasons: tuple[Reason, ...]
    calendar_estimated: bool
    rotation: Rotation | None = None  # what the request's turn chose (None: nothing)

    @property
    def last_day_to_apply(self) -> dt.date | None:
        """The last day to apply, when a travel date was given."""
        return self.deadline.last_day_to_apply if self.deadline else None


def advise(request: AdviceRequest, ctx: AdviceContext, forecasts: ForecastSource) -> Advice:
    """The advice for one traveller.

    Args:
        request: the traveller's office, dates, residency and ``today``.
        ctx: the calendar, office registry, booking leads and settings.
        forecasts: asked once for the view of the dates and offices the advice reads.

    Raises:
        UnknownOfficeError: the office is not in ``ctx.offices``.
        ParameterError: a date before ``today``, or an appointment on a closed day.
    """
    settings = ctx.settings
    office = ctx.office(request.office_id)
    _check(request, office, ctx)
    issuing = issuing_time(request.residency, request.expedited)
    deadline = None
    if request.travel_date is not None:
        by_rule = deadline_for(request.travel_date, issuing, ctx.calendar_of(office))
        deadline = on_open_day(by_rule, ctx.last_open_day(office, by_rule.by_rule))
    first, last = _search_window(request, deadline, ctx)
    start = start_point(office, request.near)
    near = nearby_offices(office, ctx.offices, settings.nearby_km, start)
    slot = None
    if office.takes_appointments:
        slot = appointment_date(office, request.today, request.earliest_appointment, ctx)
    end = max(last, request.today, slot[0] if slot else request.today)
    view = forecasts.view(request.today, end, [o.id for o in near], ctx)

    reasons: list[Reason] = []
    if deadline is not None:
        reasons.append(say.deadline_reason(deadline))
        if deadline.moved:
            reasons.append(
                say.moved_deadline_reason(deadline, office, _closures(deadline, office, ctx))
            )
        if deadline.by_rule < first:
            reasons.append(say.too_late_reason(deadline, first))
    from_hour = request.now.hour + 1 if request.now is not None else 0
    walk = view.hours(s.Channel.WALK_IN.value, [o.id for o in near], first, last, from_hour)
    likely = walk_in_candidates(walk, office, ctx, deadline is not None)
    choice = walk_in_options(
        likely, office, ctx, start, view.load(), request.turn, deadline is not None
    )
    calendar = ctx.calendar_of(office)
    walk_in = tuple(
        replace(
            o,
            document_ready=issued_on(o.date, issuing, calendar),
            last_day_to_apply=_office_last_day(deadline, o.office_id, ctx),
        )
        for o in choice.options
    )
    appointment = None
    if slot is not None:
        date, lead, source = slot
        day_hours = view.hours(s.Channel.APPOINTMENT.value, [office.id], date, date)
        appointment = appointment_option(
            office, date, lead, source, day_hours, ctx, deadline, issuing, start
        )
        reasons.append(say.appointment_reason(office, date, lead, source, appointment.wait))
        if not appointment.in_time and deadline is not None:
            reasons.append(say.not_in_time_reason(date, deadline))
    else:
        reasons.append(say.walk_in_only_reason(office))
    good = choice.good
    kind = _decide(deadline, appointment, walk_in, good, ctx)
    if walk_in:
        best = walk_in[0]
        where = ctx.office(best.office_id)
        nearby = best.distance_km is not None and best.distance_km <= settings.nearby_label_km
        reasons.append(say.walk_in_reason(best, where, choice.n_near_best, choice.n_days))
        if best.office_id != office.id and walk_in[-1].office_id == office.id:
            reasons.append(say.own_office_reason(office, walk_in[-1], best, nearby))
    elif kind is not AdviceKind.BOOK and deadline is not None and last >= first:
        reasons.append(say.no_walk_in_reason(last, settings.min_p_called))
    ready = _ready(kind, appointment, walk_in)
    short = good if kind is AdviceKind.WALK_IN else None
    reasons.append(
        say.decision_reason(kind.value, settings.short_walk_in_p90_minutes, short, ready)
    )
    estimated = _estimated(office, request.today, deadline, appointment, walk_in, ctx)
    if estimated:
        reasons.append(say.estimated_reason(_first_estimated_year(office, request.today, ctx)))
    return Advice(
        kind,
        office.id,
        request.today,
        deadline,
        issuing,
        ready,
        appointment,
        walk_in,
        tuple(reasons),
        estimated,
        choice.rotation,
    )


def _check(request: AdviceRequest, office: Office, ctx: AdviceContext) -> None:
    """Refuse dates before today or too far ahead, and an appointment on a closed day."""
    limit = ctx.settings.max_travel_days
    for name, date in (
        ("travel_date", request.travel_date),
        ("earliest_appointment", request.earliest_appointment),
    ):
        if date is None:
            continue
        if date < request.today:
            raise ParameterError(name, f"{date} is before today ({request.today})")
        if (date - request.today).days > limit:
            raise ParameterError(name, f"{date} is more than {limit} days ahead")
    slot = request.earliest_appointment
    if slot is not None and office.takes_appointments and not ctx.is_open(office, slot):
        raise ParameterError("earliest_appointment", f"{office.id} is closed on {slot}")


def _search_window(
    request: AdviceRequest, deadline: Deadline | None, ctx: AdviceContext
) -> tuple[dt.date, dt.date]:
    """The first and last day of the walk-in search."""
    settings = ctx.settings
    first = request.today if request.now is not None else request.today + ONE_DAY
    if deadline is None:
        return first, first + dt.timedelta(days=settings.no_deadline_days - 1)
    cap = first + dt.timedelta(days=settings.max_search_days - 1)
    return first, min(deadline.by_rule, cap)


def _office_last_day(
    deadline: Deadline | None, office_id: str, ctx: AdviceContext
) -> dt.date | None:
    """The last day the office opens on or before the rule's last day (None: no deadline)."""
    if deadline is None:
        return None
    return ctx.last_open_day(ctx.office(office_id), deadline.by_rule)


def _closures(deadline: Deadline, office: Office, ctx: AdviceContext) -> list[DayInfo]:
    """The office's closed days after its last open day, up to the rule's last day."""
    span = (deadline.by_rule - deadline.last_day_to_apply).days
    days = [deadline.last_day_to_apply + dt.timedelta(days=k) for k in range(1, span + 1)]
    return [ctx.day(office, d) for d in days]


def _decide(
    deadline: Deadline | None,
    appointment: AppointmentOption | None,
    walk_in: tuple[HourOption, ...],
    good: HourOption | None,
    ctx: AdviceContext,
) -> AdviceKind:
    if appointment is None or (deadline is not None and not appointment.in_time):
        if walk_in or deadline is None:
            return AdviceKind.WALK_IN
        return AdviceKind.URGENT_SERVICE
    if good is not None and good.p90 <= ctx.settings.short_walk_in_p90_minutes:
        return AdviceKind.WALK_IN
    return AdviceKind.BOOK


def _ready(
    kind: AdviceKind, appointment: AppointmentOption | None, walk_in: tuple[HourOption, ...]
) -> dt.date | None:
    if kind is AdviceKind.BOOK and appointment is not None:
        return appointment.document_ready
    if kind is AdviceKind.WALK_IN and walk_in:
        return walk_in[0].document_ready
    return None


def _estimated(
    office: Office,
    today: dt.date,
    deadline: Deadline | None,
    appointment: AppointmentOption | None,
    walk_in: tuple[HourOption, ...],
    ctx: AdviceContext,
) -> bool:
    """True when some date of the advice relies on an estimated holiday calendar."""
    dates = [today]
    if appointment is not None:
        dates += [appointment.date, appointment.document_ready]
    dates += [d for o in walk_in for d in (o.date, o.document_ready) if d is not None]
    return bool(
        (deadline and deadline.calendar_estimated)
        or any(ctx.day(office, d).estimated for d in dates)
        or any(o.calendar_estimated for o in walk_in)
    )


def _first_estimated_year(office: Office, today: dt.date, ctx: AdviceContext) -> int:
    """The first year from today's on whose calendar is an estimate."""
    years = range(today.year, today.year + MAX_YEARS_AHEAD)
    return next((y for y in years if ctx.day(office, dt.date(y, 1, 1)).estimated), today.year)
