"""What the server holds: the loaded model with its cube, swapped in one assignment.

:meth:`ServingState.load` loads the registry's current version (checksums verified by
:func:`models.bundle.load_from_registry`), builds its forecast cube, and only then
assigns ``self.model``: requests see the old model or the new one, never a mixture,
and a failed load leaves the old one serving. :meth:`ServingState.refresh`, called every
``WAITCAST_WATCH_SECONDS`` by each worker, follows the registry's current pointer (a
promotion or rollback) and rolls the cube forward when the offices' date changes. What
the workers share (queue states, keys, rate limits) is in ``store``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import gc
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from features import schema as s
from features.calendar_base import WorkCalendar
from features.calendar_cn import ChinaCalendar
from features.calendars import Calendars
from features.errors import WaitcastError
from features.offices import Office, OfficeRegistry
from models.bundle import load_from_registry
from models.forecaster import Forecaster
from models.registry import ModelRegistry
from serving.cube import ForecastCube
from serving.errors import NoModelError, ReloadBusyError, ReloadFailedError
from serving.monitoring import Monitoring
from serving.settings import Settings
from serving.statestore import StateStore

Clock = Callable[[], dt.datetime]
log = logging.getLogger("waitcast.serving")


@functools.lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """A cached time zone."""
    return ZoneInfo(name)


def local_now(clock: Clock, timezone: str) -> dt.datetime:
    """The clock's time in ``timezone`` (a naive clock value counts as UTC)."""
    now = clock()
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    return now.astimezone(zone(timezone))


def settle_heap() -> None:
    """Collect the old model, then freeze what is left out of the garbage collector's scans.

    The cube and the libraries are long-lived; without this a full collection walks all
    of them every so often and stalls requests for tens of milliseconds.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


@dataclass(frozen=True)
class LoadedModel:
    """One loaded model version and its forecast cube."""

    version: str
    forecaster: Forecaster
    cube: ForecastCube
    loaded_at: dt.datetime
    load_seconds: float
    cube_seconds: float

    @property
    def data_end(self) -> dt.date:
        """The last day of the model's training data."""
        return self.forecaster.data_end


