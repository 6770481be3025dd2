"""`waitcast monitor --store DIR [--days 28]`: live accuracy of the served forecasts.

Reads what the server served (the state store, :mod:`serving.statestore.served`) and the
waits the ingested logs show (the data store, by DuckDB), prints per office and channel
the MAE of the served p50 and of the 8-week historical mean over the last 7 and ``--days``
days, their ratio and the p10-p90 coverage, writes ``monitor.png`` and ``monitor.json`` to
``--out``, and updates in the state store the queues served by the historical mean and the
figures `/metrics` exposes (:mod:`training.monitor`, :mod:`serving.switches`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from cli import common
from cli.keys import RegistryOption, StateUrlOption, state_store
from cli.store_options import MemoryLimitOpt
from features import schema as s
from features.errors import InputError
from serving.statestore import StateStore
from serving.statestore.served import ACCURACY, SWITCHES
from serving.switches import QueueSwitch, switches_from_json, switches_to_json
from store import queries
from store.duck import DEFAULT_MEMORY_LIMIT, check_memory_limit, connect, duckdb_errors
from store.layout import Store
from training import monitor as m
from training.monitor_plot import monitor_figure


def monitor(
    store_dir: Annotated[Path, typer.Option("--store", help="The data store the logs go into.")],
    days: Annotated[
        int, typer.Option("--days", min=7, max=100, help="The longer window, in days.")
    ] = 28,
    registry: RegistryOption = None,
    state_url: StateUrlOption = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for monitor.png and monitor.json.")
    ] = Path("monitor"),
    today: Annotated[
        dt.datetime | None,
        typer.Option("--today", formats=["%Y-%m-%d"], help="Score up to the day before."),
    ] = None,
    memory_limit: MemoryLimitOpt = DEFAULT_MEMORY_LIMIT,
) -> None:
    """Served forecasts against the waits the logs show; switch queues to the baseline."""
    check_memory_limit(memory_limit)
    until = (today.date() if today else dt.date.today()) - dt.timedelta(days=1)
    first = until - dt.timedelta(days=days - 1)
    data = Store.open(store_dir)
    state = state_store(registry, state_url)
    records = state.served_forecasts(first, until)
    if not records:
        raise InputError(
            f"no served forecasts recorded from {first} to {until} in the state store "
            f"{state.description}: run the server with this state store (WAITCAST_STATE_URL)"
        )
    served = pd.DataFrame([dataclasses.asdict(r) for r in records])
    hourly, outcomes = _actuals(data, first, until, memory_limit)
    hours = m.scored_hours(served, hourly)
    figures = m.accuracy(hours, outcomes, until, (7, days))
    per_day = m.daily(hours)
    before = {
        w.queue: m.SwitchState(w.since, w.reason)
        for w in switches_from_json(state.document(SWITCHES))
    }
    after = m.decide_switches(per_day, before, until)
    cells = m.baseline_cells(hourly, until + dt.timedelta(days=1), after)
    switches = [QueueSwitch(*q, w.since, w.reason, cells[q]) for q, w in sorted(after.items())]
    state.put_document(SWITCHES, switches_to_json(switches, until.isoformat()))
    _write_accuracy(state, figures, until)
    _print(figures, before, after, first, until, days)
    out.mkdir(parents=True, exist_ok=True)
    figure = monitor_figure(per_day, f"live accuracy {first}..{until}")
    figure.savefig(out / "monitor.png", dpi=90)
    (out / "monitor.json").write_text(_json(figures, after, until))
    common.console.print(f"plot and figures written to {out}/", highlight=False)


def _actuals(
    data: Store, first: dt.date, until: dt.date, memory_limit: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The hourly table from 8 weeks before ``first`` to ``until``, and the called waits."""
    since = first - dt.timedelta(days=7 * m.BASELINE_WEEKS)
    month = since.strftime("%Y-%m")
    tickets = data.partition_files(s.InputKind.TICKETS, since_month=month)
    observations = data.partition_files(s.InputKind.OBSERVATIONS, since_month=month)
    end = until + dt.timedelta(days=1)
    with tempfile.TemporaryDirectory(prefix="waitcast-duckdb-") as spill:
        con = connect(memory_limit, Path(spill))
        try:
            with duckdb_errors(f"store {data.root}", memory_limit):
                frames = [
                    queries.hourly_tickets(con, tickets, end),
                    queries.hourly_observations(con, observations, end),
                ]
                outcomes = queries.called_outcomes(con, tickets, observations, end, first)
        finally:
            con.close()
    hourly = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    return hourly[hourly[s.DATE] >= since], outcomes


