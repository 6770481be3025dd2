"""Request and response models of the HTTP API (pydantic v2), with OpenAPI examples."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from features.schema import Channel, OfficeMode


class ErrorBody(BaseModel):
    """Every error answer."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"error": "unknown_office", "message": "unknown office 'hz-x'"}]
        }
    )
    error: str = Field(description="A stable machine-readable code.")
    message: str = Field(description="What went wrong, naming the parameter when one is bad.")


class SessionOut(BaseModel):
    """One opening session, local time."""

    open: str = Field(examples=["09:00"])
    close: str = Field(examples=["12:00"])


class OfficeOut(BaseModel):
    """One office as the API lists it."""

    office_id: str = Field(examples=["hz-city"])
    id: str = Field(
        examples=["hz-city"],
        deprecated=True,
        description="Deprecated: the same as `office_id`, kept until /v2.",
    )
    name_zh: str = Field(examples=["杭州市公安局出入境接待大厅"])
    name_en: str = Field(examples=["Hangzhou City Exit-Entry Hall"])
    district_zh: str = ""
    district_en: str = ""
    mode: OfficeMode = Field(
        description="`dual_track` (walk-in and appointment) or `walk_in_only`."
    )
    channels: list[Channel]
    timezone: str = Field(examples=["Asia/Shanghai"])
    lat: float | None = None
    lon: float | None = None
    windows: int | None = Field(None, description="Service windows, when known.")
    sessions: dict[str, list[SessionOut]] = Field(
        description="Opening sessions per weekday (mon..sun); holidays close, make-up "
        "working days open like a Friday."
    )
    forecast_available: bool = Field(description="True when the loaded model forecasts it.")


class OfficesResponse(BaseModel):
    """The office list."""

    model_version: str | None = Field(description="The serving model, or null before one loads.")
    offices: list[OfficeOut]


class HourForecast(BaseModel):
    """The forecast for one open hour and channel."""

    hour: int = Field(ge=0, le=23, description="Local hour: the number is taken in [h:00, h+1:00).")
    channel: Channel
    service: str = Field(examples=["general"])
    p10: float | None = Field(description="Wait minutes, 10th percentile.", examples=[4.2])
    p50: float | None = Field(description="Wait minutes, median.", examples=[18.5])
    p90: float | None = Field(description="Wait minutes, 90th percentile.", examples=[47.0])
    expected_arrivals: float | None = Field(description="Tickets expected in the hour.")
    p_called: float | None = Field(
        description="Walk-in: chance of being called before closing; null for appointments."
    )
    cost_minutes: float | None = Field(
        description="What the hour costs a citizen, in minutes: the expected wait plus, for "
        "walk-ins, the chance of not being called times a second trip (120 min). "
        "The ranking measure of the advice and best times, and the page's colour "
        "(docs/advice.md).",
        examples=[24.3],
    )
    estimator: str = Field(
        description="What answered: `model`, `historical_mean` or "
        "`blend` (chosen per queue at training), or "
        "`historical_mean` when the live-accuracy monitor "
        "switched the queue (docs/operations.md).",
        examples=["model"],
    )
    estimator_reason: str | None = Field(
        None,
        description="Why the queue is served by "
        "the historical mean instead of the version's own "
        "choice; null when it is not.",
    )


class ForecastResponse(BaseModel):
    """One office's forecast for one date."""

    model_version: str = Field(examples=["v0003"])
    office_id: str = Field(examples=["hz-city"])
    office_name_zh: str
    office_name_en: str
    date: dt.date
    channel: Channel | None = Field(description="The channel filter, or null for all.")
    closed: bool = Field(description="True on a day the office does not open.")
    holiday_zh: str | None = Field(description="The holiday (or make-up day) name.")
    holiday_en: str | None
    makeup_day: bool = Field(description="A weekend day declared a working day (调休).")
    calendar_estimated: bool = Field(description="The holidays of this year are estimated.")
    hours: list[HourForecast]


class LiveInfo(BaseModel):
    """The queue state a live answer used."""

    observed_at: dt.datetime
    age_minutes: float
    windows_open: int
    service_minutes: float = Field(
        description="Minutes per ticket at a window, from the model's recent data."
    )


class NowChannel(BaseModel):
    """The wait of a number taken now, in one channel."""

    channel: Channel
    service: str | None = Field(None, description="Forecast only: the service queue.")
    people_ahead: int | None = Field(description="Live only: people called before you.")
    p10: float | None
    p50: float | None
    p90: float | None
    expected_arrivals: float | None = None
    p_called: float | None = None


class NowResponse(BaseModel):
    """The wait for a number taken now: live when fresh, else this hour's forecast."""

    office_id: str
    model_version: str
    source: Literal["live", "forecast"]
    as_of: dt.datetime = Field(description="Now, in the office's time zone.")
    closed: bool
    next_opening: dt.datetime | None = Field(description="When closed: the next opening.")
    live: LiveInfo | None
    channels: list[NowChannel]


class ReloadResponse(BaseModel):
    """A successful reload."""

    model_version: str
    previous_version: str | None
    load_seconds: float
    cube_build_seconds: float
    cube_days: int


class ReadyResponse(BaseModel):
    """Readiness when a model is loaded."""

    status: Literal["ready", "stale"]
    model_version: str
    data_end: dt.date
    stale: bool = Field(description="The model's data end more than the allowed days ago.")
    cube_start: dt.date
    cube_days: int


class LiveResponse(BaseModel):
    """Liveness."""

    status: Literal["alive"]
