"""Validation against the data contract: every row accepted or rejected once, with a reason."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features import schema as s
from features.errors import (
    InputError,
    MissingColumnError,
    ParameterError,
    TooManyRejectsError,
    UnusableInputError,
)
from features.offices import OfficeRegistry, load_offices
from features.read import read_inputs
from features.reasons import PRIORITY, REASON_TEXT, Reason
from features.validate import (
    ValidationResult,
    check_usable,
    validate,
    validate_observations,
    validate_tickets,
)
from tests.factories import (
    PERSONAL_COLUMNS,
    observations,
    observations_with_every_reason,
    ticket_log,
    tickets_with_every_reason,
    with_personal_data,
    write_table,
)

MARYLAND = "maryland-mva-2017.csv.gz"


@pytest.fixture(scope="module")
def offices() -> OfficeRegistry:
    return load_offices()


def one_ticket(**changes: str) -> pd.DataFrame:
    row = {
        s.OFFICE_ID: "hz-city",
        s.TICKET_ID: "A001",
        s.CHANNEL: "walk_in",
        s.ISSUED_AT: "2023-06-12 09:00:00",
        s.CALLED_AT: "2023-06-12 09:20:00",
        s.FINISHED_AT: "2023-06-12 09:30:00",
    }
    return pd.DataFrame([{**row, **changes}])


def reasons_by_row(result: ValidationResult) -> list[str]:
    """Each input row's reason ("" when accepted), in input order."""
    reasons = [""] * result.rows_in
    for row, reason in zip(
        result.rejected[s.SOURCE_ROW], result.rejected[s.REJECT_REASON], strict=True
    ):
        reasons[int(row) - 1] = reason
    return reasons


def test_every_ticket_reason_is_found_and_every_row_counted(offices: OfficeRegistry) -> None:
    frame, expected = tickets_with_every_reason()
    result = validate_tickets(frame, offices)
    assert result.rows_in == len(frame) == len(result.accepted) + len(result.rejected)
    assert reasons_by_row(result) == expected
    assert result.counts_by_reason == {
        code: n for code, n in Counter(r for r in expected if r).items()
    }
    ticket_reasons = set(PRIORITY) - {Reason.BAD_NUMBER, Reason.NEGATIVE_WAIT}
    assert set(result.counts_by_reason) == {r.value for r in ticket_reasons}


def test_every_observation_reason_is_found_and_every_row_counted(offices: OfficeRegistry) -> None:
    frame, expected = observations_with_every_reason()
    result = validate_observations(frame, offices)
    assert result.rows_in == len(result.accepted) + len(result.rejected)
    assert reasons_by_row(result) == expected
    assert list(result.counts_by_reason) == [
        "missing_value",
        "unknown_channel",
        "unparsable_time",
        "bad_number",
        "negative_wait",
    ]


def test_every_reason_has_a_text() -> None:
    assert set(REASON_TEXT) == set(Reason)


def test_rejected_rows_keep_raw_values_and_their_source(offices: OfficeRegistry) -> None:
    frame = pd.concat([one_ticket(), one_ticket(ticket_id="A002", channel=" Online ")])
    frame[s.SOURCE_FILE] = "log.csv"
    frame[s.SOURCE_ROW] = [7, 8]
    result = validate_tickets(frame, offices)
    [rejected] = result.rejected.to_dict("records")
    assert rejected[s.CHANNEL] == " Online "
    assert rejected[s.ISSUED_AT] == "2023-06-12 09:00:00"
    assert (rejected[s.SOURCE_FILE], rejected[s.SOURCE_ROW]) == ("log.csv", 8)
    assert rejected[s.REJECT_REASON] == "unknown_channel"
    assert list(result.rejected.columns) == [
        *one_ticket().columns,
        "source_file",
        "source_row",
        "reason",
    ]


