"""One dashboard computation per process, shared by every screen watching the same view.

A view is (which orders: the latest live session, one session, or today) × (the caller's shops) × (how many
hot SKUs). Each view watched over /events is recomputed by one thread every `interval_s` and the result
handed to all its subscribers, so a hundred TVs cost what one does. GET /api/v1/dashboard answers from the
same cache (recomputing it when older than the interval).

A computation reads in parts. The window's older orders (paid before a boundary RECENT back) are summed
once and kept; each tick adds the slice that passed the boundary since, and sums the orders paid after it.
So a tick reads the last seconds' orders (at 10,000 orders a second: tens of thousands, not the session's
300,000). Every `head_ttl_s` everything is summed again, which is when later changes to older orders (a
cancellation, a parcel packed, an order delivered late by a platform) show.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from baodan.core import clock
from baodan.core.db import Database
from baodan.core.errors import BaoDanError
from baodan.dashboard import model, queries
from baodan.dashboard.model import Partial, Window
from baodan.identity.scope import Scope

log = logging.getLogger("baodan.dashboard")

RECENT = timedelta(seconds=20)  # orders paid this recently are summed every tick (late webhooks, state changes)
IDLE_EVICT_S = 300.0  # a view nobody asked for this long is forgotten


class TooManyStreams(BaoDanError):
    status = 503
    code = "dashboard.too_many_streams"


@dataclass(frozen=True, slots=True)
class ViewKey:
    live_session_id: int | None  # None: the latest session (or today when there is none)
    today: bool
    shop_ids: frozenset[int] | None  # the caller's scope (None: every shop)
    top: int

    @property
    def scope(self) -> Scope:
        return Scope(self.shop_ids, None)


@dataclass(eq=False)
class Subscription:
    key: ViewKey
    wake: Callable[[], None]  # called from the hub's thread after each computation


@dataclass(eq=False)
class _View:
    key: ViewKey
    lock: threading.Lock = field(default_factory=threading.Lock)
    window: Window | None = None
    head: Partial | None = None
    boundary: datetime | None = None
    head_at: float = 0.0
    payload: bytes | None = None
    version: int = 0
    computed_at: float = 0.0
    used_at: float = 0.0
    subscribers: set[Subscription] = field(default_factory=set)


class DashboardHub:
    def __init__(self, db: Database, *, interval_s: float = 2.0, max_streams: int = 200, head_ttl_s: float = 60.0,
                 stop: threading.Event | None = None) -> None:
        self.db = db
        self.interval_s = interval_s
        self.max_streams = max_streams
        self.head_ttl_s = head_ttl_s
        self._stop = stop or threading.Event()
        self._lock = threading.RLock()
        self._views: dict[ViewKey, _View] = {}
        self._streams = 0
        self._thread: threading.Thread | None = None
        self.last_ms: float = 0.0  # how long the last computation took

    # ------------------------------------------------------------------------------------------- readers

    def snapshot(self, key: ViewKey) -> tuple[bytes, int]:
        """The view's figures as JSON (and their version), at most `interval_s` old."""
        view = self._view(key)
        if view.payload is None or time.monotonic() - view.computed_at >= self.interval_s:
            self._refresh(view, force=False)
        assert view.payload is not None
        return view.payload, view.version

    def latest(self, key: ViewKey) -> tuple[bytes | None, int]:
        view = self._view(key)
        return view.payload, view.version

    def subscribe(self, key: ViewKey, wake: Callable[[], None]) -> Subscription:
        """Register a stream; refused with 503 once `max_streams` streams are open in this process."""
        with self._lock:
            if self._streams >= self.max_streams:
                raise TooManyStreams(f"this server already sends {self._streams} live dashboards; try again soon",
                                     details={"retry_after_s": 10, "max_streams": self.max_streams})
            self._streams += 1
            sub = Subscription(key, wake)
            self._view(key).subscribers.add(sub)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="dashboard", daemon=True)
                self._thread.start()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            view = self._views.get(sub.key)
            if view is not None and sub in view.subscribers:
                view.subscribers.discard(sub)
                self._streams -= 1

    @property
    def streams(self) -> int:
        return self._streams

    # ------------------------------------------------------------------------------------------- the loop

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            with self._lock:
                watched = [v for v in self._views.values() if v.subscribers]
                self._forget_idle(started)
            for view in watched:
                try:
                    self._refresh(view, force=True)
                except Exception:  # one failing view must not stop the others; it is tried again next tick
                    log.exception("dashboard computation failed")
                for sub in list(view.subscribers):
                    sub.wake()
            if not watched and self._streams == 0:
                with self._lock:
                    if self._streams == 0:
                        self._thread = None
                        return
            self._stop.wait(max(0.05, self.interval_s - (time.monotonic() - started)))

    def _view(self, key: ViewKey) -> _View:
        with self._lock:
            view = self._views.get(key)
            if view is None:
                self._forget_idle(time.monotonic())
                view = self._views[key] = _View(key)
            view.used_at = time.monotonic()
            return view

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._views.items() if not v.subscribers and now - v.used_at > IDLE_EVICT_S]:
            del self._views[key]

    def _refresh(self, view: _View, *, force: bool) -> None:
        with view.lock:
            if not force and view.payload is not None and time.monotonic() - view.computed_at < self.interval_s:
                return  # another caller computed it while this one waited
            started = time.perf_counter()
            payload = compute(self.db, view, now=clock.utcnow(), head_ttl_s=self.head_ttl_s)
            view.payload = orjson.dumps(payload, default=_default)
            view.version += 1
            view.computed_at = time.monotonic()
            self.last_ms = round((time.perf_counter() - started) * 1000, 2)


def compute(db: Database, view: _View, *, now: datetime, head_ttl_s: float) -> dict[str, Any]:
    """The view's figures now. The older orders' sums (the head) are reused: each tick moves the boundary
    up to RECENT before now, adding only the slice of orders paid in between; every `head_ttl_s` the head
    is summed again from scratch, which is when later changes to older orders (a cancellation, a parcel
    shipped, an order that arrived late) show."""
    key = view.key
    with db.read() as s:
        window = queries.window_of(s, live_session_id=key.live_session_id, today=key.today, scope=key.scope, now=now)
        same = view.window is not None and (view.window.kind, view.window.live_session_id, view.window.start,
                                            view.window.shop_ids) == (window.kind, window.live_session_id,
                                                                      window.start, window.shop_ids)
        minutes_from = model.last_minutes(window.end)[0]
        boundary = max(window.start, min(now, window.end) - RECENT)
        if not same or view.head is None or view.boundary is None or time.monotonic() - view.head_at >= head_ttl_s:
            view.head = queries.partial(s, window, paid_from=window.start, paid_to=boundary, minutes_from=minutes_from)
            view.boundary, view.head_at = boundary, time.monotonic()
        elif boundary > view.boundary:
            view.head = view.head + queries.partial(s, window, paid_from=view.boundary, paid_to=boundary,
                                                    minutes_from=minutes_from)
            view.boundary = boundary
        tail = queries.partial(s, window, paid_from=view.boundary, paid_to=None, minutes_from=minutes_from)
        part = view.head + tail
        hot = queries.hot_skus(s, window, model.top_skus(part, key.top))
    view.window = window
    return model.compose(window, part, hot_skus=hot, now=now)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
