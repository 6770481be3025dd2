"""A seeded corpus of broken inputs, each with what validation must say about it.

Every case is a set of files (name -> bytes) made here from the seeded factories, plus
what ``waitcast validate`` and ``waitcast train`` must answer: exact counts per input kind
for a usable input, or the fragment of the one-line error for an unusable one. Personal
data (realistic Chinese names and 18-digit resident ID numbers with valid check digits) is
planted in the cases that carry it, so the tests can search every output for it.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from features import schema as s
from tests.factories import TIME_FORMAT, observations, ticket_log

START = dt.date(2025, 3, 3)  # a Monday
DAYS = 42
OFFICES = ("hz-city",)  # dual-track: walk-in and appointment tickets
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚秀英建国华玲文婷"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_REGIONS = ("330102", "330105", "330106", "330108", "330110", "330183")


@dataclass(frozen=True)
class Counts:
    """What validation must count for one input kind."""

    rows_in: int
    rejected: dict[str, int] = field(default_factory=dict)

    @property
    def accepted(self) -> int:
        """Rows accepted: rows in less rows rejected."""
        return self.rows_in - sum(self.rejected.values())


@dataclass(frozen=True)
class Case:
    """One corpus entry: its files and the expected answers.

    Attributes:
        name: the case's id.
        files: file name (relative, may include a folder) -> bytes.
        counts: per input kind, for a usable input; empty when the input is refused.
        error: a fragment of the one-line error of an unusable input (None: usable).
        personal: personal values planted in the files (names, ID numbers).
    """

    name: str
    files: dict[str, bytes]
    counts: dict[str, Counts] = field(default_factory=dict)
    error: str | None = None
    personal: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        """True when validation accepts the input (and training can use it)."""
        return self.error is None

    def write(self, folder: Path) -> list[Path]:
        """Write the files under ``folder``; the paths to pass (files, or their folder)."""
        tops: dict[str, None] = {}
        for name, data in self.files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            tops[name.split("/")[0]] = None
        return [folder / top for top in tops]


# --- personal data ---------------------------------------------------------------------


def id_number(rng: np.random.Generator) -> str:
    """A realistic 18-digit resident ID number (Hangzhou region, ISO 7064 check digit)."""
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=int(rng.integers(0, 25_000)))
    body = f"{rng.choice(_REGIONS)}{birth:%Y%m%d}{int(rng.integers(0, 1000)):03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
    return body + check


def chinese_name(rng: np.random.Generator) -> str:
    """A realistic three-character Chinese name."""
    return rng.choice(list(SURNAMES)) + "".join(rng.choice(list(GIVEN), 2))


def with_personal_data(frame: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """``name`` first and ``id_number`` in the middle, as queue systems export them."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    names = [chinese_name(rng) for _ in range(len(out))]
    ids = [id_number(rng) for _ in range(len(out))]
    out.insert(0, "name", names)
    out.insert(len(out.columns) // 2, "id_number", ids)
    return out, tuple(sorted(set(names) | set(ids)))


# --- base data and edits ---------------------------------------------------------------


@cache
def base_tickets() -> pd.DataFrame:
    """A valid ticket log: 42 days, 40 tickets a day (text, as a CSV)."""
    return ticket_log(per_office_day=40, days=DAYS, offices=OFFICES, start=START, seed=11)


@cache
def base_observations() -> pd.DataFrame:
    """Valid wait observations: 42 days, every 15 minutes, 2 services."""
    return observations(days=DAYS, offices=OFFICES, start=START, seed=12)


def csv_bytes(frame: pd.DataFrame, encoding: str = "utf-8") -> bytes:
    """The frame as CSV text in ``encoding``."""
    return frame.to_csv(index=False).encode(encoding)


def _shift(text: str, **delta: float) -> str:
    return (pd.Timestamp(text) + pd.Timedelta(**delta)).strftime(TIME_FORMAT)


def _edited(frame: pd.DataFrame, rows: list[int], **columns: Callable[[pd.Series], str]) -> list:
    """Copies of ``rows`` with each column replaced by ``f(row)``."""
    out = []
    for position in rows:
        row = frame.iloc[position].copy()
        for column, make in columns.items():
            row[column] = make(row)
        out.append(row)
    return out


def _always(value: str) -> Callable[[pd.Series], str]:
    """A column maker giving ``value`` whatever the row."""
    return lambda r: value


def _walk_in_called(frame: pd.DataFrame, n: int, offset: int = 0) -> list[int]:
    called = (frame[s.CHANNEL] == "walk_in") & (frame[s.CALLED_AT] != "")
    return [int(i) for i in np.flatnonzero(called)[offset : offset + n]]


def broken_tickets(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Two broken rows per ticket reason, with fresh ticket ids; and the counts."""
    walk = _walk_in_called(frame, 20)
    booked = [int(i) for i in np.flatnonzero(frame[s.CHANNEL] == "appointment")[:2]]
    fresh = iter(f"BAD{k:03d}" for k in range(100))

    def new_id(_row: pd.Series) -> str:
        return next(fresh)

    rows = [
        *_edited(frame, walk[0:2], ticket_id=new_id, office_id=lambda r: " "),
        *_edited(frame, walk[2:4], ticket_id=new_id, channel=lambda r: "online"),
        *_edited(frame, walk[4:6], ticket_id=new_id, issued_at=lambda r: "2025-02-30 09:00:00"),
        *_edited(
            frame,
            booked,
            ticket_id=new_id,
            booked_at=lambda r: _shift(r[s.APPOINTMENT_AT], hours=2),
        ),
        *_edited(
            frame,
            walk[6:8],
            ticket_id=new_id,
            called_at=lambda r: _shift(r[s.ISSUED_AT], minutes=-10),
        ),
        *_edited(
            frame,
            walk[8:10],
            ticket_id=new_id,
            finished_at=lambda r: _shift(r[s.CALLED_AT], minutes=-1),
        ),
        *_edited(
            frame,
            walk[10:12],
            ticket_id=new_id,
            finished_at=lambda r: "",
            called_at=lambda r: _shift(r[s.ISSUED_AT], days=3),
        ),  # called 3 days later
        *_edited(frame, walk[12:14]),  # the same ticket again: a duplicate
    ]
    counts = {
        "missing_value": 2,
        "unknown_channel": 2,
        "unparsable_time": 2,
        "booked_after_appointment": 2,
        "called_before_issued": 2,
        "finished_before_called": 2,
        "wait_longer_than_day": 2,
        "duplicate_ticket_id": 2,
    }
    return pd.concat([frame, pd.DataFrame(rows)], ignore_index=True), counts


def broken_observations(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Broken rows for every observation reason, absurd waits among them; and the counts."""
    waits = {
        "-5": "negative_wait",
        "-0.5": "negative_wait",
        "1e9": "wait_longer_than_day",
        "100000": "wait_longer_than_day",
        "inf": "bad_number",
        "nan": "bad_number",
        "1e309": "bad_number",
        "about 20": "bad_number",
    }
    rows = [
        *_edited(frame, [0], office_id=lambda r: ""),
        *_edited(frame, [1], channel=lambda r: "drive_thru"),
        *_edited(frame, [2], observed_at=lambda r: "12/06/2025 10:00"),
        *_edited(frame, [3], queue_length=lambda r: "-1"),
        *_edited(frame, [4], windows_open=lambda r: "2.5"),
    ]
    for k, wait in enumerate(waits):
        rows.extend(_edited(frame, [10 + k], wait_minutes=_always(wait)))
    counts = {"missing_value": 1, "unknown_channel": 1, "unparsable_time": 1, "bad_number": 2}
    for reason in waits.values():
        counts[reason] = counts.get(reason, 0) + 1
    return pd.concat([frame, pd.DataFrame(rows)], ignore_index=True), counts


def with_offsets(frame: pd.DataFrame) -> pd.DataFrame:
    """Every time written with an explicit UTC offset: +08:00, Z or +00:00 by row."""
    out = frame.copy()
    style = np.arange(len(out)) % 3
    for column in s.TICKET_TIME_COLUMNS:
        local = pd.to_datetime(out[column].where(out[column] != ""), format=TIME_FORMAT)
        utc = local - pd.Timedelta(hours=8)
        text = np.select(
            [style == 0, style == 1],
            [local.dt.strftime("%Y-%m-%dT%H:%M:%S+08:00"), utc.dt.strftime("%Y-%m-%dT%H:%M:%SZ")],
            utc.dt.strftime("%Y-%m-%d %H:%M:%S+00:00"),
        )
        out[column] = np.where(local.isna(), "", text)
    return out


def _sorted_counts(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


# --- the corpus ------------------------------------------------------------------------


def corpus() -> list[Case]:
    """Every case, in a stable order."""
    tickets, obs = base_tickets(), base_observations()
    n_t = len(tickets)
    cases: list[Case] = []

    broken, reasons = broken_tickets(tickets)
    messy, personal = with_personal_data(broken, seed=1)
    cases.append(
        Case(
            "every_ticket_reason_with_personal_data",
            {"tickets.csv": csv_bytes(messy)},
            {"tickets": Counts(len(messy), reasons)},
            personal=personal,
        )
    )

    broken_obs, obs_reasons = broken_observations(obs)
    messy_obs, personal_obs = with_personal_data(broken_obs, seed=2)
    cases.append(
        Case(
            "every_observation_reason_and_absurd_waits",
            {"waits.csv": csv_bytes(messy_obs)},
            {"observations": Counts(len(messy_obs), _sorted_counts(obs_reasons))},
            personal=personal_obs,
        )
    )

    parquet, personal_pq = with_personal_data(tickets, seed=3)
    cases.append(
        Case(
            "personal_data_in_parquet",
            {"tickets.parquet": _parquet(parquet)},
            {"tickets": Counts(n_t)},
            personal=personal_pq,
        )
    )

    cases.append(
        Case(
            "utf8_with_bom",
            {"tickets.csv": b"\xef\xbb\xbf" + csv_bytes(tickets)},
            {"tickets": Counts(n_t)},
        )
    )
    cases.append(
        Case(
            "time_zone_offsets",
            {"tickets.csv": csv_bytes(with_offsets(tickets))},
            {"tickets": Counts(n_t)},
        )
    )

    day = tickets[tickets[s.ISSUED_AT].str.startswith(str(START + dt.timedelta(days=7)))]
    cases.append(
        Case(
            "a_day_of_duplicated_tickets",
            {
                "export/tickets.csv": csv_bytes(tickets),
                "export/tickets-reexport.csv": csv_bytes(day),
            },
            {"tickets": Counts(n_t + len(day), {"duplicate_ticket_id": len(day)})},
        )
    )

    late = _edited(
        tickets,
        _walk_in_called(tickets, 5),
        called_at=lambda r: _shift(r[s.ISSUED_AT], days=3),
        finished_at=lambda r: "",
    )
    before = _edited(
        tickets,
        _walk_in_called(tickets, 3, offset=5),
        called_at=lambda r: _shift(r[s.ISSUED_AT], minutes=-30),
    )
    absurd = tickets.copy()
    for row in [*late, *before]:  # the same tickets, absurd: they replace the good copies
        absurd.loc[row.name] = row
    cases.append(
        Case(
            "absurd_waits",
            {"tickets.csv": csv_bytes(absurd)},
            {"tickets": Counts(n_t, {"called_before_issued": 3, "wait_longer_than_day": 5})},
        )
    )

    too_many = tickets.head(1000).copy()
    too_many.loc[too_many.index[:75], s.CHANNEL] = "online"
    cases.append(
        Case(
            "too_many_rejects",
            {"tickets.csv": csv_bytes(too_many)},
            {"tickets": Counts(1000, {"unknown_channel": 75})},
            error="7.50% of 1,000 rows rejected, above the limit of 5.00%",
        )
    )

    cases.extend(_refused_files(tickets))
    return cases


def _parquet(frame: pd.DataFrame) -> bytes:
    import io

    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _refused_files(tickets: pd.DataFrame) -> list[Case]:
    """Inputs that cannot be read at all: the whole file is refused with one line."""
    rng = np.random.default_rng(7)
    sample = tickets.head(50)
    named, personal = with_personal_data(sample, seed=4)
    latin = sample.assign(name=["José Müller", "Zoë Brontë"] * 25)
    binary = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    assert b"\x00" in binary and not binary.startswith((b"\x1f\x8b", b"PAR1"))
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00"
        b"\x00\x1f\xf3\xffa" + zlib.compress(bytes(512))
    )
    records = json.dumps(named.to_dict("records"), ensure_ascii=False, indent=1).encode()
    comma = csv_bytes(named).decode().splitlines()
    comma[3] = comma[3].replace(named.iloc[2]["name"], named.iloc[2]["name"] + "," + "王小明", 1)
    no_channel = named.drop(columns=[s.CHANNEL])
    return [
        Case(
            "latin1_bytes",
            {"tickets.csv": csv_bytes(latin, "latin-1")},
            error="not UTF-8 text (byte 0xe9 on line 2)",
        ),
        Case(
            "gbk_bytes",
            {"tickets.csv": csv_bytes(named, "gbk")},
            error="not UTF-8 text",
            personal=personal,
        ),
        Case(
            "utf16_text",
            {"tickets.csv": csv_bytes(named, "utf-16")},
            error="binary content, or UTF-16 text",
            personal=personal,
        ),
        Case("zero_bytes", {"tickets.csv": b""}, error="the file is empty"),
        Case("blank_lines_only", {"tickets.csv": b"\n \r\n\n"}, error="the file is empty"),
        Case(
            "header_only",
            {"tickets.csv": csv_bytes(named.head(0))},
            error="tickets: the input has no data rows",
        ),
        Case("png_bytes", {"tickets.csv": png}, error="not a CSV or Parquet file"),
        Case("random_binary", {"tickets.csv": binary}, error="not a CSV or Parquet file"),
        Case(
            "json_records",
            {"tickets.csv": records},
            personal=personal,
            error="neither a ticket log nor wait observations",
        ),
        Case(
            "broken_gzip",
            {"tickets.csv.gz": gzip.compress(csv_bytes(named))[:-40]},
            error="not a valid gzip file",
            personal=personal,
        ),
        Case(
            "truncated_parquet",
            {"tickets.parquet": _parquet(named)[:300]},
            error="not a readable Parquet file",
            personal=personal,
        ),
        Case(
            "missing_required_column",
            {"tickets.csv": csv_bytes(no_channel)},
            error="missing the required column(s) channel",
            personal=personal,
        ),
        Case(
            "unquoted_comma_in_a_name",
            {"tickets.csv": "\n".join(comma).encode() + b"\n"},
            error="line 4 has 13 fields, the header 12",
            personal=(*personal, "王小明"),
        ),
    ]
