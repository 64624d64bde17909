"""Webhooks need no login but a valid signature: the own-channel push (HMAC-SHA256 over timestamp and
body with the shop's secret, 5-minute window), refused pushes audited and never written; shop
credentials are write-only and sealed at rest."""

from __future__ import annotations

import time
from typing import Any

import orjson
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from baodan.app import WEBHOOK_ROUTERS, create_app
from baodan.catalog import schemas as catalog_schemas
from baodan.catalog import services as catalog
from baodan.channels import custom
from baodan.channels.registry import ADAPTERS, PLATFORMS
from baodan.core.db import fetchall
from baodan.identity import accounts, audit
from baodan.identity.http import route_permission
from baodan.identity.pii import PiiCipher, add_key_to_file, rotate_secrets
from tests.api.test_security import PASSWORD, _login
from tests.helpers import API, drain, error_body, make_catalog, order, sqlite_only

pytestmark = sqlite_only
URL = "/webhooks/custom/MINI"


def _own_shop(db: Any, client: Any) -> tuple[int, str]:
    make_catalog(db, skus={"A": 50})
    shop_id = catalog.create_shop(db, data=catalog_schemas.ShopCreate(
        code="MINI", name="小程序商城", channel="custom", default_warehouse="WH1"))["id"]
    catalog.map_platform_skus(db, shop_id=shop_id, items=[catalog_schemas.SkuMappingItem(platform_sku_id="P-A",
                                                                                          sku="A")])
    resp = client.put(f"{API}/shops/{shop_id}/credentials", json={"app_key": "mini-mall"})
    assert resp.status_code == 200, resp.text
    secret = resp.json()["generated_secret"]
    assert secret and len(secret) >= 40
    return shop_id, secret


def _push(anon: Any, secret: str, *orders: dict[str, Any], now: float | None = None, tamper: bool = False) -> Any:
    body = orjson.dumps({"orders": list(orders)})
    headers = custom.sign(secret, body, now=now)
    return anon.post(URL, content=body + (b" " if tamper else b""),
                     headers={**headers, "content-type": "application/json"})


def _inbox_total(runtime: Any) -> int:
    return sum(accepted for accepted, _ in runtime.inbox.stats().values())


def _mini(oid: str) -> dict[str, Any]:
    return order(oid, [("A", 1)], shop="MINI", channel="custom")


def test_a_signed_push_is_taken_once_without_any_login(runtime, db, client, anon_client) -> None:
    _, secret = _own_shop(db, client)
    anon = TestClient(create_app(runtime))
    resp = _push(anon, secret, _mini("m1"), _mini("m2"))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"accepted": 2, "duplicates": 0}
    assert _push(anon, secret, _mini("m1"), _mini("m2")).json() == {"accepted": 0, "duplicates": 2}
    drain(runtime)
    listed = client.get(f"{API}/orders", params={"shop": "MINI"}).json()["items"]
    assert sorted(o["platform_order_id"] for o in listed) == ["m1", "m2"]
    assert {o["state"] for o in listed} == {"reserved"}


def test_unsigned_forged_or_stale_pushes_are_refused_audited_and_write_nothing(runtime, db, client) -> None:
    _, secret = _own_shop(db, client)
    anon = TestClient(create_app(runtime))
    error_body(_push(anon, secret, _mini("x1"), tamper=True), 401, "webhook.bad_signature")
    error_body(_push(anon, "a-guessed-secret", _mini("x2")), 401, "webhook.bad_signature")
    error_body(_push(anon, secret, _mini("x3"), now=time.time() - 301), 401, "webhook.stale_timestamp")
    error_body(_push(anon, secret, _mini("x4"), now=time.time() + 400), 401, "webhook.stale_timestamp")
    error_body(anon.post(URL, json={"orders": [_mini("x5")]}), 401, "webhook.unsigned")
    assert _inbox_total(runtime) == 0
    with db.read() as s:
        refused = audit.search(s, action="webhook.refused")
    assert [r["detail"]["why"] for r in refused] == ["webhook.unsigned", "webhook.stale_timestamp",
                                                     "webhook.stale_timestamp", "webhook.bad_signature",
                                                     "webhook.bad_signature"]
    assert refused[0]["actor"] == "webhook:custom" and refused[0]["target"] == "shop:MINI"


