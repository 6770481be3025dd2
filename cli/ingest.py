"""`waitcast ingest PATH... --store DIR`: validated rows into the Parquet store, in one snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli import common
from cli.store_options import MemoryLimitOpt
from features.offices import load_offices
from store.chunks import DEFAULT_CHUNK_ROWS
from store.duck import DEFAULT_MEMORY_LIMIT, check_memory_limit
from store.ingest import IngestResult, ingest
from store.layout import Store

StoreOpt = Annotated[
    Path, typer.Option("--store", help="The store folder (created when new or empty).")
]


def ingest_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Ticket logs or wait observations: CSV, CSV.gz, Parquet or folders."),
    ],
    store: StoreOpt,
    offices: Annotated[
        Path | None,
        typer.Option("--offices", help="Office registry JSON (default: the 15 Hangzhou offices)."),
    ] = None,
    max_reject_share: Annotated[
        float,
        typer.Option(
            "--max-reject-share", min=0.0, max=1.0, help="Refuse a file with more rejected rows."
        ),
    ] = 0.05,
    allow_rejects: Annotated[
        bool, typer.Option("--allow-rejects", help="Ingest whatever the rejected share.")
    ] = False,
    memory_limit: MemoryLimitOpt = DEFAULT_MEMORY_LIMIT,
    chunk_rows: Annotated[
        int, typer.Option("--chunk-rows", min=1000, help="Rows read and validated at a time.")
    ] = DEFAULT_CHUNK_ROWS,
) -> None:
    """Validate exports and merge their rows into the store (idempotent, atomic)."""
    run_ingest(
        paths, store, offices, 1.0 if allow_rejects else max_reject_share, memory_limit, chunk_rows
    )


def run_ingest(
    paths: list[Path],
    store: Path,
    offices: Path | None,
    max_reject_share: float,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> IngestResult:
    """Ingest ``paths`` into the store at ``store`` (created when new), print what happened."""
    check_memory_limit(memory_limit)
    registry = load_offices(offices)
    opened = Store.open(store, create=True)
    with common.progress("ingesting", total=len(paths)) as bar:
        result = ingest(
            opened,
            paths,
            registry,
            max_reject_share=max_reject_share,
            chunk_rows=chunk_rows,
            memory_limit=memory_limit,
            on_file=lambda i, n: bar.update(bar.task_ids[0], completed=i, total=n),
        )
    _print(result, store)
    return result


def _print(result: IngestResult, store: Path) -> None:
    table = Table(title="ingest")
    headers = ("file", "kind", "rows in", "accepted", "rejected", "added", "replaced", "unchanged")
    for header in headers:
        table.add_column(header, justify="left" if header in ("file", "kind") else "right")
    for report in result.files:
        if report.already_ingested:
            table.add_row(report.file, report.kind or "", "already ingested", "", "", "", "", "")
            continue
        table.add_row(
            report.file,
            report.kind or "",
            *(
                f"{v:,}"
                for v in (
                    report.rows_in,
                    report.accepted,
                    report.rejected,
                    report.added,
                    report.replaced,
                    report.unchanged,
                )
            ),
        )
    common.console.print(table)
    for report in result.files:
        if report.already_ingested:
            common.console.print(
                f"skipped {report.file}: already ingested (same content, sha256 "
                f"{report.sha256[:12]}…)",
                highlight=False,
                soft_wrap=True,
            )
    rows = ", ".join(f"{n:,} {kind}" for kind, n in result.rows.items())
    if result.snapshot is None:
        common.console.print(
            f"nothing new: store {store} unchanged ({rows})", highlight=False, soft_wrap=True
        )
    else:
        rejected = sum(r.rejected for r in result.files if not r.already_ingested)
        where = (
            f"{rejected:,} rejected rows with their reasons in "
            f"{store}/snapshots/{result.snapshot}/rejects/"
            if rejected
            else "no row rejected"
        )
        common.console.print(
            f"store {store}: snapshot {result.snapshot} ({rows}); {where}",
            highlight=False,
            soft_wrap=True,
        )


def register(app: typer.Typer) -> None:
    """Add the ``ingest`` command to the ``waitcast`` app."""
    app.command("ingest")(ingest_command)
