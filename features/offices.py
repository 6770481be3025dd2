"""The office registry: who the offices are, when they open, and how they take people.

The built-in registry is ``features/data/offices_hangzhou.json`` (Hangzhou's 15
exit-entry offices). ``--offices FILE`` replaces it with a file of the same shape.
Offices found in data but missing from the registry get their hours and mode
inferred from the data (:func:`features.infer.infer_offices`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from features import schema as s
from features.calendar_base import DayInfo, WorkCalendar
from features.calendar_world import check_country
from features.errors import CalendarError, InputError, UnknownOfficeError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAKEUP_DAY_SCHEDULE = "fri"  # a make-up working day (调休) opens like a Friday


class Session(BaseModel):
    """One opening session of a day, e.g. 09:00-12:00 (local time)."""

    model_config = ConfigDict(frozen=True)
    open: dt.time
    close: dt.time

    @model_validator(mode="after")
    def _ordered(self) -> Session:
        if self.close <= self.open:
            raise ValueError(f"session closes ({self.close}) before it opens ({self.open})")
        return self

    @property
    def open_minute(self) -> int:
        """Minutes after midnight at which the session opens."""
        return self.open.hour * 60 + self.open.minute

    @property
    def close_minute(self) -> int:
        """Minutes after midnight at which the session closes."""
        return self.close.hour * 60 + self.close.minute


class Office(BaseModel):
    """One office: identity, mode, place, windows and weekly opening sessions."""

    model_config = ConfigDict(frozen=True)
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    name_zh: str
    name_en: str
    district_zh: str = ""
    district_en: str = ""
    mode: s.OfficeMode
    timezone: str = s.DEFAULT_TIMEZONE
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    windows: int | None = Field(default=None, ge=1, le=500)
    sessions: dict[str, tuple[Session, ...]]
    inferred: bool = False
    # ISO 3166 country and subdivision: which public holidays close the office. An empty
    # country means unknown: weekends only, with the closures learned from the data.
    country: str = Field(default="CN", max_length=2)
    region: str | None = Field(default=None, max_length=8)

    @field_validator("sessions", mode="before")
    @classmethod
    def _parse_sessions(cls, value: Any) -> dict[str, tuple[Session, ...]]:
        if not isinstance(value, Mapping):
            raise ValueError("sessions must map weekday (mon..sun) to a list of [open, close]")
        parsed: dict[str, tuple[Session, ...]] = {}
        for day in WEEKDAYS:
            items = value.get(day, [])
            parsed[day] = tuple(
                item if isinstance(item, Session) else _session_from(item) for item in items
            )
        unknown = set(value) - set(WEEKDAYS)
        if unknown:
            raise ValueError(f"unknown weekday keys {sorted(unknown)}; use {WEEKDAYS}")
        return parsed

    @model_validator(mode="after")
    def _sessions_do_not_overlap(self) -> Office:
        for day, sessions in self.sessions.items():
            ordered = sorted(sessions, key=lambda x: x.open_minute)
            for a, b in pairwise(ordered):
                if b.open_minute < a.close_minute:
                    raise ValueError(f"{day}: sessions overlap")
        return self

    @model_validator(mode="after")
    def _known_calendar(self) -> Office:
        if self.country:
            try:
                check_country(self.country, self.region)
            except CalendarError as exc:
                raise ValueError(str(exc)) from None
        return self

    @property
    def takes_appointments(self) -> bool:
        """True for dual-track offices."""
        return self.mode is s.OfficeMode.DUAL_TRACK

    @property
    def channels(self) -> tuple[s.Channel, ...]:
        """The channels this office serves today."""
        if self.takes_appointments:
            return (s.Channel.WALK_IN, s.Channel.APPOINTMENT)
        return (s.Channel.WALK_IN,)

    def weekly_sessions(self, weekday: int) -> tuple[Session, ...]:
        """Sessions of a weekday (0 = Monday), ignoring holidays."""
        return self.sessions[WEEKDAYS[weekday]]

    def sessions_on(self, holiday: bool, makeup: bool, weekday: int) -> tuple[Session, ...]:
        """Sessions on a day, given the calendar's verdict on it.

        Args:
            holiday: True on a public holiday: closed, whatever the weekday.
            makeup: True on a make-up working day (调休), which opens like a Friday.
            weekday: 0 = Monday.
        """
        if holiday:
            return ()
        if makeup:
            return self.sessions[MAKEUP_DAY_SCHEDULE]
        return self.weekly_sessions(weekday)

    def sessions_for(self, day: DayInfo) -> tuple[Session, ...]:
        """Sessions on a calendar day."""
        return self.sessions_on(day.holiday, day.makeup, day.date.weekday())

    def open_hours_on(self, day: DayInfo) -> list[int]:
        """The open hours of a calendar day (empty when closed)."""
        return self.open_hours(self.sessions_for(day))

    def next_open_day(
        self, calendar: WorkCalendar, start: dt.date, backwards: bool = False, limit_days: int = 400
    ) -> dt.date | None:
        """The first day from ``start`` (inclusive) on which the office opens, going forward
        (or backwards); None when it opens on none of the next ``limit_days`` days."""
        step = dt.timedelta(days=-1 if backwards else 1)
        day = start
        for _ in range(limit_days):
            if self.sessions_for(calendar.day(day)):
                return day
            day += step
        return None

    def open_hours(self, sessions: Iterable[Session]) -> list[int]:
        """Hours h whose interval [h:00, h+1:00) overlaps an opening session."""
        hours: set[int] = set()
        for session in sessions:
            first = session.open_minute // 60
            last = (session.close_minute - 1) // 60
            hours.update(range(first, last + 1))
        return sorted(hours)


def _session_from(item: Any) -> Session:
    if isinstance(item, Mapping):
        return Session.model_validate(item)
    if isinstance(item, list | tuple) and len(item) == 2:
        return Session(open=dt.time.fromisoformat(item[0]), close=dt.time.fromisoformat(item[1]))
    raise ValueError(f"a session is [open, close] like ['09:00', '12:00'], not {item!r}")


class OfficeRegistry:
    """An immutable set of offices, looked up by id."""

    def __init__(self, offices: Iterable[Office]) -> None:
        self._by_id: dict[str, Office] = {}
        for office in offices:
            if office.id in self._by_id:
                raise InputError(f"office registry: duplicate office id {office.id!r}")
            self._by_id[office.id] = office

    def __iter__(self) -> Iterator[Office]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, office_id: object) -> bool:
        return office_id in self._by_id

    def countries(self) -> dict[str, str]:
        """Each office's country, by office id."""
        return {office.id: office.country for office in self._by_id.values()}

    @property
    def ids(self) -> list[str]:
        """Office ids in registry order."""
        return list(self._by_id)

    def get(self, office_id: str) -> Office:
        """The office with this id; raises :class:`UnknownOfficeError`."""
        try:
            return self._by_id[office_id]
        except KeyError:
            raise UnknownOfficeError(office_id) from None

    def merged(self, others: Iterable[Office]) -> OfficeRegistry:
        """A registry with ``others`` added (registry entries win on conflicts)."""
        extra = [o for o in others if o.id not in self._by_id]
        return OfficeRegistry([*self, *extra])

    def to_records(self) -> list[dict[str, Any]]:
        """Plain JSON-ready dicts, e.g. to store beside a model."""
        return [o.model_dump(mode="json") for o in self]

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]], source: str = "") -> OfficeRegistry:
        """Validate plain dicts into a registry, naming the bad entry on error."""
        offices = []
        for i, record in enumerate(records):
            try:
                offices.append(Office.model_validate(record))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                name = record.get("id", f"#{i}") if isinstance(record, Mapping) else f"#{i}"
                raise InputError(
                    f"office registry {source}: office {name}: {where}: {first['msg']}"
                ) from None
        return cls(offices)


def parse_registry(text: str, source: str = "") -> OfficeRegistry:
    """Parse the JSON text of an office registry file."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"office registry {source}: not valid JSON ({exc.msg}, line {exc.lineno})"
        ) from None
    records = data.get("offices") if isinstance(data, dict) else data
    if not isinstance(records, list) or not records:
        raise InputError(f"office registry {source}: expected a non-empty list under 'offices'")
    return OfficeRegistry.from_records(records, source)


def default_registry_text() -> str:
    """The JSON text of the built-in Hangzhou registry."""
    return resources.files("features").joinpath("data/offices_hangzhou.json").read_text("utf-8")


def load_offices(path: Path | None = None) -> OfficeRegistry:
    """The registry from ``path``, or the built-in Hangzhou one when ``path`` is None."""
    if path is None:
        return parse_registry(default_registry_text(), "(built-in)")
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"office registry {path}: cannot read it ({exc})") from None
    return parse_registry(text, str(path))
