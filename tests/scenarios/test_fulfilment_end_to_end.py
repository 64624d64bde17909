"""A live session through the simulator to the warehouse door: pushed orders are reviewed, routed, given a
courier and a waybill number from the simulator's e-waybill services (菜鸟; 抖店电子面单 for 抖店's encrypted
receivers), waved, scanned, packed and shipped, and each waybill is written back to the platform. Every order
ends shipped with its waybill written back, held with a reason, or not shippable (waiting for stock,
cancelled); no parcel ships for a cancelled order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from baodan.app import create_app
from baodan.check import run_checks
from baodan.core import clock
from baodan.core.db import fetchall
from baodan.demo import seed_catalog
from baodan.fulfilment import packing, waves
from baodan.fulfilment.carrier import carrier_once
from baodan.fulfilment.intercept import intercept_once
from baodan.fulfilment.review import review_once
from baodan.fulfilment.routing import route_once
from baodan.fulfilment.split import Splitter
from baodan.inventory import services as inventory
from baodan.inventory.model import MoveKind
from baodan.orders.repository import PLATFORM_ID
from baodan.rules.store import RuleBook
from baodan.waybills import accounts
from baodan.waybills.desk import WaybillDesk
from baodan.waybills.schemas import CarrierAccountWrite, Secrets
from tests.helpers import serving, sqlite_only
from tests.integration.waybills.conftest import SENDER
from tests.scenarios.test_channels_end_to_end import PLATFORMS, _connect, _settle, _simulator, _sync

pytestmark = [sqlite_only, pytest.mark.slow]


def test_a_live_session_ends_shipped_and_written_back_or_held_with_a_reason(runtime, db) -> None:
    gz_only = ["P001-0001", "P002-0002"]  # the hot SKUs lie in 广州 only: orders with another line split (拆单)
    catalog = seed_catalog(db, sku_count=20, default_stock=40, stock=dict.fromkeys(gz_only, 0))
    with db.read() as s:
        sku_ids = dict(fetchall(s, "SELECT code, id FROM sku"))
    for code in gz_only:
        inventory.adjust_stock(db, sku_id=sku_ids[code], warehouse_id=catalog.warehouse_ids["WH-GZ"], delta=200,
                               kind=MoveKind.receipt)
    with serving(create_app(runtime)) as baodan, _simulator(baodan, orders=150) as sim:
        _connect(db, runtime, sim)
        sync = _sync(runtime)
        sim.start_session()
        sim.wait_session()
        sim.wait_pushes()
        _settle(runtime, sync)
        creds = sim.simulation.carriers.credentials("cainiao")
        accounts.save(db, runtime.pii, actor="system:test", data=CarrierAccountWrite(
            name="ZTO-杭州仓", adapter="cainiao", carrier_code="ZTO", app_key=creds.app_key,
            base_url=f"{sim.url}/cainiao", sender=SENDER, low_water=500, refill_batch=100,
            secrets=Secrets(app_secret=creds.app_secret, access_token=creds.access_token, extra=dict(creds.extra))))
        creds = sim.simulation.carriers.credentials("douyin-waybill")  # 抖店's own: it opens 抖店's ciphertexts
        accounts.save(db, runtime.pii, actor="system:test", data=CarrierAccountWrite(
            name="ZTO-抖店电子面单", adapter="douyin", carrier_code="ZTO", app_key=creds.app_key,
            base_url=f"{sim.url}/douyin-waybill", sender=SENDER, low_water=500, refill_batch=100,
            secrets=Secrets(app_secret=creds.app_secret, access_token=creds.access_token, extra=dict(creds.extra))))
        book = RuleBook(db)
        splitter = Splitter(rescan=timedelta(0))
        with WaybillDesk(db, runtime.pii) as desk:
            for hour in range(6):  # the stage's passes, the desk obtaining numbers (and retrying refusals) between
                later = clock.utcnow() + timedelta(hours=hour)
                intercept_once(db)
                splitter.once(db, book)
                review_once(db, runtime.pii, book)
                route_once(db, book)
                carrier_once(db, book, pii=runtime.pii, now=later)
                desk.refill_once(now=later)
                carrier_once(db, book, pii=runtime.pii, now=later)
        with db.read() as s:
            warehouses = [int(w) for (w,) in fetchall(s, "SELECT id FROM warehouse")]
        for warehouse_id in warehouses:
            for wave in waves.build_waves(db, warehouse_id=warehouse_id, actor="user:wh"):
                waves.mark_picked(db, wave["id"], actor="user:wh")
                for parcel in waves.wave_orders(db, wave["id"]):
                    if parcel["stage"] != "picked":
                        continue
                    opened = packing.scan_waybill(db, parcel["waybill_no"])
                    for item in opened["items"]:
                        packing.scan_item(db, parcel["order_id"], item["sku_code"], qty=item["qty"])
                    packing.confirm(db, parcel["order_id"], weight_g=600, actor="user:packer")
        while sync.writeback_once():
            pass
        written: dict[tuple[str, str], set[str]] = {}
        for p in PLATFORMS:
            for w in sim.store.platforms[p].writebacks:
                if w.accepted:
                    written.setdefault((p, w.platform_order_id), set()).add(w.waybill_no)
        sim_status = {(p, oid): o["status"] for p in PLATFORMS for oid, o in sim.store.platforms[p].orders.items()}
        sim_numbers = [w for w in sim.simulation.carriers.issued("douyin-waybill") if w.cancelled_at is None]
    with db.read() as s:
        orders = fetchall(s, f"SELECT o.channel, {PLATFORM_ID}, o.state, f.stage, f.hold_reason, sh.waybill_no "
                             "FROM sales_order o LEFT JOIN fulfilment f ON f.order_id = o.id "
                             "LEFT JOIN shipment sh ON sh.order_id = o.id")
        parts = fetchall(s, "SELECT o.state FROM sales_order o WHERE o.parent_order_id IS NOT NULL")
    assert "shipped" in {state for (state,) in parts}  # split orders shipped in parts, each written back
    shipped = [o for o in orders if o[2] == "shipped"]
    # 菜鸟 opens 淘宝's encrypted receivers (oaid), 抖店电子面单 抖店's; 快手's own e-waybill is not built
    assert {o[0] for o in shipped} == {"taobao", "douyin"}
    held = {(o[0], o[4]) for o in orders if o[2] == "reserved"}
    assert ("kuaishou", "waybill_failed") in held and ("douyin", "waybill_failed") not in held
    assert {o[5] for o in shipped if o[0] == "douyin"} <= {w.waybill_no for w in sim_numbers}  # 抖店's numbers
    assert all(w.receiver.cipher and "*" not in w.receiver.name for w in sim_numbers)  # 抖店's ciphertexts, as given
    for channel, platform_order_id, state, stage, reason, waybill in orders:
        key = (channel, platform_order_id)
        if state == "shipped":
            assert waybill in written.get(key, ()), f"{key}: shipped with {waybill}, written back {written.get(key)}"
            assert sim_status[key] not in ("cancelled", "refunded"), f"{key} shipped after its cancellation"
        elif state == "reserved":
            assert stage == "held" and reason, f"{key} is reserved but neither shipped nor held ({stage})"
        else:
            assert state in ("awaiting_stock", "cancelled", "held", "unpaid"), (key, state)
    assert run_checks(db) == []
