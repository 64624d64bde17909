"""What the simulated platforms hold, in memory: each platform's orders as canonical dicts (kept in update
time order for the incremental list), the history of their events, the write-backs and stock pushes
received, stock levels, push delivery counts, and the access and refresh tokens each platform issued.
Thread-safe: the server's event loop writes, tests read."""

from __future__ import annotations

import bisect
import copy
import secrets
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from baodan.channels.base import Token
from baodan.core.clock import SHANGHAI

Key = tuple[datetime, str]  # (updated_at, platform_order_id): the list order, oldest first


@dataclass(frozen=True, slots=True)
class OrderEvent:
    platform_order_id: str
    kind: str  # created, paid, cancelled, refund, address_changed, shipped
    status: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Writeback:
    platform_order_id: str
    waybill_no: str | None
    carrier_code: str | None
    method: str
    at: datetime
    accepted: bool = True


@dataclass(frozen=True, slots=True)
class StockPush:
    platform_sku_id: str | None
    platform_product_id: str | None
    quantity: int | None  # as sent: the level (absolute) or the change (delta)
    mode: str  # absolute or delta
    level: int  # the level after it
    method: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DroppedPush:
    platform_order_id: str
    kind: str
    attempts: int
    last_error: str
    first_attempt_at: datetime


@dataclass
class PushCounts:
    sent: int = 0  # deliveries BaoDan acknowledged (duplicates count twice)
    failed: int = 0  # failed attempts (each is retried until the budget runs out)
    dropped: int = 0  # pushes given up after the retry budget
    duplicates: int = 0  # deliveries that were a deliberate second copy
    delayed: int = 0  # pushes held back so an older state arrives after a newer one
    no_message: int = 0  # changes the platform has no push message for (BaoDan's pull finds them)
    unsigned: int = 0  # pushes the adapter could not render or sign (a bug: see the log)


@dataclass
class TokenBook:
    """A platform's tokens: every access token it issued and when it stops working, the refresh tokens not
    yet used (a refresh token is good for one refresh), and how many refreshes it made and refused."""

    access: dict[str, datetime] = field(default_factory=dict)
    refresh: dict[str, datetime | None] = field(default_factory=dict)
    current: str | None = None  # the newest access token
    current_refresh: str | None = None
    refreshed: int = 0
    refused: int = 0


@dataclass
class PlatformStore:
    channel: str
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: list[Key] = field(default_factory=list)
    events: list[OrderEvent] = field(default_factory=list)
    writebacks: list[Writeback] = field(default_factory=list)
    stock_pushes: list[StockPush] = field(default_factory=list)
    stock: dict[str, int] = field(default_factory=dict)
    pushes: PushCounts = field(default_factory=PushCounts)
    dropped: list[DroppedPush] = field(default_factory=list)
    tokens: TokenBook = field(default_factory=TokenBook)
    next_order_no: int = 1


