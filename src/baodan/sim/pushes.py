"""Push delivery, as the platforms do it: POST each signed push to BaoDan's webhook and retry a failed one
with doubling waits for a bounded time; after that it is dropped and recorded as undelivered (BaoDan's
incremental pull must then find the order). Pausing makes every delivery fail, as if BaoDan were down."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime

import httpx

from baodan.channels.base import SignedRequest
from baodan.core import clock
from baodan.sim.config import PushConfig
from baodan.sim.store import DroppedPush, SimStore

log = logging.getLogger("baodan.sim.pushes")


@dataclass
class Push:
    channel: str
    platform_order_id: str
    kind: str
    request: SignedRequest
    batched: tuple[tuple[str, str], ...] = ()  # the other (order id, kind) notices this push carries
    duplicate: bool = False
    attempts: int = 0
    first_attempt: float | None = None  # monotonic
    first_attempt_at: datetime | None = None
    last_error: str = ""


class PushSender:
    def __init__(self, config: PushConfig, store: SimStore) -> None:
        self._config = config
        self._store = store
        self._queue: asyncio.Queue[Push] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._client: httpx.AsyncClient | None = None
        self._in_flight = 0
        self.paused = False

    async def start(self) -> None:
        limits = httpx.Limits(max_connections=self._config.concurrency,
                              max_keepalive_connections=self._config.concurrency)
        self._client = httpx.AsyncClient(timeout=self._config.timeout_s, limits=limits)
        self._workers = [asyncio.create_task(self._work(), name=f"sim-push-{i}")
                         for i in range(self._config.concurrency)]

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    def submit(self, push: Push, *, delay_s: float = 0.0) -> None:
        """Deliver `push` now or after `delay_s` (must be called on the server's event loop)."""
        if delay_s <= 0:
            self._queue.put_nowait(push)
            return

        def fire() -> None:
            self._timers.discard(timer)
            self._queue.put_nowait(push)

        timer = asyncio.get_running_loop().call_later(delay_s, fire)
        self._timers.add(timer)

    @property
    def pending(self) -> int:
        """Pushes waiting, retrying or being delivered."""
        return self._queue.qsize() + len(self._timers) + self._in_flight

    async def _work(self) -> None:
        while True:
            push = await self._queue.get()
            self._in_flight += 1
            try:
                await self._attempt(push)
            except Exception:  # a sender bug must not stop delivery of the rest
                log.exception("push to %s failed unexpectedly", push.request.url)
            finally:
                self._in_flight -= 1

    async def _attempt(self, push: Push) -> None:
        now = time.monotonic()
        if push.first_attempt is None:
            push.first_attempt, push.first_attempt_at = now, clock.utcnow()
        push.attempts += 1
        error = "paused (BaoDan taken as down)" if self.paused else await self._deliver(push.request)
        if error is None:
            self._store.count_push(push.channel, "sent")
            if push.duplicate:
                self._store.count_push(push.channel, "duplicates")
            return
        push.last_error = error
        self._store.count_push(push.channel, "failed")
        wait = min(self._config.first_retry_s * 2 ** (push.attempts - 1), self._config.max_retry_s)
        if now - push.first_attempt + wait > self._config.retry_budget_s:
            for order_id, kind in ((push.platform_order_id, push.kind), *push.batched):
                self._store.drop_push(push.channel, DroppedPush(order_id, kind, push.attempts, error,
                                                                push.first_attempt_at or clock.utcnow()))
            log.info("%s push for order %s dropped after %d attempts: %s", push.channel, push.platform_order_id,
                     push.attempts, error)
            return
        self.submit(push, delay_s=wait)

    async def _deliver(self, request: SignedRequest) -> str | None:
        assert self._client is not None
        try:
            answer = await self._client.request(request.http_method, request.url, params=request.query or None,
                                                headers=request.headers, content=request.body)
        except httpx.HTTPError as exc:
            return f"{exc.__class__.__name__}: {exc}"
        if 200 <= answer.status_code < 300:
            return None
        return f"HTTP {answer.status_code}: {answer.text[:200]}"
