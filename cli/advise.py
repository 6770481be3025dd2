"""`waitcast advise`: should I book or walk in, when and where — with the reasons."""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from cli import common
from features import schema as s
from features.calendar_cn import load_calendar
from features.errors import UnknownOfficeError
from models.bundle import load_from_registry
from models.registry import ModelRegistry
from serving.advice import (
    AdviceContext,
    AdviceRequest,
    ForecasterSource,
    Residency,
    advise,
    parse_near,
)
from serving.advice_responses import advice_response
from serving.schemas_advice import AdviceResponse, TimeOption

TITLES = {
    "book": "BOOK an appointment",
    "walk_in": "WALK IN",
    "urgent_service": "ask for the URGENT SERVICE (急事急办)",
}


class OutputFormat(StrEnum):
    """How the advice is printed."""

    TABLE = "table"
    JSON = "json"


def advise_command(
    office: Annotated[str, typer.Option("--office", help="Office id, e.g. hz-city.")],
    travel_date: Annotated[
        str | None, typer.Option("--travel-date", help="Departure date, YYYY-MM-DD.")
    ] = None,
    residency: Annotated[
        Residency,
        typer.Option(
            "--residency",
            help="Household registration: "
            "in_province (7 working days) or "
            "out_of_province (20 days).",
        ),
    ] = Residency.IN_PROVINCE,
    expedited: Annotated[
        bool, typer.Option("--expedited", help="Expedited with proof (5 working days).")
    ] = False,
    earliest_appointment: Annotated[
        str | None,
        typer.Option(
            "--earliest-appointment", help="Earliest free slot on the booking site, YYYY-MM-DD."
        ),
    ] = None,
    today: Annotated[
        str | None,
        typer.Option(
            "--today", help="Day of the decision (default: today, with its remaining hours)."
        ),
    ] = None,
    near: Annotated[
        str | None,
        typer.Option(
            "--near",
            help="LAT,LON where you set out from "
            "(default: the office): options are ranked door "
            "to door.",
        ),
    ] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
    registry: Annotated[
        Path | None,
        typer.Option("--registry", help="Model registry folder (default $WAITCAST_REGISTRY)."),
    ] = None,
    calendar: Annotated[
        Path | None, typer.Option("--calendar", help="Calendar override CSV.")
    ] = None,
) -> None:
    """Book or walk in? The last day to apply, the best times and offices, and why."""
    travel = common.parse_date(travel_date, "--travel-date") if travel_date else None
    slot = (
        common.parse_date(earliest_appointment, "--earliest-appointment")
        if earliest_appointment
        else None
    )
    given_today = common.parse_date(today, "--today") if today else None
    start = parse_near(near, "--near") if near is not None else None
    forecaster = load_from_registry(
        ModelRegistry(common.registry_dir(registry)), china=load_calendar(calendar)
    )
    forecast_ids = set(forecaster.queues[s.OFFICE_ID].astype(str))
    if office not in forecast_ids:
        raise UnknownOfficeError(office)
    registry_offices = forecaster.offices
    now = dt.datetime.now(ZoneInfo(registry_offices.get(office).timezone))  # the CLI edge
    request = AdviceRequest(
        office,
        given_today or now.date(),
        travel,
        residency,
        expedited,
        slot,
        now=None if given_today else now.time(),
        near=start,
    )
    ctx = AdviceContext(
        forecaster.calendars,
        registry_offices,
        forecaster.lead_days,
        service_minutes=forecaster.service_minutes,
    )
    with common.progress("forecasting"):
        advice = advise(request, ctx, ForecasterSource(forecaster))
    answer = advice_response(advice, registry_offices, forecaster.metadata.get("version"))
    if output_format is OutputFormat.JSON:
        typer.echo(
            json.dumps(answer.model_dump(mode="json", by_alias=True), ensure_ascii=False, indent=1)
        )
    else:
        _print(answer)


def _print(answer: AdviceResponse) -> None:
    out = common.console
    out.print(
        f"[bold]{answer.office_name_en} / {answer.office_name_zh}[/] — "
        f"model {answer.model_version}, today {answer.today}",
        highlight=False,
    )
    out.print(f"advice: [bold green]{TITLES[answer.advice.value]}[/]", highlight=False)
    facts = {
        "travel date": answer.travel_date,
        "last day to apply": answer.last_day_to_apply,
        "document ready": answer.document_ready,
        "calendar estimated": "yes" if answer.calendar_estimated else None,
    }
    for name, value in facts.items():
        if value is not None:
            out.print(f"  {name}: {value}", highlight=False)
    a = answer.appointment
    if a is not None:
        wait = (
            f", wait ~{a.wait.p50:.0f} min (p90 {a.wait.p90:.0f}) at {a.wait.hour}:00"
            if a.wait
            else ""
        )
        out.print(
            f"  appointment: {a.date} ({a.source}){wait}; {'in time' if a.in_time else 'too late'}",
            highlight=False,
        )
    if answer.walk_in:
        out.print(_options_table(answer.walk_in))
    for reason in answer.reasons:
        out.print(f"- {reason.en}\n  {reason.zh}", highlight=False)


def _options_table(options: list[TimeOption]) -> Table:
    table = Table(
        title="walk-in options (any of them: about equally good; km and travel "
        "from the start, cost in minutes)"
    )
    for column in (
        "office",
        "km",
        "travel",
        "date",
        "hour",
        "p50",
        "p90",
        "called",
        "cost",
        "ready",
        "near best",
    ):
        table.add_column(column)
    for o in options:
        table.add_row(
            o.office_id,
            f"{o.distance_km:.0f}" if o.distance_km is not None else "",
            f"{o.travel_minutes:.0f}" if o.travel_minutes is not None else "",
            f"{o.date} {o.date:%a}",
            f"{o.hour}:00",
            f"{o.p50:.0f}",
            f"{o.p90:.0f}",
            f"{100 * o.p_called:.0f}%" if o.p_called is not None else "",
            f"{o.cost_minutes:.0f}" if o.cost_minutes is not None else "",
            str(o.document_ready or ""),
            "yes" if o.near_best else "",
        )
    return table


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command("advise")(advise_command)
