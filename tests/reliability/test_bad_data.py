"""The bad-data corpus through ``waitcast validate``, ``train`` and ``evaluate``.

For every case: exact counts (rows in = accepted + rejected, per reason, in the report,
the rejects file and the model's metadata), or exit 1 with one clear line (never a
traceback); and no planted name or ID number in any file written, in stdout, stderr or
the log.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from cli.main import main
from features import schema as s
from features.offices import load_offices
from features.read import read_inputs
from features.validate import validate
from models.registry import ModelRegistry
from tests.reliability.corpus import Case, Counts, base_tickets, corpus
from tests.reliability.leaks import file_texts, personal_data_in

pytestmark = pytest.mark.usefixtures("small_training")  # the flow, not the model
CASES = corpus()
BY_NAME = {case.name: case for case in CASES}
ALL_REASONS = {
    "missing_value",
    "unknown_channel",
    "unparsable_time",
    "bad_number",
    "negative_wait",
    "booked_after_appointment",
    "called_before_issued",
    "finished_before_called",
    "wait_longer_than_day",
    "duplicate_ticket_id",
}


def run(
    argv: list[str], capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> tuple[int, str, str, str]:
    """Run the command line; its exit code, stdout, stderr and log text."""
    caplog.set_level(logging.DEBUG)
    code = main(argv)
    out, err = capfd.readouterr()
    return code, out, err, caplog.text


def assert_one_line_error(err: str, fragment: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error:") and fragment in lines[0], lines[0]
    assert "Traceback" not in err


def assert_no_personal_data(case: Case, outputs: list[Path], *streams: str) -> None:
    texts = file_texts([p for p in outputs if p.exists()])
    texts.update({f"stream {i}": text for i, text in enumerate(streams)})
    assert personal_data_in(texts, case.personal) == []


def assert_counts(report_inputs: list[dict], expected: dict[str, Counts]) -> None:
    by_kind = {entry["kind"]: entry for entry in report_inputs}
    assert set(by_kind) == set(expected)
    for kind, counts in expected.items():
        got = by_kind[kind]
        rejected = got["rejected"]
        if isinstance(rejected, dict):  # the model's metadata stores counts by reason here
            rejected, got = sum(rejected.values()), {**got, "counts_by_reason": rejected}
        assert got["rows_in"] == counts.rows_in == got["accepted"] + rejected
        assert (got["accepted"], got["counts_by_reason"]) == (counts.accepted, counts.rejected)


def test_the_corpus_covers_every_reject_reason() -> None:
    reasons = {r for case in CASES for counts in case.counts.values() for r in counts.rejected}
    assert reasons == ALL_REASONS
    assert len(CASES) >= 20


def test_the_search_finds_planted_personal_data(tmp_path: Path) -> None:
    """The leak search could fail: it finds every planted value in the inputs themselves."""
    for name in ("every_ticket_reason_with_personal_data", "personal_data_in_parquet"):
        case = BY_NAME[name]
        inputs = case.write(tmp_path / name)
        found = personal_data_in(file_texts(inputs), case.personal)
        assert {hit.rsplit(": ", 1)[1] for hit in found} == set(case.personal)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_validate(
    case: Case, tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    inputs = case.write(tmp_path / "input")
    out = tmp_path / "validation"
    code, stdout, stderr, log = run(
        ["validate", *map(str, inputs), "--out", str(out)], capfd, caplog
    )
    if case.usable:
        assert (code, stderr) == (0, ""), stderr
    else:
        assert code == 1
        assert_one_line_error(stderr, case.error or "")
    if case.counts:
        report = json.loads((out / "report.json").read_text("utf-8"))
        assert report["usable"] is case.usable
        assert_counts(report["inputs"], case.counts)
        for entry in report["inputs"]:
            rejects = pd.read_csv(out / entry["rejects_file"], dtype=str, keep_default_na=False)
            assert rejects[s.REJECT_REASON].value_counts().to_dict() == entry["counts_by_reason"]
            assert f"{entry['rows_in']:,}" in stdout
    assert_no_personal_data(case, [out], stdout, stderr, log)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_train(
    case: Case, tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    inputs = case.write(tmp_path / "input")
    root = tmp_path / "registry"
    code, stdout, stderr, log = run(
        ["train", *map(str, inputs), "--registry", str(root), "--origins", "1"], capfd, caplog
    )
    registry = ModelRegistry(root)
    if case.usable:
        assert (code, stderr) == (0, ""), stderr
        version = registry.current_version()
        assert version is not None and version in stdout
        assert_counts(registry.metadata(version)["validation"], case.counts)
    else:
        assert code == 1
        assert_one_line_error(stderr, case.error or "")
        assert registry.versions() == []
    assert_no_personal_data(case, [root], stdout, stderr, log)


def test_evaluate_reports_carry_no_personal_data(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    case = BY_NAME["every_ticket_reason_with_personal_data"]
    inputs = case.write(tmp_path / "input")
    out = tmp_path / "reports"
    code, stdout, stderr, log = run(
        [
            "evaluate",
            *map(str, inputs),
            "--origins",
            "1",
            "--horizon-days",
            "14",
            "--out",
            str(out),
        ],
        capfd,
        caplog,
    )
    assert (code, stderr) == (0, ""), stderr
    assert {"report.md", "metrics.json"} <= {p.name for p in out.iterdir()}
    assert_no_personal_data(case, [out], stdout, stderr, log)


def test_times_with_utc_offsets_become_office_time(tmp_path: Path) -> None:
    """+08:00, Z and +00:00 all land on the same Hangzhou wall-clock time."""
    case = BY_NAME["time_zone_offsets"]
    [path] = case.write(tmp_path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert frame[s.ISSUED_AT].str.endswith("Z").any()
    assert frame[s.ISSUED_AT].str.endswith("+00:00").any()
    assert frame[s.ISSUED_AT].str.endswith("+08:00").any()
    offices = load_offices()
    [raw] = read_inputs([path])
    result = validate(raw, offices)
    expected = base_tickets()
    for column in (s.ISSUED_AT, s.CALLED_AT, s.BOOKED_AT):
        local = pd.to_datetime(expected[column].where(expected[column] != "")).astype(
            "datetime64[ns]"
        )
        pd.testing.assert_series_equal(result.accepted[column], local, check_names=False)
    assert result.accepted[s.ISSUED_AT].dt.hour.between(9, 16).all()
    assert result.accepted[s.ISSUED_AT].dt.date.min() == dt.date(2025, 3, 3)
