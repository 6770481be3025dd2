"""What a store keeps of each input kind: typed columns, the row key and the partition month."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from features import schema as s

__all__ = ["KINDS", "StoredKind"]

_TIME = pa.timestamp("ns")  # naive local wall-clock time, as validated (exactly)


@dataclass(frozen=True)
class StoredKind:
    """How rows of one input kind are stored.

    Attributes:
        kind: tickets or observations.
        schema: the typed columns of a partition file (the validated, normalised values).
        key: SQL expressions that identify a row: a later row with the same key replaces it.
        time: the column whose month names the partition.
        first_wins: within one file, the first row of a key is kept and the others are
            rejected as duplicates (tickets, as ``validate`` does); otherwise the last
            row wins (observations).
    """

    kind: s.InputKind
    schema: pa.Schema
    key: tuple[str, ...]
    time: str
    first_wins: bool

    @property
    def columns(self) -> list[str]:
        """The stored column names, in order."""
        return list(self.schema.names)

    def to_arrow(self, accepted: pd.DataFrame) -> pa.Table:
        """Validated rows as a typed Arrow table."""
        table = pa.Table.from_pandas(accepted[self.columns], preserve_index=False)
        return table.cast(self.schema, safe=False)


TICKETS = StoredKind(
    kind=s.InputKind.TICKETS,
    schema=pa.schema(
        [
            (s.OFFICE_ID, pa.string()),
            (s.TICKET_ID, pa.string()),
            (s.CHANNEL, pa.string()),
            (s.ISSUED_AT, _TIME),
            (s.CALLED_AT, _TIME),
            (s.FINISHED_AT, _TIME),
            (s.SERVICE, pa.string()),
            (s.APPOINTMENT_AT, _TIME),
            (s.BOOKED_AT, _TIME),
            (s.WINDOW_ID, pa.string()),
        ]
    ),
    # ticket ids are unique within an office and a day (the data contract)
    key=(s.OFFICE_ID, s.TICKET_ID, f"CAST({s.ISSUED_AT} AS DATE)"),
    time=s.ISSUED_AT,
    first_wins=True,
)

OBSERVATIONS = StoredKind(
    kind=s.InputKind.OBSERVATIONS,
    schema=pa.schema(
        [
            (s.OFFICE_ID, pa.string()),
            (s.OBSERVED_AT, _TIME),
            (s.WAIT_MINUTES, pa.float64()),
            (s.CHANNEL, pa.string()),
            (s.SERVICE, pa.string()),
            (s.QUEUE_LENGTH, pa.float64()),
            (s.WINDOWS_OPEN, pa.float64()),
        ]
    ),
    key=(s.OFFICE_ID, s.OBSERVED_AT, s.CHANNEL, s.SERVICE),
    time=s.OBSERVED_AT,
    first_wins=False,
)

KINDS: dict[s.InputKind, StoredKind] = {k.kind: k for k in (TICKETS, OBSERVATIONS)}
