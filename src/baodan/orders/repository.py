"""SQL of orders for the batch pipeline: per-order locks, loads by natural key, bulk writes."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from baodan.core import clock
from baodan.core.db import dialect_of, executemany, fetchall, in_list, insert_rows, read_json

OrderKey = tuple[str, str]  # (channel, platform_order_id)

# An order's id on its platform: a part of a split order (拆单) is known there by its original's.
PLATFORM_ID = ("coalesce((SELECT p.platform_order_id FROM sales_order p WHERE p.id = o.parent_order_id), "
               "o.platform_order_id)")

ORDER_COLUMNS = (
    "id", "channel", "shop_id", "platform_order_id", "platform_status", "platform_updated_at", "state",
    "anomalies", "short_sku_ids", "created_at", "paid_at", "buyer_nick", "receiver", "buyer_message",
    "seller_memo", "goods_total_fen", "shipping_fee_fen", "discount_fen", "paid_total_fen", "live_room_id",
    "live_session_id", "warehouse_id", "reserved_at", "ingested_at", "updated_at", "receiver_sealed", "phone_index",
)
LINE_COLUMNS = (
    "id", "order_id", "line_no", "platform_line_id", "platform_sku_id", "sku_code", "sku_id", "title",
    "quantity", "unit_price_fen", "discount_fen", "amount_fen", "ship_after",
)
# What a newer event may change on an order that already exists.
UPDATE_COLUMNS = (
    "platform_status", "platform_updated_at", "state", "anomalies", "short_sku_ids", "paid_at", "receiver",
    "buyer_message", "seller_memo", "warehouse_id", "reserved_at", "updated_at", "receiver_sealed", "phone_index",
    "live_session_id",
)


@dataclass(slots=True)
class StoredOrder:
    id: int
    shop_id: int
    platform_status: str
    updated_key: str  # platform_updated_at as fixed-width UTC text, comparable with event keys
    state: str
    paid_at: datetime | None
    anomalies: list[str]
    warehouse_id: int | None
    reserved_at: datetime | None
    live_session_id: int | None = None
    live_room_id: str | None = None


def lock_key(key: OrderKey) -> int:
    digest = hashlib.blake2b(f"{key[0]}\x1f{key[1]}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_orders(db: Session, keys: Collection[OrderKey]) -> None:
    """Serialise work on the same orders across PostgreSQL workers (transaction-scoped advisory locks,
    taken in sorted order so two batches cannot deadlock). SQLite's single writer needs none."""
    if dialect_of(db) != "postgresql" or not keys:
        return
    fetchall(db, "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT DISTINCT unnest(?::bigint[]) AS k "
                 "ORDER BY 1) AS keys", (sorted({lock_key(k) for k in keys}),))


_STORED = ("id, channel, platform_order_id, shop_id, platform_status, platform_updated_at, state, paid_at, "
           "anomalies, warehouse_id, reserved_at, live_session_id, live_room_id")


def load_orders(db: Session, keys: Collection[OrderKey]) -> dict[OrderKey, StoredOrder]:
    found: dict[OrderKey, StoredOrder] = {}
    if dialect_of(db) == "postgresql" and keys:
        # One index probe per key, whatever the statistics say: a fresh table during its first surge has
        # none, and the planner then scans every order of the channel for `platform_order_id = ANY(…)`.
        channels, ids = zip(*sorted(keys), strict=True)
        for row in fetchall(db, f"SELECT o.* FROM unnest(?::text[], ?::text[]) AS k(channel, pid) CROSS JOIN "
                                f"LATERAL (SELECT {_STORED} FROM sales_order WHERE channel = k.channel "
                                "AND platform_order_id = k.pid) AS o", (list(channels), list(ids))):
            found[(row[1], row[2])] = _stored(row)
        return found
    by_channel: dict[str, list[str]] = {}
    for channel, platform_order_id in keys:
        by_channel.setdefault(channel, []).append(platform_order_id)
    for channel, ids in sorted(by_channel.items()):
        frag, param = in_list(dialect_of(db), sorted(ids))
        for row in fetchall(db, f"SELECT {_STORED} FROM sales_order WHERE channel = ? AND platform_order_id {frag}",
                            (channel, param)):
            found[(row[1], row[2])] = _stored(row)
    return found


