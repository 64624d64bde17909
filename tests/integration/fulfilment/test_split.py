"""Splitting orders (拆单), on both databases: an order no one warehouse can serve ships from several, each
part with its own lines, stock and amounts (adding up to what was paid); an order only partly in stock
waits whole unless the rules say ship what is there; an operator splits by hand; the platform's later
news of the original (a new address, a cancellation, "shipped") reaches its parts; each part writes its
waybill back under the original's platform id with its own lines; `baodan check` stays clean."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from baodan.check import run_checks
from baodan.core.db import fetchall, read_json
from baodan.core.errors import Conflict, Invalid
from baodan.fulfilment.intercept import intercept_once
from baodan.fulfilment.review import review_once
from baodan.fulfilment.routing import route_once
from baodan.fulfilment.split import Splitter, split_by_hand
from baodan.identity import audit
from baodan.inventory import services as inventory
from baodan.inventory.model import MoveKind
from baodan.orders.queries import order_detail
from baodan.orders.shipping import ship_order
from baodan.pipeline import retry_awaiting_stock
from baodan.rules import store
from baodan.rules.engine import default_rules
from baodan.rules.store import RuleBook
from tests.helpers import API, error_body, make_catalog, sqlite_only
from tests.integration.fulfilment.test_review import _ingest, _order

NOW_RESCAN = timedelta(0)


def _two_lines(n: int, **over: Any) -> dict[str, Any]:
    """A (1 × 20.00) and B (2 × 10.00): each part pays 20.00, so the review must not take them for one
    buyer's duplicate orders."""
    lines = [{"platform_line_id": f"{n}-1", "platform_sku_id": "P-A", "title": "A", "quantity": 1,
              "unit_price_fen": 2000, "discount_fen": 0, "amount_fen": 2000},
             {"platform_line_id": f"{n}-2", "platform_sku_id": "P-B", "title": "B", "quantity": 2,
              "unit_price_fen": 1000, "discount_fen": 0, "amount_fen": 2000}]
    body = {"lines": lines, "goods_total_fen": 4000, "shipping_fee_fen": 0, "discount_fen": 0,
            "paid_total_fen": 4000}
    return _order(n, **{**body, **over})


def _orders(db: Any) -> dict[str, dict[str, Any]]:
    with db.read() as s:
        rows = fetchall(s, "SELECT platform_order_id, id, state, warehouse_id, parent_order_id, goods_total_fen, "
                           "paid_total_fen, receiver FROM sales_order")
    return {r[0]: {"id": int(r[1]), "state": r[2], "warehouse_id": r[3], "parent": r[4], "goods": int(r[5]),
                   "paid": int(r[6]), "receiver": read_json(r[7])} for r in rows}


def _free(db: Any) -> dict[tuple[int, int], int]:
    with db.read() as s:
        return {(int(k), int(w)): int(f) for k, w, f in fetchall(
            s, "SELECT sku_id, warehouse_id, on_hand - reserved FROM stock_level")}


def _split_by_warehouse(runtime: Any, db: Any, n: int = 1) -> tuple[dict[str, int], str]:
    """A in WH1 only, B in WH2 only: the order waits whole, then ships in two parts."""
    catalog = make_catalog(db, skus={"A": 5, "B": 0}, warehouses=("WH1", "WH2"))
    inventory.adjust_stock(db, sku_id=catalog["B"], warehouse_id=catalog["WH2"], delta=5, kind=MoveKind.receipt)
    _ingest(runtime, [_two_lines(n)])
    pid = _two_lines(n)["platform_order_id"]
    assert _orders(db)[pid]["state"] == "awaiting_stock"
    assert Splitter().once(db, RuleBook(db)) == 1
    return catalog, pid


