"""`waitcast evaluate`: rolling-origin backtest of the model against the baselines."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from cli import common
from cli.inputs import make_locale
from cli.options import CalendarOpt, CountryOpt, EventsOpt, OfficesOpt, RegionOpt, TimezoneOpt
from cli.store_inputs import load_source, training_data  # issue 14
from cli.store_options import MemoryLimitOpt, StoreDirOpt  # issue 14
from features.errors import ParameterError
from store.duck import DEFAULT_MEMORY_LIMIT  # issue 14
from training.backtest import plan_origins, run_backtest
from training.metrics import MAE, MAE_EXPECTED
from training.pipeline import TrainConfig
from training.report import make_figures, render_markdown


def evaluate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Ticket logs and/or wait observations.")
    ] = None,
    origins: Annotated[int, typer.Option("--origins", help="Number of rolling origins.")] = 4,
    horizon_days: Annotated[
        int, typer.Option("--horizon-days", help="Days forecast from each origin.")
    ] = 28,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for report.md, metrics.json and plots.")
    ] = Path("reports"),
    offices: OfficesOpt = None,
    calendar: CalendarOpt = None,
    events: EventsOpt = None,
    country: CountryOpt = None,
    region: RegionOpt = None,
    timezone: TimezoneOpt = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Use only data before this date (YYYY-MM-DD).")
    ] = None,
    replays: Annotated[
        int,
        typer.Option(
            "--replays",
            help="Simulated data only: replay the "
            "test windows with this many other seeds and score "
            "against the expected wait.",
        ),
    ] = 0,
    sim_seed: Annotated[
        int,
        typer.Option(
            "--sim-seed",
            help="The seed the data were simulated with: replays fork that world at the first "
            "test window (its history as simulated by `waitcast simulate` with the default "
            "warm-up, then other seeds).",
        ),
    ] = 42,
    max_reject_share: Annotated[float, typer.Option("--max-reject-share")] = 0.05,
    store_dir: StoreDirOpt = None,  # issue 14: a store instead of files
    memory_limit: MemoryLimitOpt = DEFAULT_MEMORY_LIMIT,  # issue 14
) -> None:
    """Backtest the model and the baselines; write report.md, metrics.json and plots."""
    if not 1 <= origins <= 24:
        raise ParameterError("--origins", f"must be between 1 and 24, got {origins}")
    if not 1 <= horizon_days <= 90:
        raise ParameterError("--horizon-days", f"must be between 1 and 90, got {horizon_days}")
    if replays < 0:
        raise ParameterError("--replays", "must be >= 0")
    locale = make_locale(country, region, timezone)
    cut = common.parse_date(until, "--until") if until is not None else None
    inputs = load_source(  # issue 14: files or --store (a store is cut by SQL)
        paths, store_dir, offices, calendar, max_reject_share, memory_limit, cut, locale, events
    )
    if cut is not None:
        inputs.tickets = _before(inputs.tickets, "issued_at", cut)
        inputs.observations = _before(inputs.observations, "observed_at", cut)
    config = dataclasses.replace(TrainConfig(), horizon_days=horizon_days)
    data = training_data(inputs)  # issue 14
    for note in data.notes:
        common.console.print(f"note: {note}", highlight=False, soft_wrap=True)
    expected = None
    if replays:
        from cli.simulate import default_warmup_days
        from training.expected import World, expected_waits
        from training.simulate import SimConfig

        windows, _ = plan_origins(data, origins, horizon_days)
        if not windows:
            raise ParameterError("--replays", "the data are too short for any backtest window")
        seeds = [sim_seed + 1 + i for i in range(replays)]
        warmup = default_warmup_days(data.start, SimConfig())
        world = World(sim_seed, data.start - dt.timedelta(days=warmup))
        with common.progress("replaying the test windows", total=replays) as bar:
            expected = expected_waits(
                inputs.offices,
                inputs.calendars.china,
                windows[0],
                data.end,
                seeds,
                on_replay=lambda i, n: bar.update(bar.task_ids[0], completed=i),
                world=world,
            )
    with common.progress("backtest", total=origins) as bar:
        result = run_backtest(
            data,
            config,
            origins,
            expected,
            on_fold=lambda i, n: bar.update(bar.task_ids[0], completed=i),
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps(result.metrics, indent=1))
        (out / "report.md").write_text(render_markdown(result.metrics))
        for name, figure in make_figures(result).items():
            figure.savefig(out / name, dpi=110)
    except OSError as exc:
        raise ParameterError("--out", f"cannot write to {out}: {exc.strerror}") from None
    common.console.print(f"wrote {out}/report.md, metrics.json and plots")
    _print(result.metrics)


def _before(frame: pd.DataFrame | None, column: str, cut: dt.date) -> pd.DataFrame | None:
    if frame is None:
        return None
    return frame[frame[column].dt.date < cut]


def _print(metrics: dict[str, Any]) -> None:
    for channel, by_est in metrics["by_channel"].items():
        for estimator, values in by_est.items():
            shown = {
                k: values.get(k)
                for k in (
                    MAE,
                    MAE_EXPECTED,
                    "mae_expected_vs_actual",
                    "expected_noise",
                    "pinball",
                    "coverage",
                    "under_share",
                )
                if values.get(k) is not None
            }
            common.console.print(f"{channel:12s} {estimator:16s} {json.dumps(shown)}")
    common.console.print(f"ratios: {json.dumps(metrics['ratios'])}")


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command("evaluate")(evaluate)
