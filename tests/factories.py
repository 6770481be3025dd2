"""Seeded factories of small inputs for tests: ticket logs and wait observations.

Frames hold text, as a CSV would (times ``YYYY-MM-DD HH:MM:SS``, empty = ``""``), so they
can go straight to the validators or be written with :func:`write_table`. Same seed, same
frame. The ``*_with_every_reason`` factories add one broken row per reject reason and
return the reason expected for each row.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from features import schema as s

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
TICKET_OFFICES = ("hz-city", "hz-xihu", "hz-qiantang")  # two dual-track, one walk-in only
DUAL_TRACK = frozenset({"hz-city", "hz-xihu"})
SERVICES = ("passport", "hk_macau_permit", "endorsement")
START = dt.date(2023, 6, 12)  # a Monday
# Personal data as queue systems export it: must never pass the reader.
PERSONAL_COLUMNS = ("name", "id_number")


def _text(times: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(pd.Series(times).dt.strftime(TIME_FORMAT).fillna(""), dtype=object)


def ticket_log(
    per_office_day: int = 30,
    days: int = 3,
    offices: tuple[str, ...] = TICKET_OFFICES,
    start: dt.date = START,
    seed: int = 0,
) -> pd.DataFrame:
    """A valid ticket log: every contract column, as text; about 10 % never called."""
    rng = np.random.default_rng(seed)
    n = per_office_day * days * len(offices)
    office = np.repeat(np.array(offices), per_office_day * days)
    day = np.tile(np.repeat(np.arange(days), per_office_day), len(offices))
    seq = np.tile(np.arange(per_office_day), days * len(offices))
    midnight = pd.Timestamp(start) + pd.to_timedelta(day, unit="D")
    issued = midnight + pd.to_timedelta(9 * 3600 + rng.integers(0, 7 * 3600, n), unit="s")
    called = issued + pd.to_timedelta(rng.integers(0, 90 * 60, n), unit="s")
    finished = called + pd.to_timedelta(rng.integers(3 * 60, 20 * 60, n), unit="s")
    never_called = rng.random(n) < 0.1
    appointment = np.isin(office, list(DUAL_TRACK)) & (rng.random(n) < 0.3)
    slot = issued.floor("30min")
    booked = slot - pd.to_timedelta(rng.integers(1, 30, n), unit="D")
    return pd.DataFrame(
        {
            s.OFFICE_ID: office,
            s.TICKET_ID: [
                f"{o[3:6].upper()}{d:02d}{q:04d}" for o, d, q in zip(office, day, seq, strict=True)
            ],
            s.CHANNEL: np.where(appointment, s.Channel.APPOINTMENT.value, s.Channel.WALK_IN.value),
            s.ISSUED_AT: _text(issued),
            s.CALLED_AT: np.where(never_called, "", _text(called)),
            s.FINISHED_AT: np.where(never_called, "", _text(finished)),
            s.SERVICE: rng.choice(np.array(SERVICES), n),
            s.APPOINTMENT_AT: np.where(appointment, _text(slot), ""),
            s.BOOKED_AT: np.where(appointment, _text(booked), ""),
            s.WINDOW_ID: np.where(never_called, "", [f"W{k}" for k in rng.integers(1, 9, n)]),
        }
    )


def observations(
    days: int = 3,
    offices: tuple[str, ...] = ("md-annapolis", "hz-city"),
    start: dt.date = START,
    seed: int = 0,
) -> pd.DataFrame:
    """Valid wait observations every 15 minutes 09:00-17:00; about 5 % empty waits."""
    rng = np.random.default_rng(seed)
    moments = [
        pd.Timestamp(start) + pd.Timedelta(days=d, minutes=9 * 60 + 15 * k)
        for d in range(days)
        for k in range(32)
    ]
    grid = pd.MultiIndex.from_product([offices, moments, SERVICES[:2]]).to_frame(index=False)
    n = len(grid)
    wait = rng.gamma(2.0, 10.0, n).round(1)
    closed = rng.random(n) < 0.05
    return pd.DataFrame(
        {
            s.OFFICE_ID: grid[0].to_numpy(),
            s.OBSERVED_AT: _text(grid[1]),
            s.WAIT_MINUTES: np.where(closed, "", wait.astype(str)),
            s.CHANNEL: s.Channel.WALK_IN.value,
            s.SERVICE: grid[2].to_numpy(),
            s.QUEUE_LENGTH: rng.integers(0, 40, n).astype(str),
            s.WINDOWS_OPEN: rng.integers(1, 9, n).astype(str),
        }
    )


def with_personal_data(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The frame with a name and an 18-digit ID number per row (distinctive values)."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    out[PERSONAL_COLUMNS[0]] = [f"张{i}秘名" for i in range(len(frame))]
    out[PERSONAL_COLUMNS[1]] = [f"33010619{d:010d}" for d in rng.integers(0, 10**10, len(frame))]
    return out


def _row(frame: pd.DataFrame, position: int, **changes: str) -> dict[str, str]:
    row = frame.iloc[position].to_dict()
    row.update(changes)
    return row


def tickets_with_every_reason(seed: int = 0) -> tuple[pd.DataFrame, list[str]]:
    """A valid log followed by broken rows; returns it and each row's expected reason ("" ok)."""
    log = ticket_log(per_office_day=20, days=2, seed=seed)
    walk_in = int(np.flatnonzero(log[s.CHANNEL] == s.Channel.WALK_IN.value)[0])
    booked = int(np.flatnonzero(log[s.CHANNEL] == s.Channel.APPOINTMENT.value)[0])
    called = pd.Timestamp(log.loc[walk_in, s.ISSUED_AT])
    later = (called + pd.Timedelta(minutes=10)).strftime(TIME_FORMAT)
    earlier = (called - pd.Timedelta(minutes=10)).strftime(TIME_FORMAT)
    next_day = (called + pd.Timedelta(days=1)).strftime(TIME_FORMAT)
    slot = pd.Timestamp(log.loc[booked, s.APPOINTMENT_AT])
    after_slot = (slot + pd.Timedelta(hours=1)).strftime(TIME_FORMAT)
    broken = [
        ("missing_value", _row(log, walk_in, office_id="", ticket_id="X1")),
        ("missing_value", _row(log, walk_in, ticket_id="  ")),
        ("unknown_channel", _row(log, walk_in, ticket_id="X2", channel="online")),
        ("unparsable_time", _row(log, walk_in, ticket_id="X3", issued_at="yesterday")),
        ("unparsable_time", _row(log, walk_in, ticket_id="X4", issued_at="")),
        ("unparsable_time", _row(log, walk_in, ticket_id="X5", finished_at="2023-13-45 99:00")),
        ("booked_after_appointment", _row(log, booked, ticket_id="X6", booked_at=after_slot)),
        ("called_before_issued", _row(log, walk_in, ticket_id="X7", called_at=earlier)),
        (
            "finished_before_called",
            _row(log, walk_in, ticket_id="X8", called_at=later, finished_at=earlier),
        ),
        (
            "wait_longer_than_day",
            _row(log, walk_in, ticket_id="X9", called_at=next_day, finished_at=""),
        ),
        ("duplicate_ticket_id", _row(log, walk_in)),
    ]
    extra = pd.DataFrame([row for _, row in broken])
    frame = pd.concat([log, extra], ignore_index=True)
    return frame, [""] * len(log) + [reason for reason, _ in broken]


def observations_with_every_reason(seed: int = 0) -> tuple[pd.DataFrame, list[str]]:
    """Valid observations followed by broken rows, and each row's expected reason ("" ok)."""
    obs = observations(days=1, seed=seed)
    broken = [
        ("missing_value", _row(obs, 0, office_id="")),
        ("unknown_channel", _row(obs, 0, channel="drive_thru")),
        ("unparsable_time", _row(obs, 0, observed_at="12/06/2023 10:00")),
        ("bad_number", _row(obs, 0, wait_minutes="about 20")),
        ("bad_number", _row(obs, 0, queue_length="-1")),
        ("bad_number", _row(obs, 0, windows_open="2.5")),
        ("negative_wait", _row(obs, 0, wait_minutes="-5")),
    ]
    extra = pd.DataFrame([row for _, row in broken])
    frame = pd.concat([obs, extra], ignore_index=True)
    return frame, [""] * len(obs) + [reason for reason, _ in broken]


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write a frame as CSV, CSV.gz or Parquet, by the path's suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)  # pandas compresses .gz by suffix
    return path
