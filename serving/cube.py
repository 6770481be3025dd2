"""The forecast cube: forecasts computed once per model load, so requests are lookups.

At load, :meth:`ForecastCube.build` takes the forecasts stored with the model version
(``cube.parquet``, computed at training; :mod:`models.cube_store`) and turns a day into
its JSON bytes and ETag when it is first asked for, kept in a bounded LRU; lookups are
dictionary lookups either way. Days the stored cube does not cover among the ``days``
days starting ``start`` (today by the server's clock), and all days of a version stored
without one, are computed at load for every office, channel and open hour and serialised
at once. A later date, up to the horizon, is computed on demand for a week of that
office at a time and kept in the LRU. Dates are checked by :func:`check_date`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from features import schema as s
from features.calendar_cn import ChinaCalendar
from features.errors import ParameterError, UnknownOfficeError
from features.offices import Office
from models.cube_store import StoredCube, load_cube
from models.forecaster import Forecaster
from serving import payloads
from serving.advice.context import AdviceContext
from serving.advice.prepared import OfficeHours, prepare_office
from serving.switches import QueueSwitch, apply_switches

ONDEMAND_CHUNK_DAYS = 7
EAGER_PREPARE_OFFICES = 200  # up to this many offices, the advice's hours are prepared at build
CHANNEL_KEYS = (payloads.ALL_CHANNELS, *s.CHANNELS)


@dataclass(frozen=True, slots=True)
class DayForecast:
    """One office's forecast for one date, ready to send."""

    office_id: str
    date: dt.date
    closed: bool
    rows: tuple[dict, ...]  # rounded forecast rows, see payloads.rounded_rows
    exact: tuple[dict, ...]  # the same rows unrounded (payloads.exact_rows), for the advice
    bodies: dict[str, bytes]  # channel filter ("" = all) -> JSON bytes
    etags: dict[str, str]  # channel filter -> strong ETag


def check_date(date: dt.date, today: dt.date, horizon_days: int) -> None:
    """Refuse a date before ``today`` or past the horizon (ParameterError naming ``date``)."""
    if date < today:
        raise ParameterError("date", f"{date} is in the past; the earliest date is {today}")
    last = today + dt.timedelta(days=horizon_days - 1)
    if date > last:
        raise ParameterError(
            "date",
            f"{date} is beyond the forecast horizon of {horizon_days} "
            f"days (WAITCAST_HORIZON_DAYS); the last date is {last}",
        )


