"""Scan-to-pack (扫描验货): the packer scans a parcel's waybill, then every item's barcode (a USB scanner types
it like a keyboard); a wrong item, or one more than the order holds, is refused with a message that says
what was expected. When every item is scanned the parcel is weighed and confirmed: the order ships
(`orders.shipping.ship_order`: the stock leaves the ledger, the waybill goes back to the platform, the new
sellable quantity is pushed). An order intercepted meanwhile answers the waybill scan with "put it back".

What is checked is what the order holds (its reservations: a bundle's parts, each with its barcode, or its
SKU code where it has no barcode). Counts are kept on the order's fulfilment row, so a packer can stop and
another finish; every scan is one small transaction."""

from __future__ import annotations

from typing import Any

from baodan.core import clock
from baodan.core.db import Database, db_json, db_time, dialect_of, execute, executemany, fetchall, in_list, read_json
from baodan.core.errors import BaoDanError, Conflict, NotFound
from baodan.fulfilment.waves import merged_into
from baodan.identity.scope import EVERYTHING, Scope
from baodan.orders import repository
from baodan.orders.shipping import ship_order

PACKABLE = ("waved", "picked")
MAX_WEIGHT_G = 100_000


class PackRefused(BaoDanError):
    """A scan the parcel cannot take (wrong item, too many, not all scanned yet)."""

    status = 422
    code = "pack.refused"


def scan_waybill(db: Database, waybill_no: str, *, scope: Scope = EVERYTHING) -> dict[str, Any]:
    """The parcel a scanned waybill belongs to, with what it must hold and what is scanned so far."""
    with db.read() as s:
        rows = fetchall(s, "SELECT f.order_id, f.stage, o.shop_id, f.warehouse_id FROM fulfilment f "
                           "JOIN sales_order o ON o.id = f.order_id WHERE f.waybill_no = ?", (waybill_no.strip(),))
        rows = [r for r in rows if scope.has_shop(r[2]) and scope.has_warehouse(r[3])]
        if not rows:
            raise NotFound(f"no parcel has waybill {waybill_no!r}", code="pack.unknown_waybill")
        order_id, stage = int(rows[0][0]), rows[0][1]
        if stage == "intercepted":
            raise Conflict(f"订单已拦截，请放回 (order {order_id} was cancelled on the platform: do not ship it)",
                           code="pack.intercepted", details={"order_id": order_id})
        if stage not in PACKABLE:
            raise Conflict(f"order {order_id} is {stage}: only a waved or picked parcel is packed",
                           code="pack.wrong_stage", details={"order_id": order_id, "stage": stage})
        return _parcel(s, order_id)


def scan_item(db: Database, order_id: int, code: str, *, qty: int = 1, scope: Scope = EVERYTHING) -> dict[str, Any]:
    """One item (or `qty` of them) scanned into the parcel; refused when the parcel does not take it."""
    code = code.strip()
    with db.write() as s:
        parcel = _locked(s, order_id, scope)
        item = next((i for i in parcel["items"] if code in (i["barcode"], i["sku_code"])), None)
        if item is None:
            expected = ", ".join(f"{i['name']} ({i['barcode'] or i['sku_code']})" for i in parcel["items"]
                                 if i["scanned"] < i["qty"])
            raise PackRefused(f"扫错商品: {code} 不在这个包裹里; 还需要: {expected or '无'}", code="pack.wrong_item",
                              details={"code": code, "order_id": order_id})
        if item["scanned"] + qty > item["qty"]:
            raise PackRefused(f"数量超出: {item['name']} 这个包裹只要 {item['qty']} 件, 已扫 {item['scanned']} 件",
                              code="pack.too_many", details={"sku_code": item["sku_code"], "qty": item["qty"],
                                                             "scanned": item["scanned"]})
        scanned = {str(i["sku_id"]): i["scanned"] for i in parcel["items"]}
        scanned[str(item["sku_id"])] += qty
        execute(s, "UPDATE fulfilment SET scanned = ?, updated_at = ? WHERE order_id = ?",
                (db_json(dialect_of(s), scanned), db_time(dialect_of(s), clock.utcnow()), order_id))
        return _parcel(s, order_id)


