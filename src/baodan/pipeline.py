"""The batch pipeline: inbox events → orders → stock reservations, one transaction per batch.

Steps, in the order a merchant would describe them:
  1. claim a batch of inbox events;
  2. per order, keep only news: an event older than what we hold never overwrites it;
  3. normalise new orders (SKU mapping, bundles, anomaly checks, live-session attribution);
  4. release or consume the stock of orders that closed or shipped;
  5. reserve stock for paid orders, whole or not at all, first paid first served;
  6. write orders, lines, reservations, ledger moves and history; mark the events done.
A failure anywhere rolls the whole batch back; the events are then simply claimed again.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from baodan.catalog import repository as catalog
from baodan.core import clock
from baodan.core.db import Database, db_json, db_time, dialect_of, executemany, fetchall, in_list, read_json
from baodan.core.db import where_in as db_where_in
from baodan.fulfilment import split
from baodan.intake.inbox import Inbox, InboxEvent
from baodan.inventory import repository as stock
from baodan.inventory import services as inventory
from baodan.inventory.model import Demand, DemandLine
from baodan.orders import repository as orders
from baodan.orders.model import (
    CLOSED,
    STATUS_RANK,
    Anomaly,
    LineAmounts,
    OrderState,
    PlatformStatus,
    address_anomalies,
    amount_anomalies,
    attribute_session,
    is_newer,
)
from baodan.orders.repository import OrderKey, StoredOrder


@dataclass(slots=True)
class BatchResult:
    events: int = 0
    new_orders: int = 0
    updated_orders: int = 0
    stale_events: int = 0
    reserved: int = 0
    awaiting_stock: int = 0
    held: int = 0
    released: int = 0
    shipped: int = 0
    superseded: int = 0
    seconds: float = 0.0
    received_at: list[str] = field(default_factory=list)  # UTC text keys


def process_batch(db: Database, inbox: Inbox, *, limit: int) -> BatchResult | None:
    """Claim up to `limit` events and apply them in one transaction. None when the inbox is empty."""
    started = time.perf_counter()
    with db.write_batch() as session:
        events = inbox.claim(session, limit)
        if not events:
            return None
        result = apply_events(session, events)
        inbox.mark_done(session, events)
    result.seconds = time.perf_counter() - started
    return result


class _Change:
    """What the batch decided for one order (a plain slotted class: thousands are made per batch)."""

    __slots__ = ("key", "events", "stored", "payload", "order_id", "record", "demand", "outcome")

    def __init__(self, key: OrderKey, events: list[InboxEvent]) -> None:
        self.key = key
        self.events = events
        self.stored: StoredOrder | None = None
        self.payload: dict[str, Any] | None = None  # the newest event, when it is news
        self.order_id = 0
        self.record: dict[str, Any] = {}
        self.demand: Demand | None = None
        self.outcome = "stale"


def apply_events(session: Session, events: Sequence[InboxEvent]) -> BatchResult:
    now = clock.sql_text(clock.utcnow())
    result = BatchResult(events=len(events), received_at=[e.received_at for e in events])
    changes = _group(events)
    orders.lock_orders(session, changes.keys())
    stored = orders.load_orders(session, changes.keys())
    news: list[_Change] = []
    for key, change in changes.items():
        change.stored = stored.get(key)
        newest = change.events[-1]
        if change.stored is None or is_newer(newest.platform_status, newest.platform_updated_at,
                                             change.stored.platform_status, change.stored.updated_key):
            change.payload = orjson.loads(newest.payload)
            change.payload["_shop_id"] = newest.shop_id
            news.append(change)
        else:
            result.stale_events += len(change.events)
    fresh = [c for c in news if c.stored is None]
    known = [c for c in news if c.stored is not None]

    resolver = catalog.load_sku_resolver(
        session, shop_ids={c.payload["_shop_id"] for c in fresh},  # type: ignore[index]
        platform_sku_ids={ln["platform_sku_id"] for c in fresh for ln in c.payload["lines"]  # type: ignore[index]
                          if ln.get("platform_sku_id")},
        sku_codes={ln["sku_code"] for c in fresh for ln in c.payload["lines"] if ln.get("sku_code")},  # type: ignore[index]
        sku_ids=_stored_line_skus(session, known))
    line_rows = _normalise_new(session, fresh, resolver, now)
    families = orders.parts_of(session, [c.stored.id for c in known if c.stored]) if known else {}
    release, ship, drop = _close_known(session, known, resolver, now, split=families.keys())
    carried = _carry_to_parts(session, known, families, release, drop, now) if families else None
    shops = {c.record["shop_id"] for c in news if c.demand is not None}
    prefs = catalog.load_warehouse_preferences(session, shops) if shops else {}
    demands = []
    for c in news:
        if c.demand is not None:
            c.demand = c.demand._replace(warehouses=prefs.get(c.record["shop_id"], ()))
            demands.append(c.demand)
    allocation = inventory.plan_allocation(session, demands=demands, release_order_ids=release,
                                           ship_order_ids=ship, drop_order_ids=drop)
    _apply_plan(news, allocation, now)

    dialect = dialect_of(session)
    orders.insert_orders(session, [_order_row(c, dialect) for c in fresh])
    orders.insert_lines(session, line_rows)
    inventory.write_allocation(session, allocation, now=clock.utcnow(),
                               reference=f"inbox:{events[0].id}-{events[-1].id}")
    orders.update_orders(session, [_update_row(c, dialect) for c in known])
    if carried is not None:
        carried.write(session)
    orders.insert_events(session, _history(changes.values(), dialect, clock.sql_text(clock.utcnow())))
    result.superseded = _supersede(session, news, fresh)
    refunds = {c.order_id: lines for c in news if c.payload and (lines := _refunded(c.payload))}
    if refunds:  # 部分退款 before shipping: the lines leave the parcel
        split.cancel_refunded_lines(session, refunds, now=clock.utcnow())

    result.new_orders, result.updated_orders = len(fresh), len(known)
    for c in news:
        state = c.record["state"]
        result.reserved += c.outcome == "reserved"
        result.awaiting_stock += c.outcome == "awaiting_stock"
        result.held += state == OrderState.held
        result.released += c.outcome == "released"
        result.shipped += c.outcome == "shipped"
    return result


def _refunded(payload: dict[str, Any]) -> set[str]:
    return {str(line["platform_line_id"]) for line in payload["lines"] if line.get("refunded")
            and line.get("platform_line_id")} if payload["status"] == PlatformStatus.paid else set()


def _supersede(session: Session, news: list[_Change], fresh: list[_Change]) -> int:
    """Platform-side splits and merges (a seller splits an order in the platform's back office, and both the
    original and its parts arrive; or merges several into one). The replacing order names what it
    replaces (`supersedes`); the replaced orders are cancelled here and what they held is released, so
    nothing ships twice. An original that arrives after its replacement is cancelled on arrival
    (`order_supersede` remembers the claim). If an original already shipped, its replacements are held
    with `superseded_after_shipping` for an operator instead of shipping again. Returns orders cancelled."""
    claims: dict[OrderKey, list[int]] = {}  # replaced order → the orders replacing it
    for c in news:
        for old in (c.payload or {}).get("supersedes") or ():
            if old != c.key[1]:
                claims.setdefault((c.key[0], old), []).append(c.order_id)
    dialect = dialect_of(session)

    def where_in(sql: str, values: Any) -> list[tuple[Any, ...]]:
        return db_where_in(session, sql, values)

    if claims:
        known = {(ch, o) for ch, o in where_in("SELECT channel, platform_order_id FROM order_supersede "
                                               "WHERE platform_order_id", {k[1] for k in claims})}
        executemany(session, "INSERT INTO order_supersede (channel, platform_order_id, by_order_id) VALUES (?, ?, ?)",
                    [(ch, o, by[0]) for (ch, o), by in claims.items() if (ch, o) not in known])
    if fresh and (claims or fetchall(session, "SELECT 1 FROM order_supersede LIMIT 1")):  # originals after parts
        fresh_keys = {c.key for c in fresh}
        for ch, o, by in where_in("SELECT channel, platform_order_id, by_order_id FROM order_supersede "
                                  "WHERE platform_order_id", {c.key[1] for c in fresh}):
            if (ch, o) in fresh_keys:
                claims.setdefault((ch, o), [int(by)])
    if not claims:
        return 0
    orders.lock_orders(session, claims.keys())  # before reading their state: another worker may hold them
    rows = [r for r in where_in("SELECT id, channel, platform_order_id, state, anomalies FROM sales_order "
                                "WHERE platform_order_id", {k[1] for k in claims}) if (r[1], r[2]) in claims]
    cancel = {int(r[0]): (claims[(r[1], r[2])], r[3], r[4]) for r in rows
              if r[3] not in (OrderState.cancelled, OrderState.shipped, OrderState.completed)}
    shipped_parents = {by for r in rows if r[3] in (OrderState.shipped, OrderState.completed)
                       for by in claims[(r[1], r[2])]}
    hold = {int(r[0]): (r[1], r[2], r[3]) for r in where_in(
        "SELECT id, platform_order_id, state, anomalies FROM sales_order WHERE id", shipped_parents)} \
        if shipped_parents else {}
    touched = {**{i: v[1] for i, v in cancel.items()}, **{i: v[1] for i, v in hold.items()}}
    if touched:
        allocation = inventory.plan_allocation(
            session, demands=[], release_order_ids={i for i, st in touched.items() if st == OrderState.reserved},
            drop_order_ids={i for i, st in touched.items() if st in (OrderState.awaiting_stock, OrderState.held)})
        inventory.write_allocation(session, allocation, now=clock.utcnow(), reference="supersede")
    at = clock.sql_text(clock.utcnow())
    updates, history = [], []
    for order_id, (by, _, anomalies) in cancel.items():
        marks = sorted({*(read_json(anomalies) or ()), Anomaly.superseded.value})
        updates.append((OrderState.cancelled.value, db_json(dialect, marks), db_time(dialect, at), order_id))
        history.append((order_id, "superseded", db_time(dialect, at), db_json(dialect, {"by_order_ids": by})))
    for order_id, (_, _, anomalies) in hold.items():
        marks = sorted({*(read_json(anomalies) or ()), Anomaly.superseded_after_shipping.value})
        updates.append((OrderState.held.value, db_json(dialect, marks), db_time(dialect, at), order_id))
        history.append((order_id, "held", db_time(dialect, at),
                        db_json(dialect, {"why": Anomaly.superseded_after_shipping.value})))
    executemany(session, "UPDATE sales_order SET state = ?, anomalies = ?, warehouse_id = NULL, reserved_at = NULL, "
                         "short_sku_ids = '[]', updated_at = ? WHERE id = ?", updates)
    orders.insert_events(session, history)
    return len(cancel)


def _group(events: Sequence[InboxEvent]) -> dict[OrderKey, _Change]:
    changes: dict[OrderKey, _Change] = {}
    for event in events:
        key = (event.channel, event.platform_order_id)
        change = changes.get(key)
        if change is None:
            changes[key] = _Change(key, [event])
        else:
            change.events.append(event)
    for change in changes.values():
        if len(change.events) > 1:  # StrEnum keys: a status string finds its rank directly
            change.events.sort(key=lambda e: (e.platform_updated_at, STATUS_RANK[e.platform_status], e.id))  # type: ignore[index]
    return changes


def _normalise_new(session: Session, fresh: list[_Change], resolver: catalog.SkuResolver,
                   now: str) -> list[tuple[Any, ...]]:
    """Build the rows of orders seen for the first time; paid ones get a demand for stock."""
    if not fresh:
        return []
    order_ids = orders.allocate_ids(session, "sales_order", len(fresh))
    line_ids = iter(orders.allocate_ids(session, "order_line", sum(len(c.payload["lines"]) for c in fresh)))  # type: ignore[index]
    paid_times = [_at(c.payload["paid_at"]) for c in fresh if c.payload.get("paid_at")]  # type: ignore[union-attr,index]
    sessions = catalog.load_live_sessions(session, shop_ids={c.payload["_shop_id"] for c in fresh},  # type: ignore[index]
                                          earliest=min(paid_times), latest=max(paid_times)) if paid_times else []
    line_rows: list[tuple[Any, ...]] = []
    for change, order_id in zip(fresh, order_ids, strict=True):
        p = change.payload
        assert p is not None
        change.order_id = order_id
        shop_id = p["_shop_id"]
        paid_at = _at(p.get("paid_at"))
        demand_lines: list[DemandLine] = []
        unknown = False
        amounts = []
        for line_no, line in enumerate(p["lines"], start=1):
            line_id = next(line_ids)
            sku_id = resolver.resolve(shop_id, line.get("platform_sku_id"), line.get("sku_code"))
            unknown |= sku_id is None
            if sku_id is not None:
                demand_lines += [DemandLine(line_id, s, q) for s, q in resolver.expand(sku_id, line["quantity"])]
            amounts.append(LineAmounts(line["quantity"], line["unit_price_fen"], line["discount_fen"],
                                       line["amount_fen"]))
            line_rows.append((line_id, order_id, line_no, line.get("platform_line_id"), line.get("platform_sku_id"),
                              line.get("sku_code"), sku_id, line.get("title"), line["quantity"],
                              line["unit_price_fen"], line["discount_fen"], line["amount_fen"],
                              _at(line.get("ship_after"))))
        anomalies = ([Anomaly.unknown_sku] if unknown else []) + amount_anomalies(
            amounts, shipping_fee_fen=p["shipping_fee_fen"], discount_fen=p["discount_fen"],
            paid_total_fen=p["paid_total_fen"], goods_total_fen=p["goods_total_fen"]
        ) + address_anomalies(p.get("receiver"))
        status = PlatformStatus(p["status"])
        state, outcome = _state_of_new(status, unknown, anomalies)
        if state is OrderState.awaiting_stock:  # provisional: the plan decides reserved or waiting
            change.demand = Demand(order_id, paid_at, tuple(demand_lines), ())  # type: ignore[arg-type]
        change.outcome = outcome
        change.record = {
            "id": order_id, "channel": p["channel"], "shop_id": shop_id, "platform_order_id": p["platform_order_id"],
            "platform_status": status.value, "platform_updated_at": _at(p["updated_at"]), "state": state,
            "anomalies": [str(a) for a in anomalies], "short_sku_ids": [], "created_at": _at(p["created_at"]),
            "paid_at": paid_at, "buyer_nick": p.get("buyer_nick"), "receiver": p.get("receiver"),
            "buyer_message": p.get("buyer_message"), "seller_memo": p.get("seller_memo"),
            "goods_total_fen": p["goods_total_fen"], "shipping_fee_fen": p["shipping_fee_fen"],
            "discount_fen": p["discount_fen"], "paid_total_fen": p["paid_total_fen"],
            "live_room_id": p.get("live_room_id"),
            "live_session_id": attribute_session(sessions, shop_id=shop_id, paid_at=paid_at,
                                                 live_room_id=p.get("live_room_id")),
            "warehouse_id": None, "reserved_at": None, "ingested_at": now, "updated_at": now,
            "receiver_sealed": p.get("receiver_sealed"), "phone_index": p.get("phone_index"),
        }
    return line_rows


def _state_of_new(status: PlatformStatus, unknown_sku: bool, anomalies: list[Anomaly]) -> tuple[OrderState, str]:
    if status is PlatformStatus.unpaid:
        return OrderState.unpaid, "unpaid"
    if status is PlatformStatus.paid:
        return (OrderState.held, "held") if unknown_sku else (OrderState.awaiting_stock, "pending")
    if status in CLOSED:
        return OrderState.cancelled, "cancelled"
    anomalies.append(Anomaly.shipped_without_stock)
    return (OrderState.shipped if status is PlatformStatus.shipped else OrderState.completed), "shipped"


def _stored_line_skus(session: Session, known: list[_Change]) -> set[int]:
    paying = [c.stored.id for c in known if c.stored and c.stored.state == OrderState.unpaid
              and c.payload and c.payload["status"] == PlatformStatus.paid]
    if not paying:
        return set()
    frag, param = in_list(dialect_of(session), paying)
    return {r[0] for r in fetchall(session, f"SELECT DISTINCT sku_id FROM order_line WHERE order_id {frag} "
                                            "AND sku_id IS NOT NULL", (param,))}


def _close_known(session: Session, known: list[_Change], resolver: catalog.SkuResolver,
                 now: str, *, split: Collection[int] = ()) -> tuple[set[int], set[int], set[int]]:
    """Decide what a newer event does to an order we hold: pay, ship, close, or just refresh fields.
    `split`: orders split into parts (拆单), whose parcels ship from BaoDan one by one — the platform's
    "shipped" for one of them (a platform that takes no split shipment marks the whole order) is news,
    not proof that the part still in the warehouse left."""
    release: set[int] = set()
    ship: set[int] = set()
    drop: set[int] = set()
    paying: list[_Change] = []
    for c in known:
        s, p = c.stored, c.payload
        assert s is not None and p is not None
        c.order_id = s.id
        status = PlatformStatus(p["status"])
        state = OrderState(s.state)
        anomalies = [a for a in s.anomalies if a != Anomaly.missing_address]
        anomalies += [str(a) for a in address_anomalies(p.get("receiver"))]
        outcome = "updated"
        if status is PlatformStatus.paid and state is OrderState.unpaid:
            paying.append(c)
            outcome = "pending"
            state = OrderState.awaiting_stock
        elif status in (PlatformStatus.shipped, PlatformStatus.completed) and s.id in split and state in (
                OrderState.reserved, OrderState.awaiting_stock, OrderState.held):
            pass  # its parcel ships from BaoDan like its parts' (see `split`)
        elif status in (PlatformStatus.shipped, PlatformStatus.completed) and state in (
                OrderState.reserved, OrderState.awaiting_stock, OrderState.held, OrderState.unpaid):
            if state is OrderState.reserved:
                ship.add(s.id)
            else:
                drop.add(s.id)
                anomalies.append(Anomaly.shipped_without_stock)
            state = OrderState.shipped if status is PlatformStatus.shipped else OrderState.completed
            outcome = "shipped"
        elif status is PlatformStatus.completed and state is OrderState.shipped:
            state = OrderState.completed
        elif status in CLOSED and state in (OrderState.reserved, OrderState.awaiting_stock, OrderState.held,
                                            OrderState.unpaid):
            (release if state is OrderState.reserved else drop).add(s.id)
            state, outcome = OrderState.cancelled, "released"
        reserved = state is OrderState.reserved
        c.outcome = outcome
        c.record = {
            "shop_id": s.shop_id, "platform_status": status.value, "platform_updated_at": _at(p["updated_at"]),
            "state": state, "anomalies": sorted(set(anomalies)), "short_sku_ids": [],
            "paid_at": _at(s.paid_at) or _at(p.get("paid_at")), "receiver": p.get("receiver"),
            "buyer_message": p.get("buyer_message"), "seller_memo": p.get("seller_memo"),
            "warehouse_id": s.warehouse_id if reserved else None,
            "reserved_at": s.reserved_at if reserved else None, "updated_at": now,
            "receiver_sealed": p.get("receiver_sealed"), "phone_index": p.get("phone_index"),
            "live_session_id": s.live_session_id,
        }
    if paying:
        _attribute_paid(session, paying)
        by_order: dict[int, list[DemandLine]] = {}
        unknown: set[int] = set()
        for order_id, line_id, sku_id, qty in orders.demand_lines(session, [c.order_id for c in paying]):
            if sku_id is None:
                unknown.add(order_id)
                continue
            by_order.setdefault(order_id, []).extend(
                DemandLine(line_id, s, q) for s, q in resolver.expand(sku_id, qty))
        for c in paying:
            if c.order_id in unknown:
                c.record["state"], c.outcome = OrderState.held, "held"
            else:
                c.demand = Demand(c.order_id, c.record["paid_at"], tuple(by_order.get(c.order_id, ())), ())
    return release, ship, drop


class _Carried:
    """What the platform's news of split orders does to their parts (written after the orders)."""

    def __init__(self) -> None:
        self.status: list[tuple[Any, ...]] = []
        self.cancelled: list[tuple[Any, ...]] = []
        self.receiver: list[tuple[Any, ...]] = []
        self.history: list[tuple[Any, ...]] = []

    def write(self, session: Session) -> None:
        executemany(session, "UPDATE sales_order SET platform_status = ?, platform_updated_at = ?, state = ?, "
                             "updated_at = ? WHERE id = ?", self.status)
        executemany(session, "UPDATE sales_order SET warehouse_id = NULL, reserved_at = NULL, short_sku_ids = '[]', "
                             "anomalies = ? WHERE id = ?", self.cancelled)
        executemany(session, "UPDATE sales_order SET receiver = ?, receiver_sealed = ?, phone_index = ?, "
                             "buyer_message = ?, seller_memo = ? WHERE id = ?", self.receiver)
        orders.insert_events(session, self.history)