class ForecastCube:
    """Precomputed forecasts of one model, plus an LRU of on-demand days beyond them."""

    def __init__(
        self,
        forecaster: Forecaster,
        calendar: ChinaCalendar,
        version: str,
        start: dt.date,
        days: int,
        cache_days: int = 4096,
        switches: tuple[QueueSwitch, ...] = (),
    ) -> None:
        self.forecaster, self.calendar, self.version = forecaster, calendar, version
        self.switches = switches  # queues the monitor serves by the historical mean
        self.start, self.days = start, days
        self.end = start + dt.timedelta(days=days)  # exclusive
        ids = sorted(set(forecaster.queues[s.OFFICE_ID].astype(str)))
        self.offices: dict[str, Office] = {i: forecaster.offices.get(i) for i in ids}
        self.forecast_calls = 0
        self._days: dict[tuple[str, dt.date], DayForecast] = {}
        self._extra: OrderedDict[tuple[str, dt.date], DayForecast] = OrderedDict()
        self._cache_days = cache_days
        self._lock = threading.Lock()
        self._stored: StoredCube | None = None
        self._prepared: dict[str, OfficeHours] = {}
        self._hour_context = AdviceContext(forecaster.calendars, forecaster.offices)

    @classmethod
    def build(
        cls,
        forecaster: Forecaster,
        calendar: ChinaCalendar,
        version: str,
        start: dt.date,
        days: int,
        cache_days: int = 4096,
        switches: tuple[QueueSwitch, ...] = (),
    ) -> ForecastCube:
        """Compute and serialise every office's forecasts for [start, start + days), the
        ``switches``' queues served by their historical mean (:mod:`serving.switches`)."""
        cube = cls(forecaster, calendar, version, start, days, cache_days, switches)
        cube._stored = load_cube(forecaster, calendar)
        wanted = [start + dt.timedelta(days=i) for i in range(days)]
        missing = [d for d in wanted if not cube._stored_covers(d)]
        if missing:
            first, last = min(missing), max(missing)
            cube._days = cube._compute(list(cube.offices), first, (last - first).days + 1)
        if len(cube.offices) <= EAGER_PREPARE_OFFICES:
            cube._prepare(list(cube.offices))
        return cube

    def prepared(self, office_id: str) -> OfficeHours:
        """The advice's hours of one office over the cube's days (:mod:`serving.advice.
        prepared`): prepared at build, or on first use for a cube of many offices."""
        found = self._prepared.get(office_id)
        if found is None:
            self.office(office_id)
            self._prepare([office_id])
            found = self._prepared[office_id]
        return found

    def is_prepared(self, office_id: str) -> bool:
        """True when the office's advice hours are ready (:meth:`prepared` is a lookup)."""
        return office_id in self._prepared

    def _prepare(self, office_ids: list[str]) -> None:
        last = self.end - dt.timedelta(days=1)
        rows = self.frame(self.start, last, office_ids)
        by_office = dict(tuple(rows.groupby(s.OFFICE_ID, sort=False)))
        empty = rows.head(0)
        prepared = {
            office_id: prepare_office(
                by_office.get(office_id, empty), self._hour_context, self.start, last
            )
            for office_id in office_ids
        }
        with self._lock:
            self._prepared.update(prepared)

    def _stored_covers(self, date: dt.date) -> bool:
        stored = self._stored
        return stored is not None and all(stored.covers(o, date) for o in self.offices)

    def office(self, office_id: str) -> Office:
        """The office, when this model forecasts it; else :class:`UnknownOfficeError`."""
        office = self.offices.get(office_id)
        if office is None:
            raise UnknownOfficeError(office_id)
        return office

    def lookup(self, office_id: str, date: dt.date) -> DayForecast | None:
        """The stored day, or None when it must be computed (never computes)."""
        key = (office_id, date)
        found = self._days.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._extra.get(key)
            if found is not None:
                self._extra.move_to_end(key)
                return found
        stored = self._stored
        if stored is None or office_id not in self.offices or not stored.covers(office_id, date):
            return None
        frame = apply_switches(stored.rows(office_id, date), self.switches)
        rows, exact = payloads.rounded_rows(frame), payloads.exact_rows(frame)
        entry = self._entry(self.offices[office_id], date, rows, exact)
        self._store({key: entry})
        return entry

    def day(self, office_id: str, date: dt.date) -> DayForecast:
        """The day's forecast: a lookup, or an on-demand week of this office (CPU-bound)."""
        found = self.lookup(office_id, date)
        if found is not None:
            return found
        self.office(office_id)
        computed = self._compute([office_id], date, ONDEMAND_CHUNK_DAYS)
        self._store(computed)
        return computed[(office_id, date)]

    def frame(
        self, start: dt.date, end: dt.date, office_ids: Iterable[str] | None = None
    ) -> pd.DataFrame:
        """Forecast rows for dates in [start, end] (inclusive), unrounded (the advice's input).

        Days missing from the cube are computed in one forecaster call for all offices.
        """
        ids = list(office_ids) if office_ids is not None else list(self.offices)
        for office_id in ids:
            self.office(office_id)
        dates = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        missing = [(o, d) for o in ids for d in dates if self.lookup(o, d) is None]
        computed: dict[tuple[str, dt.date], DayForecast] = {}
        if missing:
            first, last = min(d for _, d in missing), max(d for _, d in missing)
            offices = sorted({o for o, _ in missing})
            computed = self._compute(offices, first, (last - first).days + 1)
            self._store(computed)
        rows: list[dict] = []
        for office_id in ids:
            for date in dates:
                day = computed.get((office_id, date)) or self.day(office_id, date)
                rows.extend(day.exact)
        columns = [s.OFFICE_ID, s.DATE, *payloads.ROW_KEYS, payloads.CALENDAR_ESTIMATED]
        return pd.DataFrame(rows, columns=columns)

    def _store(self, computed: dict[tuple[str, dt.date], DayForecast]) -> None:
        with self._lock:
            for key, value in computed.items():
                self._extra[key] = value
                self._extra.move_to_end(key)
            while len(self._extra) > self._cache_days:
                self._extra.popitem(last=False)

    def _compute(
        self, office_ids: list[str], start: dt.date, days: int
    ) -> dict[tuple[str, dt.date], DayForecast]:
        self.forecast_calls += 1
        frame = apply_switches(self.forecaster.forecast(start, days, office_ids), self.switches)
        grouped: dict[tuple[str, dt.date], list[dict]] = {}
        exact: dict[tuple[str, dt.date], list[dict]] = {}
        for row in payloads.rounded_rows(frame):
            grouped.setdefault((row[s.OFFICE_ID], row[s.DATE]), []).append(row)
        for row in payloads.exact_rows(frame):
            exact.setdefault((row[s.OFFICE_ID], row[s.DATE]), []).append(row)
        out = {}
        for office_id in office_ids:
            office = self.offices[office_id]
            for offset in range(days):
                date = start + dt.timedelta(days=offset)
                key = (office_id, date)
                out[key] = self._entry(office, date, grouped.get(key, []), exact.get(key, []))
        return out

    def _entry(
        self, office: Office, date: dt.date, rows: list[dict], exact: list[dict]
    ) -> DayForecast:
        info = self.forecaster.calendars.day(office, date)
        closed = not office.sessions_for(info)
        bodies = {
            key: payloads.day_body(self.version, office, info, closed, rows, key)
            for key in CHANNEL_KEYS
        }
        etags = {key: payloads.etag(self.version, office.id, date, key) for key in CHANNEL_KEYS}
        return DayForecast(office.id, date, closed, tuple(rows), tuple(exact), bodies, etags)
