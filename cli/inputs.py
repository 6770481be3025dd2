"""Read, validate and combine the input files of `train` and `evaluate`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from features import schema as s
from features.calendar_cn import load_calendar
from features.calendar_world import check_country
from features.calendars import Calendars
from features.errors import CalendarError, InputError, ParameterError
from features.events import Event, load_events
from features.infer import Locale
from features.offices import OfficeRegistry, load_offices
from features.read import read_inputs
from features.validate import ValidationResult, check_usable, validate


@dataclass
class Inputs:
    """Validated frames of each kind (None when absent), plus what was read."""

    tickets: pd.DataFrame | None
    observations: pd.DataFrame | None
    results: list[ValidationResult]
    files: list[str]
    offices: OfficeRegistry
    calendars: Calendars
    locale: Locale
    events: tuple[Event, ...]


def make_locale(country: str | None, region: str | None, timezone: str | None) -> Locale:
    """The locale of inferred offices from ``--country``, ``--region`` and ``--timezone``."""
    if region and not country:
        raise ParameterError("--region", "needs --country (e.g. --country US --region CA)")
    if country:
        country = country.upper()
        try:
            check_country(country, region)
        except CalendarError as exc:
            raise ParameterError("--country/--region", str(exc)) from None
    if timezone:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ParameterError(
                "--timezone", f"{timezone!r} is not an IANA time zone (e.g. America/New_York)"
            ) from None
    return Locale(country, region, timezone)


def load_inputs(
    paths: list[Path],
    offices_file: Path | None,
    calendar_file: Path | None,
    max_reject_share: float,
    locale: Locale | None = None,
    events_file: Path | None = None,
) -> Inputs:
    """Read and validate every path; refuse input whose rejected share is above the limit."""
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
    offices = load_offices(offices_file)
    calendars = Calendars(load_calendar(calendar_file))
    events = load_events(events_file)
    raws = read_inputs(paths)
    locale = locale or Locale()
    zone = locale.timezone or s.DEFAULT_TIMEZONE
    results = [validate(raw, offices, zone) for raw in raws]
    for result in results:
        check_usable(result, max_reject_share)
    frames: dict[s.InputKind, list[pd.DataFrame]] = {}
    for result in results:
        frames.setdefault(result.kind, []).append(result.accepted)
    files = sorted({str(f) for raw in raws for f in raw.files})

    def combined(kind: s.InputKind) -> pd.DataFrame | None:
        parts = frames.get(kind)
        return pd.concat(parts, ignore_index=True) if parts else None

    return Inputs(
        tickets=combined(s.InputKind.TICKETS),
        observations=combined(s.InputKind.OBSERVATIONS),
        results=results,
        files=files,
        offices=offices,
        calendars=calendars,
        locale=locale,
        events=events,
    )
