"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import os

from fastapi import APIRouter, Response

from serving.deps import MetricsDep, StateDep
from serving.metrics import CONTENT_TYPE
from serving.schemas import ErrorBody, LiveResponse, ReadyResponse

router = APIRouter(tags=["health"])
WORKER_HEADER = "X-Worker"


@router.get("/health/live", response_model=LiveResponse, summary="Liveness")
async def live() -> LiveResponse:
    """The process answers."""
    return LiveResponse(status="alive")


@router.get(
    "/health/ready",
    response_model=ReadyResponse,
    responses={503: {"model": ErrorBody, "description": "No model is loaded yet."}},
    summary="Readiness",
    description="503 until a model is loaded. A model whose data end more than "
                "`WAITCAST_STALE_AFTER_DAYS` before today is still ready but `stale`. "
                "`X-Worker` names the worker process that answered (`waitcast serve "
                "--workers N`).",
)
async def ready(state: StateDep, response: Response) -> ReadyResponse:
    """Ready when a model is loaded; says which version answers and whether it is stale."""
    response.headers[WORKER_HEADER] = str(os.getpid())
    model = state.require_model()
    stale = state.is_stale(model)
    return ReadyResponse(status="stale" if stale else "ready", model_version=model.version,
                         data_end=model.data_end, stale=stale, cube_start=model.cube.start,
                         cube_days=model.cube.days)


@router.get("/metrics", response_class=Response, summary="Prometheus metrics",
            responses={200: {"content": {"text/plain": {}}}})
def metrics(registry: MetricsDep) -> Response:
    """Request counts and latencies per route, model version, cube build time, staleness."""
    return Response(registry.render(), media_type=CONTENT_TYPE)
