"""Validated tickets and wait observations -> outcomes and the hourly table.

An *outcome* is one wait a citizen experienced (a called ticket) or one posted wait
(an observation). The *hourly table* has one row per queue × date × hour with the
wait distribution of that hour and, from tickets, arrivals and the never-called share.

Censoring. A ticket never called (the citizen left, or was sent home at closing) has
a wait of at least ``closing_time - issued_at``: it is a right-censored observation.
waitcast splits the citizen's outcome in two parts, as a cure/competing-risk model
would: (1) whether the number is called before closing — the never-called share is its
own target (``p_called`` in forecasts) — and (2) the wait *given* that it is called,
whose quantiles are the forecast's p10/p50/p90. Censored tickets are therefore never
counted as zero waits nor dropped: they count in arrivals and in the never-called
share, and their lower bound is kept (``censor_bound``) for the backtest.

Queues. In a ticket log all services of a channel share one queue (``service`` is
``general``); in wait observations each service is a queue of its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features import schema as s
from features.calendars import Calendars
from features.offices import OfficeRegistry

CENSOR_BOUND = "censor_bound"
CLOSE_MINUTE = "close_minute"


def day_closing_minutes(
    offices: OfficeRegistry, calendars: Calendars, dates: pd.Series
) -> pd.DataFrame:
    """The closing minute (after midnight) of each office on each date, NaN when closed."""
    unique_dates = sorted(set(pd.to_datetime(dates).dt.date))
    rows = []
    for office in offices:
        for date in unique_dates:
            sessions = office.sessions_for(calendars.day(office, date))
            close = max((x.close_minute for x in sessions), default=np.nan)
            rows.append((office.id, date, close))
    return pd.DataFrame(rows, columns=[s.OFFICE_ID, s.DATE, CLOSE_MINUTE])


def ticket_outcomes(
    tickets: pd.DataFrame, offices: OfficeRegistry, calendars: Calendars
) -> pd.DataFrame:
    """One row per ticket: queue keys, date, hour, wait (NaN if never called), censor bound.

    The wait of a walk-in runs from ``issued_at``; of an appointment from
    ``max(issued_at, appointment_at)`` (arriving early is not waiting). The hour is the
    hour of ``issued_at``.
    """
    issued = tickets[s.ISSUED_AT]
    start = issued
    if s.APPOINTMENT_AT in tickets:
        is_appt = tickets[s.CHANNEL] == s.Channel.APPOINTMENT.value
        slot = tickets[s.APPOINTMENT_AT]
        later = is_appt & slot.notna() & (slot > issued)
        start = issued.where(~later, slot)
    called = (
        tickets[s.CALLED_AT] if s.CALLED_AT in tickets else pd.Series(pd.NaT, index=issued.index)
    )
    wait = (called - start).dt.total_seconds() / 60.0
    out = pd.DataFrame(
        {
            s.OFFICE_ID: tickets[s.OFFICE_ID].astype(str).to_numpy(),
            s.CHANNEL: tickets[s.CHANNEL].astype(str).to_numpy(),
            s.SERVICE: s.DEFAULT_SERVICE,
            s.DATE: issued.dt.date.to_numpy(),
            s.HOUR: issued.dt.hour.astype("int16").to_numpy(),
            s.WAIT: wait.clip(lower=0).to_numpy(),
            s.CENSORED: called.isna().to_numpy(),
        }
    )
    closing = day_closing_minutes(offices, calendars, issued)
    out = out.merge(closing, on=[s.OFFICE_ID, s.DATE], how="left")
    start_minute = (start.dt.hour * 60 + start.dt.minute + start.dt.second / 60).to_numpy()
    # An office may serve past its posted close; then the last call of the day is the bound.
    last_call = called.groupby(
        [tickets[s.OFFICE_ID].to_numpy(), issued.dt.date.to_numpy()]
    ).transform("max")
    last_minute = (last_call.dt.hour * 60 + last_call.dt.minute).to_numpy(dtype=float)
    close = np.fmax(out[CLOSE_MINUTE].to_numpy(dtype=float), last_minute)
    out[CENSOR_BOUND] = np.where(out[s.CENSORED], np.clip(close - start_minute, 0, None), np.nan)
    return out.drop(columns=[CLOSE_MINUTE])


def observation_outcomes(observations: pd.DataFrame) -> pd.DataFrame:
    """One row per observation with a posted wait (empty waits mean closed/unknown)."""
    obs = observations[observations[s.WAIT_MINUTES].notna()]
    at = obs[s.OBSERVED_AT]
    return pd.DataFrame(
        {
            s.OFFICE_ID: obs[s.OFFICE_ID].astype(str).to_numpy(),
            s.CHANNEL: obs[s.CHANNEL].astype(str).to_numpy(),
            s.SERVICE: obs[s.SERVICE].astype(str).to_numpy(),
            s.DATE: at.dt.date.to_numpy(),
            s.HOUR: at.dt.hour.astype("int16").to_numpy(),
            s.WAIT: obs[s.WAIT_MINUTES].astype(float).to_numpy(),
            s.CENSORED: False,
            CENSOR_BOUND: np.nan,
        }
    )


HOURLY_KEYS = [*s.QUEUE_KEYS, s.DATE, s.HOUR]
HOURLY_COLUMNS = [
    *HOURLY_KEYS,
    s.N_OUTCOMES,
    s.WAIT_P10,
    s.WAIT_P50,
    s.WAIT_P90,
    s.WAIT_MEAN,
    s.ARRIVALS,
    s.N_NEVER_CALLED,
    s.NEVER_CALLED_SHARE,
]


def hourly_table(outcomes: pd.DataFrame, from_tickets: bool) -> pd.DataFrame:
    """Aggregate outcomes to queue × date × hour.

    Columns: the keys, ``n_outcomes`` (called tickets or observations), ``wait_p10``,
    ``wait_p50``, ``wait_p90``, ``wait_mean`` (of called waits; NaN when none) and, from
    tickets, ``arrivals``, ``n_never_called`` and ``never_called_share`` (NaN otherwise).
    """
    if outcomes.empty:
        return pd.DataFrame(columns=HOURLY_COLUMNS)
    called = outcomes[~outcomes[s.CENSORED]]
    grouped = called.groupby(HOURLY_KEYS, sort=True, observed=True)[s.WAIT]
    waits = pd.DataFrame(
        {
            s.N_OUTCOMES: grouped.size(),
            s.WAIT_P10: grouped.quantile(0.1),
            s.WAIT_P50: grouped.median(),
            s.WAIT_P90: grouped.quantile(0.9),
            s.WAIT_MEAN: grouped.mean(),
        }
    )
    if from_tickets:
        counts = outcomes.groupby(HOURLY_KEYS, sort=True, observed=True)[s.CENSORED].agg(
            ["size", "sum"]
        )
        counts.columns = [s.ARRIVALS, s.N_NEVER_CALLED]
        table = counts.join(waits, how="left")
        table[s.N_OUTCOMES] = table[s.N_OUTCOMES].fillna(0)
        table[s.NEVER_CALLED_SHARE] = table[s.N_NEVER_CALLED] / table[s.ARRIVALS]
    else:
        table = waits
        table[s.ARRIVALS] = np.nan
        table[s.N_NEVER_CALLED] = np.nan
        table[s.NEVER_CALLED_SHARE] = np.nan
    table = table.reset_index()
    table[s.HOUR] = table[s.HOUR].astype("int16")
    return table[HOURLY_COLUMNS]


def open_grid(
    queues: pd.DataFrame,
    offices: OfficeRegistry,
    calendars: Calendars,
    start: object,
    end: object,
) -> pd.DataFrame:
    """Every open hour of every queue in [start, end]: the forecast grid.

    Args:
        queues: distinct rows of ``office_id, channel, service``.
        offices: registry with every office of ``queues`` (inferred ones included).
        calendars: each office's working-day calendar.
        start: first date (inclusive).
        end: last date (inclusive).
    """
    dates = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D").date
    per_office: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for office_id in queues[s.OFFICE_ID].unique():
        office = offices.get(str(office_id))
        calendar = calendars.of(office)
        days, hours = [], []
        for date in dates:
            for hour in office.open_hours_on(calendar.day(date)):
                days.append(date)
                hours.append(hour)
        per_office[str(office_id)] = (np.array(days, dtype=object), np.array(hours, "int16"))
    keys = queues[list(s.QUEUE_KEYS)].drop_duplicates()
    parts = [(key, per_office[str(key[0])]) for key in keys.itertuples(index=False)]
    parts = [(key, cells) for key, cells in parts if len(cells[1])]
    if not parts:
        return pd.DataFrame(columns=HOURLY_KEYS)
    # One construction from whole columns (not a frame per queue joined): each key column
    # is then one array, which every later take and merge on the table reads faster.
    counts = [len(cells[1]) for _, cells in parts]
    grid = {
        name: np.repeat(np.array([key[i] for key, _ in parts], dtype=object), counts)
        for i, name in enumerate(s.QUEUE_KEYS)
    }
    grid[s.DATE] = np.concatenate([cells[0] for _, cells in parts])
    grid[s.HOUR] = np.concatenate([cells[1] for _, cells in parts])
    return pd.DataFrame(grid, columns=HOURLY_KEYS)


def with_open_hours(hourly: pd.DataFrame, grid: pd.DataFrame) -> pd.DataFrame:
    """The hourly table on the open grid: open hours without tickets get zero arrivals.

    Hours with activity outside the registry's open hours are kept too (offices do serve
    late); open hours with no activity have ``arrivals = 0`` for ticket queues.
    """
    merged = grid.merge(hourly, on=HOURLY_KEYS, how="outer")
    has_tickets = merged.groupby(list(s.QUEUE_KEYS))[s.ARRIVALS].transform(
        lambda col: col.notna().any()
    )
    fill = has_tickets & merged[s.ARRIVALS].isna()
    merged.loc[fill, s.ARRIVALS] = 0.0
    merged.loc[fill, s.N_NEVER_CALLED] = 0.0
    merged[s.N_OUTCOMES] = merged[s.N_OUTCOMES].fillna(0)
    return merged.sort_values(HOURLY_KEYS).reset_index(drop=True)
