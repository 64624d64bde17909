"""库存 in chromium: an adjustment through the dialog changes the level once (a double click included) and
appears in the SKU's ledger; the list on a phone-sized screen."""

from __future__ import annotations

from typing import Any

from tests.ui.conftest import Server, login, shot


def _row(api: Any) -> dict[str, Any]:
    rows = api.get("/api/v1/stock", params={"limit": 50}).json()
    return next(r for r in rows if r["warehouse_code"] == "WH-GZ") if any(
        r["warehouse_code"] == "WH-GZ" for r in rows) else rows[0]


def test_an_adjustment_changes_the_level_once_and_shows_in_the_ledger(page, server: Server) -> None:
    with server.api() as api:
        row = _row(api)
    sku, warehouse = row["sku_code"], row["warehouse_code"]
    login(page)
    page.goto(f"/stock?sku={sku}&warehouse={warehouse}")
    page.wait_for_selector("[data-test=stock-sku]")
    assert page.locator("[data-test=stock-sku]").all_inner_texts() == [sku]
    assert page.inner_text("[data-test=stock-on-hand]").strip() == str(row["on_hand"])
    shot(page, "stock-01-list")

    page.click("[data-test=stock-adjust]")
    dialog = page.locator("[data-test=adjust-dialog]")
    dialog.wait_for()
    page.fill("[data-test=adjust-quantity] input", "7")
    page.press("[data-test=adjust-quantity] input", "Tab")
    page.fill("[data-test=adjust-reason]", "盘点差异 UI")
    page.wait_for_selector(f"[data-test=adjust-after]:has-text('{row['on_hand'] + 7}')")
    shot(page, "stock-02-adjust-dialog")
    page.dblclick("[data-test=adjust-submit]")
    page.wait_for_selector("[data-test=adjust-dialog]", state="hidden")
    page.wait_for_function(f"() => document.querySelector('[data-test=stock-on-hand]').innerText.trim() === "
                           f"'{row['on_hand'] + 7}'")
    available = page.inner_text("[data-test=stock-available]").strip()
    assert available == str(row["on_hand"] + 7 - row["reserved"])
    with server.api() as api:
        now = api.get("/api/v1/stock", params={"sku": sku, "warehouse": warehouse}).json()[0]
        moves = api.get("/api/v1/stock/moves", params={"sku": sku, "warehouse": warehouse}).json()
    assert now["on_hand"] == row["on_hand"] + 7  # once, though clicked twice
    assert [m["reason"] for m in moves].count("盘点差异 UI") == 1

    page.click("[data-test=stock-ledger]")
    page.wait_for_selector("[data-test=ledger-table] [data-test=move-reason]:has-text('盘点差异 UI')")
    assert page.locator("[data-test=move-on-hand]").first.inner_text().strip() == "+7"
    assert page.locator("[data-test=move-kind]").first.inner_text().strip() == "盘点/调整"
    shot(page, "stock-03-ledger")


def test_setting_a_count_below_what_is_reserved_is_explained_and_changes_nothing(page, server: Server) -> None:
    with server.api() as api:
        rows = api.get("/api/v1/stock", params={"limit": 1000}).json()
    row = next((r for r in rows if r["reserved"] > 0), None)
    assert row is not None, "the demo orders reserve stock"
    login(page)
    page.goto(f"/stock?sku={row['sku_code']}&warehouse={row['warehouse_code']}")
    page.click("[data-test=stock-adjust]")
    page.click("[data-test=mode-set]")
    page.fill("[data-test=adjust-quantity] input", "0")
    page.press("[data-test=adjust-quantity] input", "Tab")
    page.click("[data-test=adjust-submit]")
    page.wait_for_selector(f"[data-test=adjust-problem]:has-text('{row['reserved']}')")
    with server.api() as api:
        assert api.get("/api/v1/stock", params={"sku": row["sku_code"], "warehouse": row["warehouse_code"]}
                       ).json()[0]["on_hand"] == row["on_hand"]


def test_the_stock_list_fits_a_phone(browser, server: Server) -> None:
    context = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        login(page)
        page.goto("/stock")
        page.wait_for_selector("[data-test=stock-sku]")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        table = page.locator("[data-test=stock-table]").bounding_box()
        assert table is not None and table["x"] >= 0 and table["x"] + table["width"] <= 391
        assert page.locator("[data-test=stock-available]").first.is_visible()
        assert page.locator("[data-test=stock-adjust]").first.is_visible()
        shot(page, "stock-04-phone")
    finally:
        context.close()


def test_the_stock_screen_follows_the_language_switch(page, server: Server) -> None:
    login(page)
    page.goto("/stock")
    page.wait_for_selector("[data-test=stock-sku]")
    page.click("[data-test=user-menu]")
    page.click("[data-test=locale-en]")
    page.wait_for_selector("[data-test=stock-table] th:has-text('Available')")
    page.locator("[data-test=stock-adjust]").first.click()
    page.wait_for_selector("[data-test=adjust-dialog] :text('Add or remove')")
    shot(page, "stock-05-english")
    page.keyboard.press("Escape")
    page.click("[data-test=user-menu]")
    page.click("[data-test=locale-zh-CN]")
    page.wait_for_selector("[data-test=stock-table] th:has-text('可用')")
