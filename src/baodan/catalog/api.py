"""HTTP routes of the catalog: shops, warehouses, products, SKUs and bundles, SKU mappings, live sessions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from baodan.catalog import schemas, services
from baodan.catalog.errors import CatalogNotFound
from baodan.catalog.tables import live_session, product, shop, sku, sku_mapping, warehouse
from baodan.core.http import Cursor, IdPath, runtime_of
from baodan.identity.accounts import Principal
from baodan.identity.http import client_ip, principal_of, require
from baodan.identity.scope import Scope

router = APIRouter(tags=["catalog"])
Rt = Annotated[Any, Depends(runtime_of)]
READ = [Depends(require("catalog.read"))]
WRITE = [Depends(require("catalog.write"))]  # the permission each route needs
Me = Annotated[Principal, Depends(principal_of)]
Limit = Annotated[int, Query(ge=1, le=500)]
After = Cursor


def _page(rt: Any, table: Any, after: int | None, limit: int, *conds: Any) -> list[dict[str, Any]]:
    query = select(table).where(*conds).order_by(table.c.id).limit(limit)
    if after is not None:
        query = query.where(table.c.id > after)
    with rt.db.read() as s:
        return [r._asdict() for r in s.execute(query)]


def _one(rt: Any, table: Any, item_id: int, noun: str, *conds: Any) -> dict[str, Any]:
    with rt.db.read() as s:
        row = s.execute(select(table).where(table.c.id == item_id, *conds)).one_or_none()
    if row is None:
        raise CatalogNotFound(f"no {noun} {item_id}")
    return row._asdict()


@router.post("/warehouses", dependencies=WRITE, status_code=201, response_model=schemas.WarehouseRead)
def create_warehouse(body: schemas.WarehouseCreate, rt: Rt, me: Me, request: Request) -> Any:
    return services.create_warehouse(rt.db, data=body, actor=me.actor, ip=client_ip(request))


@router.patch("/warehouses/{warehouse_id}", dependencies=WRITE, response_model=schemas.WarehouseRead)
def update_warehouse(warehouse_id: IdPath, body: schemas.WarehouseUpdate, rt: Rt, me: Me, request: Request) -> Any:
    """Change a warehouse's name, priority or active flag (fields left out are kept). Audited."""
    _one(rt, warehouse, warehouse_id, "warehouse", Scope.of(me).warehouses(warehouse.c.id))
    return services.update_warehouse(rt.db, warehouse_id=warehouse_id, data=body, actor=me.actor, ip=client_ip(request))


@router.get("/warehouses", dependencies=READ, response_model=list[schemas.WarehouseRead])
def list_warehouses(rt: Rt, me: Me, after: After = None, limit: Limit = 100) -> Any:
    return _page(rt, warehouse, after, limit, Scope.of(me).warehouses(warehouse.c.id))


@router.get("/warehouses/{warehouse_id}", dependencies=READ, response_model=schemas.WarehouseRead)
def get_warehouse(warehouse_id: IdPath, rt: Rt, me: Me) -> Any:
    return _one(rt, warehouse, warehouse_id, "warehouse", Scope.of(me).warehouses(warehouse.c.id))


@router.post("/shops", dependencies=WRITE, status_code=201, response_model=schemas.ShopRead)
def create_shop(body: schemas.ShopCreate, rt: Rt, me: Me, request: Request) -> Any:
    return services.create_shop(rt.db, data=body, actor=me.actor, ip=client_ip(request))


@router.patch("/shops/{shop_id}", dependencies=WRITE, response_model=schemas.ShopRead)
def update_shop(shop_id: IdPath, body: schemas.ShopUpdate, rt: Rt, me: Me, request: Request) -> Any:
    """Change a shop's name, platform shop id, warehouses or active flag (fields left out are kept). Audited."""
    _one(rt, shop, shop_id, "shop", Scope.of(me).shops(shop.c.id))
    return services.update_shop(rt.db, shop_id=shop_id, data=body, actor=me.actor, ip=client_ip(request))


@router.get("/shops", dependencies=READ, response_model=list[schemas.ShopRead])
def list_shops(rt: Rt, me: Me, after: After = None, limit: Limit = 100) -> Any:
    return _page(rt, shop, after, limit, Scope.of(me).shops(shop.c.id))


