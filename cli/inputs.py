"""Read, validate and combine the input files of `train` and `evaluate`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from features import schema as s
from features.calendar_cn import ChinaCalendar, load_calendar
from features.errors import InputError
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
    calendar: ChinaCalendar


def load_inputs(
    paths: list[Path],
    offices_file: Path | None,
    calendar_file: Path | None,
    max_reject_share: float,
) -> Inputs:
    """Read and validate every path; refuse input whose rejected share is above the limit."""
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
    offices = load_offices(offices_file)
    calendar = load_calendar(calendar_file)
    raws = read_inputs(paths)
    results = [validate(raw, offices) for raw in raws]
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
        calendar=calendar,
    )
