"""Catalog use cases: create, change and read shops, warehouses, products, SKUs, bundles, mappings, live
sessions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from baodan.catalog import schemas
from baodan.catalog.errors import CatalogNotFound, DuplicateCode, InvalidBundle, InvalidReference
from baodan.catalog.tables import bundle_component, live_session, product, shop, sku, sku_mapping, warehouse
from baodan.core import clock
from baodan.core.db import Database
from baodan.identity import audit

# Shops, warehouses and SKU mappings are settings: they decide where orders ship from and what ships.
# Their changes are audited (who, from where, before/after); products and SKUs are catalog data.


def create_warehouse(db: Database, *, data: schemas.WarehouseCreate, actor: str = "system",
                     ip: str | None = None) -> dict[str, Any]:
    with _unique(f"warehouse {data.code!r} exists"), db.write() as s:
        row = s.execute(insert(warehouse).values(**data.model_dump(), created_at=clock.utcnow())
                        .returning(*warehouse.c)).one()
        audit.record(s, actor=actor, action="settings.warehouse_create", target=f"warehouse:{data.code}", ip=ip,
                     detail={"after": data.model_dump(mode="json")})
    return row._asdict()


def update_warehouse(db: Database, *, warehouse_id: int, data: schemas.WarehouseUpdate, actor: str = "system",
                     ip: str | None = None) -> dict[str, Any]:
    """Change a warehouse's name, priority or active flag (the fields sent; null ones are left out)."""
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    with db.write() as s:
        before = _row(s, warehouse, warehouse_id, "warehouse")
        row = _update(s, warehouse, warehouse_id, changes) if changes else before
        _audit_change(s, actor=actor, action="settings.warehouse_update", target=f"warehouse:{before['code']}",
                      ip=ip, before=before, after=row, fields=changes)
    return row


def create_shop(db: Database, *, data: schemas.ShopCreate, actor: str = "system",
                ip: str | None = None) -> dict[str, Any]:
    with _unique(f"shop {data.code!r} exists"), db.write() as s:
        default_id = _warehouse_id(s, data.default_warehouse) if data.default_warehouse else None
        fallback = [_warehouse_id(s, code) for code in data.fallback_warehouses]
        row = s.execute(insert(shop).values(
            code=data.code, name=data.name, channel=data.channel.value, platform_shop_id=data.platform_shop_id,
            default_warehouse_id=default_id, fallback_warehouse_ids=fallback, created_at=clock.utcnow(),
        ).returning(*shop.c)).one()
        audit.record(s, actor=actor, action="settings.shop_create", target=f"shop:{data.code}", ip=ip,
                     detail={"after": data.model_dump(mode="json")})
    return row._asdict()


def update_shop(db: Database, *, shop_id: int, data: schemas.ShopUpdate, actor: str = "system",
                ip: str | None = None) -> dict[str, Any]:
    """Change a shop's name, platform shop id, warehouses (by code) or active flag (the fields sent)."""
    sent = data.model_dump(exclude_unset=True)
    with db.write() as s:
        before = _row(s, shop, shop_id, "shop")
        changes: dict[str, Any] = {k: sent[k] for k in ("platform_shop_id",) if k in sent}
        changes |= {k: sent[k] for k in ("name", "active") if sent.get(k) is not None}
        if "default_warehouse" in sent:
            code = sent["default_warehouse"]
            changes["default_warehouse_id"] = _warehouse_id(s, code) if code else None
        if sent.get("fallback_warehouses") is not None:
            changes["fallback_warehouse_ids"] = [_warehouse_id(s, code) for code in sent["fallback_warehouses"]]
        row = _update(s, shop, shop_id, changes) if changes else before
        _audit_change(s, actor=actor, action="settings.shop_update", target=f"shop:{before['code']}", ip=ip,
                      before=before, after=row, fields=changes)
    return row


def create_product(db: Database, *, data: schemas.ProductCreate) -> dict[str, Any]:
    with _unique(f"product {data.code!r} exists"), db.write() as s:
        row = s.execute(insert(product).values(**data.model_dump(), created_at=clock.utcnow())
                        .returning(*product.c)).one()
    return row._asdict()


