"""A month of a live-stream shop's orders written straight into the tables, for read benchmarks.

The demo catalog (3 shops on 3 platforms, 2 warehouses, 200 SKUs and 2 bundles, through the catalog
services), a live session per shop each evening for `days` days (today's on 抖音 still live), and `orders`
orders: most paid during sessions on their hot SKUs, the newest today; receivers sealed and blind-indexed
by the real PII cipher; states by age (shipped and completed, cancelled, reserved in a fulfilment stage,
waiting for a sold-out SKU, held on an anomaly, unpaid); lines, reservations, the waiting list, history,
shipments and fulfilment rows as the pipeline writes them, and ledger moves whose sums are the stock
levels. `baodan check` passes on the result (the benchmark runs it). Rows go in by COPY (PostgreSQL) or
executemany (SQLite), tens of thousands a second, instead of through intake and the worker.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from baodan.bench.generate import CHANNEL_PREFIX, GIVEN, PLACES, SURNAMES
from baodan.catalog import schemas, services
from baodan.core import clock
from baodan.core.db import Database, db_json, db_time, dialect_of, execute, fetchall, insert_rows
from baodan.demo import seed_catalog
from baodan.identity.pii import PiiCipher
from baodan.orders.repository import LINE_COLUMNS, ORDER_COLUMNS

CHUNK = 20_000
STAGES_TODAY = (("review", 0.25), ("route", 0.15), ("waybill", 0.2), ("ready", 0.2), ("waved", 0.1), ("picked", 0.05),
                ("packed", 0.05))
HOLD_REASONS = ("address_problem", "blacklisted", "suspected_duplicate", "remark_keyword", "remote_region")


@dataclass
class Filled:
    orders: int
    lines: int
    days: int
    shop_ids: dict[str, int]
    sessions: list[int]  # oldest first; the last is today's live one
    live_session_id: int
    hot_sku: str
    cold_sku: str
    sold_out_sku: str
    phone: str  # a buyer phone that is on an order
    states: dict[str, int] = field(default_factory=dict)
    anomalies: dict[str, int] = field(default_factory=dict)


def fill(db: Database, pii: PiiCipher, *, orders: int, days: int = 30, seed: int = 42, now: datetime | None = None,
         say: Any = print) -> Filled:
    now = (now or clock.utcnow()).replace(microsecond=0)
    rng = random.Random(seed)
    local_now = clock.to_shanghai(now)
    live_start = now - timedelta(minutes=45)
    say("catalog …")
    cat = seed_catalog(db, stock={}, default_stock=1_000_000, session_start=live_start)
    with db.read() as s:
        sku_ids = {code: int(i) for code, i in fetchall(s, "SELECT code, id FROM sku")}
        components: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for bundle, part, qty in fetchall(s, "SELECT bundle_sku_id, component_sku_id, qty FROM bundle_component"):
            components[int(bundle)].append((int(part), int(qty)))
        (live_id,), = fetchall(s, "SELECT id FROM live_session")
    warehouse = cat.warehouse_ids["WH-HZ"]
    shops = list(cat.shop_ids)
    sessions: list[tuple[int, str, datetime, datetime, list[str]]] = []  # id, shop, start, end, hot SKU codes
    for day in range(days - 1, -1, -1):
        date = (local_now - timedelta(days=day)).replace(hour=20, minute=0, second=0, microsecond=0)
        for n, shop in enumerate(shops):
            hot = rng.sample(cat.sku_codes[:40], 3)
            if day == 0 and shop == "DY-FLAGSHIP":
                sessions.append((int(live_id), shop, live_start, now, cat.sku_codes[:3]))
                continue
            start = clock.as_utc(date + timedelta(minutes=30 * n))
            if start + timedelta(hours=3) > now:
                continue
            row = services.create_live_session(db, data=schemas.LiveSessionCreate(
                shop=shop, title=f"{(date.month, date.day)}专场", host="主播小美", started_at=start,
                ended_at=start + timedelta(hours=3), featured_skus=hot))
            sessions.append((int(row["id"]), shop, start, start + timedelta(hours=3), hot))
    sessions.sort(key=lambda x: x[2])
    say(f"{orders:,} orders over {days} days …")
    plan = _paid_times(rng, orders, sessions, now, days, live_start)
    sold_out = cat.sku_codes[2]  # one of today's hot SKUs sells out
    filled = Filled(orders=orders, lines=0, days=days, shop_ids=dict(cat.shop_ids), sessions=[x[0] for x in sessions],
                    live_session_id=int(live_id), hot_sku=cat.sku_codes[0], cold_sku=cat.sku_codes[150],
                    sold_out_sku=sold_out, phone="")
    reserved_units: Counter[int] = Counter()
    shipped_units: Counter[int] = Counter()
    waiting: Counter[int] = Counter()
    line_id = 0
    weights = [0.6, 0.25, 0.15]
    for chunk_start in range(0, orders, CHUNK):
        rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        with db.write_batch() as s:
            dialect = dialect_of(s)
            for order_id in range(chunk_start + 1, min(orders, chunk_start + CHUNK) + 1):
                at, paid, session = plan[order_id - 1]
                shop = session[1] if session else rng.choices(shops, weights)[0]
                hot = session[4] if session else []
                line_id = _order(rows, rng, cat, pii, dialect, order_id, line_id, shop, at if paid else None,
                                 at if not paid else at - timedelta(seconds=rng.randrange(2, 40)), now, session, hot,
                                 sku_ids, components, warehouse, sold_out, reserved_units, shipped_units, waiting,
                                 filled)
            insert_rows(s, "sales_order", ORDER_COLUMNS, rows["sales_order"])
            insert_rows(s, "order_line", LINE_COLUMNS, rows["order_line"])
            insert_rows(s, "order_event", ("order_id", "kind", "at", "detail"), rows["order_event"])
            insert_rows(s, "reservation", ("order_id", "order_line_id", "sku_id", "warehouse_id", "qty", "created_at"),
                        rows["reservation"])
            insert_rows(s, "inventory_backlog", ("order_line_id", "sku_id", "order_id", "qty", "paid_at", "short"),
                        rows["inventory_backlog"])
            insert_rows(s, "shipment", ("order_id", "shop_id", "warehouse_id", "carrier_code", "waybill_no",
                                        "shipped_at", "written_back_at", "actor"), rows["shipment"])
            insert_rows(s, "fulfilment", ("order_id", "stage", "hold_reason", "warehouse_id", "carrier_code",
                                          "waybill_no", "version", "updated_at"), rows["fulfilment"])
        say(f"  {min(orders, chunk_start + CHUNK):,} orders")
    filled.lines = line_id
    _stock(db, warehouse, reserved_units, shipped_units, waiting, sku_ids[sold_out], now)
    _settle(db)
    return filled


# ------------------------------------------------------------------------------------------------ orders


def _paid_times(rng: random.Random, orders: int, sessions: list[Any], now: datetime, days: int,
                live_start: datetime) -> list[tuple[datetime, bool, Any]]:
    """(time, paid, session), oldest first: 65% paid during sessions (today's live one takes 5% of all
    orders in its first 45 minutes), the rest through the days, and ~0.5% created today and not paid
    (their time is the creation time)."""
    past = [x for x in sessions if x[3] <= live_start]
    live = [x for x in sessions if x[3] > live_start]
    start = now - timedelta(days=days)
    out: list[tuple[datetime, bool, Any]] = []
    for _ in range(orders):
        pick = rng.random()
        if pick < 0.05 and live:
            session = live[0]
            out.append((session[2] + (now - session[2]) * rng.random() ** 0.7, True, session))
        elif pick < 0.65 and past:
            session = rng.choice(past)
            out.append((session[2] + (session[3] - session[2]) * rng.betavariate(1.5, 4), True, session))
        elif pick < 0.655:
            out.append((now - timedelta(hours=6) * rng.random(), False, None))
        else:
            out.append((start + (now - start) * rng.random(), True, None))
    out.sort(key=lambda x: x[0])
    return [(at.replace(microsecond=at.microsecond // 1000 * 1000), paid, session) for at, paid, session in out]


def _order(rows: dict[str, list[tuple[Any, ...]]], rng: random.Random, cat: Any, pii: PiiCipher, dialect: str,
           order_id: int, line_id: int, shop: str, paid_at: datetime | None, created: datetime, now: datetime,
           session: Any,
           hot: list[str], sku_ids: dict[str, int], components: dict[int, list[tuple[int, int]]], warehouse: int,
           sold_out: str, reserved_units: Counter[int], shipped_units: Counter[int], waiting: Counter[int],
           filled: Filled) -> int:
    channel = cat.shop_channels[shop]
    shop_id = cat.shop_ids[shop]
    unpaid = paid_at is None
    session_id = None if unpaid or session is None else session[0]
    age = now - (paid_at or created)
    # lines
    codes: list[str] = []
    for _ in range(rng.choices((1, 2, 3), (0.7, 0.2, 0.1))[0]):
        code = rng.choice(hot) if hot and rng.random() < 0.8 else rng.choice(cat.sku_codes + cat.bundle_codes)
        if code not in codes:
            codes.append(code)
    anomaly = None
    if rng.random() < 0.003:
        anomaly = rng.choice(("unknown_sku", "missing_address", "amount_mismatch"))
    lines = []
    for n, code in enumerate(codes, start=1):
        qty = rng.choices((1, 2), (0.9, 0.1))[0]
        price = cat.prices[code]
        unknown = anomaly == "unknown_sku" and n == 1
        line_id += 1
        lines.append((line_id, None if unknown else sku_ids[code], qty))
        rows["order_line"].append((
            line_id, order_id, n, f"{CHANNEL_PREFIX[channel]}{order_id}-{n}",
            f"UNMAPPED-{order_id}" if unknown else f"{shop[:2]}-{code}", None if not unknown else code,
            None if unknown else sku_ids[code], cat.titles[code], qty, price, 0, price * qty, None))  # no presale
    goods = sum(cat.prices[c] * q for c, (_, _, q) in zip(codes, lines, strict=True))
    # receiver
    province, city, district, road = rng.choice(PLACES)
    phone = f"1{rng.choice('3456789')}{rng.randrange(10**8, 10**9)}"
    receiver = None if anomaly == "missing_address" else {
        "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
        "phone": phone, "province": province, "city": city, "district": district,
        "address": f"{road}{rng.randrange(1, 999)}号{rng.randrange(1, 30)}幢{rng.randrange(101, 2999)}室"}
    if receiver and not filled.phone:
        filled.phone = phone
    sealed = pii.seal_receiver(receiver)
    # state, by age
    roll = rng.random()
    stage = hold = None
    short: list[int] = []
    if unpaid:
        state, status = "unpaid", "unpaid"
    elif anomaly in ("unknown_sku", "missing_address"):
        state, status = "held", "paid"
    elif roll < 0.03:
        state, status = "cancelled", "cancelled"
    elif age > timedelta(days=7):
        state, status = ("completed", "completed") if roll < 0.6 else ("shipped", "shipped")
    elif age > timedelta(days=1):
        state, status = ("shipped", "shipped") if roll < 0.85 else ("reserved", "paid")
        stage = "shipped" if state == "shipped" else rng.choice(("ready", "waved", "picked", "packed"))
    elif sold_out in codes and roll < 0.5:
        state, status = "awaiting_stock", "paid"
        short = [sku_ids[sold_out]]
    else:
        state, status = "reserved", "paid"
        stage = rng.choices([s for s, _ in STAGES_TODAY], [w for _, w in STAGES_TODAY])[0]
        if rng.random() < 0.01:
            stage, hold = "held", rng.choice(HOLD_REASONS)
    if stage == "review":
        stage = None  # not yet taken by the fulfilment stage
    anomalies = [anomaly] if anomaly else []
    filled.states[state] = filled.states.get(state, 0) + 1
    for a in anomalies:
        filled.anomalies[a] = filled.anomalies.get(a, 0) + 1
    t = lambda v: db_time(dialect, v)  # noqa: E731
    paid_total = goods + (1 if anomaly == "amount_mismatch" else 0)
    reserved_at = paid_at + timedelta(seconds=1) if state in ("reserved", "shipped", "completed") else None
    updated = (paid_at or created) + timedelta(seconds=2)
    rows["sales_order"].append((
        order_id, channel, shop_id, f"{CHANNEL_PREFIX[channel]}{6_000_000_000_000 + order_id * 7919:015d}", status,
        t(updated), state, db_json(dialect, anomalies), db_json(dialect, short), t(created), t(paid_at),
        f"用户{rng.randrange(10**6, 10**7)}", db_json(dialect, sealed.public) if sealed else None, None, None, goods,
        0, 0, paid_total, "7301234567890" if channel == "douyin" and session_id else None, session_id,
        warehouse if reserved_at else None, t(reserved_at), t(updated), t(updated),
        sealed.sealed if sealed else None, sealed.phone_index if sealed else None))
    rows["order_event"].append((order_id, "received", t(updated), db_json(dialect, {
        "event_id": order_id, "status": status, "outcome": state})))
    parts = [(lid, part, qty * per) for lid, sku_id, qty in lines if sku_id is not None
             for part, per in components.get(sku_id, [(sku_id, 1)])]
    if state == "reserved":
        for lid, part, qty in parts:
            rows["reservation"].append((order_id, lid, part, warehouse, qty, t(reserved_at)))
            reserved_units[part] += qty
    elif state in ("shipped", "completed"):
        for _, part, qty in parts:
            shipped_units[part] += qty
        waybill = f"ZT{order_id:012d}"
        rows["shipment"].append((order_id, shop_id, warehouse, "ZTO", waybill, t(paid_at + timedelta(hours=20)),
                                 t(paid_at + timedelta(hours=20, seconds=5)), "system:bench"))
    elif state == "awaiting_stock":
        for lid, part, qty in parts:
            rows["inventory_backlog"].append((lid, part, order_id, qty, t(paid_at), part in short))
            waiting[part] += qty
    if stage is not None:
        waybill = f"ZT{order_id:012d}" if stage not in ("route", "held") else None
        rows["fulfilment"].append((order_id, stage, hold, warehouse, "ZTO" if waybill else None, waybill, 1,
                                   t(updated)))
    return line_id


# ------------------------------------------------------------------------------------------------- stock


def _stock(db: Database, warehouse: int, reserved: Counter[int], shipped: Counter[int], waiting: Counter[int],
           sold_out_id: int, now: datetime) -> None:
    """Ledger moves for what the orders hold and shipped (one move per SKU and kind), levels to match, and
    a count that leaves the sold-out SKU with nothing free (its waiting orders wait for real)."""
    with db.write() as s:
        dialect = dialect_of(s)
        levels = {int(k): (int(a), int(b)) for k, a, b in fetchall(
            s, "SELECT sku_id, on_hand, reserved FROM stock_level WHERE warehouse_id = ?", (warehouse,))}
        moves = []
        for sku_id in sorted(set(reserved) | set(shipped)):
            held, gone = reserved[sku_id], shipped[sku_id]
            if held + gone:
                moves.append((sku_id, warehouse, "reserve", 0, held + gone, None, "bench fill: orders reserved"))
            if gone:
                moves.append((sku_id, warehouse, "ship", -gone, -gone, None, "bench fill: orders shipped"))
        on_hand, _ = levels[sold_out_id]
        free = on_hand - shipped[sold_out_id] - reserved[sold_out_id]
        moves.append((sold_out_id, warehouse, "adjust", -free, 0, None, "bench fill: sold out (count)"))
        insert_rows(s, "stock_move", ("sku_id", "warehouse_id", "kind", "on_hand_delta", "reserved_delta", "order_id",
                                      "reason", "actor", "idempotency_key", "created_at"),
                    [(*m, "system:bench", None, db_time(dialect, now)) for m in moves])
        for sku_id, (on_hand, _) in levels.items():
            gone = shipped[sku_id] + (free if sku_id == sold_out_id else 0)
            execute(s, "UPDATE stock_level SET on_hand = ?, reserved = ? WHERE sku_id = ? AND warehouse_id = ?",
                    (on_hand - gone, reserved[sku_id], sku_id, warehouse))


def _settle(db: Database) -> None:
    """Identity sequences past the ids written here (PostgreSQL), and fresh planner statistics there, as
    autovacuum would gather soon after a load. SQLite gets no ANALYZE: BaoDan never runs one."""
    if db.is_sqlite:
        return
    with db.write() as s:
        for table in ("sales_order", "order_line"):
            execute(s, f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
