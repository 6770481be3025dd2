"""``waitcast keys``: add, list and revoke partner API keys (hashed in the state store)."""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli import common
from features.errors import ParameterError
from serving import keys
from serving.statestore import StateStore, check_state_url, default_state_url, open_store

keys_app = typer.Typer(
    help="Partner API keys: a partner sends X-API-Key: KEY and gets the key's quota.",
    no_args_is_help=True,
)

RegistryOption = Annotated[
    Path | None,
    typer.Option(
        "--registry",
        help="Registry folder; the default state store is beside it (default: "
        "$WAITCAST_REGISTRY, else .waitcast/registry).",
    ),
]
StateUrlOption = Annotated[
    str | None,
    typer.Option(
        "--state-url",
        envvar="WAITCAST_STATE_URL",
        help="The server's state store: sqlite:///PATH or redis://HOST:PORT/DB (default: "
        "$WAITCAST_STATE_URL, else SQLite beside the registry).",
    ),
]
NameArgument = Annotated[str, typer.Argument(help="The partner's name, e.g. booking-site.")]


class ListFormat(StrEnum):
    """Output formats of ``waitcast keys list``."""

    table = "table"
    json = "json"


def state_store(registry: Path | None, state_url: str | None) -> StateStore:
    """The state store ``--state-url`` names, else the one beside the registry."""
    url = state_url or default_state_url(common.registry_dir(registry))
    try:
        check_state_url(url)
    except ValueError as exc:
        raise ParameterError("--state-url", str(exc)) from None
    return open_store(url)


def _minute(iso: str) -> str:
    """An ISO time as ``YYYY-MM-DD HH:MM`` (UTC, as stored)."""
    return iso[:16].replace("T", " ")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@keys_app.command("add")
def add(
    name: NameArgument,
    per_minute: Annotated[
        int,
        typer.Option(
            "--per-minute",
            min=1,
            max=keys.MAX_PER_MINUTE,
            help="The key's quota: requests a minute (ten seconds' worth at once).",
        ),
    ] = keys.DEFAULT_PER_MINUTE,
    registry: RegistryOption = None,
    state_url: StateUrlOption = None,
) -> None:
    """Make a key for a partner; it is printed once, as the last word, and never again."""
    store = state_store(registry, state_url)
    key = keys.add_key(store, name, per_minute, _now())
    burst = keys.partner_limit(per_minute).burst
    common.console.print(
        f"added key {name!r}: {per_minute:,} requests a minute, {burst:,} at once, sent as "
        "'X-API-Key: KEY' (or 'Authorization: Bearer KEY'). Only its hash is kept: store the "
        "key now, it is not shown again:",
        highlight=False,
        soft_wrap=True,
    )
    typer.echo(key)


@keys_app.command("list")
def list_keys(
    registry: RegistryOption = None,
    state_url: StateUrlOption = None,
    output_format: Annotated[
        ListFormat, typer.Option("--format", help="table or json.")
    ] = ListFormat.table,
) -> None:
    """List the keys (never the keys themselves: their first characters), oldest first."""
    found = state_store(registry, state_url).list_keys()
    rows = [
        {
            "name": k.name,
            "key": f"{k.prefix}…",
            "per_minute": k.per_minute,
            "created_at": k.created_at,
            "revoked_at": k.revoked_at,
        }
        for k in found
    ]
    if output_format is ListFormat.json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        common.console.print(
            "no partner keys: add one with `waitcast keys add NAME`", highlight=False
        )
        return
    table = Table(title="partner keys")
    for column in ("name", "key", "per minute", "created (UTC)", "revoked (UTC)"):
        table.add_column(column, overflow="fold")
    for k in found:
        table.add_row(
            k.name,
            f"{k.prefix}…",
            f"{k.per_minute:,}",
            _minute(k.created_at),
            _minute(k.revoked_at) if k.revoked_at else "-",
        )
    common.console.print(table)


@keys_app.command("revoke")
def revoke(
    name: NameArgument, registry: RegistryOption = None, state_url: StateUrlOption = None
) -> None:
    """Revoke a partner's key: requests with it are refused (401) from now on."""
    revoked = keys.revoke_key(state_store(registry, state_url), name, _now())
    common.console.print(
        f"revoked key {revoked.name!r} ({revoked.prefix}…): requests with it "
        "are refused with 401 unknown_api_key",
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    """Add ``waitcast keys ...`` to the command line."""
    app.add_typer(keys_app, name="keys")
