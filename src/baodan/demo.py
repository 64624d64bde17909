"""Demo and benchmark catalog: warehouses, shops on three platforms, ~200 SKUs with stock, bundles,
platform SKU mappings and a live session. Everything goes through the same services users call."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, select

from baodan.catalog import schemas, services
from baodan.catalog.tables import shop, sku, sku_mapping
from baodan.core import clock
from baodan.core.db import Database
from baodan.inventory import services as inventory
from baodan.inventory.model import MoveKind

PRODUCTS = [
    ("玻尿酸补水面膜", ["10片装", "20片装", "30片装"], 4990),
    ("氨基酸洁面乳", ["120g", "200g"], 6900),
    ("烟酰胺精华液", ["30ml", "50ml"], 15900),
    ("防晒喷雾 SPF50", ["150ml", "2瓶装"], 8900),
    ("纯棉短袖T恤", ["S 白", "M 白", "L 白", "XL 白", "S 黑", "M 黑", "L 黑", "XL 黑"], 5900),
    ("高腰阔腿牛仔裤", ["25", "26", "27", "28", "29", "30"], 12900),
    ("坚果礼盒", ["750g", "1.5kg"], 9900),
    ("手工牛肉干", ["五香 250g", "麻辣 250g", "原味 250g"], 4590),
    ("即食燕窝", ["6瓶装", "12瓶装"], 29900),
    ("云南小粒咖啡豆", ["500g 中烘", "500g 深烘"], 7800),
    ("儿童保温杯", ["粉色 350ml", "蓝色 350ml", "粉色 500ml", "蓝色 500ml"], 6900),
    ("无线蓝牙耳机", ["白色", "黑色"], 19900),
    ("家用破壁机", ["1.75L", "2L"], 39900),
    ("竹纤维抽纸", ["24包整箱", "12包"], 3990),
    ("洗衣凝珠", ["52颗", "100颗"], 4990),
]
SHOPS = [("DY-FLAGSHIP", "抖音旗舰店", "douyin"), ("KS-STORE", "快手好物店", "kuaishou"),
         ("TB-STORE", "淘宝企业店", "taobao")]
WAREHOUSES = [("WH-HZ", "杭州主仓", 10), ("WH-GZ", "广州分仓", 20)]


@dataclass
class Catalog:
    shop_ids: dict[str, int] = field(default_factory=dict)  # code → id
    shop_channels: dict[str, str] = field(default_factory=dict)
    warehouse_ids: dict[str, int] = field(default_factory=dict)
    sku_codes: list[str] = field(default_factory=list)  # plain SKUs, sellable
    bundle_codes: list[str] = field(default_factory=list)
    prices: dict[str, int] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    on_hand: dict[tuple[str, str], int] = field(default_factory=dict)  # (sku code, warehouse code) → qty
    live_session_start: datetime | None = None


def seed_catalog(db: Database, *, sku_count: int = 200, stock: dict[str, int] | None = None,
                 default_stock: int = 500, secondary_stock: int = 0, seed: int = 7,
                 session_start: datetime | None = None) -> Catalog:
    """Create the demo catalog. `stock` overrides the main warehouse's stock of given SKU codes."""
    rng = random.Random(seed)
    cat = Catalog()
    for code, name, priority in WAREHOUSES:
        cat.warehouse_ids[code] = services.create_warehouse(
            db, data=schemas.WarehouseCreate(code=code, name=name, priority=priority))["id"]
    for code, name, channel in SHOPS:
        cat.shop_ids[code] = services.create_shop(db, data=schemas.ShopCreate(
            code=code, name=name, channel=channel, platform_shop_id=str(rng.randrange(10**7, 10**8)),
            default_warehouse="WH-HZ", fallback_warehouses=["WH-GZ"]))["id"]
        cat.shop_channels[code] = channel
    n = 0
    while n < sku_count:
        for p_index, (product_name, variants, price) in enumerate(PRODUCTS):
            if n >= sku_count:
                break
            product_code = f"P{p_index + 1:03d}"
            if n < len(PRODUCTS):
                services.create_product(db, data=schemas.ProductCreate(code=product_code, name=product_name))
            variant = variants[(n // len(PRODUCTS)) % len(variants)]
            batch = n // (len(PRODUCTS) * len(variants))
            code = f"{product_code}-{n + 1:04d}"
            title = f"{product_name} {variant}" + (f" 第{batch + 1}批" if batch else "")
            services.create_sku(db, data=schemas.SkuCreate(
                code=code, name=title, product=product_code, barcode=f"69{rng.randrange(10**10, 10**11)}",
                price_fen=price, weight_g=rng.choice([150, 300, 500, 800, 1200])))
            cat.sku_codes.append(code)
            cat.prices[code] = price
            cat.titles[code] = title
            n += 1
    for i in range(2):  # two bundles (组合装) of the first plain SKUs
        a, b = cat.sku_codes[3 + i * 2], cat.sku_codes[4 + i * 2]
        code = f"BUNDLE-{i + 1:02d}"
        services.create_sku(db, data=schemas.SkuCreate(
            code=code, name=f"组合装 {cat.titles[a]} + {cat.titles[b]}×2",
            price_fen=cat.prices[a] + 2 * cat.prices[b] - 1000,
            components=[schemas.BundlePart(sku=a, qty=1), schemas.BundlePart(sku=b, qty=2)]))
        cat.bundle_codes.append(code)
        cat.prices[code] = cat.prices[a] + 2 * cat.prices[b] - 1000
        cat.titles[code] = f"组合装{i + 1}"
    _map_platform_skus(db, cat)
    with db.read() as s:
        ids = dict(s.execute(select(sku.c.code, sku.c.id)).all())
    for code in cat.sku_codes:
        qty = (stock or {}).get(code, default_stock)
        for wh_code, wh_qty in (("WH-HZ", qty), ("WH-GZ", secondary_stock)):
            if wh_qty:
                inventory.adjust_stock(db, sku_id=ids[code], warehouse_id=cat.warehouse_ids[wh_code], delta=wh_qty,
                                       kind=MoveKind.receipt, reason="opening stock", actor="demo")
            cat.on_hand[(code, wh_code)] = wh_qty
    start = session_start or clock.utcnow().replace(microsecond=0) - timedelta(minutes=30)
    services.create_live_session(db, data=schemas.LiveSessionCreate(
        shop="DY-FLAGSHIP", title="双12预热专场", host="主播小美", room_id="7301234567890",
        started_at=start, featured_skus=cat.sku_codes[:3]))
    cat.live_session_start = start
    return cat


def platform_sku_id(shop_code: str, sku_code: str) -> str:
    """The id a platform shows for our SKU in the demo: stable per shop."""
    return f"{shop_code[:2]}-{sku_code}"


def platform_product_id(shop_code: str, sku_code: str) -> str:
    """The platform's product (item) id of a demo SKU: its product code (a bundle is a product of its own)."""
    return f"{shop_code[:2]}-{sku_code.split('-')[0] if not sku_code.startswith('BUNDLE') else sku_code}"


def _map_platform_skus(db: Database, cat: Catalog) -> None:
    now = clock.utcnow()
    with db.write() as s:
        ids = dict(s.execute(select(sku.c.code, sku.c.id)).all())
        shop_ids = dict(s.execute(select(shop.c.code, shop.c.id)).all())
        s.execute(insert(sku_mapping), [
            {"shop_id": shop_ids[shop_code], "platform_sku_id": platform_sku_id(shop_code, code),
             "platform_product_id": platform_product_id(shop_code, code), "sku_id": ids[code], "created_at": now}
            for shop_code in cat.shop_ids for code in cat.sku_codes + cat.bundle_codes])
