"""The merchant console (frontend/, built into frontend/dist by `make setup`) served at `/`: hashed assets
cached for a year, and every other page path answered with index.html, whose router shows the page
(history-mode SPA). Paths the backend owns (API, events, webhooks, docs, metrics) keep their JSON 404."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from baodan.core.http import error_response

log = logging.getLogger("baodan.web")
DEFAULT_DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"  # a source checkout (make setup)
# Never answered with the console: these paths belong to the backend, and an unknown one stays a JSON 404.
BACKEND_PREFIXES = ("/api", "/events", "/webhooks", "/docs", "/redoc", "/openapi.json", "/healthz", "/metrics",
                    "/assets")
# Vite's build needs no inline script; Element Plus and ECharts set inline styles.
CONSOLE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
               "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
               "frame-ancestors 'none'")
ASSET_CACHE = "public, max-age=31536000, immutable"  # file names carry a content hash


class _Assets(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["cache-control"] = ASSET_CACHE
        return response


def install_console(app: FastAPI, dist: Path | None = None) -> bool:
    """Serve the built console at `/` when `dist` holds one (True); otherwise `/` redirects to the API
    docs and one line says why. Install after every router: it answers only what none of them does."""
    dist = dist or DEFAULT_DIST
    index = dist / "index.html"
    if not index.is_file():
        log.info("the web console is not built (no %s): / redirects to /docs; `make setup` builds it", index)

        @app.get("/", include_in_schema=False)
        def docs() -> RedirectResponse:
            return RedirectResponse("/docs")

        return False

    top_files = {p.name for p in dist.iterdir() if p.is_file() and p.name != "index.html"}

    def page() -> FileResponse:
        return FileResponse(index, media_type="text/html",
                            headers={"cache-control": "no-cache", "content-security-policy": CONSOLE_CSP})

    @app.get("/", include_in_schema=False)
    def console() -> FileResponse:
        return page()

    if (dist / "assets").is_dir():
        app.mount("/assets", _Assets(directory=dist / "assets"), name="console-assets")

    # An unmatched path: a console page for a GET outside the backend's prefixes, else the usual JSON 404.
    # (A 404 handler rather than a catch-all route, so other methods keep their 404 and 405 answers.)
    @app.exception_handler(404)
    async def _not_found(request: Request, exc: StarletteHTTPException) -> Response:
        path = request.url.path
        if request.method in ("GET", "HEAD") and not _is_backend(path):
            name = path.lstrip("/")
            if name in top_files:
                return FileResponse(dist / name, headers={"cache-control": "public, max-age=3600"})
            return page()
        return error_response(404, "request.not_found", str(exc.detail))

    return True


def _is_backend(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") or path.startswith(prefix + ".")
               for prefix in BACKEND_PREFIXES)
