"""What the console's 商品 and 店铺/设置 screens need of the API: the platform SKU ids still to map (from
orders flagged unknown_sku), and a credentials form whose blank secret fields keep the stored secrets."""

from __future__ import annotations

from baodan.catalog import schemas as catalog_schemas
from baodan.catalog import services as catalog
from baodan.channels import credentials
from baodan.identity import accounts, audit
from tests.api.test_security import PASSWORD, _login
from tests.helpers import API, drain, error_body, make_catalog, order, submit


def test_unmapped_platform_skus_are_listed_per_shop_until_mapped(runtime, db, client) -> None:
    ids = make_catalog(db, skus={"A": 10, "B": 10})
    unknown = order("o1", [("A", 1)])
    unknown["lines"][0]["platform_sku_id"] = "NEW-1"
    twice = order("o2", [("A", 1), ("B", 1)])
    twice["lines"][0]["platform_sku_id"] = "NEW-1"
    other = order("o3", [("B", 2)])
    other["lines"][0].update(platform_sku_id="NEW-2", title="新款 T 恤", sku_code="NOPE")
    submit(runtime, unknown, twice, other, order("o4", [("A", 1)]))
    drain(runtime)
    url = f"{API}/shops/{ids['SHOP-A']}/unmapped-skus"
    rows = client.get(url).json()
    assert [(r["platform_sku_id"], r["orders"], r["quantity"]) for r in rows] == [("NEW-1", 2, 2), ("NEW-2", 1, 2)]
    assert rows[1]["title"] == "新款 T 恤" and rows[1]["sku_code"] == "NOPE" and rows[1]["last_paid_at"]
    assert client.put(f"{API}/shops/{ids['SHOP-A']}/sku-mappings",
                      json=[{"platform_sku_id": "NEW-1", "sku": "A"}]).status_code == 200
    assert [r["platform_sku_id"] for r in client.get(url).json()] == ["NEW-2"]
    other_shop = catalog.create_shop(db, data=catalog_schemas.ShopCreate(code="SHOP-B", name="B", channel="douyin"))
    assert client.get(f"{API}/shops/{other_shop['id']}/unmapped-skus").json() == []
    error_body(client.get(f"{API}/shops/99999/unmapped-skus"), 404, "catalog.not_found")
    accounts.create_user(db, username="b-only", role="service", password=PASSWORD, shop_ids=[other_shop["id"]])
    error_body(_login(runtime, "b-only").get(url), 404, "catalog.not_found")  # another shop's: not even seen


def test_credentials_saved_with_keep_secrets_keep_every_secret_left_out(runtime, db, client) -> None:
    shop_id = make_catalog(db, skus={"A": 1})["SHOP-A"]
    url = f"{API}/shops/{shop_id}/credentials"
    error_body(client.put(url, json={"app_key": "k", "keep_secrets": True}), 422, "channels.invalid_credentials")
    first = {"app_key": "dy-app", "app_secret": "secret-12345", "access_token": "at-1", "refresh_token": "rt-1",
             "token_expires_at": "2026-12-10T12:00:00+08:00", "extra": {"x": "1"}}
    assert client.put(url, json=first).status_code == 200
    kept = client.put(url, json={"app_key": "dy-app-2", "platform_shop_id": "777", "keep_secrets": True})
    assert kept.status_code == 200, kept.text
    assert kept.json()["app_key"] == "dy-app-2" and kept.json()["token_expires_at"].startswith("2026-12-10T04:00")
    stored = credentials.load(db, runtime.pii, shop_id)
    assert stored is not None
    assert (stored.app_secret, stored.access_token, stored.refresh_token, dict(stored.extra)) == (
        "secret-12345", "at-1", "rt-1", {"x": "1"})
    assert client.put(url, json={"app_key": "dy-app-2", "access_token": "at-2", "keep_secrets": True}).json()[
        "token_expires_at"] is None  # a new token: its old expiry does not apply
    stored = credentials.load(db, runtime.pii, shop_id)
    assert stored is not None and (stored.app_secret, stored.access_token) == ("secret-12345", "at-2")
    # without keep_secrets the old rule stands: every secret is replaced, the app secret is required
    error_body(client.put(url, json={"app_key": "dy-app-2"}), 422, "channels.invalid_credentials")
    with db.read() as s:
        assert "secret-12345" not in str(audit.search(s, action="settings.shop_credentials"))
