"""The SQLite state store: one file, in WAL mode, shared by every worker of one host.

Each process opens one connection (used under a lock by its threads). A rate-limit take
is one statement (an upsert returning the verdict); the other writes that read first
(the newest queue state, a revocation) run in ``BEGIN IMMEDIATE`` transactions: two
workers never interleave them, and readers never wait for writers (WAL).
``synchronous=NORMAL``: a commit survives a crash of the process; the last commits
before a power cut may be lost (never the file's consistency).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import astuple, fields
from pathlib import Path

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
CREATE TABLE IF NOT EXISTS rate_limits (
    bucket TEXT PRIMARY KEY, tat_us INTEGER NOT NULL, allowed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS served_forecasts (
    office_id TEXT NOT NULL, channel TEXT NOT NULL, service TEXT NOT NULL, date TEXT NOT NULL,
    hour INTEGER NOT NULL, version TEXT NOT NULL, estimator TEXT NOT NULL, p10 REAL NOT NULL,
    p50 REAL NOT NULL, p90 REAL NOT NULL, model_p50 REAL NOT NULL,
    PRIMARY KEY (date, office_id, channel, service, hour, version));
CREATE TABLE IF NOT EXISTS documents (
    name TEXT PRIMARY KEY, body TEXT NOT NULL);
"""
# base.gcra in one statement (SET sees the row as it was): a new bucket allows; else the
# time, capped at a full bucket ahead of now, advances by one emission when that stays
# within the burst (allowed), or stays (capped) when it would not.
_TIME = "min(max(tat_us, :now), :now + :full)"
TAKE = f"""
INSERT INTO rate_limits (bucket, tat_us, allowed) VALUES (:bucket, :now + :emission, 1)
ON CONFLICT (bucket) DO UPDATE SET
    allowed = ({_TIME} + :emission - :full <= :now),
    tat_us = CASE WHEN {_TIME} + :emission - :full <= :now THEN {_TIME} + :emission
                  ELSE {_TIME} END
RETURNING tat_us, allowed
"""
_KEY_COLUMNS = "name, digest, prefix, per_minute, created_at, revoked_at"
_SERVED_COLUMNS = ", ".join(f.name for f in fields(ServedForecast))


class SQLiteStore:
    """A :class:`serving.statestore.base.StateStore` in a SQLite file.

    Args:
        path: the database file (its folder is created when missing).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"sqlite:///{path}"
        self.local = True
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
        """Spend one request of ``bucket``: 0 when allowed, else microseconds to wait.

        One statement (:data:`TAKE`, the GCRA of :func:`~serving.statestore.base.gcra`),
        so one short write transaction per request.
        """
        emission = limit.emission_us
        with self._errors("cannot be written"), self._lock:
            tat, allowed = self._conn.execute(
                TAKE,
                {
                    "bucket": bucket,
                    "now": now_us,
                    "emission": emission,
                    "full": limit.burst * emission,
                },
            ).fetchone()
            self._takes += 1
            if self._takes % PURGE_EVERY == 0:  # a bucket past its time is full: forget it
                self._conn.execute("DELETE FROM rate_limits WHERE tat_us < ?", (now_us,))
        return 0 if allowed else int(tat + emission - limit.burst * emission - now_us)

    def rate_buckets(self) -> int:
        """How many buckets are stored (full ones are purged now and then)."""
        with self._errors("cannot be read"), self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM rate_limits").fetchone()[0])

    def record_served(self, records: list[ServedForecast]) -> int:
        """Keep the records not kept yet (the first of a queue, date, hour and version)."""
        if not records:
            return 0
        rows = [(*astuple(r)[:3], r.date.isoformat(), *astuple(r)[4:]) for r in records]
        oldest = (max(r.date for r in records) - dt.timedelta(days=KEEP_SERVED_DAYS)).isoformat()
        marks = ", ".join("?" * len(rows[0]))
        with self._transaction("cannot be written") as conn:
            before = conn.total_changes
            conn.executemany(
                f"INSERT OR IGNORE INTO served_forecasts ({_SERVED_COLUMNS}) VALUES ({marks})",
                rows,
            )
            added = conn.total_changes - before
            conn.execute("DELETE FROM served_forecasts WHERE date < ?", (oldest,))
        return added

    def served_forecasts(self, first: dt.date, last: dt.date) -> list[ServedForecast]:
        """The records dated in [first, last]."""
        with self._errors("cannot be read"), self._lock:
            rows = self._conn.execute(
                f"SELECT {_SERVED_COLUMNS} FROM served_forecasts WHERE date BETWEEN ? AND ? "
                "ORDER BY date, office_id, channel, service, hour, version",
                (first.isoformat(), last.isoformat()),
            ).fetchall()
        names = [f.name for f in fields(ServedForecast)]
        return [ServedForecast.from_values(**dict(zip(names, row, strict=True))) for row in rows]

    def put_document(self, name: str, text: str) -> None:
        """Store ``text`` under ``name``, replacing it whole."""
        with self._errors("cannot be written"), self._lock:
            self._conn.execute(
                "INSERT INTO documents (name, body) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET body = excluded.body",
                (name, text),
            )

    def document(self, name: str) -> str | None:
        """The document stored under ``name``, if any."""
        with self._errors("cannot be read"), self._lock:
            row = self._conn.execute(
                "SELECT body FROM documents WHERE name = ?", (name,)
            ).fetchone()
        return str(row[0]) if row else None

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
