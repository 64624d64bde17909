"""The order list at live-session scale: the backend pages, the browser keeps a virtual table. The orders
API is answered here with synthetic pages (the real server still serves the console, the session and the
lookups), so the test can walk a result far larger than the demo data: BAODAN_UI_SCROLL_ORDERS orders
(default 10,000 in CI; 300,000 for the figure in the README). Writes its figures to
test-artifacts/ui/order-list-scale.json."""

from __future__ import annotations

import json
import os
import re
import statistics
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.ui.conftest import ARTIFACTS, Server, login, shot

ORDERS = int(os.environ.get("BAODAN_UI_SCROLL_ORDERS", "10000"))
T0 = 1_764_000_000  # epoch seconds of the newest synthetic order


def _order(order_id: int) -> dict[str, Any]:
    paid = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0 - (ORDERS - order_id)))
    return {
        "id": order_id, "channel": "douyin", "shop_id": 1, "platform_order_id": f"69{order_id:015d}",
        "platform_status": "paid", "platform_updated_at": paid,
        "state": "reserved" if order_id % 7 else "awaiting_stock",
        "anomalies": [] if order_id % 50 else ["amount_mismatch"], "short_sku_ids": [], "created_at": paid,
        "paid_at": paid, "buyer_nick": f"用户{order_id}", "goods_total_fen": 4990 + order_id % 1000,
        "receiver": {"name": "张*", "phone": f"138****{order_id % 10000:04d}", "province": "浙江省", "city": "杭州市",
                     "district": "西湖区", "address": "文三路****"},
        "shipping_fee_fen": 0, "discount_fen": 0, "paid_total_fen": 4990 + order_id % 1000, "live_room_id": None,
        "live_session_id": None, "warehouse_id": 1, "reserved_at": paid, "ingested_at": paid, "updated_at": paid,
    }


def _page(url: str) -> dict[str, Any]:
    """GET /api/v1/orders as the backend answers it: newest first, `cursor` = last id of the page before."""
    query = parse_qs(urlparse(url).query)
    limit = int(query.get("limit", ["50"])[0])
    top = int(query["cursor"][0]) - 1 if "cursor" in query else ORDERS
    ids = list(range(top, max(top - limit, 0), -1))
    return {"items": [_order(i) for i in ids], "next_cursor": str(ids[-1]) if ids and ids[-1] > 1 else None}


def test_the_order_list_walks_a_large_result_page_by_page_in_a_virtual_table(browser, server: Server) -> None:
    context = browser.new_context(base_url=server.url, viewport={"width": 1440, "height": 900}, locale="zh-CN")
    context.set_default_timeout(30_000)
    page = context.new_page()
    served: list[float] = []

    def answer(route: Any) -> None:
        started = time.perf_counter()
        body = json.dumps(_page(route.request.url), ensure_ascii=False)
        served.append(time.perf_counter() - started)
        route.fulfill(status=200, content_type="application/json", body=body)

    try:
        page.route(re.compile(r"/api/v1/orders\?"), answer)
        login(page)
        page.goto("/orders")
        page.wait_for_selector("[data-test=order-no]")
        table = page.locator("[data-test=order-table]").bounding_box()
        assert table
        page.mouse.move(table["x"] + 300, table["y"] + 200)
        first_frames = _frames_while_scrolling(page, down=True)
        loaded = _loaded(page)
        started = time.perf_counter()
        page_s: list[float] = []
        while loaded < ORDERS:
            before = time.perf_counter()
            page.mouse.wheel(0, 10**7)  # to the end of what is loaded: the next page is fetched
            page.wait_for_function("n => Number(document.querySelector('[data-test=loaded-count]')"
                                   ".innerText.match(/\\d+/)[0]) > n", arg=loaded)
            loaded = _loaded(page)
            page_s.append(time.perf_counter() - before)
        walk_s = time.perf_counter() - started
        assert loaded == ORDERS
        assert page.inner_text("[data-test=loaded-count]").startswith(f"已加载 {ORDERS} 条")

        frames = _frames_while_scrolling(page, down=False)
        rendered = page.locator("[data-test=order-table] .el-table-v2__row").count()
        heap = page.evaluate("() => performance.memory ? performance.memory.usedJSHeapSize : null")
        assert rendered < 80, rendered  # only the rows on screen are in the DOM, whatever the total
        first_pages, last_pages = statistics.median(page_s[:10]), statistics.median(page_s[-10:])
        figures = {
            "orders": ORDERS, "pages": len(served), "walk_s": round(walk_s, 1),
            "page_ms_first_10": round(first_pages * 1000), "page_ms_last_10": round(last_pages * 1000),
            "frame_ms_median_first_page": round(statistics.median(first_frames), 1),
            "frame_ms_p95_first_page": round(_p95(first_frames), 1),
            "frame_ms_median_all_loaded": round(statistics.median(frames), 1),
            "frame_ms_p95_all_loaded": round(_p95(frames), 1),
            "rows_in_dom": rendered, "js_heap_mb": round(heap / 2**20, 1) if heap else None,
        }
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "order-list-scale.json").write_text(json.dumps(figures, indent=2))
        print(f"\norder list scale: {figures}")
        shot(page, "16-orders-scrolled-large")
        # Scrolling with every order loaded is as smooth as with the first page (the headless software
        # renderer on a busy CI box has slow frames either way; compare, do not trust absolute figures),
        # and fetching a page does not slow down as the list grows.
        assert statistics.median(frames) <= 2 * statistics.median(first_frames) + 10, figures
        assert last_pages <= 3 * first_pages + 0.3, figures
    finally:
        context.close()


def _loaded(page: Any) -> int:
    text = page.inner_text("[data-test=loaded-count]")
    return int(re.search(r"\d[\d,]*", text).group(0).replace(",", ""))  # type: ignore[union-attr]


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def _frames_while_scrolling(page: Any, *, down: bool) -> list[float]:
    """Frame intervals (ms) while the wheel scrolls the list by 60 steps of 600 px."""
    page.evaluate("""() => { window.__frames = []; let last = performance.now();
        const tick = (now) => { window.__frames.push(now - last); last = now;
                                if (window.__frames.length < 100000) window.__raf = requestAnimationFrame(tick); };
        window.__raf = requestAnimationFrame(tick); }""")
    for _ in range(60):
        page.mouse.wheel(0, 600 if down else -600)
        page.wait_for_timeout(16)
    frames = page.evaluate("() => { cancelAnimationFrame(window.__raf); return window.__frames.slice(1); }")
    assert len(frames) > 20, frames
    return frames
