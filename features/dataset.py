"""Validated tickets and observations -> what the models learn from (:class:`TrainingData`).

:func:`prepare_data` does, in order:

1. infers the offices missing from the registry (hours, mode; country, region and time
   zone from the caller's :class:`~features.offices.Locale`);
2. learns each region's closed days and open holidays from the activity
   (:func:`features.calendars.learn_days`). Inferred offices whose country was not given
   get China's calendar unless they worked on Chinese public holidays: then their country
   is unknown (weekends only, closures learned) and a note says to pass ``--country``;
3. builds the outcomes, the hourly table on the open-hour grid and the appointment book;
4. keeps as forecast queues those with activity in their region's last four weeks (an
   office that stopped posting is not forecast; a note names it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from features import schema as s
from features.bookings import BOOK_COLUMNS, appointment_book, service_minutes
from features.calendar_world import CN
from features.calendars import NO_COUNTRY, Calendars, LearnedDays, calendar_key, learn_days
from features.errors import UnusableInputError
from features.events import Event
from features.hourly import (
    hourly_table,
    observation_outcomes,
    open_grid,
    ticket_outcomes,
    with_open_hours,
)
from features.infer import Locale, infer_offices
from features.offices import Office, OfficeRegistry
from features.posts import empty_stuck_days

ACTIVE_WINDOW_DAYS = 28  # a queue silent for this long before its region's last day is dropped


@dataclass
class TrainingData:
    """What the models learn from, derived once from the validated input."""

    hourly: pd.DataFrame
    outcomes: pd.DataFrame  # called waits / posted waits: queue keys, date, hour, wait
    bookings: pd.DataFrame  # office_id, date, hour (of the slot), booked_date
    offices: OfficeRegistry
    calendars: Calendars
    queues: pd.DataFrame  # the queues to forecast: office_id, channel, service
    start: dt.date
    end: dt.date
    kinds: tuple[str, ...]
    service_minutes: dict[str, float] = field(default_factory=dict)
    events: tuple[Event, ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def has_bookings(self) -> bool:
        """True when the tickets carry booked_at."""
        return not self.bookings.empty

    @property
    def span_days(self) -> int:
        """Days from the first to the last day of data, both included."""
        return (self.end - self.start).days + 1

    def before(self, until: dt.date) -> TrainingData:
        """The same data cut to dates before ``until`` (what a backtest fold may see)."""
        return dataclasses.replace(
            self,
            hourly=self.hourly[self.hourly[s.DATE] < until],
            outcomes=self.outcomes[self.outcomes[s.DATE] < until],
            bookings=self.bookings[self.bookings[s.BOOKED_DATE] < until],
            end=min(self.end, until - dt.timedelta(days=1)),
        )


def prepare_data(
    tickets: pd.DataFrame | None,
    observations: pd.DataFrame | None,
    offices: OfficeRegistry,
    calendars: Calendars,
    locale: Locale | None = None,
    events: tuple[Event, ...] = (),
) -> TrainingData:
    """Outcomes, hourly table and bookings from validated frames (either may be None)."""
    has_tickets = tickets is not None and len(tickets) > 0
    has_obs = observations is not None and len(observations) > 0
    stuck: list[dt.date] = []
    if observations is not None and has_obs:
        observations, stuck = empty_stuck_days(observations)
    activity = _activity(tickets if has_tickets else None, observations if has_obs else None)
    if activity.empty:
        raise UnusableInputError("no usable rows to train on")
    offices, calendars, notes = resolve_offices(activity, offices, calendars, locale or Locale())
    if stuck:
        days = ", ".join(d.isoformat() for d in stuck[:5]) + (" …" if len(stuck) > 5 else "")
        notes.append(
            f"{len(stuck)} day(s) on which every office posted only zero waits ({days}) "
            "were read as closed days with a stuck feed"
        )
    outcome_frames, hourly_frames, kinds = [], [], []
    bookings = pd.DataFrame(columns=BOOK_COLUMNS)
    service: dict[str, float] = {}
    if tickets is not None and has_tickets:
        per_ticket = ticket_outcomes(tickets, offices, calendars)
        hourly_frames.append(hourly_table(per_ticket, from_tickets=True))
        outcome_frames.append(per_ticket[~per_ticket[s.CENSORED]])
        bookings = appointment_book(tickets)
        service = service_minutes(tickets)
        kinds.append(s.InputKind.TICKETS.value)
    if observations is not None and has_obs:
        per_obs = observation_outcomes(observations)
        hourly_frames.append(hourly_table(per_obs, from_tickets=False))
        outcome_frames.append(per_obs)
        kinds.append(s.InputKind.OBSERVATIONS.value)
    outcomes = pd.concat(outcome_frames, ignore_index=True)
    return assemble(
        pd.concat(hourly_frames, ignore_index=True),
        outcomes[[*s.QUEUE_KEYS, s.DATE, s.HOUR, s.WAIT]],
        bookings,
        offices,
        calendars,
        kinds,
        service,
        events,
        notes,
    )


def assemble(
    hourly: pd.DataFrame,
    outcomes: pd.DataFrame,
    bookings: pd.DataFrame,
    offices: OfficeRegistry,
    calendars: Calendars,
    kinds: list[str],
    service: dict[str, float],
    events: tuple[Event, ...],
    notes: list[str],
) -> TrainingData:
    """The training data from its derived tables: the hourly table put on the open-hour
    grid, and the queues to forecast (steps 3-4 of the module docstring, shared by the
    pandas path and the store's SQL path)."""
    if hourly.empty or hourly[s.N_OUTCOMES].sum() == 0:
        raise UnusableInputError("the input has no waits to learn from")
    all_queues = hourly[list(s.QUEUE_KEYS)].drop_duplicates().reset_index(drop=True)
    start, end = min(hourly[s.DATE]), max(hourly[s.DATE])
    grid = open_grid(all_queues, offices, calendars, start, end)
    queues, dropped = _active_queues(hourly, offices)
    if dropped:
        notes.append(
            f"not forecast: {', '.join(dropped)} (no activity in the last "
            f"{ACTIVE_WINDOW_DAYS} days of their region's data)"
        )
    return TrainingData(
        hourly=with_open_hours(hourly, grid),
        outcomes=outcomes,
        bookings=bookings,
        offices=offices,
        calendars=calendars,
        queues=queues,
        start=start,
        end=end,
        kinds=tuple(kinds),
        service_minutes=service,
        events=events,
        notes=notes,
    )


def _activity(tickets: pd.DataFrame | None, observations: pd.DataFrame | None) -> pd.DataFrame:
    """One row per ticket or posted wait: office, channel and local time (``ACTIVITY_AT``)."""
    frames = []
    if tickets is not None:
        frames.append(
            tickets[[s.OFFICE_ID, s.CHANNEL]].assign(**{s.ACTIVITY_AT: tickets[s.ISSUED_AT]})
        )
    if observations is not None:
        seen = observations[observations[s.WAIT_MINUTES].notna()]
        frames.append(seen[[s.OFFICE_ID, s.CHANNEL]].assign(**{s.ACTIVITY_AT: seen[s.OBSERVED_AT]}))
    if not frames:
        return pd.DataFrame(columns=[s.OFFICE_ID, s.CHANNEL, s.ACTIVITY_AT])
    activity = pd.concat(frames, ignore_index=True)
    activity[s.OFFICE_ID] = activity[s.OFFICE_ID].astype(str)
    return activity


def resolve_offices(
    activity: pd.DataFrame, registry: OfficeRegistry, calendars: Calendars, locale: Locale
) -> tuple[OfficeRegistry, Calendars, list[str]]:
    """Steps 1-2 of the module docstring: inferred offices added, calendars corrected by
    the learned closures and openings, and notes on both.

    ``activity`` has one row per ticket or posted wait: ``office_id``, ``channel`` and the
    local time (``schema.ACTIVITY_AT``).
    """
    notes: list[str] = []
    inferred = infer_offices(activity, registry, locale)
    offices = registry.merged(inferred)
    dated = activity.assign(**{s.DATE: pd.to_datetime(activity[s.ACTIVITY_AT]).dt.date})
    learned = learn_days(dated, offices, calendars)
    if locale.country is None and inferred:
        contradicted = learned.open_holidays.get(calendar_key(CN, None), frozenset())
        if contradicted and any(not o.inferred for o in offices if o.country == CN):
            contradicted = frozenset()  # registry offices in China: keep the China calendar
        if contradicted:
            offices = registry.merged([_without_country(o) for o in inferred])
            learned = learn_days(dated, offices, calendars)
            notes.append(
                f"offices {', '.join(o.id for o in inferred)} worked on Chinese public "
                f"holidays ({', '.join(sorted(contradicted))}), so they are not on China's "
                "calendar: forecast with weekends only and the closures seen in the data; "
                "give their country (and region) for their public holidays"
            )
    _note_learned(learned, notes)
    return offices, calendars.with_learned(learned), notes


def _without_country(office: Office) -> Office:
    return office.model_copy(update={"country": NO_COUNTRY, "region": None})


def _note_learned(learned: LearnedDays, notes: list[str]) -> None:
    for key, names in sorted(learned.open_holidays.items()):
        notes.append(f"calendar {key or '(none)'}: open on {', '.join(sorted(names))} (data)")
    for key, dates in sorted(learned.closed.items()):
        notes.append(f"calendar {key or '(none)'}: {len(dates)} closed day(s) learned from data")


def _active_queues(hourly: pd.DataFrame, offices: OfficeRegistry) -> tuple[pd.DataFrame, list[str]]:
    """Queues with activity in the last weeks of their region's data, and the dropped ones."""
    active = hourly[hourly[s.N_OUTCOMES] > 0]
    key = (
        active[s.OFFICE_ID]
        .astype(str)
        .map({o.id: calendar_key(o.country, o.region) for o in offices})
    )
    region_end = active[s.DATE].groupby(key).transform("max")
    last = active.assign(_end=region_end).groupby(list(s.QUEUE_KEYS), observed=True)
    table = last.agg(_last=(s.DATE, "max"), _end=("_end", "max")).reset_index()
    cutoff = table["_end"] - pd.Timedelta(days=ACTIVE_WINDOW_DAYS)
    keep = pd.to_datetime(table["_last"]) > pd.to_datetime(cutoff)
    dropped = sorted(f"{r[s.OFFICE_ID]}/{r[s.CHANNEL]}" for _, r in table[~keep].iterrows())
    return table.loc[keep, list(s.QUEUE_KEYS)].reset_index(drop=True), dropped