def _attribute_paid(session: Session, paying: list[_Change]) -> None:
    """An order first seen unpaid belongs to the live session it is paid in (as a new paid order does)."""
    loose = [c for c in paying if c.record["live_session_id"] is None and c.record["paid_at"]]
    if not loose:
        return
    paid = [c.record["paid_at"] for c in loose]
    sessions = catalog.load_live_sessions(session, shop_ids={c.record["shop_id"] for c in loose},
                                          earliest=min(paid), latest=max(paid))
    for c in loose:
        room = (c.payload or {}).get("live_room_id") or (c.stored.live_room_id if c.stored else None)
        c.record["live_session_id"] = attribute_session(sessions, shop_id=c.record["shop_id"],
                                                        paid_at=c.record["paid_at"], live_room_id=room)


def _carry_to_parts(session: Session, known: list[_Change], families: dict[int, list[tuple[int, str, str]]],
                    release: set[int], drop: set[int], now: str) -> _Carried:
    """The parts of a split order (拆单) get no events of their own: the platform knows only the original.
    Its news reaches them here: a cancellation or full refund cancels every part not yet shipped (their stock
    is released with the original's, and fulfilment intercepts them), a completion completes the shipped
    ones, and a new address, phone or remark reaches the parts still in the warehouse. The parts are locked
    after the originals (every path takes an original's lock before its parts')."""
    dialect = dialect_of(session)
    carried = _Carried()
    parts = [p for c in known if c.order_id in families for p in families[c.order_id]]
    orders.lock_orders(session, {(channel, pid) for _, channel, pid in parts})
    current = {int(i): (OrderState(st), read_json(a) or []) for i, st, a in db_where_in(
        session, "SELECT id, state, anomalies FROM sales_order WHERE id", [p[0] for p in parts])}
    at = db_time(dialect, now)
    for c in known:
        status = PlatformStatus(c.record["platform_status"])
        for part_id, *_ in families.get(c.order_id, ()):
            state, anomalies = current[part_id]
            if status in CLOSED and state in (OrderState.reserved, OrderState.awaiting_stock, OrderState.held,
                                              OrderState.unpaid):
                (release if state is OrderState.reserved else drop).add(part_id)
                state = OrderState.cancelled
                carried.cancelled.append((db_json(dialect, sorted({*anomalies, "cancelled_with_original"})),
                                          part_id))
                carried.history.append((part_id, "cancelled", at, db_json(dialect, {
                    "with_order_id": c.order_id, "status": status.value})))
            elif status is PlatformStatus.completed and state is OrderState.shipped:
                state = OrderState.completed
            carried.status.append((status.value, db_time(dialect, c.record["platform_updated_at"]), state.value, at,
                                   part_id))
            if state not in (OrderState.shipped, OrderState.completed, OrderState.cancelled):
                receiver = c.record.get("receiver")
                carried.receiver.append((db_json(dialect, receiver) if receiver is not None else None,
                                         c.record.get("receiver_sealed"), c.record.get("phone_index"),
                                         c.record.get("buyer_message"), c.record.get("seller_memo"), part_id))
    return carried


