"""`waitcast retrain --store DIR --inbox DIR`: the nightly job.

1. Ingest the exports found in the inbox into the store (:func:`cli.ingest.run_ingest`).
   The store's manifest keeps the sha256 of every file it ingested, so a file seen
   before is skipped and said so, whatever its name or however often it is seen.
2. When something new came in, train from the store with `waitcast train`'s own code
   path (:func:`cli.train.train`) and promote under the registry's rules
   (:func:`training.promotion.decide`).

Exit codes, for cron and systemd: 0 a new version was promoted; 1 bad input (a file that
is not the data contract, a bad option, a store that is not a store: nothing is
ingested); 2 a version was trained but not promoted (not better than the current one);
3 nothing new in the inbox (no training). Each non-zero exit prints its reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import common
from cli.engine import Engine
from cli.ingest import run_ingest
from cli.options import (
    CalendarOpt,
    CountryOpt,
    EventsOpt,
    OfficesOpt,
    RegionOpt,
    RegistryOpt,
    RejectOpt,
    TimezoneOpt,
)
from cli.store_options import MemoryLimitOpt
from cli.train import train
from features.errors import InputError, ParameterError
from features.read import input_files
from models.registry import ModelRegistry
from store.duck import DEFAULT_MEMORY_LIMIT

NOT_PROMOTED = 2
NOTHING_NEW = 3


def retrain(
    ctx: typer.Context,
    store: Annotated[
        Path, typer.Option("--store", help="The data store (created when new or empty).")
    ],
    inbox: Annotated[
        Path,
        typer.Option(
            "--inbox",
            help="Folder where the queue system drops its exports (CSV, CSV.gz, Parquet).",
        ),
    ],
    registry: RegistryOpt = None,
    offices: OfficesOpt = None,
    calendar: CalendarOpt = None,
    events: EventsOpt = None,
    country: CountryOpt = None,
    region: RegionOpt = None,
    timezone: TimezoneOpt = None,
    origins: Annotated[int, typer.Option("--origins", min=1, max=12, help="Backtest origins.")] = 4,
    max_reject_share: RejectOpt = 0.05,
    allow_rejects: Annotated[
        bool, typer.Option("--allow-rejects", help="Ingest whatever the rejected share.")
    ] = False,
    memory_limit: MemoryLimitOpt = DEFAULT_MEMORY_LIMIT,
) -> None:
    """Ingest new exports from the inbox, train from the store, promote if better."""
    if not inbox.is_dir():
        raise ParameterError("--inbox", f"{inbox} is not a folder: pass the exports' folder")
    ModelRegistry(common.registry_dir(registry)).check_writable()  # before any ingest
    try:
        files = input_files([inbox])
    except InputError:  # the folder exists (checked above) but holds no export
        files = []
    if not files:
        _stop(NOTHING_NEW, f"nothing new: the inbox {inbox} holds no export; no training")
    limit = 1.0 if allow_rejects else max_reject_share
    result = run_ingest(files, store, offices, limit, memory_limit)
    if result.snapshot is None:
        _stop(
            NOTHING_NEW,
            f"nothing new: the {len(files)} file(s) in {inbox} were all ingested before "
            "(same content); no training",
        )
    outcome = train(
        ctx,
        paths=None,
        registry=registry,
        offices=offices,
        calendar=calendar,
        events=events,
        country=country,
        region=region,
        timezone=timezone,
        origins=origins,
        max_reject_share=max_reject_share,
        allow_rejects=allow_rejects,
        store_dir=store,
        memory_limit=memory_limit,
        engine=Engine.LOCAL,
    )
    if not outcome.promoted:
        _stop(NOT_PROMOTED, f"version {outcome.version} {outcome.reason}")


def _stop(code: int, reason: str) -> None:
    common.fail(reason)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add the ``retrain`` command to the ``waitcast`` app."""
    app.command("retrain")(retrain)
