"""`waitcast train`: learn from ticket logs and/or wait observations, store a version."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from cli import common
from cli.engine import (  # issue 14
    Engine,
    EngineOpt,
    SchedulerOpt,
    WorkersOpt,
    dask_engine,
    engine_config,
)
from cli.inputs import make_locale
from cli.options import (
    CalendarOpt,
    CountryOpt,
    EventsOpt,
    OfficesOpt,
    PathsArg,
    RegionOpt,
    RegistryOpt,
    RejectOpt,
    TimezoneOpt,
)
from cli.store_inputs import (  # issue 14
    load_source,
    source_fingerprint,
    stored_rows,
    training_data,
)
from cli.store_options import MemoryLimitOpt, StoreDirOpt  # issue 14
from features.errors import ModelError
from models.bundle import save_bundle
from models.registry import ModelRegistry
from store.duck import DEFAULT_MEMORY_LIMIT  # issue 14
from training.backtest import backtest_and_fit, run_backtest
from training.metrics import MAE
from training.pipeline import TrainConfig, recipe
from training.promotion import current_on_same_folds, decide
from training.provenance import data_summary, library_versions


def code_version() -> str:
    """The git commit of the code, when run from a checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
            cwd=Path(__file__).parent,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@dataclass(frozen=True)
class TrainOutcome:
    """What a training run stored and decided (``waitcast retrain`` turns it into an exit code)."""

    version: str
    promoted: bool
    reason: str


def train(
    ctx: typer.Context,
    paths: PathsArg = None,
    registry: RegistryOpt = None,
    offices: OfficesOpt = None,
    calendar: CalendarOpt = None,
    events: EventsOpt = None,
    country: CountryOpt = None,
    region: RegionOpt = None,
    timezone: TimezoneOpt = None,
    no_promote: Annotated[
        bool,
        typer.Option(
            "--no-promote", help="Store the version but leave the current model as it is."
        ),
    ] = False,
    origins: Annotated[int, typer.Option("--origins", min=1, max=12, help="Backtest origins.")] = 4,
    max_reject_share: RejectOpt = 0.05,
    allow_rejects: Annotated[
        bool, typer.Option("--allow-rejects", help="Train whatever the rejected share.")
    ] = False,
    store_dir: StoreDirOpt = None,  # issue 14: a store instead of files
    memory_limit: MemoryLimitOpt = DEFAULT_MEMORY_LIMIT,  # issue 14
    engine: EngineOpt = Engine.LOCAL,  # issue 14: where the fits run (cli/engine.py)
    scheduler: SchedulerOpt = None,  # issue 14
    workers: WorkersOpt = None,  # issue 14
) -> TrainOutcome:
    """Learn from ticket logs and/or wait observations; store and maybe promote a new version."""
    store = ModelRegistry(common.registry_dir(registry))
    store.check_writable()  # fail before an hour of training, not after
    ctx.with_resource(dask_engine(engine, scheduler, workers))  # issue 14: closed at exit
    locale = make_locale(country, region, timezone)
    limit = 1.0 if allow_rejects else max_reject_share
    config = engine_config(TrainConfig(), engine, stored_rows(store_dir))  # issue 14
    # --- phases told as they happen (13.10; helper: cli/common.py Phases) ---
    phases = common.Phases("train")
    with phases:
        phases.start("reading the inputs")
        inputs = load_source(  # issue 14: files or --store
            paths, store_dir, offices, calendar, limit, memory_limit, None, locale, events
        )
        phases.start("preparing the hourly table")
        data = training_data(inputs)  # issue 14
        for note in data.notes:
            common.console.print(f"note: {note}", highlight=False, soft_wrap=True)
        phases.start(f"final fit and up to {origins} backtest folds, side by side", total=origins)
        backtest, forecaster = backtest_and_fit(
            data, config, origins, on_fold=lambda i, n: phases.step(i, n, "backtest fold")
        )
        phases.start("saving the version")
    # --- end of the phases ---
    metadata: dict[str, Any] = {
        "data": data_summary(data, inputs.files, source_fingerprint(inputs)),  # issue 14
        "validation": [
            {
                "kind": r.kind.value,
                "rows_in": r.rows_in,
                "accepted": len(r.accepted),
                "rejected": r.counts_by_reason,
            }
            for r in inputs.results
        ],
        "train_config": config.to_dict(),
        "feature_spec": forecaster.spec.to_dict(),
        "notes": [*data.notes, *forecaster.blend.notes],
        "libraries": library_versions(),
        "code_version": code_version(),
        "metrics": backtest.metrics,
    }
    version = store.publish(  # issue 14: the forecast cube is computed now, stored with it
        lambda folder: save_bundle(forecaster, folder, inputs.calendars.china), metadata
    )
    current = store.current_version()
    stored, current_recipe = None, None
    if current is not None:
        try:
            meta = store.metadata(current)
            stored, current_recipe = meta.get("metrics", {}), meta.get("train_config")
        except ModelError:
            pass
    current_metrics = current_on_same_folds(
        backtest.metrics,
        stored,
        current_recipe,
        lambda r: run_backtest(data, recipe(r), origins).metrics,
    )
    decision = decide(backtest.metrics, current_metrics)
    promoted = decision.promote and not no_promote
    if promoted:
        store.promote(version)
        verdict = f"promoted to current ({decision.reason})"
    elif no_promote:
        verdict = f"not promoted (--no-promote); {decision.reason}"
    else:
        verdict = f"not promoted: {decision.reason}; current stays {current}"
    for note in forecaster.blend.notes:
        common.console.print(f"note: {note}", highlight=False, soft_wrap=True)
    _print_summary(version, backtest.metrics, verdict)
    return TrainOutcome(version, promoted, verdict)


def _print_summary(version: str, metrics: dict[str, Any], verdict: str) -> None:
    common.console.print(f"version [bold]{version}[/]: {verdict}")
    rows = []
    for channel, by_est in metrics["by_channel"].items():
        for estimator, values in by_est.items():
            rows.append(
                {
                    "channel": channel,
                    "estimator": estimator,
                    **{
                        k: values.get(k)
                        for k in (MAE, "pinball", "coverage", "under_share", "n_hours")
                    },
                }
            )
    common.console.print_json(
        json.dumps(
            {
                "backtest_origins": metrics["origins"],
                "by_channel": rows,
                "ratios": metrics["ratios"],
                "card": metrics.get("card", {}),
                "choice": metrics.get("choice"),
                **({"note": metrics["note"]} if "note" in metrics else {}),
            }
        )
    )


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command("train")(train)
