"""A live session: new orders at a steady rate, most on a few hot SKUs, some first unpaid, and follow-ups
(cancellations, refunds, address changes) a few seconds later; some pushes delivered twice, some held back
so an older state arrives after a newer one. The same seed draws the same session."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from baodan.core import clock
from baodan.sim import orders
from baodan.sim.config import SessionConfig

if TYPE_CHECKING:
    from baodan.sim.simulation import Simulation

log = logging.getLogger("baodan.sim.session")
Change = Callable[[dict[str, Any], datetime], str | None]


class LiveSession:
    def __init__(self, sim: Simulation, settings: SessionConfig, platforms: tuple[str, ...]) -> None:
        self.sim = sim
        self.settings = settings
        self.platforms = platforms
        self.emitted = 0
        self.started_at: datetime | None = None
        self.finished_at: datetime | None = None
        self._rng = random.Random(settings.seed)
        self._timers: set[asyncio.TimerHandle] = set()
        self._follow_ups_done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="sim-session")
        self._task.add_done_callback(_log_failure)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def wait(self) -> None:
        if self._task is not None:
            await asyncio.shield(self._task)

    def cancel(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if self._task is not None:
            self._task.cancel()

    def status(self) -> dict[str, Any]:
        return {"running": self.running, "emitted": self.emitted, "orders": self.settings.orders,
                "follow_ups_pending": len(self._timers), "platforms": list(self.platforms),
                "started_at": self.started_at, "finished_at": self.finished_at,
                "settings": {k: v for k, v in asdict(self.settings).items() if k != "autostart"}}

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self.started_at = clock.utcnow()
        start = loop.time()
        for i in range(self.settings.orders):
            wait = start + i / self.settings.rate - loop.time()
            if wait > 0.001:
                await asyncio.sleep(wait)
            elif i % 100 == 0:
                await asyncio.sleep(0)  # behind schedule: still let requests in
            self._new_order()
            self.emitted += 1
        if self._timers:
            self._follow_ups_done.clear()
            await self._follow_ups_done.wait()
        self.finished_at = clock.utcnow()

    def _new_order(self) -> None:
        s, rng = self.settings, self._rng
        channel = rng.choice(self.platforms)
        unpaid_first = channel in orders.SHOWS_UNPAID and rng.random() < s.unpaid_first_ratio
        order = self.sim.draw_order(rng, channel, paid=not unpaid_first, settings=s)
        platform_order_id = order["platform_order_id"]
        duplicate = rng.random() < s.duplicate_ratio
        out_of_order = rng.random() < s.out_of_order_ratio
        draw = rng.random()
        follow_delay = rng.uniform(s.follow_up_min_s, max(s.follow_up_max_s, s.follow_up_min_s))
        follow: Change | None = None
        if draw < s.cancel_ratio:
            follow = orders.cancel
        elif draw < s.cancel_ratio + s.refund_ratio:
            follow = orders.refund
        elif draw < s.cancel_ratio + s.refund_ratio + s.address_change_ratio or out_of_order:
            follow = orders.change_address(rng)
        pay_delay = 0.3 * follow_delay if unpaid_first else 0.0
        if out_of_order:  # the follow-up (newer) is delivered before the held-back first push (older)
            pay_delay = min(pay_delay, s.out_of_order_delay_s * 0.2)
            follow_delay = s.out_of_order_delay_s * 0.3
        self.sim.add_order(order, kind="created" if unpaid_first else "paid",
                           delay_s=s.out_of_order_delay_s if out_of_order else 0.0, duplicate=duplicate)
        if unpaid_first:
            self._later(pay_delay, channel, platform_order_id, orders.pay)
        if follow is not None:
            self._later(pay_delay + follow_delay, channel, platform_order_id, follow)

    def _later(self, delay_s: float, channel: str, platform_order_id: str, change: Change) -> None:
        def fire() -> None:
            self._timers.discard(timer)
            self.sim.change(channel, platform_order_id, change)
            if not self._timers:
                self._follow_ups_done.set()

        timer = asyncio.get_running_loop().call_later(delay_s, fire)
        self._timers.add(timer)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the live session stopped", exc_info=task.exception())
