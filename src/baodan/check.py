"""Consistency proof: every stock level equals the sum of its ledger moves, every hold belongs to a live
order line, and the waiting list matches the orders that wait. `baodan check` runs it."""

from __future__ import annotations

from dataclasses import dataclass

from baodan.core.db import Database, fetchall

# References the database does not enforce on the pipeline's bulk tables (see orders.tables):
# (table, column, referenced table).
ORPHANS = (
    ("sales_order", "shop_id", "shop"),
    ("sales_order", "live_session_id", "live_session"),
    ("sales_order", "warehouse_id", "warehouse"),
    ("sales_order", "parent_order_id", "sales_order"),
    ("order_line", "order_id", "sales_order"),
    ("order_line", "sku_id", "sku"),
    ("order_event", "order_id", "sales_order"),
    ("reservation", "order_id", "sales_order"),
    ("reservation", "order_line_id", "order_line"),
    ("reservation", "sku_id", "sku"),
    ("reservation", "warehouse_id", "warehouse"),
    ("inventory_backlog", "order_id", "sales_order"),
    ("inventory_backlog", "order_line_id", "order_line"),
    ("inventory_backlog", "sku_id", "sku"),
    ("shipment", "order_id", "sales_order"),
    ("channel_outbox", "shop_id", "shop"),
    ("order_supersede", "by_order_id", "sales_order"),
    ("fulfilment", "order_id", "sales_order"),
    ("fulfilment", "warehouse_id", "warehouse"),
    ("fulfilment", "parcel_of", "sales_order"),
    ("fulfilment", "wave_id", "wave"),
    ("order_decision", "order_id", "sales_order"),
    ("wave", "warehouse_id", "warehouse"),
    ("bin_location", "sku_id", "sku"),
    ("carrier_account", "warehouse_id", "warehouse"),
    ("waybill_request", "order_id", "sales_order"),
    ("waybill_request", "account_id", "carrier_account"),
    ("waybill", "account_id", "carrier_account"),
    ("waybill", "order_id", "sales_order"),
)


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str


