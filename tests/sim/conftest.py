"""Simulator fixtures: a simulator on a free port, and a push receiver (a tiny ASGI app served in a
background thread by tests.helpers.serving) that keeps every request it gets."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from baodan.channels.base import Incoming
from baodan.sim import Simulator, load_config
from baodan.sim.config import SimConfig
from tests.helpers import serving

ID_BASE = 17_000_000_000_000


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
        self.url = ""  # set while it is served
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/webhooks/{platform}", self._webhook, methods=["POST"])])

    async def _webhook(self, request: Request) -> Response:
        incoming = Incoming(request.method, request.url.path, dict(request.query_params),
                            {k.lower(): v for k, v in request.headers.items()}, await request.body())
        with self._lock:
            self.requests.append((request.path_params["platform"], incoming))
        return Response(b"{}", self.status, media_type="application/json")

    def received(self) -> list[tuple[str, Incoming]]:
        with self._lock:
            return list(self.requests)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    with serving(r.app) as url:
        r.url = url
        yield r