def test_a_row_breaking_several_rules_gets_the_first_reason(offices: OfficeRegistry) -> None:
    frame = pd.concat(
        [
            one_ticket(office_id="", channel="online", issued_at="soon"),
            one_ticket(channel="online", issued_at="soon"),
            one_ticket(issued_at="soon", called_at="2023-06-11 09:00:00"),
            one_ticket(called_at="2023-06-12 08:00:00", finished_at="2023-06-12 07:00:00"),
        ]
    )
    assert reasons_by_row(validate_tickets(frame, offices)) == [
        "missing_value",
        "unknown_channel",
        "unparsable_time",
        "called_before_issued",
    ]


def test_duplicates_keep_the_first_usable_copy(offices: OfficeRegistry) -> None:
    frame = pd.concat(
        [
            one_ticket(called_at="2023-06-12 08:00:00"),  # broken: the next copy is kept
            one_ticket(),
            one_ticket(),  # duplicate
            one_ticket(office_id="hz-xihu"),  # another office
            one_ticket(issued_at="2023-06-13 09:00:00", called_at="", finished_at=""),  # next day
        ]
    )
    result = validate_tickets(frame, offices)
    assert reasons_by_row(result) == ["called_before_issued", "", "duplicate_ticket_id", "", ""]


@pytest.mark.parametrize(
    ("written", "office", "local"),
    [
        ("2023-06-12T01:00:00+00:00", "hz-city", "2023-06-12 09:00:00"),
        ("2023-06-12 01:00:00Z", "hz-city", "2023-06-12 09:00:00"),
        ("2023-06-12T09:00:00+0800", "hz-city", "2023-06-12 09:00:00"),
        ("2023-06-12 01:00:00+00:00", "somewhere-new", "2023-06-12 09:00:00"),
        ("2023-06-12 14:00:00+00:00", "us-office", "2023-06-12 10:00:00"),
        ("2023-06-12T09:00:00", "hz-city", "2023-06-12 09:00:00"),
        ("2023-06-12 09:00", "hz-city", "2023-06-12 09:00:00"),
        ("2023-06-12 09:00:00.250", "hz-city", "2023-06-12 09:00:00.250"),
    ],
)
def test_times_become_naive_local_time(written: str, office: str, local: str) -> None:
    registry = load_offices()
    us = registry.get("hz-city").model_copy(
        update={"id": "us-office", "timezone": "America/New_York"}
    )
    registry = registry.merged([us])
    frame = pd.DataFrame({s.OFFICE_ID: [office], s.OBSERVED_AT: [written], s.WAIT_MINUTES: ["5"]})
    result = validate_observations(frame, registry)
    assert result.accepted[s.OBSERVED_AT].dtype == "datetime64[ns]"
    assert result.accepted[s.OBSERVED_AT].iloc[0] == pd.Timestamp(local)


def test_an_unknown_time_zone_in_the_registry_is_an_input_error() -> None:
    registry = load_offices()
    mars = registry.get("hz-city").model_copy(update={"id": "mars", "timezone": "Mars/Base"})
    frame = pd.DataFrame(
        {s.OFFICE_ID: ["mars"], s.OBSERVED_AT: ["2023-06-12 01:00:00Z"], s.WAIT_MINUTES: ["5"]}
    )
    with pytest.raises(InputError, match="Mars/Base"):
        validate_observations(frame, registry.merged([mars]))


@pytest.mark.parametrize(
    "written",
    [
        "2023/06/12 09:00:00",
        "2023-06-12",
        "12.06.2023 09:00",
        "2023-06-12 25:00:00",
        "9999-01-01 00:00:00",  # beyond datetime64[ns]
        "2300-01-01T00:00:00+08:00",
        "x",
    ],
)
def test_other_time_forms_are_unparsable(offices: OfficeRegistry, written: str) -> None:
    result = validate_tickets(one_ticket(issued_at=written), offices)
    assert result.counts_by_reason == {"unparsable_time": 1}


