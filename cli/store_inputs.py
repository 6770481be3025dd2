"""The data source of `train` and `evaluate`: input files, or a store (``--store DIR``).

With files, :func:`cli.inputs.load_inputs` reads and validates them and
:func:`training.pipeline.prepare_data` derives the training data in pandas; with a store
(filled by ``waitcast ingest``), DuckDB derives it out of core
(:func:`training.from_store.prepare_from_store`), and the rows were validated on ingest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from cli import common
from cli.inputs import Inputs, load_inputs
from features.calendar_cn import load_calendar
from features.calendars import Calendars
from features.dataset import TrainingData, prepare_data
from features.errors import ParameterError
from features.events import load_events
from features.infer import Locale
from features.offices import load_offices
from store.duck import DEFAULT_MEMORY_LIMIT, check_memory_limit
from store.ingest import manifest_rows
from store.layout import Store
from training.from_store import StoreLimits, prepare_from_store
from training.provenance import data_fingerprint

__all__ = ["StoreInputs", "load_source", "source_fingerprint", "stored_rows", "training_data"]


@dataclass
class StoreInputs(Inputs):
    """Inputs read from a store: the training data already derived, and the store's identity."""

    data: TrainingData | None = None
    fingerprint: str = ""


def load_source(
    paths: list[Path] | None,
    store_dir: Path | None,
    offices_file: Path | None,
    calendar_file: Path | None,
    max_reject_share: float,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    until: dt.date | None = None,
    locale: Locale | None = None,
    events_file: Path | None = None,
) -> Inputs:
    """Files or a store, never both; ``until`` cuts a store's rows (files are cut later)."""
    if store_dir is None:
        if not paths:
            raise ParameterError("PATH", "give input files or folders, or --store DIR")
        return load_inputs(
            paths, offices_file, calendar_file, max_reject_share, locale, events_file
        )
    if paths:
        raise ParameterError("--store", "give either input files or --store DIR, not both")
    check_memory_limit(memory_limit)
    store = Store.open(store_dir)
    offices = load_offices(offices_file)
    calendars = Calendars(load_calendar(calendar_file))
    locale, events = locale or Locale(), load_events(events_file)
    with common.progress("aggregating the store (DuckDB)"):
        data = prepare_from_store(
            store, offices, calendars, StoreLimits(memory_limit), until, locale, events
        )
    manifest = store.manifest()
    digest = hashlib.sha256(json.dumps([e["sha256"] for e in manifest]).encode()).hexdigest()
    return StoreInputs(
        tickets=None,
        observations=None,
        results=[],
        files=[f"{store_dir} (snapshot {store.current()}, {len(manifest)} files ingested)"],
        offices=offices,
        calendars=calendars,
        locale=locale,
        events=events,
        data=data,
        fingerprint=digest,
    )


def stored_rows(store_dir: Path | None) -> int:
    """Rows in the store (0 without one): big stores train their folds one at a time."""
    if store_dir is None:
        return 0
    store = Store.open(store_dir)
    return sum(manifest_rows(store, store.snapshot_dir()).values())


def training_data(inputs: Inputs) -> TrainingData:
    """The training data: derived by the store already, else from the validated frames."""
    if isinstance(inputs, StoreInputs) and inputs.data is not None:
        return inputs.data
    return prepare_data(
        inputs.tickets,
        inputs.observations,
        inputs.offices,
        inputs.calendars,
        inputs.locale,
        inputs.events,
    )


def source_fingerprint(inputs: Inputs) -> str:
    """sha256 of the data: of the validated rows, or of the store's ingested files."""
    if isinstance(inputs, StoreInputs):
        return inputs.fingerprint
    return data_fingerprint([f for f in (inputs.tickets, inputs.observations) if f is not None])
