"""Tables of fulfilment (docs/fulfilment.md): the rule sets at each hook (versioned), every decision a rule
made on an order, where each reserved order is in the warehouse, and the blacklist the review reads."""

from sqlalchemy import BigInteger, Boolean, Column, Identity, Index, Integer, String, Table, Text, UniqueConstraint

from baodan.core.db import BigIntPK, Json, UtcDateTime, metadata

# One row per saved version of a hook's rule set (a GoRules JDM graph); one version per hook is active.
rule_set = Table(
    "rule_set", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("hook", String(16), nullable=False),  # review, routing, carrier
    Column("version", Integer, nullable=False),
    Column("content", Json, nullable=False),
    Column("note", String(300)),
    Column("active", Boolean, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("hook", "version", name="uq_rule_set_hook_version"),
)

# What a rule decided for an order, and which rule of which version decided it (the order's timeline shows it).
order_decision = Table(
    "order_decision", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("order_id", BigIntPK, nullable=False),
    Column("hook", String(16), nullable=False),
    Column("rule_set_version", Integer, nullable=False),  # 0: the shipped default, never saved
    Column("rule", String(64)),  # the decision table row's id (None for the hook's ordinary answer)
    Column("rule_title", String(200)),
    Column("outcome", String(32), nullable=False),  # review: pass/hold; routing: a warehouse; carrier: a code
    Column("reason", String(64)),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_order_decision_order", "order_id", "id"),
)

DECISION_COLUMNS = ("order_id", "hook", "rule_set_version", "rule", "rule_title", "outcome", "reason", "at")

# Where a reserved order is on its way out of the warehouse: one row per order (sales_order, the surge's
# hot table, keeps its width).
fulfilment = Table(
    "fulfilment", metadata,
    Column("order_id", BigIntPK, primary_key=True),
    Column("stage", String(16), nullable=False),  # review, route, waybill, ready, waved, picked, packed,
    # shipped; held, presale, intercepted
    Column("hold_reason", String(64)),
    Column("warehouse_id", BigIntPK),
    Column("carrier_code", String(32)),
    Column("waybill_no", String(64)),
    Column("wave_id", BigIntPK),
    Column("pick_seq", Integer),
    Column("weight_g", Integer),
    Column("scanned", Json),  # scan-to-pack: SKU id → units scanned so far
    Column("packed_by", String(100)),
    Column("packed_at", UtcDateTime),
    Column("release_at", UtcDateTime),  # presale: held until then
    Column("parcel_of", BigIntPK),  # merged: ships in this order's parcel (its lead); None: its own
    Column("version", Integer, nullable=False),  # operator actions against the loop: optimistic lock
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_fulfilment_stage", "stage", "order_id"),
    Index("ix_fulfilment_wave", "wave_id", "pick_seq"),
    Index("ix_fulfilment_waybill", "waybill_no"),
    Index("ix_fulfilment_parcel_of", "parcel_of"),
)

# Buyers, phones (by their blind index) and addresses the review holds.
blacklist = Table(
    "blacklist", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("kind", String(16), nullable=False),  # buyer_nick, phone, address
    Column("value", String(200)),  # buyer_nick or the address text (normalised)
    Column("phone_index", BigInteger),  # kind phone: the keyed blind index, never the number
    Column("note", Text),
    Column("created_by", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("kind", "value", "phone_index", name="uq_blacklist_entry"),
)

# Where each SKU lies in a warehouse (a bin, e.g. A-01-03, in a zone): pick lists walk them in order.
bin_location = Table(
    "bin_location", metadata,
    Column("sku_id", BigIntPK, primary_key=True),
    Column("warehouse_id", BigIntPK, primary_key=True),
    Column("location", String(32), nullable=False),
    Column("zone", String(16), nullable=False),
)

# A wave (波次): orders picked together. `single_sku`: every order is the same one SKU (a live session's hot
# item: pick the total once, then label and pack in a stream); `mixed`: a few orders of one zone.
wave = Table(
    "wave", metadata,
    Column("id", BigIntPK, Identity(), primary_key=True),
    Column("warehouse_id", BigIntPK, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("sku_id", BigIntPK),  # single_sku waves
    Column("zone", String(16)),
    Column("status", String(16), nullable=False),  # open, picked, done
    Column("orders", Integer, nullable=False),
    Column("units", Integer, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("picked_at", UtcDateTime),
    Index("ix_wave_status", "status", "warehouse_id"),
)