def create_sku(db: Database, *, data: schemas.SkuCreate) -> dict[str, Any]:
    """Create a SKU; with components it is a bundle (组合装) whose orders reserve the components."""
    with _unique(f"SKU {data.code!r} exists"), db.write() as s:
        product_id = None
        if data.product:
            product_id = s.scalar(select(product.c.id).where(product.c.code == data.product))
            if product_id is None:
                raise InvalidReference(f"no product {data.product!r}", details={"product": data.product})
        parts = _bundle_parts(s, data)
        sku_id = s.scalar(insert(sku).values(
            code=data.code, name=data.name, product_id=product_id, barcode=data.barcode,
            is_bundle=bool(parts), price_fen=data.price_fen, weight_g=data.weight_g, created_at=clock.utcnow(),
        ).returning(sku.c.id))
        if parts:
            s.execute(insert(bundle_component), [
                {"bundle_sku_id": sku_id, "component_sku_id": cid, "qty": qty} for cid, qty in parts])
        return get_sku(s, sku_id)


def update_sku(db: Database, *, sku_id: int, data: schemas.SkuUpdate) -> dict[str, Any]:
    """Change a SKU's name, product (by code), barcode, price, weight or active flag (the fields sent)."""
    sent = data.model_dump(exclude_unset=True)
    with db.write() as s:
        _row(s, sku, sku_id, "SKU")
        changes: dict[str, Any] = {k: sent[k] for k in ("barcode",) if k in sent}
        changes |= {k: sent[k] for k in ("name", "price_fen", "weight_g", "active") if sent.get(k) is not None}
        if "product" in sent:
            changes["product_id"] = None
            if sent["product"]:
                changes["product_id"] = s.scalar(select(product.c.id).where(product.c.code == sent["product"]))
                if changes["product_id"] is None:
                    raise InvalidReference(f"no product {sent['product']!r}", details={"product": sent["product"]})
        if changes:
            _update(s, sku, sku_id, changes)
        return get_sku(s, sku_id)


def get_sku(s: Session, sku_id: int) -> dict[str, Any]:
    row = s.execute(select(sku).where(sku.c.id == sku_id)).one_or_none()
    if row is None:
        raise CatalogNotFound(f"no SKU {sku_id}")
    out = row._asdict()
    out["components"] = [{"sku": code, "qty": qty} for code, qty in s.execute(
        select(sku.c.code, bundle_component.c.qty)
        .join(bundle_component, bundle_component.c.component_sku_id == sku.c.id)
        .where(bundle_component.c.bundle_sku_id == sku_id).order_by(sku.c.code))]
    return out


def map_platform_skus(db: Database, *, shop_id: int, items: Sequence[schemas.SkuMappingItem], actor: str = "system",
                      ip: str | None = None) -> int:
    """Upsert platform SKU → SKU mappings of one shop. Idempotent. Returns how many were written; what
    changed is audited (nothing, when the same list is sent again)."""
    now = clock.utcnow()
    with db.write() as s:
        if s.scalar(select(shop.c.id).where(shop.c.id == shop_id)) is None:
            raise CatalogNotFound(f"no shop {shop_id}")
        codes = {i.sku for i in items}
        ids = dict(s.execute(select(sku.c.code, sku.c.id).where(sku.c.code.in_(codes))).all())
        missing = sorted(codes - ids.keys())
        if missing:
            raise InvalidReference(f"unknown SKU code(s): {', '.join(missing[:10])}", details={"missing": missing})
        changes: list[dict[str, Any]] = []
        for item in items:
            values = {"shop_id": shop_id, "platform_sku_id": item.platform_sku_id, "sku_id": ids[item.sku],
                      "platform_product_id": item.platform_product_id, "created_at": now}
            existing = s.execute(select(sku_mapping.c.sku_id, sku_mapping.c.platform_product_id).where(
                sku_mapping.c.shop_id == shop_id, sku_mapping.c.platform_sku_id == item.platform_sku_id)).first()
            if existing is None:
                s.execute(insert(sku_mapping).values(**values))
                changes.append({"platform_sku_id": item.platform_sku_id, "before": None, "after": item.sku})
            elif tuple(existing) != (ids[item.sku], item.platform_product_id):
                s.execute(update(sku_mapping).where(
                    sku_mapping.c.shop_id == shop_id, sku_mapping.c.platform_sku_id == item.platform_sku_id
                ).values(sku_id=ids[item.sku], platform_product_id=item.platform_product_id))
                changes.append({"platform_sku_id": item.platform_sku_id, "before_sku_id": existing[0],
                                "after": item.sku})
        if changes:
            audit.record(s, actor=actor, action="settings.sku_mapping", target=f"shop:{shop_id}", ip=ip,
                         detail={"changes": changes[:500], "changed": len(changes)})
    return len(items)


