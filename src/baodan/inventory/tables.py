"""Stock per SKU × warehouse, the immutable move ledger, reservations and the backlog of short orders."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Identity,
    Index,
    String,
    Table,
)

from baodan.core.db import ID_CACHE, BigIntPK, UtcDateTime, metadata

stock_level = Table(
    "stock_level", metadata,
    Column("sku_id", BigIntPK, ForeignKey("sku.id"), primary_key=True),
    Column("warehouse_id", BigIntPK, ForeignKey("warehouse.id"), primary_key=True),
    Column("on_hand", BigInteger, nullable=False, server_default="0"),
    Column("reserved", BigInteger, nullable=False, server_default="0"),
    Column("safety_stock", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", UtcDateTime, nullable=False),
    # The database itself refuses an oversell, whatever a bug upstream might try.
    CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
)

stock_move = Table(
    "stock_move", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("sku_id", BigIntPK, ForeignKey("sku.id"), nullable=False),
    Column("warehouse_id", BigIntPK, ForeignKey("warehouse.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # MoveKind
    Column("on_hand_delta", BigInteger, nullable=False),
    Column("reserved_delta", BigInteger, nullable=False),
    Column("order_id", BigInteger),  # set for moves of one order (release, ship)
    Column("reason", String(200)),
    Column("actor", String(64)),
    Column("idempotency_key", String(100), unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_stock_move_sku_wh", "sku_id", "warehouse_id", "id"),
)

reservation = Table(
    "reservation", metadata,
    Column("id", BigIntPK, Identity(cache=ID_CACHE), primary_key=True),
    Column("order_id", BigIntPK, nullable=False, index=True),
    Column("order_line_id", BigIntPK, nullable=False),
    Column("sku_id", BigIntPK, nullable=False),
    Column("warehouse_id", BigIntPK, nullable=False),
    Column("qty", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("qty > 0", name="qty_positive"),
    Index("uq_reservation_line_sku", "order_line_id", "sku_id", unique=True),
    Index("ix_reservation_sku_wh", "sku_id", "warehouse_id"),
)

# Demand of orders waiting for stock (缺货): one row per order line × component SKU, served in paid order.
backlog = Table(
    "inventory_backlog", metadata,
    Column("order_line_id", BigIntPK, primary_key=True),
    Column("sku_id", BigIntPK, primary_key=True),
    Column("order_id", BigIntPK, nullable=False, index=True),
    Column("qty", BigInteger, nullable=False),
    Column("paid_at", UtcDateTime, nullable=False),
    # The order waits for this SKU (it was short of it when last tried). Only stock of such SKUs
    # triggers a retry: a release of a SKU that waiting orders merely also contain does not.
    Column("short", Boolean, nullable=False),
    Index("ix_inventory_backlog_sku_paid", "sku_id", "paid_at", "order_id"),
)

# SKUs whose free stock rose while orders wait for them; the worker retries those orders.
retry = Table(
    "inventory_retry", metadata,
    Column("sku_id", BigIntPK, ForeignKey("sku.id"), primary_key=True),
    Column("requested_at", UtcDateTime, nullable=False),
)