def test_an_order_no_warehouse_has_whole_ships_from_two(runtime, db) -> None:
    catalog, pid = _split_by_warehouse(runtime, db)
    orders = _orders(db)
    parent, part = orders[pid], orders[f"{pid}#2"]
    assert (parent["state"], parent["warehouse_id"], parent["parent"]) == ("reserved", catalog["WH1"], None)
    assert (part["state"], part["warehouse_id"], part["parent"]) == ("reserved", catalog["WH2"], parent["id"])
    assert parent["paid"] + part["paid"] == 4000 and parent["goods"] == part["goods"] == 2000
    assert _free(db)[(catalog["A"], catalog["WH1"])] == 4 and _free(db)[(catalog["B"], catalog["WH2"])] == 3
    with db.read() as s:
        detail = order_detail(s, parent["id"])
        part_detail = order_detail(s, part["id"])
    assert [ln["platform_line_id"] for ln in detail["lines"]] == ["1-1"]
    assert [ln["platform_line_id"] for ln in part_detail["lines"]] == ["1-2"]
    assert [r["warehouse_id"] for r in part_detail["reservations"]] == [catalog["WH2"]]
    assert [p["id"] for p in detail["parts"]] == [part["id"]] and [p["id"] for p in part_detail["parts"]] == \
        [parent["id"]]
    assert [(d["hook"], d["rule"], d["reason"]) for d in detail["decisions"]] == [
        ("split", "by_warehouse", "warehouse")]
    assert [e["kind"] for e in detail["events"]][-1] == "split"
    assert [e["kind"] for e in part_detail["events"]] == ["split_from"]
    assert run_checks(db) == []

    book = RuleBook(db)
    reviewed = review_once(db, runtime.pii, book)
    assert (reviewed.passed, reviewed.held) == (2, 0)  # one buyer, two parts of one order: no duplicate
    assert route_once(db, book).kept == 2
    ship_order(db, order_id=part["id"], carrier_code="ZTO", waybill_no="ZT900000000002", actor="user:wh")
    ship_order(db, order_id=parent["id"], carrier_code="ZTO", waybill_no="ZT900000000001", actor="user:wh")
    with db.read() as s:
        sent = {read_json(p)["waybill_no"]: read_json(p) for (p,) in fetchall(s, "SELECT payload FROM channel_outbox "
                                                                                "WHERE kind = 'ship'")}
    assert sent["ZT900000000002"]["platform_order_id"] == pid  # the platform knows the original only
    assert sent["ZT900000000002"]["lines"] == [{"platform_line_id": "1-2", "platform_sku_id": "P-B", "quantity": 2}]
    assert sent["ZT900000000001"]["lines"] == [{"platform_line_id": "1-1", "platform_sku_id": "P-A", "quantity": 1}]
    assert run_checks(db) == []


def test_partly_in_stock_waits_whole_unless_the_rules_ship_what_is_there(runtime, db) -> None:
    catalog = make_catalog(db, skus={"A": 5, "B": 0})
    _ingest(runtime, [_two_lines(2)])
    pid = _two_lines(2)["platform_order_id"]
    book = RuleBook(db, ttl_s=0)
    assert Splitter(rescan=NOW_RESCAN).once(db, book) == 0  # the shipped rules wait for the rest
    rules = copy.deepcopy(default_rules("split"))
    table = next(n for n in rules["nodes"] if n["type"] == "decisionTableNode")["content"]
    table["rules"].insert(1, {"_id": "ship_what_is_there", "_description": "部分有货先发", "kind": "'availability'",
                              "waited": ">= 0", "lines": "", "action": "'split'", "reason": "'by_availability'"})
    store.save(db, "split", rules, actor="user:ops", note="先发有货的")
    assert Splitter(rescan=NOW_RESCAN).once(db, book) == 1
    orders = _orders(db)
    assert orders[pid]["state"] == "reserved" and orders[f"{pid}#2"]["state"] == "awaiting_stock"
    with db.read() as s:
        waiting = fetchall(s, "SELECT DISTINCT order_id FROM inventory_backlog")
    assert waiting == [(orders[f"{pid}#2"]["id"],)]
    assert run_checks(db) == []
    assert Splitter(rescan=NOW_RESCAN).once(db, book) == 0  # one line left: nothing more to split

    inventory.adjust_stock(db, sku_id=catalog["B"], warehouse_id=catalog["WH1"], delta=2, kind=MoveKind.receipt)
    assert retry_awaiting_stock(db) == 1  # the rest arrived: the waiting part is served
    assert _orders(db)[f"{pid}#2"]["state"] == "reserved"
    assert run_checks(db) == []


def test_the_platforms_news_of_the_original_reaches_its_parts(runtime, db) -> None:
    catalog, pid = _split_by_warehouse(runtime, db, n=3)
    review_once(db, runtime.pii, RuleBook(db))
    moved = _two_lines(3, updated_at="2026-12-03T10:05:00+08:00",
                       receiver={"province": "江苏省", "city": "南京市", "district": "玄武区", "address": "中山路1号"})
    _ingest(runtime, [moved])
    orders = _orders(db)
    assert orders[f"{pid}#2"]["receiver"]["city"] == "南京市" == orders[pid]["receiver"]["city"]

    _ingest(runtime, [_two_lines(3, status="shipped", updated_at="2026-12-03T10:06:00+08:00")])
    orders = _orders(db)  # the platform saw a parcel: the parts still in the warehouse ship from here
    assert orders[pid]["state"] == orders[f"{pid}#2"]["state"] == "reserved"
    assert _free(db)[(catalog["B"], catalog["WH2"])] == 3
    ship_order(db, order_id=orders[f"{pid}#2"]["id"], carrier_code="ZTO", waybill_no="ZT900000000003",
               actor="user:wh")
    _ingest(runtime, [_two_lines(3, status="cancelled", updated_at="2026-12-03T10:07:00+08:00")])
    orders = _orders(db)  # a refund of the rest: the part not shipped is stopped
    assert orders[pid]["state"] == "cancelled" and orders[f"{pid}#2"]["state"] == "shipped"
    assert _free(db)[(catalog["A"], catalog["WH1"])] == 5
    assert run_checks(db) == []


