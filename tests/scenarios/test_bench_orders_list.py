"""The order-list benchmark on a small fill: the data it writes passes `baodan check`, every query it times
answers (figures are the bench's job, not a test's)."""

import pytest

from baodan.bench import orders_list
from tests.conftest import PG_URL, require_pg


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def test_a_small_fill_is_consistent_and_every_query_answers_a_page(kind):
    if kind == "postgresql":
        require_pg()
    result = orders_list.run(orders=3000, db_kind=kind, database_url=PG_URL if kind == "postgresql" else None,
                             samples=1, limit=20, progress=False)
    assert result.check_problems == 0
    assert result.orders == 3000 and result.lines > 3000
    assert {"completed", "shipped", "reserved", "cancelled", "awaiting_stock", "held", "unpaid"} <= set(result.states)
    figures = result.runs[0]
    assert len(figures) >= 25
    listed = {name: f["rows"] for name, f in figures.items() if not name.startswith("dashboard")}
    assert listed["no filter"] == 20 and listed["buyer phone (blind index)"] >= 1
    assert all(f["p50_ms"] > 0 for f in figures.values())