def _apply_plan(news: list[_Change], allocation: inventory.Allocation, now: str) -> None:
    by_order = {c.order_id: c for c in news}
    for grant in allocation.plan.granted:
        c = by_order[grant.demand.order_id]
        c.record.update(state=OrderState.reserved, warehouse_id=grant.warehouse_id, reserved_at=now)
        c.outcome = "reserved"
    for short in allocation.plan.short:
        c = by_order[short.demand.order_id]
        c.record.update(state=OrderState.awaiting_stock, short_sku_ids=list(short.short_sku_ids))
        c.outcome = "awaiting_stock"


_JSON_COLUMNS = frozenset({"anomalies", "short_sku_ids", "receiver"})
_TIME_COLUMNS = frozenset({"platform_updated_at", "created_at", "paid_at", "reserved_at", "ingested_at",
                           "updated_at"})


def _order_row(c: _Change, dialect: str) -> list[Any]:
    return _row(c.record, orders.ORDER_COLUMNS, dialect)


def _update_row(c: _Change, dialect: str) -> list[Any]:
    row = _row(c.record, orders.UPDATE_COLUMNS, dialect)
    row.append(c.order_id)
    return row


def _row(record: dict[str, Any], columns: tuple[str, ...], dialect: str) -> list[Any]:
    """Record values in column order, as the driver stores them (times are mostly UTC text keys already;
    a stored order's reserved_at comes back as a datetime)."""
    row = [record[column] for column in columns]
    for i in _indexes(columns):
        value = row[i]
        if value is not None:
            row[i] = db_json(dialect, value) if columns[i] in _JSON_COLUMNS else db_time(dialect, value)
    return row


