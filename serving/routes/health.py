"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response

from serving.deps import MetricsDep, StateDep
from serving.metrics import CONTENT_TYPE
from serving.schemas import ErrorBody, LiveResponse, ReadyResponse

router = APIRouter(tags=["health"])


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
    "`WAITCAST_STALE_AFTER_DAYS` before today is still ready but `stale`.",
)
async def ready(state: StateDep) -> ReadyResponse:
    """Ready when a model is loaded; says whether it is stale."""
    model = state.require_model()
    stale = state.is_stale(model)
    return ReadyResponse(
        status="stale" if stale else "ready",
        model_version=model.version,
        data_end=model.data_end,
        stale=stale,
        cube_start=model.cube.start,
        cube_days=model.cube.days,
    )


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    responses={200: {"content": {"text/plain": {}}}},
)
def metrics(registry: MetricsDep) -> Response:
    """Request counts and latencies per route, model version, cube build time, staleness."""
    return Response(registry.render(), media_type=CONTENT_TYPE)
