"""The per-column rules of the data contract as pandera checks, one check per reason code.

Each check reads the raw text of one column and says which rows pass; times are parsed
once, up front, by :class:`ParsedTimes`, which the checks and the normalised output share.
:func:`failures_by_reason` runs a schema and turns pandera's failure cases into one boolean
mask per reason; :func:`first_reasons` picks each row's first reason in priority order.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from features import schema as s
from features.offices import OfficeRegistry
from features.reasons import PRIORITY, Reason
from features.timeparse import parse_local_times, unparsable

Failures = dict[Reason, np.ndarray]


class ParsedTimes:
    """Every time column parsed once, up front; the pandera checks and the output share it."""

    def __init__(
        self,
        raw: pd.DataFrame,
        columns: tuple[str, ...],
        office_ids: pd.Series,
        offices: OfficeRegistry,
        default_zone: str = s.DEFAULT_TIMEZONE,
    ) -> None:
        zones = {office.id: office.timezone for office in offices}
        self._parsed = {
            c: parse_local_times(raw[c], office_ids, zones, default_zone) for c in columns
        }

    def __getitem__(self, column: str) -> pd.Series:
        return self._parsed[column]

    def required(self, raw: pd.Series) -> pd.Series:
        """True where the time parses."""
        return self._parsed[str(raw.name)].notna()

    def optional(self, raw: pd.Series) -> pd.Series:
        """True where the time is empty or parses."""
        return ~unparsable(raw, self._parsed[str(raw.name)])


def _filled(raw: pd.Series) -> pd.Series:
    return raw.str.strip() != ""


def channel_text(raw: pd.Series) -> pd.Series:
    """Channel text as compared: stripped, lower case."""
    return raw.str.strip().str.lower()


def _known_channel_or_empty(raw: pd.Series) -> pd.Series:
    channel = channel_text(raw)
    return channel.isin(s.CHANNELS) | (channel == "")


def as_number(raw: pd.Series) -> pd.Series:
    """Numbers from text, float64; NaN where empty or not a number."""
    return pd.to_numeric(raw.str.strip(), errors="coerce").astype("float64")


def _number_or_empty(raw: pd.Series) -> pd.Series:
    return ~_filled(raw) | np.isfinite(as_number(raw))


def _count_or_empty(raw: pd.Series) -> pd.Series:
    number = as_number(raw)
    count = np.isfinite(number) & (number >= 0) & (number == np.floor(number))
    return ~_filled(raw) | count


def _not_negative(raw: pd.Series) -> pd.Series:
    return ~(as_number(raw) < 0)


MAX_WAIT_MINUTES = 24 * 60


def _within_a_day(raw: pd.Series) -> pd.Series:
    return ~(as_number(raw) > MAX_WAIT_MINUTES)


def _check(rule: Callable[[pd.Series], pd.Series], reason: Reason) -> pa.Check:
    # A closure, not the bare function: pandera deep-copies a bound method together with
    # its instance (here: every parsed time column, for each check).
    return pa.Check(lambda raw: rule(raw), name=reason.value)


def ticket_schema(times: ParsedTimes) -> pa.DataFrameSchema:
    """The per-column checks of a ticket log's raw text."""
    optional_times = {
        column: pa.Column(str, _check(times.optional, Reason.UNPARSABLE_TIME))
        for column in s.TICKET_TIME_COLUMNS
        if column != s.ISSUED_AT
    }
    return pa.DataFrameSchema(
        {
            s.OFFICE_ID: pa.Column(str, _check(_filled, Reason.MISSING_VALUE)),
            s.TICKET_ID: pa.Column(str, _check(_filled, Reason.MISSING_VALUE)),
            s.CHANNEL: pa.Column(
                str,
                [
                    _check(_filled, Reason.MISSING_VALUE),
                    _check(_known_channel_or_empty, Reason.UNKNOWN_CHANNEL),
                ],
            ),
            s.ISSUED_AT: pa.Column(str, _check(times.required, Reason.UNPARSABLE_TIME)),
            **optional_times,
        }
    )


def observation_schema(times: ParsedTimes) -> pa.DataFrameSchema:
    """The per-column checks of wait observations' raw text."""
    counts = {
        column: pa.Column(str, _check(_count_or_empty, Reason.BAD_NUMBER))
        for column in (s.QUEUE_LENGTH, s.WINDOWS_OPEN)
    }
    return pa.DataFrameSchema(
        {
            s.OFFICE_ID: pa.Column(str, _check(_filled, Reason.MISSING_VALUE)),
            s.CHANNEL: pa.Column(str, _check(_known_channel_or_empty, Reason.UNKNOWN_CHANNEL)),
            s.OBSERVED_AT: pa.Column(str, _check(times.required, Reason.UNPARSABLE_TIME)),
            s.WAIT_MINUTES: pa.Column(
                str,
                [
                    _check(_number_or_empty, Reason.BAD_NUMBER),
                    _check(_not_negative, Reason.NEGATIVE_WAIT),
                    _check(_within_a_day, Reason.WAIT_LONGER_THAN_DAY),
                ],
            ),
            **counts,
        }
    )


def failures_by_reason(schema: pa.DataFrameSchema, raw: pd.DataFrame) -> Failures:
    """Rows failing each pandera check, as a boolean mask per reason."""
    try:
        schema.validate(raw, lazy=True, inplace=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        if cases["index"].isna().any():  # a schema-level failure: a bug here, not bad input
            failed = cases.head(3).to_dict("records")
            raise RuntimeError(f"validation schema failed: {failed}") from exc
        failures: Failures = {}
        for check, rows in cases.groupby("check")["index"]:
            mask = np.zeros(len(raw), dtype=bool)
            mask[rows.to_numpy(dtype=np.int64)] = True
            failures[Reason(str(check))] = mask
        return failures
    return {}


def first_reasons(failures: Failures, n_rows: int) -> np.ndarray:
    """Each row's first reason in priority order; "" for rows that pass."""
    ordered = [reason for reason in PRIORITY if reason in failures]
    if not ordered:
        return np.full(n_rows, "", dtype=object)
    return np.select(
        [failures[reason] for reason in ordered],
        [reason.value for reason in ordered],
        default="",
    ).astype(object)