def test_a_cancelled_original_cancels_every_part(runtime, db) -> None:
    catalog, pid = _split_by_warehouse(runtime, db, n=4)
    review_once(db, runtime.pii, RuleBook(db))
    _ingest(runtime, [_two_lines(4, status="refunded", updated_at="2026-12-03T10:05:00+08:00")])
    orders = _orders(db)
    assert orders[pid]["state"] == orders[f"{pid}#2"]["state"] == "cancelled"
    assert _free(db)[(catalog["A"], catalog["WH1"])] == 5 and _free(db)[(catalog["B"], catalog["WH2"])] == 5
    assert intercept_once(db) == 2  # both were in fulfilment
    with db.read() as s:
        assert order_detail(s, orders[f"{pid}#2"]["id"])["events"][-1]["kind"] == "intercepted"
    assert run_checks(db) == []


def test_split_by_hand_keeps_the_stock_and_the_hold(runtime, db) -> None:
    make_catalog(db, skus={"A": 5, "B": 5})
    _ingest(runtime, [_two_lines(5, buyer_message="先别发")])  # held: a remark keyword
    review_once(db, runtime.pii, RuleBook(db))
    pid = _two_lines(5)["platform_order_id"]
    order_id = _orders(db)[pid]["id"]
    with db.read() as s:
        line_b = next(ln["id"] for ln in order_detail(s, order_id)["lines"] if ln["platform_line_id"] == "5-2")
    free = _free(db)
    parts = split_by_hand(db, order_id, [line_b], actor="user:ops", note="B 先发")["parts"]
    assert [p["platform_order_id"] for p in parts] == [pid, f"{pid}#2"]
    assert [p["state"] for p in parts] == ["reserved", "reserved"] and _free(db) == free  # the stock stays held
    with db.read() as s:
        stages = dict(fetchall(s, "SELECT order_id, stage FROM fulfilment"))
        (action,) = [r for r in audit.search(s) if r["action"] == "fulfilment.split"]
    assert stages == {order_id: "held", parts[1]["order_id"]: "held"}
    assert action["target"] == f"order:{order_id}"
    assert run_checks(db) == []
    with pytest.raises(Invalid) as every:
        split_by_hand(db, order_id, [999_999], actor="user:ops")  # not its line
    assert every.value.code == "fulfilment.split_bad_lines"
    with db.read() as s:
        (line_a,) = [ln["id"] for ln in order_detail(s, order_id)["lines"]]
    with pytest.raises(Invalid) as whole:
        split_by_hand(db, order_id, [line_a], actor="user:ops")  # its only line
    assert whole.value.code == "fulfilment.split_all_lines"
    ship_order(db, order_id=parts[1]["order_id"], carrier_code="ZTO", waybill_no="ZT900000000005", actor="user:wh")
    with pytest.raises(Conflict) as shipped:
        split_by_hand(db, parts[1]["order_id"], [line_b], actor="user:ops")
    assert shipped.value.code == "fulfilment.not_splittable"


def test_a_waiting_order_split_by_hand_ships_what_is_there(runtime, db) -> None:
    make_catalog(db, skus={"A": 5, "B": 1})  # B is short: the order waits whole
    _ingest(runtime, [_two_lines(6)])
    order_id = _orders(db)[_two_lines(6)["platform_order_id"]]["id"]
    with db.read() as s:
        line_b = next(ln["id"] for ln in order_detail(s, order_id)["lines"] if ln["platform_line_id"] == "6-2")
    parts = split_by_hand(db, order_id, [line_b], actor="user:ops")["parts"]
    assert [p["state"] for p in parts] == ["reserved", "awaiting_stock"]
    assert run_checks(db) == []


