"""拆单 in chromium: an order of two lines whose buyer wrote 先别发 is held by the review; in 异常订单 the
operator opens 拆单, is stopped from splitting off nothing or everything, splits off one line and both parts
stay held; the part's detail says 拆分自 with a link to the original, lists it among its parts and shows the
split in its timeline; the original's detail lists the part."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.ui.conftest import Server, _wait, login, shot

SHOP = "DY-FLAGSHIP"  # the demo's 抖店 shop (its default warehouse is WH-HZ)


def _held_order(api: httpx.Client) -> dict[str, Any]:
    """A paid order of two lines in stock at WH-HZ, with a buyer message the shipped review rules hold
    (先别发); waits until the review has held it and returns its detail."""
    stock = [s for s in api.get("/api/v1/stock", params={"warehouse": "WH-HZ", "limit": 1000}).json()
             if s["available"] >= 20]
    assert len(stock) >= 2, stock
    pid = f"UI-SPLIT-{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    lines = [{"platform_line_id": f"{pid}-{i}", "sku_code": s["sku_code"], "title": s["sku_name"], "quantity": 1,
              "unit_price_fen": fen, "amount_fen": fen}
             for i, (s, fen) in enumerate(((stock[0], 3990), (stock[1], 5990)), start=1)]
    order = {"channel": "douyin", "shop": SHOP, "platform_order_id": pid, "status": "paid", "updated_at": now,
             "created_at": now, "paid_at": now, "buyer_nick": "拆单测试", "buyer_message": "先别发，等我通知",
             "receiver": {"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
                          "district": "西湖区", "address": "文三路 100 号"},
             "lines": lines, "goods_total_fen": 9980, "paid_total_fen": 9980}
    resp = api.post("/api/v1/orders/batch", json={"orders": [order]})
    assert resp.status_code == 200, resp.text
    found: dict[str, Any] = {}

    def held() -> bool:
        items = api.get("/api/v1/orders", params={"platform_order_id": pid}).json()["items"]
        if items:
            found.update(api.get(f"/api/v1/orders/{items[0]['id']}").json())
        return (found.get("fulfilment") or {}).get("stage") == "held"

    _wait(held, 60, f"the review to hold {pid}")
    assert found["fulfilment"]["hold_reason"] == "remark_keyword" and len(found["lines"]) == 2
    return found


def test_a_held_order_is_split_from_the_anomaly_queue(page, server: Server) -> None:
    with server.api() as api:
        order = _held_order(api)
    pid = order["platform_order_id"]
    login(page)
    page.goto("/anomalies?reason=remark_keyword")
    row = page.locator("[data-test=held-table] .el-table__body .el-table__row", has_text=pid)
    row.wait_for()
    row.locator("[data-test=split-order]").click()
    dialog = page.locator("[data-test=split-dialog]")
    dialog.locator("[data-test=split-line-2]").wait_for()
    assert pid in dialog.inner_text()
    submit = dialog.locator("[data-test=split-submit]")
    # nothing chosen, then everything chosen: refused here, nothing sent
    assert submit.is_disabled() and "请勾选要拆出的商品" in dialog.inner_text()
    dialog.locator("[data-test=split-line-1]").click()
    dialog.locator("[data-test=split-line-2]").click()
    page.wait_for_function("() => document.querySelector('[data-test=split-problem]')?.innerText"
                           ".includes('至少要留下一个商品')")
    assert submit.is_disabled()
    shot(page, "split-01-all-lines-refused")
    dialog.locator("[data-test=split-line-1]").click()  # only line 2 is split off
    page.fill("[data-test=split-dialog] input[name=split-note]", "UI 测试拆单")
    assert submit.is_enabled()
    shot(page, "split-02-dialog")
    submit.click()
    page.wait_for_selector(f".el-message--success:has-text('已拆出新订单 {pid}#2')")
    # both parts stay held, in the refreshed list
    page.locator("[data-test=held-order-no]", has_text=f"{pid}#2").wait_for()
    assert page.locator("[data-test=held-order-no]", has_text=pid).count() == 2
    shot(page, "split-03-queue-after-split")

    with server.api() as api:
        part = api.get("/api/v1/orders", params={"platform_order_id": f"{pid}#2"}).json()["items"][0]
        part_detail = api.get(f"/api/v1/orders/{part['id']}").json()
        original = api.get(f"/api/v1/orders/{order['id']}").json()
        audit = api.get("/api/v1/audit", params={"action": "fulfilment.split"}).json()["items"]
    assert part_detail["parent_order_id"] == order["id"]
    assert [line["line_no"] for line in part_detail["lines"]] == [2]
    assert part_detail["fulfilment"]["stage"] == "held" and original["fulfilment"]["stage"] == "held"
    assert len(original["lines"]) == 1
    assert any(r["target"] == f"order:{order['id']}" and r["detail"]["note"] == "UI 测试拆单" for r in audit)

    # the part's own page: 拆分自 the original, which is in its parts list; the timeline says how
    page.goto(f"/orders/{part['id']}")
    detail = page.locator("[data-test=order-detail]")
    detail.locator("[data-test=timeline]").wait_for()
    split_from = detail.locator("[data-test=split-from]")
    assert "拆分自" in split_from.inner_text() and pid in split_from.inner_text()
    parts = detail.locator("[data-test=split-parts]")
    assert parts.locator("[data-test=part-link]").all_inner_texts() == [pid]
    assert "原订单" in parts.inner_text() and "已占库存" in parts.inner_text()
    timeline = detail.locator("[data-test=timeline]").inner_text()
    assert "由原订单拆出" in timeline and "人工拆单" in timeline and pid in timeline
    # a single line is left: no 拆单 here
    assert detail.locator("[data-test=detail-split]").count() == 0
    shot(page, "split-04-part-detail")

    # the link leads to the original, which lists the part
    split_from.locator("[data-test=parent-link]").click()
    page.wait_for_url(f"**/orders/{order['id']}")
    page.wait_for_function("no => document.querySelector('[data-test=detail-order-no]')?.innerText.trim() === no",
                           arg=pid)
    expect(detail.locator("[data-test=split-from]")).to_have_count(0)  # (the tag fades out)
    expect(detail.locator("[data-test=split-parts] [data-test=part-link]")).to_have_text([f"{pid}#2"])
    expect(detail.locator("[data-test=timeline]")).to_contain_text(f"拆出 {pid}#2（1 个商品）")
    shot(page, "split-05-original-detail")
