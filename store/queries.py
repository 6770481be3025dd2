"""The store's tables as DuckDB SQL, out of core: the hourly table and what training reads.

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
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from features import schema as s
from features.hourly import HOURLY_COLUMNS
from store.duck import arrow_table

__all__ = [
    "activity_sample",
    "appointment_book",
    "called_outcomes",
    "hourly_observations",
    "hourly_tickets",
    "service_minutes",
]

_APPT = s.Channel.APPOINTMENT.value


def _files(paths: list[Path]) -> str:
    quoted = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    return f"read_parquet([{quoted}])"


def _before(column: str, until: dt.date | None) -> str:
    return f"WHERE {column} < DATE '{until.isoformat()}'" if until else ""


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
               FROM {_files(files)} {_before(s.ISSUED_AT, until)}"""


def _frame(relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    return arrow_table(relation).to_pandas(date_as_object=True)


def _quantiles(filtered: str = "") -> str:
    return f"""quantile_cont({s.WAIT}, 0.1) {filtered} AS {s.WAIT_P10},
               quantile_cont({s.WAIT}, 0.5) {filtered} AS {s.WAIT_P50},
               quantile_cont({s.WAIT}, 0.9) {filtered} AS {s.WAIT_P90},
               avg({s.WAIT}) {filtered} AS {s.WAIT_MEAN}"""


def hourly_tickets(
    con: duckdb.DuckDBPyConnection, files: list[Path], until: dt.date | None = None
) -> pd.DataFrame:
    """The hourly table of ticket logs (queue × date × hour), as ``hourly_table`` makes it."""
    if not files:
        return pd.DataFrame(columns=HOURLY_COLUMNS)
    keys = f"{s.OFFICE_ID}, {s.CHANNEL}, {s.SERVICE}, {s.DATE}, {s.HOUR}"
    called = f"FILTER (WHERE {s.CALLED_AT} IS NOT NULL)"
    frame = _frame(
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
    con: duckdb.DuckDBPyConnection, files: list[Path], until: dt.date | None = None
) -> pd.DataFrame:
    """The hourly table of wait observations (queues per service), as ``hourly_table``."""
    if not files:
        return pd.DataFrame(columns=HOURLY_COLUMNS)
    keys = f"{s.OFFICE_ID}, {s.CHANNEL}, {s.SERVICE}, {s.DATE}, {s.HOUR}"
    frame = _frame(
        con.sql(
            f"""SELECT {keys}, count(*) AS {s.N_OUTCOMES}, {_quantiles()},
                       NULL::DOUBLE AS {s.ARRIVALS}, NULL::DOUBLE AS {s.N_NEVER_CALLED},
                       NULL::DOUBLE AS {s.NEVER_CALLED_SHARE}
                FROM (SELECT {s.OFFICE_ID}, {s.CHANNEL}, {s.SERVICE},
                             CAST({s.OBSERVED_AT} AS DATE) AS {s.DATE},
                             CAST(hour({s.OBSERVED_AT}) AS SMALLINT) AS {s.HOUR},
                             {s.WAIT_MINUTES} AS {s.WAIT}
                      FROM {_files(files)}
                      WHERE {s.WAIT_MINUTES} IS NOT NULL
                      {_before(s.OBSERVED_AT, until).replace("WHERE", "AND")})
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
                       {s.WAIT_MINUTES} FROM {_files(observations)}
                WHERE {s.WAIT_MINUTES} IS NOT NULL
                {_before(s.OBSERVED_AT, until).replace("WHERE", "AND")}"""
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
    frame = _frame(con.sql(query))
    frame.columns = columns
    return frame


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
    frame = _frame(
        con.sql(
            f"""SELECT {s.OFFICE_ID}, CAST({s.APPOINTMENT_AT} AS DATE),
                       CAST(hour({s.APPOINTMENT_AT}) AS SMALLINT), CAST({s.BOOKED_AT} AS DATE)
                FROM {_files(tickets)}
                WHERE {s.CHANNEL} = '{_APPT}' AND {s.BOOKED_AT} IS NOT NULL
                  AND {s.APPOINTMENT_AT} IS NOT NULL
                  {_before(s.ISSUED_AT, until).replace("WHERE", "AND")}"""
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
        f"""WITH t AS (SELECT * FROM {_files(tickets)} {_before(s.ISSUED_AT, until)})
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
) -> pd.DataFrame:
    """``office_id, channel, at`` of up to ``per_office`` rows per office (all of them when
    an office has fewer): what :func:`features.offices.infer_offices` reads."""
    parts = []
    if tickets:
        parts.append(
            f'SELECT {s.OFFICE_ID}, {s.CHANNEL}, {s.ISSUED_AT} AS "at", {s.TICKET_ID} AS _id '
            f"FROM {_files(tickets)} {_before(s.ISSUED_AT, until)}"
        )
    if observations:
        parts.append(
            f"""SELECT {s.OFFICE_ID}, {s.CHANNEL}, {s.OBSERVED_AT}, {s.SERVICE}
                FROM {_files(observations)} WHERE {s.WAIT_MINUTES} IS NOT NULL
                {_before(s.OBSERVED_AT, until).replace("WHERE", "AND")}"""
        )
    if not parts:
        return pd.DataFrame(columns=[s.OFFICE_ID, s.CHANNEL, "at"])
    frame = _frame(
        con.sql(
            f"""SELECT {s.OFFICE_ID}, {s.CHANNEL}, "at" FROM ({" UNION ALL ".join(parts)})
                QUALIFY row_number() OVER (PARTITION BY {s.OFFICE_ID} ORDER BY hash(_id, "at"))
                    <= {int(per_office)}"""
        )
    )
    return frame
