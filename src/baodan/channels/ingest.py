"""Where platform orders enter BaoDan: which shops are connected (`LinkDirectory`), and platform order
objects mapped to canonical orders and put in the inbox (`ChannelIntake`), the same path as the API.
An order that cannot be mapped is never dropped: it waits in `channel_fetch` with the reason, is retried
with backoff, and `baodan channels status` shows it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from pydantic import ValidationError

from baodan.channels import tokens
from baodan.channels.base import MappingError
from baodan.channels.credentials import CredentialCache
from baodan.channels.registry import ADAPTERS
from baodan.channels.transport import ShopLink
from baodan.core import clock
from baodan.core.db import Database, db_time, dialect_of, executemany, fetchall, read_time
from baodan.identity.pii import PiiCipher
from baodan.identity.scope import Scope
from baodan.intake import services as intake
from baodan.intake.inbox import Inbox
from baodan.orders.schemas import CanonicalOrder

# Gateway roots (each adapter adds its paths), used when a shop's credentials name no base_url.
GATEWAYS = {
    "douyin": "https://openapi-fxg.jinritemai.com",
    "kuaishou": "https://openapi.kwaixiaodian.com",
    "wechat": "https://api.weixin.qq.com",
    "taobao": "https://eco.taobao.com",
    "pdd": "https://gw-api.pinduoduo.com",
    "jd": "https://api.jd.com",
}
MAX_RETRY = timedelta(minutes=30)


def backoff(attempts: int) -> timedelta:
    return min(MAX_RETRY, timedelta(seconds=2 ** min(attempts, 12)))


class LinkDirectory:
    """Every active platform shop with credentials, re-read every `ttl_s`."""

    def __init__(self, db: Database, credentials: CredentialCache, *, ttl_s: float = 10.0) -> None:
        self.db, self.credentials, self.ttl_s = db, credentials, ttl_s
        self._lock = threading.Lock()
        self._links: tuple[float, list[ShopLink]] = (-1e9, [])

    def all(self, *, fresh: bool = False) -> list[ShopLink]:
        with self._lock:
            if not fresh and time.monotonic() - self._links[0] < self.ttl_s:
                return self._links[1]
        with self.db.read() as s:
            rows = fetchall(s, "SELECT s.id, s.code, s.channel, c.base_url, c.calls_per_second, c.token_expires_at, "
                               "c.refresh_expires_at, c.updated_at FROM shop s JOIN shop_credential c "
                               "ON c.shop_id = s.id WHERE s.active = ? ORDER BY s.id", (True,))
        links = []
        for shop_id, code, channel, base_url, rate, token_at, refresh_at, saved_at in rows:
            creds = self.credentials.get(int(shop_id))
            if channel in ADAPTERS and creds is not None:
                expires_at = read_time(token_at)
                links.append(ShopLink(int(shop_id), code, channel, ADAPTERS[channel], creds,
                                      base_url or GATEWAYS[channel], float(rate) if rate else None,
                                      token_expires_at=expires_at,
                                      refresh_due_at=tokens.refresh_due(expires_at, read_time(saved_at)),
                                      refresh_expires_at=read_time(refresh_at)))
        with self._lock:
            self._links = (time.monotonic(), links)
        return links

    def of_channel(self, channel: str) -> list[ShopLink]:
        return [k for k in self.all() if k.channel == channel]

    def forget(self) -> None:
        with self._lock:
            self._links = (-1e9, [])


class Ingested(NamedTuple):
    accepted: int
    duplicates: int
    failed: list[tuple[str, str]]  # unmappable: (platform order id, reason)
    taken: list[str]  # the platform order ids that went to the inbox (new or already there)


class ChannelIntake:
    def __init__(self, db: Database, inbox: Inbox, shops: intake.ShopDirectory, pii: PiiCipher, *,
                 max_orders: int = 5000) -> None:
        self.db, self.inbox, self.shops, self.pii, self.max_orders = db, inbox, shops, pii, max_orders

    def ingest(self, link: ShopLink, platform_orders: Iterable[dict[str, Any]], *,
               queue_failed: bool = True) -> Ingested:
        """Map platform order objects to canonical orders and put them in the inbox; the unmappable ones
        are queued for a detail fetch with the reason (unless the caller, a fetch itself, requeues them)."""
        orders: list[CanonicalOrder] = []
        failed: list[tuple[str, str]] = []
        for raw in platform_orders:
            try:
                orders.append(CanonicalOrder.model_validate(link.adapter.to_canonical(raw, shop_code=link.shop_code)))
            except (MappingError, ValidationError) as exc:
                failed.append((order_id_of(link, raw), str(exc).splitlines()[0][:300]))
        accepted = duplicates = 0
        for start in range(0, len(orders), self.max_orders):
            result = intake.accept_orders(self.inbox, self.shops, orders[start:start + self.max_orders], pii=self.pii,
                                          scope=Scope(frozenset({link.shop_id})), max_orders=self.max_orders)
            accepted, duplicates = accepted + result.accepted, duplicates + result.duplicates
        if failed and queue_failed:
            self.request_fetch(link.shop_id, [oid for oid, _ in failed], errors=dict(failed))
        return Ingested(accepted, duplicates, failed, [o.platform_order_id for o in orders])

    def request_fetch(self, shop_id: int, order_ids: Iterable[str], *, errors: dict[str, str] | None = None,
                      updated: Mapping[str, datetime | None] | None = None) -> None:
        """Queue orders for a detail call (an order already queued stays queued once, remembering the
        newest request). `updated`: the update time a push stated per order, where it stated one."""
        now = clock.utcnow()
        with self.db.write() as s:
            dialect = dialect_of(s)
            rows = []
            for order_id in dict.fromkeys(order_ids):
                error = (errors or {}).get(order_id)
                stated = (updated or {}).get(order_id)
                rows.append((shop_id, order_id, db_time(dialect, now),
                             db_time(dialect, stated) if stated is not None else None,
                             db_time(dialect, now + (backoff(1) if error else timedelta(0))), error))
            executemany(s, "INSERT INTO channel_fetch (shop_id, platform_order_id, requested_at, updated_at, "
                           "next_at, attempts, last_error) VALUES (?, ?, ?, ?, ?, 0, ?) "
                           "ON CONFLICT (shop_id, platform_order_id) DO UPDATE SET "
                           "requested_at = excluded.requested_at, "
                           "updated_at = coalesce(excluded.updated_at, channel_fetch.updated_at), "
                           "last_error = coalesce(excluded.last_error, channel_fetch.last_error)", rows)


def order_id_of(link: ShopLink, raw: dict[str, Any]) -> str:
    """A platform order object's id (through the adapter's mapping where possible)."""
    try:
        return str(link.adapter.to_canonical(raw, shop_code=link.shop_code)["platform_order_id"])
    except Exception:  # unmappable or a stub: find the id among the usual field names
        for name in ("order_id", "orderId", "oid", "tid", "order_sn", "p_id", "id"):
            if raw.get(name) is not None:
                return str(raw[name])
        raise MappingError("a listed order names no id", details={"order": list(raw)[:20]}) from None