class ServingState:
    """The server's mutable state: the model (or None), the state store, load history."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        calendar: ChinaCalendar,
        builtin_offices: OfficeRegistry,
        store: StateStore,
    ) -> None:
        self.settings, self.clock, self.calendar = settings, clock, calendar
        self.builtin_offices, self.store = builtin_offices, store
        self.model: LoadedModel | None = None
        self.last_error: str | None = None
        self.reload_failures = 0
        self._failed_version: str | None = None  # the pointer's version that failed to load
        self._failed_roll: tuple[str, dt.date, tuple] | None = None  # failed: not again
        self._reload_lock = threading.Lock()
        self.monitoring = Monitoring(store, lambda zone_name: local_now(self.clock, zone_name))

    def require_model(self) -> LoadedModel:
        """The loaded model, or :class:`NoModelError`."""
        model = self.model
        if model is None:
            reason = f" ({self.last_error})" if self.last_error else ""
            raise NoModelError(f"no model is loaded yet{reason}")
        return model

    def office(self, office_id: str) -> Office:
        """An office of the serving model (of the built-in registry before one loads)."""
        model = self.model
        return (model.forecaster.offices if model else self.builtin_offices).get(office_id)

    def calendar_of(self, office: Office) -> WorkCalendar:
        """The working-day calendar of ``office``: the serving model's (each office on its
        own country's, corrected by its data), the built-in one before a model loads."""
        model = self.model
        calendars = model.forecaster.calendars if model else Calendars(self.calendar)
        return calendars.of(office)

    def today(self, timezone: str = s.DEFAULT_TIMEZONE) -> dt.date:
        """Today's date in ``timezone`` by the server's clock."""
        return local_now(self.clock, timezone).date()

    def is_stale(self, model: LoadedModel) -> bool:
        """True when the model's data end more than ``stale_after_days`` before today."""
        age = (self.today() - model.data_end).days
        return age > self.settings.stale_after_days

    def load(self) -> LoadedModel:
        """Load the current version and its cube, then swap it in; raises on failure."""
        if not self._reload_lock.acquire(blocking=False):
            raise ReloadBusyError("a reload is already running; try again when it ends")
        try:
            try:
                loaded = self._load()
            except Exception as exc:
                self.reload_failures += 1
                message = self._failure_message(exc)
                self.last_error = message
                log.warning(
                    "model load failed: %s", message, exc_info=not isinstance(exc, WaitcastError)
                )
                raise ReloadFailedError(message, exc) from exc
            self.model = loaded  # the swap: one reference assignment
            self.last_error, self._failed_version = None, None
            settle_heap()
            return loaded
        finally:
            self._reload_lock.release()

    def load_quietly(self) -> None:
        """Load at start-up; a missing or bad model is logged and reported, never raised."""
        try:
            model = self.load()
            log.info("serving model %s (cube %.2f s)", model.version, model.cube_seconds)
        except WaitcastError:
            pass

    def refresh(self) -> str | None:
        """Follow the registry and the clock: load a newly current version (promoted or
        rolled back), else roll the cube forward when the offices' date has changed.

        A version that failed to load is not tried again until the pointer moves (or an
        admin reload). The cube is rebuilt too when the monitor's switches changed; then
        this hour's served forecasts are recorded once (:mod:`serving.monitoring`).
        Returns ``"reloaded"``, ``"rolled"`` or None (nothing to do).
        """
        self.monitoring.read_switches()
        try:
            return self._follow()
        finally:
            model = self.model
            if model is not None:
                self.monitoring.record(model.cube)

    def _follow(self) -> str | None:
        try:
            current = ModelRegistry(self.settings.registry).current_version()
        except WaitcastError as exc:
            log.warning("registry pointer unreadable: %s", exc)
            current = None
        serving = self.model.version if self.model else None
        if current is not None and current not in (serving, self._failed_version):
            try:
                loaded = self.load()
            except ReloadBusyError:
                return None
            except ReloadFailedError:
                self._failed_version = current
                return None
            log.info(
                "serving model %s (was %s): the registry's current version", loaded.version, serving
            )
            return "reloaded"
        return "rolled" if self.roll() else None

    def _roll_due(self, model: LoadedModel) -> bool:
        start = self._cube_start(model.forecaster)
        moved = start > model.cube.start or model.cube.switches != self.monitoring.switches
        return moved and (model.version, start, self.monitoring.switches) != self._failed_roll

    def roll(self) -> bool:
        """Rebuild the cube from the offices' today when that is after its start (midnight),
        or when the monitor's switches changed.

        The model stays; only its cube moves. False when there was nothing to roll or a
        reload is running (which builds today's cube anyway).
        """
        model = self.model
        if model is None or not self._roll_due(model):
            return False
        if not self._reload_lock.acquire(blocking=False):
            return False
        try:
            model = self.model
            assert model is not None  # only a reload swaps it, under this lock
            start = self._cube_start(model.forecaster)
            if not self._roll_due(model):
                return False
            began = time.perf_counter()
            try:
                cube = self._build_cube(model.forecaster, model.version, start)
            except Exception:  # the old cube keeps serving; tried again on the next day
                self._failed_roll = (model.version, start, self.monitoring.switches)
                log.exception("the cube of %s could not be rolled to %s", model.version, start)
                return False
            self.model = dataclasses.replace(
                model, cube=cube, cube_seconds=time.perf_counter() - began
            )
            settle_heap()
            log.info("rolled the cube of %s forward to %s", model.version, start)
            return True
        finally:
            self._reload_lock.release()

    def _load(self) -> LoadedModel:
        self.monitoring.read_switches()  # the first cube serves them (they survive restarts)
        started = time.perf_counter()
        forecaster = load_from_registry(ModelRegistry(self.settings.registry), china=self.calendar)
        version = str(forecaster.metadata.get("version", "unknown"))
        loaded = time.perf_counter()
        cube = self._build_cube(forecaster, version, self._cube_start(forecaster))
        done = time.perf_counter()
        return LoadedModel(
            version, forecaster, cube, local_now(self.clock, "UTC"), loaded - started, done - loaded
        )

    def _cube_start(self, forecaster: Forecaster) -> dt.date:
        """The cube's first day: the earliest of the offices' todays."""
        zones = {o.timezone for o in forecaster.offices} or {s.DEFAULT_TIMEZONE}
        return min(self.today(z) for z in zones)

    def _build_cube(self, forecaster: Forecaster, version: str, start: dt.date) -> ForecastCube:
        return ForecastCube.build(
            forecaster,
            self.calendar,
            version,
            start,
            self.settings.cube_days,
            self.settings.ondemand_cache_days,
            self.monitoring.switches,
        )

    def _failure_message(self, exc: Exception) -> str:
        text = (
            str(exc)
            if isinstance(exc, WaitcastError)
            else ("the model could not be loaded or its forecasts could not be computed")
        )
        root = self.settings.registry
        for path in sorted(
            {str(root.resolve()), str(root.absolute()), str(root)}, key=len, reverse=True
        ):
            text = text.replace(path, "the registry")
        current = self.model
        keeps = f"still serving {current.version}" if current else "no model is serving"
        return f"{text}; {keeps}"
