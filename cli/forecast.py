"""`waitcast forecast`: forecasts of the current model, per queue, date and open hour."""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.table import Table

from cli import common
from cli.store_options import MemoryLimitOpt, StoreDirOpt
from features import schema as s
from features.calendar_cn import ChinaCalendar, load_calendar
from features.calendars import Calendars
from features.errors import ParameterError
from features.offices import OfficeRegistry
from models.registry import ModelRegistry
from models.stored import StoredVersion, load_stored
from store import DEFAULT_MEMORY_LIMIT

if TYPE_CHECKING:
    from models.forecaster import Forecaster


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
    store_dir: StoreDirOpt = None,
    memory_limit: MemoryLimitOpt = DEFAULT_MEMORY_LIMIT,
    today: Annotated[
        str | None,
        typer.Option(
            "--today",
            help="Day the horizon counts from, YYYY-MM-DD (default: the model's first "
            "forecast day, the day after its data end).",
        ),
    ] = None,
) -> None:
    """Forecast waits (p10/p50/p90 minutes) with the current model.

    Refuses what the API refuses (a date before the first forecast day — the day after
    the model's data, or --today — or beyond the horizon of $WAITCAST_HORIZON_DAYS days,
    appointments at a walk-in-only office) and names the
    holiday of every closed day.
    """
    first = common.parse_date(start, "--start")
    if not 1 <= days <= 366:
        raise ParameterError("--days", f"must be between 1 and 366, got {days}")
    china = load_calendar(calendar)
    models = ModelRegistry(common.registry_dir(registry))
    # The current version's stored forecasts answer without its models (no LightGBM to
    # import) when they hold the days; newer data or other days take the models.
    stored = load_stored(models, china)
    forecaster = None
    if store_dir is not None:  # the current model reading the store's latest data
        forecaster = _from_store(_forecaster(models, stored, china), store_dir, memory_limit)
    version: StoredVersion | Forecaster = forecaster or stored
    now = common.parse_date(today, "--today") if today else version.origin
    _check_range(first, days, now, common.horizon_days())
    wanted = office or None
    if channel is ChannelChoice.APPOINTMENT:
        for office_id in wanted or []:
            if not version.offices.get(office_id).takes_appointments:
                raise ParameterError(
                    "--channel", f"office {office_id} is walk-in only: no appointments"
                )
    asked = channel.value if channel else None
    frame = None if forecaster is not None else stored.forecast(first, days, wanted, asked)
    if frame is None:
        forecaster = forecaster or _forecaster(models, stored, china)
        frame = forecaster.forecast(first, days, wanted, asked)
    frame = frame.assign(model_version=stored.version)
    closed = _closed_days(version.offices, version.calendars, version.queues, first, days, wanted)
    for column in (s.P10, s.P50, s.P90, s.EXPECTED_ARRIVALS, s.P_CALLED):
        frame[column] = frame[column].astype(float).round(2)
    text = _render(frame, output_format, closed)
    if out is not None:
        try:
            out.write_text(text if text is not None else frame.to_csv(index=False))
        except OSError as exc:
            raise ParameterError("--out", f"cannot write {out}: {exc.strerror}") from None
        common.console.print(f"wrote {len(frame):,} rows to {out}")
    elif text is not None:
        typer.echo(text, nl=False)
    if output_format is not OutputFormat.TABLE or out is not None:
        for office_id, date, name in closed:  # beside the data, not in it
            common.err_console.print(f"closed: {office_id} {date} {name}", highlight=False)


def _forecaster(models: ModelRegistry, stored: StoredVersion, china: ChinaCalendar) -> Forecaster:
    """The forecaster (its models loaded) of the stored version."""
    from models.bundle import load_from_registry

    return load_from_registry(models, stored.version, china)


def _from_store(forecaster: Forecaster, store_dir: Path, memory_limit: str) -> Forecaster:
    """The forecaster with its levels as of the store's last day of data."""
    from store.layout import Store
    from training.from_store import StoreLimits, prepare_from_store

    data = prepare_from_store(
        Store.open(store_dir),
        forecaster.offices,
        forecaster.calendars,
        StoreLimits(memory_limit=memory_limit),
    )
    return forecaster.with_history(data.hourly, max(data.end, forecaster.data_end))


def _check_range(first: dt.date, days: int, today: dt.date, horizon: int) -> None:
    """The API's date rules: from today up to the horizon (ParameterError naming the flag)."""
    if first < today:
        raise ParameterError("--start", f"{first} is in the past; the earliest date is {today}")
    last, limit = first + dt.timedelta(days=days - 1), today + dt.timedelta(days=horizon - 1)
    if last > limit:
        raise ParameterError(
            "--days" if first <= limit else "--start",
            f"{last} is beyond the forecast horizon of {horizon} days "
            f"(WAITCAST_HORIZON_DAYS); the last date is {limit}",
        )


def _closed_days(
    offices: OfficeRegistry,
    calendars: Calendars,
    queues: pd.DataFrame,
    first: dt.date,
    days: int,
    office_ids: list[str] | None,
) -> list[tuple[str, dt.date, str]]:
    """(office, date, why) of every asked-for office-day the office does not open."""
    ids = office_ids or sorted(set(queues[s.OFFICE_ID].astype(str)))
    closed = []
    for office_id in ids:
        office = offices.get(office_id)
        for k in range(days):
            info = calendars.day(office, first + dt.timedelta(days=k))
            if not office.sessions_for(info):
                why = f"{info.holiday_en} {info.holiday_zh}" if info.holiday_en else "closed"
                closed.append((office_id, info.date, why))
    return closed


def _render(
    frame: pd.DataFrame, output_format: OutputFormat, closed: list[tuple[str, dt.date, str]]
) -> str | None:
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
    for office_id, date, why in closed:
        table.add_row(office_id, str(date), f"closed: {why}", *[""] * (len(columns) - 3))
    common.console.print(table)
    return None


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command("forecast")(forecast)
