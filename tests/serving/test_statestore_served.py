"""Served forecasts and documents in the state store, SQLite and a real Redis alike."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest

from serving.statestore import StateStore, open_store
from serving.statestore.served import KEEP_SERVED_DAYS, ServedForecast

DAY = dt.date(2026, 11, 30)


@pytest.fixture
def store(store_url: str) -> Iterator[StateStore]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def served(
    hour: int, p50: float = 12.0, version: str = "v0001", date: dt.date = DAY
) -> ServedForecast:
    return ServedForecast(
        "hz-city", "walk_in", "general", date, hour, version, "model", p50 / 2, p50, p50 * 2, p50
    )


def test_each_queue_hour_and_version_is_kept_once_the_first_wins(store: StateStore) -> None:
    assert store.record_served([served(9), served(10)]) == 2
    # a second worker records the same hours (and one more), with other figures
    assert store.record_served([served(9, p50=99.0), served(11)]) == 1
    assert store.record_served([served(9, version="v0002")]) == 1  # another version: kept
    got = store.served_forecasts(DAY, DAY)
    assert [(r.hour, r.version, r.p50) for r in got] == [
        (9, "v0001", 12.0),
        (9, "v0002", 12.0),
        (10, "v0001", 12.0),
        (11, "v0001", 12.0),
    ]
    assert got[0] == served(9)
    assert store.served_forecasts(DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=9)) == []
    assert store.record_served([]) == 0


def test_served_forecasts_are_read_by_date_range(store: StateStore) -> None:
    days = [DAY - dt.timedelta(days=k) for k in range(5)]
    store.record_served([dataclasses.replace(served(9), date=d) for d in days])
    got = store.served_forecasts(days[3], days[1])
    assert [r.date for r in got] == [days[3], days[2], days[1]]


def test_old_served_forecasts_are_purged_on_sqlite(store: StateStore) -> None:
    if not store.description.startswith("sqlite"):
        pytest.skip("Redis expires them by TTL (set on every write)")
    old = DAY - dt.timedelta(days=KEEP_SERVED_DAYS + 1)
    store.record_served([served(9, date=old)])
    store.record_served([served(9)])
    assert store.served_forecasts(old, DAY) == [served(9)]


def test_documents_are_replaced_whole(store: StateStore) -> None:
    assert store.document("switches") is None
    store.put_document("switches", '{"a": 1}')
    store.put_document("switches", '{"b": 2}')
    assert store.document("switches") == '{"b": 2}'
    assert store.document("accuracy") is None
