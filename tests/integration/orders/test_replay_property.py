"""Random event streams through the real intake and worker (SQLite): whatever the platforms send, in
whatever order and however often, stock stays consistent, the newest status wins and a replay is a no-op."""

from __future__ import annotations

import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baodan import migrate
from baodan.catalog.repository import load_warehouse_preferences
from baodan.check import run_checks
from baodan.core.config import Settings
from baodan.core.db import Database, fetchall, read_json
from baodan.intake.inbox import open_inbox
from baodan.intake.services import ShopDirectory
from baodan.inventory import services as inventory
from baodan.inventory.model import MoveKind
from baodan.orders.model import STATUS_RANK, PlatformStatus
from baodan.runtime import Runtime
from tests.helpers import drain, make_catalog, order, submit

# Life cycles a platform may report, each step with an update time no earlier than the one before.
PATHS = (
    ("unpaid", "paid", "cancelled"),
    ("unpaid", "paid", "refunded"),
    ("unpaid", "paid", "shipped", "completed"),
    ("unpaid", "cancelled"),
)
STATE_OF_STATUS = {"unpaid": {"unpaid"}, "paid": {"reserved", "awaiting_stock"}, "shipped": {"shipped"},
                   "completed": {"completed"}, "cancelled": {"cancelled"}, "refunded": {"cancelled"}}


@st.composite
def order_events(draw: st.DrawFn, oid: str, sku_count: int) -> list[dict[str, Any]]:
    """Some of the events of one order's life cycle (platforms drop some), at least one."""
    line_st = st.tuples(st.integers(0, sku_count - 1), st.integers(1, 2))
    lines = draw(st.lists(line_st, min_size=1, max_size=2))
    path = draw(st.sampled_from(PATHS))
    times = [draw(st.integers(0, 3))]
    for _ in path[1:]:
        times.append(times[-1] + draw(st.integers(0, 2)))  # 0: same update time, the status rank decides
    paid_s = times[path.index("paid")] if "paid" in path else times[0]
    kept = draw(st.lists(st.booleans(), min_size=len(path), max_size=len(path)).filter(any))
    events = []
    for status, t, keep in zip(path, times, kept, strict=True):
        if keep:
            extra = {"paid_at": None} if "paid" not in path else {}
            events.append(order(oid, [(f"S{i}", q) for i, q in lines], status=status, paid_offset_s=paid_s,
                                updated_offset_s=t - paid_s, **extra))
    return events


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    warehouses = ("WH1", "WH2")[:draw(st.integers(1, 2))]
    stock = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
    second = {f"S{i}": draw(st.integers(0, 2)) for i in range(len(stock))} if len(warehouses) > 1 else {}
    events = []
    for n in range(draw(st.integers(1, 5))):
        events += draw(order_events(f"o{n}", len(stock)))
    duplicated = draw(st.lists(st.sampled_from(events), max_size=3))  # redeliveries
    stream = draw(st.permutations(events + duplicated))
    # split the stream into chunks, each submitted in one call and sometimes drained before the next;
    # now and then stock arrives between two chunks
    cuts = draw(st.lists(st.booleans(), min_size=len(stream), max_size=len(stream)))
    steps: list[Any] = []
    for event, cut in zip(stream, cuts, strict=True):
        if cut or not steps:
            if steps and draw(st.integers(0, 3)) == 0:
                steps.append(("restock", f"S{draw(st.integers(0, len(stock) - 1))}",
                              draw(st.sampled_from(warehouses)), draw(st.integers(1, 2))))
            steps.append(("submit", [], draw(st.booleans())))
        steps[-1][1].append(event)
    return {"warehouses": warehouses, "stock": {f"S{i}": q for i, q in enumerate(stock)}, "second": second,
            "stream": stream, "steps": steps, "batch_size": draw(st.sampled_from([1, 2, 3, 2000]))}


@contextmanager
def fresh_runtime(batch_size: int) -> Iterator[Runtime]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'baodan.db'}")
        migrate.upgrade(db)
        runtime = Runtime(Settings(data_dir=Path(tmp), database_url=db.url, batch_size=batch_size,
                                   batch_max_wait_ms=5), db, open_inbox(db), ShopDirectory(db, ttl_s=0))
        try:
            yield runtime
        finally:
            runtime.close()


