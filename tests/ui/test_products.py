"""商品 in chromium: an unmapped platform SKU (from orders flagged unknown_sku) mapped in one step, a bundle
created with its components and a price in yuan, the product list."""

from __future__ import annotations

import uuid
from typing import Any

from tests.ui.conftest import Server, login, shot


def _pick(page: Any, select: str, typed: str) -> None:
    """Type into the filterable select marked data-test=`select` and choose the first option that matches."""
    page.click(f"[data-test={select}]")
    page.keyboard.type(typed)
    page.locator(".el-select-dropdown__item:visible", has_text=typed).first.click()


def test_an_unmapped_platform_sku_is_highlighted_and_mapped(page, server: Server) -> None:
    with server.api() as api:
        shop, waiting = next((s, w) for s in api.get("/api/v1/shops").json()
                             if (w := api.get(f"/api/v1/shops/{s['id']}/unmapped-skus").json()))
        sku = api.get("/api/v1/skus", params={"limit": 1}).json()[0]["code"]
    target = waiting[0]["platform_sku_id"]
    login(page)
    page.goto(f"/products?tab=mappings&shop={shop['id']}")
    page.wait_for_selector("[data-test=unmapped-id]")
    assert target in page.locator("[data-test=unmapped-id]").all_inner_texts()
    shot(page, "products-01-mappings-unmapped")
    row = page.locator("[data-test=unmapped-table] .el-table__row", has_text=target)
    row.locator("[data-test=unmapped-map]").click()
    assert page.input_value("[data-test=mapping-id-input]") == target
    _pick(page, "mapping-sku-select", sku)
    page.click("[data-test=mapping-save]")
    page.wait_for_selector(f"[data-test=mapping-id]:has-text('{target}')")
    assert target not in page.locator("[data-test=unmapped-id]").all_inner_texts()
    with server.api() as api:
        rows = api.get(f"/api/v1/shops/{shop['id']}/sku-mappings").json()
        mapped = {m["platform_sku_id"]: m["sku_code"] for m in rows}
        still = [u["platform_sku_id"] for u in api.get(f"/api/v1/shops/{shop['id']}/unmapped-skus").json()]
    assert mapped[target] == sku and target not in still
    shot(page, "products-02-mapped")


def test_a_bundle_is_created_with_its_components_and_a_price_in_yuan(page, server: Server) -> None:
    with server.api() as api:
        part = next(s for s in api.get("/api/v1/skus", params={"limit": 50}).json() if not s["is_bundle"])["code"]
    code = f"UI-BUNDLE-{uuid.uuid4().hex[:6].upper()}"
    login(page)
    page.goto("/products")
    page.wait_for_selector("[data-test=sku-code]")
    shot(page, "products-03-skus")
    page.click("[data-test=sku-add]")
    page.fill("[data-test=sku-code-input]", code)
    page.fill("[data-test=sku-name-input]", "界面组合装")
    page.fill("[data-test=sku-price-input]", "12.5")
    page.click("[data-test=sku-kind-bundle]")
    page.click("[data-test=part-add]")
    _pick(page, "part-sku-0", part)
    page.locator("[data-test=sku-parts] .el-input-number input").first.fill("2")
    page.locator("[data-test=sku-parts] .el-input-number input").first.press("Tab")
    shot(page, "products-04-new-bundle")
    page.click("[data-test=sku-save]")
    page.wait_for_selector(f"[data-test=sku-code]:has-text('{code}')")
    assert page.inner_text("[data-test=sku-price]").strip() == "¥12.50"
    assert page.inner_text("[data-test=sku-components]").strip() == f"{part} × 2"
    with server.api() as api:
        listed = api.get("/api/v1/skus", params={"code": code}).json()[0]
        created = api.get(f"/api/v1/skus/{listed['id']}").json()
    assert created["is_bundle"] and created["price_fen"] == 1250
    assert created["components"] == [{"sku": part, "qty": 2}]
    page.goto("/products?tab=products")
    page.wait_for_selector("[data-test=product-table]")
    shot(page, "products-05-products")
