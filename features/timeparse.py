"""Vectorised parsing of the contract's time text into naive local times.

The contract writes times as the office's local wall-clock time, ``YYYY-MM-DD HH:MM:SS``;
ISO 8601 with a ``T``, fractional seconds or a missing seconds field is accepted too. A time
with an explicit UTC offset (``Z``, ``+08:00``, ``+0800``, ``+08``) is converted to the
office's time zone and then made naive, so every parsed time is local wall-clock time.

Parsing is two-pass for speed: the strict format first (the common case, fully vectorised),
then the ISO 8601 forms only for the rows that failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from features import schema as s
from features.errors import InputError

STRICT_FORMAT = "%Y-%m-%d %H:%M:%S"
_ISO_PATTERN = (
    r"^(?P<body>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)"
    r"(?P<offset>[zZ]|[+-]\d{2}(?::?\d{2})?)?$"
)
_UNIT = "datetime64[ns]"


def parse_local_times(
    raw: pd.Series,
    office_ids: pd.Series | None = None,
    zones: Mapping[str, str] | None = None,
    default_zone: str = s.DEFAULT_TIMEZONE,
) -> pd.Series:
    """Parse time text into naive local ``datetime64[ns]``; NaT where empty or unparsable.

    Args:
        raw: the time text, one per row; empty text means no time.
        office_ids: each row's office (same index as ``raw``); used, with ``zones``, only
            for times written with an explicit UTC offset.
        zones: the IANA time zone of each office; offices not in it, and every row when
            ``office_ids`` is None, use ``default_zone``.
        default_zone: the zone of offices not in ``zones`` (default ``Asia/Shanghai``).

    Returns:
        A series aligned with ``raw``. Use :func:`unparsable` to tell an empty value
        from a bad one.
    """
    parsed = _in_ns_range(pd.to_datetime(raw, format=STRICT_FORMAT, errors="coerce"))
    retry = parsed.isna() & (raw != "")
    if not retry.any():
        return parsed
    parts = raw[retry].str.strip().str.extract(_ISO_PATTERN)
    body, offset = parts["body"], parts["offset"]
    naive = body.notna() & offset.isna()
    if naive.any():
        parsed.loc[naive[naive].index] = _in_ns_range(
            pd.to_datetime(body[naive], format="ISO8601", errors="coerce")
        )
    with_offset = body.notna() & offset.notna()
    if with_offset.any():
        rows = with_offset[with_offset].index
        text = body[rows] + offset[rows].str.upper()
        instants = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
        row_zones = pd.Series(default_zone, index=rows, dtype="str")
        if office_ids is not None and zones:
            row_zones = office_ids.loc[rows].map(dict(zones)).fillna(row_zones)
        for zone, index in row_zones.groupby(row_zones, sort=False).groups.items():
            parsed.loc[index] = _to_local(instants.loc[index], str(zone))
    return parsed


def _to_local(instants: pd.Series, zone: str) -> pd.Series:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"office registry: unknown time zone {zone!r}") from None
    return _in_ns_range(instants.dt.tz_convert(zone).dt.tz_localize(None))


def _in_ns_range(times: pd.Series) -> pd.Series:
    """As ``datetime64[ns]``; times outside its range (about 1677-2262) become NaT."""
    inside = times.between(pd.Timestamp.min, pd.Timestamp.max)
    return times.where(inside).astype(_UNIT)


def unparsable(raw: pd.Series, parsed: pd.Series) -> pd.Series:
    """True where a time was written but could not be parsed."""
    return parsed.isna() & (raw.str.strip() != "")
