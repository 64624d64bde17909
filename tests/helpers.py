"""Small builders for tests: a catalog, canonical orders, and running the worker to the end."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from baodan.catalog import schemas, services
from baodan.core.db import Database
from baodan.intake import services as intake
from baodan.inventory import services as inventory
from baodan.inventory.model import MoveKind
from baodan.orders.schemas import CanonicalOrder

API = "/api/v1"
# API tests run on SQLite and PostgreSQL unless marked: what is decided in Python before any write
# (request validation, routing, refusals) does not depend on the database, so that runs once, on SQLite.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def error_body(resp: Any, status: int, code: str) -> dict[str, Any]:
    """Assert an error answer: the status, a stable `code` and a human `message`."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"].strip(), body
    return body

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def make_catalog(db: Database, *, skus: dict[str, int], warehouses: tuple[str, ...] = ("WH1",),
                 shop: str = "SHOP-A", channel: str = "douyin",
                 bundles: dict[str, list[tuple[str, int]]] | None = None) -> dict[str, int]:
    """Warehouses, one shop (default: the first warehouse, then the others), SKUs with stock in the first
    warehouse, mappings platform id `P-<code>` → SKU. Returns code → id for SKUs and warehouses."""
    ids: dict[str, int] = {}
    for i, code in enumerate(warehouses):
        ids[code] = services.create_warehouse(db, data=schemas.WarehouseCreate(code=code, name=code,
                                                                               priority=i))["id"]
    ids[shop] = services.create_shop(db, data=schemas.ShopCreate(
        code=shop, name=shop, channel=channel, default_warehouse=warehouses[0],
        fallback_warehouses=list(warehouses[1:])))["id"]
    for code, qty in skus.items():
        ids[code] = services.create_sku(db, data=schemas.SkuCreate(code=code, name=code, price_fen=1000))["id"]
        if qty:
            inventory.adjust_stock(db, sku_id=ids[code], warehouse_id=ids[warehouses[0]], delta=qty,
                                   kind=MoveKind.receipt)
    for code, parts in (bundles or {}).items():
        ids[code] = services.create_sku(db, data=schemas.SkuCreate(
            code=code, name=code, price_fen=1000,
            components=[schemas.BundlePart(sku=c, qty=q) for c, q in parts]))["id"]
    services.map_platform_skus(db, shop_id=ids[shop], items=[
        schemas.SkuMappingItem(platform_sku_id=f"P-{code}", sku=code) for code in [*skus, *(bundles or {})]])
    return ids


def order(oid: str, lines: list[tuple[str, int]], *, status: str = "paid", paid_offset_s: float = 0,
          updated_offset_s: float | None = None, shop: str = "SHOP-A", channel: str = "douyin",
          **extra: Any) -> dict[str, Any]:
    """A canonical order dict; lines are (sku code, quantity) at 10.00 yuan each."""
    paid_at = T0 + timedelta(seconds=paid_offset_s)
    updated = paid_at + timedelta(seconds=updated_offset_s or 0)
    body_lines = [{"platform_sku_id": f"P-{code}", "quantity": qty, "unit_price_fen": 1000,
                   "amount_fen": 1000 * qty} for code, qty in lines]
    goods = sum(line["amount_fen"] for line in body_lines)
    body = {"channel": channel, "shop": shop, "platform_order_id": oid, "status": status,
            "updated_at": updated.isoformat(), "created_at": (paid_at - timedelta(seconds=5)).isoformat(),
            "paid_at": paid_at.isoformat() if status != "unpaid" else None,
            "receiver": {"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
                         "district": "西湖区", "address": "文三路 1 号"},
            "lines": body_lines, "goods_total_fen": goods, "paid_total_fen": goods}
    body.update(extra)
    return body


def submit(runtime: Any, *orders: dict[str, Any]) -> intake.Appended:
    return intake.accept_orders(runtime.inbox, runtime.shops, [CanonicalOrder.model_validate(o) for o in orders],
                                pii=runtime.pii)


def drain(runtime: Any) -> int:
    """Run the real worker until the inbox is empty and waiting orders were retried."""
    return runtime.worker().drain()


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve an ASGI app on a free loopback port in a background thread; yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
