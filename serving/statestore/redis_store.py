"""The Redis state store (redis-py), for servers on several hosts.

Every read-modify-write is one Lua script, which Redis runs atomically. Keys, all under
``waitcast:`` in the URL's database:

- ``queue-state:{office}``: a hash of ``observed_us`` and the state's JSON ``body``;
- ``key:{digest}``: a partner key's record (JSON); ``keys``: the set of digests;
  ``key-names``: active name → digest (so a name is held by one active key at a time);
- ``rate:{bucket}``: a bucket's GCRA time, expiring when the bucket is full again;
- ``served:{date}``: a hash of the served forecasts of that date (record key → JSON),
  expiring after :data:`~serving.statestore.served.KEEP_SERVED_DAYS`;
- ``doc:{name}``: a document.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis

from serving.errors import StateStoreError
from serving.live import QueueState
from serving.statestore.base import (
    Limit,
    PartnerKey,
    micros,
    queue_state_from_json,
    queue_state_json,
)
from serving.statestore.served import KEEP_SERVED_DAYS, ServedForecast

PREFIX = "waitcast:"
TIMEOUT_SECONDS = 2.0
_KEYS, _NAMES = f"{PREFIX}keys", f"{PREFIX}key-names"

# KEYS[1] the office's hash; ARGV observed_us, body. Keeps the newer observation.
_PUT_STATE = """
local stored = tonumber(redis.call('HGET', KEYS[1], 'observed_us') or '-1')
if tonumber(ARGV[1]) >= stored then
    redis.call('HSET', KEYS[1], 'observed_us', ARGV[1], 'body', ARGV[2])
    return ARGV[2]
end
return redis.call('HGET', KEYS[1], 'body')
"""
# KEYS names, keys, record; ARGV name, digest, record JSON.
_ADD_KEY = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[3])
return 1
"""
# KEYS names; ARGV name, revoked_at, record key prefix. Returns the revoked record.
_REVOKE_KEY = """
local digest = redis.call('HGET', KEYS[1], ARGV[1])
if not digest then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
local where = ARGV[3] .. digest
local record = cjson.decode(redis.call('GET', where))
record['revoked_at'] = ARGV[2]
local text = cjson.encode(record)
redis.call('SET', where, text)
return text
"""
# KEYS the bucket; ARGV now_us, emission_us, burst. The GCRA of base.gcra, in Lua:
# returns 0 (allowed, bucket advanced) or the microseconds to wait (bucket unchanged, but
# for a time capped after the clock was set back). A bucket expires once full again.
_TAKE = """
local now = tonumber(ARGV[1])
local emission = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local stored = tonumber(redis.call('GET', KEYS[1]) or '0')
if stored < now then stored = now end
local cap = now + burst * emission
local tat = stored
if tat > cap then tat = cap end
local advanced = tat + emission
local allowed_at = advanced - burst * emission
local function store(value)
    redis.call('SET', KEYS[1], string.format('%.0f', value),
               'PX', math.ceil((value - now) / 1000) + 1000)
end
if allowed_at > now then
    if stored > cap then store(tat) end
    return allowed_at - now
end
store(advanced)
return 0
"""


