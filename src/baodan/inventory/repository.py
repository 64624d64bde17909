"""SQL of the inventory: locking free stock, conditional level updates, ledger moves, reservations."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.orm import Session

from baodan.core.db import (
    db_time,
    dialect_of,
    execute,
    executemany,
    fetchall,
    in_list,
    insert_rows,
    update_from,
)
from baodan.inventory.errors import StockLevelConflict
from baodan.inventory.model import StockKey


class HeldStock(NamedTuple):
    order_id: int
    order_line_id: int
    sku_id: int
    warehouse_id: int
    qty: int


def lock_free_stock(db: Session, sku_ids: Collection[int]) -> dict[StockKey, int]:
    """Free (on_hand − reserved) of every warehouse row of these SKUs, locked until commit in sorted
    key order (FOR UPDATE on PostgreSQL; on SQLite the write transaction already holds the lock)."""
    if not sku_ids:
        return {}
    dialect = dialect_of(db)
    frag, param = in_list(dialect, sorted(sku_ids))
    lock = " FOR UPDATE" if dialect == "postgresql" else ""
    rows = fetchall(db, f"SELECT sku_id, warehouse_id, on_hand - reserved FROM stock_level WHERE sku_id {frag} "
                        f"ORDER BY sku_id, warehouse_id{lock}", (param,))
    return {(r[0], r[1]): r[2] for r in rows}


def apply_level_deltas(db: Session, deltas: Mapping[StockKey, tuple[int, int]], *, now: datetime) -> None:
    """Add (on_hand, reserved) deltas to many levels in one conditional set-based statement. A row whose
    result would break 0 ≤ reserved ≤ on_hand is not touched, and then the whole transaction is refused."""
    rows = [(sku_id, warehouse_id, on_hand, reserved)
            for (sku_id, warehouse_id), (on_hand, reserved) in sorted(deltas.items()) if on_hand or reserved]
    if not rows:
        return
    changed = update_from(
        db, "UPDATE stock_level SET on_hand = stock_level.on_hand + d.on_hand, "
            "reserved = stock_level.reserved + d.reserved, updated_at = ? FROM {rows} "
            "WHERE stock_level.sku_id = d.sku_id AND stock_level.warehouse_id = d.warehouse_id "
            "AND stock_level.on_hand + d.on_hand >= stock_level.reserved + d.reserved "
            "AND stock_level.reserved + d.reserved >= 0",
        [("sku_id", "bigint"), ("warehouse_id", "bigint"), ("on_hand", "bigint"), ("reserved", "bigint")], rows,
        (db_time(dialect_of(db), now),))
    if changed != len(rows):
        raise StockLevelConflict(f"{len(rows) - changed} stock level(s) changed under us; batch refused",
                                 details={"expected": len(rows), "updated": changed})


def insert_moves(db: Session, moves: Iterable[tuple[int, int, str, int, int, int | None, str | None]],
                 *, actor: str, now: datetime, idempotency_key: str | None = None) -> None:
    """Ledger moves: (sku_id, warehouse_id, kind, on_hand_delta, reserved_delta, order_id, reason)."""
    at = db_time(dialect_of(db), now)
    insert_rows(db, "stock_move", ("sku_id", "warehouse_id", "kind", "on_hand_delta", "reserved_delta",
                                   "order_id", "reason", "actor", "idempotency_key", "created_at"),
                [(*m, actor, idempotency_key, at) for m in moves])


def insert_reservations(db: Session, held: Sequence[HeldStock], *, now: datetime) -> None:
    at = db_time(dialect_of(db), now)
    insert_rows(db, "reservation", ("order_id", "order_line_id", "sku_id", "warehouse_id", "qty", "created_at"),
                [(h.order_id, h.order_line_id, h.sku_id, h.warehouse_id, h.qty, at) for h in held])


def reservations_of(db: Session, order_ids: Collection[int]) -> list[HeldStock]:
    if not order_ids:
        return []
    frag, param = in_list(dialect_of(db), order_ids)
    return [HeldStock(*r) for r in fetchall(
        db, f"SELECT order_id, order_line_id, sku_id, warehouse_id, qty FROM reservation WHERE order_id {frag}",
        (param,))]


def delete_reservations(db: Session, order_ids: Collection[int]) -> None:
    if order_ids:
        frag, param = in_list(dialect_of(db), order_ids)
        execute(db, f"DELETE FROM reservation WHERE order_id {frag}", (param,))


def insert_backlog(db: Session, rows: Sequence[tuple[int, int, int, int, datetime | str, bool]]) -> None:
    """Waiting demand: (order_line_id, sku_id, order_id, qty, paid_at, short)."""
    dialect = dialect_of(db)
    insert_rows(db, "inventory_backlog", ("order_line_id", "sku_id", "order_id", "qty", "paid_at", "short"),
                [(*r[:4], db_time(dialect, r[4]), r[5]) for r in rows])


def mark_backlog_short(db: Session, rows: Sequence[tuple[bool, int, int]]) -> None:
    """Record which SKUs waiting orders were short of at their last try: (short, order_line_id, sku_id)."""
    executemany(db, "UPDATE inventory_backlog SET short = ? WHERE order_line_id = ? AND sku_id = ?", rows)


def delete_backlog(db: Session, order_ids: Collection[int]) -> None:
    if order_ids:
        frag, param = in_list(dialect_of(db), order_ids)
        execute(db, f"DELETE FROM inventory_backlog WHERE order_id {frag}", (param,))


def skus_awaited(db: Session, sku_ids: Collection[int]) -> set[int]:
    """Those of these SKUs that some waiting order is short of."""
    if not sku_ids:
        return set()
    frag, param = in_list(dialect_of(db), sku_ids)
    return {r[0] for r in fetchall(
        db, f"SELECT s.id FROM sku s WHERE s.id {frag} AND EXISTS "
            "(SELECT 1 FROM inventory_backlog b WHERE b.sku_id = s.id AND b.short)", (param,))}


def skus_marked_for_retry(db: Session, sku_ids: Collection[int] | None = None) -> set[int]:
    if sku_ids is None:
        return {r[0] for r in fetchall(db, "SELECT sku_id FROM inventory_retry")}
    if not sku_ids:
        return set()
    frag, param = in_list(dialect_of(db), sku_ids)
    return {r[0] for r in fetchall(db, f"SELECT sku_id FROM inventory_retry WHERE sku_id {frag}", (param,))}


def free_units(db: Session, sku_ids: Collection[int]) -> int:
    """Units of these SKUs on hand and not reserved, over every warehouse (no lock)."""
    frag, param = in_list(dialect_of(db), sku_ids)
    ((total,),) = fetchall(db, f"SELECT coalesce(sum(on_hand - reserved), 0) FROM stock_level WHERE sku_id {frag}",
                           (param,))
    return int(total)


def mark_for_retry(db: Session, sku_ids: Collection[int], *, now: datetime) -> None:
    """Ask the worker to retry orders waiting for these SKUs (their free stock rose)."""
    at = db_time(dialect_of(db), now)
    executemany(db, "INSERT INTO inventory_retry (sku_id, requested_at) VALUES (?, ?) ON CONFLICT (sku_id) "
                    "DO UPDATE SET requested_at = excluded.requested_at", [(s, at) for s in sorted(sku_ids)])


def clear_retry(db: Session, sku_ids: Collection[int], *, requested_before: datetime) -> None:
    """Remove retry marks that no release after `requested_before` renewed."""
    if sku_ids:
        dialect = dialect_of(db)
        frag, param = in_list(dialect, sku_ids)
        execute(db, f"DELETE FROM inventory_retry WHERE sku_id {frag} AND requested_at <= ?",
                (param, db_time(dialect, requested_before)))


def backlog_page(db: Session, sku_ids: Collection[int], *, after: tuple[datetime, int] | None,
                 limit: int) -> list[tuple[int, datetime]]:
    """Waiting orders short of any of these SKUs, in paid order: (order_id, paid_at)."""
    dialect = dialect_of(db)
    frag, param = in_list(dialect, sku_ids)
    params: list[object] = [param]
    cond = ""
    if after is not None:
        cond = " AND (paid_at > ? OR (paid_at = ? AND order_id > ?))"
        params += [db_time(dialect, after[0]), db_time(dialect, after[0]), after[1]]
    rows = fetchall(db, f"SELECT DISTINCT paid_at, order_id FROM inventory_backlog WHERE sku_id {frag} AND short{cond} "
                        f"ORDER BY paid_at, order_id LIMIT ?", (*params, limit))
    from baodan.core.db import read_time

    return [(r[1], read_time(r[0])) for r in rows]  # type: ignore[misc]


def backlog_lines(db: Session, order_ids: Collection[int]) -> list[tuple[int, int, int, int]]:
    """(order_id, order_line_id, sku_id, qty) of waiting orders."""
    frag, param = in_list(dialect_of(db), order_ids)
    return [tuple(r) for r in fetchall(  # type: ignore[misc]
        db, f"SELECT order_id, order_line_id, sku_id, qty FROM inventory_backlog WHERE order_id {frag} "
            "ORDER BY order_id, order_line_id, sku_id", (param,))]
