"""Read side of inventory: levels per SKU × warehouse and the ledger of moves."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select

from baodan.catalog.tables import sku, warehouse
from baodan.identity.scope import EVERYTHING, Scope
from baodan.inventory.tables import stock_level, stock_move


def stock_levels(s: Any, *, sku_code: str | None = None, warehouse_code: str | None = None,
                 after: tuple[int, int] | None = None, limit: int = 100,
                 scope: Scope = EVERYTHING) -> list[dict[str, Any]]:
    conds = [scope.warehouses(stock_level.c.warehouse_id)]
    if sku_code:
        conds.append(sku.c.code == sku_code)
    if warehouse_code:
        conds.append(warehouse.c.code == warehouse_code)
    if after:
        conds.append((stock_level.c.sku_id > after[0]) | and_(stock_level.c.sku_id == after[0],
                                                               stock_level.c.warehouse_id > after[1]))
    query = (select(stock_level.c.sku_id, sku.c.code.label("sku_code"), sku.c.name.label("sku_name"),
                    stock_level.c.warehouse_id, warehouse.c.code.label("warehouse_code"), stock_level.c.on_hand,
                    stock_level.c.reserved, (stock_level.c.on_hand - stock_level.c.reserved).label("available"),
                    stock_level.c.safety_stock, stock_level.c.updated_at)
             .join(sku, sku.c.id == stock_level.c.sku_id).join(warehouse, warehouse.c.id == stock_level.c.warehouse_id)
             .where(and_(True, *conds)).order_by(stock_level.c.sku_id, stock_level.c.warehouse_id).limit(limit))
    return [r._asdict() for r in s.execute(query)]


def stock_moves(s: Any, *, sku_id: int, warehouse_id: int | None = None, before_id: int | None = None,
                limit: int = 100, scope: Scope = EVERYTHING) -> list[dict[str, Any]]:
    conds = [stock_move.c.sku_id == sku_id, scope.warehouses(stock_move.c.warehouse_id)]
    if warehouse_id is not None:
        conds.append(stock_move.c.warehouse_id == warehouse_id)
    if before_id is not None:
        conds.append(stock_move.c.id < before_id)
    return [r._asdict() for r in s.execute(
        select(stock_move).where(and_(*conds)).order_by(stock_move.c.id.desc()).limit(limit))]
