"""仓库作业 in chromium: with a carrier account at the simulator's 菜鸟 e-waybill service the demo's orders get
waybill numbers and reach "ready"; the warehouse screen builds waves, a wave shows its pick list, orders and
PDFs and is marked picked; then a parcel is packed with the scanner input (typed like a USB scanner, Enter
at the end): its waybill, a wrong barcode (refused, red), the right items, the weight, confirm → shipped.
An order cancelled on the platform after picking answers its waybill scan with 请放回."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from baodan.sim import Simulator, load_config
from tests.ui.conftest import Server, _wait, login, shot

WRONG_BARCODE = "6900000000001"


@pytest.fixture(scope="module")
def ready_orders(server: Server) -> Iterator[Simulator]:
    """A 菜鸟 (ZTO) account at an in-process simulator; waits until orders are ready to wave."""
    config = load_config(port=0)
    with Simulator(replace(config, platforms={"taobao": config.platforms["taobao"]})) as sim:
        creds = sim.simulation.carriers.credentials("cainiao")
        with server.api() as api:
            resp = api.post("/api/v1/carrier-accounts", json={
                "name": "ZTO-杭州仓", "adapter": "cainiao", "carrier_code": "ZTO", "app_key": creds.app_key,
                "base_url": f"{sim.url}/cainiao", "low_water": 300, "refill_batch": 100,
                "sender": {"name": "杭州仓", "phone": "13900000000", "province": "浙江省", "city": "杭州市",
                           "district": "余杭区", "address": "仓前街道 1 号"},
                "secrets": {"app_secret": creds.app_secret, "access_token": creds.access_token,
                            "extra": dict(creds.extra)}})
            assert resp.status_code == 201, resp.text
            _wait(lambda: api.get("/api/v1/fulfilment/summary").json()["stages"].get("ready", 0) >= 20, 120,
                  "orders to get waybill numbers")
        yield sim


def _pick(page: Any, select: str, option: str) -> None:
    page.click(f"[data-test={select}]")
    page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()


def _scan(page: Any, code: str) -> None:
    """What a USB scanner does: type into whatever has the focus, then Enter."""
    page.keyboard.type(code, delay=5)
    page.keyboard.press("Enter")


def _feedback(page: Any, tone: str, title: str | None = None) -> str:
    page.wait_for_selector(f"[data-test=feedback][data-tone={tone}]")
    if title is not None:
        page.wait_for_function("t => document.querySelector('[data-test=feedback-title]').innerText.includes(t)",
                               arg=title)
    return page.inner_text("[data-test=feedback]")


def _picked_wave(api: httpx.Client, parcels: int) -> dict[str, Any]:
    """A picked wave with at least `parcels` parcels left to pack (marking an open wave picked when needed)."""
    for status in ("picked", "open"):
        for wave in api.get("/api/v1/waves", params={"status": status}).json()["items"]:
            detail = api.get(f"/api/v1/waves/{wave['id']}").json()
            if sum(o["stage"] in ("waved", "picked") and bool(o["waybill_no"]) for o in detail["orders"]) >= parcels:
                if status == "open":
                    assert api.post(f"/api/v1/waves/{wave['id']}/picked").status_code == 200
                    detail = api.get(f"/api/v1/waves/{wave['id']}").json()
                return detail
    raise AssertionError(f"no wave with {parcels} parcels to pack")


def test_the_warehouse_builds_waves_and_a_wave_shows_its_pick_list(page, server: Server, ready_orders) -> None:
    login(page)
    page.goto("/warehouse")
    page.wait_for_selector("[data-test=stage-ready]")
    ready = int(page.inner_text("[data-test=stage-ready] .count").replace(",", ""))
    assert ready >= 20
    _pick(page, "warehouse-select", "杭州")
    page.click("[data-test=build-waves]")
    page.wait_for_selector(".el-message--success")
    assert "个波次" in page.inner_text(".el-message--success")
    page.wait_for_selector("[data-test=wave-id]")
    page.wait_for_function("() => document.querySelector('[data-test=stage-ready] .count').innerText.trim() !== '"
                           f"{ready:,}'")
    shot(page, "warehouse-waves")

    page.locator("[data-test=wave-id]").first.click()
    page.wait_for_selector("[data-test=pick-list] [data-test=pick-sku]")
    page.wait_for_selector("[data-test=wave-orders] [data-test=wave-order-no]")
    wave_id = int(page.url.rstrip("/").split("/")[-1])
    with server.api() as api:
        detail = api.get(f"/api/v1/waves/{wave_id}").json()
    shown = [s.strip() for s in page.locator("[data-test=pick-sku]").all_inner_texts()]
    assert shown == [line["sku_code"] for line in detail["lines"]]
    qty = [int(q) for q in page.locator("[data-test=pick-qty]").all_inner_texts()]
    assert qty == [line["qty"] for line in detail["lines"]]
    assert page.locator("[data-test=wave-order-no]").count() == len(detail["orders"])
    shot(page, "warehouse-wave")

    # the PDFs open in a new tab, signed in by the session cookie
    for button, path in (("labels-100x150", "labels.pdf?size=100x150"), ("labels-76x130", "labels.pdf?size=76x130"),
                         ("pick-list-pdf", "pick-list.pdf")):
        with page.context.expect_page() as opened:
            page.click(f"[data-test={button}]")
        tab = opened.value
        assert tab.url.endswith(f"/api/v1/waves/{wave_id}/{path}") or path in tab.url or tab.url == "about:blank"
        tab.close()
        status, kind, head = page.evaluate(
            "async url => { const r = await fetch(url); const b = new Uint8Array(await r.arrayBuffer());"
            " return [r.status, r.headers.get('content-type'), String.fromCharCode(...b.slice(0, 5))] }",
            f"/api/v1/waves/{wave_id}/{path}")
        assert (status, kind, head) == (200, "application/pdf", "%PDF-")

    page.click("[data-test=mark-picked]")
    page.locator(".el-message-box__btns .el-button--primary").click()
    page.wait_for_function("() => document.querySelector('[data-test=wave-status]').innerText.includes('已拣货')")
    assert page.locator("[data-test=mark-picked]").count() == 0

    # in English too
    page.click("[data-test=user-menu]")
    page.click("[data-test=locale-en]")
    page.wait_for_function("() => document.querySelector('[data-test=wave-status]').innerText.includes('Picked')")
    assert page.locator("[data-test=pick-list-pdf]").inner_text().strip() == "Pick list PDF"
    page.click("[data-test=user-menu]")
    page.click("[data-test=locale-zh-CN]")
    page.wait_for_function("() => document.querySelector('[data-test=wave-status]').innerText.includes('已拣货')")


def test_scan_to_pack_refuses_a_wrong_item_and_ships_a_complete_parcel(page, server: Server, ready_orders) -> None:
    with server.api() as api:
        wave = _picked_wave(api, 1)
        order = next(o for o in wave["orders"] if o["stage"] == "picked" and o["waybill_no"])
        parcel = api.post("/api/v1/pack/scan", json={"code": order["waybill_no"]}).json()  # read-only
    login(page)
    page.goto("/warehouse/pack")
    page.wait_for_selector("[data-test=feedback][data-tone=idle]")
    assert page.evaluate("document.activeElement.dataset.test") == "scan-input"

    _scan(page, order["waybill_no"])
    _feedback(page, "ok", order["waybill_no"])
    assert page.inner_text("[data-test=parcel-waybill]") == order["waybill_no"]

    _scan(page, WRONG_BARCODE)
    text = _feedback(page, "error", "扫错商品")
    assert WRONG_BARCODE in text and "还需要" in text  # the backend's message: what the parcel still needs
    page.wait_for_timeout(1100)  # the flash is over
    colour = page.eval_on_selector("[data-test=feedback]", "e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(220, 38, 38)"  # red
    shot(page, "pack-wrong-item")

    items = parcel["items"]
    for item in items:
        for _ in range(item["qty"] - item["scanned"]):
            _scan(page, item["barcode"] or item["sku_code"])
            _feedback(page, "ok")
    page.wait_for_function("() => document.querySelector('[data-test=feedback-title]').innerText.includes('商品已齐')")
    # one too many of the first item is refused
    _scan(page, items[0]["barcode"] or items[0]["sku_code"])
    _feedback(page, "error", "数量超出")
    shot(page, "pack-complete")

    page.fill("[data-test=weight]", "850")
    page.press("[data-test=weight]", "Enter")
    text = _feedback(page, "shipped", "已发货")
    assert order["waybill_no"] in text
    page.wait_for_function("() => document.activeElement && document.activeElement.dataset.test === 'scan-input'")
    shot(page, "pack-shipped")
    with server.api() as api:
        shipped = api.get(f"/api/v1/orders/{order['order_id']}").json()
    assert shipped["state"] == "shipped"
    assert [s["waybill_no"] for s in shipped["shipments"]] == [order["waybill_no"]]
    assert shipped["fulfilment"]["stage"] == "shipped"


def test_scan_to_pack_on_a_phone_and_an_intercepted_parcel_says_put_it_back(browser, server: Server,
                                                                           ready_orders) -> None:
    with server.api() as api:
        wave = _picked_wave(api, 2)
        picked = [o for o in wave["orders"] if o["stage"] == "picked" and o["waybill_no"]]
        to_pack, to_cancel = picked[0], picked[-1]
        _cancel_on_the_platform(api, to_cancel["order_id"])
        _wait(lambda: api.get(f"/api/v1/waves/{wave['id']}").json()["orders"][to_cancel["pick_seq"] - 1]["stage"]
              == "intercepted", 30, "the cancelled order to be intercepted")
    context = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  timezone_id="America/New_York", is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        login(page)
        page.goto("/warehouse/pack")
        page.wait_for_selector("[data-test=scan-input]")
        page.click("[data-test=scan-input]")
        _scan(page, to_pack["waybill_no"])
        _feedback(page, "ok", to_pack["waybill_no"])
        box = page.locator("[data-test=parcel-items]").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390  # fits the phone's width
        shot(page, "pack-phone")

        page.click("[data-test=next-parcel]")
        _scan(page, to_cancel["waybill_no"])
        text = _feedback(page, "error", "请放回")
        assert "已拦截" in text
        assert page.locator("[data-test=parcel]").count() == 0
        shot(page, "pack-phone-intercepted")
    finally:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def _cancel_on_the_platform(api: httpx.Client, order_id: int) -> None:
    """The platform pushes the order again as cancelled (same lines, a newer update time)."""
    order = api.get(f"/api/v1/orders/{order_id}").json()
    keys = ("platform_line_id", "platform_sku_id", "sku_code", "title", "quantity", "unit_price_fen", "discount_fen",
            "amount_fen")
    lines = [{k: line[k] for k in keys if line.get(k) is not None} for line in order["lines"]]
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    body = {"channel": order["channel"], "shop": _shop_code(api, order["shop_id"]),
            "platform_order_id": order["platform_order_id"], "status": "cancelled", "updated_at": now,
            "created_at": order["created_at"], "paid_at": order["paid_at"], "lines": lines,
            "goods_total_fen": order["goods_total_fen"], "shipping_fee_fen": order["shipping_fee_fen"],
            "discount_fen": order["discount_fen"], "paid_total_fen": order["paid_total_fen"]}
    resp = api.post("/api/v1/orders/batch", json={"orders": [{k: v for k, v in body.items() if v is not None}]})
    assert resp.status_code == 200, resp.text


def _shop_code(api: httpx.Client, shop_id: int) -> str:
    return str(api.get(f"/api/v1/shops/{shop_id}").json()["code"])
