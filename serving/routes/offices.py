"""`GET /v1/offices` and `GET /v1/offices/{office_id}`.

Before a model loads the list comes from the built-in registry (every office with
``forecast_available: false``), so a page can show the offices while the server warms
up; afterwards it is the model's registry, registry offices first, then inferred ones.
"""

from __future__ import annotations

from fastapi import APIRouter

from features.offices import WEEKDAYS, Office
from serving.deps import StateDep
from serving.schemas import ErrorBody, OfficeOut, OfficesResponse, SessionOut

router = APIRouter(prefix="/v1", tags=["offices"])


def office_out(office: Office, forecast_available: bool) -> OfficeOut:
    """The API view of an office."""
    sessions = {
        day: [
            SessionOut(open=x.open.strftime("%H:%M"), close=x.close.strftime("%H:%M"))
            for x in office.sessions[day]
        ]
        for day in WEEKDAYS
    }
    return OfficeOut(
        office_id=office.id,
        id=office.id,
        name_zh=office.name_zh,
        name_en=office.name_en,
        district_zh=office.district_zh,
        district_en=office.district_en,
        mode=office.mode,
        channels=list(office.channels),
        timezone=office.timezone,
        lat=office.lat,
        lon=office.lon,
        windows=office.windows,
        sessions=sessions,
        forecast_available=forecast_available,
    )


@router.get(
    "/offices",
    response_model=OfficesResponse,
    summary="Every office",
    description="Names (zh, en), district, mode, opening sessions per weekday, "
    "time zone, location and windows of every office.",
)
def list_offices(state: StateDep) -> OfficesResponse:
    """The offices of the serving model (the built-in registry before one loads)."""
    model = state.model
    if model is None:
        offices = [office_out(o, False) for o in state.builtin_offices]
        return OfficesResponse(model_version=None, offices=offices)
    registry, forecast = model.forecaster.offices, model.cube.offices
    offices = [office_out(o, o.id in forecast) for o in registry]
    offices.sort(key=lambda o: registry.get(o.office_id).inferred)  # registry first (stable)
    return OfficesResponse(model_version=model.version, offices=offices)


@router.get(
    "/offices/{office_id}",
    response_model=OfficeOut,
    responses={404: {"model": ErrorBody}},
    summary="One office",
)
def get_office(office_id: str, state: StateDep) -> OfficeOut:
    """One office, as listed."""
    model = state.model
    office = state.office(office_id)
    return office_out(office, model is not None and office.id in model.cube.offices)
