"""HTTP routes of exports: orders and stock levels as CSV (UTF-8 with BOM, so Excel opens it as such).

Each needs the `export` permission plus the read permission of what it exports, covers only the
caller's scope, passes the daily cap, is audited before it streams, and carries a watermark
(exports.guard). Buyer fields are exported masked, as the API shows them; clear text leaves only
through the audited one-order reveal."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import and_, func, select

from baodan.catalog.tables import shop, warehouse
from baodan.core import clock
from baodan.core.http import runtime_of
from baodan.core.money import fen_to_yuan
from baodan.exports.guard import Watermark, open_export
from baodan.identity.accounts import Principal
from baodan.identity.http import Forbidden, client_ip, principal_of, require
from baodan.identity.scope import Scope
from baodan.inventory import queries as stock_queries
from baodan.inventory.tables import stock_level
from baodan.orders import queries
from baodan.orders.filters import order_filter
from baodan.orders.queries import OrderFilter

router = APIRouter(tags=["exports"])
Rt = Annotated[Any, Depends(runtime_of)]
Me = Annotated[Principal, Depends(principal_of)]
EXPORT = [Depends(require("export"))]
PAGE = 1000
CSV_ANSWER = {200: {"content": {"text/csv": {}}, "description": "the CSV file (first line: the watermark)"},
              429: {"description": "over the daily export cap (export.daily_cap), with Retry-After"}}

ORDER_COLUMNS = ("订单ID", "渠道", "店铺", "平台订单号", "状态", "平台状态", "异常", "下单时间", "付款时间",
                 "买家昵称", "收货人", "手机", "省", "市", "区", "详细地址", "商品金额", "运费", "优惠", "实付",
                 "直播场次", "仓库", "水印")
STOCK_COLUMNS = ("SKU编码", "SKU名称", "仓库", "在库", "占用", "可用", "安全库存", "更新时间", "水印")


def _needs(me: Principal, permission: str) -> None:
    if not me.can(permission):
        raise Forbidden(f"this export also needs the {permission!r} permission", details={"permission": permission})


def _time(value: Any) -> str:
    return f"{clock.to_shanghai(value):%Y-%m-%d %H:%M:%S}" if value is not None else ""


def _csv(mark: Watermark, header: Iterable[str], pages: Iterator[list[list[Any]]], filename: str) -> StreamingResponse:
    def body() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([mark.banner])
        writer.writerow(header)
        yield ("\ufeff" + buffer.getvalue()).encode()
        for rows in pages:
            buffer.seek(0)
            buffer.truncate()
            writer.writerows([*row, mark.tag] for row in rows)
            yield buffer.getvalue().encode()

    return StreamingResponse(body(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                      "Cache-Control": "no-store"})


def _filters_for_audit(f: OrderFilter) -> dict[str, Any]:
    values = {k: v for k, v in dataclasses.asdict(f).items() if v is not None}
    if values.pop("phone_index", None) is not None:
        values["buyer_phone"] = "(blind index)"  # the phone itself is never written down
    return values


@router.get("/exports/orders", dependencies=EXPORT, response_class=StreamingResponse, responses=CSV_ANSWER)
def export_orders(rt: Rt, me: Me, request: Request, f: Annotated[OrderFilter, Depends(order_filter)]) -> Any:
    """Orders matching the filters of GET /orders, newest first, as CSV (masked buyer fields)."""
    _needs(me, "orders.read")
    scope = Scope.of(me)
    with rt.db.read() as s:
        count, top = queries.count_orders(s, f, scope=scope)
        shops = dict(s.execute(select(shop.c.id, shop.c.code)).all())
        warehouses = dict(s.execute(select(warehouse.c.id, warehouse.c.code)).all())
    mark = open_export(rt.db, actor=me.actor, kind="orders", rows=count, filters=_filters_for_audit(f),
                       cap=rt.settings.export_daily_rows, ip=client_ip(request))

    def pages() -> Iterator[list[list[Any]]]:
        cursor, left = (top + 1 if top is not None else None), count
        while cursor is not None and left > 0:
            with rt.db.read() as s:
                items, cursor = queries.list_orders(s, f, before_id=cursor, limit=min(PAGE, left), scope=scope)
            left -= len(items)
            yield [_order_row(o, shops, warehouses) for o in items]

    return _csv(mark, ORDER_COLUMNS, pages(), f"orders-{mark.export_id}.csv")


def _order_row(o: dict[str, Any], shops: dict[int, str], warehouses: dict[int, str]) -> list[Any]:
    r = o["receiver"] or {}
    return [o["id"], o["channel"], shops.get(o["shop_id"], ""), o["platform_order_id"], o["state"],
            o["platform_status"], " ".join(o["anomalies"] or ()), _time(o["created_at"]), _time(o["paid_at"]),
            o["buyer_nick"] or "", r.get("name") or "", r.get("phone") or "", r.get("province") or "",
            r.get("city") or "", r.get("district") or "", r.get("address") or "",
            fen_to_yuan(o["goods_total_fen"]), fen_to_yuan(o["shipping_fee_fen"]), fen_to_yuan(o["discount_fen"]),
            fen_to_yuan(o["paid_total_fen"]), o["live_session_id"] or "", warehouses.get(o["warehouse_id"], "")]


@router.get("/exports/stock", dependencies=EXPORT, response_class=StreamingResponse, responses=CSV_ANSWER)
def export_stock(rt: Rt, me: Me, request: Request) -> Any:
    """Stock levels per SKU × warehouse (of the caller's warehouses) as CSV."""
    _needs(me, "stock.read")
    scope = Scope.of(me)
    with rt.db.read() as s:
        count = s.execute(select(func.count()).select_from(stock_level)
                          .where(and_(True, scope.warehouses(stock_level.c.warehouse_id)))).scalar_one()
    mark = open_export(rt.db, actor=me.actor, kind="stock", rows=count, filters={},
                       cap=rt.settings.export_daily_rows, ip=client_ip(request))

    def pages() -> Iterator[list[list[Any]]]:
        after, left = None, count
        while left > 0:
            with rt.db.read() as s:
                rows = stock_queries.stock_levels(s, after=after, limit=min(PAGE, left), scope=scope)
            if not rows:
                return
            left -= len(rows)
            after = (rows[-1]["sku_id"], rows[-1]["warehouse_id"])
            yield [[r["sku_code"], r["sku_name"], r["warehouse_code"], r["on_hand"], r["reserved"], r["available"],
                    r["safety_stock"], _time(r["updated_at"])] for r in rows]

    return _csv(mark, STOCK_COLUMNS, pages(), f"stock-{mark.export_id}.csv")
