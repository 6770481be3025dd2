"""Training data from a store: :class:`TrainingData` by DuckDB SQL instead of pandas frames.

What :func:`training.pipeline.prepare_data` derives from validated frames held in memory,
this derives from the store's partitions out of core: the hourly table and the appointment
book by SQL (:mod:`store.queries`), then the same open-hour grid and office inference.
Only the aggregated tables come into memory, plus two bounded samples:

- individual waits (``outcomes``: they calibrate the p10–p90 range and score the
  backtest) are all loaded up to ``max_outcomes``, a uniform sample of that many beyond;
- rows for inferring the hours of offices missing from the registry, up to
  ``activity_per_office`` per office.

On a store small enough for both limits the result equals ``prepare_data`` on the same
rows (tested).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from features import schema as s
from features.bookings import BOOK_COLUMNS
from features.calendars import Calendars
from features.dataset import TrainingData, assemble, resolve_offices
from features.errors import UnusableInputError
from features.events import Event
from features.infer import Locale
from features.offices import OfficeRegistry
from store import queries, ticket_tables
from store.duck import DEFAULT_MEMORY_LIMIT, connect, duckdb_errors
from store.layout import Store

__all__ = ["StoreLimits", "prepare_from_store"]


@dataclass(frozen=True)
class StoreLimits:
    """How much of a store training brings into memory besides the hourly table."""

    memory_limit: str = DEFAULT_MEMORY_LIMIT
    max_outcomes: int = 5_000_000
    activity_per_office: int = 5_000
    seed: int = 0


def prepare_from_store(
    store: Store,
    offices: OfficeRegistry,
    calendars: Calendars,
    limits: StoreLimits | None = None,
    until: dt.date | None = None,
    locale: Locale | None = None,
    events: tuple[Event, ...] = (),
) -> TrainingData:
    """The training data of the store's current snapshot (rows dated before ``until``)."""
    limits = limits or StoreLimits()
    tickets = store.partition_files(s.InputKind.TICKETS)
    observations = store.partition_files(s.InputKind.OBSERVATIONS)
    if not tickets and not observations:
        raise UnusableInputError(f"store {store.root} holds no rows: ingest exports first")
    with tempfile.TemporaryDirectory(prefix="waitcast-duckdb-") as spill:
        con = connect(limits.memory_limit, Path(spill))
        try:
            with duckdb_errors(f"store {store.root}", limits.memory_limit):
                return _prepare(
                    con,
                    tickets,
                    observations,
                    offices,
                    calendars,
                    limits,
                    until,
                    locale or Locale(),
                    events,
                )
        finally:
            con.close()


def _prepare(
    con: duckdb.DuckDBPyConnection,
    tickets: list[Path],
    observations: list[Path],
    offices: OfficeRegistry,
    calendars: Calendars,
    limits: StoreLimits,
    until: dt.date | None,
    locale: Locale,
    events: tuple[Event, ...],
) -> TrainingData:
    activity = ticket_tables.activity_sample(
        con, tickets, observations, limits.activity_per_office, until
    )
    if activity.empty:
        raise UnusableInputError("no usable rows to train on")
    offices, calendars, notes = resolve_offices(activity, offices, calendars, locale)
    hourly_frames, kinds = [], []
    bookings = pd.DataFrame(columns=BOOK_COLUMNS)
    service: dict[str, float] = {}
    if tickets:
        hourly_frames.append(queries.hourly_tickets(con, tickets, until))
        bookings = ticket_tables.appointment_book(con, tickets, s.BOOKED_DATE, until)
        service = ticket_tables.service_minutes(con, tickets, until)
        kinds.append(s.InputKind.TICKETS.value)
    if observations:
        hourly = queries.hourly_observations(con, observations, until)
        if len(hourly):
            hourly_frames.append(hourly)
            kinds.append(s.InputKind.OBSERVATIONS.value)
    frames = [f for f in hourly_frames if len(f)]
    if not frames:
        raise UnusableInputError("the input has no waits to learn from")
    outcomes = queries.called_outcomes(
        con, tickets, observations, until, max_rows=limits.max_outcomes, seed=limits.seed
    )
    return assemble(
        pd.concat(frames, ignore_index=True),
        outcomes,
        bookings,
        offices,
        calendars,
        kinds,
        service,
        events,
        notes,
    )
