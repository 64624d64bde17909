"""What the console's edit screens need of the API: a warehouse, a shop and a SKU changed in place (PATCH:
fields left out are kept, keys stay, settings changes audited), and a level's safety stock set (PUT
/stock/safety-stock: audited, no ledger move, what the platforms may sell goes down)."""

from __future__ import annotations

from typing import Any

from baodan.identity import accounts, audit
from tests.api.test_security import PASSWORD, _login
from tests.helpers import API, error_body, make_catalog, sqlite_only


def _ok(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    return resp.json()


def _audited(db: Any, action: str) -> list[dict[str, Any]]:
    with db.read() as s:
        return audit.search(s, action=action)


@sqlite_only
def test_a_warehouse_is_renamed_reprioritised_and_deactivated_with_its_code_kept(client, db) -> None:
    ids = make_catalog(db, skus={"A": 1}, warehouses=("WH1", "WH2"))
    url = f"{API}/warehouses/{ids['WH2']}"
    changed = _ok(client.patch(url, json={"name": "华南仓", "priority": 5}))
    assert (changed["code"], changed["name"], changed["priority"], changed["active"]) == ("WH2", "华南仓", 5, True)
    assert _ok(client.patch(url, json={"active": False}))["name"] == "华南仓"  # left out: kept
    assert _ok(client.get(url))["active"] is False
    [last, first] = _audited(db, "settings.warehouse_update")
    assert first["detail"] == {"before": {"name": "WH2", "priority": 1}, "after": {"name": "华南仓", "priority": 5}}
    assert last["target"] == "warehouse:WH2" and last["detail"]["after"] == {"active": False}
    assert _ok(client.patch(url, json={"active": False}))["active"] is False
    assert len(_audited(db, "settings.warehouse_update")) == 2  # nothing changed: nothing audited
    error_body(client.patch(url, json={"code": "NEW"}), 422, "request.invalid")
    error_body(client.patch(url, json={"priority": -1}), 422, "request.invalid")
    error_body(client.patch(f"{API}/warehouses/99999", json={"name": "x"}), 404, "catalog.not_found")


@sqlite_only
def test_a_shop_changes_its_warehouses_and_platform_id_and_clears_them_with_null(client, db) -> None:
    ids = make_catalog(db, skus={"A": 1}, warehouses=("WH1", "WH2", "WH3"))
    url = f"{API}/shops/{ids['SHOP-A']}"
    changed = _ok(client.patch(url, json={"name": "抖音旗舰店", "platform_shop_id": "777", "default_warehouse": "WH3",
                                          "fallback_warehouses": ["WH1"]}))
    assert (changed["code"], changed["channel"], changed["name"], changed["platform_shop_id"]) == \
        ("SHOP-A", "douyin", "抖音旗舰店", "777")
    assert (changed["default_warehouse_id"], changed["fallback_warehouse_ids"]) == (ids["WH3"], [ids["WH1"]])
    cleared = _ok(client.patch(url, json={"platform_shop_id": None, "default_warehouse": None, "active": False}))
    assert (cleared["platform_shop_id"], cleared["default_warehouse_id"], cleared["active"]) == (None, None, False)
    assert cleared["name"] == "抖音旗舰店" and cleared["fallback_warehouse_ids"] == [ids["WH1"]]
    assert [r["detail"]["after"] for r in _audited(db, "settings.shop_update")][0] == \
        {"platform_shop_id": None, "default_warehouse_id": None, "active": False}
    error_body(client.patch(url, json={"default_warehouse": "NOPE"}), 422, "catalog.invalid_reference")
    assert _ok(client.get(url))["default_warehouse_id"] is None  # refused whole
    error_body(client.patch(url, json={"channel": "kuaishou"}), 422, "request.invalid")


@sqlite_only
def test_a_shop_or_warehouse_outside_the_callers_scope_cannot_be_changed(runtime, client, db) -> None:
    ids = make_catalog(db, skus={"A": 1}, warehouses=("WH1", "WH2"))
    accounts.create_user(db, username="wh1-op", role="operator", password=PASSWORD, warehouse_ids=[ids["WH1"]])
    scoped = _login(runtime, "wh1-op")
    error_body(scoped.patch(f"{API}/warehouses/{ids['WH2']}", json={"name": "x"}), 404, "catalog.not_found")
    assert _ok(scoped.patch(f"{API}/warehouses/{ids['WH1']}", json={"name": "一号仓"}))["name"] == "一号仓"
    accounts.create_user(db, username="kefu", role="service", password=PASSWORD)
    error_body(_login(runtime, "kefu").patch(f"{API}/shops/{ids['SHOP-A']}", json={"name": "x"}), 403, "auth.forbidden")


@sqlite_only
def test_a_sku_changes_price_product_and_barcode_but_keeps_its_code_and_components(client, db) -> None:
    ids = make_catalog(db, skus={"A": 1, "B": 1}, bundles={"AB": [("A", 1), ("B", 2)]})
    assert client.post(f"{API}/products", json={"code": "P1", "name": "T 恤"}).status_code == 201
    url = f"{API}/skus/{ids['A']}"
    changed = _ok(client.patch(url, json={"name": "白 T 恤", "product": "P1", "barcode": "690123", "price_fen": 2590,
                                          "weight_g": 180}))
    assert (changed["code"], changed["name"], changed["barcode"], changed["price_fen"], changed["weight_g"]) == \
        ("A", "白 T 恤", "690123", 2590, 180)
    assert changed["product_id"] is not None
    cleared = _ok(client.patch(url, json={"product": None, "barcode": None, "active": False}))
    assert (cleared["product_id"], cleared["barcode"], cleared["active"], cleared["price_fen"]) == \
        (None, None, False, 2590)
    bundle = _ok(client.patch(f"{API}/skus/{ids['AB']}", json={"price_fen": 4990}))
    assert bundle["is_bundle"] and bundle["components"] == [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]
    error_body(client.patch(url, json={"product": "NOPE"}), 422, "catalog.invalid_reference")
    error_body(client.patch(url, json={"code": "A2"}), 422, "request.invalid")
    error_body(client.patch(url, json={"components": []}), 422, "request.invalid")
    error_body(client.patch(f"{API}/skus/99999", json={"name": "x"}), 404, "catalog.not_found")


def test_safety_stock_is_set_audited_and_leaves_on_hand_and_the_ledger_alone(client, db) -> None:
    ids = make_catalog(db, skus={"A": 10}, warehouses=("WH1", "WH2"))
    body = {"sku": "A", "warehouse": "WH1", "safety_stock": 4}
    level = _ok(client.put(f"{API}/stock/safety-stock", json=body))
    assert (level["on_hand"], level["reserved"], level["available"], level["safety_stock"]) == (10, 0, 10, 4)
    [row] = client.get(f"{API}/stock", params={"sku": "A", "warehouse": "WH1"}).json()
    assert row["safety_stock"] == 4
    assert [m["kind"] for m in client.get(f"{API}/stock/moves", params={"sku": "A"}).json()] == ["receipt"]
    assert _ok(client.put(f"{API}/stock/safety-stock", json=body))["safety_stock"] == 4
    [record] = _audited(db, "stock.safety_stock")  # the same value again: not audited again
    assert record["detail"] == {"before": 0, "after": 4}
    fresh = _ok(client.put(f"{API}/stock/safety-stock", json={**body, "warehouse": "WH2"}))
    assert (fresh["warehouse_id"], fresh["on_hand"], fresh["safety_stock"]) == (ids["WH2"], 0, 4)
    error_body(client.put(f"{API}/stock/safety-stock", json={**body, "safety_stock": -1}), 422, "request.invalid")
    error_body(client.put(f"{API}/stock/safety-stock", json={**body, "sku": "NOPE"}), 404, "inventory.unknown_level")
    error_body(client.put(f"{API}/stock/safety-stock", json={**body, "warehouse": "NOPE"}), 404,
               "inventory.unknown_level")


@sqlite_only
def test_safety_stock_needs_stock_adjust_and_a_warehouse_in_scope(runtime, client, db) -> None:
    ids = make_catalog(db, skus={"A": 10}, warehouses=("WH1", "WH2"))
    accounts.create_user(db, username="fin", role="finance", password=PASSWORD)
    body = {"sku": "A", "warehouse": "WH2", "safety_stock": 1}
    error_body(_login(runtime, "fin").put(f"{API}/stock/safety-stock", json=body), 403, "auth.forbidden")
    accounts.create_user(db, username="wh1", role="warehouse", password=PASSWORD, warehouse_ids=[ids["WH1"]])
    error_body(_login(runtime, "wh1").put(f"{API}/stock/safety-stock", json=body), 404, "inventory.unknown_level")
