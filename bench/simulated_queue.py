"""The simulated queue the advice bench reads outcomes from, and the trips citizens make.

A :class:`SimulatedQueue` answers from a simulated ticket log: the wait of a random ticket
of an office, date, hour and channel (sent home at closing when never called), the share
of walk-ins called, the actual booking lead of a day. :func:`walk_in` comes back the next
open day when sent home; :func:`trip_minutes` is the advice's own travel estimate.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from features import schema as s
from serving.advice import AdviceContext
from serving.advice.cost import travel_minutes
from serving.advice.places import office_distance_km

WALK_IN, APPOINTMENT = s.Channel.WALK_IN.value, s.Channel.APPOINTMENT.value
ISSUED_MINUTE = "issued_minute"  # minutes after midnight at which the ticket was taken


class SimulatedQueue:
    """Lookups into a simulated ticket log: waits per office hour, and booking leads."""

    def __init__(self, log: pd.DataFrame, ctx: AdviceContext):
        self.ctx, self.offices = ctx, ctx.offices
        issued = log[s.ISSUED_AT]
        start = issued.where(
            log[s.CHANNEL] == WALK_IN, log[[s.ISSUED_AT, s.APPOINTMENT_AT]].max(axis=1)
        )
        wait = ((log[s.CALLED_AT] - start).dt.total_seconds() / 60).clip(lower=0)
        frame = pd.DataFrame(
            {
                s.OFFICE_ID: log[s.OFFICE_ID].astype(str),
                s.DATE: issued.dt.date,
                s.HOUR: issued.dt.hour,
                s.CHANNEL: log[s.CHANNEL].astype(str),
                s.WAIT: wait.to_numpy(),
                ISSUED_MINUTE: (issued.dt.hour * 60 + issued.dt.minute).to_numpy(),
            }
        )
        self.end = max(frame[s.DATE])
        cell = [s.OFFICE_ID, s.DATE, s.HOUR, s.CHANNEL]
        self.cells = {
            key: (g[s.WAIT].to_numpy(float), g[ISSUED_MINUTE].to_numpy(float))
            for key, g in frame.groupby(cell, sort=False)
        }
        self.called = {
            key: float(np.mean(~np.isnan(w)))
            for key, (w, _) in self.cells.items()
            if key[3] == WALK_IN
        }
        booked = log[log[s.BOOKED_AT].notna() & log[s.APPOINTMENT_AT].notna()]
        slot_day, booked_day = booked[s.APPOINTMENT_AT].dt.normalize(), booked[s.BOOKED_AT]
        lead = (slot_day - booked_day.dt.normalize()).dt.days
        by_day = lead.groupby([booked[s.OFFICE_ID].astype(str), booked[s.BOOKED_AT].dt.date])
        self.leads: dict[tuple[str, dt.date], int] = {k: int(v) for k, v in by_day.median().items()}

    def open_hours(self, office_id: str, date: dt.date) -> list[int]:
        """Hours the office is open on a date."""
        return self.ctx.open_hours(self.offices.get(office_id), date)

    def next_open_day(self, office_id: str, date: dt.date) -> dt.date:
        """The first day on or after ``date`` the office opens."""
        return self.ctx.next_open_day(self.offices.get(office_id), date)

    def appointment_date(self, office_id: str, today: dt.date) -> dt.date:
        """Today plus the actual median lead of the bookings made that day (or the day before)."""
        for back in range(8):
            lead = self.leads.get((office_id, today - dt.timedelta(days=back)))
            if lead is not None:
                return self.next_open_day(office_id, today + dt.timedelta(days=max(1, lead)))
        return self.next_open_day(office_id, today + dt.timedelta(days=1))

    def called_share(self, office_id: str, date: dt.date, hour: int) -> float:
        """Share of the walk-in tickets of that hour that were called (1 without tickets)."""
        return self.called.get((office_id, date, hour, WALK_IN), 1.0)

    def visit(
        self, office_id: str, date: dt.date, hour: int, channel: str, rng: np.random.Generator
    ) -> tuple[bool, float]:
        """(called, minutes waited) of a random ticket of that hour; no ticket = no wait."""
        cell = self.cells.get((office_id, date, hour, channel))
        if cell is None:
            return True, 0.0
        k = int(rng.integers(len(cell[0])))
        if not np.isnan(cell[0][k]):
            return True, float(cell[0][k])
        office = self.offices.get(office_id)
        close = max(x.close_minute for x in office.sessions_for(self.ctx.day(office, date)))
        return False, max(0.0, close - cell[1][k])


def walk_in(
    queue: SimulatedQueue,
    office_id: str,
    date: dt.date,
    hour: int,
    rng: np.random.Generator,
    max_visits: int,
) -> tuple[dt.date | None, float]:
    """Walk in, coming back the next open day at the same (or nearest open) hour if sent home."""
    applied, waited, _ = walk_in_trips(queue, office_id, date, hour, rng, max_visits)
    return applied, waited


def walk_in_trips(
    queue: SimulatedQueue,
    office_id: str,
    date: dt.date,
    hour: int,
    rng: np.random.Generator,
    max_visits: int,
) -> tuple[dt.date | None, float, int]:
    """As :func:`walk_in`, with the number of trips made."""
    waited = 0.0
    for visit in range(1, max_visits + 1):
        hours = queue.open_hours(office_id, date)
        hour = min(hours, key=lambda h: (abs(h - hour), h))
        called, minutes = queue.visit(office_id, date, hour, WALK_IN, rng)
        waited += minutes
        if called:
            return date, waited, visit
        date = queue.next_open_day(office_id, date + dt.timedelta(days=1))
    return None, waited, max_visits


def trip_minutes(queue: SimulatedQueue, home: str, office_id: str) -> float:
    """Minutes there and back from the chosen office to ``office_id``, by the advice's own
    estimate (straight line × detour ÷ speed, twice)."""
    start, office = queue.offices.get(home), queue.offices.get(office_id)
    km = office_distance_km(office, start.lat, start.lon) or 0.0
    return float(travel_minutes(km, queue.ctx.settings))
