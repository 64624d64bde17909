"""Authentication, permissions, data scopes, CSRF, lockout, API keys and rate limits, through the real app.

The permission matrix is generated from the route table: a new /api/v1 route that declares no
permission fails `test_every_api_route_declares_a_permission`, and every route is tried by every
built-in role."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from baodan.app import API_ROUTERS, create_app
from baodan.catalog import schemas as catalog_schemas
from baodan.catalog import services as catalog
from baodan.core.db import fetchall
from baodan.identity import accounts, audit
from baodan.identity.http import route_permission
from baodan.identity.roles import BUILTIN_ROLES
from tests.helpers import API, drain, error_body, make_catalog, order, sqlite_only, submit

PASSWORD = "a-long-enough-password"


def _routes(_app: Any) -> list[APIRoute]:
    """Every API route, with the path it is served at (FastAPI nests included routers)."""
    routes = [r for router in API_ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) >= 25, "the API routers should hold every route"
    return routes


def _login(runtime: Any, username: str, password: str = PASSWORD) -> TestClient:
    client = TestClient(create_app(runtime))
    resp = client.post(f"{API}/auth/login", json={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    client.headers["X-CSRF-Token"] = resp.json()["csrf_token"]
    return client


def _call(client: TestClient, route: APIRoute) -> Any:
    path = API + re.sub(r"\{[^}]+\}", "1", route.path)
    method = sorted(route.methods)[0]
    return client.request(method, path, json={} if method in ("POST", "PUT") else None)


@sqlite_only
def test_every_api_route_declares_a_permission(runtime) -> None:
    undeclared = [f"{sorted(r.methods)} {r.path}" for r in _routes(create_app(runtime)) if route_permission(r) is False]
    assert undeclared == [], "routes without Depends(require(...)) or Depends(public)"


@sqlite_only
def test_the_permission_matrix_role_by_route(runtime, db, subtests) -> None:
    """Each built-in role is refused (403) exactly the routes whose permission it lacks; nobody logged in
    gets 401 from every route that is not public."""
    make_catalog(db, skus={"A": 5})
    app = create_app(runtime)
    clients = {}
    for role in BUILTIN_ROLES:
        accounts.create_user(db, username=f"u-{role}", role=role, password=PASSWORD)
        clients[role] = _login(runtime, f"u-{role}")
    anonymous = TestClient(app)
    for route in _routes(app):
        permission = route_permission(route)
        if permission is None:
            continue
        with subtests.test(route=f"{sorted(route.methods)} {route.path}", role="anonymous"):
            assert _call(anonymous, route).status_code == 401
        for role, (_, granted) in BUILTIN_ROLES.items():
            with subtests.test(route=f"{sorted(route.methods)} {route.path}", role=role):
                status = _call(clients[role], route).status_code
                if permission == "*" or permission in granted:
                    assert status not in (401, 403), f"{role} should pass the gate of {route.path}"
                else:
                    assert status == 403, f"{role} should be refused {route.path} (needs {permission})"


@sqlite_only
def test_a_session_must_send_its_csrf_token_on_unsafe_requests(runtime, db) -> None:
    make_catalog(db, skus={"A": 5})
    accounts.create_user(db, username="op", role="operator", password=PASSWORD)
    client = _login(runtime, "op")
    token = client.headers.pop("X-CSRF-Token")
    body = {"sku": "A", "warehouse": "WH1", "delta": 1}
    error_body(client.post(f"{API}/stock/adjustments", json=body), 403, "auth.csrf")
    error_body(client.post(f"{API}/stock/adjustments", json=body, headers={"X-CSRF-Token": "guess"}), 403, "auth.csrf")
    assert client.get(f"{API}/stock").status_code == 200  # reads need no token
    assert client.post(f"{API}/stock/adjustments", json=body, headers={"X-CSRF-Token": token}).status_code == 200


@sqlite_only
def test_wrong_passwords_lock_the_account_and_every_attempt_is_audited(runtime, db) -> None:
    accounts.create_user(db, username="clerk", role="service", password=PASSWORD)
    client = TestClient(create_app(runtime))
    for _ in range(accounts.MAX_FAILURES - 1):
        error_body(client.post(f"{API}/auth/login", json={"username": "clerk", "password": "wrong"}),
                   401, "auth.invalid_credentials")
    error_body(client.post(f"{API}/auth/login", json={"username": "clerk", "password": "wrong"}), 423, "auth.locked")
    error_body(client.post(f"{API}/auth/login", json={"username": "clerk", "password": PASSWORD}), 423, "auth.locked")
    error_body(client.post(f"{API}/auth/login", json={"username": "nobody", "password": "x"}),
               401, "auth.invalid_credentials")
    with db.read() as s:
        failed = audit.search(s, action="login_failed")
    assert len(failed) == accounts.MAX_FAILURES + 1
    assert failed[1]["detail"]["locked"] is True and failed[1]["ip"] == "testclient"
    assert audit.verify(db) == []
    accounts.reset_password(db, username="clerk", actor="user:owner")  # an admin unlocks with a new password


@sqlite_only
def test_logout_and_revocation_end_sessions(runtime, db) -> None:
    accounts.create_user(db, username="op", role="operator", password=PASSWORD)
    first, second = _login(runtime, "op"), _login(runtime, "op")
    assert first.get(f"{API}/auth/me").json()["role"] == "operator"
    assert first.post(f"{API}/auth/logout").status_code == 204
    error_body(first.get(f"{API}/auth/me"), 401, "auth.required")
    assert second.get(f"{API}/auth/me").status_code == 200
    assert accounts.revoke_sessions(db, username="op", actor="user:owner") == 1
    error_body(second.get(f"{API}/auth/me"), 401, "auth.required")


def _two_shops(runtime: Any, db: Any) -> dict[str, Any]:
    ids = make_catalog(db, skus={"A": 50}, warehouses=("WH1", "WH2"))
    ids["SHOP-B"] = catalog.create_shop(db, data=catalog_schemas.ShopCreate(
        code="SHOP-B", name="B", channel="douyin", default_warehouse="WH2"))["id"]
    catalog.map_platform_skus(db, shop_id=ids["SHOP-B"], items=[
        catalog_schemas.SkuMappingItem(platform_sku_id="P-A", sku="A")])
    submit(runtime, order("a1", [("A", 1)]), order("a2", [("A", 1)]), order("b1", [("A", 1)], shop="SHOP-B"))
    drain(runtime)
    return ids


def test_a_user_of_shop_a_cannot_see_count_or_guess_anything_of_shop_b(runtime, db) -> None:
    ids = _two_shops(runtime, db)
    accounts.create_user(db, username="a-ops", role="operator", password=PASSWORD, shop_ids=[ids["SHOP-A"]],
                         warehouse_ids=[ids["WH1"]])
    client = _login(runtime, "a-ops")
    listed = client.get(f"{API}/orders", params={"limit": 500}).json()["items"]
    assert sorted(o["platform_order_id"] for o in listed) == ["a1", "a2"]
    assert client.get(f"{API}/orders", params={"shop": "SHOP-B"}).json()["items"] == []
    b_order = next(o for o in client_owner_orders(runtime, db) if o["platform_order_id"] == "b1")
    error_body(client.get(f"{API}/orders/{b_order['id']}"), 404, "orders.not_found")
    error_body(client.get(f"{API}/orders/999999"), 404, "orders.not_found")  # the same answer as for no order
    assert [s["code"] for s in client.get(f"{API}/shops").json()] == ["SHOP-A"]
    assert client.get(f"{API}/shops/{ids['SHOP-B']}").status_code == 404
    assert client.get(f"{API}/shops/{ids['SHOP-B']}/sku-mappings").status_code == 404
    assert [w["code"] for w in client.get(f"{API}/warehouses").json()] == ["WH1"]
    assert client.get(f"{API}/warehouses/{ids['WH2']}").status_code == 404
    assert {r["warehouse_code"] for r in client.get(f"{API}/stock").json()} == {"WH1"}
    assert [s["shop_id"] for s in client.get(f"{API}/intake/status").json()["shops"]] == [ids["SHOP-A"]]
    error_body(client.post(f"{API}/orders/batch", json={"orders": [order("b9", [("A", 1)], shop="SHOP-B")]}),
               422, "intake.unknown_shop")
    error_body(client.post(f"{API}/stock/adjustments", json={"sku": "A", "warehouse": "WH2", "delta": 1}),
               404, "inventory.unknown_level")


def client_owner_orders(runtime: Any, db: Any) -> list[dict[str, Any]]:
    accounts.create_user(db, username="boss", role="owner", password=PASSWORD)
    return _login(runtime, "boss").get(f"{API}/orders", params={"limit": 500}).json()["items"]


def test_an_api_key_of_shop_a_is_refused_on_shop_b_and_stops_working_when_revoked(runtime, db) -> None:
    ids = _two_shops(runtime, db)
    key = accounts.create_api_key(db, name="erp-sync", permissions=["orders.write"], shop_ids=[ids["SHOP-A"]],
                                  actor="user:owner")
    client = TestClient(create_app(runtime), headers={"Authorization": f"Bearer {key}"})
    assert client.post(f"{API}/orders/batch", json={"orders": [order("a9", [("A", 1)])]}).status_code == 200
    error_body(client.post(f"{API}/orders/batch", json={"orders": [order("b9", [("A", 1)], shop="SHOP-B")]}),
               422, "intake.unknown_shop")
    error_body(client.get(f"{API}/orders"), 403, "auth.forbidden")  # the key may write orders, not read them
    accounts.revoke_api_key(db, prefix=key.split("_")[1], actor="user:owner")
    error_body(client.post(f"{API}/orders/batch", json={"orders": [order("a8", [("A", 1)])]}), 401, "auth.invalid_key")
    wrong = TestClient(create_app(runtime), headers={"Authorization": f"Bearer {key[:-2]}xx"})
    error_body(wrong.get(f"{API}/auth/me"), 401, "auth.invalid_key")


@sqlite_only
def test_a_key_over_its_rate_is_answered_429_with_retry_after(runtime, db) -> None:
    key = accounts.create_api_key(db, name="chatty", permissions=["orders.read"], rate_per_minute=3, actor="t")
    client = TestClient(create_app(runtime), headers={"Authorization": f"Bearer {key}"})
    assert [client.get(f"{API}/orders").status_code for _ in range(3)] == [200, 200, 200]
    resp = client.get(f"{API}/orders")
    body = error_body(resp, 429, "rate_limited")
    assert 1 <= int(resp.headers["retry-after"]) <= 60 and body["details"]["limit_per_minute"] == 3


@sqlite_only
def test_answers_carry_security_headers(client) -> None:
    resp = client.get(f"{API}/orders")
    assert resp.headers["x-content-type-options"] == "nosniff" and resp.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in resp.headers["content-security-policy"]
    assert client.get("/healthz").headers["x-content-type-options"] == "nosniff"


@sqlite_only
def test_the_login_cookie_is_http_only_and_same_site(runtime, db) -> None:
    accounts.create_user(db, username="op", role="operator", password=PASSWORD)
    resp = TestClient(create_app(runtime)).post(f"{API}/auth/login", json={"username": "op", "password": PASSWORD})
    cookie = resp.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert PASSWORD not in resp.text


@pytest.mark.parametrize("bad", [{"username": "", "password": "x"}, {"username": "a"}, {"password": "x"}])
@sqlite_only
def test_malformed_logins_are_refused_with_422(anon_client, bad) -> None:
    error_body(anon_client.post(f"{API}/auth/login", json=bad), 422, "request.invalid")


def test_revealing_a_buyer_over_http_needs_pii_reveal_stays_in_scope_and_is_audited(runtime, db) -> None:
    ids = _two_shops(runtime, db)
    accounts.create_user(db, username="cs-a", role="service", password=PASSWORD, shop_ids=[ids["SHOP-A"]])
    accounts.create_user(db, username="ops", role="operator", password=PASSWORD)
    orders = {o["platform_order_id"]: o["id"] for o in client_owner_orders(runtime, db)}
    service = _login(runtime, "cs-a")
    revealed = service.post(f"{API}/orders/{orders['a1']}/reveal")
    assert revealed.status_code == 200, revealed.text
    assert revealed.json() == {"name": "张三", "phone": "13800138000", "address": "文三路 1 号"}
    error_body(service.post(f"{API}/orders/{orders['b1']}/reveal"), 404, "orders.not_found")
    error_body(_login(runtime, "ops").post(f"{API}/orders/{orders['a1']}/reveal"), 403, "auth.forbidden")
    with db.read() as s:
        reveals = audit.search(s, action="pii.reveal")
    assert [(r["actor"], r["target"], r["ip"]) for r in reveals] == [("user:cs-a", f"order:{orders['a1']}",
                                                                        "testclient")]


@sqlite_only
def test_logins_from_one_address_are_throttled(runtime, db) -> None:
    from baodan.identity.api import LOGINS_PER_MINUTE

    client = TestClient(create_app(runtime))
    codes = [client.post(f"{API}/auth/login", json={"username": f"nobody{i}", "password": "x"}).status_code
             for i in range(LOGINS_PER_MINUTE + 1)]
    assert codes[:-1] == [401] * LOGINS_PER_MINUTE and codes[-1] == 429


@sqlite_only
def test_the_docs_can_authorize_with_an_api_key_or_a_session(anon_client) -> None:
    schema = anon_client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["APIKey"]["scheme"] == "bearer"
    assert {"APIKey": []} in schema["paths"][f"{API}/orders"]["get"]["security"]
    csrf = schema["components"]["securitySchemes"]["CSRF"]  # a cookie login can send its token from /docs
    assert (csrf["type"], csrf["in"], csrf["name"]) == ("apiKey", "header", "X-CSRF-Token")
    assert {"CSRF": []} in schema["paths"][f"{API}/orders/batch"]["post"]["security"]


def _uri_secret(uri: str) -> str:
    from urllib.parse import parse_qs, urlparse

    return parse_qs(urlparse(uri).query)["secret"][0]


@sqlite_only
def test_two_factor_login_once_enrolled_and_confirmed(runtime, db) -> None:
    import pyotp

    accounts.create_user(db, username="boss2", role="owner", password=PASSWORD)
    client = _login(runtime, "boss2")
    uri = client.post(f"{API}/auth/totp").json()["otpauth_uri"]
    totp = pyotp.TOTP(_uri_secret(uri))
    assert _login(runtime, "boss2").get(f"{API}/auth/me").status_code == 200  # not yet confirmed: no code asked
    error_body(client.post(f"{API}/auth/totp/confirm", json={"code": "000000" if totp.now() != "000000" else "111111"}),
               422, "auth.totp_invalid")
    assert client.post(f"{API}/auth/totp/confirm", json={"code": totp.now()}).status_code == 204
    anon = TestClient(create_app(runtime))
    error_body(anon.post(f"{API}/auth/login", json={"username": "boss2", "password": PASSWORD}), 401,
               "auth.totp_required")
    wrong = "000000" if totp.now() != "000000" else "111111"
    error_body(anon.post(f"{API}/auth/login", json={"username": "boss2", "password": PASSWORD, "totp": wrong}),
               401, "auth.invalid_credentials")
    ok = anon.post(f"{API}/auth/login", json={"username": "boss2", "password": PASSWORD, "totp": totp.now()})
    assert ok.status_code == 200, ok.text
    with db.read() as s:
        assert audit.search(s, action="login_failed")[0]["detail"]["why"] == "totp"
        ((sealed,),) = fetchall(s, "SELECT totp_secret FROM app_user WHERE username = ?", ("boss2",))
    assert _uri_secret(uri) not in sealed  # the secret is sealed at rest


@sqlite_only
def test_admins_can_be_required_to_use_two_factor_login(runtime, db) -> None:
    import pyotp

    from baodan.runtime import Runtime

    strict = Runtime(runtime.settings.model_copy(update={"require_2fa_for_admins": True}), db, runtime.inbox,
                     runtime.shops, pii=runtime.pii)
    accounts.create_user(db, username="boss3", role="owner", password=PASSWORD)
    accounts.create_user(db, username="clerk3", role="service", password=PASSWORD)
    anon = TestClient(create_app(strict))
    error_body(anon.post(f"{API}/auth/login", json={"username": "boss3", "password": PASSWORD}), 403,
               "auth.totp_enrollment_required")
    assert anon.post(f"{API}/auth/login", json={"username": "clerk3", "password": PASSWORD}).status_code == 200
    uri = accounts.enrol_totp(db, username="boss3", pii=runtime.pii, actor="system:cli", confirmed=True)
    code = pyotp.TOTP(_uri_secret(uri)).now()
    assert anon.post(f"{API}/auth/login", json={"username": "boss3", "password": PASSWORD, "totp": code}).status_code \
        == 200


@sqlite_only
def test_a_custom_role_grants_exactly_its_known_permissions(runtime, db) -> None:
    from baodan.core.db import db_json, execute
    from baodan.runtime import Runtime

    with db.write() as s:
        execute(s, "INSERT INTO app_role (name, title, permissions, created_at) VALUES (?, ?, ?, ?)",
                ("packer", "打包员", db_json("sqlite", ["orders.read", "made.up"]), "2026-11-26 00:00:00.000000"))
    fresh = Runtime(runtime.settings, db, runtime.inbox, runtime.shops, pii=runtime.pii)  # roles are read at start
    accounts.create_user(db, username="p1", role="packer", password=PASSWORD)
    client = _login(fresh, "p1")
    assert client.get(f"{API}/auth/me").json()["permissions"] == ["orders.read"]
    assert client.get(f"{API}/orders").status_code == 200
    error_body(client.get(f"{API}/stock"), 403, "auth.forbidden")
