"""`run_checks` finds the references the database does not enforce on the pipeline's bulk tables."""

import pytest

from baodan.check import ORPHANS, run_checks
from baodan.core.db import execute, fetchall
from tests.helpers import drain, make_catalog, order, submit


@pytest.mark.parametrize(("table", "column", "parent"), ORPHANS)
def test_a_row_pointing_at_nothing_is_reported(runtime, db, table, column, parent) -> None:
    make_catalog(db, skus={"A": 2})
    submit(runtime, order("o1", [("A", 2)], paid_offset_s=1), order("o2", [("A", 1)], paid_offset_s=2))
    drain(runtime)  # o1 reserved, o2 waits: every bulk table has rows
    assert run_checks(db) == []
    with db.write() as s:
        ((row_count,),) = fetchall(s, f"SELECT count(*) FROM {table}")
        assert row_count >= 1, f"the scenario should have written {table}"
        execute(s, f"UPDATE {table} SET {column} = 999999")
    problems = [p for p in run_checks(db) if p.code == "orphan_row"]
    assert any(f"{table} row(s) refer to {parent} 999999" in p.message for p in problems), problems
