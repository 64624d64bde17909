"""Routing (分仓), on both databases: the routing rules move an order's reservation to the warehouse they
choose when it has the stock, and leave it where it was when not; every routing is recorded."""

from __future__ import annotations

import copy

from baodan.check import run_checks
from baodan.core.db import fetchall
from baodan.fulfilment.intercept import intercept_once
from baodan.fulfilment.review import review_once
from baodan.fulfilment.routing import Routed, route_once
from baodan.inventory import services as inventory
from baodan.rules import store
from baodan.rules.engine import default_rules
from baodan.rules.store import RuleBook
from tests.helpers import make_catalog
from tests.integration.fulfilment.test_review import _ingest, _order

SOUTH = {"province": "广东省", "city": "广州市", "district": "天河区", "address": "天河路385号1201室"}


def test_orders_move_to_the_chosen_warehouse_when_it_has_the_stock(runtime, db) -> None:
    ids = make_catalog(db, skus={"A": 10}, warehouses=("WH1", "WH2"))
    inventory.adjust_stock(db, sku_id=ids["A"], warehouse_id=ids["WH2"], delta=2, reason="stock in the south",
                           actor="user:test")
    rules = copy.deepcopy(default_rules("routing"))
    table = next(n for n in rules["nodes"] if n["type"] == "decisionTableNode")
    table["content"]["rules"].insert(0, {"_id": "south", "_description": "华南发广州仓", "province": "'广东省'",
                                         "weight": "", "current": "", "warehouse": "'WH2'", "rule": "'south'"})
    assert store.save(db, "routing", rules, actor="user:ops")["version"] == 1
    _ingest(runtime, [_order(41, receiver=SOUTH), _order(42), _order(43, receiver=SOUTH),
                      _order(44, receiver=SOUTH)])  # three for the south; its warehouse holds two
    book = RuleBook(db)
    assert review_once(db, runtime.pii, book).passed == 4
    done = route_once(db, book)
    assert (done.moved, done.kept) == (2, 2)
    with db.read() as s:
        where = dict(fetchall(s, "SELECT o.platform_order_id, w.code FROM sales_order o JOIN warehouse w "
                                 "ON w.id = o.warehouse_id"))
        held = dict(fetchall(s, "SELECT w.code, sum(r.qty) FROM reservation r JOIN warehouse w "
                                "ON w.id = r.warehouse_id GROUP BY w.code"))
        decided = fetchall(s, "SELECT o.platform_order_id, d.rule, d.outcome, d.reason FROM order_decision d "
                              "JOIN sales_order o ON o.id = d.order_id WHERE d.hook = 'routing' "
                              "ORDER BY o.platform_order_id")
        stages = {r[0] for r in fetchall(s, "SELECT stage FROM fulfilment")}
    assert [where[_order(n)["platform_order_id"]] for n in (41, 42, 43, 44)] == ["WH2", "WH1", "WH2", "WH1"]
    assert held == {"WH1": 2, "WH2": 2}
    assert [d[1:] for d in decided] == [("south", "WH2", "moved"), ("keep", "WH1", "kept"),
                                        ("south", "WH2", "moved"), ("south", "WH1", "kept")]
    assert stages == {"waybill"}
    assert route_once(db, book) == type(done)(0, 0)  # routed once
    assert run_checks(db) == []


def test_an_order_cancelled_on_the_platform_is_intercepted_where_it_is(runtime, db) -> None:
    make_catalog(db, skus={"A": 10})
    _ingest(runtime, [_order(51), _order(52)])
    book = RuleBook(db)
    review_once(db, runtime.pii, book)
    cancelled = _order(51, status="cancelled", updated_at="2026-12-03T10:05:00+08:00")
    _ingest(runtime, [cancelled])  # the platform's cancellation: the pipeline releases the stock
    assert intercept_once(db) == 1 and intercept_once(db) == 0
    assert route_once(db, book).kept == 1  # only the other order goes on
    with db.read() as s:
        stages = dict(fetchall(s, "SELECT o.platform_order_id, f.stage || ' ' || coalesce(f.hold_reason, '') "
                                  "FROM fulfilment f JOIN sales_order o ON o.id = f.order_id"))
        events = [k for (k,) in fetchall(s, "SELECT e.kind FROM order_event e JOIN sales_order o ON o.id = e.order_id "
                                            "WHERE o.platform_order_id = ? ORDER BY e.id",
                                         (cancelled["platform_order_id"],))]
    assert stages == {cancelled["platform_order_id"]: "intercepted at route",
                      _order(52)["platform_order_id"]: "waybill "}
    assert events[-1] == "intercepted"
    assert run_checks(db) == []


def test_the_rules_see_which_warehouses_have_an_order_whole(runtime, db) -> None:
    ids = make_catalog(db, skus={"A": 10}, warehouses=("WH1", "WH2"))
    inventory.adjust_stock(db, sku_id=ids["A"], warehouse_id=ids["WH2"], delta=1, reason="one in the south",
                           actor="user:test")
    rules = copy.deepcopy(default_rules("routing"))
    table = next(n for n in rules["nodes"] if n["type"] == "decisionTableNode")
    table["content"]["inputs"].append({"id": "stock", "name": "有货的仓", "field": "in_stock"})
    for row in table["content"]["rules"]:
        row["stock"] = ""
    table["content"]["rules"].insert(0, {"_id": "cheaper", "_description": "广州仓有货先发广州仓", "province": "",
                                         "weight": "", "current": "", "stock": "contains($, 'WH2')",
                                         "warehouse": "'WH2'", "rule": "'cheaper'"})
    store.save(db, "routing", rules, actor="user:ops")
    _ingest(runtime, [_order(45), _order(46)])
    book = RuleBook(db)
    review_once(db, runtime.pii, book)
    assert route_once(db, book) == Routed(kept=1, moved=1)
    with db.read() as s:
        where = dict(fetchall(s, "SELECT o.platform_order_id, w.code FROM sales_order o JOIN warehouse w "
                                 "ON w.id = o.warehouse_id"))
        decided = {p: (r, why) for p, r, why in fetchall(
            s, "SELECT o.platform_order_id, d.rule, d.reason FROM order_decision d "
               "JOIN sales_order o ON o.id = d.order_id WHERE d.hook = 'routing'")}
    assert [where[_order(n)["platform_order_id"]] for n in (45, 46)] == ["WH2", "WH1"]
    # both saw WH2's one unit when the batch was read; the move takes the stock again, so one stays
    assert [decided[_order(n)["platform_order_id"]] for n in (45, 46)] == [("cheaper", "moved"), ("cheaper", "kept")]
    assert run_checks(db) == []
