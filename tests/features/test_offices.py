"""The office registry: the built-in Hangzhou offices, registry files, and inferred offices."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from features import schema as s
from features.calendar_cn import default_calendar
from features.errors import InputError, UnknownOfficeError
from features.infer import infer_offices
from features.offices import load_offices, parse_registry

DUAL_TRACK = {
    "hz-city",
    "hz-shangcheng",
    "hz-xihu",
    "hz-gongshu",
    "hz-binjiang",
    "hz-xiaoshan",
    "hz-yuhang",
    "hz-westlake-scenic",
}
WALK_IN_ONLY = {
    "hz-qiantang",
    "hz-linping",
    "hz-fuyang",
    "hz-linan",
    "hz-tonglu",
    "hz-jiande",
    "hz-chunan",
}


def office_record(office_id: str = "x-one", **changes: object) -> dict[str, object]:
    record: dict[str, object] = {
        "id": office_id,
        "name_zh": "测试",
        "name_en": "Test",
        "mode": "walk_in_only",
        "sessions": {"mon": [["09:00", "12:00"], ["13:30", "17:00"]], "fri": [["09:00", "16:00"]]},
    }
    record.update(changes)
    return record


def test_built_in_registry_has_the_15_hangzhou_offices_with_their_modes() -> None:
    registry = load_offices()
    assert len(registry) == 15
    assert {o.id for o in registry if o.mode is s.OfficeMode.DUAL_TRACK} == DUAL_TRACK
    assert {o.id for o in registry if o.mode is s.OfficeMode.WALK_IN_ONLY} == WALK_IN_ONLY
    assert all(o.timezone == s.DEFAULT_TIMEZONE for o in registry)
    assert registry.get("hz-xihu").channels == (s.Channel.WALK_IN, s.Channel.APPOINTMENT)
    assert registry.get("hz-chunan").channels == (s.Channel.WALK_IN,)


def test_unknown_office_error_names_it() -> None:
    with pytest.raises(UnknownOfficeError, match="hz-nowhere"):
        load_offices().get("hz-nowhere")


def test_registry_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "offices.json"
    path.write_text(json.dumps({"offices": load_offices().to_records()}), encoding="utf-8")
    assert load_offices(path).to_records() == load_offices().to_records()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"offices": []}), "non-empty list"),
        (json.dumps([office_record(), office_record()]), "duplicate office id 'x-one'"),
        (json.dumps([office_record(mode="sometimes")]), "x-one: mode"),
        (
            json.dumps([office_record(sessions={"mon": [["12:00", "09:00"]]})]),
            "x-one: sessions",
        ),
        (
            json.dumps([office_record(sessions={"mon": [["09:00", "12:00"], ["11:00", "13:00"]]})]),
            "overlap",
        ),
        (json.dumps([office_record(sessions={"monday": []})]), "unknown weekday"),
    ],
)
def test_bad_registry_is_refused_naming_the_problem(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_registry(text, "offices.json")


def test_missing_registry_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_offices(tmp_path / "none.json")


def test_sessions_follow_the_calendar() -> None:
    office = parse_registry(json.dumps([office_record()])).get("x-one")
    calendar = default_calendar()
    monday = calendar.day(dt.date(2023, 6, 12))
    holiday = calendar.day(dt.date(2023, 6, 22))  # Dragon Boat Festival, a Thursday
    makeup = calendar.day(dt.date(2023, 6, 25))  # a Sunday worked instead
    assert [str(x.open) for x in office.sessions_for(monday)] == ["09:00:00", "13:30:00"]
    assert office.sessions_for(holiday) == ()
    assert office.sessions_for(makeup) == office.weekly_sessions(4)  # opens like a Friday
    assert office.open_hours(office.sessions_for(monday)) == [9, 10, 11, 13, 14, 15, 16]


def test_unknown_offices_are_inferred_from_activity() -> None:
    times = pd.to_datetime(
        [
            f"2023-06-{d:02d} {h:02d}:10:00"
            for d in (12, 13)
            for h in (9, 10, 11, 14)
            for _ in range(5)
        ]
    )
    activity = pd.DataFrame(
        {
            s.OFFICE_ID: ["new-office"] * len(times),
            s.CHANNEL: ["walk_in", "appointment"] * (len(times) // 2),
            "at": times,
        }
    )
    known_row = pd.DataFrame({s.OFFICE_ID: ["hz-city"], s.CHANNEL: ["walk_in"], "at": times[:1]})
    [office] = infer_offices(pd.concat([activity, known_row]), load_offices())
    assert office.id == "new-office" and office.inferred
    assert office.mode is s.OfficeMode.DUAL_TRACK
    sessions = [(str(x.open), str(x.close)) for x in office.weekly_sessions(0)]
    assert sessions == [("09:00:00", "12:00:00"), ("14:00:00", "15:00:00")]
    assert office.weekly_sessions(6) == ()
    assert "new-office" in load_offices().merged([office])


def test_an_hour_seen_once_on_a_weekday_is_open_when_it_is_the_office_s_usual_hour() -> None:
    """Three weeks with a holiday Thursday: Thursday's 8 o'clock was seen once, but the
    office opens at 8 on every other weekday, so Thursday opens at 8 too; a one-off 7
    o'clock post stays closed."""
    stamps = []
    for day in range(6, 25):  # 2017-11-06 (Mon) .. 2017-11-24
        date = dt.date(2017, 11, day)
        if date.weekday() >= 5 or date == dt.date(2017, 11, 23):
            continue
        first = 8 if not (date.weekday() == 3 and day < 16) else 9
        stamps += [f"2017-11-{day:02d} {h:02d}:05:00" for h in range(first, 17) for _ in range(20)]
    stamps.append("2017-11-14 07:55:00")
    times = pd.to_datetime(stamps)
    activity = pd.DataFrame(
        {s.OFFICE_ID: ["md-x"] * len(times), s.CHANNEL: ["walk_in"] * len(times), "at": times}
    )
    [office] = infer_offices(activity, load_offices())
    assert [(str(x.open), str(x.close)) for x in office.weekly_sessions(3)] == [
        ("08:00:00", "17:00:00")
    ]
    assert [(str(x.open), str(x.close)) for x in office.weekly_sessions(1)] == [
        ("08:00:00", "17:00:00")
    ]


