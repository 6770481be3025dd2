"""Independent random streams per (seed, office, date, purpose).

Every random draw of the simulator comes from the stream of one office, one date and
one purpose, so the same seed gives the same output, a window of dates replays
exactly, and changing one purpose's draws never shifts another's.
"""

from __future__ import annotations

import datetime as dt
import zlib
from enum import IntEnum

import numpy as np


class Purpose(IntEnum):
    """What a stream is drawn for; the code is part of the stream's seed."""

    DAY_NOISE = 1  # gamma noise on the day's demand
    COUNTS = 2  # how many people book and walk in that day
    BOOKING = 3  # when they book, which day and slot they prefer
    WALK_IN = 4  # walk-in arrival times and patience
    SHOW = 5  # no-shows and check-in times of the day's appointments
    SERVICE = 6  # service, documents and service durations of the day's tickets
    EXTRA = 7  # patience and needs of walk-ins added from outside (``extra_walk_ins``)


def office_code(office_id: str) -> int:
    """A stable 32-bit code of an office id (never Python's salted ``hash``)."""
    return zlib.crc32(office_id.encode("utf-8"))


def day_rng(seed: int, office_id: str, date: dt.date, purpose: Purpose) -> np.random.Generator:
    """The random stream of one office, date and purpose."""
    sequence = np.random.SeedSequence([seed, office_code(office_id), date.toordinal(), purpose])
    return np.random.Generator(np.random.PCG64(sequence))
