"""Waves (波次) and pick lists: orders ready to pick (stage `ready`: reviewed, routed, with a waybill number)
are grouped per warehouse, in payment order:

- **single-SKU waves** (爆款单品波次): orders whose parcel is one SKU (any quantity) — a live session's hot
  item — when at least SINGLE_MIN of them wait: the picker takes the wave's total once, and labels print and
  parcels pack in a stream (up to SINGLE_MAX orders a wave, one print run);
- **mixed waves** of the rest: up to MIXED_MAX orders of one zone (the zone of the order's first bin).

What is picked is what the order holds (its reservations: a bundle's parts, not the bundle). A pick list
sums the wave per bin, in bin order; `pick_seq` is the order's place in the wave, the order its label
prints in. Intercepted orders keep their wave and place, so the packer is told at the scan. Orders merged
into a parcel (`fulfilment.merge`) are picked with their lead: same wave, same place."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from baodan.core import clock
from baodan.core.db import (
    Database,
    db_time,
    dialect_of,
    execute,
    executemany,
    fetchall,
    read_time,
    update_from,
    where_in,
)
from baodan.core.errors import Conflict, NotFound
from baodan.identity import audit
from baodan.identity.scope import EVERYTHING, Scope

SINGLE_MIN = 10
SINGLE_MAX = 2000
MIXED_MAX = 50
NO_BIN = ("~", "~")  # a SKU with no bin sorts last, in zone "~"


def build_waves(db: Database, *, warehouse_id: int, actor: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """Group the warehouse's ready orders into waves; the waves made (none when nothing is ready)."""
    now = now or clock.utcnow()
    with db.write() as s:
        dialect = dialect_of(s)
        lock = " FOR UPDATE OF f SKIP LOCKED" if dialect == "postgresql" else ""
        ready = fetchall(s, "SELECT f.order_id FROM fulfilment f JOIN sales_order o ON o.id = f.order_id "
                            "WHERE f.stage = 'ready' AND f.warehouse_id = ? AND o.state = 'reserved' "
                            f"ORDER BY o.paid_at, o.id{lock}", (warehouse_id,))
        order_ids = [int(r[0]) for r in ready]
        if not order_ids:
            return []
        items: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for order_id, sku_id, qty in where_in(s, "SELECT order_id, sku_id, qty FROM reservation WHERE order_id",
                                              order_ids):
            items[int(order_id)][int(sku_id)] += int(qty)
        members = merged_into(s, order_ids)  # merged orders (fulfilment.merge) go in their lead's parcel
        for member, sku_id, qty in where_in(s, "SELECT order_id, sku_id, qty FROM reservation WHERE order_id",
                                            members):
            items[members[int(member)]][int(sku_id)] += int(qty)
        bins = _bins(s, warehouse_id, {sku for held in items.values() for sku in held})
        singles: dict[int, list[int]] = defaultdict(list)
        for order_id in order_ids:
            held = items[order_id]
            if len(held) == 1:
                singles[next(iter(held))].append(order_id)
        waves: list[tuple[str, int | None, str | None, list[int]]] = []
        in_single = set()
        for sku_id, orders in singles.items():
            if len(orders) >= SINGLE_MIN:
                in_single.update(orders)
                waves += [("single_sku", sku_id, bins.get(sku_id, NO_BIN)[1], orders[i:i + SINGLE_MAX])
                          for i in range(0, len(orders), SINGLE_MAX)]
        by_zone: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for order_id in order_ids:
            if order_id not in in_single and items[order_id]:
                first = min(bins.get(sku, NO_BIN) for sku in items[order_id])
                by_zone[first[1]].append((first[0], order_id))
        for zone, placed in sorted(by_zone.items()):
            ordered = [order_id for _, order_id in sorted(placed)]
            waves += [("mixed", None, zone, ordered[i:i + MIXED_MAX]) for i in range(0, len(ordered), MIXED_MAX)]
        made = []
        at = db_time(dialect, now)
        for kind, sku_id, zone, orders in waves:
            units = sum(sum(items[o].values()) for o in orders)
            ((wave_id,),) = fetchall(s, "INSERT INTO wave (warehouse_id, kind, sku_id, zone, status, orders, units, "
                                        "created_by, created_at) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?) RETURNING id",
                                     (warehouse_id, kind, sku_id, zone, len(orders), units, actor[:100], at))
            update_from(s, "UPDATE fulfilment SET stage = 'waved', wave_id = ?, pick_seq = d.pick_seq, "
                           "version = version + 1, updated_at = ? FROM {rows} "
                           "WHERE fulfilment.order_id = d.order_id AND stage = 'ready'",
                        [("order_id", "bigint"), ("pick_seq", "integer")],
                        [(order_id, seq) for seq, order_id in enumerate(orders, start=1)], (wave_id, at))
            seq_of = {order_id: seq for seq, order_id in enumerate(orders, start=1)}
            executemany(s, "UPDATE fulfilment SET wave_id = ?, pick_seq = ?, version = version + 1, updated_at = ? "
                           "WHERE order_id = ? AND stage = 'merged'",
                        [(wave_id, seq_of[lead], at, member) for member, lead in members.items() if lead in seq_of])
            made.append({"id": int(wave_id), "kind": kind, "sku_id": sku_id, "zone": zone, "orders": len(orders),
                         "units": units})
        audit.record(s, actor=actor, action="fulfilment.build_waves", target=f"warehouse:{warehouse_id}",
                     detail={"waves": [w["id"] for w in made], "orders": sum(w["orders"] for w in made)})
    return made