def test_an_office_never_seen_in_its_region_s_summer_hours_keeps_them() -> None:
    """Posts move by an hour with daylight-saving time: in October every office posts from
    8 to 16 o'clock, from November from 8 to 15. An office whose data start in November
    keeps the region's 16 o'clock; one seen in October without it (a short-hours office)
    does not."""
    stamps: list[tuple[str, str]] = []
    for date in pd.bdate_range("2024-10-01", "2025-02-21"):
        last = 16 if date.month == 10 else 15
        for office in ("ca-a", "ca-b", "ca-c"):
            stamps += [(office, f"{date:%Y-%m-%d} {h:02d}:05") for h in range(8, last + 1)]
        stamps += [("ca-short", f"{date:%Y-%m-%d} {h:02d}:05") for h in range(8, 13)]
        if date.month != 10:
            stamps += [("ca-new", f"{date:%Y-%m-%d} {h:02d}:05") for h in range(8, last + 1)]
    offices, times = zip(*stamps, strict=True)
    activity = pd.DataFrame(
        {s.OFFICE_ID: offices, s.CHANNEL: "walk_in", s.ACTIVITY_AT: pd.to_datetime(times)}
    )
    inferred = {o.id: o for o in infer_offices(activity, load_offices())}
    hours = {name: o.open_hours(o.weekly_sessions(2)) for name, o in inferred.items()}
    assert hours["ca-new"] == list(range(8, 17))
    assert hours["ca-a"] == list(range(8, 17))  # its own October, within the last year
    assert hours["ca-short"] == list(range(8, 13))
    assert inferred["ca-new"].weekly_sessions(5) == ()
