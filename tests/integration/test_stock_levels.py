"""Stock levels change only through one conditional set-based statement per batch."""

import pytest

from baodan.core import clock
from baodan.core.db import fetchall
from baodan.inventory.errors import StockLevelConflict
from baodan.inventory.repository import apply_level_deltas
from tests.helpers import make_catalog


def _levels(db):
    with db.read() as s:
        return dict((r[0], (r[1], r[2])) for r in fetchall(s, "SELECT sku_id, on_hand, reserved FROM stock_level"))


def test_many_levels_change_in_one_statement(db) -> None:
    ids = make_catalog(db, skus={"A": 5, "B": 5})
    with db.write() as s:
        apply_level_deltas(s, {(ids["A"], ids["WH1"]): (0, 3), (ids["B"], ids["WH1"]): (-2, -0)},
                           now=clock.utcnow())
    assert _levels(db) == {ids["A"]: (5, 3), ids["B"]: (3, 0)}


@pytest.mark.parametrize(("delta", "why"), [((0, 6), "reserve more than on hand"),
                                            ((-6, 0), "on hand below zero"),
                                            ((0, -1), "reserved below zero")])
def test_a_delta_that_would_break_a_level_refuses_the_whole_statement(db, delta, why) -> None:
    ids = make_catalog(db, skus={"A": 5, "B": 5})
    with pytest.raises(StockLevelConflict), db.write() as s:
        apply_level_deltas(s, {(ids["A"], ids["WH1"]): (0, 1), (ids["B"], ids["WH1"]): delta}, now=clock.utcnow())
    assert _levels(db) == {ids["A"]: (5, 0), ids["B"]: (5, 0)}, why
