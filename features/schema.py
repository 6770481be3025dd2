"""Column names, kinds and value sets of waitcast's inputs and tables.

This is the one place where column names are spelled. Every other module imports
the constants from here instead of writing the string again.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Channel(StrEnum):
    """How a citizen came to the office."""

    WALK_IN = "walk_in"
    APPOINTMENT = "appointment"


class OfficeMode(StrEnum):
    """Whether an office takes appointments besides walk-ins."""

    DUAL_TRACK = "dual_track"
    WALK_IN_ONLY = "walk_in_only"


class InputKind(StrEnum):
    """The two input kinds of the data contract."""

    TICKETS = "tickets"
    OBSERVATIONS = "observations"


DEFAULT_SERVICE: Final = "general"
DEFAULT_TIMEZONE: Final = "Asia/Shanghai"

# --- shared -----------------------------------------------------------------
OFFICE_ID: Final = "office_id"
CHANNEL: Final = "channel"
SERVICE: Final = "service"

# --- ticket log ---------------------------------------------------------------
TICKET_ID: Final = "ticket_id"
ISSUED_AT: Final = "issued_at"
CALLED_AT: Final = "called_at"
FINISHED_AT: Final = "finished_at"
APPOINTMENT_AT: Final = "appointment_at"
BOOKED_AT: Final = "booked_at"
WINDOW_ID: Final = "window_id"

TICKET_REQUIRED: Final = (OFFICE_ID, TICKET_ID, CHANNEL, ISSUED_AT)
TICKET_OPTIONAL: Final = (CALLED_AT, FINISHED_AT, SERVICE, APPOINTMENT_AT, BOOKED_AT, WINDOW_ID)
TICKET_COLUMNS: Final = TICKET_REQUIRED + TICKET_OPTIONAL
TICKET_TIME_COLUMNS: Final = (ISSUED_AT, CALLED_AT, FINISHED_AT, APPOINTMENT_AT, BOOKED_AT)

# --- wait observations --------------------------------------------------------
OBSERVED_AT: Final = "observed_at"
WAIT_MINUTES: Final = "wait_minutes"
QUEUE_LENGTH: Final = "queue_length"
WINDOWS_OPEN: Final = "windows_open"

OBSERVATION_REQUIRED: Final = (OFFICE_ID, OBSERVED_AT, WAIT_MINUTES)
OBSERVATION_OPTIONAL: Final = (CHANNEL, SERVICE, QUEUE_LENGTH, WINDOWS_OPEN)
OBSERVATION_COLUMNS: Final = OBSERVATION_REQUIRED + OBSERVATION_OPTIONAL
OBSERVATION_TIME_COLUMNS: Final = (OBSERVED_AT,)

# --- simulator extras (not part of the contract; ignored on read) -------------
DOCUMENTS: Final = "documents"

# --- derived, per ticket ------------------------------------------------------
WAIT: Final = "wait_minutes"  # the same name as an observation's wait
CENSORED: Final = "censored"  # True when the ticket was never called
DATE: Final = "date"
HOUR: Final = "hour"
ACTIVITY_AT: Final = "at"  # when a ticket was issued or a wait posted (office time)
SOURCE_FILE: Final = "source_file"
SOURCE_ROW: Final = "source_row"
REJECT_REASON: Final = "reason"

# --- hourly table -------------------------------------------------------------
ARRIVALS: Final = "arrivals"
N_NEVER_CALLED: Final = "n_never_called"
NEVER_CALLED_SHARE: Final = "never_called_share"
N_OUTCOMES: Final = "n_outcomes"
WAIT_P10: Final = "wait_p10"
WAIT_P50: Final = "wait_p50"
WAIT_P90: Final = "wait_p90"
WAIT_MEAN: Final = "wait_mean"
BOOKED: Final = "booked"
BOOKED_DATE: Final = "booked_date"  # the day an appointment was booked (appointment book)

# --- forecasts ----------------------------------------------------------------
P10: Final = "p10"
P50: Final = "p50"
P90: Final = "p90"
EXPECTED_ARRIVALS: Final = "expected_arrivals"
P_CALLED: Final = "p_called"
MODEL_P50: Final = "model_p50"  # live accuracy: the p50 the version itself serves (issue 15)
VERSION: Final = "version"  # live accuracy: the model version that served (issue 15)
FORECAST_COLUMNS: Final = (OFFICE_ID, DATE, HOUR, CHANNEL, P10, P50, P90)
FORECAST_TABLE_COLUMNS: Final = (
    OFFICE_ID,
    DATE,
    HOUR,
    CHANNEL,
    SERVICE,
    P10,
    P50,
    P90,
    EXPECTED_ARRIVALS,
    P_CALLED,
)

CHANNELS: Final = tuple(c.value for c in Channel)
QUEUE_KEYS: Final = (OFFICE_ID, CHANNEL, SERVICE)