def confirm(db: Database, order_id: int, *, weight_g: int | None, actor: str, ip: str | None = None,
            scope: Scope = EVERYTHING) -> dict[str, Any]:
    """Every item is in: weigh and ship (one transaction for the parcel, then the order ships)."""
    if weight_g is not None and not 0 < weight_g <= MAX_WEIGHT_G:
        raise PackRefused(f"weight {weight_g} g is not a parcel's weight", code="pack.invalid_weight")
    now = clock.utcnow()
    with db.write() as s:
        parcel = _locked(s, order_id, scope)
        missing = [i for i in parcel["items"] if i["scanned"] < i["qty"]]
        if missing:
            left = ", ".join(f"{i['name']} {i['qty'] - i['scanned']} 件" for i in missing)
            raise PackRefused(f"还有商品没扫: {left}", code="pack.incomplete",
                              details={"missing": [i["sku_code"] for i in missing]})
        ((carrier, waybill),) = fetchall(s, "SELECT carrier_code, waybill_no FROM fulfilment WHERE order_id = ?",
                                         (order_id,))
        members = sorted(merged_into(s, [order_id]))
    shipment = ship_order(db, order_id=order_id, carrier_code=carrier, waybill_no=waybill, actor=actor, ip=ip,
                          scope=scope)
    for member in members:  # one parcel, one waybill: each merged order ships with it and writes it back
        ship_order(db, order_id=member, carrier_code=carrier, waybill_no=waybill, actor=actor, ip=ip, scope=scope,
                   parcel_of=order_id)
    with db.write() as s:
        dialect = dialect_of(s)
        executemany(s, "UPDATE fulfilment SET stage = 'shipped', weight_g = ?, packed_by = ?, packed_at = ?, "
                       "version = version + 1, updated_at = ? WHERE order_id = ?",
                    [(weight_g, actor[:100], db_time(dialect, now), db_time(dialect, now), o)
                     for o in (order_id, *members)])
    return {"order_id": order_id, "stage": "shipped", "shipment": shipment, "merged": members}


def _locked(s: Any, order_id: int, scope: Scope) -> dict[str, Any]:
    rows = fetchall(s, "SELECT o.channel, o.platform_order_id, o.shop_id, f.warehouse_id, f.stage FROM sales_order o "
                       "JOIN fulfilment f ON f.order_id = o.id WHERE o.id = ?", (order_id,))
    if not rows or not scope.has_shop(rows[0][2]) or not scope.has_warehouse(rows[0][3]):
        raise NotFound(f"no parcel for order {order_id}", code="pack.unknown_waybill")
    repository.lock_orders(s, [(rows[0][0], rows[0][1])])
    ((stage,),) = fetchall(s, "SELECT stage FROM fulfilment WHERE order_id = ?", (order_id,))
    if stage == "intercepted":
        raise Conflict(f"订单已拦截，请放回 (order {order_id} was cancelled on the platform)", code="pack.intercepted",
                       details={"order_id": order_id})
    if stage not in PACKABLE:
        raise Conflict(f"order {order_id} is {stage}", code="pack.wrong_stage", details={"stage": stage})
    return _parcel(s, order_id)


def _parcel(s: Any, order_id: int) -> dict[str, Any]:
    ((stage, carrier, waybill, scanned),) = fetchall(
        s, "SELECT stage, carrier_code, waybill_no, scanned FROM fulfilment WHERE order_id = ?", (order_id,))
    counts = read_json(scanned) or {}
    members = sorted(merged_into(s, [order_id]))
    frag, ids = in_list(dialect_of(s), [order_id, *members])
    items = [{"sku_id": int(sku), "sku_code": code, "name": name, "barcode": barcode, "qty": int(qty),
              "scanned": int(counts.get(str(int(sku)), 0))}
             for sku, code, name, barcode, qty in fetchall(
                 s, "SELECT r.sku_id, k.code, k.name, k.barcode, sum(r.qty) FROM reservation r JOIN sku k "
                    f"ON k.id = r.sku_id WHERE r.order_id {frag} GROUP BY r.sku_id, k.code, k.name, k.barcode "
                    "ORDER BY k.code", (ids,))]
    # merged orders cancelled after picking: their items are not in the parcel any more
    removed = [int(r[0]) for r in fetchall(s, "SELECT order_id FROM fulfilment WHERE parcel_of = ? AND "
                                              "stage = 'intercepted' ORDER BY order_id", (order_id,))]
    parcel = {"order_id": order_id, "stage": stage, "carrier_code": carrier, "waybill_no": waybill, "items": items,
              "merged": members, "complete": bool(items) and all(i["scanned"] >= i["qty"] for i in items)}
    if removed:
        parcel["removed"] = removed
        parcel["notice"] = f"合单中 {len(removed)} 个订单已拦截: 其商品不要装入这个包裹"
    return parcel
