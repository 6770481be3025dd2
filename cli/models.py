"""``waitcast models``: list, show, promote and roll back the stored model versions."""

from __future__ import annotations

import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cli import common
from features.errors import NoCurrentModelError
from models.registry import ModelRegistry, VersionInfo

models_app = typer.Typer(
    help="List, inspect, promote and roll back model versions in the registry.",
    no_args_is_help=True,
)

RegistryOption = Annotated[
    Path | None,
    typer.Option(
        "--registry",
        help="Registry folder (default: $WAITCAST_REGISTRY, else .waitcast/registry).",
    ),
]
VersionArgument = Annotated[str, typer.Argument(help="A version id such as v0003.")]

# Metrics shown by ``models list`` when the version's metadata carries them, in this order.
KEY_METRICS = ("mae_p50", "coverage", "pinball")


class ListFormat(StrEnum):
    """Output formats of ``waitcast models list``."""

    table = "table"
    json = "json"


def _registry(option: Path | None) -> ModelRegistry:
    return ModelRegistry(common.registry_dir(option))


def data_range(metadata: dict[str, Any]) -> str:
    """The training data's range from ``metadata["data"]`` (or ``["data_range"]``), else ``-``."""
    span = metadata.get("data_range")
    if span is None and isinstance(metadata.get("data"), dict):
        span = metadata["data"]
    if isinstance(span, dict):
        span = [span.get("start"), span.get("end")]
    if isinstance(span, list | tuple) and len(span) == 2 and all(span):
        return f"{span[0]} … {span[1]}"
    return str(span) if span else "-"


def key_metrics(metadata: dict[str, Any]) -> dict[str, float]:
    """The headline metrics under ``metadata["metrics"]["summary"]``, if any."""
    metrics = metadata.get("metrics")
    summary = metrics.get("summary") if isinstance(metrics, dict) else None
    if not isinstance(summary, dict):
        return {}
    numbers = {
        k: float(v)
        for k, v in summary.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    }
    chosen = {k: numbers[k] for k in KEY_METRICS if k in numbers}
    return chosen or dict(list(numbers.items())[:3])


def _version_row(info: VersionInfo) -> dict[str, Any]:
    return {
        "version": info.version,
        "created_at": info.created_at,
        "current": info.is_current,
        "data_range": data_range(info.metadata),
        "metrics": key_metrics(info.metadata),
    }


@models_app.command("list")
def list_versions(
    registry: RegistryOption = None,
    output_format: Annotated[
        ListFormat, typer.Option("--format", help="table or json.")
    ] = ListFormat.table,
) -> None:
    """List every model version, oldest first; the current one is marked."""
    store = _registry(registry)
    rows = [_version_row(info) for info in store.versions()]
    if output_format is ListFormat.json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        common.console.print(
            f"no model versions in {store.root}: train one with `waitcast train`",
            highlight=False,
        )
        return
    table = Table(title=f"models in {store.root}")
    for column in ("", "version", "created", "data range", "metrics"):
        table.add_column(column, overflow="fold")
    for row in rows:
        metrics = "  ".join(f"{k}={v:.3g}" for k, v in row["metrics"].items()) or "-"
        marker = "*" if row["current"] else ""
        table.add_row(marker, row["version"], row["created_at"], row["data_range"], metrics)
    common.console.print(table)
    common.console.print("* current", style="dim")


@models_app.command("show")
def show(version: VersionArgument, registry: RegistryOption = None) -> None:
    """Print a version's metadata and manifest as JSON; VERSION may be `current`."""
    store = _registry(registry)
    current = store.current_version()
    if version == "current":
        if current is None:
            raise NoCurrentModelError(f"no current model in {store.root}")
        version = current
    document = {
        "version": version,
        "current": version == current,
        "metadata": store.metadata(version),
        "manifest": store.manifest(version),
    }
    typer.echo(json.dumps(document, indent=2))


@models_app.command("promote")
def promote(version: VersionArgument, registry: RegistryOption = None) -> None:
    """Check a version's files and make it the current model."""
    store = _registry(registry)
    previous = store.current_version()
    store.promote(version)
    was = f" (was {previous})" if previous and previous != version else ""
    common.console.print(f"{version} is now the current model{was}", highlight=False)


@models_app.command("rollback")
def rollback(registry: RegistryOption = None) -> None:
    """Make the model that was current before the current one current again."""
    store = _registry(registry)
    previous = store.current_version()
    restored = store.rollback()
    common.console.print(f"rolled back to {restored} (was {previous})", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``waitcast models ...`` to the command line."""
    app.add_typer(models_app, name="models")
