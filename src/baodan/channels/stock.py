"""What each shop may sell: the quantity pushed to its platform. Sellable is not on hand:

    pool(shop, sku)     = Σ over the shop's warehouses (default + fallbacks) of max(0, on hand − reserved − safety)
    sellable(shop, sku) = min(cap, ⌊(pool − Σ set_aside of the other shops) × percent / 100⌋), at least 0

By default there is one shared pool (no `channel_allocation` row: percent 100, no cap, nothing set aside).
A merchant may give a shop a share (`percent`), a ceiling (`cap`), or units kept for it alone
(`set_aside`, which the other shops do not see). A bundle (组合装) is sellable as often as its scarcest
component allows: min over components of ⌊sellable(component) / qty⌋.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from baodan.core.db import fetchall, read_json


@dataclass(frozen=True, slots=True)
class Listing:
    """A platform SKU of a shop, mapped to a BaoDan SKU."""

    shop_id: int
    platform_sku_id: str
    sku_id: int
    platform_product_id: str | None


def listings(s: Any, *, shop_ids: Collection[int], sku_ids: Collection[int] | None = None) -> list[Listing]:
    """The mapped platform SKUs of these shops; with `sku_ids`, only those whose SKU is one of them or a
    bundle containing one of them."""
    if not shop_ids:
        return []
    shops = ", ".join("?" * len(shop_ids))
    sql = (f"SELECT shop_id, platform_sku_id, sku_id, platform_product_id FROM sku_mapping "
           f"WHERE shop_id IN ({shops})")
    params: list[Any] = sorted(shop_ids)
    if sku_ids is not None:
        if not sku_ids:
            return []
        marks = ", ".join("?" * len(sku_ids))
        sql += (f" AND (sku_id IN ({marks}) OR sku_id IN (SELECT bundle_sku_id FROM bundle_component "
                f"WHERE component_sku_id IN ({marks})))")
        params += sorted(sku_ids) * 2
    return [Listing(int(a), b, int(c), d) for a, b, c, d in fetchall(s, sql + " ORDER BY shop_id, platform_sku_id",
                                                                      params)]


def sellable(s: Any, items: Collection[Listing]) -> dict[tuple[int, str], int]:
    """Sellable quantity per (shop id, platform SKU id)."""
    if not items:
        return {}
    skus = {i.sku_id for i in items}
    parts = _components(s, skus)
    plain = {c for i in items for c, _ in parts.get(i.sku_id, [(i.sku_id, 1)])}
    marks = ", ".join("?" * len(plain))
    free: dict[tuple[int, int], int] = {
        (int(sku), int(wh)): max(0, int(v)) for sku, wh, v in fetchall(
            s, f"SELECT sku_id, warehouse_id, on_hand - reserved - safety_stock FROM stock_level "
               f"WHERE sku_id IN ({marks})", sorted(plain))}
    shop_ids = sorted({i.shop_id for i in items})
    warehouses = _shop_warehouses(s, shop_ids)
    allocations = _allocations(s, plain)
    out: dict[tuple[int, str], int] = {}
    for item in items:
        counts = []
        for component, qty in parts.get(item.sku_id, [(item.sku_id, 1)]):
            pool = sum(free.get((component, w), 0) for w in warehouses.get(item.shop_id, ()))
            counts.append(_share(pool, item.shop_id, allocations.get(component, {})) // qty)
        out[(item.shop_id, item.platform_sku_id)] = max(0, min(counts))
    return out


def _share(pool: int, shop_id: int, rows: dict[int, tuple[int | None, int | None, int | None]]) -> int:
    percent, cap, _ = rows.get(shop_id, (None, None, None))
    kept_for_others = sum(aside or 0 for other, (_, _, aside) in rows.items() if other != shop_id)
    share = max(0, pool - kept_for_others) * (100 if percent is None else percent) // 100
    return share if cap is None else min(share, cap)


def _components(s: Any, sku_ids: Collection[int]) -> dict[int, list[tuple[int, int]]]:
    marks = ", ".join("?" * len(sku_ids))
    parts: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for bundle, component, qty in fetchall(s, f"SELECT bundle_sku_id, component_sku_id, qty FROM bundle_component "
                                              f"WHERE bundle_sku_id IN ({marks})", sorted(sku_ids)):
        parts[int(bundle)].append((int(component), int(qty)))
    return parts


def _shop_warehouses(s: Any, shop_ids: list[int]) -> dict[int, tuple[int, ...]]:
    marks = ", ".join("?" * len(shop_ids))
    out = {}
    for shop_id, default, fallbacks in fetchall(s, f"SELECT id, default_warehouse_id, fallback_warehouse_ids "
                                                   f"FROM shop WHERE id IN ({marks})", shop_ids):
        ordered = ([default] if default is not None else []) + list(read_json(fallbacks) or [])
        out[int(shop_id)] = tuple(dict.fromkeys(int(w) for w in ordered))
    return out


def _allocations(s: Any, sku_ids: Collection[int]) -> dict[int, dict[int, tuple[int | None, int | None, int | None]]]:
    marks = ", ".join("?" * len(sku_ids))
    out: dict[int, dict[int, tuple[int | None, int | None, int | None]]] = defaultdict(dict)
    for sku_id, shop_id, percent, cap, aside in fetchall(
            s, f"SELECT sku_id, shop_id, percent, cap, set_aside FROM channel_allocation WHERE sku_id IN ({marks})",
            sorted(sku_ids)):
        out[int(sku_id)][int(shop_id)] = (percent, cap, aside)
    return out
