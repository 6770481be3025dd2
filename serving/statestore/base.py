"""What every state store holds and how: the interface, its records, and the shared rules.

A state store keeps what the server must remember across workers and restarts:

- the latest queue state of each office (:class:`serving.live.QueueState`), a newer
  observation never overwritten by an older one;
- partner API keys, kept as SHA-256 digests (:class:`PartnerKey`); the key itself is
  shown once, when it is made, and never stored;
- rate-limit buckets, one per client address or partner key, as the GCRA's single
  number (the "theoretical arrival time"): a token bucket of ``burst`` tokens refilling
  at ``per_minute`` a minute, decided atomically by the store (:func:`gcra`);
- the forecasts served, once per queue, hour and version, and the monitor's documents
  (:mod:`serving.statestore.served`).

Two backends implement :class:`StateStore`: SQLite (one file, shared by the workers of
one host) and Redis (shared by several hosts).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any, Protocol

from serving.live import QueueState
from serving.statestore.served import ServedForecast

MICROS = 1_000_000


@dataclass(frozen=True, slots=True)
class Limit:
    """A rate limit: ``burst`` requests at once, ``per_minute`` a minute on average."""

    per_minute: int
    burst: int

    @property
    def emission_us(self) -> int:
        """Microseconds between two requests at the sustained rate (rounded up: strict)."""
        return max(1, math.ceil(60 * MICROS / self.per_minute))


def gcra(tat_us: int | None, now_us: int, limit: Limit) -> tuple[int | None, int]:
    """One request against a bucket: what to store, and the wait.

    A bucket whose time is more than a full bucket ahead of ``now_us`` (the clock was set
    back between two requests) counts as empty, not as blocked for as long as the clock
    jumped: its time is capped, and the cap stored.

    Args:
        tat_us: the bucket's theoretical arrival time (None or past: a full bucket).
        now_us: now, in microseconds since the epoch.
        limit: the bucket's limit.

    Returns:
        ``(time_to_store, wait_us)``: the request is allowed when ``wait_us`` is 0, else
        refused with the microseconds until it would be; ``time_to_store`` is None when the
        bucket stays as it was.
    """
    emission = limit.emission_us
    stored = max(tat_us or 0, now_us)
    cap = now_us + limit.burst * emission
    tat = min(stored, cap)
    advanced = tat + emission
    allowed_at = advanced - limit.burst * emission
    if allowed_at > now_us:
        return (tat if stored > cap else None), allowed_at - now_us
    return advanced, 0


@dataclass(frozen=True, slots=True)
class PartnerKey:
    """A partner's API key as stored: its digest, never the key."""

    name: str
    digest: str  # sha256 hex of the key
    prefix: str  # the key's first characters, to tell keys apart in a list
    per_minute: int
    created_at: str  # ISO time
    revoked_at: str | None = None

    def to_json(self) -> str:
        """The record as JSON text."""
        return json.dumps(
            {
                "name": self.name,
                "digest": self.digest,
                "prefix": self.prefix,
                "per_minute": self.per_minute,
                "created_at": self.created_at,
                "revoked_at": self.revoked_at,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> PartnerKey:
        """The record from :meth:`to_json`'s text."""
        data = json.loads(text)
        return cls(
            str(data["name"]),
            str(data["digest"]),
            str(data["prefix"]),
            int(data["per_minute"]),
            str(data["created_at"]),
            data.get("revoked_at"),
        )


def micros(moment: dt.datetime) -> int:
    """An aware time as microseconds since the epoch."""
    return round(moment.timestamp() * MICROS)


def queue_state_json(state: QueueState) -> str:
    """A queue state as JSON text."""
    return json.dumps(
        {
            "waiting": state.waiting,
            "windows_open": state.windows_open,
            "observed_at": state.observed_at.isoformat(),
            "received_at": state.received_at.isoformat(),
        },
        sort_keys=True,
    )


def queue_state_from_json(text: str | bytes) -> QueueState:
    """A queue state from :func:`queue_state_json`'s text."""
    data: dict[str, Any] = json.loads(text)
    return QueueState(
        {str(k): int(v) for k, v in data["waiting"].items()},
        int(data["windows_open"]),
        dt.datetime.fromisoformat(data["observed_at"]),
        dt.datetime.fromisoformat(data["received_at"]),
    )


class StateStore(Protocol):
    """The server's shared memory. Every method raises
    :class:`serving.errors.StateStoreError` when the store cannot be reached."""

    description: str  # the URL, without a password
    local: bool  # True: a call reads a local file (microseconds), the event loop may make it

    def ping(self) -> None:
        """Return when the store answers (else StateStoreError)."""
        ...

    def put_queue_state(self, office_id: str, state: QueueState) -> QueueState:
        """Store ``state`` unless a newer observation is stored; return what is stored."""
        ...

    def queue_state(self, office_id: str) -> QueueState | None:
        """The office's latest queue state, if any."""
        ...

    def clear_queue_state(self, office_id: str) -> bool:
        """Forget the office's queue state; True when there was one."""
        ...

    def add_key(self, key: PartnerKey) -> bool:
        """Store a new key; False when an active key already has its name."""
        ...

    def find_key(self, digest: str) -> PartnerKey | None:
        """The active (not revoked) key with this digest, if any."""
        ...

    def list_keys(self) -> list[PartnerKey]:
        """Every key, active and revoked, oldest first."""
        ...

    def revoke_key(self, name: str, at: str) -> PartnerKey | None:
        """Revoke the active key named ``name``; the revoked record, or None if none."""
        ...

    def take(self, bucket: str, limit: Limit, now_us: int) -> int:
        """Spend one request of ``bucket``: 0 when allowed, else microseconds to wait."""
        ...

    def record_served(self, records: list[ServedForecast]) -> int:
        """Keep served forecasts not kept yet (same queue, date, hour and version: the
        first record stays); how many were new. Purges records older than
        :data:`~serving.statestore.served.KEEP_SERVED_DAYS`."""
        ...

    def served_forecasts(self, first: dt.date, last: dt.date) -> list[ServedForecast]:
        """The served forecasts dated in [first, last]."""
        ...

    def put_document(self, name: str, text: str) -> None:
        """Store a document (JSON text) under ``name``, replacing it whole."""
        ...

    def document(self, name: str) -> str | None:
        """The document stored under ``name``, if any."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
