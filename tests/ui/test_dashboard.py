"""数字大屏 in chromium: it opens on the demo's live session, keeps its stream open, and the orders pushed into
BaoDan while it is open show up in the order count and GMV without a reload; on a phone it stacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.ui.conftest import Server, login, shot

ROOM = "7301234567890"  # the demo live session's room (baodan.demo): its orders count on the dashboard
SKU = "P001-0001"  # a demo SKU with stock


def _figure(page: Any, name: str) -> int:
    return int(page.get_attribute(f"[data-test=kpi-{name}] [data-value]", "data-value"))


def _orders(count: int, tag: str) -> list[dict[str, Any]]:
    now = datetime.now(UTC).replace(microsecond=0)
    orders = []
    for i in range(count):
        quantity = 1 + i % 2
        amount = 4990 * quantity
        orders.append({
            "channel": "douyin", "shop": "DY-FLAGSHIP", "platform_order_id": f"UI-DASH-{tag}-{i}", "status": "paid",
            "updated_at": now.isoformat(), "created_at": (now - timedelta(seconds=5)).isoformat(),
            "paid_at": now.isoformat(), "buyer_nick": f"大屏测试{i}",
            "receiver": {"name": "王小明", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
                         "district": "西湖区", "address": f"文三路 {i + 1} 号"},
            "lines": [{"platform_line_id": f"UI-DASH-{tag}-{i}-1", "sku_code": SKU, "title": "面膜",
                       "quantity": quantity, "unit_price_fen": 4990, "discount_fen": 0, "amount_fen": amount}],
            "goods_total_fen": amount, "shipping_fee_fen": 0, "discount_fen": 0, "paid_total_fen": amount,
            "live_room_id": ROOM,
        })
    return orders


def test_the_dashboard_counts_new_orders_live_without_a_reload(page, server: Server) -> None:
    page.clock.install()  # time runs as usual; fast_forward below jumps it to make the stream look dead
    login(page)
    page.set_viewport_size({"width": 1920, "height": 1080})  # a TV
    page.locator("[data-test=nav] .el-menu-item", has_text="数字大屏").click()
    page.wait_for_url("**/dashboard")
    page.wait_for_selector("[data-test=stream-status][data-status=live]")
    assert page.locator("[data-test=nav]").count() == 0  # the whole window, no console frame
    assert page.inner_text("[data-test=dashboard-title]") == "双12预热专场"
    assert page.locator("[data-test=live-badge]").inner_text().strip() == "直播中"
    page.wait_for_selector("[data-test=hot-skus] [data-test=sellable]")
    page.wait_for_timeout(1200)  # the numbers have run to their values
    shot(page, "dashboard-desktop")

    orders, gmv = _figure(page, "orders"), _figure(page, "gmv")
    page.evaluate("window.__sameDocument = true")
    batch = _orders(5, datetime.now(UTC).strftime("%H%M%S"))
    with server.api() as api:
        resp = api.post("/api/v1/orders/batch", json={"orders": batch})
        assert resp.status_code == 200, resp.text
        assert resp.json()["accepted"] == 5
    added_fen = sum(o["paid_total_fen"] for o in batch)
    page.wait_for_function(
        "n => Number(document.querySelector('[data-test=kpi-orders] [data-value]').dataset.value) >= n",
        arg=orders + 5, timeout=20_000)
    assert _figure(page, "gmv") >= gmv + added_fen
    assert page.evaluate("window.__sameDocument") is True  # the stream brought it: no reload
    # the shown figure runs to the new count too (not only the attribute)
    shown = f"{_figure(page, 'orders'):,}"
    page.wait_for_function("t => document.querySelector('[data-test=kpi-orders]').innerText.trim() === t", arg=shown)
    assert page.locator("[data-test=stream-status]").get_attribute("data-status") == "live"
    shot(page, "dashboard-desktop-after-orders")

    # a stream that goes quiet (a dead connection nobody closed) is given up and a new one opened
    with page.expect_request("**/events?*") as reopened:
        page.clock.fast_forward(13_000)
        page.wait_for_selector("[data-test=stream-status]:not([data-status=live])")
    assert "top=10" in reopened.value.url
    page.wait_for_selector("[data-test=stream-status][data-status=live]")
    assert page.evaluate("window.__sameDocument") is True


def test_the_dashboard_switches_session_and_stacks_on_a_phone(browser, server: Server) -> None:
    context = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  timezone_id="America/New_York", is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        login(page)
        page.goto("/dashboard")
        page.wait_for_selector("[data-test=stream-status][data-status=live]")
        page.wait_for_timeout(1200)
        # stacked: the per-minute chart lies above the hot SKUs, both the screen's width
        trend = page.locator("[data-test=chart-per-minute]").bounding_box()
        hot = page.locator("[data-test=hot-skus]").bounding_box()
        assert trend and hot and hot["y"] > trend["y"] + trend["height"] - 1
        assert trend["width"] > 300
        shot(page, "dashboard-phone")
        # today's figures instead of the session: the URL keeps the choice, the stream follows it
        page.click("[data-test=session-picker]")
        page.locator(".el-select-dropdown__item:visible", has_text="今日").first.click()
        page.wait_for_url("**/dashboard?session=today")
        page.wait_for_function(
            "() => document.querySelector('[data-test=dashboard-title]').innerText.startsWith('今日')")
        page.wait_for_selector("[data-test=stream-status][data-status=live]")
        assert _figure(page, "orders") > 0
    finally:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"
