"""Scan-to-pack, on both databases: scan the waybill, then each item; a wrong item or one too many is refused
saying what was expected; a complete parcel is weighed and ships (stock leaves, the waybill is owed to the
platform); an intercepted order tells the packer to put it back. And the same over HTTP."""

from __future__ import annotations

import pytest

from baodan.check import run_checks
from baodan.core.db import execute, fetchall
from baodan.core.errors import BaoDanError
from baodan.fulfilment import packing, waves
from baodan.fulfilment.intercept import intercept_once
from baodan.fulfilment.review import review_once
from baodan.fulfilment.routing import route_once
from baodan.rules.store import RuleBook
from tests.helpers import API, error_body, make_catalog, sqlite_only
from tests.integration.fulfilment.test_review import _ingest, _order
from tests.integration.fulfilment.test_waves import _line


def _picked(runtime, db) -> dict[str, int]:
    ids = make_catalog(db, skus={"A": 50, "B": 50})
    with db.write() as s:
        execute(s, "UPDATE sku SET barcode = '690000000000' || code")
    _ingest(runtime, [_order(501, lines=[_line(501, "A", 2), _line(501, "B")], paid_total_fen=29700,
                             goods_total_fen=29700), _order(502)])
    book = RuleBook(db)
    review_once(db, runtime.pii, book)
    route_once(db, book)
    with db.write() as s:  # the waybill step is not built yet: numbers as a carrier would give them
        execute(s, "UPDATE fulfilment SET stage = 'ready', carrier_code = 'ZTO', waybill_no = '7' || order_id")
    waves.build_waves(db, warehouse_id=ids["WH1"], actor="user:wh")
    with db.read() as s:
        return {p: int(i) for i, p in fetchall(s, "SELECT id, platform_order_id FROM sales_order")}


def test_a_parcel_is_scanned_item_by_item_then_ships(runtime, db) -> None:
    ids = _picked(runtime, db)
    order_id = ids[_order(501)["platform_order_id"]]
    parcel = packing.scan_waybill(db, f"7{order_id}")
    assert [(i["sku_code"], i["qty"], i["scanned"]) for i in parcel["items"]] == [("A", 2, 0), ("B", 1, 0)]
    with pytest.raises(BaoDanError) as wrong:
        packing.scan_item(db, order_id, "6900000000009")
    assert wrong.value.code == "pack.wrong_item" and "A" in wrong.value.message
    packing.scan_item(db, order_id, "690000000000A")
    with pytest.raises(BaoDanError) as early:
        packing.confirm(db, order_id, weight_g=800, actor="user:packer")
    assert early.value.code == "pack.incomplete"
    packing.scan_item(db, order_id, "690000000000A")
    with pytest.raises(BaoDanError) as extra:
        packing.scan_item(db, order_id, "690000000000A")
    assert extra.value.code == "pack.too_many"
    assert packing.scan_item(db, order_id, "B")["complete"] is True  # the SKU code does where no barcode is read
    done = packing.confirm(db, order_id, weight_g=800, actor="user:packer")
    assert done["shipment"]["waybill_no"] == f"7{order_id}"
    with db.read() as s:
        ((state,),) = fetchall(s, "SELECT state FROM sales_order WHERE id = ?", (order_id,))
        ((stage, weight),) = fetchall(s, "SELECT stage, weight_g FROM fulfilment WHERE order_id = ?", (order_id,))
    assert (state, stage, weight) == ("shipped", "shipped", 800)
    assert run_checks(db) == []


def test_an_intercepted_parcel_is_put_back(runtime, db) -> None:
    ids = _picked(runtime, db)
    _ingest(runtime, [_order(502, status="cancelled", updated_at="2026-12-03T10:05:00+08:00")])
    intercept_once(db)
    with pytest.raises(BaoDanError) as back:
        packing.scan_waybill(db, f"7{ids[_order(502)['platform_order_id']]}")
    assert back.value.code == "pack.intercepted" and "请放回" in back.value.message


@sqlite_only  # the HTTP layer is the same on both databases
def test_scan_to_pack_over_http(runtime, db, client) -> None:
    ids = _picked(runtime, db)
    order_id = ids[_order(502)["platform_order_id"]]
    assert client.post(f"{API}/pack/scan", json={"code": f"7{order_id}"}).json()["items"][0]["sku_code"] == "A"
    error_body(client.post(f"{API}/pack/scan", json={"code": "nothing"}), 404, "pack.unknown_waybill")
    error_body(client.post(f"{API}/pack/{order_id}/items", json={"code": "B"}), 422, "pack.wrong_item")
    assert client.post(f"{API}/pack/{order_id}/items", json={"code": "A"}).json()["complete"] is True
    error_body(client.post(f"{API}/pack/{order_id}/confirm", json={"weight_g": 0}), 422, "request.invalid")
    assert client.post(f"{API}/pack/{order_id}/confirm", json={"weight_g": 300}).json()["stage"] == "shipped"
    error_body(client.post(f"{API}/pack/{order_id}/items", json={"code": "A"}), 409, "pack.wrong_stage")
