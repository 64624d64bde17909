"""Managing users, roles and API keys over HTTP, and reading the audit trail: no one grants more than
they hold, changes take effect at once, and every change is audited with before and after."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from baodan.app import create_app
from baodan.catalog import schemas as catalog_schemas
from baodan.catalog import services as catalog
from baodan.core.db import fetchall
from baodan.identity import accounts, audit
from tests.api.test_security import PASSWORD, _login
from tests.helpers import API, error_body, make_catalog, sqlite_only

pytestmark = sqlite_only


def _shops(db: Any) -> dict[str, int]:
    ids = make_catalog(db, skus={"A": 5}, warehouses=("WH1", "WH2"))
    ids["SHOP-B"] = catalog.create_shop(db, data=catalog_schemas.ShopCreate(
        code="SHOP-B", name="B", channel="douyin", default_warehouse="WH2"))["id"]
    return ids


def _last(db: Any, action: str) -> dict[str, Any]:
    with db.read() as s:
        return audit.search(s, action=action, limit=1)[0]


def test_an_owner_creates_a_user_who_logs_in_with_the_one_time_password(runtime, db, client) -> None:
    ids = _shops(db)
    resp = client.post(f"{API}/users", json={"username": "xiaoli", "role": "operator", "display_name": "小李",
                                             "shop_ids": [ids["SHOP-A"]]})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["role"] == "operator" and body["shop_ids"] == [ids["SHOP-A"]] and body["warehouse_ids"] is None
    me = _login(runtime, "xiaoli", body["one_time_password"]).get(f"{API}/auth/me").json()
    assert me["role"] == "operator" and me["shop_ids"] == [ids["SHOP-A"]]
    assert "one_time_password" not in str(client.get(f"{API}/users").json())
    record = _last(db, "users.create")
    assert record["actor"] == "user:owner" and record["target"] == "user:xiaoli" and record["ip"]
    error_body(client.post(f"{API}/users", json={"username": "xiaoli", "role": "operator"}), 409, "users.exists")
    error_body(client.post(f"{API}/users", json={"username": "x2", "role": "boss"}), 422, "users.unknown_role")
    error_body(client.post(f"{API}/users", json={"username": "x3", "role": "operator", "shop_ids": [999]}),
               422, "users.unknown_scope")
    error_body(client.post(f"{API}/users", json={"username": "bad name", "role": "operator"}), 422, "request.invalid")


def test_changing_a_role_or_scope_takes_effect_on_the_next_request_and_is_audited(runtime, db, client) -> None:
    ids = _shops(db)
    accounts.create_user(db, username="wang", role="service", password=PASSWORD)
    wang = _login(runtime, "wang")
    assert wang.get(f"{API}/stock").status_code == 403
    resp = client.patch(f"{API}/users/wang", json={"role": "warehouse", "warehouse_ids": [ids["WH1"]]})
    assert resp.status_code == 200, resp.text
    assert resp.json()["warehouse_ids"] == [ids["WH1"]] and resp.json()["role"] == "warehouse"
    assert {r["warehouse_code"] for r in wang.get(f"{API}/stock").json()} == {"WH1"}
    detail = _last(db, "users.update")["detail"]
    assert detail["role"] == {"before": "service", "after": "warehouse"}
    assert detail["warehouse_ids"] == {"before": None, "after": [ids["WH1"]]}
    assert "display_name" not in detail  # only what changed
    assert client.patch(f"{API}/users/wang", json={"warehouse_ids": None}).json()["warehouse_ids"] is None
    assert client.patch(f"{API}/users/wang", json={"active": False}).status_code == 200
    error_body(wang.get(f"{API}/auth/me"), 401, "auth.required")  # deactivated: the session ends
    error_body(client.patch(f"{API}/users/nobody", json={"active": False}), 404, "users.not_found")


def test_the_last_owner_cannot_be_demoted_or_deactivated(client) -> None:
    error_body(client.patch(f"{API}/users/owner", json={"role": "operator"}), 409, "users.last_owner")
    error_body(client.patch(f"{API}/users/owner", json={"active": False}), 409, "users.last_owner")


def test_a_manager_grants_no_more_than_they_hold_and_sees_only_users_in_scope(runtime, db, client) -> None:
    ids = _shops(db)
    assert client.put(f"{API}/roles/shop-admin", json={
        "title": "店长", "permissions": ["users.manage", "orders.read", "catalog.read"]}).status_code == 200
    accounts.create_user(db, username="a-admin", role="shop-admin", password=PASSWORD, shop_ids=[ids["SHOP-A"]])
    accounts.create_user(db, username="b-ops", role="service", password=PASSWORD, shop_ids=[ids["SHOP-B"]])
    accounts.create_user(db, username="a-svc", role="service", password=PASSWORD, shop_ids=[ids["SHOP-A"]])
    manager = _login(runtime, "a-admin")
    listed = {u["username"] for u in manager.get(f"{API}/users").json()}
    assert listed == {"a-admin", "a-svc"}  # not the owner (every shop), not shop B's user
    error_body(manager.patch(f"{API}/users/b-ops", json={"active": False}), 404, "users.not_found")
    error_body(manager.post(f"{API}/users/owner/reset-password"), 404, "users.not_found")
    error_body(manager.post(f"{API}/users", json={"username": "n1", "role": "owner", "shop_ids": [ids["SHOP-A"]]}),
               403, "users.escalation")  # owner holds permissions the manager does not
    error_body(manager.post(f"{API}/users", json={"username": "n2", "role": "shop-admin"}),
               403, "users.escalation")  # no shop_ids = every shop: wider than the manager's
    error_body(manager.post(f"{API}/users", json={"username": "n3", "role": "shop-admin",
                                                  "shop_ids": [ids["SHOP-B"]]}), 403, "users.escalation")
    error_body(manager.patch(f"{API}/users/a-svc", json={"role": "owner"}), 403, "users.escalation")
    error_body(manager.put(f"{API}/roles/superuser", json={"title": "x", "permissions": ["settings.write"]}),
               403, "users.escalation")
    error_body(manager.post(f"{API}/api-keys", json={"name": "k", "permissions": ["orders.read"]}),
               403, "users.escalation")
    created = manager.post(f"{API}/users", json={"username": "a-new", "role": "shop-admin",
                                                 "shop_ids": [ids["SHOP-A"]]})
    assert created.status_code == 201, created.text


def test_custom_roles_are_managed_over_http_and_apply_at_once(runtime, db, client) -> None:
    resp = client.put(f"{API}/roles/packer", json={"title": "打包员", "permissions": ["orders.read"]})
    assert resp.status_code == 200 and resp.json()["permissions"] == ["orders.read"]
    accounts.create_user(db, username="p1", role="packer", password=PASSWORD)
    packer = _login(runtime, "p1")
    assert packer.get(f"{API}/orders").status_code == 200
    assert packer.get(f"{API}/stock").status_code == 403
    client.put(f"{API}/roles/packer", json={"title": "打包员", "permissions": ["orders.read", "stock.read"]})
    assert packer.get(f"{API}/stock").status_code == 200  # the role book was reloaded
    detail = _last(db, "roles.save")["detail"]
    assert detail["before"]["permissions"] == ["orders.read"]
    assert detail["after"]["permissions"] == ["orders.read", "stock.read"]
    roles = {r["name"]: r for r in client.get(f"{API}/roles").json()}
    assert roles["packer"]["users"] == 1 and not roles["packer"]["builtin"] and roles["owner"]["builtin"]
    error_body(client.delete(f"{API}/roles/packer"), 409, "roles.in_use")
    error_body(client.delete(f"{API}/roles/owner"), 409, "roles.builtin")
    error_body(client.put(f"{API}/roles/owner", json={"title": "x", "permissions": ["orders.read"]}),
               409, "roles.builtin")
    error_body(client.put(f"{API}/roles/x", json={"title": "x", "permissions": ["orders.fly"]}),
               422, "roles.unknown_permission")
    error_body(client.delete(f"{API}/roles/nope"), 404, "roles.not_found")
    client.patch(f"{API}/users/p1", json={"role": "service"})
    assert client.delete(f"{API}/roles/packer").status_code == 204
    assert "packer" not in {r["name"] for r in client.get(f"{API}/roles").json()}
    assert _last(db, "roles.delete")["target"] == "role:packer"


def test_api_keys_are_created_shown_once_listed_without_secret_and_revoked(runtime, db, client) -> None:
    ids = _shops(db)
    resp = client.post(f"{API}/api-keys", json={"name": "erp", "permissions": ["orders.read"],
                                                "shop_ids": [ids["SHOP-A"]], "rate_per_minute": 100})
    assert resp.status_code == 201, resp.text
    key, prefix = resp.json()["key"], resp.json()["prefix"]
    integrator = TestClient(create_app(runtime), headers={"Authorization": f"Bearer {key}"})
    assert integrator.get(f"{API}/orders").status_code == 200
    listed = client.get(f"{API}/api-keys").json()
    assert [k["prefix"] for k in listed] == [prefix] and key.split("_", 2)[2] not in str(listed)
    assert listed[0]["last_used_at"] is not None
    with db.read() as s:
        assert fetchall(s, "SELECT count(*) FROM api_key WHERE secret_hash = ?", (key.split("_", 2)[2],))[0][0] == 0
    assert client.delete(f"{API}/api-keys/{prefix}").status_code == 204
    error_body(integrator.get(f"{API}/orders"), 401, "auth.invalid_key")
    error_body(client.delete(f"{API}/api-keys/{prefix}"), 404, "api_keys.not_found")
    assert _last(db, "api_keys.revoke")["actor"] == "user:owner"


def test_auditors_read_and_verify_the_trail_others_cannot(runtime, db, client) -> None:
    accounts.create_user(db, username="aud", role="auditor", password=PASSWORD)
    accounts.create_user(db, username="ops", role="operator", password=PASSWORD)
    auditor = _login(runtime, "aud")
    page = auditor.get(f"{API}/audit", params={"action": "login", "limit": 1}).json()
    assert page["items"][0]["actor"] == "user:aud" and page["next_cursor"]
    older = auditor.get(f"{API}/audit", params={"action": "login", "cursor": page["next_cursor"]}).json()["items"]
    assert [r["actor"] for r in older] == ["user:owner"]
    check = auditor.get(f"{API}/audit/verify").json()
    assert check["ok"] and check["problems"] == [] and check["head_id"] > 0
    error_body(_login(runtime, "ops").get(f"{API}/audit"), 403, "auth.forbidden")


def test_a_one_time_password_must_be_changed_before_anything_else(runtime, db, client) -> None:
    password = client.post(f"{API}/users", json={"username": "newbie", "role": "operator"}).json()[
        "one_time_password"]
    first, second = _login(runtime, "newbie", password), _login(runtime, "newbie", password)
    assert first.get(f"{API}/auth/me").json()["must_change_password"] is True
    error_body(first.get(f"{API}/orders"), 403, "auth.password_change_required")
    error_body(first.post(f"{API}/auth/password", json={"current": "wrong-password", "new": "0123456789ab"}),
               401, "auth.invalid_credentials")
    error_body(first.post(f"{API}/auth/password", json={"current": password, "new": "short"}), 422, "request.invalid")
    error_body(first.post(f"{API}/auth/password", json={"current": password, "new": password}),
               422, "users.weak_password")
    assert first.post(f"{API}/auth/password", json={"current": password, "new": "a-new-secret-1"}).status_code == 204
    assert first.get(f"{API}/orders").status_code == 200
    error_body(second.get(f"{API}/auth/me"), 401, "auth.required")  # the other session ended
    assert _login(runtime, "newbie", "a-new-secret-1").get(f"{API}/auth/me").json()["must_change_password"] is False
    assert _last(db, "users.change_password")["actor"] == "user:newbie"
    reset = client.post(f"{API}/users/newbie/reset-password").json()["one_time_password"]
    error_body(_login(runtime, "newbie", reset).get(f"{API}/orders"), 403, "auth.password_change_required")


def test_settings_changes_are_audited_with_who_and_what(client, db) -> None:
    assert client.post(f"{API}/warehouses", json={"code": "WH9", "name": "杭州仓"}).status_code == 201
    assert client.post(f"{API}/shops", json={"code": "S9", "name": "旗舰店", "channel": "douyin",
                                             "default_warehouse": "WH9"}).status_code == 201
    assert _last(db, "settings.warehouse_create")["actor"] == "user:owner"
    shop_record = _last(db, "settings.shop_create")
    assert shop_record["target"] == "shop:S9" and shop_record["detail"]["after"]["default_warehouse"] == "WH9"
    client.post(f"{API}/skus", json={"code": "K1", "name": "K1", "price_fen": 100})
    client.post(f"{API}/skus", json={"code": "K2", "name": "K2", "price_fen": 100})
    shop_id = client.get(f"{API}/shops").json()[0]["id"]
    client.put(f"{API}/shops/{shop_id}/sku-mappings", json=[{"platform_sku_id": "P1", "sku": "K1"}])
    client.put(f"{API}/shops/{shop_id}/sku-mappings", json=[{"platform_sku_id": "P1", "sku": "K1"}])  # no change
    client.put(f"{API}/shops/{shop_id}/sku-mappings", json=[{"platform_sku_id": "P1", "sku": "K2"}])
    with db.read() as s:
        mappings = audit.search(s, action="settings.sku_mapping")
    assert len(mappings) == 2
    assert mappings[0]["detail"]["changes"][0]["after"] == "K2" and mappings[0]["detail"]["changes"][0]["before_sku_id"]