def test_a_flood_of_forgeries_is_refused_but_audited_at_most_ten_times_a_minute(runtime, db, client) -> None:
    _own_shop(db, client)
    anon = TestClient(create_app(runtime))
    for i in range(15):
        error_body(_push(anon, "forged", _mini(f"f{i}")), 401, "webhook.bad_signature")
    with db.read() as s:
        assert len(audit.search(s, action="webhook.refused")) == 10


def test_a_signed_push_with_bad_content_writes_nothing(runtime, db, client) -> None:
    _, secret = _own_shop(db, client)
    anon = TestClient(create_app(runtime))
    other = order("o1", [("A", 1)])  # of SHOP-A, a douyin shop
    error_body(_push(anon, secret, _mini("g1"), other), 422, "webhook.shop_mismatch")
    bad = {**_mini("g2"), "lines": []}
    error_body(_push(anon, secret, _mini("g3"), bad), 422, "request.invalid")
    body = b'{"orders": [nope'
    error_body(anon.post(URL, content=body, headers=custom.sign(secret, body)), 400, "request.malformed_json")
    assert _inbox_total(runtime) == 0


def test_pushes_to_unknown_or_platform_shops_are_not_found(runtime, db, client) -> None:
    _own_shop(db, client)
    anon = TestClient(create_app(runtime))
    error_body(anon.post("/webhooks/custom/NOPE", json={}), 404, "webhook.unknown_shop")
    error_body(anon.post("/webhooks/custom/SHOP-A", json={}), 404, "webhook.unknown_shop")  # a douyin shop


def test_a_shop_without_a_secret_refuses_every_push(runtime, db, client) -> None:
    make_catalog(db, skus={"A": 5})
    catalog.create_shop(db, data=catalog_schemas.ShopCreate(code="MINI", name="m", channel="custom",
                                                            default_warehouse="WH1"))
    error_body(_push(TestClient(create_app(runtime)), "anything", _mini("n1")), 401, "webhook.not_configured")


def test_every_webhook_route_is_public_and_refuses_unsigned_pushes(runtime, db, client) -> None:
    """Own channels answer 401; a platform answers its own failure shape (or 404 when it has no push);
    either way nothing is written."""
    _own_shop(db, client)
    anon = TestClient(create_app(runtime))
    routes = [r for router in WEBHOOK_ROUTERS for r in router.routes if isinstance(r, APIRoute) and "POST" in r.methods]
    assert {r.path for r in routes} == {"/webhooks/custom/{shop}", "/webhooks/{platform}"}
    for route in routes:
        assert route_permission(route) is None, f"{route.path} must be public (signature-verified)"
    assert anon.post("/webhooks/custom/MINI", json={"orders": []}).status_code == 401
    for platform in PLATFORMS:
        resp = anon.post(f"/webhooks/{platform}", json={"orders": [_mini("u1")]})
        if ADAPTERS[platform].has_push:
            assert resp.status_code == ADAPTERS[platform].push_answer(False).status, platform
        else:
            assert resp.status_code == 404, platform
    assert anon.post("/webhooks/nowhere", json={}).status_code == 404
    assert _inbox_total(runtime) == 0