@router.get("/shops/{shop_id}", dependencies=READ, response_model=schemas.ShopRead)
def get_shop(shop_id: IdPath, rt: Rt, me: Me) -> Any:
    return _one(rt, shop, shop_id, "shop", Scope.of(me).shops(shop.c.id))


@router.put("/shops/{shop_id}/sku-mappings", dependencies=WRITE, response_model=dict[str, int])
def put_sku_mappings(shop_id: IdPath, body: Annotated[list[schemas.SkuMappingItem], ...], rt: Rt, me: Me,
                     request: Request) -> Any:
    """Map the shop's platform SKU ids to SKUs (upsert; sending the same list again changes nothing)."""
    _one(rt, shop, shop_id, "shop", Scope.of(me).shops(shop.c.id))
    return {"written": services.map_platform_skus(rt.db, shop_id=shop_id, items=body, actor=me.actor,
                                                  ip=client_ip(request))}


@router.get("/shops/{shop_id}/sku-mappings", dependencies=READ, response_model=list[schemas.SkuMappingRead])
def list_sku_mappings(shop_id: IdPath, rt: Rt, me: Me, limit: Limit = 500) -> Any:
    _one(rt, shop, shop_id, "shop", Scope.of(me).shops(shop.c.id))
    with rt.db.read() as s:
        return [r._asdict() for r in s.execute(
            select(sku_mapping.c.shop_id, sku_mapping.c.platform_sku_id, sku_mapping.c.sku_id,
                   sku.c.code.label("sku_code"), sku_mapping.c.platform_product_id)
            .join(sku, sku.c.id == sku_mapping.c.sku_id)
            .where(sku_mapping.c.shop_id == shop_id).order_by(sku_mapping.c.platform_sku_id).limit(limit))]


@router.post("/products", dependencies=WRITE, status_code=201, response_model=schemas.ProductRead)
def create_product(body: schemas.ProductCreate, rt: Rt) -> Any:
    return services.create_product(rt.db, data=body)


@router.get("/products", dependencies=READ, response_model=list[schemas.ProductRead])
def list_products(rt: Rt, after: After = None, limit: Limit = 100) -> Any:
    return _page(rt, product, after, limit)


@router.post("/skus", dependencies=WRITE, status_code=201, response_model=schemas.SkuRead)
def create_sku(body: schemas.SkuCreate, rt: Rt) -> Any:
    """Create a SKU; give `components` to make a bundle (组合装)."""
    return services.create_sku(rt.db, data=body)


@router.patch("/skus/{sku_id}", dependencies=WRITE, response_model=schemas.SkuRead)
def update_sku(sku_id: IdPath, body: schemas.SkuUpdate, rt: Rt) -> Any:
    """Change a SKU's name, product, barcode, price, weight or active flag (fields left out are kept); its
    code and a bundle's components stay."""
    return services.update_sku(rt.db, sku_id=sku_id, data=body)


@router.get("/skus", dependencies=READ, response_model=list[schemas.SkuRead])
def list_skus(rt: Rt, after: After = None, limit: Limit = 100, code: str | None = None) -> Any:
    return _page(rt, sku, after, limit, *([sku.c.code == code] if code else []))


@router.get("/skus/{sku_id}", dependencies=READ, response_model=schemas.SkuRead)
def get_sku(sku_id: IdPath, rt: Rt) -> Any:
    with rt.db.read() as s:
        return services.get_sku(s, sku_id)


@router.post("/live-sessions", dependencies=WRITE, status_code=201, response_model=schemas.LiveSessionRead)
def create_live_session(body: schemas.LiveSessionCreate, rt: Rt) -> Any:
    """Start (or record) a live session (直播场次); orders paid during it are attributed to it."""
    return services.create_live_session(rt.db, data=body)


@router.post("/live-sessions/{session_id}/end", dependencies=WRITE, response_model=schemas.LiveSessionRead)
def end_live_session(session_id: IdPath, body: schemas.LiveSessionEnd, rt: Rt) -> Any:
    return services.end_live_session(rt.db, session_id=session_id, ended_at=body.ended_at)


@router.get("/live-sessions", dependencies=READ, response_model=list[schemas.LiveSessionRead])
def list_live_sessions(rt: Rt, me: Me, after: After = None, limit: Limit = 100) -> Any:
    return _page(rt, live_session, after, limit, Scope.of(me).shops(live_session.c.shop_id))
