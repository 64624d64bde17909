"""HTTP plumbing shared by every router: the one error handler, body size limit, runtime access."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from baodan.core.errors import BaoDanError

log = logging.getLogger("baodan.http")
MAX_ID = 2**63 - 1  # the largest id a BIGINT (and SQLite's INTEGER) holds
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]  # an id in a path: larger ones cannot exist
Cursor = Annotated[int | None, Query(ge=0, le=MAX_ID, description="the last id of the previous page")]


def error_response(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    headers = None
    if status in (429, 503) and isinstance(details, dict) and "retry_after_s" in details:
        headers = {"Retry-After": str(details["retry_after_s"])}
    return JSONResponse(status_code=status, content=orjson.loads(orjson.dumps(body, default=str)), headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BaoDanError)
    async def _baodan(_: Request, exc: BaoDanError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "request.malformed_json", "the body is not valid JSON",
                                  [{"loc": e.get("loc"), "msg": e.get("msg")} for e in errors[:5]])
        details = [{"loc": list(e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")} for e in errors[:50]]
        first = details[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "body"
        return error_response(422, "request.invalid", f"{where}: {first['msg']}"
                              + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""), details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "request.not_found", 405: "request.method_not_allowed", 400: "request.bad_request"}
        return error_response(exc.status_code, codes.get(exc.status_code, f"request.http_{exc.status_code}"),
                              str(exc.detail))

    @app.exception_handler(OverflowError)
    async def _too_large(_: Request, exc: OverflowError) -> JSONResponse:
        # a last line of defence: request models bound their numbers; one that slipped through to the
        # database driver is still the caller's bad input, not a server error
        log.warning("a number out of range reached the database: %s", exc)
        return error_response(422, "request.out_of_range", "a number in the request is out of range")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "internal", "internal error; it has been logged")


class BodySizeLimit:
    """Refuse bodies over `max_bytes` with 413 before the app sees them. A declared Content-Length is
    checked at once; a body streamed without one (chunked) is read here, up to the limit, and then
    handed to the app from memory, so the app never starts on a body it would have to abandon."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_bytes:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)  # the server delivers no more than declared
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to answer
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        response = error_response(413, "request.too_large", f"the body is larger than {self.max_bytes} bytes",
                                  {"limit": self.max_bytes})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(response.body)).encode())]})
        await send({"type": "http.response.body", "body": response.body})


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")


class SecurityHeaders:
    """Headers that keep browsers from sniffing, framing or leaking; API answers also forbid any content
    from loading (the docs page keeps its scripts)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = scope.get("path", "").startswith("/api/")
        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + SECURITY_HEADERS
                if is_api:
                    headers.append(API_CSP)
                if https:
                    headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def runtime_of(request: Request) -> Any:
    """The process's Runtime (database, inbox, shop directory), set by the app factory."""
    return request.app.state.runtime
