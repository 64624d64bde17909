"""The batch pipeline on a real database (SQLite and PostgreSQL)."""

from baodan.check import run_checks
from baodan.core.db import fetchall
from tests.helpers import drain, make_catalog, order, submit


def _states(db):
    with db.read() as s:
        return dict(fetchall(s, "SELECT platform_order_id, state FROM sales_order"))


def test_paid_orders_are_reserved_first_paid_first_served_and_the_rest_wait(runtime, db):
    make_catalog(db, skus={"HOT": 2})
    submit(runtime, order("o3", [("HOT", 1)], paid_offset_s=3), order("o1", [("HOT", 1)], paid_offset_s=1),
           order("o2", [("HOT", 1)], paid_offset_s=2))
    drain(runtime)
    assert _states(db) == {"o1": "reserved", "o2": "reserved", "o3": "awaiting_stock"}
    assert run_checks(db) == []


def test_redelivered_event_is_counted_and_not_processed_twice(runtime, db):
    make_catalog(db, skus={"A": 10})
    first = submit(runtime, order("o1", [("A", 2)]))
    again = submit(runtime, order("o1", [("A", 2)]))
    drain(runtime)
    assert (first.accepted, again.duplicates) == (1, 1)
    with db.read() as s:
        assert fetchall(s, "SELECT reserved FROM stock_level") == [(2,)]


def test_cancellation_releases_and_stock_goes_to_the_waiting_order(runtime, db):
    make_catalog(db, skus={"A": 1})
    submit(runtime, order("o1", [("A", 1)], paid_offset_s=1), order("o2", [("A", 1)], paid_offset_s=2))
    drain(runtime)
    submit(runtime, order("o1", [("A", 1)], status="cancelled", paid_offset_s=1, updated_offset_s=60))
    drain(runtime)
    assert _states(db) == {"o1": "cancelled", "o2": "reserved"}
    assert run_checks(db) == []


def test_stale_event_never_overwrites_a_newer_status(runtime, db):
    make_catalog(db, skus={"A": 5})
    submit(runtime, order("o1", [("A", 1)], status="cancelled", updated_offset_s=30))
    submit(runtime, order("o1", [("A", 1)]))
    drain(runtime)
    assert _states(db) == {"o1": "cancelled"}
    with db.read() as s:
        assert fetchall(s, "SELECT reserved FROM stock_level") == [(0,)]
