"""Shipping an order from BaoDan: stock leaves, the order is shipped, a waybill write-back is owed, the
edit is audited; resending is harmless; a platform "shipped" push afterwards consumes nothing twice."""

from __future__ import annotations

from typing import Any

from baodan.check import run_checks
from baodan.core.db import fetchall, read_json
from baodan.identity import accounts, audit
from tests.api.test_security import PASSWORD, _login, _two_shops
from tests.helpers import API, drain, error_body, make_catalog, order, submit

SHIP = {"carrier_code": "ZTO", "waybill_no": "ZT7500012345678"}


def _level(db: Any, sku_id: int) -> tuple[int, int]:
    with db.read() as s:
        return tuple(fetchall(s, "SELECT on_hand, reserved FROM stock_level WHERE sku_id = ?", (sku_id,))[0])


def _order_id(client: Any, platform_order_id: str) -> int:
    return client.get(f"{API}/orders", params={"platform_order_id": platform_order_id}).json()["items"][0]["id"]


def test_shipping_consumes_the_reservation_owes_a_write_back_and_is_audited(runtime, db, client) -> None:
    ids = make_catalog(db, skus={"A": 10})
    submit(runtime, order("o1", [("A", 3)]))
    drain(runtime)
    assert _level(db, ids["A"]) == (10, 3)
    order_id = _order_id(client, "o1")
    resp = client.post(f"{API}/orders/{order_id}/ship", json=SHIP)
    assert resp.status_code == 200, resp.text
    assert resp.json()["waybill_no"] == SHIP["waybill_no"] and resp.json()["written_back_at"] is None
    assert _level(db, ids["A"]) == (7, 0)
    detail = client.get(f"{API}/orders/{order_id}").json()
    assert detail["state"] == "shipped" and detail["reservations"] == []
    assert detail["events"][-1]["kind"] == "shipped"
    with db.read() as s:
        ((kind, payload),) = fetchall(s, "SELECT kind, payload FROM channel_outbox")
        record = audit.search(s, action="orders.ship")[0]
    assert kind == "ship" and read_json(payload)["platform_order_id"] == "o1"
    assert record["detail"]["before"] == {"state": "reserved"} and record["actor"] == "user:owner"
    assert run_checks(db) == []


def test_resending_is_harmless_and_conflicts_are_refused(runtime, db, client) -> None:
    make_catalog(db, skus={"A": 1})
    submit(runtime, order("o1", [("A", 1)]), order("o2", [("A", 1)], paid_offset_s=1))
    drain(runtime)
    first, waiting = _order_id(client, "o1"), _order_id(client, "o2")
    shipped = client.post(f"{API}/orders/{first}/ship", json=SHIP).json()
    assert client.post(f"{API}/orders/{first}/ship", json=SHIP).json() == shipped
    error_body(client.post(f"{API}/orders/{first}/ship", json={**SHIP, "waybill_no": "ZT999"}),
               409, "orders.already_shipped")
    error_body(client.post(f"{API}/orders/{waiting}/ship", json={**SHIP, "waybill_no": "ZT1000"}),
               409, "orders.not_shippable")  # awaiting stock
    error_body(client.post(f"{API}/orders/999999/ship", json=SHIP), 404, "orders.not_found")
    error_body(client.post(f"{API}/orders/{first}/ship", json={"carrier_code": "Z T", "waybill_no": "1"}),
               422, "request.invalid")
    with db.read() as s:
        assert fetchall(s, "SELECT count(*) FROM channel_outbox")[0][0] == 1


def test_a_waybill_is_on_one_parcel_only(runtime, db, client) -> None:
    make_catalog(db, skus={"A": 5})
    submit(runtime, order("o1", [("A", 1)]), order("o2", [("A", 1)]))
    drain(runtime)
    client.post(f"{API}/orders/{_order_id(client, 'o1')}/ship", json=SHIP)
    error_body(client.post(f"{API}/orders/{_order_id(client, 'o2')}/ship", json=SHIP), 409, "orders.waybill_in_use")


def test_the_platforms_shipped_push_afterwards_consumes_nothing_twice(runtime, db, client) -> None:
    ids = make_catalog(db, skus={"A": 10})
    submit(runtime, order("o1", [("A", 2)]))
    drain(runtime)
    client.post(f"{API}/orders/{_order_id(client, 'o1')}/ship", json=SHIP)
    submit(runtime, order("o1", [("A", 2)], status="shipped", updated_offset_s=60))
    drain(runtime)
    assert _level(db, ids["A"]) == (8, 0)
    assert client.get(f"{API}/orders/{_order_id(client, 'o1')}").json()["state"] == "shipped"
    assert run_checks(db) == []


def test_an_order_of_another_shop_is_not_found(runtime, db) -> None:
    ids = _two_shops(runtime, db)
    accounts.create_user(db, username="a-ops", role="operator", password=PASSWORD, shop_ids=[ids["SHOP-A"]])
    boss = accounts.create_user(db, username="boss2", role="owner", password=PASSWORD)
    assert boss
    b1 = next(o for o in _login(runtime, "boss2").get(f"{API}/orders").json()["items"]
              if o["platform_order_id"] == "b1")
    error_body(_login(runtime, "a-ops").post(f"{API}/orders/{b1['id']}/ship", json=SHIP), 404, "orders.not_found")
