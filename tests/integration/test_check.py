"""`run_checks` finds the references the database does not enforce on the pipeline's bulk tables."""

import pytest

from baodan.check import ORPHANS, run_checks
from baodan.core.db import execute, fetchall
from baodan.fulfilment.review import review_once
from baodan.orders import shipping
from baodan.rules.store import RuleBook
from tests.helpers import drain, make_catalog, order, submit


@pytest.mark.parametrize(("table", "column", "parent"), ORPHANS)
def test_a_row_pointing_at_nothing_is_reported(runtime, db, table, column, parent) -> None:
    make_catalog(db, skus={"A": 3})
    submit(runtime, order("o1", [("A", 2)], paid_offset_s=1), order("o3", [("A", 1)], paid_offset_s=1.5),
           order("o2", [("A", 1)], paid_offset_s=2), order("o4", [("A", 1)], paid_offset_s=3, supersedes=["o9"]))
    drain(runtime)  # o1 reserved, o2 and o4 wait, o4 replaces an o9 not seen yet
    with db.read() as s:
        ((o3,),) = fetchall(s, "SELECT id FROM sales_order WHERE platform_order_id = 'o3'")
    shipping.ship_order(db, order_id=o3, carrier_code="ZTO", waybill_no="ZT100", actor="system:test")
    review_once(db, runtime.pii, RuleBook(db))  # o1 enters fulfilment
    _warehouse_rows(db, o3)
    assert run_checks(db) == []  # every table checked has rows now
    with db.write() as s:
        ((row_count,),) = fetchall(s, f"SELECT count(*) FROM {table}")
        assert row_count >= 1, f"the scenario should have written {table}"
        # one value (a key column may not repeat), or every row where the scenario left the column empty
        execute(s, f"UPDATE {table} SET {column} = 999999 WHERE {column} IS NULL "
                   f"OR {column} = (SELECT min({column}) FROM {table})")
    problems = [p for p in run_checks(db) if p.code == "orphan_row"]
    assert any(f"{table} row(s) refer to {parent} 999999" in p.message for p in problems), problems


def _warehouse_rows(db, order_id: int) -> None:
    """A wave, a bin, a carrier account, a queued order and an issued number, all pointing at real rows (the
    fulfilment steps that write them are tested on their own)."""
    from sqlalchemy import insert, select

    from baodan.catalog.tables import sku, warehouse
    from baodan.core import clock
    from baodan.fulfilment.tables import bin_location, wave
    from baodan.waybills.tables import carrier_account, waybill, waybill_request

    now = clock.utcnow()
    with db.write() as s:
        warehouse_id = s.scalar(select(warehouse.c.id))
        s.execute(insert(wave).values(warehouse_id=warehouse_id, kind="mixed", status="open", orders=0, units=0,
                                      created_by="test", created_at=now))
        s.execute(insert(bin_location).values(sku_id=s.scalar(select(sku.c.id)), warehouse_id=warehouse_id,
                                              location="A-01-01", zone="A"))
        account_id = s.execute(insert(carrier_account).values(
            name="ZTO", adapter="cainiao", carrier_code="ZTO", app_key="k", secrets_sealed="-", sender={},
            warehouse_id=warehouse_id, low_water=0, refill_batch=1, active=False, updated_by="test",
            updated_at=now).returning(carrier_account.c.id)).scalar_one()
        s.execute(insert(waybill_request).values(order_id=order_id, account_id=account_id, object_id="1",
                                                 requested_at=now, next_at=now, attempts=0))
        s.execute(insert(waybill).values(account_id=account_id, order_id=order_id, object_id="1", carrier_code="ZTO",
                                         waybill_no="ZT100", state="used", issued_at=now, cancel_attempts=0))
