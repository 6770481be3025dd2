"""What training reads from the store's tickets besides the hourly table, as DuckDB SQL.

The same tables :mod:`features.bookings` and :mod:`features.dataset` derive in pandas:
the appointment book, each office's service minutes, and a sample of activity for
inferring unknown offices.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import duckdb
import pandas as pd

from features import schema as s
from store.sql import DEFAULT_BATCH_BYTES, batched, before_sql, files_sql, to_frame

__all__ = ["activity_sample", "appointment_book", "service_minutes"]

_APPT = s.Channel.APPOINTMENT.value


def appointment_book(
    con: duckdb.DuckDBPyConnection,
    tickets: list[Path],
    booked_date: str,
    until: dt.date | None = None,
) -> pd.DataFrame:
    """One row per booked appointment: slot office, date, hour, and the booking date
    (in the column ``booked_date``)."""
    columns = [s.OFFICE_ID, s.DATE, s.HOUR, booked_date]
    if not tickets:
        return pd.DataFrame(columns=columns)
    frame = to_frame(
        con.sql(
            f"""SELECT {s.OFFICE_ID}, CAST({s.APPOINTMENT_AT} AS DATE),
                       CAST(hour({s.APPOINTMENT_AT}) AS SMALLINT), CAST({s.BOOKED_AT} AS DATE)
                FROM {files_sql(tickets)}
                WHERE {s.CHANNEL} = '{_APPT}' AND {s.BOOKED_AT} IS NOT NULL
                  AND {s.APPOINTMENT_AT} IS NOT NULL
                  {before_sql(s.ISSUED_AT, until).replace("WHERE", "AND")}"""
        )
    )
    frame.columns = columns
    return frame


def service_minutes(
    con: duckdb.DuckDBPyConnection,
    tickets: list[Path],
    until: dt.date | None = None,
    last_days: int = 56,
) -> dict[str, float]:
    """Median minutes at the window per ticket, per office, over the last weeks of data
    (as :func:`training.pipeline.service_minutes`)."""
    if not tickets:
        return {}
    minutes = f"(epoch_ns({s.FINISHED_AT}) - epoch_ns({s.CALLED_AT})) / 60e9"
    rows = con.sql(
        f"""WITH t AS (SELECT * FROM {files_sql(tickets)} {before_sql(s.ISSUED_AT, until)})
            SELECT {s.OFFICE_ID}, median({minutes}) FROM t
            WHERE {s.ISSUED_AT} >= (SELECT max({s.ISSUED_AT}) FROM t)
                                   - INTERVAL {int(last_days)} DAY
              AND {minutes} > 0
            GROUP BY ALL"""
    ).fetchall()
    return {str(office): round(float(value), 2) for office, value in rows}


def activity_sample(
    con: duckdb.DuckDBPyConnection,
    tickets: list[Path],
    observations: list[Path],
    per_office: int,
    until: dt.date | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
) -> pd.DataFrame:
    """``office_id, channel`` and the activity time of up to ``per_office`` rows per office
    and input kind (all of them when fewer): what :func:`features.infer.infer_offices` reads."""
    at = s.ACTIVITY_AT
    tickets_part = (
        f'SELECT {s.OFFICE_ID}, {s.CHANNEL}, {s.ISSUED_AT} AS "{at}", {s.TICKET_ID} AS _id '
        "FROM {files} " + before_sql(s.ISSUED_AT, until)
    )
    observations_part = (
        f'SELECT {s.OFFICE_ID}, {s.CHANNEL}, {s.OBSERVED_AT} AS "{at}", {s.SERVICE} AS _id '
        f"FROM {{files}} WHERE {s.WAIT_MINUTES} IS NOT NULL "
        + before_sql(s.OBSERVED_AT, until).replace("WHERE", "AND")
    )

    def sample(files: list[Path], part: str) -> pd.DataFrame:
        rows = part.format(files=files_sql(files))
        return to_frame(
            con.sql(
                f"""SELECT {s.OFFICE_ID}, {s.CHANNEL}, "{at}" FROM ({rows})
                    QUALIFY row_number() OVER (PARTITION BY {s.OFFICE_ID}
                                               ORDER BY hash(_id, "{at}")) <= {int(per_office)}"""
            )
        )

    frames = [
        batched(functools.partial(sample, part=part), files, batch_bytes)
        for files, part in ((tickets, tickets_part), (observations, observations_part))
        if files
    ]
    if not frames:
        return pd.DataFrame(columns=[s.OFFICE_ID, s.CHANNEL, s.ACTIVITY_AT])
    return pd.concat(frames, ignore_index=True)
