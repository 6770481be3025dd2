"""Independent random streams per (seed, office, date, purpose).

Every random draw of the simulator comes from the stream of one office, one date and
one purpose, so the same seed gives the same output, a window of dates replays
exactly, and changing one purpose's draws never shifts another's.

Because every draw belongs to one date, a run can also *fork*: the draws of the dates
before a fork date come from one seed and those from it on from another
(:class:`Forked`). A forked run has exactly the history of the first seed up to the fork
and a fresh future after it: the replays that give the expected wait of a window
conditional on what happened before it.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Forked:
    """The draws of dates before ``fork`` from ``before``, of the others from ``after``."""

    before: int
    fork: dt.date
    after: int

    def at(self, date: dt.date) -> int:
        """The seed of ``date``'s draws."""
        return self.before if date < self.fork else self.after


#: A run's randomness: one seed for every date, or a fork between two.
Seed = int | Forked


def seed_values(seed: Seed) -> tuple[int, ...]:
    """Every integer seed that ``seed`` draws from."""
    return (seed.before, seed.after) if isinstance(seed, Forked) else (seed,)


def day_rng(seed: Seed, office_id: str, date: dt.date, purpose: Purpose) -> np.random.Generator:
    """The random stream of one office, date and purpose."""
    value = seed.at(date) if isinstance(seed, Forked) else seed
    sequence = np.random.SeedSequence([value, office_code(office_id), date.toordinal(), purpose])
    return np.random.Generator(np.random.PCG64(sequence))
