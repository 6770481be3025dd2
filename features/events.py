"""Dated one-off events: surges and regime changes that are not a season.

A *surge* is a period of unusual demand (the reopening after the pandemic); a *change*
is a lasting change of how offices work, from its start date on (the 8 June 2023 dual
track). The feature builder flags target dates inside a surge and counts the days since
the last change — for the target date and for the origin, whose trailing levels may
straddle it — so that the models attribute these to the event and not to the day of the
year.

The table is a CSV file ``start,end,kind,country,name`` (``end`` empty for a change),
like the holiday override file: the built-in one is ``features/data/events_china.csv``;
``--events FILE`` replaces it. An event applies to the offices of its country.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from features.errors import InputError


class EventKind(StrEnum):
    """How an event acts on demand."""

    SURGE = "surge"
    CHANGE = "change"


@dataclass(frozen=True)
class Event:
    """One dated event."""

    start: dt.date
    end: dt.date | None
    kind: EventKind
    country: str
    name: str

    def covers(self, date: dt.date) -> bool:
        """True when ``date`` falls inside the event (a change covers every later day)."""
        return self.start <= date and (self.end is None or date <= self.end)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "kind": self.kind.value,
            "country": self.country,
            "name": self.name,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        """Inverse of :meth:`to_dict`."""
        return cls(
            start=dt.date.fromisoformat(data["start"]),
            end=dt.date.fromisoformat(data["end"]) if data.get("end") else None,
            kind=EventKind(data["kind"]),
            country=str(data["country"]),
            name=str(data["name"]),
        )


def latest_changes(
    events: tuple[Event, ...], origin: dt.date, min_age: int, max_age: int
) -> dict[str, dt.date]:
    """Per country, the start of its latest change that is at least ``min_age`` and less
    than ``max_age`` days before ``origin``."""
    starts: dict[str, dt.date] = {}
    for event in events:
        age = (origin - event.start).days
        if event.kind is EventKind.CHANGE and min_age <= age < max_age:
            starts[event.country] = max(event.start, starts.get(event.country, event.start))
    return starts


def parse_events(text: str, source: str = "") -> tuple[Event, ...]:
    """Parse an events CSV, naming the line of any bad row."""
    reader = csv.DictReader(io.StringIO(text))
    need = {"start", "end", "kind", "country", "name"}
    if reader.fieldnames is None or not need <= set(reader.fieldnames):
        raise InputError(f"events file {source}: needs the columns {','.join(sorted(need))}")
    events = []
    for line, row in enumerate(reader, start=2):
        try:
            start = dt.date.fromisoformat(row["start"].strip())
            end_text = (row["end"] or "").strip()
            end = dt.date.fromisoformat(end_text) if end_text else None
            kind = EventKind(row["kind"].strip().lower())
        except ValueError:
            raise InputError(
                f"events file {source}: line {line}: start and end must be YYYY-MM-DD and "
                f"kind one of {', '.join(k.value for k in EventKind)}"
            ) from None
        if kind is EventKind.SURGE and (end is None or end < start):
            raise InputError(f"events file {source}: line {line}: a surge needs an end >= start")
        events.append(Event(start, end, kind, row["country"].strip().upper(), row["name"].strip()))
    return tuple(events)


def load_events(path: Path | None = None) -> tuple[Event, ...]:
    """The events of ``path``, or the built-in table when ``path`` is None."""
    if path is None:
        text = resources.files("features").joinpath("data/events_china.csv").read_text("utf-8")
        return parse_events(text, "(built-in)")
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"events file {path}: cannot read it ({exc})") from None
    return parse_events(text, str(path))
