"""Interception (拦截): an order cancelled or refunded on the platform after it entered fulfilment. The
pipeline has already released its stock; here its fulfilment row stops where it is (stage `intercepted`,
the stage it was at kept as the reason), so no later step takes it, and the order's history says so. Its
waybill number is voided by the waybill desk's sweep (numbers of cancelled orders), its items leave its
wave's pick list and label run, and the packer who scans it is told to put it back. Orders merged into its
parcel go back to the courier step on their own (`fulfilment.merge.release_members`)."""

from __future__ import annotations

from datetime import datetime

from baodan.core import clock
from baodan.core.db import Database, db_json, db_time, dialect_of, execute, executemany, fetchall
from baodan.fulfilment.merge import release_members
from baodan.orders import repository

DONE = ("shipped", "cancelled", "intercepted")


def intercept_once(db: Database, *, limit: int = 1000, now: datetime | None = None) -> int:
    """Stop the fulfilment of orders that were cancelled meanwhile; how many were stopped."""
    now = now or clock.utcnow()
    with db.write() as s:
        dialect = dialect_of(s)
        rows = fetchall(s, "SELECT f.order_id, f.stage FROM fulfilment f JOIN sales_order o ON o.id = f.order_id "
                           "WHERE o.state = 'cancelled' AND f.stage NOT IN ('shipped', 'cancelled', 'intercepted') "
                           "ORDER BY f.order_id LIMIT ?", (limit,))
        at = db_time(dialect, now)
        executemany(s, "UPDATE fulfilment SET stage = 'intercepted', hold_reason = ?, version = version + 1, "
                       "updated_at = ? WHERE order_id = ?", [(f"at {stage}", at, order_id) for order_id, stage in rows])
        repository.insert_events(s, [(order_id, "intercepted", at, db_json(dialect, {"stage": stage}))
                                     for order_id, stage in rows])
        # a stopped parcel's merged orders are not stopped: they go on without it
        release_members(s, [int(order_id) for order_id, stage in rows if stage not in ("packed", "merged")], at)
    return len(rows)


def settle_shipped(db: Database, *, now: datetime | None = None) -> int:
    """Orders shipped outside the packing flow (the ship API, or a packer's confirm that stopped between
    shipping and its own bookkeeping) leave fulfilment as shipped."""
    now = now or clock.utcnow()
    with db.write() as s:
        return execute(s, "UPDATE fulfilment SET stage = 'shipped', version = version + 1, updated_at = ? "
                          "WHERE stage NOT IN ('shipped', 'cancelled', 'intercepted') AND order_id IN "
                          "(SELECT id FROM sales_order WHERE state IN ('shipped', 'completed'))",
                       (db_time(dialect_of(s), now),))

