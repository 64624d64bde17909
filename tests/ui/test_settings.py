"""店铺/设置 in chromium: a warehouse created through the form, a user created through the form signs in with
the one-time password it was shown (and must change it), a shop's credentials whose secret is never shown
and kept when left blank, and the carrier accounts tab."""

from __future__ import annotations

import uuid

from tests.ui.conftest import Server, login, shot


def test_a_warehouse_is_created_through_the_form(page, server: Server) -> None:
    code = f"WH-UI-{uuid.uuid4().hex[:6].upper()}"
    login(page)
    page.goto("/settings?tab=warehouses")
    page.wait_for_selector("[data-test=warehouse-code]")
    page.click("[data-test=warehouse-add]")
    page.fill("[data-test=warehouse-code-input]", code)
    page.fill("[data-test=warehouse-name-input]", "界面测试仓")
    shot(page, "settings-01-new-warehouse")
    page.click("[data-test=warehouse-save]")
    page.wait_for_selector(f"[data-test=warehouse-code]:has-text('{code}')")
    with server.api() as api:
        assert any(w["code"] == code and w["name"] == "界面测试仓" for w in api.get("/api/v1/warehouses").json())
    shot(page, "settings-02-warehouses")


def test_a_user_created_in_the_console_signs_in_with_the_one_time_password(page, browser, server: Server) -> None:
    username = f"ui-op-{uuid.uuid4().hex[:6]}"
    login(page)
    page.goto("/settings?tab=users")
    page.wait_for_selector("[data-test=user-name]")
    page.click("[data-test=user-add]")
    page.fill("[data-test=user-username]", username)
    page.fill("[data-test=user-display-name]", "界面运营")
    page.click("[data-test=user-role-select]")
    page.locator(".el-select-dropdown__item:visible", has_text="仓库").first.click()
    page.click("[data-test=user-save]")
    page.wait_for_selector("[data-test=one-time-password]")
    password = page.inner_text("[data-test=one-time-password]").strip()
    assert len(password) >= 10
    shot(page, "settings-03-one-time-password")
    page.click("[data-test=one-time-close]")
    page.wait_for_selector(f"[data-test=user-name]:has-text('{username}')")
    shot(page, "settings-04-users")

    other = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800}, locale="zh-CN")
    other.set_default_timeout(15_000)
    fresh = other.new_page()
    try:
        fresh.goto("/login")
        fresh.fill("input[name=username]", username)
        fresh.fill("input[name=password]", password)
        fresh.click("[data-test=login-submit]")
        fresh.wait_for_selector("[data-test=change-password]")
        fresh.fill("input[name=new]", "a-new-password-for-ui")
        fresh.fill("input[name=repeat]", "a-new-password-for-ui")
        fresh.click("[data-test=change-password] button[type=submit]")
        fresh.wait_for_selector("[data-test=nav]")
        assert username in fresh.inner_text("[data-test=user-menu]")
        nav = [t.strip() for t in fresh.locator("[data-test=nav] .el-menu-item").all_inner_texts()]
        assert "库存" in nav and "仓库作业" in nav  # the 仓库 role chosen in the form
    finally:
        other.close()


def test_a_shops_secret_is_write_only_and_kept_when_left_blank(page, server: Server) -> None:
    with server.api() as api:
        shop = next(s for s in api.get("/api/v1/shops").json() if s["channel"] != "custom")
        before = api.get(f"/api/v1/shops/{shop['id']}/credentials").json()
    login(page)
    page.goto("/settings?tab=shops")
    row = page.locator("[data-test=shop-table] .el-table__row", has_text=shop["code"])
    row.locator("[data-test=shop-credentials]").click()
    page.wait_for_selector("[data-test=credentials-dialog] [data-test=credentials-state]")
    assert page.input_value("[data-test=cred-app-secret]") == ""  # never filled with a stored secret
    if not before["configured"]:
        page.fill("[data-test=cred-app-key]", "ui-app-key")
        page.click("[data-test=credentials-save]")
        page.wait_for_selector("[data-test=credentials-problem]")  # a first connection needs the secret
        page.fill("[data-test=cred-app-secret]", "ui-secret-123456")
        page.click("[data-test=credentials-save]")
        page.wait_for_selector("[data-test=credentials-dialog]", state="hidden")
        row.locator("[data-test=shop-credentials]").click()
        page.wait_for_selector("[data-test=credentials-dialog] [data-test=credentials-state]:has-text('已授权')")
    placeholder = page.get_attribute("[data-test=cred-app-secret]", "placeholder")
    assert placeholder == "已设置，留空则保持不变"
    assert page.input_value("[data-test=cred-app-secret]") == ""
    page.fill("[data-test=cred-app-key]", "ui-app-key-2")
    shot(page, "settings-05-credentials")
    with page.expect_request(lambda r: r.method == "PUT" and "/credentials" in r.url) as sent:
        page.click("[data-test=credentials-save]")
    body = sent.value.post_data_json
    assert body["keep_secrets"] is True and "app_secret" not in body and "access_token" not in body
    page.wait_for_selector("[data-test=credentials-dialog]", state="hidden")
    with server.api() as api:
        after = api.get(f"/api/v1/shops/{shop['id']}/credentials").json()
    assert after["configured"] and after["app_key"] == "ui-app-key-2"


def test_the_carrier_accounts_tab_lists_accounts_without_secrets(page, server: Server) -> None:
    login(page)
    page.goto("/settings?tab=carriers")
    page.wait_for_selector("[data-test=carrier-table]")
    page.click("[data-test=carrier-add]")
    page.wait_for_selector("[data-test=carrier-dialog] [data-test=carrier-app-secret]")
    shot(page, "settings-06-carrier-account-form")
    page.keyboard.press("Escape")
    page.goto("/settings?tab=shops")
    page.wait_for_selector("[data-test=shop-connected]")
    page.wait_for_selector("[data-test=shop-table] .el-loading-mask", state="hidden")
    shot(page, "settings-07-shops")


def test_a_read_only_role_sees_the_screens_without_their_actions(page, server: Server) -> None:
    login(page, "kefu")  # 客服: catalog.read and orders.read; no catalog.write, settings.write, users.manage
    page.goto("/settings")
    page.wait_for_selector("[data-test=shop-credentials]")
    tabs = [t.strip() for t in page.locator("[data-test=settings-tabs] .el-tabs__item").all_inner_texts()]
    assert tabs == ["店铺", "仓库", "快递账号"]
    assert page.locator("[data-test=shop-add]").count() == 0
    page.locator("[data-test=shop-credentials]").first.click()
    page.wait_for_selector("[data-test=credentials-dialog] [data-test=credentials-state]")
    assert page.locator("[data-test=credentials-save]").count() == 0
    assert page.is_disabled("[data-test=cred-app-key]")
    page.keyboard.press("Escape")
    page.goto("/settings?tab=users")  # not theirs: the first tab they may see instead
    page.wait_for_selector("[data-test=shops-tab]")
    page.goto("/products?tab=mappings")
    page.wait_for_selector("[data-test=mapping-table]")
    assert page.locator("[data-test=mapping-add]").count() == 0
    assert page.locator("[data-test=unmapped-map]").count() == 0
    page.goto("/stock")
    page.wait_for_selector("text=没有权限访问该页面")  # no stock.read
