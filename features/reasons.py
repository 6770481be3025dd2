"""Why a row is rejected: stable codes, their priority and a plain-words text for each.

A row that breaks several rules is rejected once, with the first of its reasons in the
order below: value problems of single columns first, then rules across columns, and
duplicates last (duplicates are looked for among rows that pass every other rule, so the
first *usable* copy of a ticket is the one kept).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Reason(StrEnum):
    """A reason code; the definition order is the priority order."""

    MISSING_VALUE = "missing_value"
    UNKNOWN_CHANNEL = "unknown_channel"
    UNPARSABLE_TIME = "unparsable_time"
    BAD_NUMBER = "bad_number"
    NEGATIVE_WAIT = "negative_wait"
    BOOKED_AFTER_APPOINTMENT = "booked_after_appointment"
    CALLED_BEFORE_ISSUED = "called_before_issued"
    FINISHED_BEFORE_CALLED = "finished_before_called"
    WAIT_LONGER_THAN_DAY = "wait_longer_than_day"
    DUPLICATE_TICKET_ID = "duplicate_ticket_id"


PRIORITY: Final = tuple(Reason)

REASON_TEXT: Final[dict[Reason, str]] = {
    Reason.MISSING_VALUE: "a required value is empty (office_id, ticket_id, or a ticket's channel)",
    Reason.UNKNOWN_CHANNEL: "channel is neither walk_in nor appointment",
    Reason.UNPARSABLE_TIME: (
        "a required time is empty, or a time is not YYYY-MM-DD HH:MM:SS (ISO 8601 accepted)"
    ),
    Reason.BAD_NUMBER: (
        "wait_minutes, queue_length or windows_open is not a number, "
        "or a count is negative or fractional"
    ),
    Reason.NEGATIVE_WAIT: "wait_minutes is negative",
    Reason.BOOKED_AFTER_APPOINTMENT: "an appointment was booked after its slot (booked_at later)",
    Reason.CALLED_BEFORE_ISSUED: "called_at is before issued_at",
    Reason.FINISHED_BEFORE_CALLED: "finished_at is before called_at",
    Reason.WAIT_LONGER_THAN_DAY: (
        "called more than 24 h after issued_at or on a later date, or wait_minutes above 1440"
    ),
    Reason.DUPLICATE_TICKET_ID: (
        "ticket_id repeats within one office and day (the first usable copy is kept)"
    ),
}


def describe(code: str) -> str:
    """The plain-words text of a reason code (the code itself when unknown)."""
    try:
        return REASON_TEXT[Reason(code)]
    except ValueError:
        return code
