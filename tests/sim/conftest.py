"""Simulator fixtures: which adapters already fulfil contract v2, a simulator on a free port, and a push
receiver (a tiny ASGI app in a background thread) that keeps every request it gets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from baodan.channels.base import Incoming
from baodan.channels.registry import PLATFORMS
from baodan.sim import Simulator, load_config
from baodan.sim.config import SimConfig

# Every adapter fulfils contract v2 (tests/channels checks each one's members and parameters).
CONFORMING = list(PLATFORMS)
ID_BASE = 17_000_000_000_000


def each_platform() -> list[Any]:
    return list(PLATFORMS)


def sim_config(**session: Any) -> SimConfig:
    config = load_config(port=0)
    return replace(config, session=replace(config.session, **session))


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(sim_config(), id_base=ID_BASE) as sim:
        yield sim


class Receiver:
    """BaoDan's webhook end as far as the simulator can tell: answers 200 (or `status`) and keeps each request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, Incoming]] = []  # (channel, request)
        self.status = 200
        self._lock = threading.Lock()

        async def webhook(request: Request) -> Response:
            incoming = Incoming(request.method, request.url.path, dict(request.query_params),
                                {k.lower(): v for k, v in request.headers.items()}, await request.body())
            with self._lock:
                self.requests.append((request.path_params["platform"], incoming))
            return Response(b"{}", self.status, media_type="application/json")

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(Starlette(routes=[
            Route("/webhooks/{platform}", webhook, methods=["POST"])]), log_level="warning", access_log=False))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)

    def received(self) -> list[tuple[str, Incoming]]:
        with self._lock:
            return list(self.requests)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()
