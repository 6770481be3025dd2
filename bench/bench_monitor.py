"""Live accuracy over simulated weeks in which one office's staffing is cut, then restored.

Everything runs in-process with the real code, on a clock moved hour by hour:

1. four Hangzhou offices simulated from ``HISTORY_START``; a model trained on the days
   before ``MONTH_START`` is promoted (it is not retrained during the month, so it keeps
   expecting the old waits);
2. for four weeks from ``CUT_START`` the office ``CUT_OFFICE`` opens far fewer windows for
   the same demand (``max_staffed_share`` 0.5 instead of 0.75): its walk-in waits more
   than double; three weeks of normal staffing follow. The 8-week historical mean takes
   weeks to follow such a change, so the stale model falls clearly behind it only in
   the cut's later weeks;
3. every day of the month: the server (:class:`serving.state.ServingState`, its watch run
   at every open hour) rolls its cube, reads the switches and records the forecasts it
   serves; at night the day's log is ingested into the data store (`waitcast ingest`)
   and `waitcast monitor` runs, which switches queues to the historical mean and back.

Prints each switch as it happens, the `waitcast monitor` table of the last night, and
what the server then serves for the switched queue. Takes a few minutes.

    .venv/bin/python bench/bench_monitor.py [--out DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import io
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd
from pydantic import SecretStr

from cli.main import main as waitcast
from features import schema as s
from features.calendar_cn import default_calendar
from features.calendars import Calendars
from features.dataset import prepare_data
from features.offices import OfficeRegistry, load_offices
from models.bundle import save_bundle
from models.registry import ModelRegistry
from serving.settings import Settings
from serving.state import ServingState
from serving.statestore import open_store
from serving.switches import ESTIMATOR, ESTIMATOR_REASON
from tests.serving.support import FakeClock
from training.pipeline import TrainConfig, fit_forecaster
from training.simulate import simulate
from training.simulate.config import SimConfig
from training.simulate.simulator import simulate_office

OFFICES = ("hz-linping", "hz-qiantang", "hz-xihu", "hz-binjiang")
CUT_OFFICE = "hz-binjiang"
HISTORY_START = dt.date(2025, 2, 17)
MONTH_START = dt.date(2025, 6, 9)
CUT_START, CUT_END = dt.date(2025, 6, 16), dt.date(2025, 7, 13)
MONTH_END = dt.date(2025, 8, 3)
CUT_CONFIG = dataclasses.replace(SimConfig(), max_staffed_share=0.5, min_staffed_share=0.4)
SEED = 11


def simulated_log(offices: OfficeRegistry) -> pd.DataFrame:
    """The offices' tickets, with the staffing cut at CUT_OFFICE."""
    calendar = default_calendar()
    log = simulate(offices, calendar, HISTORY_START, MONTH_END, seed=SEED, warmup_days=30)
    cut = simulate_office(
        offices.get(CUT_OFFICE),
        calendar,
        CUT_START,
        CUT_END,
        seed=SEED,
        config=CUT_CONFIG,
        warmup_days=30,
    )
    issued = pd.to_datetime(log[s.ISSUED_AT]).dt.date
    inside = (log[s.OFFICE_ID] == CUT_OFFICE) & (issued >= CUT_START) & (issued <= CUT_END)
    log = pd.concat([log[~inside], cut], ignore_index=True).drop(columns=["documents"])
    return log.assign(**{"_day": pd.to_datetime(log[s.ISSUED_AT]).dt.date})


def train(log: pd.DataFrame, offices: OfficeRegistry, registry: Path) -> str:
    """Fit on the days before the month, publish and promote."""
    history = log[log["_day"] < MONTH_START].drop(columns=["_day"])
    data = prepare_data(history, None, offices, Calendars(default_calendar()))
    forecaster = fit_forecaster(data, TrainConfig(n_jobs=1)).forecaster
    models = ModelRegistry(registry)
    version = models.publish(lambda folder: save_bundle(forecaster, folder), {"bench": "monitor"})
    models.promote(version)
    return version