@functools.cache
def _indexes(columns: tuple[str, ...]) -> tuple[int, ...]:
    """Positions of the JSON and time columns, the ones that may need converting."""
    return tuple(i for i, c in enumerate(columns) if c in _JSON_COLUMNS or c in _TIME_COLUMNS)


def _history(changes: Any, dialect: str, now: str) -> list[tuple[Any, ...]]:
    """One history row per event: what it said and what BaoDan did with it. `now` is taken when the
    batch's work is done (just before its commit), so `at − received_at` is the processing latency."""
    rows = []
    at = db_time(dialect, now)
    for c in changes:
        order_id = c.order_id or (c.stored.id if c.stored else 0)
        if not order_id:
            continue
        for i, event in enumerate(c.events):
            newest = c.payload is not None and i == len(c.events) - 1
            detail: dict[str, Any] = {"event_id": event.id, "status": event.platform_status,
                                      "platform_updated_at": event.platform_updated_at,
                                      "received_at": event.received_at}
            if newest:
                detail["outcome"] = c.outcome
                if c.record.get("warehouse_id") and c.outcome == "reserved":
                    detail["warehouse_id"] = c.record["warehouse_id"]
                if c.record.get("short_sku_ids"):
                    detail["short_sku_ids"] = c.record["short_sku_ids"]
                if c.record.get("anomalies"):
                    detail["anomalies"] = c.record["anomalies"]
            else:
                detail["outcome"] = "superseded" if c.payload is not None else "stale"
            rows.append((order_id, "received", at, db_json(dialect, detail)))
    return rows


