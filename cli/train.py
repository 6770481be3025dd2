"""`waitcast train`: learn from ticket logs and/or wait observations, store a version."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
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
from training.pipeline import TrainConfig
from training.promotion import common_folds, decide
from training.provenance import data_summary, library_versions

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Ticket logs and/or wait observations (CSV, CSV.gz, Parquet; files or folders)."
    ),
]
RegistryOpt = Annotated[
    Path | None,
    typer.Option(
        "--registry",
        help="Model registry folder (default $WAITCAST_REGISTRY or .waitcast/registry).",
    ),
]
OfficesOpt = Annotated[
    Path | None,
    typer.Option("--offices", help="Office registry JSON replacing the built-in Hangzhou one."),
]
CalendarOpt = Annotated[
    Path | None,
    typer.Option(
        "--calendar", help="Calendar override CSV (date,kind,name) for years not yet published."
    ),
]
RejectOpt = Annotated[
    float,
    typer.Option(
        "--max-reject-share", help="Refuse input with more rejected rows than this share."
    ),
]


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


def train(
    ctx: typer.Context,
    paths: PathsArg = None,
    registry: RegistryOpt = None,
    offices: OfficesOpt = None,
    calendar: CalendarOpt = None,
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
) -> None:
    """Learn from ticket logs and/or wait observations; store and maybe promote a new version."""
    store = ModelRegistry(common.registry_dir(registry))
    store.check_writable()  # fail before an hour of training, not after
    ctx.with_resource(dask_engine(engine, scheduler, workers))  # issue 14: closed at exit
    inputs = load_source(  # issue 14: files or --store
        paths,
        store_dir,
        offices,
        calendar,
        1.0 if allow_rejects else max_reject_share,
        memory_limit,
    )
    config = engine_config(TrainConfig(), engine, stored_rows(store_dir))  # issue 14
    with common.progress("preparing data"):
        data = training_data(inputs)  # issue 14
    with common.progress("backtest and final fit", total=origins) as bar:
        backtest, forecaster = backtest_and_fit(
            data,
            inputs.calendar,
            config,
            origins,
            on_fold=lambda i, n: bar.update(bar.task_ids[0], completed=i),
        )
    metadata: dict[str, Any] = {
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
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
        "libraries": library_versions(),
        "code_version": code_version(),
        "metrics": backtest.metrics,
    }
    version = store.publish(  # issue 14: the forecast cube is computed now, stored with it
        lambda folder: save_bundle(forecaster, folder, inputs.calendar), metadata
    )
    current = store.current_version()
    current_metrics = _current_metrics_on(store, current, backtest.metrics, data, inputs, origins)
    decision = decide(backtest.metrics, current_metrics)
    if decision.promote and not no_promote:
        store.promote(version)
        verdict = f"promoted to current ({decision.reason})"
    elif no_promote:
        verdict = f"not promoted (--no-promote); {decision.reason}"
    else:
        verdict = f"not promoted: {decision.reason}; current stays {current}"
    _print_summary(version, backtest.metrics, verdict)


def _current_metrics_on(
    store: ModelRegistry,
    current: str | None,
    new: dict[str, Any],
    data: Any,
    inputs: Any,
    origins: int,
) -> dict[str, Any] | None:
    """The current model's backtest on the new model's folds.

    When the stored metrics of the current version cover the same fold origins they are
    used as they are; otherwise the current version's recipe (its train config) is
    backtested again on the same data and folds.
    """
    if current is None:
        return None
    try:
        meta = store.metadata(current)
    except ModelError:
        return None
    stored = meta.get("metrics", {})
    if len(common_folds(new, stored)) == len(new.get("folds", {})):
        return stored
    known = set(TrainConfig.__dataclass_fields__)
    recipe = TrainConfig(**{k: v for k, v in meta.get("train_config", {}).items() if k in known})
    return run_backtest(data, inputs.calendar, recipe, origins).metrics


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
                        for k in ("mae_p50", "pinball", "coverage", "under_share", "n_hours")
                    },
                }
            )
    common.console.print_json(
        json.dumps(
            {
                "backtest_origins": metrics["origins"],
                "by_channel": rows,
                "ratios": metrics["ratios"],
            }
        )
    )


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command("train")(train)
