"""The store's hourly table and called outcomes as DuckDB SQL, out of core.

:func:`hourly_tickets` and :func:`hourly_observations` compute by SQL what
:func:`features.hourly.hourly_table` computes in pandas, with the same definitions:

- the wait of a called walk-in is ``called_at - issued_at``; of an appointment
  ``called_at - max(issued_at, appointment_at)``, in minutes, never below zero; the hour
  and date are those of ``issued_at`` (of ``observed_at`` for observations);
- ``wait_p10``/``wait_p50``/``wait_p90`` are ``quantile_cont`` of the called waits, which
  interpolates linearly between the two nearest ranks exactly as pandas' default
  ``Series.quantile`` does (position ``(n - 1) * q``); ``wait_mean`` is their mean;
- ``arrivals`` counts every ticket of the hour, ``n_never_called`` those with no
  ``called_at`` (censored: neither zero nor dropped), ``never_called_share`` the ratio.

A test checks both paths give the same table on the same data.

Quantiles are holistic, so the per-office queries run on batches of whole offices
(:func:`store.sql.office_batches`). The other tables training reads (appointment book,
service minutes, activity) are :mod:`store.ticket_tables`'.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from features import schema as s
from features.hourly import HOURLY_COLUMNS
from store.sql import DEFAULT_BATCH_BYTES, batched, before_sql, files_sql, to_frame

__all__ = ["called_outcomes", "hourly_observations", "hourly_tickets"]

_APPT = s.Channel.APPOINTMENT.value


def _ticket_waits(files: list[Path], until: dt.date | None) -> str:
    start = (
        f"CASE WHEN {s.CHANNEL} = '{_APPT}' AND {s.APPOINTMENT_AT} > {s.ISSUED_AT} "
        f"THEN {s.APPOINTMENT_AT} ELSE {s.ISSUED_AT} END"
    )
    return f"""SELECT {s.OFFICE_ID}, {s.CHANNEL}, '{s.DEFAULT_SERVICE}' AS {s.SERVICE},
                      CAST({s.ISSUED_AT} AS DATE) AS {s.DATE},
                      CAST(hour({s.ISSUED_AT}) AS SMALLINT) AS {s.HOUR}, {s.CALLED_AT},
                      greatest((epoch_ns({s.CALLED_AT}) - epoch_ns({start})) / 60e9, 0.0)
                          AS {s.WAIT}
               FROM {files_sql(files)} {before_sql(s.ISSUED_AT, until)}"""


def _quantiles(filtered: str = "") -> str:
    return f"""quantile_cont({s.WAIT}, 0.1) {filtered} AS {s.WAIT_P10},
               quantile_cont({s.WAIT}, 0.5) {filtered} AS {s.WAIT_P50},
               quantile_cont({s.WAIT}, 0.9) {filtered} AS {s.WAIT_P90},
               avg({s.WAIT}) {filtered} AS {s.WAIT_MEAN}"""


def hourly_tickets(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    until: dt.date | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
) -> pd.DataFrame:
    """The hourly table of ticket logs (queue × date × hour), as ``hourly_table`` makes it."""
    if not files:
        return pd.DataFrame(columns=HOURLY_COLUMNS)
    return batched(lambda batch: _hourly_tickets(con, batch, until), files, batch_bytes)


def _hourly_tickets(
    con: duckdb.DuckDBPyConnection, files: list[Path], until: dt.date | None
) -> pd.DataFrame:
    keys = f"{s.OFFICE_ID}, {s.CHANNEL}, {s.SERVICE}, {s.DATE}, {s.HOUR}"
    called = f"FILTER (WHERE {s.CALLED_AT} IS NOT NULL)"
    frame = to_frame(
        con.sql(
            f"""SELECT {keys}, count({s.CALLED_AT})::DOUBLE AS {s.N_OUTCOMES},
                       {_quantiles(called)}, count(*) AS {s.ARRIVALS},
                       count(*) - count({s.CALLED_AT}) AS {s.N_NEVER_CALLED},
                       (count(*) - count({s.CALLED_AT})) / count(*) AS {s.NEVER_CALLED_SHARE}
                FROM ({_ticket_waits(files, until)}) GROUP BY ALL ORDER BY {keys}"""
        )
    )
    return frame[HOURLY_COLUMNS]


def hourly_observations(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    until: dt.date | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
) -> pd.DataFrame:
    """The hourly table of wait observations (queues per service), as ``hourly_table``."""
    if not files:
        return pd.DataFrame(columns=HOURLY_COLUMNS)
    return batched(lambda batch: _hourly_observations(con, batch, until), files, batch_bytes)


def _hourly_observations(
    con: duckdb.DuckDBPyConnection, files: list[Path], until: dt.date | None
) -> pd.DataFrame:
    keys = f"{s.OFFICE_ID}, {s.CHANNEL}, {s.SERVICE}, {s.DATE}, {s.HOUR}"
    frame = to_frame(
        con.sql(
            f"""SELECT {keys}, count(*) AS {s.N_OUTCOMES}, {_quantiles()},
                       NULL::DOUBLE AS {s.ARRIVALS}, NULL::DOUBLE AS {s.N_NEVER_CALLED},
                       NULL::DOUBLE AS {s.NEVER_CALLED_SHARE}
                FROM (SELECT {s.OFFICE_ID}, {s.CHANNEL}, {s.SERVICE},
                             CAST({s.OBSERVED_AT} AS DATE) AS {s.DATE},
                             CAST(hour({s.OBSERVED_AT}) AS SMALLINT) AS {s.HOUR},
                             {s.WAIT_MINUTES} AS {s.WAIT}
                      FROM {files_sql(files)}
                      WHERE {s.WAIT_MINUTES} IS NOT NULL
                      {before_sql(s.OBSERVED_AT, until).replace("WHERE", "AND")})
                GROUP BY ALL ORDER BY {keys}"""
        )
    )
    return frame[HOURLY_COLUMNS]


def called_outcomes(
    con: duckdb.DuckDBPyConnection,
    tickets: list[Path],
    observations: list[Path],
    until: dt.date | None,
    since: dt.date | None = None,
    max_rows: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Individual waits (called tickets, posted waits) dated in [since, until).

    When there are more than ``max_rows`` of them, a uniform sample of ``max_rows``
    (repeatable with ``seed``): they only score and calibrate, where a sample serves.
    """
    parts = []
    if tickets:
        parts.append(
            f"SELECT {s.OFFICE_ID}, {s.CHANNEL}, {s.SERVICE}, {s.DATE}, {s.HOUR}, {s.WAIT} "
            f"FROM ({_ticket_waits(tickets, until)}) WHERE {s.CALLED_AT} IS NOT NULL"
        )
    if observations:
        parts.append(
            f"""SELECT {s.OFFICE_ID}, {s.CHANNEL}, {s.SERVICE},
                       CAST({s.OBSERVED_AT} AS DATE), CAST(hour({s.OBSERVED_AT}) AS SMALLINT),
                       {s.WAIT_MINUTES} FROM {files_sql(observations)}
                WHERE {s.WAIT_MINUTES} IS NOT NULL
                {before_sql(s.OBSERVED_AT, until).replace("WHERE", "AND")}"""
        )
    columns = [*s.QUEUE_KEYS, s.DATE, s.HOUR, s.WAIT]
    if not parts:
        return pd.DataFrame(columns=columns)
    query = " UNION ALL ".join(parts)
    if since is not None:
        query = f"SELECT * FROM ({query}) WHERE {s.DATE} >= DATE '{since.isoformat()}'"
    if max_rows is not None:
        ((count,),) = con.sql(f"SELECT count(*) FROM ({query})").fetchall()
        if count > max_rows:
            query = (
                f"SELECT * FROM ({query}) USING SAMPLE reservoir({int(max_rows)} ROWS) "
                f"REPEATABLE ({int(seed)})"
            )
    frame = to_frame(con.sql(query))
    frame.columns = columns
    return frame
