"""Shops, warehouses, products, SKUs, bundles (组合装) and platform SKU mappings."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Identity,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from baodan.core.db import BigIntPK, Code, Json, UtcDateTime, metadata

warehouse = Table(
    "warehouse", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("code", Code, nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    # Lower comes first when a shop has no fallback list of its own.
    Column("priority", Integer, nullable=False, server_default="100"),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", UtcDateTime, nullable=False),
)

shop = Table(
    "shop", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("code", Code, nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("platform_shop_id", String(64)),
    Column("default_warehouse_id", BigIntPK, ForeignKey("warehouse.id")),
    # Warehouse ids tried after the default, in order; empty means all others by warehouse.priority.
    Column("fallback_warehouse_ids", Json, nullable=False),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", UtcDateTime, nullable=False),
)

product = Table(
    "product", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("code", Code, nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

sku = Table(
    "sku", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("code", Code, nullable=False, unique=True),  # 商家编码, what merchants type and print
    Column("product_id", BigIntPK, ForeignKey("product.id")),
    Column("name", String(200), nullable=False),
    Column("barcode", String(64)),
    Column("is_bundle", Boolean, nullable=False, server_default="0"),
    Column("price_fen", BigInteger, nullable=False, server_default="0"),
    Column("weight_g", Integer, nullable=False, server_default="0"),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", UtcDateTime, nullable=False),
)

bundle_component = Table(
    "bundle_component", metadata,
    Column("bundle_sku_id", BigIntPK, ForeignKey("sku.id"), primary_key=True),
    Column("component_sku_id", BigIntPK, ForeignKey("sku.id"), primary_key=True),
    Column("qty", Integer, nullable=False),
    CheckConstraint("qty > 0", name="qty_positive"),
    CheckConstraint("bundle_sku_id <> component_sku_id", name="not_self"),
)

sku_mapping = Table(
    "sku_mapping", metadata,
    Column("shop_id", BigIntPK, ForeignKey("shop.id"), primary_key=True),
    Column("platform_sku_id", String(64), primary_key=True),
    Column("sku_id", BigIntPK, ForeignKey("sku.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("platform_product_id", String(64)),  # the platform's product (item) id, where its calls need it
)

live_session = Table(
    "live_session", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("shop_id", BigIntPK, ForeignKey("shop.id"), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("host", String(100), nullable=False),
    Column("room_id", String(64)),  # the platform's live room, when it names one on orders
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),  # open while the session is live
    Column("featured_sku_ids", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("shop_id", "started_at"),
)
