"""``waitcast validate PATH...``: check input against the data contract.

Prints rows in, accepted and rejected, and the counts by reason, per input kind; writes the
rejected rows with their reasons to ``DIR/rejects-<kind>.csv`` and the counts to
``DIR/report.json``; exits 1 with one line when the input is unusable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cli import common
from features.errors import ParameterError, TooManyRejectsError, UnusableInputError
from features.offices import load_offices
from features.read import RawInput, read_inputs
from features.reasons import describe
from features.validate import ValidationResult, check_usable, validate

DEFAULT_OUT = Path("validation")
REPORT_NAME = "report.json"


def register(app: typer.Typer) -> None:
    """Add the ``validate`` command to the ``waitcast`` app."""
    app.command("validate")(validate_command)


def validate_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Ticket logs or wait observations: CSV, CSV.gz, Parquet or folders."),
    ],
    offices: Annotated[
        Path | None,
        typer.Option("--offices", help="Office registry JSON (default: the 15 Hangzhou offices)."),
    ] = None,
    out: Annotated[
        Path,
        typer.Option("--out", help="Folder for rejects-<kind>.csv and report.json."),
    ] = DEFAULT_OUT,
    max_reject_share: Annotated[
        float,
        typer.Option(
            "--max-reject-share", min=0.0, max=1.0, help="Largest usable share of rejected rows."
        ),
    ] = 0.05,
    allow_rejects: Annotated[
        bool,
        typer.Option("--allow-rejects", help="Exit 0 whatever the rejected share."),
    ] = False,
) -> None:
    """Check input against the data contract; write the rejected rows with reasons."""
    registry = load_offices(offices)
    with common.progress("reading input"):
        inputs = read_inputs(paths)
    with common.progress("validating"):
        results = [validate(raw, registry) for raw in inputs]
    limit = 1.0 if allow_rejects else max_reject_share
    refusals: list[UnusableInputError] = []
    for result in results:
        try:
            check_usable(result, limit)
        except UnusableInputError as exc:
            refusals.append(exc)
    problems = [str(exc) for exc in refusals]
    _write(out, inputs, results, problems, max_reject_share, allow_rejects)
    _print(results, out)
    if refusals:  # after the files are written, so the rejects can be looked at
        too_many = any(isinstance(exc, TooManyRejectsError) for exc in refusals)
        raise (TooManyRejectsError if too_many else UnusableInputError)("; ".join(problems))


def _rejects_name(result: ValidationResult) -> str:
    return f"rejects-{result.kind.value}.csv"


def _write(
    out: Path,
    inputs: list[RawInput],
    results: list[ValidationResult],
    problems: list[str],
    max_reject_share: float,
    allow_rejects: bool,
) -> None:
    """Write the rejects files and the report into ``out`` (created when missing)."""
    report: dict[str, Any] = {
        "usable": not problems,
        "problems": problems,
        "max_reject_share": max_reject_share,
        "allow_rejects": allow_rejects,
        "inputs": [_summary(raw, result) for raw, result in zip(inputs, results, strict=True)],
    }
    try:
        out.mkdir(parents=True, exist_ok=True)
        for result in results:
            result.rejected.to_csv(out / _rejects_name(result), index=False)
        (out / REPORT_NAME).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ParameterError("--out", f"cannot write to {out}: {exc.strerror or exc}") from None


def _summary(raw: RawInput, result: ValidationResult) -> dict[str, Any]:
    return {
        "kind": result.kind.value,
        "files": [str(path) for path in raw.files],
        "rows_in": result.rows_in,
        "accepted": len(result.accepted),
        "rejected": len(result.rejected),
        "rejected_share": round(result.rejected_share, 6),
        "counts_by_reason": result.counts_by_reason,
        "reasons": {code: describe(code) for code in result.counts_by_reason},
        "rejects_file": _rejects_name(result),
    }


def _print(results: list[ValidationResult], out: Path) -> None:
    table = Table(title="validation")
    for header in ("kind", "rows in", "accepted", "rejected", "rejected share"):
        table.add_column(header, justify="left" if header == "kind" else "right")
    for result in results:
        table.add_row(
            result.kind.value,
            f"{result.rows_in:,}",
            f"{len(result.accepted):,}",
            f"{len(result.rejected):,}",
            f"{result.rejected_share:.2%}",
        )
    common.console.print(table)
    for result in results:
        if not result.counts_by_reason:
            continue
        reasons = Table(title=f"{result.kind.value}: rejected rows by reason")
        reasons.add_column("reason")
        reasons.add_column("rows", justify="right")
        reasons.add_column("meaning")
        for code, count in result.counts_by_reason.items():
            reasons.add_row(code, f"{count:,}", describe(code))
        common.console.print(reasons)
    common.console.print(f"rejected rows and report.json written to {out}/", highlight=False)
