"""Channel settings over HTTP: courier codes per platform and how a SKU's stock is shared between shops."""

from __future__ import annotations

from baodan.catalog import schemas as catalog_schemas
from baodan.catalog import services as catalog
from baodan.channels.transport import CallLog, Transport
from baodan.core.db import fetchall
from baodan.identity import accounts, audit
from tests.api.test_security import PASSWORD, _login
from tests.helpers import API, error_body, make_catalog, sqlite_only

pytestmark = sqlite_only


def test_courier_codes_default_per_platform_and_can_be_set(runtime, db, client) -> None:
    assert client.get(f"{API}/channels/douyin/carriers").json()["ZTO"] == "ZTO"
    assert client.get(f"{API}/channels/jd/carriers").json()["ZTO"] == "1499"
    assert "ZTO" not in client.get(f"{API}/channels/pdd/carriers").json()  # numeric: the merchant sets it
    assert client.put(f"{API}/channels/pdd/carriers", json={"ZTO": "115"}).json()["ZTO"] == "115"
    with db.read() as s:
        record = audit.search(s, action="settings.carriers")[0]
    assert record["detail"]["changes"] == {"ZTO": {"before": None, "after": "115"}}
    error_body(client.get(f"{API}/channels/nowhere/carriers"), 404, "channels.unknown_platform")
    error_body(client.put(f"{API}/channels/pdd/carriers", json={"zto lower": "1"}), 422, "request.invalid")
    accounts.create_user(db, username="ops", role="operator", password=PASSWORD)
    error_body(_login(runtime, "ops").put(f"{API}/channels/pdd/carriers", json={"ZTO": "1"}), 403, "auth.forbidden")


def test_a_skus_stock_can_be_shared_between_shops_and_each_sees_its_sellable(runtime, db, client) -> None:
    ids = make_catalog(db, skus={"A": 100})
    b = catalog.create_shop(db, data=catalog_schemas.ShopCreate(code="SHOP-B", name="B", channel="kuaishou",
                                                                default_warehouse="WH1"))["id"]
    catalog.map_platform_skus(db, shop_id=b, items=[catalog_schemas.SkuMappingItem(platform_sku_id="KB-A", sku="A")])
    url = f"{API}/skus/{ids['A']}/allocations"
    assert {r["shop_id"]: r["sellable"] for r in client.get(url).json()} == {ids["SHOP-A"]: 100, b: 100}
    resp = client.put(url, json=[{"shop_id": b, "percent": 30}, {"shop_id": ids["SHOP-A"], "set_aside": 50}])
    assert resp.status_code == 200, resp.text
    got = {r["shop_id"]: r for r in resp.json()}
    assert got[ids["SHOP-A"]]["sellable"] == 100 and got[b]["sellable"] == 15  # 30% of (100 − 50 kept for A)
    assert got[b]["percent"] == 30 and got[b]["platform_sku_id"] == "KB-A"
    assert {r["shop_id"]: r["sellable"] for r in client.put(url, json=[]).json()} == {ids["SHOP-A"]: 100, b: 100}
    with db.read() as s:
        assert len(audit.search(s, action="settings.allocation")) == 2
        assert fetchall(s, "SELECT count(*) FROM channel_allocation")[0][0] == 0
    error_body(client.put(url, json=[{"shop_id": b, "percent": 101}]), 422, "request.invalid")
    error_body(client.put(f"{API}/skus/99999/allocations", json=[]), 404, "catalog.not_found")


def test_a_shops_granted_call_rate_is_set_shown_and_used_by_the_transport(runtime, db, client) -> None:
    shop_id = make_catalog(db, skus={"A": 1})["SHOP-A"]
    transport = Transport(CallLog(db))
    body = {"app_key": "dy-app", "app_secret": "secret-12345", "platform_shop_id": "777"}
    assert client.put(f"{API}/shops/{shop_id}/credentials", json=body).json()["calls_per_second"] is None
    link = runtime.links.of_channel("douyin")[0]
    assert transport.bucket(link).rate == link.adapter.calls_per_second  # the default
    saved = client.put(f"{API}/shops/{shop_id}/credentials", json={**body, "calls_per_second": 200}).json()
    assert saved["calls_per_second"] == 200
    assert client.get(f"{API}/shops/{shop_id}/credentials").json()["calls_per_second"] == 200
    link = runtime.links.of_channel("douyin")[0]
    assert link.calls_per_second == 200 and transport.bucket(link).rate == 200
    for wrong in (0, -1, 10_001):
        error_body(client.put(f"{API}/shops/{shop_id}/credentials", json={**body, "calls_per_second": wrong}),
                   422, "request.invalid")
    with db.read() as s:
        record = audit.search(s, action="settings.shop_credentials")[0]
    detail = record["detail"]
    assert detail["before"]["calls_per_second"] is None and detail["after"]["calls_per_second"] == 200
