"""The merchant console in chromium: sign-in (with the forced change of a one-time password), role-aware
navigation and the language switch, the order list's filters and bulk selection, an order's detail and
timeline, revealing a phone (audited), the anomaly queue's release, and the order list on a phone."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pyotp

from tests.ui.conftest import PASSWORD, Server, login, shot

STATE_LABELS = {"unpaid": "待付款", "reserved": "已占库存", "awaiting_stock": "缺货", "held": "异常挂起",
                "shipped": "已发货", "completed": "已完成", "cancelled": "已取消"}
PAGE = 200  # orders per page of the list (OrderListView.vue)
NAV_ALL = ["订单", "异常订单", "库存", "商品", "仓库作业", "数字大屏", "店铺/设置"]


def _nav(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("[data-test=nav] .el-menu-item").all_inner_texts()]


def _order_nos(page: Any) -> list[str]:
    page.wait_for_selector("[data-test=order-no]")
    return [t.strip() for t in page.locator("[data-test=order-no]").all_inner_texts()]


def _wait_loaded(page: Any, total: int) -> None:
    """Wait until the list says it loaded `total` orders (the first page holds at most PAGE)."""
    page.wait_for_function("n => document.querySelector('[data-test=loaded-count]').innerText"
                           ".startsWith(`已加载 ${n} 条`)", arg=min(total, PAGE))


def _pick(page: Any, select: str, option: str) -> None:
    """Choose `option` in the Element Plus select marked data-test=`select`."""
    page.click(f"[data-test={select}]")
    page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()


def test_a_one_time_password_must_be_changed_before_the_console_opens(page, server: Server) -> None:
    page.goto("/orders")
    page.wait_for_selector("[data-test=login-form]")
    assert "/login?redirect=/orders" in page.url
    shot(page, "01-login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", server.admin_password)
    page.click("[data-test=login-submit]")
    page.wait_for_selector("[data-test=change-password]")
    assert page.locator("text=这是一次性密码，请先设置新密码").is_visible()
    shot(page, "02-forced-password-change")
    page.fill("input[name=new]", "short")
    page.fill("input[name=repeat]", "short")
    page.click("[data-test=change-password] button[type=submit]")
    page.wait_for_selector("text=至少 10 个字符")  # refused in the form, nothing sent
    page.fill("input[name=new]", PASSWORD + "-admin")
    page.fill("input[name=repeat]", PASSWORD + "-admin")
    page.click("[data-test=change-password] button[type=submit]")
    page.wait_for_selector("[data-test=order-no]")
    assert page.url.endswith("/orders")  # back where the user was going
    # the new password works, the one-time one no longer does
    page.click("[data-test=user-menu]")
    page.click("[data-test=logout]")
    page.wait_for_selector("[data-test=login-form]")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", server.admin_password)
    page.click("[data-test=login-submit]")
    page.wait_for_selector("text=用户名或密码错误")
    login(page, "admin", PASSWORD + "-admin")
    assert _nav(page) == NAV_ALL


def test_a_user_with_two_factor_login_is_asked_for_the_code(page, server: Server) -> None:
    with server.api() as api:
        made = api.post("/api/v1/users", json={"username": "caiwu", "role": "finance"})
        assert made.status_code == 201, made.text
    with server.api("caiwu", made.json()["one_time_password"]) as own:
        assert own.post("/api/v1/auth/password", json={"current": made.json()["one_time_password"],
                                                      "new": PASSWORD}).status_code == 204
    with server.api("caiwu") as own:
        uri = own.post("/api/v1/auth/totp").json()["otpauth_uri"]
        secret = parse_qs(urlparse(uri).query)["secret"][0]
        assert own.post("/api/v1/auth/totp/confirm", json={"code": pyotp.TOTP(secret).now()}).status_code == 204
    page.goto("/login")
    page.fill("input[name=username]", "caiwu")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-test=login-submit]")
    page.wait_for_selector("input[name=totp]")
    shot(page, "02b-totp")
    page.fill("input[name=totp]", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.click("[data-test=login-submit]")
    page.wait_for_selector("text=验证码错误或已过期")  # a wrong code is refused; the form stays
    page.fill("input[name=totp]", pyotp.TOTP(secret).now())
    page.click("[data-test=login-submit]")
    page.wait_for_selector("[data-test=nav]")
    assert _nav(page) == ["订单", "异常订单", "库存", "商品", "数字大屏", "店铺/设置"]  # 财务: no warehouse work


def test_navigation_follows_the_role_and_the_language_switch(page, server: Server) -> None:
    login(page, "kefu")  # 客服: orders, catalog and reveal; no stock, no warehouse work, no dashboard, no writes
    assert _nav(page) == ["订单", "异常订单", "商品", "店铺/设置"]
    assert " ".join(page.inner_text("[data-test=user-menu]").split()) == "kefu · 客服"
    page.goto("/warehouse")
    page.wait_for_selector("text=没有权限访问该页面")
    shot(page, "03-nav-service-role-forbidden")
    page.goto("/anomalies")
    page.wait_for_selector("[data-test=held-order-no]")
    assert page.locator("[data-test=release]").count() == 0  # no orders.write: no actions
    page.goto("/products")
    page.wait_for_selector("[data-test=sku-code]")  # catalog.read: the SKU list, without write buttons

    page.click("[data-test=user-menu]")
    page.click("[data-test=locale-en]")
    page.wait_for_function("() => document.querySelector('[data-test=nav]').innerText.includes('Orders')")
    assert _nav(page) == ["Orders", "Exceptions", "Products", "Shops & settings"]
    shot(page, "04-english")
    page.reload()  # the choice is remembered
    page.wait_for_selector("[data-test=nav]")
    assert _nav(page)[0] == "Orders"
    page.click("[data-test=user-menu]")
    page.click("[data-test=locale-zh-CN]")
    page.wait_for_function("() => document.querySelector('[data-test=nav]').innerText.includes('订单')")


def test_orders_are_filtered_by_state_sku_and_buyer_phone(page, server: Server) -> None:
    with server.api() as api:
        newest = api.get("/api/v1/orders", params={"limit": 1}).json()["items"][0]
        phone = api.post(f"/api/v1/orders/{newest['id']}/reveal").json()["phone"]
        sku_id = next(line["sku_id"] for line in api.get(f"/api/v1/orders/{newest['id']}").json()["lines"]
                      if line["sku_id"])
        sku = api.get(f"/api/v1/skus/{sku_id}").json()["code"]
        with_sku = {o["platform_order_id"] for o in api.get("/api/v1/orders", params={"sku": sku, "limit": 500})
                    .json()["items"]}
        states = [o["state"] for o in api.get("/api/v1/orders", params={"limit": 500}).json()["items"]]
        state = min(set(states), key=states.count)  # the rarest state on the first page: a filter that bites
        matching = api.get("/api/v1/orders", params={"state": state, "limit": 500}).json()["items"]
    login(page)
    page.goto("/orders")
    assert newest["platform_order_id"] in _order_nos(page)
    shot(page, "05-orders")

    label = STATE_LABELS[state]
    _pick(page, "filter-state", label)
    page.click("[data-test=search]")
    page.wait_for_url(re.compile(f"state={state}"))
    _wait_loaded(page, len(matching))
    assert set(_order_nos(page)) <= {o["platform_order_id"] for o in matching}
    tags = {t.strip() for t in page.locator("[data-test=order-table] [data-test=state]").all_inner_texts()}
    assert tags == {label}, tags
    shot(page, "06-orders-filtered-by-state")

    page.click("text=重置")
    page.fill("input[name=buyer_phone]", phone)
    page.click("[data-test=search]")
    page.wait_for_function(
        "n => document.querySelectorAll('[data-test=order-no]').length >= 1 && "
        "[...document.querySelectorAll('[data-test=order-no]')].every(e => e.innerText.trim() === n)",
        arg=newest["platform_order_id"])
    assert "buyer_phone" not in page.url and phone not in page.url  # never in the address bar
    assert f"****{phone[-4:]}" in page.inner_text("[data-test=order-table]")
    shot(page, "07-orders-filtered-by-phone")

    page.click("text=重置")
    page.fill("input[name=sku]", sku)
    page.click("[data-test=search]")
    page.wait_for_url(re.compile(f"sku={sku}"))
    page.wait_for_function("no => [...document.querySelectorAll('[data-test=order-no]')]"
                           ".some(e => e.innerText.trim() === no)", arg=newest["platform_order_id"])
    assert set(_order_nos(page)) <= with_sku

    # bulk selection and the export of the filtered set (what the backend streams, watermarked)
    page.click("text=重置")
    page.wait_for_selector("[data-test=order-no]")
    boxes = page.locator("[data-test=order-table] .el-table-v2__row .el-checkbox")
    boxes.nth(0).click()
    boxes.nth(1).click()
    assert "已选 2 条" in page.inner_text("[data-test=selected-count]")
    href = page.get_attribute("[data-test=export]", "href")
    assert href and href.startswith("/api/v1/exports/orders")
    csv = page.request.get(href)
    assert csv.status == 200 and "BaoDan 导出" in csv.text() and "平台订单号" in csv.text()  # watermarked CSV


def test_an_order_opens_with_amounts_lines_stock_and_its_timeline(page, server: Server) -> None:
    with server.api() as api:
        reserved = api.get("/api/v1/orders", params={"state": "reserved", "limit": 1}).json()["items"][0]
        detail = api.get(f"/api/v1/orders/{reserved['id']}").json()
    login(page)
    page.goto(f"/orders?platform_order_id={reserved['platform_order_id']}")
    page.locator("[data-test=order-no]", has_text=reserved["platform_order_id"]).first.click()
    panel = page.locator("[data-test=order-detail]")
    panel.locator("[data-test=timeline]").wait_for()
    assert reserved["platform_order_id"] in panel.inner_text()
    paid = reserved["paid_total_fen"]
    assert f"¥{paid // 100:,}.{paid % 100:02d}" in panel.locator("[data-test=amounts]").inner_text()
    shanghai = datetime.fromisoformat(reserved["paid_at"].replace("Z", "+00:00")).astimezone(ZoneInfo("Asia/Shanghai"))
    assert shanghai.strftime("%Y-%m-%d %H:%M:%S") in panel.inner_text()  # Shanghai time, browser in New York
    lines = panel.locator("[data-test=lines] .el-table__row")
    assert lines.count() == len(detail["lines"])
    assert panel.locator("[data-test=reservations] .el-table__row").count() == len(detail["reservations"])
    timeline = panel.locator("[data-test=timeline]").inner_text()
    assert "收到平台推送" in timeline and "审单" in timeline and "分仓" in timeline
    assert panel.locator("[data-test=receiver-phone]").inner_text().count("*") >= 4  # masked
    shot(page, "08-order-detail")
    # the same order as a page of its own
    page.goto(f"/orders/{reserved['id']}")
    page.wait_for_selector("[data-test=timeline]")
    assert "订单详情" in page.title()
    shot(page, "09-order-page")


def test_revealing_a_phone_shows_it_and_records_it_in_the_audit_trail(page, server: Server) -> None:
    with server.api() as api:
        order = api.get("/api/v1/orders", params={"limit": 1}).json()["items"][0]
    login(page, "kefu")  # 客服 may reveal
    page.goto(f"/orders/{order['id']}")
    phone = page.locator("[data-test=receiver-phone]")
    phone.wait_for()
    assert "****" in phone.inner_text()
    page.click("[data-test=reveal]")
    page.wait_for_selector("[data-test=revealed]")
    assert re.fullmatch(r"1\d{10}", phone.inner_text().strip()), phone.inner_text()
    assert "*" not in page.locator("[data-test=receiver-name]").inner_text()
    shot(page, "10-phone-revealed")
    with server.api() as api:
        records = api.get("/api/v1/audit", params={"action": "pii.reveal", "actor": "user:kefu"}).json()["items"]
    assert any(r["target"] == f"order:{order['id']}" for r in records), records


def test_the_anomaly_queue_filters_by_reason_and_releases_orders(page, server: Server) -> None:
    with server.api() as api:
        reasons = api.get("/api/v1/fulfilment/summary").json()["held_reasons"]
    reason, count = max(reasons.items(), key=lambda kv: kv[1])
    login(page)
    page.goto("/anomalies")
    page.wait_for_selector("[data-test=held-order-no]")
    shot(page, "11-anomalies")
    page.click(f"[data-test=reason-{reason}]")
    page.wait_for_url(re.compile(f"reason={reason}"))
    page.wait_for_function(
        "n => document.querySelectorAll('[data-test=held-order-no]').length === n", arg=min(count, 100))
    first = page.locator("[data-test=held-order-no]").first.inner_text().strip()

    page.locator("[data-test=held-table] .el-table__row").first.locator("[data-test=release]").click()
    page.locator(".el-message-box input").fill("UI 测试放行")
    page.click(".el-message-box .el-button--primary")
    page.wait_for_selector("text=已放行")
    page.wait_for_function("no => ![...document.querySelectorAll('[data-test=held-order-no]')]"
                           ".some(e => e.innerText.trim() === no)", arg=first)
    with server.api() as api:
        released = api.get("/api/v1/orders", params={"platform_order_id": first}).json()["items"][0]
        stage = api.get(f"/api/v1/orders/{released['id']}").json()
        audit = api.get("/api/v1/audit", params={"action": "fulfilment.release"}).json()["items"]
    assert stage["fulfilment"]["stage"] != "held"
    assert any(d["rule"] == "manual" and d["outcome"] == "pass" for d in stage["decisions"])
    assert any(r["target"] == f"order:{released['id']}" for r in audit)

    # two more at once
    rows = page.locator("[data-test=held-table] .el-table__body .el-table__row")
    rows.nth(0).locator(".el-checkbox").click()
    rows.nth(1).locator(".el-checkbox").click()
    page.click("[data-test=bulk-release]")
    page.click(".el-message-box .el-button--primary")
    page.wait_for_selector("text=成功 2 个，失败 0 个")
    shot(page, "12-anomalies-released")


def test_the_order_list_works_on_a_phone(browser, server: Server) -> None:
    context = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        login(page)
        page.goto("/orders")
        nos = _order_nos(page)
        assert len(nos) >= 5
        card = page.locator("[data-test=order-table] .el-table-v2__row").first
        box = card.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390  # no sideways scrolling
        assert not page.locator("[data-test=nav]").is_visible()  # the side navigation folds away
        shot(page, "13-orders-phone")
        # scrolling the virtual list fetches the next page
        before = page.inner_text("[data-test=loaded-count]")
        table = page.locator("[data-test=order-table]").bounding_box()
        assert table
        page.mouse.move(table["x"] + 100, table["y"] + 100)
        for _ in range(6):
            page.mouse.wheel(0, 4000)
            page.wait_for_timeout(250)  # one frame at least: the virtual list applies wheel deltas per frame
        page.wait_for_function("t => document.querySelector('[data-test=loaded-count]').innerText !== t", arg=before)
        page.click("[data-test=nav-toggle]")
        page.wait_for_selector("[data-test=nav]")
        shot(page, "14-nav-phone")
        page.get_by_role("menuitem", name="订单", exact=True).click()
        page.locator("[data-test=order-no]").first.tap()
        page.wait_for_selector("[data-test=timeline]")
        drawer = page.locator(".el-drawer").last.bounding_box()
        assert drawer and drawer["width"] >= 389
        shot(page, "15-order-detail-phone")
    finally:
        context.close()
