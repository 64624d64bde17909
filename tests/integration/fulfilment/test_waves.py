"""Waves and pick lists, on both databases: a live session's hot SKU makes a single-SKU wave whose pick list
is one line with the total; the rest go into mixed waves by zone, in bin order; picking moves them on."""

from __future__ import annotations

from typing import Any

from baodan.core.db import execute, fetchall
from baodan.fulfilment import waves
from baodan.fulfilment.review import review_once
from baodan.fulfilment.routing import route_once
from baodan.identity import accounts
from baodan.rules.store import RuleBook
from tests.api.test_security import PASSWORD, _login
from tests.helpers import API, error_body, make_catalog, sqlite_only
from tests.integration.fulfilment.test_review import _ingest, _order


def _line(n: int, sku: str, qty: int = 1) -> dict[str, Any]:
    return {"platform_line_id": f"{n}-{sku}", "platform_sku_id": f"P-{sku}", "title": sku, "quantity": qty,
            "unit_price_fen": 9900, "discount_fen": 0, "amount_fen": 9900 * qty}


def test_hot_orders_make_a_single_sku_wave_and_the_rest_mixed_waves_by_zone(runtime, db) -> None:
    ids = make_catalog(db, skus={"A": 100, "B": 100, "C": 100})
    with db.write() as s:
        for sku, location, zone in (("A", "A-01-01", "A"), ("B", "B-02-01", "B"), ("C", "A-03-02", "A")):
            execute(s, "INSERT INTO bin_location (sku_id, warehouse_id, location, zone) VALUES (?, ?, ?, ?)",
                    (ids[sku], ids["WH1"], location, zone))
    hot = [_order(100 + n, lines=[_line(100 + n, "A")]) for n in range(waves.SINGLE_MIN + 2)]
    mixed = [_order(200 + n, lines=[_line(200 + n, "B"), _line(200 + n, "C", 2)], paid_total_fen=29700,
                    goods_total_fen=29700) for n in range(3)]
    lone = [_order(300 + n, lines=[_line(300 + n, "B")]) for n in range(2)]
    _ingest(runtime, hot + mixed + lone)
    book = RuleBook(db)
    review_once(db, runtime.pii, book)
    route_once(db, book)
    with db.write() as s:  # the waybill step is not built yet: numbers are taken as given here
        execute(s, "UPDATE fulfilment SET stage = 'ready', carrier_code = 'ZTO', waybill_no = 'ZT' || order_id")
    made = waves.build_waves(db, warehouse_id=ids["WH1"], actor="user:wh")
    assert [(w["kind"], w["zone"], w["orders"], w["units"]) for w in made] == [
        ("single_sku", "A", len(hot), len(hot)), ("mixed", "A", 3, 9), ("mixed", "B", 2, 2)]
    assert waves.build_waves(db, warehouse_id=ids["WH1"], actor="user:wh") == []  # nothing ready is left
    single = waves.pick_list(db, made[0]["id"])
    assert [(line["sku_code"], line["location"], line["qty"]) for line in single["lines"]] == [
        ("A", "A-01-01", len(hot))]  # pick the total once
    zone_a = waves.pick_list(db, made[1]["id"])
    assert [(line["sku_code"], line["qty"]) for line in zone_a["lines"]] == [("C", 6), ("B", 3)]  # bin order
    listed = waves.wave_orders(db, made[0]["id"])
    assert [o["pick_seq"] for o in listed] == list(range(1, len(hot) + 1))
    assert [o["platform_order_id"] for o in listed] == [o["platform_order_id"] for o in hot]  # paid order
    picked = waves.mark_picked(db, made[0]["id"], actor="user:wh")
    assert picked["status"] == "picked"
    with db.read() as s:
        stages = dict(fetchall(s, "SELECT stage, count(*) FROM fulfilment GROUP BY stage"))
    assert stages == {"picked": len(hot), "waved": 5}


@sqlite_only  # the HTTP layer is the same on both databases
def test_waves_over_http_for_warehouse_staff_in_their_warehouse(runtime, db, client) -> None:
    ids = make_catalog(db, skus={"A": 100}, warehouses=("WH1", "WH2"))
    error_body(client.put(f"{API}/warehouses/{ids['WH1']}/bins", json=[{"sku": "NOPE", "location": "A-1",
                                                                         "zone": "A"}]), 422, "catalog.unknown_sku")
    assert client.put(f"{API}/warehouses/{ids['WH1']}/bins",
                      json=[{"sku": "A", "location": "A-01-01", "zone": "A"}]).json() == {"saved": 1}
    _ingest(runtime, [_order(400 + n, lines=[_line(400 + n, "A")]) for n in range(waves.SINGLE_MIN)])
    book = RuleBook(db)
    review_once(db, runtime.pii, book)
    route_once(db, book)
    with db.write() as s:
        execute(s, "UPDATE fulfilment SET stage = 'ready'")
    accounts.create_user(db, username="wh2", role="warehouse", password=PASSWORD, warehouse_ids=[ids["WH2"]])
    accounts.create_user(db, username="cs", role="service", password=PASSWORD)
    error_body(_login(runtime, "wh2").post(f"{API}/waves", json={"warehouse_id": ids["WH1"]}), 404,
               "catalog.not_found")
    error_body(_login(runtime, "cs").post(f"{API}/waves", json={"warehouse_id": ids["WH1"]}), 403, "auth.forbidden")
    (made,) = client.post(f"{API}/waves", json={"warehouse_id": ids["WH1"]}).json()
    assert made["kind"] == "single_sku" and made["orders"] == waves.SINGLE_MIN
    detail = client.get(f"{API}/waves/{made['id']}").json()
    assert detail["lines"][0]["qty"] == waves.SINGLE_MIN and len(detail["orders"]) == waves.SINGLE_MIN
    assert _login(runtime, "wh2").get(f"{API}/waves").json()["items"] == []  # another warehouse's waves
    error_body(_login(runtime, "wh2").get(f"{API}/waves/{made['id']}"), 404, "fulfilment.wave_not_found")
    assert client.post(f"{API}/waves/{made['id']}/picked").json()["status"] == "picked"
    error_body(client.post(f"{API}/waves/{made['id']}/picked"), 409, "fulfilment.wave_not_open")
