"""Platform-side splits and merges: the original and its parts both arrive (in any order, in one batch or
several); the replaced orders are cancelled and release what they held, so nothing ships twice."""

from __future__ import annotations

from typing import Any

from baodan.check import run_checks
from baodan.core.db import fetchall, read_json
from tests.helpers import drain, make_catalog, order, submit


def _orders(db: Any) -> dict[str, tuple[str, list[str]]]:
    with db.read() as s:
        return {o: (st, sorted(read_json(a))) for o, st, a in fetchall(
            s, "SELECT platform_order_id, state, anomalies FROM sales_order")}


def _reserved(db: Any) -> dict[int, int]:
    with db.read() as s:
        return {sku: qty for sku, qty in fetchall(s, "SELECT sku_id, sum(qty) FROM reservation GROUP BY sku_id")}


def _parts(**kw: Any) -> list[dict[str, Any]]:
    return [order("o1-1", [("A", 2)], supersedes=["o1"], updated_offset_s=30, **kw),
            order("o1-2", [("B", 1)], supersedes=["o1"], updated_offset_s=30, **kw)]


def test_a_split_cancels_the_original_and_its_parts_hold_the_stock(runtime, db) -> None:
    ids = make_catalog(db, skus={"A": 5, "B": 5})
    submit(runtime, order("o1", [("A", 2), ("B", 1)]))
    drain(runtime)
    submit(runtime, *_parts())
    drain(runtime)
    got = _orders(db)
    assert got["o1"] == ("cancelled", ["superseded"])
    assert got["o1-1"][0] == got["o1-2"][0] == "reserved"
    assert _reserved(db) == {ids["A"]: 2, ids["B"]: 1}  # held once, by the parts
    assert run_checks(db) == []


def test_parts_first_then_the_original_and_all_in_one_batch(runtime, db) -> None:
    ids = make_catalog(db, skus={"A": 5, "B": 5})
    submit(runtime, *_parts())
    drain(runtime)
    submit(runtime, order("o1", [("A", 2), ("B", 1)]))  # the original, late: cancelled on arrival
    drain(runtime)
    assert _orders(db)["o1"] == ("cancelled", ["superseded"])
    assert _reserved(db) == {ids["A"]: 2, ids["B"]: 1}
    submit(runtime, order("o2", [("A", 1)]), order("o2-1", [("A", 1)], supersedes=["o2"], updated_offset_s=5))
    drain(runtime)  # one batch
    assert _orders(db)["o2"] == ("cancelled", ["superseded"]) and _orders(db)["o2-1"][0] == "reserved"
    assert _reserved(db) == {ids["A"]: 3, ids["B"]: 1}
    assert run_checks(db) == []


def test_a_merge_cancels_every_order_it_replaces(runtime, db) -> None:
    ids = make_catalog(db, skus={"A": 3})
    submit(runtime, order("o1", [("A", 1)]), order("o2", [("A", 1)]), order("o3", [("A", 1)]))
    drain(runtime)
    submit(runtime, order("m1", [("A", 2)], supersedes=["o1", "o2"], updated_offset_s=60))
    drain(runtime)
    got = _orders(db)
    assert got["o1"][0] == got["o2"][0] == "cancelled" and got["m1"][0] == "reserved" and got["o3"][0] == "reserved"
    assert _reserved(db) == {ids["A"]: 3}
    assert run_checks(db) == []


def test_parts_of_an_order_that_already_shipped_are_held_not_shipped_again(runtime, db) -> None:
    make_catalog(db, skus={"A": 10, "B": 10})
    submit(runtime, order("o1", [("A", 2), ("B", 1)]))
    drain(runtime)
    submit(runtime, order("o1", [("A", 2), ("B", 1)], status="shipped", updated_offset_s=10))
    drain(runtime)
    submit(runtime, *_parts())
    drain(runtime)
    got = _orders(db)
    assert got["o1"][0] == "shipped"
    assert got["o1-1"] == got["o1-2"] == ("held", ["superseded_after_shipping"])
    assert _reserved(db) == {}
    assert run_checks(db) == []