def create_live_session(db: Database, *, data: schemas.LiveSessionCreate) -> dict[str, Any]:
    if data.ended_at is not None and data.ended_at <= data.started_at:
        raise InvalidReference("ended_at must be after started_at")
    with _unique("this shop already has a session starting then"), db.write() as s:
        shop_id = s.scalar(select(shop.c.id).where(shop.c.code == data.shop))
        if shop_id is None:
            raise InvalidReference(f"no shop {data.shop!r}")
        featured = dict(s.execute(select(sku.c.code, sku.c.id).where(sku.c.code.in_(data.featured_skus))).all())
        missing = sorted(set(data.featured_skus) - featured.keys())
        if missing:
            raise InvalidReference(f"unknown SKU code(s): {', '.join(missing[:10])}", details={"missing": missing})
        row = s.execute(insert(live_session).values(
            shop_id=shop_id, title=data.title, host=data.host, room_id=data.room_id,
            started_at=clock.as_utc(data.started_at),
            ended_at=clock.as_utc(data.ended_at) if data.ended_at else None,
            featured_sku_ids=[featured[c] for c in data.featured_skus], created_at=clock.utcnow(),
        ).returning(*live_session.c)).one()
    return row._asdict()


def end_live_session(db: Database, *, session_id: int, ended_at: Any) -> dict[str, Any]:
    with db.write() as s:
        row = s.execute(select(live_session).where(live_session.c.id == session_id)).one_or_none()
        if row is None:
            raise CatalogNotFound(f"no live session {session_id}")
        if clock.as_utc(ended_at) <= row.started_at:
            raise InvalidReference("ended_at must be after started_at")
        return s.execute(update(live_session).where(live_session.c.id == session_id)
                         .values(ended_at=clock.as_utc(ended_at)).returning(*live_session.c)).one()._asdict()


def _row(s: Session, table: Any, row_id: int, noun: str) -> dict[str, Any]:
    row = s.execute(select(table).where(table.c.id == row_id)).one_or_none()
    if row is None:
        raise CatalogNotFound(f"no {noun} {row_id}")
    return row._asdict()


def _update(s: Session, table: Any, row_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    return s.execute(update(table).where(table.c.id == row_id).values(**changes).returning(*table.c)).one()._asdict()


def _audit_change(s: Session, *, actor: str, action: str, target: str, ip: str | None, before: dict[str, Any],
                  after: dict[str, Any], fields: dict[str, Any]) -> None:
    """Audit the fields that changed, with their values before and after (nothing when none did)."""
    changed = sorted(k for k in fields if before[k] != after[k])
    if changed:
        audit.record(s, actor=actor, action=action, target=target, ip=ip,
                     detail={"before": {k: before[k] for k in changed}, "after": {k: after[k] for k in changed}})


def _warehouse_id(s: Session, code: str) -> int:
    found = s.scalar(select(warehouse.c.id).where(warehouse.c.code == code))
    if found is None:
        raise InvalidReference(f"no warehouse {code!r}", details={"warehouse": code})
    return found


def _bundle_parts(s: Session, data: schemas.SkuCreate) -> list[tuple[int, int]]:
    if not data.components:
        return []
    codes = [p.sku for p in data.components]
    if len(set(codes)) != len(codes):
        raise InvalidBundle("a component is listed twice")
    if data.code in codes:
        raise InvalidBundle("a bundle cannot contain itself")
    found = {row.code: row for row in s.execute(select(sku.c.code, sku.c.id, sku.c.is_bundle)
                                                 .where(sku.c.code.in_(codes)))}
    missing = sorted(set(codes) - found.keys())
    if missing:
        raise InvalidBundle(f"unknown component SKU(s): {', '.join(missing)}", details={"missing": missing})
    nested = sorted(c for c in codes if found[c].is_bundle)
    if nested:
        raise InvalidBundle(f"components must be plain SKUs, not bundles: {', '.join(nested)}")
    return [(found[p.sku].id, p.qty) for p in data.components]


class _unique:
    """Turn a unique-constraint violation into a 409 with a message a person understands."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if isinstance(exc, IntegrityError) and "unique" in str(exc.orig).lower():
            raise DuplicateCode(self.message) from exc
        return False


def count(s: Session, table: Any) -> int:
    return s.scalar(select(func.count()).select_from(table)) or 0