def show(
    state: ServingState, day: dt.date, hour: int, shown: set[tuple[tuple[str, str, str], dt.date]]
) -> None:
    """Print, once per switch, the first hour the server serves from it."""
    cube = state.require_model().cube
    for switch in cube.switches:
        if (switch.queue, switch.since) in shown:
            continue
        for row in cube.day(switch.office_id, day).rows:
            if row[s.CHANNEL] == switch.channel and row[s.HOUR] == hour:
                shown.add((switch.queue, switch.since))
                keys = (s.HOUR, s.P10, s.P50, s.P90, ESTIMATOR, ESTIMATOR_REASON)
                print(
                    f"  served on {day} at {switch.office_id} {switch.channel}: "
                    f"{ {k: row[k] for k in keys} }"
                )


def quiet(argv: list[str]) -> tuple[int, str]:
    """Run a waitcast command, its output captured."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = waitcast(argv)
    return code, out.getvalue()


def main() -> int:
    """Run the month; print the switches and the last monitor table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="Keep the registry, stores and plot here.")
    args = parser.parse_args()
    os.environ["COLUMNS"] = "160"
    print(f"machine: {os.cpu_count()} CPUs, 1-minute load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="bench-monitor-") as scratch:
        root = args.out or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        return run(root)


def run(root: Path) -> int:
    """The month in ``root``."""
    began = time.perf_counter()
    offices = OfficeRegistry([o for o in load_offices() if o.id in OFFICES])
    log = simulated_log(offices)
    version = train(log, offices, root / "registry")
    print(
        f"offices {', '.join(OFFICES)}; {CUT_OFFICE}'s staffing cut {CUT_START}..{CUT_END}; "
        f"model {version} trained on {HISTORY_START}..{MONTH_START - dt.timedelta(days=1)} "
        f"({time.perf_counter() - began:.0f} s)"
    )
    store, state_url = root / "store", f"sqlite:///{root / 'state.sqlite3'}"
    first = root / "history.parquet"
    log[log["_day"] < MONTH_START].drop(columns=["_day"]).to_parquet(first)
    assert quiet(["ingest", str(first), "--store", str(store)])[0] == 0
    settings = Settings(
        registry=root / "registry",
        state_url=state_url,
        watch_seconds=0,
        env="production",
        admin_token=SecretStr(secrets.token_hex(16)),
    )
    clock = FakeClock(dt.datetime.combine(MONTH_START, dt.time(7), tzinfo=dt.UTC))
    state = ServingState(settings, clock, default_calendar(), load_offices(), open_store(state_url))
    state.load()
    monitor = [
        "monitor",
        "--store",
        str(store),
        "--state-url",
        state_url,
        "--days",
        "28",
        "--out",
        str(root / "monitor"),
    ]
    day, output, shown = MONTH_START, "", set[tuple[tuple[str, str, str], dt.date]]()
    while day <= MONTH_END:
        for hour in range(8, 18):  # the server's watch, at every hour the offices may open
            clock.at = dt.datetime.combine(day, dt.time(hour, 5)) - dt.timedelta(hours=8)
            clock.at = clock.at.replace(tzinfo=dt.UTC)
            state.refresh()
            show(state, day, hour, shown)
        export = root / "inbox" / f"{day}.parquet"
        export.parent.mkdir(exist_ok=True)
        tickets = log[log["_day"] == day].drop(columns=["_day"])
        if len(tickets):  # the offices close at weekends: no export
            tickets.to_parquet(export)
            code, output = quiet(["ingest", str(export), "--store", str(store)])
            assert code == 0, output
        day += dt.timedelta(days=1)
        code, output = quiet([*monitor, "--today", str(day)])
        switched = [line for line in output.splitlines() if line.startswith("switched")]
        for line in switched:
            print(f"night of {day - dt.timedelta(days=1)}: {line}")
        if switched and not shown:  # the first switch: the table that night
            print(output.split("switched")[0])
        if code != 0:
            print(f"night of {day - dt.timedelta(days=1)}: monitor exited {code}: {output}")
    print(
        f"\nthe last night's `waitcast {' '.join(monitor[:1])} --days 28` (today {day}):\n{output}"
    )
    print(f"plot: {root / 'monitor' / 'monitor.png'}; {time.perf_counter() - began:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
