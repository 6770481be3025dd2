"""The state store, SQLite and a real Redis alike: queue states, partner keys, rate buckets."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serving.errors import StateStoreError
from serving.live import QueueState
from serving.statestore import (
    Limit,
    PartnerKey,
    StateStore,
    check_state_url,
    default_state_url,
    gcra,
    open_store,
    redacted,
    sqlite_store,
)
from tests.serving.redisserver import free_port
from tests.serving.support import TODAY, at

SECOND = 1_000_000
NOW = 1_795_000_000 * SECOND  # some moment in 2026, in microseconds


@pytest.fixture
def store(store_url: str) -> Iterator[StateStore]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def state(minute: int, walk_in: int = 5, windows: int = 3) -> QueueState:
    moment = at(TODAY, 10, minute)
    return QueueState({"walk_in": walk_in, "appointment": 1}, windows, moment, moment)


def key(name: str, digest: str, created: str = "2026-11-26T10:00:00+00:00") -> PartnerKey:
    return PartnerKey(name, digest, "wck_abcd", 600, created)


def test_queue_states_round_trip_and_the_newest_wins(store: StateStore) -> None:
    assert store.queue_state("hz-city") is None
    assert store.put_queue_state("hz-city", state(10)) == state(10)
    stored = store.queue_state("hz-city")
    assert stored == state(10) and stored is not None
    assert stored.observed_at.utcoffset() == dt.timedelta(hours=8)
    assert store.put_queue_state("hz-city", state(5, walk_in=99)) == state(10)  # older: kept out
    assert store.put_queue_state("hz-city", state(12, walk_in=7)) == state(12, walk_in=7)
    assert store.queue_state("hz-xihu") is None
    assert store.clear_queue_state("hz-city") is True
    assert store.queue_state("hz-city") is None
    assert store.clear_queue_state("hz-city") is False


def test_partner_keys_are_added_found_listed_and_revoked(store: StateStore) -> None:
    assert store.add_key(key("booking", "d1")) is True
    assert store.add_key(key("booking", "d2")) is False  # an active key holds the name
    assert store.add_key(key("travel", "d3", "2026-11-26T11:00:00+00:00")) is True
    found = store.find_key("d1")
    assert found is not None and found.name == "booking" and found.per_minute == 600
    assert store.find_key("d2") is None
    assert [k.name for k in store.list_keys()] == ["booking", "travel"]
    revoked = store.revoke_key("booking", "2026-11-27T09:00:00+00:00")
    assert revoked is not None and revoked.revoked_at == "2026-11-27T09:00:00+00:00"
    assert store.find_key("d1") is None
    assert store.revoke_key("booking", "2026-11-27T09:00:00+00:00") is None
    assert store.revoke_key("nobody", "2026-11-27T09:00:00+00:00") is None
    assert store.add_key(key("booking", "d4", "2026-11-28T00:00:00+00:00")) is True  # name free
    listed = {(k.digest, k.revoked_at is None) for k in store.list_keys()}
    assert listed == {("d1", False), ("d3", True), ("d4", True)}


def test_a_bucket_allows_its_burst_then_refills_at_its_rate(store: StateStore) -> None:
    limit = Limit(per_minute=60, burst=3)  # one a second
    assert [store.take("ip:a", limit, NOW) for _ in range(3)] == [0, 0, 0]
    assert store.take("ip:a", limit, NOW) == SECOND
    assert store.take("ip:a", limit, NOW + SECOND // 2) == SECOND // 2  # a refusal spends nothing
    assert store.take("ip:a", limit, NOW + SECOND) == 0
    assert store.take("ip:a", limit, NOW + SECOND) == SECOND
    assert store.take("ip:b", limit, NOW) == 0  # buckets are separate
    later = NOW + 3600 * SECOND
    assert [store.take("ip:a", limit, later) for _ in range(3)] == [0, 0, 0]  # never above burst
    assert store.take("ip:a", limit, later) > 0
    earlier = NOW - 3600 * SECOND  # the clock set back an hour: the bucket is empty, no more
    assert store.take("ip:a", limit, earlier) == SECOND
    assert store.take("ip:a", limit, earlier + SECOND) == 0


def test_takes_from_several_connections_are_atomic(store_url: str) -> None:
    """Eight connections (as eight workers would hold) race for one bucket of 100."""
    limit = Limit(per_minute=1, burst=100)
    stores = [open_store(store_url) for _ in range(8)]
    allowed: list[int] = []
    lock = threading.Lock()

    def hammer(mine: StateStore) -> None:
        won = sum(1 for _ in range(40) if mine.take("key:shared", limit, NOW) == 0)
        with lock:
            allowed.append(won)

    threads = [threading.Thread(target=hammer, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for opened in stores:
        opened.close()
    assert sum(allowed) == 100 and len(allowed) == 8


def test_the_sqlite_file_is_in_wal_mode_and_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "deeper" / "state.sqlite3"
    first = open_store(f"sqlite:///{path}")
    first.put_queue_state("hz-city", state(10))
    first.close()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = open_store(f"sqlite:///{path}")
    assert again.queue_state("hz-city") == state(10)
    again.close()


def test_sqlite_forgets_full_buckets_now_and_then(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "PURGE_EVERY", 10)
    store = sqlite_store.SQLiteStore(tmp_path / "state.sqlite3")
    limit = Limit(per_minute=60, burst=5)
    for client in range(9):
        store.take(f"ip:{client}", limit, NOW)
    assert store.rate_buckets() == 9
    store.take("ip:late", limit, NOW + 10 * SECOND)  # the 10th take: the nine are full again
    assert store.rate_buckets() == 1


def test_redis_buckets_expire_once_full(redis_url: str) -> None:
    store = open_store(redis_url)
    store.take("ip:a", Limit(per_minute=60, burst=3), NOW)
    ttl = redis.Redis.from_url(redis_url).pttl("waitcast:rate:ip:a")
    assert 0 < ttl <= 2000  # one second to be full again, plus a second of margin


def test_an_unusable_store_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(StateStoreError, match=r"cannot be opened.*WAITCAST_STATE_URL"):
        open_store(f"sqlite:///{blocker}/state.sqlite3")
    absent = open_store(f"redis://:hunter2@127.0.0.1:{free_port()}/0")
    with pytest.raises(StateStoreError, match="does not answer") as raised:
        absent.ping()
    with pytest.raises(StateStoreError):
        absent.take("ip:a", Limit(60, 3), NOW)
    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///rel/state.sqlite3",
        "sqlite:////abs/s.sqlite3",
        "redis://localhost:6379/0",
        "redis://h:1",
        "rediss://:pw@h:6380/2",
    ],
)
def test_state_urls_of_both_kinds_are_taken(url: str) -> None:
    assert check_state_url(url) == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("postgres://h/db", "not a state store URL"),
        ("sqlite:///", "names no file"),
        ("sqlite://relative", "not a state store URL"),
        ("redis://h:port/0", "redis"),
        ("redis://h:6379/zero", "DB a number"),
        ("redis:///0", "redis://HOST:PORT/DB"),
    ],
)
def test_bad_state_urls_say_what_is_expected(url: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_state_url(url)


def test_the_default_store_is_a_file_beside_the_registry(tmp_path: Path) -> None:
    url = default_state_url(tmp_path / "registry")
    assert url == f"sqlite:///{tmp_path}/registry-state.sqlite3"
    assert redacted("redis://:secret@h:1/0") == "redis://***@h:1/0"
    assert redacted("redis://user:secret@h:1/0") == "redis://***@h:1/0"
    assert redacted("redis://h:1/0") == "redis://h:1/0"


def test_gcra_is_a_token_bucket() -> None:
    limit = Limit(per_minute=120, burst=2)  # one every half second
    assert limit.emission_us == SECOND // 2
    tat, wait = gcra(None, NOW, limit)
    assert (tat, wait) == (NOW + SECOND // 2, 0)
    tat, wait = gcra(tat, NOW, limit)
    assert (tat, wait) == (NOW + SECOND, 0)
    assert gcra(tat, NOW, limit) == (None, SECOND // 2)
    assert gcra(NOW - 3600 * SECOND, NOW, limit) == (NOW + SECOND // 2, 0)  # long idle: full
    assert Limit(per_minute=7, burst=1).emission_us == 8_571_429  # rounded up: never faster


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(st.integers(-3 * SECOND, 5 * SECOND), st.sampled_from("ab")),
        min_size=1,
        max_size=40,
    ),
    per_minute=st.integers(1, 600),
    burst=st.integers(1, 8),
)
def test_both_stores_decide_as_gcra_does(
    store_url: str, steps: list[tuple[int, str]], per_minute: int, burst: int
) -> None:
    """The store's atomic take (SQL or Lua) against :func:`gcra`, the reference, over
    random steps of the clock (some backwards) for two buckets."""
    store = open_store(store_url)
    limit, prefix = Limit(per_minute, burst), uuid.uuid4().hex  # new buckets every example
    times: dict[str, int | None] = {"a": None, "b": None}
    now = NOW
    for step, bucket in steps:
        now += step
        stored, expected = gcra(times[bucket], now, limit)
        if stored is not None:
            times[bucket] = stored
        assert store.take(prefix + bucket, limit, now) == expected
    store.close()
