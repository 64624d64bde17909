"""Tables of waybills: merchants' accounts with e-waybill services, the orders waiting for a number, the
numbers obtained (one row each, from issue to print or cancel), and the log of every call to a service.

`waybill_request` and `waybill` are written by the thousand during a live session and, like the pipeline's
bulk tables (docs/decisions.md §2), carry no database foreign keys."""

from sqlalchemy import Boolean, Column, Identity, Index, Integer, String, Table, Text, UniqueConstraint

from baodan.core.db import BigIntPK, Json, UtcDateTime, metadata

carrier_account = Table(
    "carrier_account", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("name", String(64), nullable=False, unique=True),  # the merchant's name for it: ZTO-杭州仓
    Column("adapter", String(16), nullable=False),  # the e-waybill service: cainiao, kdniao, pdd, douyin
    Column("carrier_code", String(32), nullable=False),  # BaoDan's courier code: ZTO, YTO, SF, …
    Column("platform_code", String(32)),  # the courier's code at the service, where not the adapter's default
    Column("app_key", String(128), nullable=False),  # shown; identifies the app, not a secret
    Column("secrets_sealed", String(4000), nullable=False),  # app secret, session, courier account: sealed like PII
    Column("base_url", String(300)),  # the service's gateway root; None: the production gateway
    Column("sender", Json, nullable=False),  # name, phone, province, city, district, town, address
    Column("warehouse_id", BigIntPK),  # the warehouse whose parcels it numbers (None: any)
    Column("shop_id", BigIntPK),  # 抖店/拼多多: the shop whose platform session it uses (renewed with the shop's)
    Column("daily_capacity", Integer),  # numbers a day at most (None: no limit)
    Column("low_water", Integer, nullable=False),  # numbers kept ready ahead of printing
    Column("refill_batch", Integer, nullable=False),  # numbers asked for in one refill pass
    Column("active", Boolean, nullable=False),
    Column("last_error", String(500)),
    Column("last_refill_at", UtcDateTime),
    Column("updated_by", String(100), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Orders waiting for a number from an account, oldest first; the row goes once the number is issued.
waybill_request = Table(
    "waybill_request", metadata,
    Column("order_id", BigIntPK, primary_key=True),
    Column("account_id", BigIntPK, nullable=False),
    Column("object_id", String(64), nullable=False),  # the application's id at the service (unique per number)
    Column("requested_at", UtcDateTime, nullable=False),
    Column("next_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(500)),
    Index("ix_waybill_request_due", "account_id", "next_at"),
)

# Every number obtained. state: issued (ready for its order), taken (handed to the order's parcel), cancelling
# (a cancel is owed to the service), cancelled (given back), cancel_refused (the service kept it).
waybill = Table(
    "waybill", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("account_id", BigIntPK, nullable=False),
    Column("order_id", BigIntPK, nullable=False, index=True),
    Column("object_id", String(64), nullable=False),
    Column("carrier_code", String(32), nullable=False),
    Column("waybill_no", String(64), nullable=False),
    Column("sort_code", String(100)),  # 大头笔 / 三段码
    Column("package_center_code", String(64)),  # 集包地
    Column("package_center_name", String(100)),
    Column("parent_waybill_no", String(64)),  # 子母件: the parent number
    Column("print_sealed", Text),  # the service's print data, sealed (it may name the receiver)
    Column("state", String(16), nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("taken_at", UtcDateTime),
    Column("cancel_reason", String(200)),
    Column("cancel_requested_at", UtcDateTime),
    Column("cancel_next_at", UtcDateTime),
    Column("cancel_attempts", Integer, nullable=False),
    Column("cancelled_at", UtcDateTime),
    Column("last_error", String(500)),
    UniqueConstraint("carrier_code", "waybill_no", name="uq_waybill_number"),
    Index("ix_waybill_account_state", "account_id", "state"),
    Index("ix_waybill_order", "order_id"),  # an order's numbers (queueing, labels, voiding)
    Index("ix_waybill_no", "waybill_no"),  # a number as scanned or typed, whatever its courier
    Index("ix_waybill_cancel_due", "state", "cancel_next_at"),
)

# Every call to an e-waybill service and its answer, secrets and PII masked (kept CALL_LOG_DAYS, as the
# platforms' channel_call).
carrier_call = Table(
    "carrier_call", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("account_id", BigIntPK, nullable=False),
    Column("method", String(100), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status", Integer),
    Column("ok", Boolean, nullable=False),
    Column("error", String(300)),
    Column("duration_ms", Integer, nullable=False),
    Column("request", String(2000)),
    Column("response", String(2000)),
)
