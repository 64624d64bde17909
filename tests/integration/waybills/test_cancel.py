"""Numbers given back: a cancel reaches the simulated service and is audited, an intercepted order's never
printed numbers are voided the same way, the desk's sweep voids the numbers of orders cancelled on the
platform, and a cancel the service refuses is retried, then left as refused with the service's error."""

from __future__ import annotations

from datetime import timedelta

import pytest

from baodan.core import clock
from baodan.core.db import execute, fetchall
from baodan.identity import audit
from baodan.orders.shipping import ship_order
from baodan.waybills import services
from baodan.waybills.errors import NotCancellable, WaybillNotFound
from tests.helpers import drain, order, submit


@pytest.fixture
def numbered(db, sim, desk, reserved, account):
    """Three reserved orders with numbers from a 菜鸟 account whose quota is 10."""
    sim.simulation.carriers.set_balance("cainiao", 10)
    ids = reserved(3)
    account_id = account()
    services.request_numbers(db, account_id=account_id, order_ids=ids)
    assert desk.refill_once() == 3
    return ids


def _state(db, waybill_no: str) -> tuple[str, str | None]:
    with db.read() as s:
        ((state, error),) = fetchall(s, "SELECT state, last_error FROM waybill WHERE waybill_no = ?", (waybill_no,))
    return state, error


def test_a_cancel_reaches_the_service_and_is_audited(db, sim, desk, numbered) -> None:
    (taken,) = services.take_numbers(db, order_ids=numbered[:1])
    assert sim.simulation.carriers.balance("cainiao") == 7
    result = services.cancel(db, waybill_no=taken.waybill_no, reason="label torn", actor="user:owner", ip="10.0.0.1")
    assert result["state"] == "cancelling"
    with db.read() as s:
        (record,) = audit.search(s, action="waybills.cancel")
    assert record["target"] == f"waybill:ZTO:{taken.waybill_no}" and record["detail"]["before"] == "taken"
    assert record["actor"] == "user:owner" and record["detail"]["reason"] == "label torn"
    assert desk.cancel_once() == 1
    (cancelled,) = sim.simulation.carriers.cancelled("cainiao")
    assert cancelled.waybill_no == taken.waybill_no
    assert _state(db, taken.waybill_no) == ("cancelled", None)
    assert sim.simulation.carriers.balance("cainiao") == 8  # the quota back
    with pytest.raises(NotCancellable):
        services.cancel(db, waybill_no=taken.waybill_no, actor="user:owner")
    with pytest.raises(WaybillNotFound):
        services.cancel(db, waybill_no="700000000000", actor="user:owner")
    # the order may get a new number, under a new application
    services.request_numbers(db, account_id=taken.account_id, order_ids=[taken.order_id])
    assert services.numbers_for(db, [taken.order_id])[taken.order_id]["object_id"] == f"BD{taken.order_id}-1"
    assert desk.refill_once() == 1


def test_an_intercepted_orders_never_printed_number_is_voided_the_same_way(db, sim, desk, reserved, account,
                                                                           numbered) -> None:
    (taken,) = services.take_numbers(db, order_ids=numbered[:1])
    queued = reserved(1)
    services.request_numbers(db, account_id=taken.account_id, order_ids=queued)
    result = services.void_for_orders(db, order_ids=[*numbered, *queued], actor="user:service", reason="intercepted")
    assert result == {"requests_dropped": 1, "voided": 2}  # the printed one stays until it is cancelled by hand
    assert services.numbers_for(db, queued) == {}
    with db.read() as s:
        (record,) = audit.search(s, action="waybills.void")
    assert record["detail"]["count"] == 2 and record["detail"]["requests_dropped"] == 1
    assert desk.cancel_once() == 2
    assert len(sim.simulation.carriers.cancelled("cainiao")) == 2
    assert services.numbers_for(db, numbered)[numbered[0]]["state"] == "taken"
    services.void_for_orders(db, order_ids=numbered[:1], actor="user:service", reason="intercepted",
                             include_taken=True)
    assert desk.cancel_once() == 1 and len(sim.simulation.carriers.cancelled("cainiao")) == 3


def test_the_sweep_voids_the_numbers_of_orders_cancelled_or_shipped_otherwise(runtime, db, sim, desk,
                                                                             numbered) -> None:
    cancelled, shipped_by_hand, shipped_with_it = numbered
    submit(runtime, order("o0", [("A", 1)], shop="SHOP-DOUYIN", status="cancelled", updated_offset_s=60))
    drain(runtime)
    ship_order(db, order_id=shipped_by_hand, carrier_code="SF", waybill_no="SF1234567890123", actor="user:wh")
    number = services.numbers_for(db, [shipped_with_it])[shipped_with_it]["waybill_no"]
    ship_order(db, order_id=shipped_with_it, carrier_code="ZTO", waybill_no=number, actor="user:wh")
    assert desk.sweep_once() == 2
    found = services.numbers_for(db, numbered)
    assert cancelled not in found and shipped_by_hand not in found  # cancelling now: no longer live
    assert found[shipped_with_it]["state"] == "taken"
    with db.read() as s:
        (record,) = audit.search(s, action="waybills.void")
    assert record["actor"] == services.SYSTEM_ACTOR and record["detail"]["count"] == 2
    assert desk.cancel_once() == 2 and len(sim.simulation.carriers.cancelled("cainiao")) == 2
    assert desk.sweep_once() == 0


def test_a_cancel_the_service_refuses_is_retried_then_left_as_refused(db, sim, desk, numbered) -> None:
    with db.write() as s:  # a number the service never issued
        execute(s, "UPDATE waybill SET waybill_no = '700000000001' WHERE order_id = ?", (numbered[0],))
    services.cancel(db, waybill_no="700000000001", actor="user:owner")
    now = clock.utcnow()
    for attempt in range(3):
        assert desk.cancel_once(now=now + timedelta(hours=attempt)) == 0
    state, error = _state(db, "700000000001")
    assert state == "cancel_refused" and "面单号不存在" in error and "isv.WAYBILL_NOT_EXIST" in error
    assert sim.simulation.carriers.cancelled("cainiao") == []


def test_a_busy_service_gets_the_cancel_again_later(db, sim, desk, numbered) -> None:
    number = services.numbers_for(db, numbered[:1])[numbered[0]]["waybill_no"]
    services.cancel(db, waybill_no=number, actor="user:owner")
    sim.simulation.carriers.refuse_next("cainiao", "busy", times=5)
    now = clock.utcnow()
    assert desk.cancel_once(now=now) == 0
    assert _state(db, number)[0] == "cancelling"
    assert desk.cancel_once(now=now) == 0  # not due yet: no call
    sim.simulation.carriers.clear_refusals("cainiao")
    assert desk.cancel_once(now=now + timedelta(minutes=1)) == 1
    assert _state(db, number) == ("cancelled", None)