class SimStore:
    def __init__(self, channels: list[str], *, initial_stock: dict[str, int] | None = None) -> None:
        self._lock = threading.RLock()
        self._initial_stock = initial_stock or {}
        self.platforms = {c: PlatformStore(c) for c in channels}

    # orders

    def next_order_no(self, channel: str) -> int:
        with self._lock:
            platform = self.platforms[channel]
            number, platform.next_order_no = platform.next_order_no, platform.next_order_no + 1
            return number

    def add_order(self, order: dict[str, Any], *, kind: str) -> dict[str, Any]:
        """Keep a new order (its `updated_at` as given) and record its first event; returns a copy."""
        with self._lock:
            platform = self.platforms[order["channel"]]
            order_id = order["platform_order_id"]
            if order_id in platform.orders:
                raise ValueError(f"{order['channel']} order {order_id} exists")
            platform.orders[order_id] = order
            bisect.insort(platform.keys, (order["updated_at"], order_id))
            platform.events.append(OrderEvent(order_id, kind, order["status"], order["updated_at"]))
            return copy.deepcopy(order)

    def change_order(self, channel: str, order_id: str, change: Callable[[dict[str, Any]], str | None],
                     *, now: datetime) -> tuple[str, dict[str, Any]] | None:
        """Apply `change` to an order; it returns the event kind, or None to leave the order as it is (the
        change does not apply to its state). A change moves `updated_at` to `now` — at least a second past
        the last one, as platforms stamp whole seconds. Returns (kind, a copy) or None."""
        with self._lock:
            platform = self.platforms[channel]
            order = platform.orders.get(order_id)
            if order is None:
                return None
            before = copy.deepcopy(order)
            kind = change(order)
            if kind is None:
                platform.orders[order_id] = before
                return None
            old_key = (before["updated_at"], order_id)
            order["updated_at"] = max(whole_seconds(now), before["updated_at"] + timedelta(seconds=1))
            index = bisect.bisect_left(platform.keys, old_key)
            if index < len(platform.keys) and platform.keys[index] == old_key:
                del platform.keys[index]
            bisect.insort(platform.keys, (order["updated_at"], order_id))
            platform.events.append(OrderEvent(order_id, kind, order["status"], order["updated_at"]))
            return kind, copy.deepcopy(order)

    def order(self, channel: str, order_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self.platforms[channel].orders.get(order_id)
            return copy.deepcopy(found) if found is not None else None

    def updated_between(self, channel: str, updated_from: datetime | None, updated_to: datetime | None, *,
                        offset: int = 0, after: Key | None = None, limit: int = 50,
                        ) -> tuple[list[dict[str, Any]], int, Key | None]:
        """Orders updated within [from, to] (both ends included), oldest first: a page of copies from
        `offset` (or after the key `after`), the number in the window, and the last key when more follow."""
        with self._lock:
            platform = self.platforms[channel]
            keys = platform.keys
            low = 0 if updated_from is None else bisect.bisect_left(keys, (updated_from, ""))
            high = len(keys) if updated_to is None else bisect.bisect_right(keys, (updated_to, "\U0010ffff"))
            high = max(high, low)
            start = bisect.bisect_right(keys, after, low, high) if after is not None else low + max(offset, 0)
            page_keys = keys[start:min(start + limit, high)]
            more = start + len(page_keys) < high
            orders = [copy.deepcopy(platform.orders[k[1]]) for k in page_keys]
            return orders, high - low, (page_keys[-1] if more and page_keys else None)

    def statuses(self, channel: str) -> dict[str, str]:
        """platform order id → its current status."""
        with self._lock:
            return {order_id: order["status"] for order_id, order in self.platforms[channel].orders.items()}

    def orders(self, channel: str) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(o) for o in self.platforms[channel].orders.values()]

    def events(self, channel: str) -> list[OrderEvent]:
        with self._lock:
            return list(self.platforms[channel].events)

    # write-backs and stock

    def record_writeback(self, channel: str, writeback: Writeback) -> None:
        with self._lock:
            self.platforms[channel].writebacks.append(writeback)

    def writebacks(self, channel: str) -> list[Writeback]:
        with self._lock:
            return list(self.platforms[channel].writebacks)

    def stock_level(self, channel: str, platform_sku_id: str) -> int:
        with self._lock:
            return self.platforms[channel].stock.get(platform_sku_id, self._initial_stock.get(channel, 0))

    def push_stock(self, channel: str, *, platform_sku_id: str, platform_product_id: str | None,
                   quantity: int, mode: str, method: str, at: datetime) -> StockPush:
        """Record a stock push and keep the level: set it (absolute) or change it (delta, never below 0)."""
        with self._lock:
            platform = self.platforms[channel]
            level = quantity if mode == "absolute" else self.stock_level(channel, platform_sku_id) + quantity
            platform.stock[platform_sku_id] = max(level, 0)
            push = StockPush(platform_sku_id, platform_product_id, quantity, mode, max(level, 0), method, at)
            platform.stock_pushes.append(push)
            return push

    def stock_pushes(self, channel: str) -> list[StockPush]:
        with self._lock:
            return list(self.platforms[channel].stock_pushes)

    def stock_levels(self, channel: str) -> dict[str, int]:
        with self._lock:
            return dict(self.platforms[channel].stock)

    # tokens

    def seed_token(self, channel: str, token: Token) -> None:
        """The token the platform had issued before it started (the configured one)."""
        with self._lock:
            book = self.platforms[channel].tokens
            book.access[token.access_token] = token.expires_at
            book.current = token.access_token
            if token.refresh_token:
                book.refresh[token.refresh_token] = token.refresh_expires_at
                book.current_refresh = token.refresh_token

    def token_state(self, channel: str, access_token: str | None, now: datetime) -> str:
        """valid, expired (issued, no longer working) or unknown (never issued here)."""
        with self._lock:
            expires_at = self.platforms[channel].tokens.access.get(access_token or "")
            return "unknown" if expires_at is None else "valid" if now < expires_at else "expired"

    def current_token(self, channel: str, now: datetime) -> Token | None:
        """The newest access token while it works, with the newest refresh token."""
        with self._lock:
            book = self.platforms[channel].tokens
            expires_at = book.access.get(book.current or "")
            if expires_at is None or now >= expires_at:
                return None
            refresh = book.current_refresh if book.current_refresh in book.refresh else None
            return Token(book.current or "", expires_at, refresh, book.refresh.get(refresh or ""))

    def issue_token(self, channel: str, *, now: datetime, lifetime: timedelta, refresh_lifetime: timedelta | None,
                    grace: timedelta, refreshing: bool = False, used_refresh: str | None = None,
                    with_refresh: bool = True) -> Token | None:
        """A new access token (and refresh token, `with_refresh`); `refreshing`: for a refresh call (counted),
        with `used_refresh`, the refresh token it is issued for, which must be unused and working and is used
        up, or None (refused, and counted) when it is not. The older access tokens stop working `grace` from
        now (or when they expire, if sooner)."""
        with self._lock:
            book = self.platforms[channel].tokens
            if used_refresh is not None:
                refresh_expires = book.refresh.pop(used_refresh, now)
                if refresh_expires is not None and now >= refresh_expires:
                    book.refused += 1
                    return None
            if refreshing:
                book.refreshed += 1
            for token, expires_at in book.access.items():
                book.access[token] = min(expires_at, now + grace)
            token = Token(secrets.token_hex(20), now + lifetime)
            book.access[token.access_token] = token.expires_at
            book.current = token.access_token
            if with_refresh:
                refresh_at = now + refresh_lifetime if refresh_lifetime is not None else None
                token = Token(token.access_token, token.expires_at, secrets.token_hex(20), refresh_at)
                book.refresh[token.refresh_token or ""] = refresh_at
                book.current_refresh = token.refresh_token
            return token

    def expire_tokens(self, channel: str, *, at: datetime) -> None:
        """Every access token issued so far stops working at `at` (at the latest): time passing, for tests."""
        with self._lock:
            access = self.platforms[channel].tokens.access
            for token, expires_at in access.items():
                access[token] = min(expires_at, at)

    def token_counts(self, channel: str) -> tuple[int, int]:
        """(refreshes made, refreshes refused) on a platform."""
        with self._lock:
            book = self.platforms[channel].tokens
            return book.refreshed, book.refused

    # push delivery

    def count_push(self, channel: str, outcome: str, n: int = 1) -> None:
        with self._lock:
            counts = self.platforms[channel].pushes
            setattr(counts, outcome, getattr(counts, outcome) + n)

    def drop_push(self, channel: str, dropped: DroppedPush) -> None:
        with self._lock:
            platform = self.platforms[channel]
            platform.pushes.dropped += 1
            platform.dropped.append(dropped)

    def dropped(self, channel: str) -> list[DroppedPush]:
        with self._lock:
            return list(self.platforms[channel].dropped)

    def push_counts(self, channel: str) -> PushCounts:
        with self._lock:
            return PushCounts(**asdict(self.platforms[channel].pushes))

    def status(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {c: {"orders": len(p.orders), "events": len(p.events), "writebacks": len(p.writebacks),
                        "stock_pushes": len(p.stock_pushes), "pushes": asdict(p.pushes)}
                    for c, p in self.platforms.items()}


def whole_seconds(value: datetime) -> datetime:
    """An aware time in Asia/Shanghai cut to the second (platforms stamp whole seconds)."""
    return value.astimezone(SHANGHAI).replace(microsecond=0)