def _at(value: Any) -> str | None:
    """A time as a UTC text key: inbox payloads already hold keys; stored datetimes are converted."""
    if value is None or isinstance(value, str):
        return value
    return clock.sql_text(value)


def retry_awaiting_stock(db: Database, *, page_size: int = 2000) -> int:
    """Serve orders waiting for SKUs whose stock rose, in paid order, page by page (one transaction
    each). Returns how many orders were reserved. Safe to run from several workers at once."""
    with db.read() as session:
        marked = stock.skus_marked_for_retry(session)
        # Each waiting order needs at least one free unit, so no page need be longer than the free units
        # (read without a lock: it only sizes the pages; the plan below works on locked rows).
        free_units = stock.free_units(session, marked) if marked else 0
    if not marked:
        return 0
    page_size = max(8, min(page_size, free_units))
    started = clock.utcnow()
    cursor: tuple[datetime, int] | None = None
    reserved = 0
    live = set(marked)  # marked SKUs that may still have free stock for someone further down the list
    while True:
        with db.write_batch() as session:
            page = stock.backlog_page(session, live, after=cursor, limit=page_size)
            if page:
                cursor = (page[-1][1], page[-1][0])
                granted, exhausted = _retry_page(session, [order_id for order_id, _ in page], live)
                reserved += granted
                live -= exhausted
            if len(page) < page_size or not live:  # every marked SKU is used up or its list was read
                stock.clear_retry(session, marked, requested_before=started)
                return reserved


