"""Reading CSV, CSV.gz and Parquet files and folders as raw text, with personal data dropped."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import schema as s
from features.errors import InputError, MissingColumnError
from features.read import detect_kind, input_files, read_file, read_inputs
from tests.factories import (
    PERSONAL_COLUMNS,
    observations,
    ticket_log,
    with_personal_data,
    write_table,
)


@pytest.mark.parametrize("name", ["log.csv", "log.csv.gz", "log.parquet"])
def test_each_format_reads_the_same_text(tmp_path: Path, name: str) -> None:
    log = ticket_log(seed=1)
    kind, frame = read_file(write_table(log, tmp_path / name))
    assert kind is s.InputKind.TICKETS
    pd.testing.assert_frame_equal(
        frame[list(s.TICKET_COLUMNS)].astype(object), log.astype(object), check_dtype=False
    )
    assert frame[s.SOURCE_FILE].eq(str(tmp_path / name)).all()
    assert frame[s.SOURCE_ROW].tolist() == list(range(1, len(log) + 1))


def test_personal_data_never_enters_the_frame(tmp_path: Path) -> None:
    log = with_personal_data(ticket_log(seed=2))
    for name in ("p.csv", "p.parquet"):
        [raw] = read_inputs([write_table(log, tmp_path / name)])
        assert not set(PERSONAL_COLUMNS) & set(raw.frame.columns)
        cells = set(raw.frame.astype(str).to_numpy().ravel())
        for column in PERSONAL_COLUMNS:
            assert not cells & set(log[column]), f"{column} values leaked from {name}"


def test_text_is_kept_verbatim_and_empty_is_empty_text(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "office_id,ticket_id,channel,issued_at,called_at\n"
        "hz-city,NA,walk_in,2023-06-12 09:00:00,\n"
        "hz-city,null, walk_in ,2023-06-12 09:01:00,NaN\n",
        encoding="utf-8",
    )
    _, frame = read_file(path)
    assert frame[s.TICKET_ID].tolist() == ["NA", "null"]
    assert frame[s.CHANNEL].tolist() == ["walk_in", " walk_in "]
    assert frame[s.CALLED_AT].tolist() == ["", "NaN"]
    assert not frame.isna().any().any()


def test_folder_is_read_recursively_sorted_grouped_by_kind(tmp_path: Path) -> None:
    write_table(ticket_log(seed=3), tmp_path / "b" / "late.csv")
    write_table(ticket_log(seed=4), tmp_path / "a" / "early.csv.gz")
    write_table(observations(days=1), tmp_path / "obs.parquet")
    (tmp_path / "README.txt").write_text("not data", encoding="utf-8")
    (tmp_path / "a" / "offices.json").write_text("{}", encoding="utf-8")
    tickets, waits = read_inputs([tmp_path])
    assert tickets.kind is s.InputKind.TICKETS
    assert tickets.files == (tmp_path / "a" / "early.csv.gz", tmp_path / "b" / "late.csv")
    assert waits.kind is s.InputKind.OBSERVATIONS and waits.files == (tmp_path / "obs.parquet",)
    assert len(tickets.frame) == 2 * len(ticket_log())
    first = tickets.frame[tickets.frame[s.SOURCE_FILE] == str(tickets.files[0])]
    assert first[s.SOURCE_ROW].tolist() == list(range(1, len(first) + 1))


def test_files_of_one_kind_with_different_optional_columns_combine(tmp_path: Path) -> None:
    full = ticket_log(seed=5)
    write_table(full, tmp_path / "1.csv")
    write_table(full[list(s.TICKET_REQUIRED)], tmp_path / "2.csv")
    [raw] = read_inputs([tmp_path])
    assert len(raw.frame) == 2 * len(full)
    assert raw.frame[s.CALLED_AT].iloc[len(full) :].eq("").all()


def test_typed_parquet_becomes_the_same_text_as_csv(tmp_path: Path) -> None:
    typed = pd.DataFrame(
        {
            s.OFFICE_ID: pd.Categorical(["hz-city", "hz-city"]),
            s.OBSERVED_AT: pd.to_datetime(["2023-06-12 09:00:00", "2023-06-12 09:15:30"]),
            s.WAIT_MINUTES: [12.0, np.nan],
            s.QUEUE_LENGTH: pd.array([5, None], dtype="Int64"),
        }
    )
    utc = pd.DataFrame({s.OBSERVED_AT: pd.to_datetime(["2023-06-12 01:00:00"]).tz_localize("UTC")})
    typed.to_parquet(tmp_path / "typed.parquet")
    _, frame = read_file(tmp_path / "typed.parquet")
    assert frame[s.OBSERVED_AT].tolist() == ["2023-06-12 09:00:00", "2023-06-12 09:15:30"]
    assert frame[s.WAIT_MINUTES].tolist() == ["12", ""]
    assert frame[s.QUEUE_LENGTH].tolist() == ["5", ""]
    utc.assign(office_id="hz-city", wait_minutes=1.0).to_parquet(tmp_path / "utc.parquet")
    _, frame = read_file(tmp_path / "utc.parquet")
    assert frame[s.OBSERVED_AT].tolist() == ["2023-06-12 01:00:00Z"]


def test_byte_order_mark_and_padded_header_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    text = "office_id , observed_at,wait_minutes\r\nhz-city,2023-06-12 09:00:00,5\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    kind, frame = read_file(path)
    assert kind is s.InputKind.OBSERVATIONS
    assert frame[s.OFFICE_ID].tolist() == ["hz-city"] and frame[s.WAIT_MINUTES].tolist() == ["5"]


def test_header_only_file_reads_as_zero_rows(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("office_id,observed_at,wait_minutes\n", encoding="utf-8")
    kind, frame = read_file(path)
    assert kind is s.InputKind.OBSERVATIONS and frame.empty


def test_kind_is_told_by_columns() -> None:
    assert detect_kind(s.TICKET_REQUIRED) is s.InputKind.TICKETS
    assert detect_kind([*s.OBSERVATION_REQUIRED, "name"]) is s.InputKind.OBSERVATIONS
    with pytest.raises(MissingColumnError, match=r"x\.csv.*channel"):
        detect_kind([s.OFFICE_ID, s.TICKET_ID, s.ISSUED_AT], "x.csv")
    with pytest.raises(MissingColumnError, match=r"observed_at, wait_minutes"):
        detect_kind([s.OFFICE_ID, "name"], "x.csv")
    with pytest.raises(MissingColumnError, match=r"ticket_id, issued_at"):
        detect_kind([s.OFFICE_ID, s.CHANNEL], "x.csv")


def test_missing_required_column_refuses_the_file_naming_both(tmp_path: Path) -> None:
    path = write_table(ticket_log().drop(columns=[s.CHANNEL]), tmp_path / "no-channel.csv")
    with pytest.raises(MissingColumnError, match=r"no-channel\.csv.*channel"):
        read_inputs([path])


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"\n\n  \n", "empty"),
        (
            "gbk.csv",
            "office_id,observed_at,wait_minutes\n西湖,2023-06-12 09:00:00,5\n".encode("gbk"),
            "not UTF-8.*line 2",
        ),
        ("sheet.csv", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(200), "not a CSV or Parquet"),
        ("fake.parquet", b"PAR1 this is not parquet", "not a readable Parquet"),
        (
            "ragged.csv",
            b"office_id,observed_at,wait_minutes\nhz-city,2023-06-12 09:00:00,1\n"
            b"hz-city,2023-06-12 09:00:00\n",
            "not a readable CSV file .line 3 has 2 fields, the header 3",
        ),
        ("broken.csv.gz", b"\x1f\x8b\x08\x00garbage", "not a valid gzip"),
    ],
)
def test_unreadable_files_name_the_file_and_the_problem(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=re.escape(name) + ": .*" + message):
        read_inputs([path])


def test_a_broken_row_is_located_without_quoting_it(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text(
        "office_id,observed_at,wait_minutes,name\n"
        'hz-city,2023-06-12 09:00:00,5,"Li, Secret"\n'
        "hz-city,2023-06-12 09:15:00,4,Zhang Secret,extra\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="line 3 has 5 fields, the header 4") as refused:
        read_file(path)
    assert "Secret" not in str(refused.value)


def test_gzip_is_told_by_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / "compressed.csv"
    path.write_bytes(
        gzip.compress(b"office_id,observed_at,wait_minutes\nhz-city,2023-06-12 09:00:00,5\n")
    )
    assert read_file(path)[0] is s.InputKind.OBSERVATIONS


def test_missing_paths_and_empty_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.csv: no such file"):
        input_files([tmp_path / "nope.csv"])
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match=r"docs: the folder holds no"):
        input_files([tmp_path / "docs"])
    with pytest.raises(InputError, match="no input files"):
        input_files([])
