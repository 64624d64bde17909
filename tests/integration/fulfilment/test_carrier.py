"""Courier and waybill, then the whole warehouse path, on both databases against the simulator's e-waybill
service: without a carrier account orders wait; with one, the carrier rules choose, numbers are obtained in
the background and taken by the orders, which then wave, pack and ship with that number."""

from __future__ import annotations

from baodan.core.db import execute, fetchall
from baodan.fulfilment import packing, waves
from baodan.fulfilment.carrier import carrier_once
from baodan.fulfilment.review import review_once
from baodan.fulfilment.routing import route_once
from baodan.rules.store import RuleBook
from tests.helpers import make_catalog
from tests.integration.fulfilment.test_review import _ingest, _order
from tests.integration.waybills.conftest import account, desk, fast_services, sim  # noqa: F401 (fixtures)


def test_couriers_are_chosen_numbers_taken_and_the_parcel_ships_with_its_number(runtime, db, sim, desk,  # noqa: F811
                                                                                  account, fast_services) -> None:  # noqa: F811
    ids = make_catalog(db, skus={"A": 100})
    with db.write() as s:
        execute(s, "UPDATE sku SET barcode = '6900000000017'")
    _ingest(runtime, [_order(n) for n in range(601, 606)])
    book = RuleBook(db)
    review_once(db, runtime.pii, book)
    route_once(db, book)
    assert carrier_once(db, book).queued == 0  # no carrier account yet: the orders wait
    account("cainiao", carrier_code="ZTO", low_water=10, refill_batch=10)
    assert carrier_once(db, book).queued == 5
    assert carrier_once(db, book).ready == 0  # queued: the numbers come from the desk, in the background
    desk.refill_once()
    assert carrier_once(db, book).ready == 5
    with db.read() as s:
        rows = fetchall(s, "SELECT order_id, stage, carrier_code, waybill_no FROM fulfilment ORDER BY order_id")
        decided = {r[0] for r in fetchall(s, "SELECT outcome FROM order_decision WHERE hook = 'carrier'")}
    assert {(stage, carrier) for _, stage, carrier, _ in rows} == {("ready", "ZTO")}
    assert len({waybill for *_, waybill in rows}) == 5 and decided == {"ZTO"}
    (wave,) = waves.build_waves(db, warehouse_id=ids["WH1"], actor="user:wh")
    order_id, _, _, waybill = rows[0]
    packing.scan_waybill(db, waybill)
    packing.scan_item(db, order_id, "6900000000017")
    assert packing.confirm(db, order_id, weight_g=500, actor="user:packer")["shipment"]["waybill_no"] == waybill
    assert wave["orders"] == 5
