"""抖店's own e-waybill against the simulator, on both databases: 抖店 orders whose receivers BaoDan holds only
masked get numbers from the simulated 抖店电子面单 by the ciphertexts the simulated 抖店 issued for them (never
decrypted, never logged), an order carrying ciphertexts 抖店 did not issue for it is refused on its own with
抖店's message, and a number given back reaches the service."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from baodan.core.db import Database, fetchall
from baodan.identity.pii import mask_receiver
from baodan.sim import Simulator, load_config
from baodan.sim.simulation import receiver_cipher
from baodan.waybills import services
from baodan.waybills.douyin import APPLY_METHOD
from tests.helpers import drain, make_catalog, order, submit
from tests.integration.waybills.conftest import call_count

SHOP = "SHOP-DOUYIN"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """The simulator with its 抖店 (whose orders' ciphertexts its e-waybill service opens)."""
    config = load_config(port=0)
    with Simulator(replace(config, platforms={"douyin": config.platforms["douyin"]})) as simulator:
        yield simulator


def _doudian_orders(runtime: Any, db: Database, sim: Simulator, count: int, *,
                    forged: int = 0) -> tuple[list[int], list[dict[str, Any]]]:
    """`count` orders of the simulated 抖店, reserved in BaoDan with their receivers masked and the ciphertexts
    抖店 shows for them; the last `forged` carry the first order's ciphertexts instead."""
    make_catalog(db, skus={"A": 1000}, shop=SHOP, channel="douyin")
    platform = sim.config.platforms["douyin"]
    made = sim.add_orders("douyin", count)
    canonical = []
    for i, placed in enumerate(made):
        source = made[0] if i >= count - forged else placed
        cipher = receiver_cipher(platform, source["platform_order_id"], source["receiver"])
        canonical.append(order(placed["platform_order_id"], [("A", 1)], shop=SHOP, channel="douyin", paid_offset_s=i,
                               receiver=mask_receiver(placed["receiver"]) | {"platform_cipher": cipher}))
    submit(runtime, *canonical)
    drain(runtime)
    with db.read() as s:
        ids = dict(fetchall(s, "SELECT platform_order_id, id FROM sales_order WHERE state = 'reserved'"))
    return [int(ids[o["platform_order_id"]]) for o in made], made


def test_doudian_orders_get_numbers_by_their_ciphertexts_and_a_foreign_one_is_refused_alone(
        runtime, db, sim, desk, account) -> None:
    ids, made = _doudian_orders(runtime, db, sim, 4, forged=1)
    account_id = account("douyin", carrier_code="ZTO", low_water=10, refill_batch=10)
    assert services.request_numbers(db, account_id=account_id, order_ids=ids) == 4
    assert desk.refill_once() == 3
    desk.call_log.flush()
    assert call_count(db, APPLY_METHOD) == 2  # four parcels in one call, then the refused one alone
    issued = sim.simulation.carriers.issued("douyin-waybill")
    platform = sim.config.platforms["douyin"]
    assert [w.platform_order_id for w in issued] == [o["platform_order_id"] for o in made[:3]]
    for waybill, placed in zip(issued, made, strict=False):
        shown = receiver_cipher(platform, placed["platform_order_id"], placed["receiver"])
        assert waybill.receiver.cipher == {k: shown[k] for k in ("name", "phone", "address")}  # as 抖店 gave them
        assert waybill.courier == "zhongtong" and waybill.waybill_no.startswith("7")
    found = services.numbers_for(db, ids)
    assert [found[i]["waybill_no"] for i in ids[:3]] == [w.waybill_no for w in issued]
    assert found[ids[0]]["sort_code"] and found[ids[0]]["package_center_name"]
    assert found[ids[3]]["state"] == "failing" and "300008" in found[ids[3]]["error"]
    with db.read() as s:
        logged = " ".join(f"{a} {b}" for a, b in fetchall(s, "SELECT request, response FROM carrier_call"))
    credentials = sim.simulation.carriers.credentials("douyin-waybill")
    for hidden in (*issued[0].receiver.cipher.values(), "13900000000", "仓前街道", credentials.app_secret,
                   credentials.access_token):
        assert hidden not in logged
    assert "logistics.newCreateOrder" in logged


def test_a_number_given_back_reaches_doudians_service(runtime, db, sim, desk, account) -> None:
    ids, _ = _doudian_orders(runtime, db, sim, 2)
    account_id = account("douyin", carrier_code="YTO", low_water=10, refill_batch=10)
    services.request_numbers(db, account_id=account_id, order_ids=ids)
    assert desk.refill_once() == 2
    (taken,) = services.take_numbers(db, order_ids=ids[:1])
    assert taken.waybill_no.startswith("YT") and taken.carrier_code == "YTO"
    assert services.cancel(db, waybill_no=taken.waybill_no, reason="label torn", actor="user:owner")["state"] == \
        "cancelling"
    assert desk.cancel_once() == 1
    (cancelled,) = sim.simulation.carriers.cancelled("douyin-waybill")
    assert cancelled.waybill_no == taken.waybill_no and cancelled.courier == "yuantong"
    with db.read() as s:
        ((state,),) = fetchall(s, "SELECT state FROM waybill WHERE waybill_no = ?", (taken.waybill_no,))
    assert state == "cancelled"
