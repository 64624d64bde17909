"""店铺/设置 → 角色, API 密钥, and the edit screens in chromium: a custom role created, changed and deleted
through its form (built-in roles stay read-only); an API key whose secret is shown once, works, and stops
working when revoked; a warehouse renamed, and a level's safety stock set, from their dialogs."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.ui.conftest import Server, login, shot


def _row(page: Any, table: str, text: str) -> Any:
    return page.locator(f"[data-test={table}] .el-table__row", has_text=text)


def _confirm(page: Any) -> None:
    """Press 确定 in the "are you sure?" box."""
    page.locator(".el-message-box .el-button--primary").click()


def test_a_custom_role_is_created_changed_and_deleted_and_built_in_roles_are_read_only(page, server: Server) -> None:
    name = f"ui_role_{uuid.uuid4().hex[:6]}"
    login(page)
    page.goto("/settings?tab=roles")
    owner = _row(page, "role-table", "owner")
    owner.wait_for()
    assert owner.locator("[data-test=role-edit]").count() == 0 and owner.locator("[data-test=role-delete]").count() == 0
    assert owner.locator("[data-test=permission]").count() >= 10  # the owner holds every permission
    shot(page, "roles-01-list")

    page.click("[data-test=role-add]")
    page.fill("[data-test=role-name-input]", name)
    page.fill("[data-test=role-title-input]", "界面客服组长")
    page.click('[data-test="perm-orders.read"]')
    page.click('[data-test="perm-pii.reveal"]')
    shot(page, "roles-02-new-role")
    page.click("[data-test=role-save]")
    row = _row(page, "role-table", name)
    row.wait_for()
    assert "界面客服组长" in row.inner_text()
    with server.api() as api:
        saved = next(r for r in api.get("/api/v1/roles").json() if r["name"] == name)
    assert (saved["title"], saved["builtin"], saved["permissions"]) == \
        ("界面客服组长", False, ["orders.read", "pii.reveal"])

    row.locator("[data-test=role-edit]").click()
    assert page.is_disabled("[data-test=role-name-input]")  # the name is the key
    assert page.input_value("[data-test=role-title-input]") == "界面客服组长"
    page.fill("[data-test=role-title-input]", "界面客服主管")
    page.click('[data-test="perm-catalog.read"]')
    page.click('[data-test="perm-pii.reveal"]')  # unticked
    page.click("[data-test=role-save]")
    page.wait_for_selector(f"[data-test=role-table] .el-table__row:has-text('{name}'):has-text('界面客服主管')")
    with server.api() as api:
        saved = next(r for r in api.get("/api/v1/roles").json() if r["name"] == name)
    assert (saved["title"], saved["permissions"]) == ("界面客服主管", ["catalog.read", "orders.read"])
    shot(page, "roles-03-changed")

    row.locator("[data-test=role-delete]").click()
    _confirm(page)
    row.wait_for(state="detached")
    with server.api() as api:
        assert name not in [r["name"] for r in api.get("/api/v1/roles").json()]


def test_an_api_key_is_shown_once_works_and_stops_when_revoked(page, server: Server) -> None:
    name = f"界面对接 {uuid.uuid4().hex[:6]}"
    login(page)
    page.goto("/settings?tab=apiKeys")
    page.wait_for_selector("[data-test=api-key-table]")
    page.click("[data-test=api-key-add]")
    page.fill("[data-test=api-key-name-input]", name)
    page.click('[data-test="perm-catalog.read"]')
    shot(page, "api-keys-01-new-key")
    page.click("[data-test=api-key-save]")
    page.wait_for_selector("[data-test=key-once-dialog] [data-test=key-once-secret]")
    key = page.inner_text("[data-test=key-once-secret]").strip()
    assert page.locator("[data-test=key-once-copy]").is_visible()
    shot(page, "api-keys-02-shown-once")
    page.click("[data-test=key-once-close]")
    page.wait_for_selector("[data-test=key-once-dialog]", state="hidden")
    row = _row(page, "api-key-table", name)
    row.wait_for()
    assert key not in page.content()  # shown once: nowhere on the page afterwards
    prefix = row.locator("[data-test=api-key-prefix]").inner_text().strip()
    assert key.startswith(f"bd_{prefix}_")  # bd_<prefix>_<secret>

    bearer = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{server.url}/api/v1/skus", headers=bearer, params={"limit": 1}).status_code == 200
    assert httpx.get(f"{server.url}/api/v1/orders", headers=bearer).status_code == 403  # catalog.read only

    row.locator("[data-test=api-key-revoke]").click()
    _confirm(page)
    page.wait_for_selector(f"[data-test=api-key-table] .el-table__row:has-text('{name}') "
                           "[data-test=api-key-status]:has-text('已吊销')")
    assert row.locator("[data-test=api-key-revoke]").count() == 0
    assert httpx.get(f"{server.url}/api/v1/skus", headers=bearer).status_code == 401
    with server.api() as api:
        listed = next(k for k in api.get("/api/v1/api-keys").json() if k["prefix"] == prefix)
    assert listed["revoked_at"] is not None and "key" not in listed
    shot(page, "api-keys-03-revoked")


def test_a_warehouse_is_renamed_from_its_edit_dialog(page, server: Server) -> None:
    code = f"WH-ED-{uuid.uuid4().hex[:6].upper()}"
    with server.api() as api:
        created = api.post("/api/v1/warehouses", json={"code": code, "name": "待改名仓", "priority": 200})
        assert created.status_code == 201, created.text
    login(page)
    page.goto("/settings?tab=warehouses")
    row = _row(page, "warehouse-table", code)
    row.locator("[data-test=warehouse-edit]").click()
    assert page.is_disabled("[data-test=warehouse-code-input]")
    assert page.input_value("[data-test=warehouse-name-input]") == "待改名仓"
    page.fill("[data-test=warehouse-name-input]", "界面改名仓")
    shot(page, "edit-01-warehouse")
    page.click("[data-test=warehouse-save]")
    page.wait_for_selector(f"[data-test=warehouse-table] .el-table__row:has-text('{code}') "
                           "[data-test=warehouse-name]:has-text('界面改名仓')")
    with server.api() as api:
        saved = api.get(f"/api/v1/warehouses/{created.json()['id']}").json()
    assert (saved["code"], saved["name"], saved["priority"], saved["active"]) == (code, "界面改名仓", 200, True)


def test_safety_stock_is_set_from_the_stock_screen_which_also_offers_the_export(page, server: Server) -> None:
    with server.api() as api:
        level = api.get("/api/v1/stock", params={"limit": 1}).json()[0]
    sku, warehouse, wanted = level["sku_code"], level["warehouse_code"], level["safety_stock"] + 3
    login(page)
    page.goto(f"/stock?sku={sku}&warehouse={warehouse}")
    page.wait_for_selector("[data-test=stock-sku]")
    assert page.get_attribute("[data-test=stock-export]", "href") == "/api/v1/exports/stock"
    page.click("[data-test=stock-safety]")
    page.fill("[data-test=safety-input] input", str(wanted))
    page.press("[data-test=safety-input] input", "Tab")
    shot(page, "edit-02-safety-stock")
    page.click("[data-test=safety-save]")
    page.wait_for_selector("[data-test=safety-dialog]", state="hidden")
    page.wait_for_selector(f"[data-test=stock-safety]:has-text('{wanted}')")
    with server.api() as api:
        [now] = api.get("/api/v1/stock", params={"sku": sku, "warehouse": warehouse}).json()
    assert now["safety_stock"] == wanted and now["on_hand"] == level["on_hand"]
