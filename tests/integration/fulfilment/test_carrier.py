"""Courier and waybill, then the whole warehouse path, on both databases against the simulator's e-waybill
service: without a carrier account orders wait; with one, the carrier rules choose, numbers are obtained in
the background and taken by the orders, which then wave, pack and ship with that number."""

from __future__ import annotations

import copy
import io

import pytest
from pypdf import PdfReader

from baodan.core.db import execute, fetchall
from baodan.fulfilment import packing, printing, waves
from baodan.fulfilment.carrier import carrier_once
from baodan.fulfilment.review import review_once
from baodan.fulfilment.routing import route_once
from baodan.rules import store
from baodan.rules.engine import default_rules
from baodan.rules.store import RuleBook
from baodan.waybills.errors import InvalidAccount
from tests.helpers import API, error_body, make_catalog, sqlite_only
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


def test_accounts_serve_their_warehouse_within_their_daily_capacity(runtime, db, sim, desk,  # noqa: F811
                                                                     account, fast_services) -> None:  # noqa: F811
    ids = make_catalog(db, skus={"A": 100}, warehouses=("WH1", "WH2"))
    _ingest(runtime, [_order(n) for n in range(701, 708)])
    book = RuleBook(db)
    review_once(db, runtime.pii, book)
    route_once(db, book)
    other = account("cainiao", carrier_code="SF", name="SF-WH2", warehouse_id=ids["WH2"])
    assert carrier_once(db, book).queued == 0  # the only account numbers another warehouse's parcels
    zto = account("cainiao", carrier_code="ZTO", name="ZTO-WH1", warehouse_id=ids["WH1"], daily_capacity=3)
    yto = account("cainiao", carrier_code="YTO", name="YTO-any", daily_capacity=2)
    assert carrier_once(db, book).queued == 5  # 3 to ZTO (the default: first with room), then 2 to YTO
    with db.read() as s:
        queued = dict(fetchall(s, "SELECT account_id, count(*) FROM waybill_request GROUP BY account_id"))
        waiting = fetchall(s, "SELECT count(*) FROM fulfilment WHERE stage = 'waybill'")[0][0]
    assert queued == {zto: 3, yto: 2} and other not in queued and waiting == 2  # full today: they wait
    desk.refill_once()
    assert carrier_once(db, book).ready == 5
    assert carrier_once(db, book).queued == 0  # issued numbers count against today's capacity too
    with pytest.raises(InvalidAccount, match="warehouse_id"):
        account("cainiao", carrier_code="STO", name="nowhere", warehouse_id=999_999)


def test_the_rules_see_which_couriers_have_room_and_a_full_one_falls_back(runtime, db, sim, desk,  # noqa: F811
                                                                        account) -> None:  # noqa: F811
    make_catalog(db, skus={"A": 100})
    _ingest(runtime, [_order(n) for n in range(721, 725)])
    book = RuleBook(db)
    review_once(db, runtime.pii, book)
    route_once(db, book)
    zto = account("cainiao", carrier_code="ZTO", daily_capacity=1)
    yto = account("cainiao", carrier_code="YTO")
    graph = copy.deepcopy(default_rules("carrier"))
    table = next(n for n in graph["nodes"] if n["type"] == "decisionTableNode")
    table["content"]["inputs"].append({"id": "full", "name": "满", "field": "carriers_full"})
    for rule in table["content"]["rules"]:
        rule["full"] = ""
    table["content"]["rules"].insert(0, {**table["content"]["rules"][0], "_id": "zto-first",
                                         "_description": "中通优先", "carrier": "'ZTO'", "rule": "'zto-first'"})
    store.save(db, "carrier", graph, actor="user:ops")
    book = RuleBook(db)
    assert carrier_once(db, book).queued == 4
    with db.read() as s:
        decided = fetchall(s, "SELECT outcome, reason, count(*) FROM order_decision WHERE hook = 'carrier' "
                              "GROUP BY outcome, reason ORDER BY outcome")
        queued = dict(fetchall(s, "SELECT account_id, count(*) FROM waybill_request GROUP BY account_id"))
    assert queued == {zto: 1, yto: 3}
    assert [tuple(r) for r in decided] == [("YTO", "capacity_full", 3), ("ZTO", None, 1)]


def _numbered(runtime, db, desk, account, *, first: int) -> dict[str, int]:  # noqa: F811
    """A single-SKU wave's worth of orders reviewed, routed and given 菜鸟 numbers by the simulator."""
    ids = make_catalog(db, skus={"A": 100})
    _ingest(runtime, [_order(n) for n in range(first, first + waves.SINGLE_MIN)])
    book = RuleBook(db)
    review_once(db, runtime.pii, book)
    route_once(db, book)
    account("cainiao", carrier_code="ZTO", low_water=20, refill_batch=20)
    carrier_once(db, book)
    desk.refill_once()
    carrier_once(db, book)
    return ids


def test_a_waves_labels_and_pick_list_print_in_pick_order(runtime, db, sim, desk, account,  # noqa: F811
                                                           fast_services) -> None:  # noqa: F811
    ids = _numbered(runtime, db, desk, account, first=701)
    (wave,) = waves.build_waves(db, warehouse_id=ids["WH1"], actor="user:wh")
    out = io.BytesIO()
    run = printing.print_labels(db, runtime.pii, wave["id"], out)
    assert run.pages == waves.SINGLE_MIN
    reader = PdfReader(io.BytesIO(out.getvalue()))
    listed = waves.wave_orders(db, wave["id"])
    first = reader.pages[0].extract_text()
    assert listed[0]["waybill_no"][-4:] in first.replace(" ", "") and "中通快递" in first
    assert "13800130701" not in first  # the phone prints masked
    pick = PdfReader(io.BytesIO(printing.print_pick_list(db, wave["id"]))).pages[0].extract_text()
    assert "W" in pick and str(waves.SINGLE_MIN) in pick


@sqlite_only  # the HTTP layer is the same on both databases
def test_wave_pdfs_over_http(runtime, db, client, sim, desk, account, fast_services) -> None:  # noqa: F811
    ids = _numbered(runtime, db, desk, account, first=801)
    (wave,) = client.post(f"{API}/waves", json={"warehouse_id": ids["WH1"]}).json()
    labels = client.get(f"{API}/waves/{wave['id']}/labels.pdf", params={"size": "76x130"})
    assert labels.status_code == 200 and labels.headers["content-type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(labels.content)).pages) == waves.SINGLE_MIN
    assert client.get(f"{API}/waves/{wave['id']}/pick-list.pdf").content.startswith(b"%PDF")
    error_body(client.get(f"{API}/waves/{wave['id']}/labels.pdf", params={"size": "a4"}), 422, "request.invalid")
    error_body(client.get(f"{API}/waves/999999/labels.pdf"), 404, "fulfilment.wave_not_found")
