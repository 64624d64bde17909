"""Shipping an order from BaoDan: the reserved stock leaves the warehouse (ledger: a ship move, on hand
and reserved both go down), the order becomes shipped, a shipment records carrier and waybill, and a
write-back of the waybill to the platform is owed (`channel_outbox`, sent by the channel sync).

All of it is one transaction, audited as an order edit. Shipping again with the same waybill answers the
same shipment (a scanner or a client may resend); a different waybill for a shipped order is refused.
When the platform later pushes "shipped" for the order, the pipeline finds it shipped already and holds
no stock for it to consume twice. The fulfilment issue builds scan-to-pack on top of this."""

from __future__ import annotations

from typing import Any

from baodan.channels.registry import ADAPTERS
from baodan.core import clock
from baodan.core.db import Database, db_json, db_time, dialect_of, execute, fetchall, read_time
from baodan.core.errors import Conflict
from baodan.identity import audit
from baodan.identity.scope import EVERYTHING, Scope
from baodan.inventory import services as inventory
from baodan.orders import repository
from baodan.orders.model import OrderState
from baodan.orders.queries import OrderNotFound


def ship_order(db: Database, *, order_id: int, carrier_code: str, waybill_no: str, actor: str,
               ip: str | None = None, scope: Scope = EVERYTHING, parcel_of: int | None = None) -> dict[str, Any]:
    """Ship a reserved order under a waybill. A waybill ships one parcel: another order may share it only as
    an order merged into that parcel (`parcel_of`: the parcel's lead order, already shipped with it)."""
    now = clock.utcnow()
    with db.write() as s:
        dialect = dialect_of(s)
        rows = fetchall(s, "SELECT channel, platform_order_id, shop_id FROM sales_order WHERE id = ?", (order_id,))
        if not rows or not scope.has_shop(rows[0][2]):
            raise OrderNotFound(f"no order {order_id}")
        channel, platform_order_id, shop_id = rows[0]
        repository.lock_orders(s, [(channel, platform_order_id)])  # then read the state it holds
        ((state, warehouse_id),) = fetchall(s, "SELECT state, warehouse_id FROM sales_order WHERE id = ?", (order_id,))
        done = _shipment(s, order_id)
        if done is not None:
            if (done["carrier_code"], done["waybill_no"]) == (carrier_code, waybill_no):
                return done
            raise Conflict(f"order {order_id} already shipped with waybill {done['waybill_no']}",
                           code="orders.already_shipped", details={"shipment": done["id"]})
        if state != OrderState.reserved:
            raise Conflict(f"order {order_id} is {state}: only a reserved order can ship", code="orders.not_shippable",
                           details={"state": state})
        if fetchall(s, "SELECT 1 FROM shipment WHERE carrier_code = ? AND waybill_no = ? AND order_id != ?",
                    (carrier_code, waybill_no, -1 if parcel_of is None else parcel_of)):
            raise Conflict(f"waybill {carrier_code} {waybill_no} is on another parcel", code="orders.waybill_in_use")
        allocation = inventory.plan_allocation(s, demands=[], ship_order_ids=[order_id])
        inventory.write_allocation(s, allocation, now=now, reference=f"ship:{order_id}", actor=actor[:64])
        execute(s, "UPDATE sales_order SET state = ?, updated_at = ? WHERE id = ?",
                (OrderState.shipped.value, db_time(dialect, now), order_id))
        ((shipment_id,),) = fetchall(
            s, "INSERT INTO shipment (order_id, shop_id, warehouse_id, carrier_code, waybill_no, shipped_at, actor) "
               "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (order_id, shop_id, warehouse_id, carrier_code, waybill_no, db_time(dialect, now), actor[:100]))
        if channel in ADAPTERS:  # own channels read tracking through the API
            execute(s, "INSERT INTO channel_outbox (shop_id, kind, ref, payload, created_at, next_at, attempts) "
                       "VALUES (?, 'ship', ?, ?, ?, ?, 0)",
                    (shop_id, str(shipment_id), db_json(dialect, {**_write_back(s, order_id, platform_order_id),
                                                                  "carrier_code": carrier_code,
                                                                  "waybill_no": waybill_no}),
                     db_time(dialect, now), db_time(dialect, now)))
        repository.insert_events(s, [(order_id, "shipped", db_time(dialect, now), db_json(dialect, {
            "shipment_id": shipment_id, "carrier_code": carrier_code, "waybill_no": waybill_no, "actor": actor}))])
        audit.record(s, actor=actor, action="orders.ship", target=f"order:{order_id}", ip=ip,
                     detail={"before": {"state": state}, "after": {"state": "shipped"}, "carrier_code": carrier_code,
                             "waybill_no": waybill_no})
        shipment = _shipment(s, order_id)
    assert shipment is not None
    return shipment


def _write_back(s: Any, order_id: int, platform_order_id: str) -> dict[str, Any]:
    """Whom the write-back names: the platform's order, and — for a split order (拆单), whose parts ship
    in parcels of their own — the lines in this parcel (platform line ids and quantities). A part names
    its original's platform id. Platforms that take no split shipment ship the whole order with the first
    parcel (their adapters ignore the lines); so do lines the platform gave no id (line or SKU) for."""
    ((parent, split),) = fetchall(s, "SELECT o.parent_order_id, (SELECT count(*) FROM sales_order c WHERE "
                                     "c.parent_order_id = o.id) FROM sales_order o WHERE o.id = ?", (order_id,))
    if parent is None and not split:
        return {"platform_order_id": platform_order_id, "lines": []}
    if parent is not None:
        ((platform_order_id,),) = fetchall(s, "SELECT platform_order_id FROM sales_order WHERE id = ?", (parent,))
    lines = [{"platform_line_id": line_id, "platform_sku_id": sku_id, "quantity": int(qty)}
             for line_id, sku_id, qty in fetchall(s, "SELECT platform_line_id, platform_sku_id, quantity FROM "
                                                     "order_line WHERE order_id = ? ORDER BY line_no", (order_id,))]
    if any(line["platform_line_id"] is None and line["platform_sku_id"] is None for line in lines):
        lines = []
    return {"platform_order_id": platform_order_id, "lines": lines}


def _shipment(s: Any, order_id: int) -> dict[str, Any] | None:
    rows = fetchall(s, "SELECT id, order_id, carrier_code, waybill_no, shipped_at, written_back_at FROM shipment "
                       "WHERE order_id = ? ORDER BY id DESC LIMIT 1", (order_id,))
    if not rows:
        return None
    sid, oid, carrier, waybill, shipped, written = rows[0]
    return {"id": int(sid), "order_id": int(oid), "carrier_code": carrier, "waybill_no": waybill,
            "shipped_at": read_time(shipped), "written_back_at": read_time(written)}
