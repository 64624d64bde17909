"""Merging parcels (合单), on both databases against the simulator's e-waybill service: orders of one buyer to
one address paid within the window ship as one parcel under one number (one label with every item, one
scan-to-pack, each order written back with the waybill); another address, another buyer or a payment outside
the window ship on their own; a cancelled lead hands its merged orders back to the courier step."""

from __future__ import annotations

import io
from datetime import timedelta

from pypdf import PdfReader

from baodan.core.db import execute, fetchall
from baodan.fulfilment import packing, printing, waves
from baodan.fulfilment.carrier import carrier_once
from baodan.fulfilment.intercept import intercept_once
from baodan.fulfilment.merge import merge_once
from baodan.fulfilment.review import review_once
from baodan.fulfilment.routing import route_once
from baodan.orders.queries import order_detail
from baodan.rules.store import RuleBook
from tests.helpers import make_catalog
from tests.integration.fulfilment.test_review import _ingest, _order
from tests.integration.waybills.conftest import account, desk, fast_services, sim  # noqa: F401 (fixtures)

WINDOW = timedelta(minutes=30)
SAME = {"phone": "13800138000", "name": "李四"}


def _two_units(n: int, **over) -> dict:
    """Two of B, at a price of its own: the review holds one buyer's second order of the same amount as a
    suspected duplicate."""
    price = 5000 + n
    line = {"platform_line_id": f"{n}-1", "platform_sku_id": "P-B", "title": "B", "quantity": 2,
            "unit_price_fen": price, "discount_fen": 0, "amount_fen": 2 * price}
    return _order(n, lines=[line], goods_total_fen=2 * price, paid_total_fen=2 * price, **over)


def _ids(db) -> dict[str, int]:
    with db.read() as s:
        return {p: int(i) for i, p in fetchall(s, "SELECT id, platform_order_id FROM sales_order")}


def _fulfilment(db) -> dict[int, tuple]:
    with db.read() as s:
        return {int(r[0]): tuple(r[1:]) for r in fetchall(
            s, "SELECT order_id, stage, parcel_of, waybill_no, wave_id FROM fulfilment")}


def test_one_buyers_orders_to_one_address_ship_as_one_parcel(runtime, db, sim, desk, account,  # noqa: F811
                                                             fast_services) -> None:  # noqa: F811
    catalog = make_catalog(db, skus={"A": 100, "B": 100})
    with db.write() as s:
        execute(s, "UPDATE sku SET barcode = '690000000001' || CAST(id AS TEXT)")
    _ingest(runtime, [
        _order(801, receiver=SAME),
        _two_units(805, receiver={**SAME, "address": "文三路９０号 3幢502室"}),  # the same address, written wider
        _two_units(806, receiver={**SAME, "address": "天目山路1号"}),  # the same buyer, another address
        _two_units(807, receiver=SAME, paid_at="2026-12-03T11:00:07+08:00"),  # outside the window
        _two_units(808),  # another buyer
    ])
    ids = _ids(db)
    lead, member = ids[_order(801)["platform_order_id"]], ids[_order(805)["platform_order_id"]]
    book = RuleBook(db)
    review_once(db, runtime.pii, book)
    route_once(db, book)
    assert merge_once(db, runtime.pii, window=timedelta(0)) == 0  # no window: never merged
    assert merge_once(db, runtime.pii, window=WINDOW) == 1
    assert merge_once(db, runtime.pii, window=WINDOW) == 0  # merged once
    rows = _fulfilment(db)
    assert rows[member][:2] == ("merged", lead) and rows[lead][:2] == ("waybill", None)
    assert {rows[ids[_order(n)["platform_order_id"]]][0] for n in (806, 807, 808)} == {"waybill"}

    account("cainiao", carrier_code="ZTO", low_water=10, refill_batch=10)
    assert carrier_once(db, book).queued == 4  # the merged order takes no number of its own
    desk.refill_once()
    carrier_once(db, book)
    made = waves.build_waves(db, warehouse_id=catalog["WH1"], actor="user:wh")
    rows = _fulfilment(db)
    waybill, wave_id = rows[lead][2], rows[lead][3]
    assert rows[member] == ("merged", lead, None, wave_id)  # picked in its lead's wave
    assert sum(w["orders"] for w in made) == 4
    picked = {line["sku_code"]: line["qty"] for line in waves.pick_list(db, wave_id)["lines"]}
    assert picked["B"] >= 2 and picked["A"] >= 1

    pdf = io.BytesIO()
    run = printing.print_labels(db, runtime.pii, wave_id, pdf)
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf.getvalue())).pages]
    assert run.pages == next(w["orders"] for w in made if w["id"] == wave_id)  # one label for the parcel
    (label,) = [p for p in pages if f"订单 {_order(801)['platform_order_id']}" in p]
    assert "×1 A" in label and "×2 B" in label  # with the merged order's items
    assert not any(_order(805)["platform_order_id"] in p for p in pages)
    slip = PdfReader(io.BytesIO(printing.print_packing_slip(db, runtime.pii, member))).pages[0].extract_text()
    assert _order(801)["platform_order_id"] in slip and waybill in slip  # the parcel's slip, for either order
    assert "A 1 99.00" in slip and "B 2 58.05" in slip and "¥215.10" in slip  # both orders' items, what both paid

    parcel = packing.scan_waybill(db, waybill)
    assert parcel["order_id"] == lead and parcel["merged"] == [member]
    assert {i["sku_code"]: i["qty"] for i in parcel["items"]} == {"A": 1, "B": 2}
    packing.scan_item(db, lead, "A")
    packing.scan_item(db, lead, "B", qty=2)
    done = packing.confirm(db, lead, weight_g=800, actor="user:packer")
    assert done["merged"] == [member]
    with db.read() as s:
        shipped = dict(fetchall(s, "SELECT order_id, waybill_no FROM shipment"))
        detail = order_detail(s, member)
    assert shipped == {lead: waybill, member: waybill}  # each order writes the one waybill back
    assert _fulfilment(db)[member][0] == "shipped"
    assert [e["detail"] for e in detail["events"] if e["kind"] == "merged"] == [{"into": lead}]


def test_a_cancelled_lead_hands_its_merged_orders_back(runtime, db) -> None:
    make_catalog(db, skus={"A": 100, "B": 100})
    _ingest(runtime, [_order(811, receiver=SAME), _two_units(812, receiver=SAME), _two_units(813, receiver=SAME)])
    ids = _ids(db)
    lead = ids[_order(811)["platform_order_id"]]
    members = {ids[_order(n)["platform_order_id"]] for n in (812, 813)}
    book = RuleBook(db)
    review_once(db, runtime.pii, book)
    route_once(db, book)
    assert merge_once(db, runtime.pii, window=WINDOW) == 2
    _ingest(runtime, [_order(811, receiver=SAME, status="cancelled", updated_at="2026-12-03T10:05:00+08:00")])
    assert intercept_once(db) == 1
    rows = _fulfilment(db)
    assert rows[lead][0] == "intercepted"
    assert {rows[m][:2] for m in members} == {("waybill", None)}  # on their own again
    assert merge_once(db, runtime.pii, window=WINDOW) == 1  # and merged among themselves
    assert sorted(_fulfilment(db)[m][0] for m in members) == ["merged", "waybill"]
