"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Ticket logs and/or wait observations (CSV, CSV.gz, Parquet; files or folders); "
        "or none with --store DIR."
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
        "--calendar",
        help="China calendar override CSV (date,kind,name) for years not yet published.",
    ),
]
EventsOpt = Annotated[
    Path | None,
    typer.Option(
        "--events",
        help="Dated one-off events CSV (start,end,kind,country,name) replacing the built-in one.",
    ),
]
CountryOpt = Annotated[
    str | None,
    typer.Option(
        "--country",
        help="ISO 3166 country of offices not in the registry (their public holidays), "
        "e.g. US; default CN unless the data contradict China's calendar.",
    ),
]
RegionOpt = Annotated[
    str | None,
    typer.Option(
        "--region", help="Subdivision of --country for regional holidays, e.g. CA (California)."
    ),
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option(
        "--timezone", help="IANA time zone of offices not in the registry, e.g. America/New_York."
    ),
]
RejectOpt = Annotated[
    float,
    typer.Option(
        "--max-reject-share", help="Refuse input with more rejected rows than this share."
    ),
]