def test_credentials_are_write_only_sealed_at_rest_and_need_settings_write(runtime, db, client) -> None:
    shop_id, secret = _own_shop(db, client)
    shown = client.get(f"{API}/shops/{shop_id}/credentials").json()
    assert shown["configured"] and shown["app_key"] == "mini-mall" and shown["generated_secret"] is None
    assert secret not in str(shown)
    with db.read() as s:
        dump = str(fetchall(s, "SELECT * FROM shop_credential")) + str(fetchall(s, "SELECT detail FROM audit_log"))
    assert secret not in dump
    accounts.create_user(db, username="ops", role="operator", password=PASSWORD)
    error_body(_login(runtime, "ops").put(f"{API}/shops/{shop_id}/credentials", json={"app_secret": "x" * 20}),
               403, "auth.forbidden")
    douyin_shop = client.get(f"{API}/shops").json()[0]
    assert douyin_shop["channel"] == "douyin"
    error_body(client.put(f"{API}/shops/{douyin_shop['id']}/credentials", json={"app_key": "k"}),
               422, "channels.invalid_credentials")
    error_body(client.put(f"{API}/shops/99999/credentials", json={"app_key": "k"}), 404, "catalog.not_found")
    # a new secret takes effect at once: the old one is refused
    client.put(f"{API}/shops/{shop_id}/credentials", json={"app_key": "mini-mall", "app_secret": "new-secret-123"})
    anon = TestClient(create_app(runtime))
    error_body(_push(anon, secret, _mini("r1")), 401, "webhook.bad_signature")
    assert _push(anon, "new-secret-123", _mini("r1")).status_code == 200
    assert runtime.credentials.get(shop_id).app_secret == "new-secret-123"


def test_key_rotation_reseals_credentials_and_totp_secrets(runtime, db, client) -> None:
    shop_id, secret = _own_shop(db, client)
    accounts.enrol_totp(db, username="owner", pii=runtime.pii, actor="system", confirmed=True)
    add_key_to_file(runtime.settings.data_dir / "keys.json")
    new = PiiCipher.from_settings(runtime.settings)
    assert rotate_secrets(db, new) == 2
    assert rotate_secrets(db, new) == 0
    with db.read() as s:
        (sealed,) = fetchall(s, "SELECT secrets_sealed FROM shop_credential")[0]
    assert sealed.split(".")[1] == new.current and new.open(sealed)["app_secret"] == secret


def test_a_platform_push_is_verified_with_its_shops_credentials_and_a_forgery_is_refused(runtime, db) -> None:
    from datetime import UTC, datetime

    from baodan.channels import credentials
    from baodan.channels.base import PushNotice
    from baodan.sim.config import default_credentials

    ids = make_catalog(db, skus={"A": 5})
    creds = default_credentials("douyin", shop_id="4463798")
    credentials.save(db, runtime.pii, shop_id=ids["SHOP-A"], app_key=creds.app_key, app_secret=creds.app_secret,
                     platform_shop_id=creds.shop_id, actor="system:test")
    adapter = ADAPTERS["douyin"]
    push = adapter.sign_push(creds, [PushNotice("6920000000000000001", "paid", platform_shop_id=creds.shop_id)],
                             url="/webhooks/douyin", now=datetime.now(UTC))
    anon = TestClient(create_app(runtime))
    resp = anon.post("/webhooks/douyin", content=push.body, headers=push.headers, params=push.query)
    assert (resp.status_code, resp.content) == (adapter.push_answer(True).status, adapter.push_answer(True).body)
    with db.read() as s:  # the push named the order only: it waits for a detail call
        assert fetchall(s, "SELECT platform_order_id FROM channel_fetch") == [("6920000000000000001",)]
    forged = anon.post("/webhooks/douyin", content=push.body.replace(b"692", b"693"), headers=push.headers,
                       params=push.query)
    assert (forged.status_code, forged.content) == (adapter.push_answer(False).status, adapter.push_answer(False).body)
    with db.read() as s:
        assert fetchall(s, "SELECT count(*) FROM channel_fetch")[0][0] == 1
        refused = audit.search(s, action="webhook.refused")
    assert refused[0]["actor"] == "webhook:douyin" and refused[0]["target"] == "shop:SHOP-A"
