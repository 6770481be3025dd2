"""What the advice reads besides the forecasts: calendar, offices, booking leads, settings.

The calendar is looked up in one place, :meth:`AdviceContext.calendar_of`; every other
module asks the context (``ctx.day``, ``ctx.open_hours``, ``ctx.next_open_day``) instead
of holding a calendar of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from features.calendar_base import DayInfo, WorkCalendar
from features.calendars import Calendars
from features.offices import Office, OfficeRegistry
from serving.advice.settings import AdviceSettings

ONE_DAY = dt.timedelta(days=1)
MAX_CLOSED_RUN_DAYS = 60  # a search for an open day gives up after this many closed days


@dataclass(frozen=True)
class AdviceContext:
    """The calendar, the office registry, the predicted booking leads and the settings."""

    calendars: Calendars
    offices: OfficeRegistry
    lead_days: Mapping[str, float] = field(default_factory=dict)
    settings: AdviceSettings = field(default_factory=AdviceSettings)
    service_minutes: Mapping[str, float] = field(default_factory=dict)  # minutes per ticket

    def office(self, office_id: str) -> Office:
        """The office with this id; raises :class:`UnknownOfficeError`."""
        return self.offices.get(office_id)

    def hour_capacity(self, office: Office) -> float:
        """Tickets the office's windows serve in an hour: windows × 60 / minutes per ticket."""
        windows = office.windows or self.settings.default_windows
        minutes = self.service_minutes.get(office.id) or self.settings.default_service_minutes
        return windows * 60.0 / minutes

    def calendar_of(self, office: Office) -> WorkCalendar:
        """The working-day calendar that applies at ``office`` (the one calendar lookup)."""
        return self.calendars.of(office)

    def day(self, office: Office, date: dt.date) -> DayInfo:
        """What the office's calendar says about ``date``."""
        return self.calendar_of(office).day(date)

    def open_hours(self, office: Office, date: dt.date) -> list[int]:
        """The hours the office is open on ``date`` (empty when closed)."""
        return office.open_hours_on(self.day(office, date))

    def is_open(self, office: Office, date: dt.date) -> bool:
        """True when the office opens on ``date``."""
        return bool(office.sessions_for(self.day(office, date)))

    def recommendable_hours(self, office: Office, date: dt.date) -> list[int]:
        """The open hours the advice may name: none on an unconfirmed holiday (a public
        holiday of the office's country the data have not shown it open or closed on: its
        hours are forecast, but the office may well be closed)."""
        return [] if self.day(office, date).unconfirmed else self.open_hours(office, date)

    def is_recommendable(self, office: Office, date: dt.date) -> bool:
        """True when the office opens on ``date`` and the day is no unconfirmed holiday."""
        return self.is_open(office, date) and not self.day(office, date).unconfirmed

    def last_open_day(self, office: Office, date: dt.date) -> dt.date | None:
        """The last day on or before ``date`` the office surely opens (see
        :meth:`is_recommendable`; None after a run of :data:`MAX_CLOSED_RUN_DAYS` closed
        days)."""
        day = date
        for _ in range(MAX_CLOSED_RUN_DAYS):
            if self.is_recommendable(office, day):
                return day
            day -= ONE_DAY
        return None

    def next_open_day(self, office: Office, date: dt.date) -> dt.date:
        """The first day on or after ``date`` the office surely opens (``date`` itself
        after a run of :data:`MAX_CLOSED_RUN_DAYS` closed days, which no real office has)."""
        day = date
        for _ in range(MAX_CLOSED_RUN_DAYS):
            if self.is_recommendable(office, day):
                return day
            day += ONE_DAY
        return date
