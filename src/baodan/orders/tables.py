"""Orders as BaoDan keeps them: one row per platform order, its lines, and its history of events.

Rows the batch pipeline writes by the hundred thousand (orders, their lines and history, and in
inventory the reservations and the waiting list) carry no database foreign keys: on PostgreSQL a
per-row key check costs about as much as writing the row (measured: dropping the two on sales_order
halved its COPY time), and every id they hold was loaded or allocated in the same transaction from
rows that are never deleted (shops, warehouses, SKUs and sessions are deactivated, not removed).
`baodan check` proves there are no orphans (see check.ORPHANS).
"""

from sqlalchemy import (
    BigInteger,
    Column,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from baodan.core.db import ID_CACHE, BigIntPK, Json, UtcDateTime, metadata

sales_order = Table(
    "sales_order", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("shop_id", BigIntPK, nullable=False),
    Column("platform_order_id", String(64), nullable=False),
    Column("platform_status", String(16), nullable=False),  # PlatformStatus
    Column("platform_updated_at", UtcDateTime, nullable=False),
    Column("state", String(16), nullable=False),  # OrderState
    Column("anomalies", Json, nullable=False),  # reason codes, [] when clean
    Column("short_sku_ids", Json, nullable=False),  # SKUs that kept it waiting for stock
    Column("created_at", UtcDateTime, nullable=False),  # on the platform
    Column("paid_at", UtcDateTime),
    Column("buyer_nick", String(100)),
    # Region in clear (routing, reports by province); name, phone and address masked (张*, 138****5678).
    Column("receiver", Json),
    Column("receiver_sealed", Text),  # name, phone, address encrypted (identity.pii); revealed only audited
    Column("phone_index", BigInteger),  # keyed blind index of the phone: exact search without decrypting
    Column("buyer_message", Text),
    Column("seller_memo", Text),
    Column("goods_total_fen", BigInteger, nullable=False),
    Column("shipping_fee_fen", BigInteger, nullable=False),
    Column("discount_fen", BigInteger, nullable=False),
    Column("paid_total_fen", BigInteger, nullable=False),
    Column("live_room_id", String(64)),
    Column("live_session_id", BigIntPK),
    Column("warehouse_id", BigIntPK),  # where its stock is reserved
    Column("reserved_at", UtcDateTime),
    Column("ingested_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # A part of a split order (拆单): the original order it was split from (which keeps the platform's id; a
    # part's platform_order_id is the original's with `#n`). None: an order as the platform sent it.
    Column("parent_order_id", BigIntPK),
    UniqueConstraint("channel", "platform_order_id"),
    Index("ix_sales_order_shop_paid", "shop_id", "paid_at"),
    Index("ix_sales_order_state_paid", "state", "paid_at"),
    Index("ix_sales_order_session", "live_session_id"),
    Index("ix_sales_order_phone_index", "phone_index"),
    Index("ix_sales_order_parent", "parent_order_id"),
)

order_line = Table(
    "order_line", metadata,
    Column("id", BigIntPK, Identity(cache=ID_CACHE), primary_key=True),
    Column("order_id", BigIntPK, nullable=False, index=True),
    Column("line_no", Integer, nullable=False),
    Column("platform_line_id", String(64)),
    Column("platform_sku_id", String(64)),
    Column("sku_code", String(64)),
    Column("sku_id", BigIntPK),  # None while the SKU is unknown
    Column("title", String(300)),
    Column("quantity", BigInteger, nullable=False),
    Column("unit_price_fen", BigInteger, nullable=False),
    Column("discount_fen", BigInteger, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("ship_after", UtcDateTime),  # 预售: not shipped before this
    Column("refunded_at", UtcDateTime),  # 部分退款: refunded before shipping (the line left in a cancelled part)
)

order_event = Table(
    "order_event", metadata,
    Column("id", BigIntPK, Identity(cache=ID_CACHE), primary_key=True),
    Column("order_id", BigIntPK, nullable=False),
    Column("kind", String(32), nullable=False),  # OrderEventKind
    Column("at", UtcDateTime, nullable=False),
    Column("detail", Json, nullable=False),
    Index("ix_order_event_order", "order_id", "id"),
)

# Platform-side splits and merges: order (channel, platform_order_id) was replaced by order `by_order_id`.
# Kept so an original that arrives after its replacement is cancelled on arrival.
order_supersede = Table(
    "order_supersede", metadata,
    Column("channel", String(16), primary_key=True),
    Column("platform_order_id", String(64), primary_key=True),
    Column("by_order_id", BigIntPK, nullable=False),
)
