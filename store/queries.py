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

Quantiles are holistic: DuckDB keeps every wait of a group until the group is done and
cannot spill them. The per-office queries therefore run on batches of whole offices
whose Parquet stays under ``batch_bytes`` (a sixth of the memory limit by default), and
their results are concatenated: exact, since every group lies within one office.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import duckdb
import pandas as pd

from features import schema as s
from features.hourly import HOURLY_COLUMNS
from store.duck import DEFAULT_MEMORY_LIMIT, arrow_table, limit_bytes

__all__ = [
    "activity_sample",
    "appointment_book",
    "called_outcomes",
    "hourly_observations",
    "hourly_tickets",
    "service_minutes",
]

_APPT = s.Channel.APPOINTMENT.value
DEFAULT_BATCH_BYTES = limit_bytes(DEFAULT_MEMORY_LIMIT) // 6


def office_batches(files: list[Path], batch_bytes: int = DEFAULT_BATCH_BYTES) -> list[list[Path]]:
    """Partition files in batches of whole offices (in office order), each under
    ``batch_bytes`` of Parquet unless one office alone is larger."""
    by_office: dict[str, list[Path]] = {}
    for path in files:  # .../office_id=<quoted id>/month=.../part.parquet
        office = unquote(path.parent.parent.name.partition("=")[2])
        by_office.setdefault(office, []).append(path)
    batches: list[list[Path]] = []
    size = batch_bytes + 1
    for office in sorted(by_office):
        paths = by_office[office]
        weight = sum(p.stat().st_size for p in paths)
        if size + weight > batch_bytes:
            batches.append([])
            size = 0
        batches[-1].extend(paths)
        size += weight
    return batches


def _batched(
    query: Callable[[list[Path]], pd.DataFrame], files: list[Path], batch_bytes: int
) -> pd.DataFrame:
    frames = [query(batch) for batch in office_batches(files, batch_bytes)]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


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
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    until: dt.date | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
) -> pd.DataFrame:
    """The hourly table of ticket logs (queue × date × hour), as ``hourly_table`` makes it."""
    if not files:
        return pd.DataFrame(columns=HOURLY_COLUMNS)
    return _batched(lambda batch: _hourly_tickets(con, batch, until), files, batch_bytes)


def _hourly_tickets(
    con: duckdb.DuckDBPyConnection, files: list[Path], until: dt.date | None
) -> pd.DataFrame:
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
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    until: dt.date | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
) -> pd.DataFrame:
    """The hourly table of wait observations (queues per service), as ``hourly_table``."""
    if not files:
        return pd.DataFrame(columns=HOURLY_COLUMNS)
    return _batched(lambda batch: _hourly_observations(con, batch, until), files, batch_bytes)


def _hourly_observations(
    con: duckdb.DuckDBPyConnection, files: list[Path], until: dt.date | None
) -> pd.DataFrame:
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
    batch_bytes: int = DEFAULT_BATCH_BYTES,
) -> pd.DataFrame:
    """``office_id, channel, at`` of up to ``per_office`` rows per office and input kind
    (all of them when fewer): what :func:`features.offices.infer_offices` reads."""
    tickets_part = (
        f'SELECT {s.OFFICE_ID}, {s.CHANNEL}, {s.ISSUED_AT} AS "at", {s.TICKET_ID} AS _id '
        "FROM {files} " + _before(s.ISSUED_AT, until)
    )
    observations_part = (
        f'SELECT {s.OFFICE_ID}, {s.CHANNEL}, {s.OBSERVED_AT} AS "at", {s.SERVICE} AS _id '
        f"FROM {{files}} WHERE {s.WAIT_MINUTES} IS NOT NULL "
        + _before(s.OBSERVED_AT, until).replace("WHERE", "AND")
    )

    def sample(files: list[Path], part: str) -> pd.DataFrame:
        rows = part.format(files=_files(files))
        return _frame(
            con.sql(
                f"""SELECT {s.OFFICE_ID}, {s.CHANNEL}, "at" FROM ({rows})
                    QUALIFY row_number() OVER (PARTITION BY {s.OFFICE_ID}
                                               ORDER BY hash(_id, "at")) <= {int(per_office)}"""
            )
        )

    frames = [
        _batched(functools.partial(sample, part=part), files, batch_bytes)
        for files, part in ((tickets, tickets_part), (observations, observations_part))
        if files
    ]
    if not frames:
        return pd.DataFrame(columns=[s.OFFICE_ID, s.CHANNEL, "at"])
    return pd.concat(frames, ignore_index=True)