@sqlite_only  # the HTTP layer is the same on both databases
def test_split_over_http(runtime, db, client) -> None:
    make_catalog(db, skus={"A": 5, "B": 5})
    _ingest(runtime, [_two_lines(7, buyer_message="先别发")])
    review_once(db, runtime.pii, RuleBook(db))
    order_id = _orders(db)[_two_lines(7)["platform_order_id"]]["id"]
    lines = client.get(f"{API}/orders/{order_id}").json()["lines"]
    error_body(client.post(f"{API}/fulfilment/{order_id}/split", json={"line_ids": []}), 422, "request.invalid")
    error_body(client.post(f"{API}/fulfilment/{order_id}/split", json={"line_ids": [ln["id"] for ln in lines]}),
               422, "fulfilment.split_all_lines")
    error_body(client.post(f"{API}/fulfilment/999999/split", json={"line_ids": [1]}), 404, "orders.not_found")
    done = client.post(f"{API}/fulfilment/{order_id}/split", json={"line_ids": [lines[1]["id"]]})
    assert done.status_code == 200, done.text
    part = done.json()["parts"][1]
    detail = client.get(f"{API}/orders/{part['order_id']}").json()
    assert detail["parent_order_id"] == order_id and [p["id"] for p in detail["parts"]] == [order_id]


def _refund_b(n: int, at: str = "2026-12-03T10:05:00+08:00") -> dict[str, Any]:
    body = _two_lines(n, updated_at=at)
    body["lines"][1]["refunded"] = True
    return body


def test_a_line_refunded_before_shipping_leaves_the_parcel(runtime, db) -> None:
    catalog = make_catalog(db, skus={"A": 5, "B": 5})
    _ingest(runtime, [_two_lines(8)])
    review_once(db, runtime.pii, RuleBook(db))
    pid = _two_lines(8)["platform_order_id"]
    _ingest(runtime, [_refund_b(8)])
    orders = _orders(db)
    assert (orders[pid]["state"], orders[pid]["paid"]) == ("reserved", 2000)
    assert (orders[f"{pid}#2"]["state"], orders[f"{pid}#2"]["paid"]) == ("cancelled", 2000)
    assert _free(db)[(catalog["B"], catalog["WH1"])] == 5 and _free(db)[(catalog["A"], catalog["WH1"])] == 4
    assert intercept_once(db) == 1  # the refunded line's part was in review with its order: stopped there
    with db.read() as s:
        detail = order_detail(s, orders[pid]["id"])
    assert [ln["platform_line_id"] for ln in detail["lines"]] == ["8-1"]
    assert detail["events"][-1]["kind"] == "line_refunded"
    with db.read() as s:
        refunded = order_detail(s, orders[f"{pid}#2"]["id"])["lines"]
    assert [ln["platform_line_id"] for ln in refunded if ln["refunded_at"]] == ["8-2"]
    _ingest(runtime, [_refund_b(8, at="2026-12-03T10:06:00+08:00")])  # the platform says it again
    assert len(_orders(db)) == 2 and _free(db)[(catalog["B"], catalog["WH1"])] == 5
    assert run_checks(db) == []


def test_a_waiting_order_whose_missing_line_is_refunded_ships_the_rest(runtime, db) -> None:
    make_catalog(db, skus={"A": 5, "B": 1})
    _ingest(runtime, [_two_lines(9)])
    pid = _two_lines(9)["platform_order_id"]
    assert _orders(db)[pid]["state"] == "awaiting_stock"
    _ingest(runtime, [_refund_b(9)])  # `drain` also runs the stock retry
    orders = _orders(db)
    assert orders[pid]["state"] == "reserved" and orders[f"{pid}#2"]["state"] == "cancelled"
    assert run_checks(db) == []


@sqlite_only
def test_packing_slip_over_http(runtime, db, client) -> None:
    make_catalog(db, skus={"A": 5, "B": 5})
    _ingest(runtime, [_two_lines(10)])
    order_id = _orders(db)[_two_lines(10)["platform_order_id"]]["id"]
    slip = client.get(f"{API}/pack/{order_id}/packing-slip.pdf?size=a5")
    assert slip.status_code == 200 and slip.content.startswith(b"%PDF")
    error_body(client.get(f"{API}/pack/999999/packing-slip.pdf"), 404, "orders.not_found")
    error_body(client.get(f"{API}/pack/{order_id}/packing-slip.pdf?size=a4"), 422, "request.invalid")


@sqlite_only
def test_order_detail_shows_refunded_lines_over_http(runtime, db, client) -> None:
    make_catalog(db, skus={"A": 5, "B": 5})
    _ingest(runtime, [_two_lines(11)])
    _ingest(runtime, [_refund_b(11)])
    part = _orders(db)[f"{_two_lines(11)['platform_order_id']}#2"]["id"]
    (line,) = client.get(f"{API}/orders/{part}").json()["lines"]
    assert line["refunded_at"] is not None and line["platform_line_id"] == "11-2"