def run_checks(db: Database, *, limit: int = 50) -> list[Problem]:
    problems: list[Problem] = []
    with db.read() as s:
        for sku_id, wh, on_hand, reserved, moved_on_hand, moved_reserved in fetchall(s, """
                SELECT l.sku_id, l.warehouse_id, l.on_hand, l.reserved,
                       coalesce(m.on_hand, 0), coalesce(m.reserved, 0)
                FROM stock_level l LEFT JOIN (
                    SELECT sku_id, warehouse_id, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
                    FROM stock_move GROUP BY sku_id, warehouse_id) m
                  ON m.sku_id = l.sku_id AND m.warehouse_id = l.warehouse_id
                WHERE l.on_hand <> coalesce(m.on_hand, 0) OR l.reserved <> coalesce(m.reserved, 0)
                ORDER BY 1, 2 LIMIT ?""", (limit,)):
            problems.append(Problem("ledger_mismatch", f"SKU {sku_id} in warehouse {wh}: level on hand {on_hand} "
                                    f"reserved {reserved}, ledger says {moved_on_hand} and {moved_reserved}"))
        for sku_id, wh, total in fetchall(s, """
                SELECT m.sku_id, m.warehouse_id, sum(m.on_hand_delta) FROM stock_move m
                WHERE NOT EXISTS (SELECT 1 FROM stock_level l WHERE l.sku_id = m.sku_id
                                  AND l.warehouse_id = m.warehouse_id)
                GROUP BY m.sku_id, m.warehouse_id ORDER BY 1, 2 LIMIT ?""", (limit,)):
            problems.append(Problem("ledger_mismatch", f"SKU {sku_id} in warehouse {wh}: {total} moved on hand "
                                    "but no stock level"))
        for sku_id, wh, reserved, held in fetchall(s, """
                SELECT l.sku_id, l.warehouse_id, l.reserved, coalesce(r.qty, 0) FROM stock_level l
                LEFT JOIN (SELECT sku_id, warehouse_id, sum(qty) AS qty FROM reservation
                           GROUP BY sku_id, warehouse_id) r
                  ON r.sku_id = l.sku_id AND r.warehouse_id = l.warehouse_id
                WHERE l.reserved <> coalesce(r.qty, 0) ORDER BY 1, 2 LIMIT ?""", (limit,)):
            problems.append(Problem("reserved_mismatch", f"SKU {sku_id} in warehouse {wh}: level reserves "
                                    f"{reserved}, reservations hold {held}"))
        for sku_id, wh, on_hand, reserved in fetchall(s, """
                SELECT sku_id, warehouse_id, on_hand, reserved FROM stock_level
                WHERE reserved > on_hand OR reserved < 0 OR on_hand < 0 ORDER BY 1, 2 LIMIT ?""", (limit,)):
            problems.append(Problem("oversold", f"SKU {sku_id} in warehouse {wh}: {reserved} reserved of "
                                    f"{on_hand} on hand"))
        for res_id, order_id, state in fetchall(s, """
                SELECT r.id, r.order_id, o.state FROM reservation r
                LEFT JOIN order_line ln ON ln.id = r.order_line_id AND ln.order_id = r.order_id
                LEFT JOIN sales_order o ON o.id = r.order_id
                WHERE ln.id IS NULL OR o.state IS NULL OR o.state <> 'reserved' ORDER BY 1 LIMIT ?""", (limit,)):
            problems.append(Problem("orphan_reservation", f"reservation {res_id} of order {order_id} "
                                    f"(state {state}) does not belong to a live order line"))
        for order_id, wh in fetchall(s, """
                SELECT o.id, o.warehouse_id FROM sales_order o WHERE o.state = 'reserved'
                AND NOT EXISTS (SELECT 1 FROM reservation r WHERE r.order_id = o.id AND r.warehouse_id = o.warehouse_id)
                ORDER BY 1 LIMIT ?""", (limit,)):
            problems.append(Problem("reservation_missing", f"order {order_id} is reserved in warehouse {wh} "
                                    "but holds nothing there"))
        for line_id, sku_id, want, held in fetchall(s, """
                SELECT ln.id, r.sku_id, ln.quantity * coalesce(bc.qty, 1), sum(r.qty) FROM reservation r
                JOIN order_line ln ON ln.id = r.order_line_id
                LEFT JOIN bundle_component bc ON bc.bundle_sku_id = ln.sku_id AND bc.component_sku_id = r.sku_id
                GROUP BY ln.id, r.sku_id, ln.quantity, bc.qty
                HAVING sum(r.qty) <> ln.quantity * coalesce(bc.qty, 1) ORDER BY 1 LIMIT ?""", (limit,)):
            problems.append(Problem("reservation_quantity", f"order line {line_id} holds {held} of SKU {sku_id}, "
                                    f"needs {want}"))
        for order_id, state in fetchall(s, """
                SELECT DISTINCT b.order_id, o.state FROM inventory_backlog b JOIN sales_order o ON o.id = b.order_id
                WHERE o.state <> 'awaiting_stock' ORDER BY 1 LIMIT ?""", (limit,)):
            problems.append(Problem("backlog_mismatch", f"order {order_id} is on the waiting list but is {state}"))
        for (order_id,) in fetchall(s, """
                SELECT o.id FROM sales_order o WHERE o.state = 'awaiting_stock'
                AND NOT EXISTS (SELECT 1 FROM inventory_backlog b WHERE b.order_id = o.id AND b.short)
                ORDER BY 1 LIMIT ?""",
                                    (limit,)):
            problems.append(Problem("backlog_mismatch", f"order {order_id} waits for stock but is not on the "
                                    "waiting list"))
        for order_id, problem in fetchall(s, """
                SELECT c.id, 'its original is a part, or of another shop' FROM sales_order c
                JOIN sales_order p ON p.id = c.parent_order_id
                WHERE p.parent_order_id IS NOT NULL OR p.channel <> c.channel OR p.shop_id <> c.shop_id
                UNION ALL
                SELECT o.id, 'it has no lines' FROM sales_order o
                WHERE (o.parent_order_id IS NOT NULL
                       OR EXISTS (SELECT 1 FROM sales_order c WHERE c.parent_order_id = o.id))
                AND NOT EXISTS (SELECT 1 FROM order_line ln WHERE ln.order_id = o.id)
                ORDER BY 1 LIMIT ?""", (limit,)):
            problems.append(Problem("split_mismatch", f"split order {order_id}: {problem}"))
        for table, column, parent in ORPHANS:
            for value, rows in fetchall(s, f"""
                    SELECT c.{column}, count(*) FROM {table} c WHERE c.{column} IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = c.{column})
                    GROUP BY c.{column} ORDER BY 1 LIMIT ?""", (limit,)):
                problems.append(Problem("orphan_row", f"{rows} {table} row(s) refer to {parent} {value}, "
                                        "which does not exist"))
        for event_id, channel, platform_order_id, error in fetchall(s, """
                SELECT event_id, channel, platform_order_id, error FROM intake_failure ORDER BY 1 LIMIT ?""", (limit,)):
            problems.append(Problem("intake_failure", f"event {event_id} ({channel} {platform_order_id}) was set "
                                    f"aside: {error}"))
    return problems
