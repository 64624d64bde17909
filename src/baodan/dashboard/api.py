"""HTTP of the dashboard (数字大屏): a snapshot under /api/v1 and the live stream at /events (Server-Sent
Events). Both need `dashboard.read` and add up only the caller's shops; EventSource cannot send headers,
so /events is signed in by the session cookie (or an API key, for scripts) like every other route."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from baodan.core.errors import Invalid
from baodan.core.http import MAX_ID, runtime_of
from baodan.dashboard.hub import ViewKey
from baodan.dashboard.schemas import Dashboard
from baodan.identity import accounts
from baodan.identity.accounts import Principal
from baodan.identity.http import SESSION_COOKIE, require

PERMISSION = "dashboard.read"
RETRY_MS = 3000  # the browser's wait before reconnecting a dropped stream
HEARTBEAT_S = 15.0  # a comment line at least this often keeps proxies from closing a quiet stream
REAUTH_S = 60.0  # an open stream re-checks its session (logout, revocation, role change) this often

router = APIRouter(tags=["dashboard"])  # under /api/v1
events_router = APIRouter()  # /events, beside /api/v1
Rt = Annotated[Any, Depends(runtime_of)]
READ = require(PERMISSION)
Reader = Annotated[Principal, Depends(READ)]


def view_key(me: Reader,
             live_session_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description=(
                 "a live session (default: the live session of your shops that started last, else the most "
                 "recent one, else today)"))] = None,
             today: Annotated[bool, Query(description="orders paid today (Asia/Shanghai) instead of a session")]
             = False,
             top: Annotated[int, Query(ge=1, le=50, description="hot SKUs listed")] = 10) -> ViewKey:
    if today and live_session_id is not None:
        raise Invalid("give live_session_id or today, not both", code="request.invalid")
    return ViewKey(live_session_id, today, me.shop_ids, top)


Key = Annotated[ViewKey, Depends(view_key)]


@router.get("/dashboard", dependencies=[Depends(READ)], response_model=Dashboard, responses={
    404: {"description": "no such live session in your shops (dashboard.unknown_session)"}})
def dashboard(rt: Rt, key: Key) -> Response:
    """The figures of a live session (or of today) within your shops: GMV and orders, per minute over the
    last hour, by channel and province, hot SKUs with what is still sellable, anomalies and shipping
    progress. The same JSON is the `dashboard` event of /events. Money in fen; times UTC (labels in
    Asia/Shanghai)."""
    payload, _ = rt.dashboard().snapshot(key)
    return Response(payload, media_type="application/json")


@events_router.get("/events", include_in_schema=False)
async def events(request: Request, rt: Rt, me: Reader, key: Key) -> Response:
    """Server-Sent Events: a `dashboard` event (the JSON of GET /api/v1/dashboard with the same query) at
    once and then every BAODAN_DASHBOARD_INTERVAL_S, comment lines as heartbeats, `retry:` for reconnects.
    One computation per view and process feeds every stream of it."""
    hub = rt.dashboard()
    first, version = await run_in_threadpool(hub.snapshot, key)  # a 404 (unknown session) before streaming
    loop = asyncio.get_running_loop()
    woken = asyncio.Event()

    def wake() -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: the stream is gone, unsubscribe follows
            loop.call_soon_threadsafe(woken.set)

    sub = hub.subscribe(key, wake)  # 503 over the cap, before the response starts

    async def stream() -> AsyncIterator[bytes]:
        sent, beat, checked = version, time.monotonic(), time.monotonic()
        try:
            yield f"retry: {RETRY_MS}\n\n".encode() + _event(first, version)
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), timeout=HEARTBEAT_S)
                woken.clear()
                now = time.monotonic()
                if now - checked >= REAUTH_S:
                    checked = now
                    if not await run_in_threadpool(_still_allowed, rt, request):
                        yield b'event: end\ndata: {"code": "auth.required", "message": "signed out"}\n\n'
                        return
                payload, current = hub.latest(key)
                if payload is not None and current != sent:
                    sent, beat = current, now
                    yield _event(payload, current)
                elif now - beat >= HEARTBEAT_S:
                    beat = now
                    yield b": keep-alive\n\n"
        finally:
            hub.unsubscribe(sub)

    return _Stream(stream(), on_close=lambda: hub.unsubscribe(sub))


class _Stream(StreamingResponse):
    """An event stream that gives its slot back however it ends (also when the client leaves before the
    first byte, when the generator never runs and so never reaches its `finally`)."""

    def __init__(self, content: AsyncIterator[bytes], *, on_close: Any) -> None:
        super().__init__(content, media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self.on_close = on_close

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.on_close()


def _event(payload: bytes, version: int) -> bytes:
    return b"id: %d\nevent: dashboard\ndata: %s\n\n" % (version, payload)


def _still_allowed(rt: Any, request: Request) -> bool:
    """Whether the stream's caller is still signed in and may still read the dashboard."""
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        principal = accounts.key_principal(rt.db, authorization[7:].strip())
    else:
        token = request.cookies.get(SESSION_COOKIE)
        principal = accounts.session_principal(rt.db, token, rt.role_book()) if token else None
    return principal is not None and principal.can(PERMISSION)
