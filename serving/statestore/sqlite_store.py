"""The SQLite state store: one file, in WAL mode, shared by every worker of one host.

Each process opens one connection (used under a lock by its threads). Writes that read
first (the rate-limit bucket, the newest queue state) run in ``BEGIN IMMEDIATE``
transactions, so two workers never interleave them; readers never wait for writers
(WAL). ``synchronous=NORMAL``: a commit survives a crash of the process, and the last
commits before a power cut may be lost (never the file's consistency).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from serving.errors import StateStoreError
from serving.live import QueueState
from serving.statestore.base import (
    Limit,
    PartnerKey,
    gcra,
    micros,
    queue_state_from_json,
    queue_state_json,
)

BUSY_TIMEOUT_SECONDS = 5.0
PURGE_EVERY = 1000  # takes between two purges of full (idle) buckets
SCHEMA = """
CREATE TABLE IF NOT EXISTS queue_states (
    office_id TEXT PRIMARY KEY, observed_us INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS partner_keys (
    digest TEXT PRIMARY KEY, name TEXT NOT NULL, prefix TEXT NOT NULL,
    per_minute INTEGER NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS partner_keys_active_name
    ON partner_keys (name) WHERE revoked_at IS NULL;
CREATE TABLE IF NOT EXISTS rate_limits (bucket TEXT PRIMARY KEY, tat_us INTEGER NOT NULL);
"""
_KEY_COLUMNS = "name, digest, prefix, per_minute, created_at, revoked_at"


class SQLiteStore:
    """A :class:`serving.statestore.base.StateStore` in a SQLite file.

    Args:
        path: the database file (its folder is created when missing).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"sqlite:///{path}"
        self._lock = threading.Lock()
        self._takes = 0
        with self._errors("cannot be opened"):
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(SCHEMA)

    def ping(self) -> None:
        """Return when the file answers a query."""
        with self._errors("does not answer"), self._lock:
            self._conn.execute("SELECT 1").fetchone()

    def put_queue_state(self, office_id: str, state: QueueState) -> QueueState:
        """Store ``state`` unless a newer observation is stored; return what is stored."""
        with self._transaction("cannot be written") as conn:
            conn.execute(
                "INSERT INTO queue_states (office_id, observed_us, body) VALUES (?, ?, ?) "
                "ON CONFLICT (office_id) DO UPDATE SET observed_us = excluded.observed_us, "
                "body = excluded.body WHERE excluded.observed_us >= queue_states.observed_us",
                (office_id, micros(state.observed_at), queue_state_json(state)),
            )
            row = conn.execute(
                "SELECT body FROM queue_states WHERE office_id = ?", (office_id,)
            ).fetchone()
        return queue_state_from_json(row[0])

    def queue_state(self, office_id: str) -> QueueState | None:
        """The office's latest queue state, if any."""
        with self._errors("cannot be read"), self._lock:
            row = self._conn.execute(
                "SELECT body FROM queue_states WHERE office_id = ?", (office_id,)
            ).fetchone()
        return queue_state_from_json(row[0]) if row else None

    def clear_queue_state(self, office_id: str) -> bool:
        """Forget the office's queue state; True when there was one."""
        with self._errors("cannot be written"), self._lock:
            cursor = self._conn.execute(
                "DELETE FROM queue_states WHERE office_id = ?", (office_id,)
            )
        return cursor.rowcount > 0

    def add_key(self, key: PartnerKey) -> bool:
        """Store a new key; False when an active key already has its name."""
        with self._errors("cannot be written"), self._lock:
            try:
                self._conn.execute(
                    f"INSERT INTO partner_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        key.name,
                        key.digest,
                        key.prefix,
                        key.per_minute,
                        key.created_at,
                        key.revoked_at,
                    ),
                )
            except sqlite3.IntegrityError:
                return False
        return True

    def find_key(self, digest: str) -> PartnerKey | None:
        """The active key with this digest, if any."""
        with self._errors("cannot be read"), self._lock:
            row = self._conn.execute(
                f"SELECT {_KEY_COLUMNS} FROM partner_keys WHERE digest = ? AND revoked_at IS NULL",
                (digest,),
            ).fetchone()
        return PartnerKey(*row) if row else None

    def list_keys(self) -> list[PartnerKey]:
        """Every key, active and revoked, oldest first."""
        with self._errors("cannot be read"), self._lock:
            rows = self._conn.execute(
                f"SELECT {_KEY_COLUMNS} FROM partner_keys ORDER BY created_at, name"
            ).fetchall()
        return [PartnerKey(*row) for row in rows]

    def revoke_key(self, name: str, at: str) -> PartnerKey | None:
        """Revoke the active key named ``name``; the revoked record, or None if none."""
        with self._transaction("cannot be written") as conn:
            row = conn.execute(
                f"UPDATE partner_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL "
                f"RETURNING {_KEY_COLUMNS}",
                (at, name),
            ).fetchone()
        return PartnerKey(*row) if row else None

    def take(self, bucket: str, limit: Limit, now_us: int) -> int:
        """Spend one request of ``bucket``: 0 when allowed, else microseconds to wait."""
        with self._transaction("cannot be written") as conn:
            row = conn.execute(
                "SELECT tat_us FROM rate_limits WHERE bucket = ?", (bucket,)
            ).fetchone()
            stored, wait = gcra(row[0] if row else None, now_us, limit)
            if stored is not None:
                conn.execute(
                    "INSERT INTO rate_limits (bucket, tat_us) VALUES (?, ?) "
                    "ON CONFLICT (bucket) DO UPDATE SET tat_us = excluded.tat_us",
                    (bucket, stored),
                )
            self._takes += 1
            if self._takes % PURGE_EVERY == 0:  # a bucket past its time is full: forget it
                conn.execute("DELETE FROM rate_limits WHERE tat_us < ?", (now_us,))
        return wait

    def rate_buckets(self) -> int:
        """How many buckets are stored (full ones are purged now and then)."""
        with self._errors("cannot be read"), self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM rate_limits").fetchone()[0])

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    @contextmanager
    def _transaction(self, problem: str) -> Iterator[sqlite3.Connection]:
        with self._errors(problem), self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _errors(self, problem: str) -> Iterator[None]:
        try:
            yield
        except (sqlite3.Error, OSError) as exc:
            raise StateStoreError(
                f"the state store {self.description} {problem}: {exc}; fix its folder's "
                "permissions or free space, or set WAITCAST_STATE_URL"
            ) from exc
