"""A warehouse runs short (缺货改派), on both databases: the missing units are written off, the orders they were
promised to — latest paid first, not yet waved — are re-reserved in the shop's next warehouse or wait for
stock; the books still balance; a resent report changes nothing; parcels already waved are not touched."""

from __future__ import annotations

import pytest

from baodan.check import run_checks
from baodan.core.db import execute, fetchall
from baodan.core.errors import Conflict, Invalid
from baodan.fulfilment.review import review_once
from baodan.fulfilment.routing import route_once
from baodan.fulfilment.short import report_short
from baodan.inventory import services as inventory
from baodan.inventory.model import MoveKind
from baodan.rules.store import RuleBook
from tests.helpers import API, error_body, make_catalog, sqlite_only
from tests.integration.fulfilment.test_review import _ingest, _order


def _setup(runtime, db) -> dict[str, int]:
    ids = make_catalog(db, skus={"A": 5}, warehouses=("WH1", "WH2"))
    inventory.adjust_stock(db, sku_id=ids["A"], warehouse_id=ids["WH2"], delta=2, kind=MoveKind.receipt)
    _ingest(runtime, [_order(n) for n in range(901, 906)])  # paid one second apart, all reserved in WH1
    book = RuleBook(db)
    review_once(db, runtime.pii, book)
    route_once(db, book)
    return ids


def _orders(db) -> dict[str, tuple]:
    with db.read() as s:
        return {p: (st, w, fst, fw) for p, st, w, fst, fw in fetchall(
            s, "SELECT o.platform_order_id, o.state, o.warehouse_id, f.stage, f.warehouse_id FROM sales_order o "
               "LEFT JOIN fulfilment f ON f.order_id = o.id")}


def _level(db, sku_id: int, warehouse_id: int) -> tuple[int, int]:
    with db.read() as s:
        return tuple(fetchall(s, "SELECT on_hand, reserved FROM stock_level WHERE sku_id = ? AND warehouse_id = ?",
                              (sku_id, warehouse_id))[0])


def test_the_orders_promised_missing_units_go_to_the_next_warehouse_or_wait(runtime, db) -> None:
    ids = _setup(runtime, db)
    wh1, wh2 = ids["WH1"], ids["WH2"]
    done = report_short(db, sku_id=ids["A"], warehouse_id=wh1, missing=3, actor="user:wh", ref="count-1")
    # the three latest paid move: two fit in WH2, the last waits; the first paid keep their place
    assert list(done["rerouted"].values()) == [wh2, wh2] and len(done["waiting"]) == 1
    orders = _orders(db)
    oid = {n: _order(n)["platform_order_id"] for n in range(901, 906)}
    assert orders[oid[901]] == orders[oid[902]] == ("reserved", wh1, "waybill", wh1)
    assert orders[oid[903]] == orders[oid[904]] == ("reserved", wh2, "route", wh2)  # routed again from WH2
    assert orders[oid[905]] == ("awaiting_stock", None, None, None)  # out of fulfilment, waiting in paid order
    assert _level(db, ids["A"], wh1) == (2, 2) and _level(db, ids["A"], wh2) == (2, 2)
    assert run_checks(db) == []
    again = report_short(db, sku_id=ids["A"], warehouse_id=wh1, missing=3, actor="user:wh", ref="count-1")
    assert again["repeated"] and _level(db, ids["A"], wh1) == (2, 2)  # a resent report changes nothing
    inventory.adjust_stock(db, sku_id=ids["A"], warehouse_id=wh1, delta=1, kind=MoveKind.receipt)
    from baodan.pipeline import retry_awaiting_stock

    assert retry_awaiting_stock(db) == 1  # the waiting order is served when stock comes
    with db.read() as s:
        kinds = [k for (k,) in fetchall(s, "SELECT e.kind FROM order_event e JOIN sales_order o ON o.id = e.order_id "
                                           "WHERE o.platform_order_id = ? ORDER BY e.id", (oid[905],))]
    assert "awaiting_stock" in kinds and kinds[-1] == "reserved"


def test_free_stock_covers_a_small_loss_and_waved_parcels_are_not_touched(runtime, db) -> None:
    ids = _setup(runtime, db)
    wh1 = ids["WH1"]
    inventory.adjust_stock(db, sku_id=ids["A"], warehouse_id=wh1, delta=2, kind=MoveKind.receipt)
    done = report_short(db, sku_id=ids["A"], warehouse_id=wh1, missing=2, actor="user:wh")
    assert (done["rerouted"], done["waiting"]) == ({}, []) and _level(db, ids["A"], wh1) == (5, 5)
    with db.write() as s:
        execute(s, "UPDATE fulfilment SET stage = 'waved'")
    with pytest.raises(Conflict, match="waved or picked"):
        report_short(db, sku_id=ids["A"], warehouse_id=wh1, missing=1, actor="user:wh")
    with pytest.raises(Invalid, match="only 5 are on hand"):
        report_short(db, sku_id=ids["A"], warehouse_id=wh1, missing=6, actor="user:wh")
    assert _level(db, ids["A"], wh1) == (5, 5) and run_checks(db) == []  # nothing half-written


@sqlite_only
def test_short_over_http(runtime, db, client) -> None:
    ids = _setup(runtime, db)
    url = f"{API}/warehouses/{ids['WH1']}/short"
    answer = client.post(url, json={"sku": "A", "missing": 1, "reason": "盘点少 1 件", "ref": "stocktake-7"})
    assert answer.status_code == 200 and len(answer.json()["rerouted"]) == 1
    assert client.post(url, json={"sku": "A", "missing": 1, "ref": "stocktake-7"}).json()["repeated"] is True
    error_body(client.post(url, json={"sku": "NOPE", "missing": 1}), 422, "catalog.unknown_sku")
    error_body(client.post(url, json={"sku": "A", "missing": 0}), 422, "request.invalid")
    error_body(client.post(f"{API}/warehouses/999999/short", json={"sku": "A", "missing": 1}), 404,
               "inventory.unknown_level")
    with db.read() as s:
        assert fetchall(s, "SELECT count(*) FROM audit_log WHERE action = 'fulfilment.short'")[0][0] == 1
