"""Intake use cases: accept canonical orders into the durable inbox (nothing else on the request path)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import orjson

from baodan.core import clock
from baodan.core.db import Database, fetchall
from baodan.identity.pii import PiiCipher
from baodan.identity.scope import EVERYTHING, Scope
from baodan.intake.errors import BatchTooLarge, ChannelMismatch, UnknownShop
from baodan.intake.inbox import Appended, EventRow, Inbox
from baodan.orders.schemas import CanonicalOrder


class ShopDirectory:
    """Shop code → (id, channel), cached briefly: intake must not query the catalog per request."""

    def __init__(self, db: Database, *, ttl_s: float = 5.0) -> None:
        self._db = db
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._shops: dict[str, tuple[int, str]] = {}
        self._loaded_at = 0.0

    def lookup(self, code: str) -> tuple[int, str] | None:
        with self._lock:
            if time.monotonic() - self._loaded_at > self._ttl_s or code not in self._shops:
                self._reload()
            return self._shops.get(code)

    def _reload(self) -> None:
        with self._db.read() as session:
            rows = fetchall(session, "SELECT code, id, channel FROM shop WHERE active = ?", (True,))
        self._shops = {code: (shop_id, channel) for code, shop_id, channel in rows}
        self._loaded_at = time.monotonic()


def accept_orders(inbox: Inbox, shops: ShopDirectory, orders: Sequence[CanonicalOrder], *, pii: PiiCipher,
                  scope: Scope = EVERYTHING, max_orders: int = 5000) -> Appended:
    """Put canonical order events into the inbox; returns once they are durably committed.

    Idempotent: an event whose natural key (channel, shop, platform order id, status, update time) is
    already in the inbox is counted as a duplicate and not processed again. All or nothing: an unknown
    shop anywhere in the batch refuses the whole batch before anything is written. The buyer's name,
    phone and address are sealed here (identity.pii), so they are never at rest in clear.
    """
    if len(orders) > max_orders:
        raise BatchTooLarge(f"{len(orders)} orders in one call; the limit is {max_orders}",
                            details={"limit": max_orders, "received": len(orders)})
    rows: list[EventRow] = []
    for index, order in enumerate(orders):
        found = shops.lookup(order.shop)
        if found is None or not scope.has_shop(found[0]):  # another's shop is no shop at all to this caller
            raise UnknownShop(f"orders[{index}]: no active shop with code {order.shop!r}",
                              details={"index": index, "shop": order.shop})
        shop_id, channel = found
        if channel != order.channel:
            raise ChannelMismatch(f"orders[{index}]: shop {order.shop!r} sells on {channel}, "
                                  f"not {order.channel.value}", details={"index": index})
        rows.append((order.channel.value, shop_id, order.platform_order_id, order.status.value,
                     clock.sql_text(order.updated_at), _payload(order, pii)))
    return inbox.append(rows)


def _payload(order: CanonicalOrder, pii: PiiCipher) -> bytes:
    """The inbox copy of an order: canonical JSON with its times as UTC text keys (clock.sql_text), the
    form the pipeline stores and compares without parsing them again, and the receiver sealed: in clear
    only the region and masked name/phone/address, plus `receiver_sealed` and `phone_index`."""
    body = order.model_dump()
    for name in ("updated_at", "created_at", "paid_at"):
        if body[name] is not None:
            body[name] = clock.sql_text(body[name])
    for line in body["lines"]:
        if line["ship_after"] is not None:
            line["ship_after"] = clock.sql_text(line["ship_after"])
    sealed = pii.seal_receiver(body["receiver"])
    if sealed is not None:
        body["receiver"] = sealed.public
        body["receiver_sealed"], body["phone_index"] = sealed.sealed, sealed.phone_index
    return orjson.dumps(body)
