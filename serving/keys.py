"""Partner API keys: made, named, hashed and checked; stored by the state store.

A key is ``wck_`` and 43 URL-safe characters (256 random bits). The store keeps its
SHA-256 digest (a fast hash is right for a random key: nothing to guess), its first
8 characters to tell keys apart, its name and its quota. A partner's bucket holds
``per_minute / 6`` requests (ten seconds' worth, at least 1).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from features.errors import ParameterError
from serving.statestore import Limit, PartnerKey, StateStore

KEY_PREFIX = "wck_"
SHOWN_CHARACTERS = 8
DEFAULT_PER_MINUTE = 12_000
MAX_PER_MINUTE = 1_000_000
BURST_SECONDS = 10
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,63}")


def digest(key: str) -> str:
    """The SHA-256 digest (hex) under which a key is stored."""
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def partner_limit(per_minute: int) -> Limit:
    """A partner's limit: ``per_minute``, with ten seconds' worth at once."""
    return Limit(per_minute, max(1, per_minute * BURST_SECONDS // 60))


class KeyExistsError(ParameterError):
    """An active key already has the name."""

    def __init__(self, name: str) -> None:
        super().__init__("name", f"a key named {name!r} exists")
        self.name = name


class NoSuchKeyError(ParameterError):
    """No active key has the name."""

    def __init__(self, name: str) -> None:
        super().__init__("name", f"no active key named {name[:70]!r}")
        self.name = name


def check_name(name: str) -> str:
    """A key's name: 1-64 letters, digits, ``.``, ``_`` or ``-`` (ParameterError otherwise)."""
    if not _NAME.fullmatch(name):
        raise ParameterError(
            "name",
            f"{name[:70]!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
        )
    return name


def add_key(store: StateStore, name: str, per_minute: int, now: dt.datetime) -> str:
    """Make, store and return a new key named ``name`` (shown once: only its digest is kept).

    Raises:
        ParameterError: a bad name or quota, or an active key already has the name.
    """
    check_name(name)
    if not 1 <= per_minute <= MAX_PER_MINUTE:
        raise ParameterError("per_minute", f"{per_minute} is not in 1..{MAX_PER_MINUTE:,}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    record = PartnerKey(
        name, digest(key), key[:SHOWN_CHARACTERS], per_minute, now.isoformat(timespec="seconds")
    )
    if not store.add_key(record):
        raise KeyExistsError(name)
    return key


def revoke_key(store: StateStore, name: str, now: dt.datetime) -> PartnerKey:
    """Revoke the active key named ``name``; ParameterError when there is none."""
    revoked = store.revoke_key(name, now.isoformat(timespec="seconds"))
    if revoked is None:
        raise NoSuchKeyError(name)
    return revoked
