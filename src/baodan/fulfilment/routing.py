"""Routing (分仓): the second step of the fulfilment stage. The surge reserved each order in the first of its
shop's warehouses that had all of it; the routing rules may send it elsewhere (the buyer's region, weight,
a warehouse's cost). An order the rules move is re-reserved in one transaction: its stock is released and
asked for again in the chosen warehouse, then in the one it came from — so a warehouse that lacks it leaves
the order where it was, never waiting; and an order whose SKU other orders are waiting for stays put (the
stock it would take is owed to them first). Every order's routing is recorded (rule set version, rule, the
warehouse) and it goes on to the waybill step. The rules see the order's facts and `in_stock`: the
warehouses (by priority) that could serve it whole when the batch was read, its own included.

A warehouse that runs short after reservation re-routes the orders it can no longer serve
(`fulfilment.short`). An order no one warehouse has whole waits for stock; the split step
(`fulfilment.split`) ships it from several when the split rules allow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from baodan.core import clock
from baodan.core.db import (
    Database,
    db_time,
    dialect_of,
    executemany,
    fetchall,
    insert_rows,
    read_json,
    read_time,
    update_from,
    where_in,
)
from baodan.fulfilment.tables import DECISION_COLUMNS
from baodan.inventory import repository as stock
from baodan.inventory import services as inventory
from baodan.inventory.model import Demand, DemandLine
from baodan.orders import repository
from baodan.rules.store import RuleBook

BATCH = 1000


@dataclass(frozen=True)
class Routed:
    kept: int
    moved: int


def route_once(db: Database, rules: RuleBook, *, limit: int = BATCH, now: datetime | None = None) -> Routed:
    """Route up to `limit` reviewed orders (stage route)."""
    now = now or clock.utcnow()
    with db.read() as s:
        rows = fetchall(s, "SELECT o.id, o.channel, o.platform_order_id, p.code, o.receiver, o.warehouse_id, "
                           "o.paid_at FROM fulfilment f JOIN sales_order o ON o.id = f.order_id "
                           "JOIN shop p ON p.id = o.shop_id WHERE f.stage = 'route' AND o.state = 'reserved' "
                           "ORDER BY f.order_id LIMIT ?", (limit,))
        if not rows:
            return Routed(0, 0)
        ids = [int(r[0]) for r in rows]
        codes = dict(fetchall(s, "SELECT id, code FROM warehouse WHERE active = ? ORDER BY priority, id", (True,)))
        weights: dict[int, tuple[int, int, list[str]]] = {}
        for order_id, qty, weight, code in where_in(
                s, "SELECT l.order_id, l.quantity, coalesce(k.weight_g, 0), l.sku_code FROM order_line l "
                   "LEFT JOIN sku k ON k.id = l.sku_id WHERE l.order_id", ids):
            grams, count, skus = weights.get(int(order_id), (0, 0, []))
            weights[int(order_id)] = (grams + int(qty) * int(weight), count + int(qty), [*skus, code])
        in_stock = _in_stock(s, ids, {int(r[0]): r[5] for r in rows}, codes)
    facts = []
    for order_id, channel, _, shop, receiver, warehouse_id, _ in rows:
        region = read_json(receiver) or {}
        grams, count, skus = weights.get(int(order_id), (0, 0, []))
        facts.append({"channel": channel, "shop": shop, "province": region.get("province"),
                      "city": region.get("city"), "adcode": None, "weight_g": grams, "quantity": count,
                      "sku_codes": [c for c in skus if c], "warehouse": codes.get(warehouse_id),
                      "in_stock": in_stock.get(int(order_id), [])})
    decider = rules.decider("routing")
    decisions = decider.decide(facts)
    by_code = {code: int(i) for i, code in codes.items()}
    wanted = {}
    for row, decision in zip(rows, decisions, strict=True):
        target = by_code.get(str(decision.answer.get("warehouse") or ""))
        if target is not None and target != row[5]:
            wanted[int(row[0])] = target
    with db.write() as s:
        dialect = dialect_of(s)
        repository.lock_orders(s, [(r[1], r[2]) for r in rows if int(r[0]) in wanted])
        current = {int(i): (st, w) for i, st, w in where_in(
            s, "SELECT o.id, f.stage, o.warehouse_id FROM sales_order o JOIN fulfilment f ON f.order_id = o.id "
               "WHERE o.state = 'reserved' AND o.id", ids)}
        ready = {i: w for i, (st, w) in current.items() if st == "route"}  # still ours to route
        moving = {i: t for i, t in wanted.items() if i in ready}
        final = dict(ready)
        if moving:
            final.update(_move(s, moving, ready, {int(r[0]): r[6] for r in rows}, now))
        at = db_time(dialect, now)
        update_from(s, "UPDATE fulfilment SET stage = 'waybill', warehouse_id = d.warehouse_id, version = version + 1, "
                       "updated_at = ? FROM {rows} WHERE fulfilment.order_id = d.order_id AND stage = 'route'",
                    [("order_id", "bigint"), ("warehouse_id", "bigint")], list(final.items()), (at,))
        insert_rows(s, "order_decision", DECISION_COLUMNS,
                    [(int(r[0]), "routing", decider.version, d.rule, (d.rule_title or "")[:200] or None,
                      str(codes.get(final[int(r[0])]) or ""), "moved" if final[int(r[0])] != ready[int(r[0])]
                      else "kept", at) for r, d in zip(rows, decisions, strict=True) if int(r[0]) in final])
    moved = sum(1 for i, w in final.items() if w != ready[i])
    return Routed(kept=len(final) - moved, moved=moved)


def _in_stock(s: Any, ids: list[int], current: dict[int, int], codes: dict[int, str]) -> dict[int, list[str]]:
    """For each order, the active warehouses (codes, by priority) that could serve it whole now: the free
    stock there, plus what the order holds where it is reserved."""
    need: dict[int, dict[int, int]] = {}
    for order_id, sku_id, qty in where_in(s, "SELECT order_id, sku_id, qty FROM reservation WHERE order_id", ids):
        need.setdefault(int(order_id), {})
        need[int(order_id)][int(sku_id)] = need[int(order_id)].get(int(sku_id), 0) + int(qty)
    skus = {sku for n in need.values() for sku in n}
    free = {(int(k), int(w)): int(f) for k, w, f in where_in(
        s, "SELECT sku_id, warehouse_id, on_hand - reserved FROM stock_level WHERE sku_id", skus)} if skus else {}
    return {order_id: [code for w, code in codes.items()
                       if all(free.get((sku, w), 0) + (qty if w == current.get(order_id) else 0) >= qty
                              for sku, qty in n.items())]
            for order_id, n in need.items()}


def _move(s: Any, moving: dict[int, int], ready: dict[int, int], paid: dict[int, Any],
          now: datetime) -> dict[int, int]:
    """Re-reserve orders in their chosen warehouse (else where they were): the warehouse each ends in."""
    held = stock.reservations_of(s, moving.keys())
    waited_for = stock.skus_marked_for_retry(s, {h.sku_id for h in held})  # others are owed that stock first
    lines: dict[int, list[DemandLine]] = {}
    for h in held:
        lines.setdefault(h.order_id, []).append(DemandLine(h.order_line_id, h.sku_id, h.qty))
    lines = {i: ls for i, ls in lines.items() if not any(line.sku_id in waited_for for line in ls)}
    demands = [Demand(i, clock.sql_text(read_time(paid[i]) or now), tuple(lines[i]), (target, ready[i]))
               for i, target in sorted(moving.items()) if i in lines]
    allocation = inventory.plan_allocation(s, demands=demands, release_order_ids=[d.order_id for d in demands],
                                           respect_retry_marks=False)
    if allocation.plan.short:  # cannot happen: the stock it held is free again in its own warehouse
        raise RuntimeError(f"re-routing left orders short: {[x.demand.order_id for x in allocation.plan.short]}")
    inventory.write_allocation(s, allocation, now=now, reference="reroute", actor="fulfilment")
    landed = {g.demand.order_id: g.warehouse_id for g in allocation.plan.granted}
    executemany(s, "UPDATE sales_order SET warehouse_id = ?, updated_at = ? WHERE id = ?",
                [(w, db_time(dialect_of(s), now), i) for i, w in landed.items()])
    return landed
