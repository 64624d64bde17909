"""What each shop may sell (channels.stock): on hand − reserved − safety over the shop's warehouses, one
shared pool by default, optional share / ceiling / set-aside per shop, bundles by their scarcest part."""

from __future__ import annotations

from typing import Any

from baodan.catalog import schemas as catalog_schemas
from baodan.catalog import services as catalog
from baodan.channels import stock
from baodan.core import clock
from baodan.core.db import db_time, dialect_of, execute
from baodan.inventory import services as inventory
from baodan.inventory.model import MoveKind
from tests.helpers import drain, make_catalog, order, submit


def _sellable(db: Any, shop_ids: list[int]) -> dict[tuple[int, str], int]:
    with db.read() as s:
        return stock.sellable(s, stock.listings(s, shop_ids=shop_ids))


def _allocate(db: Any, sku_id: int, shop_id: int, *, percent: int | None = None, cap: int | None = None,
              set_aside: int | None = None) -> None:
    with db.write() as s:
        execute(s, "INSERT INTO channel_allocation (sku_id, shop_id, percent, cap, set_aside, updated_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)", (sku_id, shop_id, percent, cap, set_aside,
                                                 db_time(dialect_of(s), clock.utcnow())))


def _second_shop(db: Any, ids: dict[str, int], code: str = "SHOP-B", warehouses: tuple[str, ...] = ("WH1",),
                 skus: tuple[str, ...] = ("A", "B", "AB")) -> int:
    shop_id = catalog.create_shop(db, data=catalog_schemas.ShopCreate(
        code=code, name=code, channel="kuaishou", default_warehouse=warehouses[0],
        fallback_warehouses=list(warehouses[1:])))["id"]
    catalog.map_platform_skus(db, shop_id=shop_id, items=[
        catalog_schemas.SkuMappingItem(platform_sku_id=f"P-{c}", sku=c) for c in skus])
    return shop_id


def test_sellable_is_on_hand_less_reserved_and_safety_over_the_shops_warehouses(runtime, db) -> None:
    ids = make_catalog(db, skus={"A": 10, "B": 4}, warehouses=("WH1", "WH2", "WH3"),
                       bundles={"AB": [("A", 2), ("B", 1)]})
    inventory.adjust_stock(db, sku_id=ids["A"], warehouse_id=ids["WH2"], delta=5, kind=MoveKind.receipt)
    with db.write() as s:
        execute(s, "UPDATE stock_level SET safety_stock = 2 WHERE sku_id = ? AND warehouse_id = ?",
                (ids["A"], ids["WH1"]))
    submit(runtime, order("o1", [("A", 3)]))
    drain(runtime)
    only_wh1 = _second_shop(db, ids)
    got = _sellable(db, [ids["SHOP-A"], only_wh1])
    # SHOP-A sells from WH1, WH2 and WH3: A = (10 − 3 − 2) + 5; B = 4; AB = min(10 // 2, 4 // 1)
    assert got[(ids["SHOP-A"], "P-A")] == 10 and got[(ids["SHOP-A"], "P-B")] == 4 and got[(ids["SHOP-A"], "P-AB")] == 4
    assert got[(only_wh1, "P-A")] == 5 and got[(only_wh1, "P-AB")] == 2  # WH1 only: AB = min(5 // 2, 4)


def test_oversold_or_negative_levels_never_push_a_negative_quantity(runtime, db) -> None:
    ids = make_catalog(db, skus={"A": 1})
    with db.write() as s:
        execute(s, "UPDATE stock_level SET safety_stock = 5")
    assert _sellable(db, [ids["SHOP-A"]])[(ids["SHOP-A"], "P-A")] == 0


def test_share_ceiling_and_set_aside_per_shop(runtime, db) -> None:
    ids = make_catalog(db, skus={"A": 100, "B": 0})
    b = _second_shop(db, ids, skus=("A",))
    c = _second_shop(db, ids, code="SHOP-C", skus=("A",))
    assert {_sellable(db, [ids["SHOP-A"], b, c])[(s, "P-A")] for s in (ids["SHOP-A"], b, c)} == {100}  # one pool
    _allocate(db, ids["A"], b, percent=30)
    _allocate(db, ids["A"], c, cap=25, set_aside=20)
    got = _sellable(db, [ids["SHOP-A"], b, c])
    assert got[(ids["SHOP-A"], "P-A")] == 80  # the 20 kept for C are not A's to sell
    assert got[(b, "P-A")] == 24  # 30% of (100 − 20)
    assert got[(c, "P-A")] == 25  # C's own 20 count for C; its ceiling is 25