def merged_into(s: Any, lead_ids: Sequence[int]) -> dict[int, int]:
    """Live orders merged into these leads' parcels: order id → lead id."""
    if not lead_ids:
        return {}
    return {int(o): int(lead) for o, lead in where_in(
        s, "SELECT order_id, parcel_of FROM fulfilment WHERE stage = 'merged' AND parcel_of", lead_ids)}


def pick_list(db: Database, wave_id: int, *, scope: Scope = EVERYTHING) -> dict[str, Any]:
    """The wave and what to pick for it: per SKU and bin, the total, in bin order."""
    with db.read() as s:
        wave = _wave(s, wave_id, scope)
        rows = fetchall(s, "SELECT r.sku_id, k.code, k.name, k.barcode, sum(r.qty) FROM fulfilment f "
                           "JOIN reservation r ON r.order_id = f.order_id JOIN sku k ON k.id = r.sku_id "
                           "WHERE f.wave_id = ? AND f.stage != 'intercepted' GROUP BY r.sku_id, k.code, k.name, "
                           "k.barcode", (wave_id,))
        bins = _bins(s, wave["warehouse_id"], {int(r[0]) for r in rows})
    lines = [{"location": bins.get(int(sku), NO_BIN)[0], "zone": bins.get(int(sku), NO_BIN)[1], "sku_id": int(sku),
              "sku_code": code, "name": name, "barcode": barcode, "qty": int(qty)}
             for sku, code, name, barcode, qty in rows]
    lines.sort(key=lambda line: (line["zone"], line["location"], line["sku_code"]))
    return {**wave, "lines": lines}


def wave_orders(db: Database, wave_id: int, *, scope: Scope = EVERYTHING) -> list[dict[str, Any]]:
    """The wave's orders in label order, with their stage (intercepted ones stay, marked)."""
    with db.read() as s:
        _wave(s, wave_id, scope)
        rows = fetchall(s, "SELECT f.order_id, f.pick_seq, f.stage, f.carrier_code, f.waybill_no, o.platform_order_id "
                           "FROM fulfilment f JOIN sales_order o ON o.id = f.order_id WHERE f.wave_id = ? "
                           "ORDER BY f.pick_seq", (wave_id,))
    return [{"order_id": int(o), "pick_seq": int(seq), "stage": stage, "carrier_code": carrier, "waybill_no": waybill,
             "platform_order_id": platform_order_id} for o, seq, stage, carrier, waybill, platform_order_id in rows]


def mark_picked(db: Database, wave_id: int, *, actor: str, scope: Scope = EVERYTHING,
                now: datetime | None = None) -> dict[str, Any]:
    """The picker has the whole wave: its orders go on to packing."""
    now = now or clock.utcnow()
    with db.write() as s:
        dialect = dialect_of(s)
        wave = _wave(s, wave_id, scope)
        if wave["status"] != "open":
            raise Conflict(f"wave {wave_id} is {wave['status']}", code="fulfilment.wave_not_open")
        at = db_time(dialect, now)
        execute(s, "UPDATE wave SET status = 'picked', picked_at = ? WHERE id = ?", (at, wave_id))
        execute(s, "UPDATE fulfilment SET stage = 'picked', version = version + 1, updated_at = ? "
                   "WHERE wave_id = ? AND stage = 'waved'", (at, wave_id))
        audit.record(s, actor=actor, action="fulfilment.picked", target=f"wave:{wave_id}", detail={})
    with db.read() as s:
        return _wave(s, wave_id, scope)


def _wave(s: Any, wave_id: int, scope: Scope) -> dict[str, Any]:
    rows = fetchall(s, "SELECT id, warehouse_id, kind, sku_id, zone, status, orders, units, created_at, picked_at "
                       "FROM wave WHERE id = ?", (wave_id,))
    if not rows or not scope.has_warehouse(int(rows[0][1])):
        raise NotFound(f"no wave {wave_id}", code="fulfilment.wave_not_found")
    keys = ("id", "warehouse_id", "kind", "sku_id", "zone", "status", "orders", "units", "created_at", "picked_at")
    wave = dict(zip(keys, rows[0], strict=True))
    wave["created_at"], wave["picked_at"] = read_time(wave["created_at"]), read_time(wave["picked_at"])
    return wave


def _bins(s: Any, warehouse_id: int, sku_ids: set[int]) -> dict[int, tuple[str, str]]:
    if not sku_ids:
        return {}
    return {int(sku): (loc, zone) for sku, loc, zone in where_in(
        s, f"SELECT sku_id, location, zone FROM bin_location WHERE warehouse_id = {int(warehouse_id)} AND sku_id",
        sku_ids)}
