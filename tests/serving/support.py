"""Helpers of the serving tests: constants, a settable clock, settings, publishing."""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from models.bundle import save_bundle
from models.forecaster import Forecaster
from models.registry import ModelRegistry
from serving.settings import Settings

TOKEN = "test-admin-token-0123456789abcdef"
SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 11, 26)  # a Thursday; the model's data end the day before
MODEL_OFFICES = ("hz-city", "hz-xihu", "hz-qiantang", "hz-linping")  # 2 dual, 2 walk-in
WALK_IN_ONLY = "hz-qiantang"
NOT_IN_MODEL = "hz-fuyang"  # in the registry, not forecast by the model


class FakeClock:
    """A settable clock; call it for the time."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.at += dt.timedelta(**delta)


def at(date: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """An aware Hangzhou time."""
    return dt.datetime(date.year, date.month, date.day, hour, minute, tzinfo=SHANGHAI)


_STATE_FILES = tempfile.TemporaryDirectory(prefix="waitcast-state-")
_STATE_NUMBERS = itertools.count()


def private_state_url() -> str:
    """A new, empty SQLite state store of this test process (removed at exit)."""
    return f"sqlite:///{_STATE_FILES.name}/state-{next(_STATE_NUMBERS)}.sqlite3"


def settings_for(registry: Path, **overrides: object) -> Settings:
    """Production settings with a good token, a private state store (so that no two apps
    share queue states or rate limits) and no registry watch, unless overridden."""
    values: dict[str, object] = {
        "registry": registry,
        "env": "production",
        "admin_token": TOKEN,
        "state_url": private_state_url(),
        "watch_seconds": 0,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def auth(token: str = TOKEN) -> dict[str, str]:
    """The admin authorization header."""
    return {"Authorization": f"Bearer {token}"}


def publish(root: Path, forecaster: Forecaster, promote: bool = True) -> str:
    """Store ``forecaster`` as a new version of the registry at ``root``."""
    registry = ModelRegistry(root)
    version = registry.publish(lambda folder: save_bundle(forecaster, folder), {"test": True})
    if promote:
        registry.promote(version)
    return version