def _retry_page(session: Session, order_ids: list[int], marked: set[int]) -> tuple[int, set[int]]:
    """Serve one page of waiting orders; returns (orders reserved, marked SKUs with no free stock left)."""
    found = orders.load_orders_by_id(session, order_ids)
    orders.lock_orders(session, [key for key, _ in found.values()])
    now = clock.utcnow()  # after the lock: history sorts by time, and a batch may have written first
    found = orders.load_orders_by_id(session, order_ids)  # re-read under the lock
    waiting = {oid: so for oid, (_, so) in found.items() if so.state == OrderState.awaiting_stock}
    if not waiting:
        return 0, set()
    lines: dict[int, list[DemandLine]] = {}
    for order_id, line_id, sku_id, qty in stock.backlog_lines(session, list(waiting)):
        lines.setdefault(order_id, []).append(DemandLine(line_id, sku_id, qty))
    prefs = catalog.load_warehouse_preferences(session, {so.shop_id for so in waiting.values()})
    demands = [Demand(oid, _at(so.paid_at), tuple(lines.get(oid, ())), prefs.get(so.shop_id, ()))  # type: ignore[arg-type]
               for oid, so in waiting.items()]
    allocation = inventory.plan_allocation(session, demands=demands, respect_retry_marks=False)
    inventory.write_allocation(session, allocation, now=now, reference="retry", from_backlog=True)
    dialect = dialect_of(session)
    updates, history = [], []
    for grant in allocation.plan.granted:
        so = waiting[grant.demand.order_id]
        updates.append((OrderState.reserved.value, grant.warehouse_id, db_time(dialect, now),
                        db_json(dialect, []), db_time(dialect, now), so.id))
        history.append((so.id, "reserved", db_time(dialect, now),
                        db_json(dialect, {"outcome": "reserved", "warehouse_id": grant.warehouse_id,
                                          "by": "stock arrived"})))
    executemany(session, "UPDATE sales_order SET state = ?, warehouse_id = ?, reserved_at = ?, short_sku_ids = ?, "
                         "updated_at = ? WHERE id = ?", updates)
    # Orders still short say what they wait for now (another SKU may have run out meanwhile).
    executemany(session, "UPDATE sales_order SET short_sku_ids = ?, updated_at = ? WHERE id = ?",
                [(db_json(dialect, list(short.short_sku_ids)), db_time(dialect, now), short.demand.order_id)
                 for short in allocation.plan.short])
    orders.insert_events(session, history)
    free: dict[int, int] = {}
    for (sku_id, _), qty in allocation.plan.free_after.items():
        if sku_id in marked:
            free[sku_id] = free.get(sku_id, 0) + qty
    return len(allocation.plan.granted), {sku_id for sku_id, qty in free.items() if qty <= 0}
