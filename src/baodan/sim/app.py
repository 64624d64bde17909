"""The simulator's HTTP side: each platform under its gateway prefix (or one at the root), and the
inspection endpoints under /_sim for tests and scripts."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from baodan.channels.base import Incoming
from baodan.core.errors import BaoDanError
from baodan.sim.config import SessionConfig
from baodan.sim.simulation import Simulation
from baodan.sim.waybills import routes as carrier_routes

SESSION_FIELDS = {name: (int if f.type in ("int", int) else float)
                  for name, f in SessionConfig.__dataclass_fields__.items() if name not in ("platforms", "autostart")}


def create_app(sim: Simulation) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await sim.start()
        try:
            yield
        finally:
            await sim.stop()

    async def platform_call(request: Request) -> Response:
        found = _platform_of(sim, request.url.path)
        if found is None:
            return _json({"code": "sim.unknown_path", "message": f"no platform serves {request.url.path}",
                          "platforms": {c: sim.config.prefix(c) or "/" for c in sim.config.platforms}}, 404)
        channel, path = found
        incoming = Incoming(http_method=request.method, path=path, query=dict(request.query_params),
                            headers={k.lower(): v for k, v in request.headers.items()}, body=await request.body())
        status, body = sim.serve(channel, incoming)
        return Response(body, status, media_type="application/json;charset=UTF-8")

    async def status(request: Request) -> Response:
        return _json({"platforms": sim.store.status(), "pending_pushes": sim.pending_pushes,
                      "pushes_paused": sim.pushes.paused, "session": sim.session.status() if sim.session else None})

    async def list_orders(request: Request) -> Response:
        channel = _channel(sim, request)
        if request.query_params.get("view") == "status":  # every order's status only (large sessions)
            statuses = sim.store.statuses(channel)
            return _json({"platform": channel, "total": len(statuses), "statuses": statuses})
        limit = int(request.query_params.get("limit") or 1000)
        found = sim.store.orders(channel)
        return _json({"platform": channel, "total": len(found), "orders": found[-limit:] if limit else found})

    async def writebacks(request: Request) -> Response:
        channel = _channel(sim, request)
        return _json({"platform": channel, "writebacks": sim.store.writebacks(channel)})

    async def stock(request: Request) -> Response:
        channel = _channel(sim, request)
        return _json({"platform": channel, "mode": sim.adapters[channel].stock_mode,
                      "levels": sim.store.stock_levels(channel), "pushes": sim.store.stock_pushes(channel)})

    async def dropped(request: Request) -> Response:
        channel = _channel(sim, request)
        return _json({"platform": channel, "counts": sim.store.push_counts(channel),
                      "dropped": sim.store.dropped(channel)})

    async def start_session(request: Request) -> Response:
        raw = await request.body()
        try:
            body = orjson.loads(raw) if raw.strip() else {}
            overrides = {k: SESSION_FIELDS[k](v) for k, v in body.items() if k in SESSION_FIELDS}
            unknown = set(body) - set(SESSION_FIELDS) - {"platforms"}
            if unknown:
                raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
            if "platforms" in body:
                overrides["platforms"] = tuple(body["platforms"])
            session = sim.start_session(**overrides)
        except (ValueError, TypeError, AttributeError) as exc:
            return _json({"code": "sim.invalid_session", "message": str(exc)}, 422)
        except BaoDanError as exc:
            return _json(exc.as_dict(), exc.status)
        return _json(session.status(), 202)

    async def pause(request: Request) -> Response:
        sim.pushes.paused = True
        return _json({"pushes_paused": True})

    async def resume(request: Request) -> Response:
        sim.pushes.paused = False
        return _json({"pushes_paused": False})

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
    routes = [
        *carrier_routes(sim),  # the e-waybill services, before the platforms' catch-all
        Route("/_sim/status", status, methods=["GET"]),
        Route("/_sim/orders", list_orders, methods=["GET"]),
        Route("/_sim/writebacks", writebacks, methods=["GET"]),
        Route("/_sim/stock", stock, methods=["GET"]),
        Route("/_sim/pushes", dropped, methods=["GET"]),
        Route("/_sim/session", start_session, methods=["POST"]),
        Route("/_sim/pushes/pause", pause, methods=["POST"]),
        Route("/_sim/pushes/resume", resume, methods=["POST"]),
        Route("/{path:path}", platform_call, methods=methods),
    ]
    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BaoDanError)
        return _json(exc.as_dict(), exc.status)

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={BaoDanError: refused})
    app.state.sim = sim
    return app


def _platform_of(sim: Simulation, path: str) -> tuple[str, str] | None:
    """(channel, the platform's own path) for a request path: /douyin/order/searchList → douyin, /order/…"""
    if sim.config.root_platform:
        return sim.config.root_platform, path or "/"
    head, _, rest = path.lstrip("/").partition("/")
    if head in sim.config.platforms:
        return head, "/" + rest
    return None


class _UnknownPlatform(BaoDanError):
    code = "sim.unknown_platform"
    status = 404


def _channel(sim: Simulation, request: Request) -> str:
    channel = request.query_params.get("platform")
    if channel is None and len(sim.config.platforms) == 1:
        return next(iter(sim.config.platforms))
    if channel not in sim.config.platforms:
        raise _UnknownPlatform(f"platform= must be one of {', '.join(sim.config.platforms)}")
    return channel


def _json(value: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(value, default=_plain), status, media_type="application/json")


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)