def test_accepted_tickets_are_normalised(offices: OfficeRegistry) -> None:
    frame = ticket_log(seed=3)
    frame.loc[0, s.CHANNEL] = " Walk_In "
    frame.loc[1, s.SERVICE] = ""
    result = validate_tickets(frame, offices)
    accepted = result.accepted
    assert result.rejected.empty and len(accepted) == len(frame)
    for column in s.TICKET_TIME_COLUMNS:
        assert accepted[column].dtype == "datetime64[ns]"
    assert accepted.loc[0, s.CHANNEL] == "walk_in"
    assert accepted.loc[1, s.SERVICE] == s.DEFAULT_SERVICE
    never_called = frame[s.CALLED_AT] == ""
    assert accepted.loc[never_called.to_numpy(), s.CALLED_AT].isna().all()


def test_accepted_observations_are_normalised(offices: OfficeRegistry) -> None:
    frame = observations(days=1).drop(columns=[s.CHANNEL, s.WINDOWS_OPEN])
    frame.loc[0, s.SERVICE] = ""
    result = validate_observations(frame, offices)
    accepted = result.accepted
    assert result.rejected.empty
    assert accepted[s.CHANNEL].eq("walk_in").all()
    assert accepted.loc[0, s.SERVICE] == s.DEFAULT_SERVICE
    assert accepted[s.WAIT_MINUTES].dtype == "float64"
    empty_wait = (frame[s.WAIT_MINUTES] == "").to_numpy()
    assert empty_wait.any() and accepted.loc[empty_wait, s.WAIT_MINUTES].isna().all()
    assert accepted[s.WINDOWS_OPEN].isna().all()
    assert accepted[s.QUEUE_LENGTH].tolist() == frame[s.QUEUE_LENGTH].astype(float).tolist()


def test_missing_required_column_refuses_the_frame(offices: OfficeRegistry) -> None:
    frame = one_ticket().drop(columns=[s.ISSUED_AT]).assign(source_file="day1.csv")
    with pytest.raises(MissingColumnError, match=r"day1\.csv.*issued_at"):
        validate_tickets(frame, offices)
    with pytest.raises(MissingColumnError, match="wait_minutes"):
        validate_observations(observations().drop(columns=[s.WAIT_MINUTES]), offices)


def test_personal_data_reaches_neither_accepted_nor_rejected(
    tmp_path: Path, offices: OfficeRegistry
) -> None:
    frame, _ = tickets_with_every_reason(seed=4)
    leaky = with_personal_data(frame, seed=4)
    [raw] = read_inputs([write_table(leaky, tmp_path / "export.csv")])
    result = validate(raw, offices)
    assert len(result.rejected) > 0
    secrets = set(leaky[list(PERSONAL_COLUMNS)].to_numpy().ravel())
    for part in (result.accepted, result.rejected):
        assert not set(PERSONAL_COLUMNS) & set(part.columns)
        assert not secrets & set(part.astype(str).to_numpy().ravel())


def test_parquet_with_fractional_and_aware_times_validates(
    tmp_path: Path, offices: OfficeRegistry
) -> None:
    aware = pd.to_datetime(["2023-06-12 01:00:00.5", "2023-06-12 02:00:00"], format="ISO8601")
    pd.DataFrame(
        {
            s.OFFICE_ID: ["hz-city"] * 2,
            s.OBSERVED_AT: aware.tz_localize("UTC"),
            s.WAIT_MINUTES: [1.0, 2.0],
        }
    ).to_parquet(tmp_path / "aware.parquet")
    [raw] = read_inputs([tmp_path / "aware.parquet"])
    result = validate(raw, offices)
    assert result.accepted[s.OBSERVED_AT].tolist() == [
        pd.Timestamp("2023-06-12 09:00:00.5"),
        pd.Timestamp("2023-06-12 10:00:00"),
    ]


def test_check_usable_refuses_too_many_rejects_and_says_what_is_wrong(
    offices: OfficeRegistry,
) -> None:
    frame, _ = tickets_with_every_reason()  # 11 broken rows of 131
    result = validate_tickets(frame, offices)
    with pytest.raises(TooManyRejectsError) as refused:
        check_usable(result)
    message = str(refused.value)
    for part in ("8.40%", "5.00%", "unparsable_time 3"):
        assert part in message
    assert "--" not in message  # how to override is the command line's to say
    check_usable(result, max_reject_share=0.10)
    with pytest.raises(ParameterError) as bad_limit:
        check_usable(result, max_reject_share=1.5)
    assert bad_limit.value.parameter == "max_reject_share"


