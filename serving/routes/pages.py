"""`GET /`: the citizens' page, `serving/static/index.html`, when it is there."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from serving.errors import NotFoundError

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
router = APIRouter(include_in_schema=False)


@router.get("/")
async def index() -> FileResponse:
    """The page, or a JSON 404 while it does not exist."""
    page = STATIC_DIR / "index.html"
    if not page.is_file():
        raise NotFoundError("the web page is not installed")
    return FileResponse(page, media_type="text/html; charset=utf-8")