def snapshot(db: Database) -> dict[str, Any]:
    with db.read() as s:
        return {
            "orders": sorted(fetchall(s, "SELECT platform_order_id, platform_status, state, warehouse_id, "
                                         "CAST(anomalies AS TEXT) FROM sales_order")),
            "levels": sorted(fetchall(s, "SELECT sku_id, warehouse_id, on_hand, reserved FROM stock_level")),
            "reservations": sorted(fetchall(s, "SELECT order_id, order_line_id, sku_id, warehouse_id, qty "
                                               "FROM reservation")),
            "moves": fetchall(s, "SELECT count(*) FROM stock_move"),
            "history": fetchall(s, "SELECT count(*) FROM order_event"),
            "backlog": sorted(fetchall(s, "SELECT order_id, sku_id, qty FROM inventory_backlog")),
        }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_any_stream_of_order_events_keeps_stock_consistent_and_replaying_it_changes_nothing(scenario):
    with fresh_runtime(scenario["batch_size"]) as runtime:
        db = runtime.db
        ids = make_catalog(db, skus=scenario["stock"], warehouses=scenario["warehouses"])
        received = Counter(scenario["stock"])
        for code, qty in scenario["second"].items():
            if qty:
                inventory.adjust_stock(db, sku_id=ids[code], warehouse_id=ids["WH2"], delta=qty)
                received[code] += qty
        for step in scenario["steps"]:
            if step[0] == "restock":
                _, code, warehouse, qty = step
                inventory.adjust_stock(db, sku_id=ids[code], warehouse_id=ids[warehouse], delta=qty,
                                       kind=MoveKind.receipt)
                received[code] += qty
            else:
                submit(runtime, *step[1])
                if step[2]:
                    drain(runtime)
        drain(runtime)

        _assert_stock_never_oversold(db)
        assert run_checks(db) == []
        _assert_newest_status_wins(db, scenario["stream"])
        _assert_stock_moved_only_for_shipped_orders(db, ids, received)
        _assert_no_waiting_order_could_be_served(db)

        before = snapshot(db)
        again = submit(runtime, *scenario["stream"])
        assert (again.accepted, again.duplicates) == (0, len(scenario["stream"]))
        assert drain(runtime) == 0
        assert snapshot(db) == before
        assert run_checks(db) == []


def _assert_stock_never_oversold(db: Database) -> None:
    with db.read() as s:
        levels = fetchall(s, "SELECT sku_id, warehouse_id, on_hand, reserved FROM stock_level")
    for sku_id, warehouse_id, on_hand, reserved in levels:
        assert 0 <= reserved <= on_hand, (sku_id, warehouse_id, on_hand, reserved)


def _assert_newest_status_wins(db: Database, stream: list[dict[str, Any]]) -> None:
    newest: dict[str, tuple[datetime, str]] = {}
    for event in stream:
        at = datetime.fromisoformat(event["updated_at"])
        held = newest.get(event["platform_order_id"])
        if held is None or (at, STATUS_RANK[PlatformStatus(event["status"])]) > (
                held[0], STATUS_RANK[PlatformStatus(held[1])]):
            newest[event["platform_order_id"]] = (at, event["status"])
    with db.read() as s:
        found = {oid: (status, state) for oid, status, state in fetchall(
            s, "SELECT platform_order_id, platform_status, state FROM sales_order")}
    assert set(found) == set(newest)
    for oid, (_, status) in newest.items():
        assert found[oid][0] == status, f"{oid}: platform status {found[oid][0]}, newest event says {status}"
        assert found[oid][1] in STATE_OF_STATUS[status], f"{oid}: state {found[oid][1]} for status {status}"


def _assert_stock_moved_only_for_shipped_orders(db: Database, ids: dict[str, int],
                                                received: Counter[str]) -> None:
    """On hand is what was received less what orders that held stock shipped; nothing else moves it."""
    shipped: Counter[int] = Counter()
    with db.read() as s:
        for sku_id, qty, anomalies in fetchall(s, """
                SELECT ln.sku_id, ln.quantity, o.anomalies
                FROM order_line ln JOIN sales_order o ON o.id = ln.order_id
                WHERE o.state IN ('shipped', 'completed')"""):
            if "shipped_without_stock" not in read_json(anomalies):
                shipped[sku_id] += qty
        on_hand = dict(fetchall(s, "SELECT sku_id, sum(on_hand) FROM stock_level GROUP BY sku_id"))
    for code, qty in received.items():
        assert on_hand.get(ids[code], 0) == qty - shipped[ids[code]], code


def _assert_no_waiting_order_could_be_served(db: Database) -> None:
    """Stock never sits free in a warehouse an order may ship from while that order waits for it."""
    with db.read() as s:
        free = {(sku, wh): qty for sku, wh, qty in fetchall(
            s, "SELECT sku_id, warehouse_id, on_hand - reserved FROM stock_level")}
        need: dict[tuple[str, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for oid, shop_id, sku_id, qty in fetchall(s, """
                SELECT o.platform_order_id, o.shop_id, ln.sku_id, ln.quantity
                FROM sales_order o JOIN order_line ln ON ln.order_id = o.id
                WHERE o.state = 'awaiting_stock'"""):
            need[(oid, shop_id)][sku_id] += qty
        prefs = load_warehouse_preferences(s, {shop_id for _, shop_id in need}) if need else {}
    for (oid, shop_id), skus in need.items():
        for warehouse_id in prefs[shop_id]:
            assert not all(free.get((sku, warehouse_id), 0) >= qty for sku, qty in skus.items()), (
                f"{oid} waits for {dict(skus)} though warehouse {warehouse_id} has it free")
