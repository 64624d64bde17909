"""HTTP routes of inventory: levels, adjustments (idempotent), safety stock, ledger."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from sqlalchemy import select

from baodan.catalog.tables import sku, warehouse
from baodan.core.http import Cursor, runtime_of
from baodan.identity.accounts import Principal
from baodan.identity.http import principal_of, require
from baodan.identity.scope import Scope
from baodan.inventory import queries, schemas, services
from baodan.inventory.errors import UnknownStockLevel
from baodan.inventory.model import MoveKind

router = APIRouter(tags=["inventory"])
Rt = Annotated[Any, Depends(runtime_of)]
READ = [Depends(require("stock.read"))]
ADJUST = [Depends(require("stock.adjust"))]
Me = Annotated[Principal, Depends(principal_of)]  # the permission each route needs


@router.get("/stock", dependencies=READ, response_model=list[schemas.StockLevelRow])
def list_stock(rt: Rt, me: Me, sku: str | None = None, warehouse: str | None = None,
               after_sku_id: Cursor = None,
               after_warehouse_id: Cursor = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Any:
    """Levels per SKU × warehouse: on hand, reserved, available (= on hand − reserved)."""
    after = (after_sku_id, after_warehouse_id or 0) if after_sku_id is not None else None
    with rt.db.read() as s:
        return queries.stock_levels(s, sku_code=sku, warehouse_code=warehouse, after=after, limit=limit,
                                    scope=Scope.of(me))


@router.post("/stock/adjustments", dependencies=ADJUST, response_model=schemas.StockLevelRead)
def adjust(body: schemas.AdjustmentRequest, rt: Rt, me: Me, request: Request,
           idempotency_key: Annotated[str | None, Header(max_length=100)] = None) -> Any:
    """Adjust or receive stock. Send an `Idempotency-Key` header: a repeated key changes nothing."""
    sku_id, warehouse_id = _ids(rt, body.sku, body.warehouse, Scope.of(me))
    level = services.adjust_stock(rt.db, sku_id=sku_id, warehouse_id=warehouse_id, delta=body.delta,
                                  set_to=body.set_to, kind=MoveKind(body.kind), reason=body.reason, actor=me.actor,
                                  idempotency_key=idempotency_key, ip=request.client.host if request.client else None)
    return level


@router.put("/stock/safety-stock", dependencies=ADJUST, response_model=schemas.StockLevelRead)
def set_safety_stock(body: schemas.SafetyStockRequest, rt: Rt, me: Me, request: Request) -> Any:
    """Set a level's safety stock: units kept back from what the platforms may sell. Audited; sending the
    same value again changes nothing."""
    sku_id, warehouse_id = _ids(rt, body.sku, body.warehouse, Scope.of(me))
    return services.set_safety_stock(rt.db, sku_id=sku_id, warehouse_id=warehouse_id, safety_stock=body.safety_stock,
                                     actor=me.actor, ip=request.client.host if request.client else None)


@router.get("/stock/moves", dependencies=READ, response_model=list[schemas.StockMoveRead])
def list_moves(rt: Rt, me: Me, sku: str, warehouse: str | None = None,
               before_id: Cursor = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Any:
    """The ledger of one SKU, newest first."""
    sku_id, warehouse_id = _ids(rt, sku, warehouse, Scope.of(me))
    with rt.db.read() as s:
        return queries.stock_moves(s, sku_id=sku_id, warehouse_id=warehouse_id, before_id=before_id, limit=limit,
                                   scope=Scope.of(me))


def _ids(rt: Any, sku_code: str, warehouse_code: str | None, scope: Scope) -> tuple[int, Any]:
    with rt.db.read() as s:
        sku_id = s.scalar(select(sku.c.id).where(sku.c.code == sku_code))
        warehouse_id = s.scalar(select(warehouse.c.id).where(warehouse.c.code == warehouse_code)) \
            if warehouse_code else None
    if sku_id is None:
        raise UnknownStockLevel(f"no SKU {sku_code!r}", details={"sku": sku_code})
    if warehouse_code and (warehouse_id is None or not scope.has_warehouse(warehouse_id)):
        raise UnknownStockLevel(f"no warehouse {warehouse_code!r}", details={"warehouse": warehouse_code})
    return sku_id, warehouse_id
