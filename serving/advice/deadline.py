"""The traveller's deadline: how long issuing takes, and the last day to apply.

Issuing times after the application is accepted (Hangzhou exit-entry bureau, June 2023):

- residents of Zhejiang: within **7 working days**;
- residents of other provinces: within **20 days** (calendar days);
- expedited cases, with proof: within **5 working days**, whatever the residency.

Working days are counted on the China working-day calendar: public holidays do not count,
make-up working days (调休) do. The day of the application does not count. The document
must be ready **by the day before travel**. Pure: no I/O, no clock; the calendar is the
one :meth:`serving.advice.context.AdviceContext.calendar_of` gives for the office.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

from features.calendar_base import WorkCalendar
from features.errors import ParameterError

ONE_DAY = dt.timedelta(days=1)


class Residency(StrEnum):
    """Where the applicant's household is registered (户籍)."""

    IN_PROVINCE = "in_province"
    OUT_OF_PROVINCE = "out_of_province"


class IssuingRule(StrEnum):
    """Which issuing time applies to an application."""

    IN_PROVINCE = "in_province"
    OUT_OF_PROVINCE = "out_of_province"
    EXPEDITED = "expedited"


@dataclass(frozen=True, slots=True)
class IssuingTime:
    """How long issuing takes: ``days`` working days, or calendar days."""

    rule: IssuingRule
    days: int
    working_days: bool

    @property
    def unit_en(self) -> str:
        """The unit in English, e.g. ``working days``."""
        return "working days" if self.working_days else "days"

    @property
    def unit_zh(self) -> str:
        """The unit in Chinese, e.g. ``个工作日``."""
        return "个工作日" if self.working_days else "天"


ISSUING_TIMES = {
    IssuingRule.IN_PROVINCE: IssuingTime(IssuingRule.IN_PROVINCE, 7, True),
    IssuingRule.OUT_OF_PROVINCE: IssuingTime(IssuingRule.OUT_OF_PROVINCE, 20, False),
    IssuingRule.EXPEDITED: IssuingTime(IssuingRule.EXPEDITED, 5, True),
}


@dataclass(frozen=True, slots=True)
class Deadline:
    """The last day to apply so that the document is ready the day before travel.

    ``by_rule`` is the latest application date the issuing rule allows;
    ``last_day_to_apply`` is the last day on or before it that the office opens (the two
    differ when the office is closed then, e.g. over the Spring Festival).
    """

    travel_date: dt.date
    issuing: IssuingTime
    last_day_to_apply: dt.date
    calendar_estimated: bool  # some day in [last_day_to_apply, travel_date] is estimated
    by_rule: dt.date

    @property
    def moved(self) -> bool:
        """True when the office is closed on the rule's last day."""
        return self.last_day_to_apply != self.by_rule


def issuing_time(residency: Residency | str, expedited: bool) -> IssuingTime:
    """The issuing time for a residency, or the expedited one when ``expedited``."""
    if expedited:
        return ISSUING_TIMES[IssuingRule.EXPEDITED]
    try:
        rule = IssuingRule(Residency(residency).value)
    except ValueError:
        choices = ", ".join(r.value for r in Residency)
        raise ParameterError("residency", f"must be one of {choices}, got {residency!r}") from None
    return ISSUING_TIMES[rule]


def ready_date(apply_date: dt.date, issuing: IssuingTime, calendar: WorkCalendar) -> dt.date:
    """The day the document is ready when the application is accepted on ``apply_date``."""
    if issuing.working_days:
        return calendar.add_working_days(apply_date, issuing.days)
    return apply_date + dt.timedelta(days=issuing.days)


def last_day_to_apply(
    travel_date: dt.date, issuing: IssuingTime, calendar: WorkCalendar
) -> dt.date:
    """The latest application date whose document is ready by the day before travel.

    With working days this is the day before the ``days``-th working day counted back
    from the day before travel (that day included), so that ``days`` working days lie
    strictly after the application and on or before the day before travel.
    """
    ready_by = travel_date - ONE_DAY
    if not issuing.working_days:
        return ready_by - dt.timedelta(days=issuing.days)
    day, found = ready_by, 0
    while True:
        if calendar.is_working_day(day):
            found += 1
            if found == issuing.days:
                return day - ONE_DAY
        day -= ONE_DAY


def deadline_for(travel_date: dt.date, issuing: IssuingTime, calendar: WorkCalendar) -> Deadline:
    """The deadline of a trip by the issuing rule (any office open on that day), flagged
    when the calendar of any day it spans is estimated."""
    last = last_day_to_apply(travel_date, issuing, calendar)
    span = (travel_date - last).days
    estimated = any(calendar.day(last + dt.timedelta(days=k)).estimated for k in range(span + 1))
    return Deadline(travel_date, issuing, last, estimated, last)


def on_open_day(deadline: Deadline, last_open: dt.date | None) -> Deadline:
    """The deadline moved to the office's last open day on or before the rule's day."""
    if last_open is None or last_open == deadline.by_rule:
        return deadline
    return replace(deadline, last_day_to_apply=last_open)
