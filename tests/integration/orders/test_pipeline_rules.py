"""Business rules of the batch pipeline through the real intake and worker, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from baodan import pipeline
from baodan.catalog import schemas as catalog_schemas
from baodan.catalog import services as catalog
from baodan.check import run_checks
from baodan.core.db import fetchall, read_json
from baodan.inventory import services as inventory
from baodan.inventory.model import MoveKind
from tests.helpers import T0, drain, make_catalog, order, submit

# ---------------------------------------------------------------------------------------------- readers


def _order(db, oid):
    """state, anomalies, warehouse code, short SKU codes and live session of one order."""
    with db.read() as s:
        ((state, anomalies, warehouse, short, session_id),) = fetchall(s, """
            SELECT o.state, o.anomalies, w.code, o.short_sku_ids, o.live_session_id
            FROM sales_order o LEFT JOIN warehouse w ON w.id = o.warehouse_id
            WHERE o.platform_order_id = ?""", (oid,))
        codes = dict(fetchall(s, "SELECT id, code FROM sku"))
    return {"state": state, "anomalies": sorted(read_json(anomalies)), "warehouse": warehouse,
            "short": sorted(codes[i] for i in read_json(short)), "live_session_id": session_id}


def _states(db):
    with db.read() as s:
        return dict(fetchall(s, "SELECT platform_order_id, state FROM sales_order"))


def _levels(db):
    """(sku code, warehouse code) → (on hand, reserved)."""
    with db.read() as s:
        rows = fetchall(s, """SELECT k.code, w.code, l.on_hand, l.reserved FROM stock_level l
                              JOIN sku k ON k.id = l.sku_id JOIN warehouse w ON w.id = l.warehouse_id""")
    return {(sku, wh): (on_hand, reserved) for sku, wh, on_hand, reserved in rows}


def _held(db, oid):
    """What an order holds: sorted (sku code, warehouse code, qty)."""
    with db.read() as s:
        return sorted(fetchall(s, """
            SELECT k.code, w.code, r.qty FROM reservation r JOIN sales_order o ON o.id = r.order_id
            JOIN sku k ON k.id = r.sku_id JOIN warehouse w ON w.id = r.warehouse_id
            WHERE o.platform_order_id = ?""", (oid,)))


def _history(db, oid, kind="received"):
    with db.read() as s:
        rows = fetchall(s, """SELECT e.detail FROM order_event e JOIN sales_order o ON o.id = e.order_id
                              WHERE o.platform_order_id = ? AND e.kind = ? ORDER BY e.id""", (oid, kind))
    return [read_json(r[0]) for r in rows]


def _all_held(db):
    with db.read() as s:
        return fetchall(s, "SELECT count(*) FROM reservation")[0][0]


# ---------------------------------------------------------------------------------------------- bundles


def test_a_bundle_reserves_its_components_in_the_bundles_proportions(runtime, db):
    make_catalog(db, skus={"CUP": 5, "LID": 5}, bundles={"GIFTBOX": [("CUP", 2), ("LID", 1)]})
    submit(runtime, order("o1", [("GIFTBOX", 2)]))
    drain(runtime)
    assert _order(db, "o1")["state"] == "reserved"
    assert _held(db, "o1") == [("CUP", "WH1", 4), ("LID", "WH1", 2)]
    assert _levels(db) == {("CUP", "WH1"): (5, 4), ("LID", "WH1"): (5, 2)}
    assert run_checks(db) == []


def test_a_bundle_short_of_one_component_takes_none_of_the_others(runtime, db):
    make_catalog(db, skus={"CUP": 4, "LID": 1}, bundles={"GIFTBOX": [("CUP", 2), ("LID", 1)]})
    submit(runtime, order("o1", [("GIFTBOX", 1)], paid_offset_s=1),
           order("o2", [("GIFTBOX", 1)], paid_offset_s=2),
           order("o3", [("CUP", 1)], paid_offset_s=3))
    drain(runtime)
    assert _states(db) == {"o1": "reserved", "o2": "awaiting_stock", "o3": "reserved"}
    assert _order(db, "o2")["short"] == ["LID"]
    assert _held(db, "o2") == []
    assert _levels(db) == {("CUP", "WH1"): (4, 3), ("LID", "WH1"): (1, 1)}
    assert run_checks(db) == []


def test_a_bundle_and_its_component_sold_alone_share_the_same_stock_first_paid_first_served(runtime, db):
    make_catalog(db, skus={"CUP": 2, "LID": 5}, bundles={"GIFTBOX": [("CUP", 2), ("LID", 1)]})
    submit(runtime, order("o2", [("GIFTBOX", 1)], paid_offset_s=2),
           order("o1", [("CUP", 1)], paid_offset_s=1))
    drain(runtime)
    assert _states(db) == {"o1": "reserved", "o2": "awaiting_stock"}
    assert _levels(db) == {("CUP", "WH1"): (2, 1), ("LID", "WH1"): (5, 0)}
    assert run_checks(db) == []


# ---------------------------------------------------------------------------------------------- warehouses


def test_an_order_falls_back_to_the_second_warehouse_when_the_default_lacks_stock(runtime, db):
    ids = make_catalog(db, skus={"A": 1}, warehouses=("WH1", "WH2"))
    inventory.adjust_stock(db, sku_id=ids["A"], warehouse_id=ids["WH2"], delta=5, kind=MoveKind.receipt)
    submit(runtime, order("o1", [("A", 1)], paid_offset_s=1), order("o2", [("A", 2)], paid_offset_s=2))
    drain(runtime)
    assert (_order(db, "o1")["warehouse"], _order(db, "o2")["warehouse"]) == ("WH1", "WH2")
    assert _held(db, "o2") == [("A", "WH2", 2)]
    assert _levels(db) == {("A", "WH1"): (1, 1), ("A", "WH2"): (5, 2)}
    assert run_checks(db) == []


def test_an_order_is_served_whole_from_one_warehouse_rather_than_split(runtime, db):
    ids = make_catalog(db, skus={"A": 5, "B": 0}, warehouses=("WH1", "WH2"))
    for code in ("A", "B"):
        inventory.adjust_stock(db, sku_id=ids[code], warehouse_id=ids["WH2"], delta=3, kind=MoveKind.receipt)
    submit(runtime, order("o1", [("A", 1), ("B", 1)]))
    drain(runtime)
    assert _order(db, "o1")["warehouse"] == "WH2"
    assert _held(db, "o1") == [("A", "WH2", 1), ("B", "WH2", 1)]
    assert _levels(db)[("A", "WH1")] == (5, 0)
    assert run_checks(db) == []


def test_an_order_no_warehouse_can_cover_alone_waits_and_names_what_the_default_lacks(runtime, db):
    ids = make_catalog(db, skus={"A": 1}, warehouses=("WH1", "WH2"))
    inventory.adjust_stock(db, sku_id=ids["A"], warehouse_id=ids["WH2"], delta=1, kind=MoveKind.receipt)
    submit(runtime, order("o1", [("A", 2)]))
    drain(runtime)
    found = _order(db, "o1")
    assert (found["state"], found["warehouse"], found["short"]) == ("awaiting_stock", None, ["A"])
    assert _levels(db) == {("A", "WH1"): (1, 0), ("A", "WH2"): (1, 0)}
    assert run_checks(db) == []


# ---------------------------------------------------------------------------------------------- anomalies


def test_an_order_with_an_unknown_sku_is_held_and_reserves_nothing(runtime, db):
    make_catalog(db, skus={"A": 5})
    submit(runtime, order("o1", [("A", 1), ("GHOST", 1)]))
    drain(runtime)
    found = _order(db, "o1")
    assert (found["state"], found["anomalies"]) == ("held", ["unknown_sku"])
    assert _all_held(db) == 0
    assert _levels(db) == {("A", "WH1"): (5, 0)}
    assert run_checks(db) == []


def test_an_unpaid_order_with_an_unknown_sku_is_held_once_it_is_paid(runtime, db):
    make_catalog(db, skus={"A": 5})
    submit(runtime, order("o1", [("A", 1), ("GHOST", 1)], status="unpaid"))
    drain(runtime)
    submit(runtime, order("o1", [("A", 1), ("GHOST", 1)], paid_offset_s=10))
    drain(runtime)
    assert _order(db, "o1")["state"] == "held"
    assert _all_held(db) == 0
    assert run_checks(db) == []


def test_an_order_whose_amounts_do_not_add_up_is_flagged_but_still_reserved(runtime, db):
    make_catalog(db, skus={"A": 5})
    submit(runtime, order("o1", [("A", 2)], paid_total_fen=1))
    drain(runtime)
    found = _order(db, "o1")
    assert (found["state"], found["anomalies"]) == ("reserved", ["amount_mismatch"])
    assert _held(db, "o1") == [("A", "WH1", 2)]
    assert run_checks(db) == []


def test_an_order_without_an_address_is_flagged_but_still_reserved(runtime, db):
    make_catalog(db, skus={"A": 5})
    no_city = {"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "",
               "address": "文三路 1 号"}
    submit(runtime, order("o1", [("A", 1)], receiver=None), order("o2", [("A", 1)], receiver=no_city))
    drain(runtime)
    for oid in ("o1", "o2"):
        found = _order(db, oid)
        assert (found["state"], found["anomalies"]) == ("reserved", ["missing_address"]), oid
    assert _levels(db) == {("A", "WH1"): (5, 2)}
    assert run_checks(db) == []


def test_a_later_event_with_the_address_filled_in_clears_the_missing_address_flag(runtime, db):
    make_catalog(db, skus={"A": 5})
    submit(runtime, order("o1", [("A", 1)], receiver=None, paid_total_fen=1))
    drain(runtime)
    submit(runtime, order("o1", [("A", 1)], status="shipped", updated_offset_s=60, paid_total_fen=1))
    drain(runtime)
    assert _order(db, "o1")["anomalies"] == ["amount_mismatch"]
    assert run_checks(db) == []


# ---------------------------------------------------------------------------------------------- life cycle


def test_an_unpaid_order_reserves_nothing_until_the_paid_event_arrives(runtime, db):
    make_catalog(db, skus={"A": 5})
    submit(runtime, order("o1", [("A", 2)], status="unpaid"))
    drain(runtime)
    assert _order(db, "o1")["state"] == "unpaid"
    assert _levels(db) == {("A", "WH1"): (5, 0)}
    submit(runtime, order("o1", [("A", 2)], paid_offset_s=30))
    drain(runtime)
    assert _order(db, "o1")["state"] == "reserved"
    assert _held(db, "o1") == [("A", "WH1", 2)]
    assert _levels(db) == {("A", "WH1"): (5, 2)}
    assert run_checks(db) == []


def test_unpaid_and_paid_events_in_the_same_batch_reserve_once(runtime, db):
    make_catalog(db, skus={"A": 5})
    submit(runtime, order("o1", [("A", 2)], paid_offset_s=30), order("o1", [("A", 2)], status="unpaid"))
    drain(runtime)
    assert _order(db, "o1")["state"] == "reserved"
    assert _levels(db) == {("A", "WH1"): (5, 2)}
    assert run_checks(db) == []


def test_a_shipped_event_consumes_the_reservation_from_on_hand_and_reserved(runtime, db):
    ids = make_catalog(db, skus={"A": 10})
    submit(runtime, order("o1", [("A", 2)]))
    drain(runtime)
    submit(runtime, order("o1", [("A", 2)], status="shipped", updated_offset_s=3600))
    drain(runtime)
    assert _order(db, "o1")["state"] == "shipped"
    assert _levels(db) == {("A", "WH1"): (8, 0)}
    assert _held(db, "o1") == []
    with db.read() as s:
        ((order_id,),) = fetchall(s, "SELECT id FROM sales_order WHERE platform_order_id = 'o1'")
        moves = fetchall(s, "SELECT sku_id, warehouse_id, on_hand_delta, reserved_delta, order_id "
                            "FROM stock_move WHERE kind = ?", (MoveKind.ship.value,))
    assert moves == [(ids["A"], ids["WH1"], -2, -2, order_id)]
    submit(runtime, order("o1", [("A", 2)], status="completed", updated_offset_s=7200))
    drain(runtime)
    assert _order(db, "o1")["state"] == "completed"
    assert _levels(db) == {("A", "WH1"): (8, 0)}
    assert run_checks(db) == []


def test_a_shipped_event_for_an_order_that_waited_is_flagged_and_leaves_the_waiting_list(runtime, db):
    make_catalog(db, skus={"A": 1})
    submit(runtime, order("o1", [("A", 2)]))
    drain(runtime)
    submit(runtime, order("o1", [("A", 2)], status="shipped", updated_offset_s=60))
    drain(runtime)
    found = _order(db, "o1")
    assert (found["state"], found["anomalies"]) == ("shipped", ["shipped_without_stock"])
    assert _levels(db) == {("A", "WH1"): (1, 0)}
    assert run_checks(db) == []


def test_a_cancelled_reserved_order_gives_its_stock_back_with_a_release_move(runtime, db):
    make_catalog(db, skus={"A": 3})
    submit(runtime, order("o1", [("A", 3)]))
    drain(runtime)
    submit(runtime, order("o1", [("A", 3)], status="refunded", updated_offset_s=60))
    drain(runtime)
    assert _order(db, "o1")["state"] == "cancelled"
    assert _levels(db) == {("A", "WH1"): (3, 0)}
    with db.read() as s:
        released = fetchall(s, "SELECT on_hand_delta, reserved_delta FROM stock_move WHERE kind = 'release'")
    assert released == [(0, -3)]
    assert run_checks(db) == []


# ---------------------------------------------------------------------------------------------- stock arrives


def test_a_stock_adjustment_serves_waiting_orders_in_paid_order_whole_or_not_at_all(runtime, db):
    ids = make_catalog(db, skus={"A": 0})
    submit(runtime, order("o3", [("A", 1)], paid_offset_s=3))
    drain(runtime)
    submit(runtime, order("o1", [("A", 3)], paid_offset_s=1), order("o2", [("A", 1)], paid_offset_s=2))
    drain(runtime)
    assert _states(db) == {"o1": "awaiting_stock", "o2": "awaiting_stock", "o3": "awaiting_stock"}

    inventory.adjust_stock(db, sku_id=ids["A"], warehouse_id=ids["WH1"], delta=1)
    assert pipeline.retry_awaiting_stock(db) == 1
    assert _states(db) == {"o1": "awaiting_stock", "o2": "reserved", "o3": "awaiting_stock"}

    inventory.adjust_stock(db, sku_id=ids["A"], warehouse_id=ids["WH1"], delta=3)
    drain(runtime)
    assert _states(db) == {"o1": "reserved", "o2": "reserved", "o3": "awaiting_stock"}
    assert _levels(db) == {("A", "WH1"): (4, 4)}

    inventory.adjust_stock(db, sku_id=ids["A"], warehouse_id=ids["WH1"], delta=1)
    drain(runtime)
    assert _states(db) == {"o1": "reserved", "o2": "reserved", "o3": "reserved"}
    assert [h["by"] for h in _history(db, "o1", kind="reserved")] == ["stock arrived"]
    assert run_checks(db) == []


def test_a_later_small_order_is_served_while_an_earlier_big_one_still_waits(runtime, db):
    ids = make_catalog(db, skus={"A": 0})
    submit(runtime, order("big", [("A", 5)], paid_offset_s=1), order("small", [("A", 2)], paid_offset_s=2))
    drain(runtime)
    inventory.adjust_stock(db, sku_id=ids["A"], warehouse_id=ids["WH1"], delta=3)
    drain(runtime)
    assert _states(db) == {"big": "awaiting_stock", "small": "reserved"}
    assert _levels(db) == {("A", "WH1"): (3, 2)}
    assert run_checks(db) == []


def test_a_new_order_arriving_after_a_restock_does_not_jump_ahead_of_orders_already_waiting(runtime, db):
    ids = make_catalog(db, skus={"A": 0})
    submit(runtime, order("early", [("A", 1)], paid_offset_s=1))
    drain(runtime)
    inventory.adjust_stock(db, sku_id=ids["A"], warehouse_id=ids["WH1"], delta=1)
    submit(runtime, order("late", [("A", 1)], paid_offset_s=2))
    drain(runtime)
    assert _states(db) == {"early": "reserved", "late": "awaiting_stock"}
    assert run_checks(db) == []


def test_an_order_paid_earlier_but_delivered_after_a_restock_is_served_before_the_waiting_one(runtime, db):
    ids = make_catalog(db, skus={"A": 0})
    submit(runtime, order("waiting", [("A", 1)], paid_offset_s=5))
    drain(runtime)
    inventory.adjust_stock(db, sku_id=ids["A"], warehouse_id=ids["WH1"], delta=1)
    submit(runtime, order("delayed", [("A", 1)], paid_offset_s=1))
    drain(runtime)
    assert _states(db) == {"waiting": "awaiting_stock", "delayed": "reserved"}
    assert run_checks(db) == []


def test_stock_released_by_a_cancellation_goes_to_the_first_paid_waiting_order(runtime, db):
    make_catalog(db, skus={"A": 2})
    submit(runtime, order("o1", [("A", 2)], paid_offset_s=1), order("o3", [("A", 1)], paid_offset_s=3),
           order("o2", [("A", 2)], paid_offset_s=2))
    drain(runtime)
    assert _states(db) == {"o1": "reserved", "o2": "awaiting_stock", "o3": "awaiting_stock"}
    submit(runtime, order("o1", [("A", 2)], status="cancelled", paid_offset_s=1, updated_offset_s=60))
    drain(runtime)
    assert _states(db) == {"o1": "cancelled", "o2": "reserved", "o3": "awaiting_stock"}
    assert run_checks(db) == []


# ---------------------------------------------------------------------------------------------- live sessions


def test_an_order_paid_during_a_live_session_is_attributed_to_it(runtime, db):
    make_catalog(db, skus={"A": 10})
    session = catalog.create_live_session(db, data=catalog_schemas.LiveSessionCreate(
        shop="SHOP-A", title="双11 专场", host="主播小美", room_id="ROOM-1",
        started_at=T0 - timedelta(hours=1), ended_at=T0 + timedelta(hours=1), featured_skus=["A"]))
    submit(runtime, order("inside", [("A", 1)]),
           order("by-room", [("A", 1)], paid_offset_s=1800, live_room_id="ROOM-1"),
           order("after", [("A", 1)], paid_offset_s=3600),
           order("before", [("A", 1)], paid_offset_s=-3601))
    drain(runtime)
    sessions = {oid: _order(db, oid)["live_session_id"] for oid in ("inside", "by-room", "after", "before")}
    assert sessions == {"inside": session["id"], "by-room": session["id"], "after": None, "before": None}
    assert run_checks(db) == []


def test_an_unpaid_order_is_not_attributed_to_the_live_session(runtime, db):
    make_catalog(db, skus={"A": 10})
    catalog.create_live_session(db, data=catalog_schemas.LiveSessionCreate(
        shop="SHOP-A", title="专场", host="主播", started_at=T0 - timedelta(hours=1)))
    submit(runtime, order("o1", [("A", 1)], status="unpaid"), order("o2", [("A", 1)]))
    drain(runtime)
    assert _order(db, "o1")["live_session_id"] is None
    assert _order(db, "o2")["live_session_id"] is not None
    submit(runtime, order("o1", [("A", 1)], updated_offset_s=30))  # paid later, during the session
    drain(runtime)
    assert _order(db, "o1")["live_session_id"] == _order(db, "o2")["live_session_id"]
    submit(runtime, order("o1", [("A", 1)], status="shipped", updated_offset_s=60))
    drain(runtime)
    assert _order(db, "o1")["live_session_id"] is not None  # and it stays
    assert run_checks(db) == []


# ---------------------------------------------------------------------------------------------- history


def test_every_event_of_an_order_leaves_a_history_row_saying_what_was_done(runtime, db):
    make_catalog(db, skus={"A": 5})
    submit(runtime, order("o1", [("A", 1)]))
    drain(runtime)
    submit(runtime, order("o1", [("A", 1)], status="shipped", updated_offset_s=60),
           order("o1", [("A", 1)], updated_offset_s=30))
    again = submit(runtime, order("o1", [("A", 1)]))
    drain(runtime)
    submit(runtime, order("o1", [("A", 1)], updated_offset_s=10))
    drain(runtime)
    history = _history(db, "o1")
    assert again.duplicates == 1
    assert [(h["status"], h["outcome"]) for h in history] == [
        ("paid", "reserved"), ("paid", "superseded"), ("shipped", "shipped"), ("paid", "stale")]
    assert len({h["event_id"] for h in history}) == 4
    assert history[0]["warehouse_id"] is not None
    assert run_checks(db) == []


def test_a_waiting_order_records_the_skus_it_waits_for_in_its_history(runtime, db):
    make_catalog(db, skus={"A": 0, "B": 3})
    submit(runtime, order("o1", [("A", 1), ("B", 1)]))
    drain(runtime)
    (detail,) = _history(db, "o1")
    assert detail["outcome"] == "awaiting_stock"
    assert len(detail["short_sku_ids"]) == 1
    assert _order(db, "o1")["short"] == ["A"]
    assert run_checks(db) == []


def _retry_marks(db):
    with db.read() as s:
        codes = dict(fetchall(s, "SELECT id, code FROM sku"))
        return sorted(codes[r[0]] for r in fetchall(s, "SELECT sku_id FROM inventory_retry"))


@pytest.mark.parametrize("warehouses", [("WH1",), ("WH1", "WH2")], ids=["one-warehouse", "empty-fallback"])
def test_a_release_of_a_sku_waiting_orders_merely_contain_does_not_trigger_a_retry(runtime, db, warehouses):
    """o2 waits for HOT; it also contains PLAIN. PLAIN coming free (o1 cancelled) cannot help it, so no
    retry is asked for (on a big waiting list, such retries would page through it for nothing) — also
    when a fallback warehouse lacks both: HOT is lacking there too, so watching HOT covers it."""
    ids = make_catalog(db, skus={"HOT": 0, "PLAIN": 100}, warehouses=warehouses)
    submit(runtime, order("o1", [("PLAIN", 1)], paid_offset_s=1),
           order("o2", [("HOT", 1), ("PLAIN", 1)], paid_offset_s=2))
    drain(runtime)
    assert _order(db, "o2")["short"] == ["HOT"]
    submit(runtime, order("o1", [("PLAIN", 1)], status="cancelled", paid_offset_s=1, updated_offset_s=60))
    runtime.worker().run_once()  # the batch only: no retry pass yet
    assert _retry_marks(db) == []
    inventory.adjust_stock(db, sku_id=ids["HOT"], warehouse_id=ids["WH1"], delta=1)
    assert _retry_marks(db) == ["HOT"]
    drain(runtime)
    assert _order(db, "o2")["state"] == "reserved"
    assert run_checks(db) == []


def test_a_retried_order_now_short_of_another_sku_is_retried_when_that_sku_arrives(runtime, db):
    """o1 waits for A. A arrives, but B was taken meanwhile by o2: o1 now waits for B, and B arriving
    must serve it."""
    ids = make_catalog(db, skus={"A": 0, "B": 1})
    submit(runtime, order("o1", [("A", 1), ("B", 1)], paid_offset_s=1))
    drain(runtime)
    assert _order(db, "o1")["short"] == ["A"]
    submit(runtime, order("o2", [("B", 1)], paid_offset_s=2))
    drain(runtime)
    assert _order(db, "o2")["state"] == "reserved"
    inventory.adjust_stock(db, sku_id=ids["A"], warehouse_id=ids["WH1"], delta=1)
    drain(runtime)
    assert _order(db, "o1")["state"] == "awaiting_stock"
    assert _order(db, "o1")["short"] == ["B"]
    inventory.adjust_stock(db, sku_id=ids["B"], warehouse_id=ids["WH1"], delta=1)
    drain(runtime)
    assert _order(db, "o1")["state"] == "reserved"
    assert run_checks(db) == []


def test_an_order_short_in_different_warehouses_is_retried_when_either_sku_arrives(runtime, db):
    """WH1 has A but not B, WH2 has B but not A: the order waits (whole from one warehouse). A arriving
    in WH2 completes WH2, so it must trigger a retry although WH1 (the first choice) lacks only B."""
    ids = make_catalog(db, skus={"A": 1, "B": 0}, warehouses=("WH1", "WH2"))
    inventory.adjust_stock(db, sku_id=ids["B"], warehouse_id=ids["WH2"], delta=1, kind=MoveKind.receipt)
    submit(runtime, order("o1", [("A", 1), ("B", 1)]))
    drain(runtime)
    assert _order(db, "o1")["state"] == "awaiting_stock"
    inventory.adjust_stock(db, sku_id=ids["A"], warehouse_id=ids["WH2"], delta=1, kind=MoveKind.receipt)
    drain(runtime)
    assert _order(db, "o1")["state"] == "reserved" and _order(db, "o1")["warehouse"] == "WH2"
    assert run_checks(db) == []


def test_a_retry_that_uses_up_one_sku_still_serves_orders_waiting_for_another(runtime, db):
    """Two SKUs come back at once. The orders waiting for A come first in paid order and fill the first
    page; A runs out there. The order waiting for C is further down the list and must still be served."""
    ids = make_catalog(db, skus={"A": 0, "C": 0})
    submit(runtime, *[order(f"a{i}", [("A", 1)], paid_offset_s=i) for i in range(12)],
           order("c1", [("C", 1)], paid_offset_s=100))
    drain(runtime)
    inventory.adjust_stock(db, sku_id=ids["A"], warehouse_id=ids["WH1"], delta=1)
    inventory.adjust_stock(db, sku_id=ids["C"], warehouse_id=ids["WH1"], delta=5)
    assert pipeline.retry_awaiting_stock(db, page_size=8) == 2
    assert _order(db, "a0")["state"] == "reserved" and _order(db, "c1")["state"] == "reserved"
    assert _order(db, "a1")["state"] == "awaiting_stock"
    assert _retry_marks(db) == []
    assert run_checks(db) == []
