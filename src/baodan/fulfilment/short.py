"""A warehouse runs short (缺货改派): a count, or a picker at an empty bin, finds fewer units of a SKU than the
books hold. The missing units are written off (a ledger move), and when they were promised to orders — the
free stock does not cover them — the orders holding them here are re-routed, latest paid first (the first
paid keep their place): each is re-reserved in one transaction in the next warehouse of its shop's list
that has all of it, or else waits for stock in paid order like any order the surge could not serve.

Only orders not yet waved move (their items are still on the shelf); when the missing units are held by
waved or picked parcels, the report is refused and says so (take the parcel out of its wave first). A moved
order goes back to routing (stage `route`, its courier and number dropped: the number is voided, as an
account's sender address is one warehouse's); a waiting one leaves fulfilment and is reviewed again when it
is reserved. A merged parcel whose lead moves goes on without it; a merged order that moves leaves its
parcel. Everything in one transaction, audited, idempotent on the caller's reference."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from baodan.catalog import repository as catalog
from baodan.core import clock
from baodan.core.db import Database, db_json, db_time, dialect_of, executemany, fetchall, read_json, where_in
from baodan.core.errors import Conflict, Invalid, NotFound
from baodan.fulfilment.merge import release_members
from baodan.identity import audit
from baodan.identity.scope import EVERYTHING, Scope
from baodan.inventory import repository as stock
from baodan.inventory import services as inventory
from baodan.inventory.model import Demand, DemandLine, MoveKind
from baodan.orders import repository
from baodan.waybills import services as waybills

# stages whose items are still on the shelf (a reserved order not yet in fulfilment has no row: it moves too)
MOVABLE = ("review", "route", "waybill", "number", "ready", "held", "presale", "merged")


def report_short(db: Database, *, sku_id: int, warehouse_id: int, missing: int, actor: str,
                 reason: str | None = None, ref: str | None = None, ip: str | None = None,
                 scope: Scope = EVERYTHING, now: datetime | None = None) -> dict[str, Any]:
    """Write off `missing` units of a SKU in a warehouse and re-route the orders they were promised to."""
    if missing <= 0:
        raise Invalid("missing: a positive number of units", code="request.invalid")
    if not scope.has_warehouse(warehouse_id):
        raise NotFound(f"no warehouse {warehouse_id}", code="catalog.warehouse_not_found")
    now = now or clock.utcnow()
    key = f"short:{ref}" if ref else None
    with db.write() as s:
        dialect = dialect_of(s)
        at = db_time(dialect, now)
        if key and fetchall(s, "SELECT 1 FROM stock_move WHERE idempotency_key = ?", (key,)):
            done = fetchall(s, "SELECT detail FROM audit_log WHERE action = 'fulfilment.short' AND target = ?",
                            (f"ref:{ref}",))
            return {"repeated": True, **(_detail(done[0][0]) if done else {})}
        level = stock.lock_free_stock(s, [sku_id])
        rows = fetchall(s, "SELECT on_hand, reserved FROM stock_level WHERE sku_id = ? AND warehouse_id = ?",
                        (sku_id, warehouse_id))
        if not rows or (sku_id, warehouse_id) not in level:
            raise NotFound(f"SKU {sku_id} has no stock in warehouse {warehouse_id}", code="inventory.unknown_level")
        on_hand, reserved = int(rows[0][0]), int(rows[0][1])
        if missing > on_hand:
            raise Invalid(f"missing: {missing} units, but only {on_hand} are on hand", code="request.invalid")
        owed = max(missing - (on_hand - reserved), 0)  # promised units that are not there
        moved: dict[int, int] = {}
        waiting: list[int] = []
        if owed:
            chosen = _orders_to_move(s, sku_id, warehouse_id, owed)
            moved, waiting = _reroute(s, chosen, warehouse_id, at, now, actor)
        stock.apply_level_deltas(s, {(sku_id, warehouse_id): (-missing, 0)}, now=now)
        stock.insert_moves(s, [(sku_id, warehouse_id, MoveKind.adjust, -missing, 0, None,
                                (reason or "盘亏 / 缺货")[:200])], actor=actor[:64], now=now, idempotency_key=key)
        detail = {"sku_id": sku_id, "warehouse_id": warehouse_id, "missing": missing,
                  "rerouted": {str(o): w for o, w in moved.items()}, "waiting": waiting, "reason": reason}
        audit.record(s, actor=actor, action="fulfilment.short", target=f"ref:{ref}" if ref else
                     f"sku:{sku_id}@warehouse:{warehouse_id}", ip=ip,
                     detail={**detail, "before": {"on_hand": on_hand, "reserved": reserved}})
    if moved or waiting:  # numbers taken for the old warehouse go back (after the commit: calls follow)
        waybills.void_for_orders(db, order_ids=[*moved, *waiting], actor=actor, reason="warehouse short: re-routed",
                                 include_taken=True, ip=ip)
    return {"repeated": False, **detail}


def _orders_to_move(s: Any, sku_id: int, warehouse_id: int, owed: int) -> list[tuple[Any, ...]]:
    """Orders holding the SKU here whose items are still on the shelf, latest paid first, until they hold
    `owed` units; refused when waved or picked parcels hold the rest."""
    rows = fetchall(s, "SELECT r.order_id, sum(r.qty), o.paid_at, o.channel, o.platform_order_id, o.shop_id, f.stage "
                       "FROM reservation r JOIN sales_order o ON o.id = r.order_id "
                       "LEFT JOIN fulfilment f ON f.order_id = o.id "
                       "WHERE r.sku_id = ? AND r.warehouse_id = ? AND o.state = 'reserved' "
                       "GROUP BY r.order_id, o.paid_at, o.channel, o.platform_order_id, o.shop_id, f.stage "
                       "ORDER BY o.paid_at DESC, r.order_id DESC", (sku_id, warehouse_id))
    chosen, units = [], 0
    for row in rows:
        if units >= owed:
            break
        if row[6] is None or row[6] in MOVABLE:
            chosen.append(row)
            units += int(row[1])
    if units < owed:
        raise Conflict(f"{owed - units} of the missing units are in parcels already waved or picked: take those "
                       "orders out of their wave first", code="fulfilment.short_in_waves",
                       details={"owed": owed, "movable": units})
    return chosen


def _reroute(s: Any, chosen: Sequence[tuple[Any, ...]], short_at: int, at: Any, now: datetime,
             actor: str) -> tuple[dict[int, int], list[int]]:
    """Re-reserve the chosen orders elsewhere (else they wait); (order → warehouse moved to, waiting)."""
    dialect = dialect_of(s)
    repository.lock_orders(s, [(r[3], r[4]) for r in chosen])
    ids = [int(r[0]) for r in chosen]
    lines: dict[int, list[DemandLine]] = {}
    for h in stock.reservations_of(s, ids):
        lines.setdefault(h.order_id, []).append(DemandLine(h.order_line_id, h.sku_id, h.qty))
    prefs = catalog.load_warehouse_preferences(s, {int(r[5]) for r in chosen})
    demands = [Demand(int(r[0]), r[2] if isinstance(r[2], str) else clock.sql_text(r[2]),
                      tuple(lines[int(r[0])]), tuple(w for w in prefs.get(int(r[5]), ()) if w != short_at))
               for r in chosen]
    allocation = inventory.plan_allocation(s, demands=demands, release_order_ids=ids)
    inventory.write_allocation(s, allocation, now=now, reference=f"short@{short_at}", actor=actor[:64])
    moved = {g.demand.order_id: g.warehouse_id for g in allocation.plan.granted}
    waiting = [x.demand.order_id for x in allocation.plan.short]
    executemany(s, "UPDATE sales_order SET warehouse_id = ?, updated_at = ? WHERE id = ?",
                [(w, at, o) for o, w in moved.items()])
    executemany(s, "UPDATE sales_order SET state = 'awaiting_stock', warehouse_id = NULL, reserved_at = NULL, "
                   "short_sku_ids = ?, updated_at = ? WHERE id = ?",
                [(db_json(dialect, list(x.short_sku_ids)), at, x.demand.order_id) for x in allocation.plan.short])
    stages = dict(where_in(s, "SELECT order_id, stage FROM fulfilment WHERE order_id", ids))
    release_members(s, [o for o in [*moved, *waiting] if stages.get(o) not in (None, "merged")], at)
    executemany(s, "UPDATE fulfilment SET warehouse_id = ?, stage = CASE WHEN stage IN ('held', 'presale', 'review') "
                   "THEN stage ELSE 'route' END, parcel_of = NULL, carrier_code = NULL, waybill_no = NULL, "
                   "wave_id = NULL, pick_seq = NULL, scanned = NULL, version = version + 1, updated_at = ? "
                   "WHERE order_id = ?", [(w, at, o) for o, w in moved.items()])
    executemany(s, "DELETE FROM fulfilment WHERE order_id = ?", [(o,) for o in waiting])
    repository.insert_events(s, [
        *((o, "rerouted", at, db_json(dialect, {"from": short_at, "to": w, "by": "warehouse short"}))
          for o, w in moved.items()),
        *((o, "awaiting_stock", at, db_json(dialect, {"from": short_at, "by": "warehouse short"})) for o in waiting)])
    return moved, waiting


def _detail(value: Any) -> dict[str, Any]:
    detail = read_json(value) or {}
    return {k: v for k, v in detail.items() if k != "before"}