def _write_accuracy(state: StateStore, figures: pd.DataFrame, until: dt.date) -> None:
    rows = json.loads(figures.to_json(orient="records"))
    state.put_document(ACCURACY, json.dumps({"until": until.isoformat(), "figures": rows}))


def _json(figures: pd.DataFrame, after: dict[m.Queue, m.SwitchState], until: dt.date) -> str:
    switched = [
        {
            s.OFFICE_ID: q[0],
            s.CHANNEL: q[1],
            s.SERVICE: q[2],
            "since": w.since.isoformat(),
            "reason": w.reason,
        }
        for q, w in after.items()
    ]
    return (
        json.dumps(
            {
                "until": until.isoformat(),
                "figures": json.loads(figures.to_json(orient="records")),
                "on_historical_mean": switched,
            },
            indent=1,
        )
        + "\n"
    )


def _print(
    figures: pd.DataFrame,
    before: dict[m.Queue, m.SwitchState],
    after: dict[m.Queue, m.SwitchState],
    first: dt.date,
    until: dt.date,
    days: int,
) -> None:
    table = Table(
        title=f"live accuracy, {first}..{until} (MAE of p50 in minutes; "
        "baseline: 8-week historical mean)"
    )
    for header in (
        "office",
        "channel",
        f"hours {days}d",
        "MAE 7d",
        "base 7d",
        "ratio 7d",
        f"MAE {days}d",
        f"base {days}d",
        f"ratio {days}d",
        "p10-p90 cover",
        "served by",
    ):
        table.add_column(
            header, justify="left" if header in ("office", "channel", "served by") else "right"
        )
    wide = figures.set_index([s.OFFICE_ID, s.CHANNEL, m.WINDOW_DAYS])
    switched = {(q[0], q[1]) for q in after}
    for office, channel in sorted({(o, c) for o, c, _ in wide.index}):
        short, long = (_row(wide, office, channel, d) for d in (7, days))
        table.add_row(
            office,
            channel,
            _fmt(long.get(m.HOURS), "{:,.0f}"),
            *(_fmt(short.get(k)) for k in (m.MAE_SERVED, m.MAE_BASELINE)),
            _fmt(short.get(m.RATIO), "{:.2f}"),
            *(_fmt(long.get(k)) for k in (m.MAE_SERVED, m.MAE_BASELINE)),
            _fmt(long.get(m.RATIO), "{:.2f}"),
            _fmt(long.get(m.COVERAGE), "{:.0%}"),
            "historical mean" if (office, channel) in switched else "model",
        )
    common.console.print(table)
    for queue, switch in sorted(after.items()):
        if queue not in before:
            common.console.print(
                f"switched to the historical mean from {switch.since}: "
                f"{' '.join(queue)}: {switch.reason}",
                highlight=False,
                soft_wrap=True,
            )
    for queue, switch in sorted(before.items()):
        if queue not in after:
            common.console.print(
                f"switched back to the model from {until + dt.timedelta(1)}: "
                f"{' '.join(queue)} (on the historical mean since "
                f"{switch.since}): the model was no worse "
                f"{m.SWITCH_BACK_AFTER_DAYS} days in a row",
                highlight=False,
                soft_wrap=True,
            )


def _row(wide: pd.DataFrame, office: str, channel: str, days: int) -> dict:
    key = (office, channel, days)
    return wide.loc[key].to_dict() if key in wide.index else {}


def _fmt(value: object, pattern: str = "{:.1f}") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return pattern.format(value)


def register(app: typer.Typer) -> None:
    """Add the ``monitor`` command to the ``waitcast`` app."""
    app.command("monitor")(monitor)
