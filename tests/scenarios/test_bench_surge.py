"""The surge benchmark's own invariants on a small burst (figures are the bench's job, not a test's)."""

import pytest

from baodan.bench import surge
from tests.conftest import PG_URL, require_pg


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def test_small_surge_keeps_every_invariant(kind):
    if kind == "postgresql":
        require_pg()
    result = surge.run(orders=3000, db_kind=kind, database_url=PG_URL if kind == "postgresql" else None,
                       clients=2, chunk=250, progress=False)
    assert (result.oversold_units, result.lost_orders, result.duplicate_orders, result.ledger_mismatches,
            result.check_problems, result.wrong_status) == (0, 0, 0, 0, 0, 0)
    assert result.duplicates_counted == result.duplicates_sent > 0
    assert result.orders == 3000 and result.states["awaiting_stock"] > 0  # hot SKUs sold out part-way
    for figures in result.hot_skus.values():
        assert figures["reserved"] == figures["stock"] < figures["demand"]


def test_surge_over_http_keeps_every_invariant():
    result = surge.run(orders=1500, db_kind="sqlite", http=True, clients=2, chunk=250, progress=False)
    assert result.ok, result


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def test_small_fulfil_bench_takes_every_order_to_a_label(kind):
    from baodan.bench import fulfil

    if kind == "postgresql":
        require_pg()
    result = fulfil.run(orders=400, db_kind=kind, database_url=PG_URL if kind == "postgresql" else None,
                        progress=False)
    assert result.ok, result
    assert set(result.steps) == {"review", "route", "merge", "courier", "numbers", "take", "waves"}
    assert 0 < result.held < result.orders and result.labels == result.orders - result.held - result.merged
