"""Inventory use cases: reserve, release and ship stock for orders; adjust stock; retry waiting orders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from baodan.core import clock
from baodan.core.db import Database, db_time, dialect_of, fetchall
from baodan.identity import audit
from baodan.inventory import model, repository
from baodan.inventory.errors import BelowReserved, InvalidAdjustment, UnknownStockLevel
from baodan.inventory.model import Demand, MoveKind, ReservationPlan
from baodan.inventory.repository import HeldStock
from baodan.inventory.schemas import StockLevelRead


@dataclass(slots=True)
class Allocation:
    """What one transaction will do to stock; computed with the stock rows locked."""

    plan: ReservationPlan
    releasing: list[HeldStock] = field(default_factory=list)
    shipping: list[HeldStock] = field(default_factory=list)
    dropping_order_ids: list[int] = field(default_factory=list)  # waiting orders that closed


def plan_allocation(db: Session, *, demands: Sequence[Demand], release_order_ids: Collection[int] = (),
                    ship_order_ids: Collection[int] = (), drop_order_ids: Collection[int] = (),
                    respect_retry_marks: bool = True) -> Allocation:
    """Lock the stock rows these orders touch (sorted) and plan reservations first paid, first served.

    Stock released by closing orders in the same transaction is free for the demands. Demands on SKUs
    marked for retry wait behind the orders already waiting for them (`respect_retry_marks`).
    """
    held = repository.reservations_of(db, set(release_order_ids) | set(ship_order_ids))
    releasing = [h for h in held if h.order_id in release_order_ids]
    shipping = [h for h in held if h.order_id in ship_order_ids]
    demand_skus = {line.sku_id for d in demands for line in d.lines}
    free = repository.lock_free_stock(db, demand_skus | {h.sku_id for h in held})
    for h in releasing:
        free[(h.sku_id, h.warehouse_id)] = free.get((h.sku_id, h.warehouse_id), 0) + h.qty
    blocked = repository.skus_marked_for_retry(db, demand_skus) if respect_retry_marks else set()
    plan = model.plan_reservations(demands, free, blocked_sku_ids=blocked)
    return Allocation(plan, releasing, shipping, list(drop_order_ids))


def write_allocation(db: Session, allocation: Allocation, *, now: datetime, reference: str,
                     from_backlog: bool = False, actor: str = "worker") -> None:
    """Write levels (conditional SQL), ledger moves, reservations and the waiting list for a plan.

    The order rows and lines MUST already exist. `from_backlog`: the demands came from the waiting
    list (a retry), so granted orders leave it and short ones are already on it.
    """
    plan = allocation.plan
    deltas: dict[model.StockKey, list[int]] = defaultdict(lambda: [0, 0])
    moves: list[tuple[int, int, str, int, int, int | None, str | None]] = []
    for key, qty in sorted(plan.reserved_by_key().items()):
        deltas[key][1] += qty
        moves.append((key[0], key[1], MoveKind.reserve, 0, qty, None, reference))
    for kind, held_list in ((MoveKind.release, allocation.releasing), (MoveKind.ship, allocation.shipping)):
        per_order: dict[tuple[int, int, int], int] = defaultdict(int)
        for h in held_list:
            per_order[(h.order_id, h.sku_id, h.warehouse_id)] += h.qty
        for (order_id, sku_id, warehouse_id), qty in sorted(per_order.items()):
            on_hand = -qty if kind is MoveKind.ship else 0
            deltas[(sku_id, warehouse_id)][0] += on_hand
            deltas[(sku_id, warehouse_id)][1] -= qty
            moves.append((sku_id, warehouse_id, kind, on_hand, -qty, order_id, reference))
    repository.apply_level_deltas(db, {k: (v[0], v[1]) for k, v in deltas.items()}, now=now)
    repository.insert_moves(db, moves, actor=actor, now=now)
    closing = {h.order_id for h in allocation.releasing} | {h.order_id for h in allocation.shipping}
    repository.delete_reservations(db, closing)
    repository.insert_reservations(db, [
        HeldStock(g.demand.order_id, line.order_line_id, line.sku_id, g.warehouse_id, line.qty)
        for g in plan.granted for line in g.demand.lines], now=now)
    leaving = list(allocation.dropping_order_ids)
    if from_backlog:
        leaving += [g.demand.order_id for g in plan.granted]
        repository.mark_backlog_short(db, [(line.sku_id in awaited, line.order_line_id, line.sku_id)
                                           for s in plan.short for awaited in (_awaited(s, plan.free_after),)
                                           for line in s.demand.lines])
    else:
        repository.insert_backlog(db, [(line.order_line_id, line.sku_id, s.demand.order_id, line.qty,
                                        s.demand.paid_at, line.sku_id in awaited)
                                       for s in plan.short for awaited in (_awaited(s, plan.free_after),)
                                       for line in s.demand.lines])
    repository.delete_backlog(db, leaving)
    freed = {h.sku_id for h in allocation.releasing}
    if not from_backlog:
        # An order queued behind a retry must be seen by that retry, even if it was paid earlier.
        freed |= {sku for s in plan.short for sku in s.short_sku_ids
                  if any(plan.free_after.get((sku, w), 0) > 0 for w in s.demand.warehouses)}
    repository.mark_for_retry(db, repository.skus_awaited(db, freed), now=now)


def _awaited(short: model.Shortage, free_after: dict[model.StockKey, int]) -> set[int]:
    """The SKUs whose stock arriving should retry this order (its backlog rows flagged `short`).

    In each of its warehouses the order lacks some SKUs; it becomes servable only when every SKU one
    warehouse lacks has arrived there. So it is enough to watch at least one lacking SKU per warehouse
    (a hitting set): the order cannot become servable without a watched SKU arriving, and each retry
    that still fails watches again what is lacking then. Starting from what the first choice lacks
    (and what it queues behind), this is usually just the hot SKU, so releases of the plain SKUs that
    waiting orders also contain do not set off retries that could serve no one.
    """
    need = short.demand.need()
    watched = set(short.short_sku_ids)
    for warehouse_id in short.demand.warehouses:
        lacking = sorted(sku_id for sku_id, qty in need.items() if free_after.get((sku_id, warehouse_id), 0) < qty)
        if lacking and watched.isdisjoint(lacking):
            watched.add(lacking[0])
    return watched


def adjust_stock(db: Database, *, sku_id: int, warehouse_id: int, delta: int | None = None,
                 set_to: int | None = None, kind: MoveKind = MoveKind.adjust, reason: str | None = None,
                 actor: str = "system", idempotency_key: str | None = None, ip: str | None = None) -> StockLevelRead:
    """Change on-hand stock by `delta` or to `set_to`, writing one ledger move. Idempotent per
    `idempotency_key`: a repeated key changes nothing and returns the current level. Refuses to go
    below what is reserved. Orders waiting for this SKU are then retried by the worker."""
    if (delta is None) == (set_to is None):
        raise InvalidAdjustment("give exactly one of delta or set_to")
    if kind not in (MoveKind.adjust, MoveKind.receipt):
        raise InvalidAdjustment(f"stock can be adjusted or received, not {kind}")
    if set_to is not None and set_to < 0:
        raise InvalidAdjustment("set_to must not be negative")
    if kind is MoveKind.receipt and (delta is None or delta <= 0):
        raise InvalidAdjustment("a receipt adds a positive quantity")
    now = clock.utcnow()
    with db.write() as session:
        dialect = dialect_of(session)
        if idempotency_key is not None and fetchall(
                session, "SELECT 1 FROM stock_move WHERE idempotency_key = ?", (idempotency_key,)):
            return _level(session, sku_id, warehouse_id)
        _ensure_level(session, sku_id, warehouse_id, now)
        lock = " FOR UPDATE" if dialect == "postgresql" else ""
        ((on_hand, reserved),) = fetchall(
            session, f"SELECT on_hand, reserved FROM stock_level WHERE sku_id = ? AND warehouse_id = ?{lock}",
            (sku_id, warehouse_id))
        change = delta if delta is not None else set_to - on_hand  # type: ignore[operator]
        if on_hand + change < reserved:
            raise BelowReserved(f"on hand would be {on_hand + change}, below the {reserved} reserved",
                                details={"on_hand": on_hand, "reserved": reserved, "change": change})
        if change:
            repository.apply_level_deltas(session, {(sku_id, warehouse_id): (change, 0)}, now=now)
            repository.insert_moves(session, [(sku_id, warehouse_id, kind, change, 0, None, reason)],
                                    actor=actor, now=now, idempotency_key=idempotency_key)
            if change > 0:
                repository.mark_for_retry(session, repository.skus_awaited(session, {sku_id}), now=now)
            audit.record(session, actor=actor, action="stock.adjust", target=f"sku:{sku_id}@warehouse:{warehouse_id}",
                         ip=ip, detail={"kind": str(kind), "before": {"on_hand": on_hand, "reserved": reserved},
                                        "after": {"on_hand": on_hand + change, "reserved": reserved},
                                        "reason": reason, "idempotency_key": idempotency_key})
        return _level(session, sku_id, warehouse_id)


def set_safety_stock(db: Database, *, sku_id: int, warehouse_id: int, safety_stock: int, actor: str = "system",
                     ip: str | None = None) -> StockLevelRead:
    """Set how many units of a level are kept back from the platforms (sellable = on hand − reserved −
    safety stock; channels.stock). On hand and reserved do not change, so no ledger move is written; the
    change is audited. A level not stocked yet is created empty."""
    if safety_stock < 0:
        raise InvalidAdjustment("safety_stock must not be negative")
    now = clock.utcnow()
    with db.write() as session:
        dialect = dialect_of(session)
        _ensure_level(session, sku_id, warehouse_id, now)
        lock = " FOR UPDATE" if dialect == "postgresql" else ""
        ((before,),) = fetchall(
            session, f"SELECT safety_stock FROM stock_level WHERE sku_id = ? AND warehouse_id = ?{lock}",
            (sku_id, warehouse_id))
        if before != safety_stock:
            from baodan.core.db import execute

            execute(session, "UPDATE stock_level SET safety_stock = ?, updated_at = ? "
                             "WHERE sku_id = ? AND warehouse_id = ?",
                    (safety_stock, db_time(dialect, now), sku_id, warehouse_id))
            audit.record(session, actor=actor, action="stock.safety_stock",
                         target=f"sku:{sku_id}@warehouse:{warehouse_id}", ip=ip,
                         detail={"before": before, "after": safety_stock})
        return _level(session, sku_id, warehouse_id)


def _ensure_level(session: Session, sku_id: int, warehouse_id: int, now: datetime) -> None:
    """The stock level of a SKU in a warehouse, created empty when there is none yet; both must exist."""
    if not fetchall(session, "SELECT 1 FROM sku WHERE id = ?", (sku_id,)) or not fetchall(
            session, "SELECT 1 FROM warehouse WHERE id = ?", (warehouse_id,)):
        raise UnknownStockLevel(f"no SKU {sku_id} or warehouse {warehouse_id}")
    from baodan.core.db import execute

    execute(session, "INSERT INTO stock_level (sku_id, warehouse_id, on_hand, reserved, safety_stock, "
                     "updated_at) VALUES (?, ?, 0, 0, 0, ?) ON CONFLICT DO NOTHING",
            (sku_id, warehouse_id, db_time(dialect_of(session), now)))


def _level(session: Session, sku_id: int, warehouse_id: int) -> StockLevelRead:
    from baodan.core.db import read_time

    rows = fetchall(session, "SELECT on_hand, reserved, safety_stock, updated_at FROM stock_level "
                             "WHERE sku_id = ? AND warehouse_id = ?", (sku_id, warehouse_id))
    if not rows:
        raise UnknownStockLevel(f"no stock level for SKU {sku_id} in warehouse {warehouse_id}")
    on_hand, reserved, safety, updated_at = rows[0]
    return StockLevelRead(sku_id=sku_id, warehouse_id=warehouse_id, on_hand=on_hand, reserved=reserved,
                          available=on_hand - reserved, safety_stock=safety, updated_at=read_time(updated_at))