def test_check_usable_refuses_no_rows(offices: OfficeRegistry) -> None:
    with pytest.raises(UnusableInputError, match="no data rows"):
        check_usable(validate_tickets(one_ticket().iloc[:0], offices), max_reject_share=1.0)
    everything_bad = validate_tickets(one_ticket(channel="fax"), offices)
    with pytest.raises(UnusableInputError, match=r"no usable rows.*unknown_channel 1"):
        check_usable(everything_bad, max_reject_share=1.0)


ROW_CHOICES = {
    s.OFFICE_ID: st.sampled_from(["hz-city", "hz-xihu", "", "new-office"]),
    s.TICKET_ID: st.sampled_from(["A1", "A2", "A3", ""]),
    s.CHANNEL: st.sampled_from(["walk_in", "appointment", "Walk_In", "phone", ""]),
    s.ISSUED_AT: st.sampled_from(
        ["2023-06-12 09:00:00", "2023-06-12T10:00:00Z", "2023-06-13 09:30", "bad", ""]
    ),
    s.CALLED_AT: st.sampled_from(["", "2023-06-12 09:10:00", "2023-06-14 09:00:00", "?"]),
    s.FINISHED_AT: st.sampled_from(["", "2023-06-12 09:05:00", "2023-06-12 09:40:00"]),
    s.APPOINTMENT_AT: st.sampled_from(["", "2023-06-12 09:00:00"]),
    s.BOOKED_AT: st.sampled_from(["", "2023-06-01 12:00:00", "2023-06-20 12:00:00"]),
}
rows = st.fixed_dictionaries(ROW_CHOICES)


@settings(max_examples=60, deadline=None)
@given(st.lists(rows, max_size=25))
def test_any_mix_of_rows_is_split_exactly_once(mix: list[dict[str, str]]) -> None:
    frame = pd.DataFrame(mix, columns=list(ROW_CHOICES)) if mix else one_ticket().iloc[:0]
    result = validate_tickets(frame, load_offices())
    assert result.rows_in == len(frame) == len(result.accepted) + len(result.rejected)
    assert sum(result.counts_by_reason.values()) == len(result.rejected)
    assert set(result.rejected[s.REJECT_REASON]) <= {r.value for r in Reason}
    accepted = result.accepted
    assert not accepted[[s.OFFICE_ID, s.TICKET_ID, s.ISSUED_AT]].isna().any().any()
    key = [accepted[s.OFFICE_ID], accepted[s.ISSUED_AT].dt.date, accepted[s.TICKET_ID]]
    assert not pd.DataFrame(key).T.duplicated().any()
    assert not (accepted[s.CALLED_AT] < accepted[s.ISSUED_AT]).any()
    assert set(accepted[s.CHANNEL]) <= set(s.CHANNELS)


def test_maryland_real_file_reads_as_observations(
    tmp_path: Path, offices: OfficeRegistry, real_data: Callable[[str], Path]
) -> None:
    copy = Path(shutil.copy(real_data(MARYLAND), tmp_path / MARYLAND))
    [raw] = read_inputs([copy])
    assert raw.kind is s.InputKind.OBSERVATIONS
    result = validate(raw, offices)
    assert result.rows_in == 254_041 == len(result.accepted) + len(result.rejected)
    assert result.rejected_share <= 0.05
    check_usable(result)
    accepted = result.accepted
    assert accepted[s.OFFICE_ID].nunique() == 24
    assert accepted[s.SERVICE].nunique() == 9
    first, last = accepted[s.OBSERVED_AT].min(), accepted[s.OBSERVED_AT].max()
    assert first.date().isoformat() == "2017-11-09" and last.date().isoformat() == "2017-12-06"
    assert np.isfinite(accepted[s.WAIT_MINUTES]).mean() > 0.9
