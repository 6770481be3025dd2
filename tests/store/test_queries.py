"""DuckDB over the store gives the same hourly table and training data as the pandas path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from features import schema as s
from features.calendar_cn import ChinaCalendar
from features.calendars import Calendars
from features.dataset import prepare_data
from features.hourly import hourly_table, observation_outcomes, ticket_outcomes
from features.offices import OfficeRegistry
from features.read import read_inputs
from features.validate import validate
from store.duck import connect
from store.ingest import ingest
from store.layout import Store
from store.queries import hourly_observations, hourly_tickets
from store.sql import office_batches
from tests.factories import observations, write_table
from tests.toy_data import toy_tickets
from training.from_store import StoreLimits, prepare_from_store


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory, offices: OfficeRegistry):
    """Toy tickets (with an office missing from the registry) and observations, ingested."""
    folder = tmp_path_factory.mktemp("queries")
    tickets = toy_tickets(dt.date(2025, 6, 2), dt.date(2025, 7, 20))
    other = toy_tickets(dt.date(2025, 6, 2), dt.date(2025, 7, 20), seed=1, office_ids=("hz-xihu",))
    other[s.OFFICE_ID] = "zj-ningbo.haishu"  # not in the registry
    other[s.TICKET_ID] = "N" + other[s.TICKET_ID].astype(str)
    paths = [
        write_table(pd.concat([tickets, other], ignore_index=True), folder / "t.parquet"),
        write_table(observations(days=20), folder / "o.csv"),
    ]
    ingest(Store.open(folder / "st", create=True), paths, offices)
    results = [validate(raw, offices) for raw in read_inputs(paths)]
    frames = {r.kind: r.accepted for r in results}
    return Store.open(folder / "st"), frames


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def test_the_sql_hourly_table_equals_the_pandas_one(
    stored, offices: OfficeRegistry, calendar: ChinaCalendar
) -> None:
    store, frames = stored
    con = connect("512MB")
    tickets = frames[s.InputKind.TICKETS]
    outcomes = ticket_outcomes(tickets, offices, Calendars(calendar))
    expected = hourly_table(outcomes, from_tickets=True)
    got = hourly_tickets(con, store.partition_files(s.InputKind.TICKETS))
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-12)
    assert (got[s.NEVER_CALLED_SHARE] > 0).any()  # censored tickets are counted as such
    obs = frames[s.InputKind.OBSERVATIONS]
    expected = hourly_table(observation_outcomes(obs), from_tickets=False)
    got = hourly_observations(con, store.partition_files(s.InputKind.OBSERVATIONS))
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-12)
    cut = dt.date(2025, 7, 1)
    early = tickets[tickets[s.ISSUED_AT] < pd.Timestamp(cut)]
    expected = hourly_table(ticket_outcomes(early, offices, Calendars(calendar)), from_tickets=True)
    got = hourly_tickets(con, store.partition_files(s.InputKind.TICKETS), until=cut)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-12)


def test_training_data_from_the_store_equals_prepare_data(
    stored, offices: OfficeRegistry, calendar: ChinaCalendar
) -> None:
    store, frames = stored
    expected = prepare_data(
        frames[s.InputKind.TICKETS], frames[s.InputKind.OBSERVATIONS], offices, Calendars(calendar)
    )
    limits = StoreLimits(memory_limit="512MB", activity_per_office=100_000)
    got = prepare_from_store(store, offices, Calendars(calendar), limits)
    pd.testing.assert_frame_equal(got.hourly, expected.hourly, check_dtype=False, rtol=1e-12)
    for name in ("outcomes", "bookings"):
        pd.testing.assert_frame_equal(
            _sorted(getattr(got, name)), _sorted(getattr(expected, name)), check_dtype=False
        )
    pd.testing.assert_frame_equal(got.queues, expected.queues)
    assert (got.start, got.end, got.kinds) == (expected.start, expected.end, expected.kinds)
    assert got.service_minutes == expected.service_minutes
    assert got.offices.to_records() == expected.offices.to_records()
    assert "zj-ningbo.haishu" in got.offices.ids


def test_outcomes_beyond_the_limit_are_a_repeatable_uniform_sample(
    stored, offices: OfficeRegistry, calendar: ChinaCalendar
) -> None:
    store, _ = stored
    limits = StoreLimits(memory_limit="512MB", max_outcomes=1000)
    first = prepare_from_store(store, offices, Calendars(calendar), limits).outcomes
    again = prepare_from_store(store, offices, Calendars(calendar), limits).outcomes
    assert len(first) == 1000
    pd.testing.assert_frame_equal(_sorted(first), _sorted(again))


def test_an_empty_store_says_to_ingest_first(
    tmp_path: Path, offices: OfficeRegistry, calendar: ChinaCalendar
) -> None:
    from features.errors import UnusableInputError

    with pytest.raises(UnusableInputError, match="ingest exports first"):
        prepare_from_store(Store.open(tmp_path / "st", create=True), offices, Calendars(calendar))
    _ = write_table  # the factories write every format the reader takes


def test_batches_of_whole_offices_give_the_same_table(stored) -> None:
    store, _ = stored
    files = store.partition_files(s.InputKind.TICKETS)
    batches = office_batches(files, batch_bytes=1)  # one office a batch
    assert len(batches) == len({f.parent.parent.name for f in files}) > 1
    assert sorted(p for b in batches for p in b) == sorted(files)
    con = connect("512MB")
    whole = hourly_tickets(con, files)
    pd.testing.assert_frame_equal(hourly_tickets(con, files, batch_bytes=1), whole)
