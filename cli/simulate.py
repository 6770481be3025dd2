"""``waitcast simulate``: write a simulated ticket log of the offices to a file."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path
from typing import Annotated, BinaryIO, cast

import pandas as pd
import typer

from cli import common
from features import schema as s
from features.calendar_cn import default_calendar
from features.errors import ParameterError
from features.offices import load_offices
from training.simulate import SimConfig, combine_logs, simulate_office

SUFFIXES = (".parquet", ".csv", ".csv.gz")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
AUTO_WARMUP_REACH_DAYS = 400  # rebuild the 2023 booking backlog when start is this close


def output_format(path: Path) -> str:
    """The format told by the file name: one of :data:`SUFFIXES`."""
    name = path.name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    raise ParameterError(
        "--out", f"cannot tell the format of {path.name!r}: use one of {', '.join(SUFFIXES)}"
    )


def default_warmup_days(start: dt.date, config: SimConfig) -> int:
    """Days simulated before ``start`` so the appointment book is as full as in a run
    from the reopening: back to the reopening when ``start`` is within a bit more than a
    year of it (the 2023 backlog), else one booking horizon."""
    since_reopening = (start - config.reopening).days
    if 0 < since_reopening <= AUTO_WARMUP_REACH_DAYS:
        return max(since_reopening, config.booking_horizon_days)
    return config.booking_horizon_days


def write_log(log: pd.DataFrame, path: Path) -> None:
    """Write the log by suffix; the same frame always gives the same bytes."""
    kind = output_format(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == ".parquet":
            log.to_parquet(path, index=False, engine="pyarrow", compression="zstd")
            return
        with path.open("wb") as raw:
            if kind == ".csv":
                _write_csv(log, raw)
                return
            # mtime=0 and no file name in the gzip header: the same log, the same bytes.
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as zipped:
                _write_csv(log, cast(BinaryIO, zipped))
    except OSError as exc:
        raise ParameterError("--out", f"cannot write {path}: {exc.strerror or exc}") from None


def _write_csv(log: pd.DataFrame, sink: BinaryIO) -> None:
    log.to_csv(
        sink, mode="wb", encoding="utf-8", index=False, date_format=TIME_FORMAT, lineterminator="\n"
    )


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` command to the app."""

    @app.command("simulate")
    def simulate_command(
        start: Annotated[str, typer.Option("--start", help="First day, YYYY-MM-DD.")],
        end: Annotated[str, typer.Option("--end", help="Last day (inclusive), YYYY-MM-DD.")],
        out: Annotated[Path, typer.Option("--out", help="Output file: .parquet, .csv or .csv.gz.")],
        seed: Annotated[int, typer.Option("--seed", help="Randomness; same seed, same file.")] = 0,
        offices: Annotated[
            Path | None,
            typer.Option("--offices", help="Office registry JSON (default: Hangzhou's 15)."),
        ] = None,
        warmup_days: Annotated[
            int | None,
            typer.Option(
                "--warmup-days",
                help="Days simulated before --start to fill the appointment book "
                "(default: back to 2023-01-08 when near it, else 60).",
            ),
        ] = None,
    ) -> None:
        """Write a simulated ticket log of the offices (one row per ticket)."""
        first = common.parse_date(start, "--start")
        last = common.parse_date(end, "--end")
        if last < first:
            raise ParameterError("--end", f"{last} is before --start {first}")
        if seed < 0:
            raise ParameterError("--seed", f"must be >= 0, got {seed}")
        if warmup_days is not None and warmup_days < 0:
            raise ParameterError("--warmup-days", f"must be >= 0, got {warmup_days}")
        output_format(out)
        registry = load_offices(offices)
        calendar = default_calendar()
        config = SimConfig()
        warmup = default_warmup_days(first, config) if warmup_days is None else warmup_days
        frames = []
        with common.progress("simulating offices", total=len(registry)) as bar:
            task = bar.task_ids[0]
            for office in registry:
                frames.append(simulate_office(office, calendar, first, last, seed, config, warmup))
                bar.advance(task)
        log = combine_logs(frames)
        write_log(log, out)
        documents = int(log[s.DOCUMENTS].sum()) if len(log) else 0
        common.console.print(
            f"wrote {len(log):,} tickets ({documents:,} documents) of {len(registry)} offices, "
            f"{first}..{last}, seed {seed} to {out}",
            highlight=False,
            soft_wrap=True,
        )
