"""The state store the server shares between its workers and keeps across restarts.

``WAITCAST_STATE_URL`` names it:

- ``sqlite:///PATH`` (relative) or ``sqlite:////PATH`` (absolute): a SQLite file for the
  workers of one host; by default ``<registry>-state.sqlite3`` beside the registry
  folder (:func:`default_state_url`);
- ``redis://[:PASSWORD@]HOST:PORT/DB`` (or ``rediss://``): Redis, for several hosts.

See :mod:`serving.statestore.base` for what it holds.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from serving.statestore.base import Limit, PartnerKey, StateStore, gcra

__all__ = [
    "Limit",
    "PartnerKey",
    "StateStore",
    "check_state_url",
    "default_state_url",
    "gcra",
    "open_store",
    "redacted",
]

SQLITE, REDIS_SCHEMES = "sqlite:///", ("redis://", "rediss://")
STATE_FILE_SUFFIX = "-state.sqlite3"
EXPECTED = "sqlite:///PATH or redis://HOST:PORT/DB"


def default_state_url(registry: Path) -> str:
    """The default store: a SQLite file beside the registry folder."""
    root = registry.absolute()
    return f"{SQLITE}{root.with_name(root.name + STATE_FILE_SUFFIX)}"


def redacted(url: str) -> str:
    """The URL without a password (for messages and logs)."""
    return re.sub(r"(?<=://)([^/@]*)@", lambda m: "***@" if m.group(1) else "@", url)


def check_state_url(url: str) -> str:
    """``url`` when it names a store this server can open; else a ValueError saying why."""
    if url.startswith(SQLITE):
        if not url.removeprefix(SQLITE).strip():
            raise ValueError(f"{url!r} names no file; expected {EXPECTED}")
        return url
    if url.startswith(REDIS_SCHEMES):
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError as exc:
            raise ValueError(f"{redacted(url)!r}: {exc}; expected {EXPECTED}") from None
        database = parts.path.strip("/")
        if not parts.hostname or (database and not database.isdigit()):
            raise ValueError(f"{redacted(url)!r} is not redis://HOST:PORT/DB (DB a number)")
        return url
    raise ValueError(f"{redacted(url)[:80]!r} is not a state store URL; expected {EXPECTED}")


def open_store(url: str) -> StateStore:
    """Open the store ``url`` names (see the module docstring); creates a SQLite file.

    Raises:
        ValueError: the URL is not one of the two forms.
        serving.errors.StateStoreError: the store cannot be opened.
    """
    check_state_url(url)
    if url.startswith(SQLITE):
        from serving.statestore.sqlite_store import SQLiteStore

        return SQLiteStore(Path(url.removeprefix(SQLITE)))
    from serving.statestore.redis_store import RedisStore

    return RedisStore(url, redacted(url))
