"""`/docs`: Swagger UI served by the app itself, so the docs work with no internet (and from
mainland China, where the usual CDN is unreliable).

The assets come from the ``swagger-ui-py`` package (Swagger UI 5, which reads OpenAPI 3.1),
mounted under ``/static/swagger-ui``; nothing is loaded from elsewhere. ReDoc, which only
loads from a CDN, is not offered.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_DIR = Path(swagger_ui.__file__).parent / "static"
ASSETS_URL = "/static/swagger-ui"
DOCS_URL = "/docs"
REDIRECT_URL = "/docs/oauth2-redirect"


def install(app: FastAPI) -> None:
    """Serve the Swagger UI assets and ``/docs`` from the app (call before mounting /static)."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="swagger-ui")

    @app.get(DOCS_URL, include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API docs",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
            oauth2_redirect_url=REDIRECT_URL,
        )

    @app.get(REDIRECT_URL, include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