def _stored(row: Sequence[Any]) -> StoredOrder:
    return StoredOrder(row[0], row[3], row[4], _time_key(row[5]), row[6], _time(row[7]), read_json(row[8]), row[9],
                       _time(row[10]), row[11], row[12])


def load_orders_by_id(db: Session, order_ids: Collection[int]) -> dict[int, tuple[OrderKey, StoredOrder]]:
    if not order_ids:
        return {}
    frag, param = in_list(dialect_of(db), order_ids)
    out = {}
    for row in fetchall(db, f"SELECT {_STORED} FROM sales_order WHERE id {frag}", (param,)):
        out[row[0]] = ((row[1], row[2]), _stored(row))
    return out


def demand_lines(db: Session, order_ids: Collection[int]) -> list[tuple[int, int, int | None, int]]:
    """(order_id, order_line_id, sku_id, quantity) of stored orders, in line order."""
    if not order_ids:
        return []
    frag, param = in_list(dialect_of(db), order_ids)
    return [tuple(r) for r in fetchall(  # type: ignore[misc]
        db, f"SELECT order_id, id, sku_id, quantity FROM order_line WHERE order_id {frag} ORDER BY order_id, line_no",
        (param,))]


def allocate_ids(db: Session, table: str, count: int) -> list[int]:
    """Ids for rows this transaction will insert, so children can be written in the same bulk pass.
    SQLite: the write lock is held, so max(id) is ours. PostgreSQL: from the identity sequence."""
    if count == 0:
        return []
    if dialect_of(db) == "sqlite":
        ((top,),) = fetchall(db, f"SELECT coalesce(max(id), 0) FROM {table}")
        return list(range(top + 1, top + 1 + count))
    ((sequence,),) = fetchall(db, "SELECT pg_get_serial_sequence(?, 'id')", (table,))
    # The name inline (it comes from the catalog): a literal is resolved once, a function call per row.
    return [r[0] for r in fetchall(db, f"SELECT nextval('{sequence}') FROM generate_series(1, ?)", (count,))]


def insert_orders(db: Session, rows: Sequence[Sequence[Any]]) -> None:
    insert_rows(db, "sales_order", ORDER_COLUMNS, rows)


def insert_lines(db: Session, rows: Sequence[Sequence[Any]]) -> None:
    insert_rows(db, "order_line", LINE_COLUMNS, rows)


def update_orders(db: Session, rows: Sequence[Sequence[Any]]) -> None:
    """Rows are UPDATE_COLUMNS values followed by the order id."""
    assignments = ", ".join(f"{c} = ?" for c in UPDATE_COLUMNS)
    executemany(db, f"UPDATE sales_order SET {assignments} WHERE id = ?", rows)


def parts_of(db: Session, order_ids: Collection[int]) -> dict[int, list[tuple[int, str, str]]]:
    """The parts of these orders that were split (拆单): order id → (part id, channel, platform order id) of
    each part. Empty for orders never split (the usual case: one index probe per batch)."""
    if not order_ids:
        return {}
    frag, param = in_list(dialect_of(db), order_ids)
    found: dict[int, list[tuple[int, str, str]]] = {}
    for part, parent, channel, platform_order_id in fetchall(
            db, f"SELECT id, parent_order_id, channel, platform_order_id FROM sales_order "
                f"WHERE parent_order_id {frag} ORDER BY id", (param,)):
        found.setdefault(int(parent), []).append((int(part), channel, platform_order_id))
    return found


def insert_events(db: Session, rows: Sequence[Sequence[Any]]) -> None:
    """(order_id, kind, at, detail)"""
    insert_rows(db, "order_event", ("order_id", "kind", "at", "detail"), rows)


def _time(value: Any) -> datetime | None:
    from baodan.core.db import read_time

    return read_time(value)


def _time_key(value: Any) -> str:
    return value if isinstance(value, str) else clock.sql_text(value)
