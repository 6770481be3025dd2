"""`POST /v1/admin/reload`: load the registry's current model without a restart."""

from __future__ import annotations

from fastapi import APIRouter

from serving.deps import AdminDep, StateDep
from serving.schemas import ErrorBody, ReloadResponse

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post(
    "/reload",
    response_model=ReloadResponse,
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        409: {"model": ErrorBody, "description": "A reload is already running."},
        503: {
            "model": ErrorBody,
            "description": "The version failed to load or verify; the old model keeps serving.",
        },
    },
    summary="Reload the current model (admin token)",
    description="Loads the registry's current version, verifies its checksums, builds its "
    "forecast cube, then swaps it in at once. On failure the old model keeps "
    "serving and the answer says why.",
)
def reload_model(state: StateDep, _admin: AdminDep) -> ReloadResponse:
    """Load, check and swap in the current version (CPU-bound: runs in the thread pool)."""
    previous = state.model.version if state.model else None
    loaded = state.load()
    return ReloadResponse(
        model_version=loaded.version,
        previous_version=previous,
        load_seconds=round(loaded.load_seconds, 3),
        cube_build_seconds=round(loaded.cube_seconds, 3),
        cube_days=loaded.cube.days,
    )
