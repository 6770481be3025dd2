"""`waitcast forecast`: forecasts of the current model, per queue, date and open hour."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from cli import common
from features import schema as s
from features.calendar_cn import load_calendar
from features.errors import ParameterError
from models.bundle import load_from_registry
from models.registry import ModelRegistry


class OutputFormat(StrEnum):
    """How forecasts are printed."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"


class ChannelChoice(StrEnum):
    """A queue channel."""

    WALK_IN = "walk_in"
    APPOINTMENT = "appointment"


def forecast(
    start: Annotated[str, typer.Option("--start", help="First date, YYYY-MM-DD.")],
    registry: Annotated[
        Path | None, typer.Option("--registry", help="Model registry folder.")
    ] = None,
    office: Annotated[
        list[str] | None, typer.Option("--office", help="Office id (repeatable; default: all).")
    ] = None,
    days: Annotated[int, typer.Option("--days", help="Number of days.")] = 7,
    channel: Annotated[ChannelChoice | None, typer.Option("--channel")] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead.")] = None,
    calendar: Annotated[
        Path | None, typer.Option("--calendar", help="Calendar override CSV.")
    ] = None,
) -> None:
    """Forecast waits (p10/p50/p90 minutes) with the current model."""
    first = common.parse_date(start, "--start")
    if not 1 <= days <= 366:
        raise ParameterError("--days", f"must be between 1 and 366, got {days}")
    forecaster = load_from_registry(
        ModelRegistry(common.registry_dir(registry)), china=load_calendar(calendar)
    )
    frame = forecaster.forecast(first, days, office or None, channel.value if channel else None)
    frame = frame.assign(model_version=forecaster.metadata.get("version"))
    for column in (s.P10, s.P50, s.P90, s.EXPECTED_ARRIVALS, s.P_CALLED):
        frame[column] = frame[column].astype(float).round(2)
    text = _render(frame, output_format)
    if out is not None:
        try:
            out.write_text(text if text is not None else frame.to_csv(index=False))
        except OSError as exc:
            raise ParameterError("--out", f"cannot write {out}: {exc.strerror}") from None
        common.console.print(f"wrote {len(frame):,} rows to {out}")
    elif text is not None:
        typer.echo(text, nl=False)


def _render(frame: pd.DataFrame, output_format: OutputFormat) -> str | None:
    if output_format is OutputFormat.CSV:
        return frame.to_csv(index=False)
    if output_format is OutputFormat.JSON:
        records = json.loads(frame.to_json(orient="records", date_format="iso"))
        for record in records:
            record[s.DATE] = str(record[s.DATE])[:10]
        return json.dumps(records, ensure_ascii=False, indent=1) + "\n"
    table = Table(title=f"forecast, model {frame['model_version'].iloc[0] if len(frame) else '-'}")
    columns = list(s.FORECAST_TABLE_COLUMNS)
    for column in columns:
        table.add_column(column)
    for row in frame[columns].itertuples(index=False):
        table.add_row(*("" if pd.isna(v) else str(v) for v in row))
    common.console.print(table)
    return None


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command("forecast")(forecast)
