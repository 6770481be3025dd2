"""Check input frames against the data contract: accepted rows, and rejected rows with reasons.

Per-column rules are pandera checks on the raw text, one per reason code (see
:mod:`features.checks`); rules across columns are vectorised pandas on the parsed values.
Every row lands in exactly one of ``accepted`` (normalised: local naive times, filled
defaults, numbers) or ``rejected`` (the raw contract values, ``source_file``,
``source_row`` and ``reason``), so nothing is dropped silently. The reason priority is
documented in :mod:`features.reasons`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import schema as s
from features.checks import (
    ParsedTimes,
    as_number,
    channel_text,
    failures_by_reason,
    first_reasons,
    observation_schema,
    ticket_schema,
)
from features.errors import (
    MissingColumnError,
    ParameterError,
    TooManyRejectsError,
    UnusableInputError,
)
from features.offices import OfficeRegistry
from features.read import RawInput, as_text
from features.reasons import PRIORITY, Reason

__all__ = [
    "ValidationResult",
    "check_usable",
    "validate",
    "validate_observations",
    "validate_tickets",
]

ONE_DAY = pd.Timedelta(hours=24)


@dataclass(frozen=True, eq=False)
class ValidationResult:
    """The outcome of validating one input kind.

    Attributes:
        kind: tickets or observations.
        accepted: normalised rows that passed every rule.
        rejected: raw contract values of the other rows, with ``source_file``,
            ``source_row`` and ``reason``.
        counts_by_reason: rejected rows per reason code, in priority order.
        rows_in: rows read; always ``len(accepted) + len(rejected)``.
    """

    kind: s.InputKind
    accepted: pd.DataFrame
    rejected: pd.DataFrame
    counts_by_reason: dict[str, int]
    rows_in: int

    def __post_init__(self) -> None:
        if self.rows_in != len(self.accepted) + len(self.rejected):
            raise ValueError("rows_in must equal accepted + rejected rows")

    @property
    def rejected_share(self) -> float:
        """Share of the rows read that were rejected (0.0 when no rows)."""
        return len(self.rejected) / self.rows_in if self.rows_in else 0.0


def _contract_text(
    frame: pd.DataFrame, kind: s.InputKind, columns: tuple[str, ...], required: tuple[str, ...]
) -> tuple[pd.DataFrame, list[str]]:
    """The contract columns as text on a fresh RangeIndex, plus which of them were given."""
    missing = [column for column in required if column not in frame.columns]
    if missing:
        where = "input"
        if s.SOURCE_FILE in frame.columns and len(frame):
            where = ", ".join(str(f) for f in frame[s.SOURCE_FILE].unique()[:3])
        raise MissingColumnError(
            f"{where}: missing required column(s) {', '.join(missing)} of a {kind} file"
        )
    given = [column for column in columns if column in frame.columns]
    frame = frame.reset_index(drop=True)
    n = len(frame)
    empty = pd.Series("", index=frame.index, dtype="str")
    raw = pd.DataFrame({c: as_text(frame[c]) if c in given else empty for c in columns})
    raw[s.SOURCE_FILE] = as_text(frame[s.SOURCE_FILE]) if s.SOURCE_FILE in frame else empty
    raw[s.SOURCE_ROW] = frame[s.SOURCE_ROW] if s.SOURCE_ROW in frame else np.arange(1, n + 1)
    return raw, given


def _result(
    kind: s.InputKind,
    raw: pd.DataFrame,
    given: list[str],
    reasons: np.ndarray,
    accepted: pd.DataFrame,
) -> ValidationResult:
    bad = reasons != ""
    rejected = raw.loc[bad, [*given, s.SOURCE_FILE, s.SOURCE_ROW]].reset_index(drop=True)
    rejected[s.REJECT_REASON] = reasons[bad]
    counts = pd.Series(reasons[bad]).value_counts()
    return ValidationResult(
        kind=kind,
        accepted=accepted[~bad].reset_index(drop=True),
        rejected=rejected,
        counts_by_reason={r.value: int(counts[r.value]) for r in PRIORITY if r.value in counts},
        rows_in=len(raw),
    )


def validate_tickets(
    frame: pd.DataFrame, offices: OfficeRegistry, default_zone: str = s.DEFAULT_TIMEZONE
) -> ValidationResult:
    """Validate a ticket log frame (raw text, as read) against the data contract.

    Args:
        frame: one row per ticket; contract columns as text, other columns ignored.
        offices: the registry, for each office's time zone (unknown: ``default_zone``).

    Returns:
        The accepted tickets (times naive local ``datetime64[ns]``, ``channel`` lower case,
        ``service`` filled with ``general``) and the rejected rows with their reasons.

    Raises:
        MissingColumnError: a required column is absent.
    """
    kind = s.InputKind.TICKETS
    raw, given = _contract_text(frame, kind, s.TICKET_COLUMNS, s.TICKET_REQUIRED)
    office_id = raw[s.OFFICE_ID].str.strip()
    times = ParsedTimes(raw, s.TICKET_TIME_COLUMNS, office_id, offices, default_zone)
    failures = failures_by_reason(ticket_schema(times), raw)
    issued, called, finished = times[s.ISSUED_AT], times[s.CALLED_AT], times[s.FINISHED_AT]
    channel = channel_text(raw[s.CHANNEL])
    booked_late = times[s.BOOKED_AT] > times[s.APPOINTMENT_AT]
    failures[Reason.BOOKED_AFTER_APPOINTMENT] = (
        (channel == s.Channel.APPOINTMENT.value) & booked_late
    ).to_numpy()
    failures[Reason.CALLED_BEFORE_ISSUED] = (called < issued).to_numpy()
    failures[Reason.FINISHED_BEFORE_CALLED] = (finished < called).to_numpy()
    failures[Reason.WAIT_LONGER_THAN_DAY] = (
        (called - issued > ONE_DAY) | (called.dt.normalize() > issued.dt.normalize())
    ).to_numpy()
    reasons = first_reasons(failures, len(raw))
    ticket_id = raw[s.TICKET_ID].str.strip()
    usable = reasons == ""
    key = pd.DataFrame(
        {s.OFFICE_ID: office_id, s.DATE: issued.dt.normalize(), s.TICKET_ID: ticket_id}
    )
    repeated = key[usable].duplicated(keep="first")
    reasons[repeated[repeated].index.to_numpy()] = Reason.DUPLICATE_TICKET_ID.value
    service = raw[s.SERVICE].str.strip()
    accepted = pd.DataFrame(
        {
            s.OFFICE_ID: office_id,
            s.TICKET_ID: ticket_id,
            s.CHANNEL: channel,
            s.ISSUED_AT: issued,
            s.CALLED_AT: called,
            s.FINISHED_AT: finished,
            s.SERVICE: service.mask(service == "", s.DEFAULT_SERVICE),
            s.APPOINTMENT_AT: times[s.APPOINTMENT_AT],
            s.BOOKED_AT: times[s.BOOKED_AT],
            s.WINDOW_ID: raw[s.WINDOW_ID].str.strip(),
            s.SOURCE_FILE: raw[s.SOURCE_FILE],
            s.SOURCE_ROW: raw[s.SOURCE_ROW],
        }
    )
    return _result(kind, raw, given, reasons, accepted)


def validate_observations(
    frame: pd.DataFrame, offices: OfficeRegistry, default_zone: str = s.DEFAULT_TIMEZONE
) -> ValidationResult:
    """Validate a wait-observation frame (raw text, as read) against the data contract.

    Args:
        frame: one row per observation; contract columns as text, other columns ignored.
        offices: the registry, for each office's time zone (unknown: ``default_zone``).

    Returns:
        The accepted observations (``observed_at`` naive local ``datetime64[ns]``;
        ``wait_minutes``, ``queue_length`` and ``windows_open`` float, NaN when empty —
        an empty wait means closed or unknown and is kept; ``channel`` filled with
        ``walk_in`` and ``service`` with ``general``) and the rejected rows.

    Raises:
        MissingColumnError: a required column is absent.
    """
    kind = s.InputKind.OBSERVATIONS
    raw, given = _contract_text(frame, kind, s.OBSERVATION_COLUMNS, s.OBSERVATION_REQUIRED)
    office_id = raw[s.OFFICE_ID].str.strip()
    times = ParsedTimes(raw, s.OBSERVATION_TIME_COLUMNS, office_id, offices, default_zone)
    reasons = first_reasons(failures_by_reason(observation_schema(times), raw), len(raw))
    channel = channel_text(raw[s.CHANNEL])
    service = raw[s.SERVICE].str.strip()
    accepted = pd.DataFrame(
        {
            s.OFFICE_ID: office_id,
            s.OBSERVED_AT: times[s.OBSERVED_AT],
            s.WAIT_MINUTES: as_number(raw[s.WAIT_MINUTES]),
            s.CHANNEL: channel.mask(channel == "", s.Channel.WALK_IN.value),
            s.SERVICE: service.mask(service == "", s.DEFAULT_SERVICE),
            s.QUEUE_LENGTH: as_number(raw[s.QUEUE_LENGTH]),
            s.WINDOWS_OPEN: as_number(raw[s.WINDOWS_OPEN]),
            s.SOURCE_FILE: raw[s.SOURCE_FILE],
            s.SOURCE_ROW: raw[s.SOURCE_ROW],
        }
    )
    return _result(kind, raw, given, reasons, accepted)


def validate(
    raw: RawInput, offices: OfficeRegistry, default_zone: str = s.DEFAULT_TIMEZONE
) -> ValidationResult:
    """Validate what :func:`features.read.read_inputs` read, by its kind (``default_zone``:
    the time zone of offices missing from the registry)."""
    if raw.kind is s.InputKind.TICKETS:
        return validate_tickets(raw.frame, offices, default_zone)
    return validate_observations(raw.frame, offices, default_zone)


def check_usable(result: ValidationResult, max_reject_share: float = 0.05) -> None:
    """Refuse a result with no accepted rows or too large a rejected share.

    Raises:
        ParameterError: ``max_reject_share`` is not within [0, 1].
        UnusableInputError: no rows were accepted, or the rejected share is above the limit;
            the message gives the share, the limit and the top reasons.
    """
    if not 0.0 <= max_reject_share <= 1.0:
        raise ParameterError("max_reject_share", f"must be within 0 and 1, got {max_reject_share}")
    kind = result.kind.value
    top = sorted(result.counts_by_reason.items(), key=lambda item: -item[1])[:3]
    reasons = ", ".join(f"{code} {count:,}" for code, count in top)
    if result.rows_in == 0:
        raise UnusableInputError(f"{kind}: the input has no data rows")
    if result.accepted.empty:
        raise UnusableInputError(
            f"{kind}: no usable rows, all {result.rows_in:,} rejected (top reasons: {reasons})"
        )
    if result.rejected_share > max_reject_share:
        raise TooManyRejectsError(
            f"{kind}: {result.rejected_share:.2%} of {result.rows_in:,} rows rejected, above the "
            f"limit of {max_reject_share:.2%} (top reasons: {reasons})"
        )
