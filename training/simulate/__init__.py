"""The office simulator: seeded synthetic ticket logs of Hangzhou's exit-entry offices.

``simulate(offices, calendar, start, end, seed)`` returns the ticket log (data contract
columns plus ``documents``) for tickets issued in [start, end]. See ``docs/simulator.md``.
"""

from training.simulate.config import ServiceType, SimConfig
from training.simulate.simulator import (
    LOG_COLUMNS,
    book_office,
    combine_logs,
    simulate,
    simulate_office,
)
from training.simulate.streams import Forked, Seed

__all__ = [
    "LOG_COLUMNS",
    "Forked",
    "Seed",
    "ServiceType",
    "SimConfig",
    "book_office",
    "combine_logs",
    "simulate",
    "simulate_office",
]
