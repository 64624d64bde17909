"""Tables of channels: a shop's platform credentials, the sync state with each platform (pull cursor,
orders to fetch, write-backs and stock pushes owed), per-channel stock allocation, shipments, and the
log of every call made to a platform."""

from sqlalchemy import Boolean, Column, Float, Identity, Index, Integer, String, Table, UniqueConstraint

from baodan.core.db import BigIntPK, Json, UtcDateTime, metadata

shop_credential = Table(
    "shop_credential", metadata,
    Column("shop_id", BigIntPK, primary_key=True),
    Column("app_key", String(128), nullable=False),  # shown; identifies the app, not a secret
    Column("platform_shop_id", String(64)),
    Column("base_url", String(300)),  # the platform's gateway root; None: the production gateway
    Column("secrets_sealed", String(4000), nullable=False),  # app secret, tokens: sealed like PII
    Column("updated_by", String(100), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("token_expires_at", UtcDateTime),  # when the sealed access token stops working (None: not known)
    Column("refresh_expires_at", UtcDateTime),  # when the sealed refresh token does
    Column("calls_per_second", Float),  # the shop's granted call rate where raised above the adapter's default
)

# Incremental pull: every order updated up to `synced_to` has been read into the inbox.
channel_cursor = Table(
    "channel_cursor", metadata,
    Column("shop_id", BigIntPK, primary_key=True),
    Column("synced_to", UtcDateTime, nullable=False),
    Column("last_run_at", UtcDateTime),
    Column("last_error", String(500)),
)

# Orders a push named without their content: fetched by a detail call, then into the inbox.
channel_fetch = Table(
    "channel_fetch", metadata,
    Column("shop_id", BigIntPK, primary_key=True),
    Column("platform_order_id", String(64), primary_key=True),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime),  # the order's update time as the push stated it (None: not stated)
    Column("next_at", UtcDateTime, nullable=False, index=True),
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(500)),
)

# Write-backs owed to a platform (the waybill of a shipped order), sent with retries.
channel_outbox = Table(
    "channel_outbox", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("shop_id", BigIntPK, nullable=False),
    Column("kind", String(16), nullable=False),  # ship
    Column("ref", String(100), nullable=False),  # what it is about: the shipment id
    Column("payload", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("next_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(500)),
    Column("done_at", UtcDateTime),
    UniqueConstraint("kind", "ref", name="uq_channel_outbox_kind_ref"),
    Index("ix_channel_outbox_due", "done_at", "next_at"),
)

# The sellable quantity last pushed per shop and platform SKU (a push is sent only when it differs).
channel_stock = Table(
    "channel_stock", metadata,
    Column("shop_id", BigIntPK, primary_key=True),
    Column("platform_sku_id", String(64), primary_key=True),
    Column("pushed_qty", Integer, nullable=False),
    Column("pushed_at", UtcDateTime, nullable=False),
    Column("last_error", String(500)),
)

# Optional per-channel allocation of a SKU (default: one shared pool). See channels.stock.
channel_allocation = Table(
    "channel_allocation", metadata,
    Column("sku_id", BigIntPK, primary_key=True),
    Column("shop_id", BigIntPK, primary_key=True),
    Column("percent", Integer),  # this shop sells at most this share of the pool
    Column("cap", Integer),  # … and at most this many
    Column("set_aside", Integer),  # units kept for this shop: other shops do not see them
    Column("updated_at", UtcDateTime, nullable=False),
)

# A courier's code on each platform (BaoDan's code, e.g. ZTO → 快手 expressCode, 拼多多 logistics_id).
channel_carrier = Table(
    "channel_carrier", metadata,
    Column("channel", String(16), primary_key=True),
    Column("carrier_code", String(32), primary_key=True),
    Column("platform_code", String(32), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

shipment = Table(
    "shipment", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("order_id", BigIntPK, nullable=False, index=True),
    Column("shop_id", BigIntPK, nullable=False),
    Column("warehouse_id", BigIntPK),
    Column("carrier_code", String(32), nullable=False),
    Column("waybill_no", String(64), nullable=False),
    Column("shipped_at", UtcDateTime, nullable=False),
    Column("written_back_at", UtcDateTime),
    Column("actor", String(100), nullable=False),
    # one waybill, one parcel; a merged parcel's orders each ship under it (fulfilment.merge)
    UniqueConstraint("carrier_code", "waybill_no", "order_id", name="uq_shipment_waybill_order"),
)

# Every call to a platform and its answer, secrets and PII masked (kept CALL_LOG_DAYS).
channel_call = Table(
    "channel_call", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("shop_id", BigIntPK, nullable=False),
    Column("method", String(100), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status", Integer),  # HTTP status; None: no answer (timeout, connection refused)
    Column("ok", Boolean, nullable=False),
    Column("error", String(300)),
    Column("duration_ms", Integer, nullable=False),
    Column("request", String(2000)),
    Column("response", String(2000)),
)
