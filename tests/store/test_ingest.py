"""`waitcast ingest`: validated rows into the store, idempotent by key, one snapshot a run."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from cli.main import main
from features import schema as s
from features.errors import InputError, MissingColumnError, StoreError, UnusableInputError
from features.offices import load_offices
from store.ingest import ParquetPartitionWriter, ingest
from store.layout import FORMAT_FILE, Store
from tests.factories import (
    PERSONAL_COLUMNS,
    observations,
    ticket_log,
    tickets_with_every_reason,
    with_personal_data,
    write_table,
)
from tests.store.conftest import stored_rows, tree

OFFICES = load_offices()


def _ingest(root: Path, *paths: Path, **kwargs):
    return ingest(Store.open(root, create=True), list(paths), OFFICES, **kwargs)


def test_rows_land_in_hive_partitions_by_kind_office_and_month(tmp_path: Path) -> None:
    log = ticket_log(per_office_day=20, days=25)  # 12 June .. 6 July: two months
    log.loc[:9, s.OFFICE_ID] = "hz/odd id"  # written percent-encoded, read from the file
    obs = observations(days=2)
    result = _ingest(
        tmp_path / "st",
        write_table(log, tmp_path / "t.csv"),
        write_table(obs, tmp_path / "o.parquet"),
    )
    folder = Store.open(tmp_path / "st").snapshot_dir()
    assert folder is not None and result.snapshot == folder.name
    parts = sorted(p.relative_to(folder).parent.as_posix() for p in folder.rglob("*.parquet"))
    assert "kind=tickets/office_id=hz-city/month=2023-06" in parts
    assert "kind=tickets/office_id=hz-city/month=2023-07" in parts
    assert "kind=observations/office_id=md-annapolis/month=2023-06" in parts
    assert "kind=tickets/office_id=hz%2Fodd%20id/month=2023-06" in parts
    assert result.rows == {"tickets": len(log), "observations": len(obs)}
    rows = stored_rows(tmp_path / "st")
    assert len(rows) == len(log) and set(rows[s.OFFICE_ID]) == set(log[s.OFFICE_ID])
    manifest = json.loads((folder / "manifest.json").read_text())["files"]
    assert [(e["kind"], e["rows_in"], e["accepted"], e["added"]) for e in manifest] == [
        ("tickets", len(log), len(log), len(log)),
        ("observations", len(obs), len(obs), len(obs)),
    ]
    assert all(len(e["sha256"]) == 64 and e["ingested_at"] for e in manifest)


def test_the_same_file_again_adds_nothing_and_changes_nothing(tmp_path: Path) -> None:
    path = write_table(ticket_log(days=2), tmp_path / "t.csv")
    _ingest(tmp_path / "st", path)
    before = tree(tmp_path / "st")
    again = _ingest(tmp_path / "st", path)
    assert again.snapshot is None and again.files[0].already_ingested
    assert tree(tmp_path / "st") == before


def test_a_later_export_repeating_rows_adds_only_new_ones_and_replaces_changed_ones(
    tmp_path: Path,
) -> None:
    log = ticket_log(per_office_day=10, days=4)
    first, later = log.iloc[:80].copy(), log.iloc[60:].copy()  # 20 rows repeated
    changed = later.index[:5]  # five repeated tickets now carry a window id
    later.loc[changed, s.WINDOW_ID] = "W99"
    _ingest(tmp_path / "st", write_table(first, tmp_path / "a.csv"))
    result = _ingest(tmp_path / "st", write_table(later, tmp_path / "b.csv"))
    report = result.files[0]
    assert (report.added, report.replaced, report.unchanged) == (len(log) - 80, 5, 15)
    rows = stored_rows(tmp_path / "st")
    assert len(rows) == len(log) == result.rows["tickets"]
    keys = rows.set_index([s.OFFICE_ID, s.TICKET_ID])
    for _, row in later.loc[changed].iterrows():
        assert keys.loc[(row[s.OFFICE_ID], row[s.TICKET_ID]), s.WINDOW_ID] == "W99"


def test_ticket_ids_repeat_on_other_days_and_observations_key_by_time_and_queue(
    tmp_path: Path,
) -> None:
    log = ticket_log(per_office_day=5, days=2)
    log[s.TICKET_ID] = [f"A{i % 5:03d}" for i in range(len(log))]  # the same ids every day
    obs = observations(days=1)
    _ingest(
        tmp_path / "st", write_table(log, tmp_path / "t.csv"), write_table(obs, tmp_path / "o.csv")
    )
    assert len(stored_rows(tmp_path / "st")) == len(log)
    obs2 = obs.copy()
    obs2[s.WAIT_MINUTES] = "33.0"
    result = _ingest(tmp_path / "st", write_table(obs2, tmp_path / "o2.csv"))
    assert result.files[0].replaced == int((obs[s.WAIT_MINUTES] != "33.0").sum())
    stored = stored_rows(tmp_path / "st", s.InputKind.OBSERVATIONS)
    assert len(stored) == len(obs) and (stored[s.WAIT_MINUTES] == 33.0).all()


def test_a_duplicate_split_across_chunks_is_rejected_as_within_one_chunk(tmp_path: Path) -> None:
    log = ticket_log(per_office_day=20, days=2)
    dup = pd.concat([log, log.iloc[[3]]], ignore_index=True)  # the last row repeats row 4
    path = write_table(dup, tmp_path / "t.csv")
    small = _ingest(tmp_path / "small", path, chunk_rows=25)
    whole = _ingest(tmp_path / "whole", path)
    for result in (small, whole):
        report = result.files[0]
        assert report.rejected == 1 and report.counts_by_reason == {"duplicate_ticket_id": 1}
        assert report.accepted == report.added == len(log)
    pd.testing.assert_frame_equal(stored_rows(tmp_path / "small"), stored_rows(tmp_path / "whole"))


def test_rejects_are_kept_with_reasons_and_personal_data_never_stored(tmp_path: Path) -> None:
    frame, expected = tickets_with_every_reason()
    path = write_table(with_personal_data(frame), tmp_path / "t.csv")
    result = _ingest(tmp_path / "st", path, max_reject_share=1.0)
    wanted = pd.Series([r for r in expected if r]).value_counts().to_dict()
    assert result.files[0].counts_by_reason == wanted
    folder = Store.open(tmp_path / "st").snapshot_dir()
    assert folder is not None
    rejects = pd.read_csv(folder / "rejects" / f"{result.snapshot}-tickets.csv", dtype=str)
    assert rejects[s.REJECT_REASON].value_counts().to_dict() == wanted
    secrets = with_personal_data(frame)[list(PERSONAL_COLUMNS)].to_numpy().ravel()
    for file in folder.rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            assert not any(str(v).encode() in data for v in secrets[:50]), file
            assert b"id_number" not in data


def test_a_file_over_the_reject_limit_ingests_nothing(tmp_path: Path) -> None:
    good = write_table(ticket_log(days=2), tmp_path / "good.csv")
    frame, _ = tickets_with_every_reason()
    bad = write_table(frame.iloc[-12:], tmp_path / "bad.csv")  # mostly broken rows
    _ingest(tmp_path / "st", good)
    before = tree(tmp_path / "st")
    with pytest.raises(UnusableInputError, match=r"bad\.csv: .* rejected, above the limit"):
        _ingest(tmp_path / "st", write_table(ticket_log(days=1, seed=3), tmp_path / "c.csv"), bad)
    assert tree(tmp_path / "st") == before
    assert not (tmp_path / "st" / ".staging").exists()


@pytest.mark.parametrize(
    ("content", "error", "match"),
    [
        ("office_id,ticket_id,channel\nhz-city,A1,walk_in\n", MissingColumnError, "issued_at"),
        ("", InputError, "empty"),
        (
            "office_id,ticket_id,channel,issued_at\nhz-city,A1,walk_in\n",
            InputError,
            "a row has 3 fields, the header 4",
        ),
    ],
)
def test_a_file_that_is_not_the_contract_is_refused_and_the_store_kept(
    tmp_path: Path, content: str, error: type, match: str
) -> None:
    _ingest(tmp_path / "st", write_table(ticket_log(days=1), tmp_path / "ok.csv"))
    before = tree(tmp_path / "st")
    broken = tmp_path / "broken.csv"
    broken.write_text(content)
    with pytest.raises(error, match=match):
        _ingest(tmp_path / "st", broken)
    assert tree(tmp_path / "st") == before


class FullDisk(ParquetPartitionWriter):
    """Writes one partition, then the disk is full."""

    def __init__(self) -> None:
        self.calls = 0

    def write(self, table: pa.Table, path: Path) -> None:
        self.calls += 1
        if self.calls > 1:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        super().write(table, path)


def test_a_full_disk_fails_with_one_line_and_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    _ingest(tmp_path / "st", write_table(ticket_log(days=1), tmp_path / "a.csv"))
    before = tree(tmp_path / "st")
    writer = FullDisk()
    with pytest.raises(StoreError) as caught:
        _ingest(
            tmp_path / "st",
            write_table(ticket_log(days=3, seed=1), tmp_path / "b.csv"),
            writer=writer,
        )
    assert writer.calls == 2
    message = str(caught.value)
    assert "No space left on device; free some space" in message and "\n" not in message
    assert tree(tmp_path / "st") == before
    assert not (tmp_path / "st" / ".staging").exists()


def test_store_folders_that_cannot_be_used(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("hello")
    with pytest.raises(StoreError, match="not a waitcast store"):
        Store.open(other, create=True)
    with pytest.raises(StoreError, match="no store at"):
        Store.open(tmp_path / "missing")
    newer = tmp_path / "newer"
    Store.open(newer, create=True)
    (newer / FORMAT_FILE).write_text('{"format": "waitcast-store", "version": 99}')
    with pytest.raises(StoreError, match=r"newer waitcast \(store format 99"):
        Store.open(newer)


def test_the_cli_ingests_and_says_what_to_fix_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_table(ticket_log(days=2), tmp_path / "t.csv.gz")
    assert main(["ingest", str(path), "--store", str(tmp_path / "st")]) == 0
    out = capsys.readouterr().out
    assert "snapshot s000001" in out and "ticket" in out
    assert main(["ingest", str(path), "--store", str(tmp_path / "st")]) == 0
    assert "nothing new" in capsys.readouterr().out
    newer = tmp_path / "st" / FORMAT_FILE
    newer.write_text('{"format": "waitcast-store", "version": 2}')
    assert main(["ingest", str(path), "--store", str(tmp_path / "st")]) == 1
    err = capsys.readouterr().err
    assert "upgrade waitcast" in err and "Traceback" not in err and err.count("\n") == 1
    assert (
        main(["ingest", str(path), "--store", str(tmp_path / "st2"), "--memory-limit", "lots"]) == 1
    )
    assert "--memory-limit" in capsys.readouterr().err