class RedisStore:
    """A :class:`serving.statestore.base.StateStore` in Redis.

    Args:
        url: ``redis://[:password@]host:port/db`` (or ``rediss://`` for TLS).
        description: the URL without its password, for messages.
    """

    def __init__(self, url: str, description: str) -> None:
        self.description = description
        self.local = False  # a network round trip: never on the event loop
        with self._errors("cannot be opened"):
            self._redis = redis.Redis.from_url(
                url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
            )
        self._put_state = self._redis.register_script(_PUT_STATE)
        self._add_key = self._redis.register_script(_ADD_KEY)
        self._revoke_key = self._redis.register_script(_REVOKE_KEY)
        self._take = self._redis.register_script(_TAKE)

    def ping(self) -> None:
        """Raise :class:`StateStoreError` when Redis does not answer."""
        with self._errors("does not answer"):
            self._redis.ping()

    def put_queue_state(self, office_id: str, state: QueueState) -> QueueState:
        """Store ``state`` unless a newer observation is stored; return what is stored."""
        with self._errors("cannot be written"):
            body = self._put_state(
                keys=[f"{PREFIX}queue-state:{office_id}"],
                args=[micros(state.observed_at), queue_state_json(state)],
            )
        return queue_state_from_json(body)

    def queue_state(self, office_id: str) -> QueueState | None:
        """The office's latest queue state, if any."""
        with self._errors("cannot be read"):
            body = self._redis.hget(f"{PREFIX}queue-state:{office_id}", "body")
        return queue_state_from_json(body) if body else None

    def clear_queue_state(self, office_id: str) -> bool:
        """Forget the office's queue state; True when there was one."""
        with self._errors("cannot be written"):
            return bool(self._redis.delete(f"{PREFIX}queue-state:{office_id}"))

    def add_key(self, key: PartnerKey) -> bool:
        """Store a new key; False when an active key already has its name."""
        with self._errors("cannot be written"):
            added = self._add_key(
                keys=[_NAMES, _KEYS, f"{PREFIX}key:{key.digest}"],
                args=[key.name, key.digest, key.to_json()],
            )
        return bool(added)

    def find_key(self, digest: str) -> PartnerKey | None:
        """The active key with this digest, if any."""
        with self._errors("cannot be read"):
            text = self._redis.get(f"{PREFIX}key:{digest}")
        key = PartnerKey.from_json(text) if text else None
        return key if key is not None and key.revoked_at is None else None

    def list_keys(self) -> list[PartnerKey]:
        """Every key, active and revoked, oldest first."""
        with self._errors("cannot be read"):
            digests = sorted(self._decoded(d) for d in self._redis.smembers(_KEYS))
            texts = self._redis.mget([f"{PREFIX}key:{d}" for d in digests]) if digests else []
        keys = [PartnerKey.from_json(t) for t in texts if t]
        return sorted(keys, key=lambda k: (k.created_at, k.name))

    def revoke_key(self, name: str, at: str) -> PartnerKey | None:
        """Revoke the active key named ``name``; the revoked record, or None if none."""
        with self._errors("cannot be written"):
            text = self._revoke_key(keys=[_NAMES], args=[name, at, f"{PREFIX}key:"])
        return PartnerKey.from_json(text) if text else None

    def take(self, bucket: str, limit: Limit, now_us: int) -> int:
        """Spend one request of ``bucket``: 0 when allowed, else microseconds to wait."""
        with self._errors("cannot be written"):
            wait = self._take(
                keys=[f"{PREFIX}rate:{bucket}"], args=[now_us, limit.emission_us, limit.burst]
            )
        return max(0, math.ceil(float(wait)))

    def record_served(self, records: list[ServedForecast]) -> int:
        """Keep the records not kept yet (HSETNX: the first of a key stays)."""
        if not records:
            return 0
        with self._errors("cannot be written"):
            pipe = self._redis.pipeline(transaction=False)
            for record in records:
                pipe.hsetnx(
                    f"{PREFIX}served:{record.date.isoformat()}", record.key, record.to_json()
                )
            for date in {r.date for r in records}:
                pipe.expire(f"{PREFIX}served:{date.isoformat()}", KEEP_SERVED_DAYS * 86400)
            answers = pipe.execute()
        return sum(int(a) for a in answers[: len(records)])

    def served_forecasts(self, first: dt.date, last: dt.date) -> list[ServedForecast]:
        """The records dated in [first, last]."""
        days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        with self._errors("cannot be read"):
            pipe = self._redis.pipeline(transaction=False)
            for day in days:
                pipe.hvals(f"{PREFIX}served:{day.isoformat()}")
            answers = pipe.execute()
        records = [ServedForecast.from_json(text) for values in answers for text in values]
        return sorted(
            records, key=lambda r: (r.date, r.office_id, r.channel, r.service, r.hour, r.version)
        )

    def put_document(self, name: str, text: str) -> None:
        """Store ``text`` under ``name``, replacing it whole."""
        with self._errors("cannot be written"):
            self._redis.set(f"{PREFIX}doc:{name}", text)

    def document(self, name: str) -> str | None:
        """The document stored under ``name``, if any."""
        with self._errors("cannot be read"):
            text = self._redis.get(f"{PREFIX}doc:{name}")
        return self._decoded(text) if text is not None else None

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()

    @staticmethod
    def _decoded(value: Any) -> str:
        return value.decode() if isinstance(value, bytes) else str(value)

    @contextmanager
    def _errors(self, problem: str) -> Iterator[None]:
        try:
            yield
        except redis.RedisError as exc:
            raise StateStoreError(
                f"the state store {self.description} {problem}: {exc}; start Redis there "
                "or set WAITCAST_STATE_URL"
            ) from exc
