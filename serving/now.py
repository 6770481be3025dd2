"""The wait for a number taken now: live from a fresh queue state, else this hour's forecast."""

from __future__ import annotations

import datetime as dt

from features import schema as s
from features.calendar_base import WorkCalendar
from features.offices import Office
from serving.cube import DayForecast
from serving.live import DEFAULT_SERVICE_MINUTES, QueueState, live_wait
from serving.schemas import LiveInfo, NowChannel, NowResponse
from serving.state import LoadedModel

NEXT_OPENING_SEARCH_DAYS = 60


def service_minutes(model: LoadedModel, office_id: str) -> float:
    """Minutes per ticket at a window from the model's recent data (a default if none)."""
    known = model.forecaster.service_minutes
    if office_id in known:
        return known[office_id]
    if known:
        return sorted(known.values())[len(known) // 2]
    return DEFAULT_SERVICE_MINUTES


def is_open(office: Office, calendar: WorkCalendar, now: dt.datetime) -> bool:
    """True when ``now`` (office time) falls in one of the day's sessions."""
    moment = now.time().replace(tzinfo=None)
    return any(x.open <= moment < x.close for x in office.sessions_for(calendar.day(now.date())))


def next_opening(office: Office, calendar: WorkCalendar, now: dt.datetime) -> dt.datetime | None:
    """The next session start after ``now`` (office time), within two months."""
    for offset in range(NEXT_OPENING_SEARCH_DAYS):
        date = now.date() + dt.timedelta(days=offset)
        for session in sorted(office.sessions_for(calendar.day(date)), key=lambda x: x.open):
            start = dt.datetime.combine(date, session.open, tzinfo=now.tzinfo)
            if start > now:
                return start
    return None


def live_answer(
    model: LoadedModel, office: Office, state: QueueState, now: dt.datetime
) -> NowResponse:
    """The answer from a fresh queue state."""
    minutes = service_minutes(model, office.id)
    channels = []
    for channel in office.channels:
        wait = live_wait(state, channel.value, minutes)
        channels.append(
            NowChannel(
                channel=channel,
                service=None,
                people_ahead=wait.people_ahead,
                p10=wait.p10,
                p50=wait.p50,
                p90=wait.p90,
            )
        )
    age = round(state.age(now).total_seconds() / 60, 1)
    info = LiveInfo(
        observed_at=state.observed_at.astimezone(now.tzinfo),
        age_minutes=age,
        windows_open=state.windows_open,
        service_minutes=minutes,
    )
    return NowResponse(
        office_id=office.id,
        model_version=model.version,
        source="live",
        as_of=now,
        closed=False,
        next_opening=None,
        live=info,
        channels=channels,
    )


def forecast_answer(
    model: LoadedModel,
    office: Office,
    day: DayForecast | None,
    calendar: WorkCalendar,
    now: dt.datetime,
) -> NowResponse:
    """The answer from the forecast of the current hour (or closed, with the next opening)."""
    if day is None or not is_open(office, calendar, now):
        return NowResponse(
            office_id=office.id,
            model_version=model.version,
            source="forecast",
            as_of=now,
            closed=True,
            next_opening=next_opening(office, calendar, now),
            live=None,
            channels=[],
        )
    channels = [
        NowChannel(
            channel=row[s.CHANNEL],
            service=row[s.SERVICE],
            people_ahead=None,
            p10=row[s.P10],
            p50=row[s.P50],
            p90=row[s.P90],
            expected_arrivals=row[s.EXPECTED_ARRIVALS],
            p_called=row[s.P_CALLED],
        )
        for row in day.rows
        if row[s.HOUR] == now.hour
    ]
    return NowResponse(
        office_id=office.id,
        model_version=model.version,
        source="forecast",
        as_of=now,
        closed=False,
        next_opening=None,
        live=None,
        channels=channels,
    )
