"""Splitting orders (拆单, docs/fulfilment.md §4): one platform order shipped as several parcels.

The surge reserves an order whole, from one warehouse, or lets it wait (`inventory.model`). Two cases
want it in parts instead, and the split rules (hook `split`) decide, per order, whether to split:

- **by warehouse** (`split_kind` "warehouse"): no one warehouse of the shop has every line, but several
  together do — each ships what it has;
- **by availability** (`split_kind` "availability"): some lines are in stock and others are not anywhere —
  ship what is there, the rest waits for stock as its own part.

The shipped rules split by warehouse and never by availability; a merchant's rules may, say, split by
availability once an order has waited a day (`waiting_minutes`). An operator splits by hand in the anomaly
queue (`split_by_hand`): chosen lines become a part of their own, e.g. to ship the rest of a held order.

A part is a `sales_order` row of its own (`parent_order_id` = the original; its `platform_order_id` the
original's with `#2`, `#3`…, since (channel, platform order id) is unique): the part's lines, reservations
and waiting-list rows are moved to it (they keep their ids), its amounts are its lines' (the order's
discount shared in proportion, the shipping fee stays with the original), so the parts add up to what the
platform was paid. The original keeps the first part. Each part then goes through fulfilment as an order:
review, routing, courier, waves, packing, shipping; its waybill is written back to the platform under the
original's id with the part's lines (`orders.shipping`). The pipeline carries the platform's later news of
the original to its parts (`pipeline._carry_to_parts`): a cancellation or refund stops every part, a new
address or remark reaches the parts not yet shipped.

Splitting is by whole lines: a line (with a bundle's components) ships from one warehouse. A line's
quantity is not divided (one line of 3 units with 2 in stock waits whole).

Locks: the original's order lock first, then the part's own (every path that takes both does so in this
order), then the stock rows (sorted), as the pipeline does."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from baodan.catalog import repository as catalog
from baodan.core import clock
from baodan.core.db import (
    Database,
    db_json,
    db_time,
    dialect_of,
    execute,
    executemany,
    fetchall,
    insert_rows,
    read_json,
    read_time,
    where_in,
)
from baodan.core.errors import Conflict, Invalid
from baodan.fulfilment.tables import DECISION_COLUMNS
from baodan.identity import audit
from baodan.identity.scope import EVERYTHING, Scope
from baodan.inventory import model
from baodan.inventory import repository as stock
from baodan.inventory import services as inventory
from baodan.inventory.model import Demand, DemandLine, Grant, ReservationPlan, Shortage, StockKey
from baodan.orders import repository
from baodan.orders.model import OrderState
from baodan.orders.queries import OrderNotFound
from baodan.orders.tables import sales_order
from baodan.rules.store import RuleBook

BATCH = 500
RESCAN = timedelta(seconds=60)  # a waiting order that could not be split is looked at again after this
HAND_STAGES = ("review", "held", "route")  # a reserved order splits by hand before its courier is chosen


@dataclass(frozen=True)
class Part:
    warehouse_id: int | None  # None: lines no warehouse has now (they wait for stock)
    line_ids: tuple[int, ...]


def plan_parts(needs: Mapping[int, Mapping[int, int]], warehouses: Sequence[int], free: Mapping[StockKey, int], *,
               blocked: Collection[int] = ()) -> tuple[list[Part], tuple[int, ...], dict[StockKey, int]]:
    """Lines (id → component SKU → units) into warehouse parts: the warehouse serving most of the lines
    left goes first (ties: the shop's preference order), until no warehouse serves any. Returns the parts,
    the lines left waiting and the free stock the parts leave. Lines needing a `blocked` SKU (orders waiting
    for it are served first) wait. `free` is not changed."""
    remaining = dict(free)
    left = list(needs)
    parts: list[Part] = []
    while left:
        best: tuple[int, list[int]] | None = None
        for warehouse_id in warehouses:
            taken = _servable(left, needs, warehouse_id, remaining, blocked)
            if taken and (best is None or len(taken) > len(best[1])):
                best = (warehouse_id, taken)
        if best is None:
            break
        warehouse_id, taken = best
        for line_id in taken:
            for sku_id, qty in needs[line_id].items():
                remaining[(sku_id, warehouse_id)] -= qty
        parts.append(Part(warehouse_id, tuple(taken)))
        left = [line_id for line_id in left if line_id not in taken]
    return parts, tuple(left), remaining


def _servable(lines: Sequence[int], needs: Mapping[int, Mapping[int, int]], warehouse_id: int,
              free: Mapping[StockKey, int], blocked: Collection[int]) -> list[int]:
    used: dict[int, int] = {}
    taken = []
    for line_id in lines:
        need = needs[line_id]
        if any(sku_id in blocked for sku_id in need):
            continue
        if all(free.get((sku_id, warehouse_id), 0) - used.get(sku_id, 0) >= qty for sku_id, qty in need.items()):
            for sku_id, qty in need.items():
                used[sku_id] = used.get(sku_id, 0) + qty
            taken.append(line_id)
    return taken


def split_kind(parts: Sequence[Part], waiting: Sequence[int]) -> str | None:
    """What splitting this plan would be: None when it is no split (one warehouse has it all: the stock
    retry serves it whole; or nothing is in stock)."""
    if not parts or (len(parts) == 1 and not waiting):
        return None
    return "availability" if waiting else "warehouse"


def share_amounts(line_amounts: Mapping[int, int], groups: Sequence[Sequence[int]], *, goods_total_fen: int,
                  shipping_fee_fen: int, discount_fen: int, paid_total_fen: int) -> list[dict[str, int]]:
    """Amounts of each group of lines (the first is the original's): goods are its lines' amounts; the
    order's discount is shared in proportion to goods (rounded down), the shipping fee stays with the first;
    the first takes what is left, so the groups add up to the order exactly."""
    out = []
    for group in groups[1:]:
        goods = sum(line_amounts[i] for i in group)
        discount = discount_fen * goods // goods_total_fen if goods_total_fen > 0 else 0
        out.append({"goods_total_fen": goods, "shipping_fee_fen": 0, "discount_fen": discount,
                    "paid_total_fen": goods - discount})
    first = {"goods_total_fen": goods_total_fen, "shipping_fee_fen": shipping_fee_fen,
             "discount_fen": discount_fen, "paid_total_fen": paid_total_fen}
    for part in out:
        for key in first:
            first[key] -= part[key]
    return [first, *out]


# ------------------------------------------------------------------------------------------ the stage step

@dataclass
class _Waiting:
    order_id: int
    channel: str
    platform_order_id: str
    shop_id: int
    shop: str
    paid_at: datetime | None
    receiver: dict[str, Any]
    paid_total_fen: int
    needs: dict[int, dict[int, int]]  # line id → SKU → units, in line order
    quantities: dict[int, int]
    codes: list[str]


class Splitter:
    """The split step of the fulfilment stage: waiting orders of several lines, scanned in id order a page
    per pass and again from the start every RESCAN; the ones a split would ship (and the rules allow) are
    split in one transaction per page."""

    def __init__(self, *, rescan: timedelta = RESCAN) -> None:
        self.rescan = rescan
        self.after = 0
        self.next_scan: datetime | None = None

    def once(self, db: Database, rules: RuleBook, *, limit: int = BATCH, now: datetime | None = None) -> int:
        """Split what this pass finds; how many orders were split."""
        now = now or clock.utcnow()
        if self.after == 0 and self.next_scan is not None and now < self.next_scan:
            return 0
        with db.read() as s:
            ids = [int(r[0]) for r in fetchall(
                s, "SELECT order_id FROM inventory_backlog WHERE order_id > ? GROUP BY order_id "
                   "HAVING count(DISTINCT order_line_id) > 1 ORDER BY order_id LIMIT ?", (self.after, limit))]
            if len(ids) < limit:
                self.after, self.next_scan = 0, now + self.rescan
            else:
                self.after = ids[-1]
            waiting = _load_waiting(s, ids)
            if not waiting:
                return 0
            prefs = catalog.load_warehouse_preferences(s, {w.shop_id for w in waiting})
            skus = {sku for w in waiting for need in w.needs.values() for sku in need}
            free = {(int(k), int(w)): int(f) for k, w, f in where_in(
                s, "SELECT sku_id, warehouse_id, on_hand - reserved FROM stock_level WHERE sku_id", skus)}
            blocked = stock.skus_marked_for_retry(s, skus)
        candidates, facts = [], []
        for w in sorted(waiting, key=lambda w: (w.paid_at or now, w.order_id)):
            parts, left, after = plan_parts(w.needs, prefs.get(w.shop_id, ()), free, blocked=blocked)
            kind = split_kind(parts, left)
            if kind is None:
                continue
            free = after  # the next order in paid order sees the stock this one would take
            candidates.append((w, kind))
            facts.append(_facts(w, kind, len(parts) + bool(left), len(left), now))
        if not candidates:
            return 0
        decider = rules.decider("split")
        decisions = decider.decide(facts)
        chosen = [(w, kind, d) for (w, kind), d in zip(candidates, decisions, strict=True) if d.action == "split"]
        if not chosen:
            return 0
        return _split_waiting(db, chosen, decider.version, now)


def _load_waiting(s: Session, ids: Sequence[int]) -> list[_Waiting]:
    if not ids:
        return []
    orders = {int(r[0]): r for r in where_in(
        s, "SELECT o.id, o.channel, o.platform_order_id, o.shop_id, p.code, o.paid_at, o.receiver, "
           "o.paid_total_fen FROM sales_order o JOIN shop p ON p.id = o.shop_id "
           "WHERE o.state = 'awaiting_stock' AND o.id", ids)}
    needs: dict[int, dict[int, dict[int, int]]] = {}
    for order_id, line_id, sku_id, qty in where_in(
            s, "SELECT order_id, order_line_id, sku_id, qty FROM inventory_backlog WHERE order_id", orders):
        line = needs.setdefault(int(order_id), {}).setdefault(int(line_id), {})
        line[int(sku_id)] = line.get(int(sku_id), 0) + int(qty)
    lines: dict[int, list[tuple[int, int, str | None]]] = {}
    for order_id, line_id, qty, code in where_in(
            s, "SELECT order_id, id, quantity, sku_code FROM order_line WHERE order_id", orders):
        lines.setdefault(int(order_id), []).append((int(line_id), int(qty), code))
    out = []
    for order_id, row in orders.items():
        own = sorted(lines.get(order_id, []))
        need = needs.get(order_id, {})
        if len(need) < 2 or any(line_id not in need for line_id, _, _ in own):
            continue  # a line without waiting demand (an unknown SKU): not this step's to split
        out.append(_Waiting(order_id, row[1], row[2], int(row[3]), row[4], read_time(row[5]),
                            read_json(row[6]) or {}, int(row[7]),
                            {line_id: need[line_id] for line_id, _, _ in own},
                            {line_id: qty for line_id, qty, _ in own}, [c for _, _, c in own if c]))
    return out


def _facts(w: _Waiting, kind: str, parts: int, waiting_lines: int, now: datetime) -> dict[str, Any]:
    waited = (now - w.paid_at).total_seconds() // 60 if w.paid_at else 0
    return {"channel": w.channel, "shop": w.shop, "province": w.receiver.get("province"),
            "city": w.receiver.get("city"), "line_count": len(w.needs), "quantity": sum(w.quantities.values()),
            "paid_total_fen": w.paid_total_fen, "sku_codes": w.codes, "waiting_minutes": int(waited),
            "split_kind": kind, "parts": parts, "waiting_lines": waiting_lines}


def _split_waiting(db: Database, chosen: list[tuple[_Waiting, str, Any]], version: int, now: datetime) -> int:
    """Split the chosen waiting orders, re-planned under the locks (stock may have moved since the read)."""
    decided: list[tuple[Any, ...]] = []
    with db.write() as s:
        dialect = dialect_of(s)
        roots = _roots(s, [w.order_id for w, _, _ in chosen])  # originals first, then parts (as the pipeline)
        repository.lock_orders(s, {roots.get(w.order_id, (w.channel, w.platform_order_id)) for w, _, _ in chosen})
        repository.lock_orders(s, {(w.channel, w.platform_order_id) for w, _, _ in chosen if w.order_id in roots})
        still = {int(r[0]) for r in where_in(
            s, "SELECT id FROM sales_order WHERE state = 'awaiting_stock' AND id", [w.order_id for w, _, _ in chosen])}
        chosen = [c for c in chosen if c[0].order_id in still]
        skus = {sku for w, _, _ in chosen for need in w.needs.values() for sku in need}
        free = stock.lock_free_stock(s, skus)
        blocked = stock.skus_marked_for_retry(s, skus)
        prefs = catalog.load_warehouse_preferences(s, {w.shop_id for w, _, _ in chosen})
        for w, kind, decision in sorted(chosen, key=lambda c: (c[0].paid_at or now, c[0].order_id)):
            current = {int(r[0]): r for r in where_in(
                s, "SELECT order_line_id, sku_id, qty FROM inventory_backlog WHERE order_id", [w.order_id])}
            if set(current) != set(w.needs):
                continue  # its lines changed meanwhile (split by hand): next pass
            parts, left, after = plan_parts(w.needs, prefs.get(w.shop_id, ()), free, blocked=blocked)
            if split_kind(parts, left) != kind:
                continue  # the stock moved: the next pass decides again
            free = after
            groups = [list(p.line_ids) for p in parts] + ([list(left)] if left else [])
            ids = _write_parts(s, w.order_id, groups, now=now, kind=kind, actor="fulfilment")
            paid_key = clock.sql_text(w.paid_at or now)
            granted = [Grant(Demand(ids[i], paid_key, _demand(w.needs, p.line_ids), (p.warehouse_id,)),
                             p.warehouse_id) for i, p in enumerate(parts) if p.warehouse_id is not None]
            short = [Shortage(Demand(ids[-1], paid_key, _demand(w.needs, left), prefs.get(w.shop_id, ())),
                              tuple(sorted({sku for i in left for sku in w.needs[i]})))] if left else []
            plan = ReservationPlan(granted=granted, short=short, free_after=dict(free))
            inventory.write_allocation(s, inventory.Allocation(plan), now=now, reference=f"split:{w.order_id}",
                                       from_backlog=True, actor="fulfilment")
            _set_states(s, plan, now)
            decided.append((w.order_id, "split", version, decision.rule, (decision.rule_title or "")[:200] or None,
                            "split", kind, db_time(dialect, now)))
        insert_rows(s, "order_decision", DECISION_COLUMNS, decided)
    return len(decided)


def _demand(needs: Mapping[int, Mapping[int, int]], line_ids: Sequence[int]) -> tuple[DemandLine, ...]:
    return tuple(DemandLine(i, sku, qty) for i in line_ids for sku, qty in needs[i].items())


def _set_states(s: Session, plan: ReservationPlan, now: datetime) -> None:
    """The parts' states after their stock was planned: reserved in the plan's warehouse, or waiting."""
    dialect = dialect_of(s)
    at = db_time(dialect, now)
    executemany(s, "UPDATE sales_order SET state = 'reserved', warehouse_id = ?, reserved_at = ?, short_sku_ids = ?, "
                   "updated_at = ? WHERE id = ?",
                [(g.warehouse_id, at, db_json(dialect, []), at, g.demand.order_id) for g in plan.granted])
    executemany(s, "UPDATE sales_order SET state = 'awaiting_stock', warehouse_id = NULL, reserved_at = NULL, "
                   "short_sku_ids = ?, updated_at = ? WHERE id = ?",
                [(db_json(dialect, list(x.short_sku_ids)), at, x.demand.order_id) for x in plan.short])


# ----------------------------------------------------------------------------------------- by hand

def split_by_hand(db: Database, order_id: int, line_ids: Sequence[int], *, actor: str, note: str | None = None,
                  ip: str | None = None, scope: Scope = EVERYTHING) -> dict[str, Any]:
    """Make the given lines a part of their own. A reserved order (still in review, held or waiting for
    routing) keeps its stock: the part takes the reservations of its lines and the order's place in the
    warehouse flow (a held order's part is held too, for the operator to release or cancel). A waiting
    order's two parts are each reserved if their stock is there now (in paid order behind orders already
    waiting for it), or wait. Returns both parts."""
    now = clock.utcnow()
    chosen = list(dict.fromkeys(int(i) for i in line_ids))
    if not chosen:
        raise Invalid("name the lines that make the new part", code="fulfilment.split_no_lines")
    with db.write() as s:
        dialect = dialect_of(s)
        rows = fetchall(s, "SELECT channel, platform_order_id, shop_id, parent_order_id FROM sales_order WHERE id = ?",
                        (order_id,))
        if not rows or not scope.has_shop(rows[0][2]):
            raise OrderNotFound(f"no order {order_id}")
        channel, platform_order_id, shop_id, parent = rows[0]
        if parent is not None:
            repository.lock_orders(s, [_key(s, int(parent))])
        repository.lock_orders(s, [(channel, platform_order_id)])
        ((state, paid_at),) = fetchall(s, "SELECT state, paid_at FROM sales_order WHERE id = ?", (order_id,))
        stage = fetchall(s, "SELECT stage, hold_reason FROM fulfilment WHERE order_id = ?", (order_id,))
        if not ((state == OrderState.reserved and (not stage or stage[0][0] in HAND_STAGES))
                or (state == OrderState.awaiting_stock and not stage)):
            where = stage[0][0] if stage else state
            raise Conflict(f"order {order_id} is {where}: an order splits while it waits for stock, or is reserved "
                           f"and not yet past routing", code="fulfilment.not_splittable",
                           details={"state": state, "stage": stage[0][0] if stage else None})
        own = [int(r[0]) for r in fetchall(s, "SELECT id FROM order_line WHERE order_id = ? ORDER BY line_no",
                                             (order_id,))]
        unknown = sorted(set(chosen) - set(own))
        if unknown:
            raise Invalid(f"lines {unknown} are not lines of order {order_id}", code="fulfilment.split_bad_lines",
                          details={"lines": unknown})
        if len(chosen) == len(own):
            raise Invalid("a part needs lines of its own and must leave the order at least one line",
                          code="fulfilment.split_all_lines")
        groups = [[i for i in own if i not in chosen], [i for i in own if i in chosen]]
        ids = _write_parts(s, order_id, groups, now=now, kind="by_hand", actor=actor)
        if state == OrderState.awaiting_stock:
            _reserve_parts(s, ids, int(shop_id), clock.sql_text(read_time(paid_at) or now), now)
        elif stage:
            execute(s, "INSERT INTO fulfilment (order_id, stage, hold_reason, warehouse_id, version, updated_at) "
                       "SELECT ?, stage, hold_reason, warehouse_id, 0, ? FROM fulfilment WHERE order_id = ?",
                    (ids[1], db_time(dialect, now), order_id))
        audit.record(s, actor=actor, action="fulfilment.split", target=f"order:{order_id}", ip=ip,
                     detail={"before": {"state": state, "lines": own}, "note": note,
                             "after": {"parts": [{"order_id": i, "lines": g}
                                                 for i, g in zip(ids, groups, strict=True)]}})
        out = [dict(zip(("order_id", "platform_order_id", "state", "warehouse_id"), r, strict=True)) for r in where_in(
            s, "SELECT id, platform_order_id, state, warehouse_id FROM sales_order WHERE id", ids)]
    return {"parts": sorted(out, key=lambda p: ids.index(p["order_id"]))}


def _reserve_parts(s: Session, ids: Sequence[int], shop_id: int, paid_key: str, now: datetime) -> None:
    """Plan the stock of a waiting order's parts afresh: each reserved whole if it can be now, else waiting."""
    prefs = catalog.load_warehouse_preferences(s, [shop_id]).get(shop_id, ())
    needs: dict[int, list[DemandLine]] = {}
    for order_id, line_id, sku_id, qty in where_in(
            s, "SELECT order_id, order_line_id, sku_id, qty FROM inventory_backlog WHERE order_id", ids):
        needs.setdefault(int(order_id), []).append(DemandLine(int(line_id), int(sku_id), int(qty)))
    demands = [Demand(i, paid_key, tuple(sorted(needs[i])), prefs) for i in ids if i in needs]
    skus = {line.sku_id for d in demands for line in d.lines}
    free = stock.lock_free_stock(s, skus)
    plan = model.plan_reservations(demands, free, blocked_sku_ids=stock.skus_marked_for_retry(s, skus))
    inventory.write_allocation(s, inventory.Allocation(plan), now=now, reference=f"split:{ids[0]}",
                               from_backlog=True, actor="fulfilment")
    _set_states(s, plan, now)


# ------------------------------------------------------------------------------------ refunded lines

OPEN = (OrderState.reserved, OrderState.awaiting_stock, OrderState.held)


def cancel_refunded_lines(s: Session, refunds: Mapping[int, Collection[str]], *, now: datetime) -> int:
    """部分退款 before shipping: lines the platform says were refunded (platform line ids, per original
    order; the pipeline calls this in its batch, with the originals locked) leave their parcel. The lines go
    to a part of their own, which is cancelled at once (its stock released, its waiting-list rows dropped;
    a part of an order already in fulfilment is intercepted there); an order whose every line is refunded is
    cancelled itself. A waiting order left with fewer lines is tried again for stock. Lines already handled
    (`refunded_at`) and orders shipped or cancelled are left alone. Returns the lines taken out."""
    dialect = dialect_of(s)
    at = db_time(dialect, now)
    hits: dict[int, list[int]] = {}
    states: dict[int, tuple[str, int | None]] = {}
    parts: set[tuple[str, str]] = set()
    for line_id, order_id, platform_line_id, root, state, parent, channel, pid in where_in(
            s, "SELECT l.id, l.order_id, l.platform_line_id, coalesce(o.parent_order_id, o.id), o.state, "
               "o.parent_order_id, o.channel, o.platform_order_id FROM order_line l JOIN sales_order o ON "
               "o.id = l.order_id WHERE l.refunded_at IS NULL AND coalesce(o.parent_order_id, o.id)", refunds):
        if str(platform_line_id) in refunds.get(int(root), ()) and state in OPEN:
            hits.setdefault(int(order_id), []).append(int(line_id))
            states[int(order_id)] = (state, int(parent) if parent is not None else None)
            if parent is not None:
                parts.add((channel, pid))
    if not hits:
        return 0
    repository.lock_orders(s, parts)  # parts after their originals (locked by the caller)
    own: dict[int, list[int]] = {}
    for order_id, line_id in where_in(s, "SELECT order_id, id FROM order_line WHERE order_id", hits):
        own.setdefault(int(order_id), []).append(int(line_id))
    release, drop, cancelled, history = [], [], [], []
    for order_id, lines in sorted(hits.items()):
        state = states[order_id][0]
        if set(own[order_id]) <= set(lines):
            target = order_id
        else:
            keep = sorted(set(own[order_id]) - set(lines))
            target = _write_parts(s, order_id, [keep, sorted(lines)], now=now, kind="refund", actor="platform")[1]
            execute(s, "INSERT INTO fulfilment (order_id, stage, hold_reason, warehouse_id, wave_id, version, "
                       "updated_at) SELECT ?, stage, hold_reason, warehouse_id, wave_id, 0, ? FROM fulfilment "
                       "WHERE order_id = ?", (target, at, order_id))
            if state == OrderState.awaiting_stock:  # fewer lines may be served now: the stock retry decides
                execute(s, "UPDATE inventory_backlog SET short = ? WHERE order_id = ?", (True, order_id))
                stock.mark_for_retry(s, {int(r[0]) for r in fetchall(
                    s, "SELECT sku_id FROM inventory_backlog WHERE order_id = ?", (order_id,))}, now=now)
        (release if state == OrderState.reserved else drop).append(target)
        cancelled.append(target)
        history.append((order_id, "line_refunded", at, db_json(dialect, {"lines": sorted(lines), "part": target})))
        if target != order_id:
            history.append((target, "cancelled", at, db_json(dialect, {"why": "line_refunded"})))
    allocation = inventory.plan_allocation(s, demands=[], release_order_ids=release, drop_order_ids=drop)
    inventory.write_allocation(s, allocation, now=now, reference="refund", actor="platform")
    executemany(s, "UPDATE sales_order SET state = 'cancelled', warehouse_id = NULL, reserved_at = NULL, "
                   "short_sku_ids = ?, updated_at = ? WHERE id = ?", [(db_json(dialect, []), at, i) for i in cancelled])
    executemany(s, "UPDATE order_line SET refunded_at = ? WHERE id = ?",
                [(at, line_id) for lines in hits.values() for line_id in lines])
    repository.insert_events(s, history)
    return sum(len(lines) for lines in hits.values())


# --------------------------------------------------------------------------------------------- writing

_COPIED = [c.name for c in sales_order.c]
_SET = ("id", "platform_order_id", "goods_total_fen", "shipping_fee_fen", "discount_fen", "paid_total_fen",
        "parent_order_id", "updated_at")


def _write_parts(s: Session, order_id: int, groups: Sequence[Sequence[int]], *, now: datetime, kind: str,
                 actor: str) -> list[int]:
    """Make groups[1:] of the order's lines parts of their own (new orders, copies of this one with those
    lines, and their reservations and waiting-list rows); the order keeps groups[0]. Amounts are shared
    (`share_amounts`). States are the caller's to set. Returns the ids: this order's, then the new parts'."""
    dialect = dialect_of(s)
    at = db_time(dialect, now)
    ((platform_order_id, parent, goods, shipping, discount, paid),) = fetchall(
        s, "SELECT platform_order_id, parent_order_id, goods_total_fen, shipping_fee_fen, discount_fen, "
           "paid_total_fen FROM sales_order WHERE id = ?", (order_id,))
    root = int(parent) if parent is not None else order_id
    ((root_pid, taken),) = fetchall(s, "SELECT o.platform_order_id, (SELECT count(*) FROM sales_order c WHERE "
                                       "c.parent_order_id = o.id) FROM sales_order o WHERE o.id = ?", (root,))
    amounts = {int(i): int(a) for i, a in where_in(s, "SELECT id, amount_fen FROM order_line WHERE id",
                                                    [i for g in groups for i in g])}
    shares = share_amounts(amounts, groups, goods_total_fen=int(goods), shipping_fee_fen=int(shipping),
                           discount_fen=int(discount), paid_total_fen=int(paid))
    new_ids = repository.allocate_ids(s, "sales_order", len(groups) - 1)
    rest = [c for c in _COPIED if c not in _SET]
    insert = (f"INSERT INTO sales_order ({', '.join(_SET + tuple(rest))}) SELECT {', '.join('?' for _ in _SET)}, "
              f"{', '.join(rest)} FROM sales_order WHERE id = ?")
    for n, (new_id, share) in enumerate(zip(new_ids, shares[1:], strict=True), start=int(taken) + 2):
        pid = f"{str(root_pid)[:64 - len(str(n)) - 1]}#{n}"
        execute(s, insert, (new_id, pid, share["goods_total_fen"], share["shipping_fee_fen"], share["discount_fen"],
                            share["paid_total_fen"], root, at, order_id))
    moves = [(new_id, line_id) for new_id, group in zip(new_ids, groups[1:], strict=True) for line_id in group]
    for table, column in (("order_line", "id"), ("reservation", "order_line_id"),
                          ("inventory_backlog", "order_line_id")):
        executemany(s, f"UPDATE {table} SET order_id = ? WHERE {column} = ?", moves)
    first = shares[0]
    execute(s, "UPDATE sales_order SET goods_total_fen = ?, shipping_fee_fen = ?, discount_fen = ?, "
               "paid_total_fen = ?, updated_at = ? WHERE id = ?", (first["goods_total_fen"], first["shipping_fee_fen"],
                                                first["discount_fen"], first["paid_total_fen"], at, order_id))
    ids = [order_id, *new_ids]
    pids = dict(where_in(s, "SELECT id, platform_order_id FROM sales_order WHERE id", ids))
    parts = [{"order_id": i, "platform_order_id": pids[i], "lines": list(g)} for i, g in zip(ids, groups, strict=True)]
    repository.insert_events(s, [(order_id, "split", at, db_json(dialect, {"kind": kind, "by": actor, "parts": parts}))]
                             + [(p["order_id"], "split_from", at, db_json(dialect, {
                                 "kind": kind, "by": actor, "order_id": order_id, "lines": p["lines"]}))
                                for p in parts[1:]])
    return ids


def _roots(s: Session, order_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """The order key of the original of each of these orders that is a part."""
    parents = {int(i): int(p) for i, p in where_in(
        s, "SELECT id, parent_order_id FROM sales_order WHERE parent_order_id IS NOT NULL AND id", order_ids)}
    if not parents:
        return {}
    keys = {int(i): (c, p) for i, c, p in where_in(
        s, "SELECT id, channel, platform_order_id FROM sales_order WHERE id", set(parents.values()))}
    return {i: keys[p] for i, p in parents.items()}


def _key(s: Session, order_id: int) -> tuple[str, str]:
    ((channel, platform_order_id),) = fetchall(s, "SELECT channel, platform_order_id FROM sales_order WHERE id = ?",
                                               (order_id,))
    return channel, platform_order_id
