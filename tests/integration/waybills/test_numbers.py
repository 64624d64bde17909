"""Waybill numbers ahead of printing, against the simulator's e-waybill services on both databases: the refill
keeps each account's ready numbers at its low-water mark in batches, printing takes numbers in one statement
without a carrier call, and a carrier's refusal is kept on the order and tried again later."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest

from baodan.core import clock
from baodan.core.db import fetchall
from baodan.waybills import repository, services
from baodan.waybills.cainiao import APPLY_METHOD
from tests.integration.waybills.conftest import call_count


def _states(db, order_ids) -> dict[str, int]:
    found = services.numbers_for(db, order_ids)
    counts: dict[str, int] = {}
    for entry in found.values():
        counts[entry["state"]] = counts.get(entry["state"], 0) + 1
    return counts


def test_request_numbers_queues_reserved_orders_once(db, reserved, account) -> None:
    ids = reserved(3)
    account_id = account()
    assert services.request_numbers(db, account_id=account_id, order_ids=ids) == 3
    assert services.request_numbers(db, account_id=account_id, order_ids=[*ids, 999_999]) == 0  # queued already
    found = services.numbers_for(db, ids)
    assert [found[i]["object_id"] for i in ids] == [f"BD{i}" for i in ids]
    assert {entry["state"] for entry in found.values()} == {"queued"}


def test_the_refill_tops_numbers_up_in_batches_to_the_low_water_mark(db, sim, desk, reserved, account) -> None:
    ids = reserved(60)
    account_id = account(low_water=25, refill_batch=10)
    services.request_numbers(db, account_id=account_id, order_ids=ids)
    assert [desk.refill_once() for _ in range(4)] == [10, 10, 10, 0]  # 30 ready: at or above 25, no more
    desk.call_log.flush()
    assert call_count(db, APPLY_METHOD) == 3  # ten parcels a call
    assert _states(db, ids) == {"issued": 30, "queued": 30}
    issued = sim.simulation.carriers.issued("cainiao")
    assert len(issued) == 30 and all(re.fullmatch(r"7\d{11}", w.waybill_no) for w in issued)  # ZTO's shape
    found = services.numbers_for(db, ids[:30])
    assert [found[i]["waybill_no"] for i in ids[:30]] == [w.waybill_no for w in issued]  # oldest orders first
    assert found[ids[0]]["sort_code"] == "浙-杭州 西湖区" and found[ids[0]]["package_center_name"] == "浙江转运中心"
    services.take_numbers(db, order_ids=ids[:10])
    assert desk.refill_once() == 10  # 20 ready again: below the mark


def test_2000_orders_take_2000_distinct_numbers_in_one_statement_without_a_carrier_call(
        db, sim, desk, reserved, account, fast_services) -> None:
    ids = reserved(2000)
    account_id = account(low_water=2000, refill_batch=2000)
    services.request_numbers(db, account_id=account_id, order_ids=ids)
    assert desk.refill_once() == 2000
    desk.call_log.flush()
    calls, issued = call_count(db), len(sim.simulation.carriers.issued("cainiao"))
    started = time.perf_counter()
    taken = services.take_numbers(db, order_ids=ids)
    seconds = time.perf_counter() - started
    desk.call_log.flush()
    assert (call_count(db), len(sim.simulation.carriers.issued("cainiao"))) == (calls, issued)  # no carrier call
    assert len(taken) == 2000 and {t.order_id for t in taken} == set(ids)
    assert len({t.waybill_no for t in taken}) == 2000
    assert services.take_numbers(db, order_ids=ids) == []  # each number once
    print(f"\n{db.dialect}: 2,000 numbers taken in one statement in {seconds * 1000:.1f} ms "
          f"({2000 / seconds:,.0f} numbers/s)")


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.pg)], indirect=True)
def test_two_concurrent_takers_on_postgresql_never_get_the_same_number(db, desk, reserved, account,
                                                                      fast_services) -> None:
    """SQLite has one writer: takers are serialised there."""
    ids = reserved(400)
    account_id = account(low_water=400, refill_batch=400)
    services.request_numbers(db, account_id=account_id, order_ids=ids)
    assert desk.refill_once() == 400
    holding, results = threading.Event(), {}

    def first() -> None:
        with db.write() as s:  # takes every number and holds the rows until it commits
            results["first"] = repository.take(s, order_ids=ids, now=clock.utcnow())
            holding.set()
            time.sleep(0.5)

    thread = threading.Thread(target=first)
    thread.start()
    assert holding.wait(10)
    started = time.perf_counter()
    results["second"] = services.take_numbers(db, order_ids=ids[::2])  # overlapping: skips the locked rows
    waited = time.perf_counter() - started
    thread.join()
    assert waited < 0.4  # SKIP LOCKED: no waiting for the first taker's commit
    assert len(results["first"]) == 400 and results["second"] == []
    # and two takers racing over overlapping halves split the numbers between them, none twice
    more = reserved(400)
    services.request_numbers(db, account_id=account_id, order_ids=more)
    desk.refill_once()
    barrier, got = threading.Barrier(2), {}

    def taker(name: str, order_ids: list[int]) -> None:
        barrier.wait()
        got[name] = services.take_numbers(db, order_ids=order_ids)

    threads = [threading.Thread(target=taker, args=("a", more[:300])), threading.Thread(target=taker,
                                                                                         args=("b", more[100:]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    numbers = [t.waybill_no for t in got["a"] + got["b"]]
    assert len(numbers) == len(set(numbers)) and {t.order_id for t in got["a"] + got["b"]} <= set(more)
    assert len(numbers) + len(services.take_numbers(db, order_ids=more)) == 400


def test_a_refusal_is_kept_on_the_orders_and_tried_again_later(db, sim, desk, reserved, account) -> None:
    ids = reserved(12)
    account_id = account(low_water=100, refill_batch=20)
    services.request_numbers(db, account_id=account_id, order_ids=ids)
    sim.simulation.carriers.refuse_next("cainiao", "no_balance", times=2)
    # the first call (10 parcels) is refused, so they are asked for one a call: the first of those is refused
    # too, the other 9 and the next call's 2 are issued
    assert desk.refill_once() == 11
    found = services.numbers_for(db, ids)
    failing = [i for i in ids if found[i]["state"] == "failing"]
    assert failing == ids[:1] and "余额不足" in found[failing[0]]["error"]
    assert found[failing[0]]["next_at"] > clock.utcnow()
    assert _states(db, ids) == {"issued": 11, "failing": 1}
    with db.read() as s:
        ((last_error,),) = fetchall(s, "SELECT last_error FROM carrier_account WHERE id = ?", (account_id,))
    assert "余额不足" in last_error
    assert desk.refill_once() == 0  # not due yet
    assert desk.refill_once(now=clock.utcnow() + timedelta(minutes=1)) == 1
    assert _states(db, ids) == {"issued": 12}


def test_a_busy_service_is_retried_by_a_later_pass(db, sim, desk, reserved, account) -> None:
    ids = reserved(5)
    account_id = account(low_water=100, refill_batch=20)
    services.request_numbers(db, account_id=account_id, order_ids=ids)
    sim.simulation.carriers.refuse_next("cainiao", "busy")
    assert desk.refill_once() == 0  # retryable: not split, the whole call waits
    assert _states(db, ids) == {"failing": 5}
    assert desk.refill_once(now=clock.utcnow() + timedelta(minutes=1)) == 5


def test_the_daily_capacity_stops_the_refill(db, sim, desk, reserved, account) -> None:
    ids = reserved(30)
    account_id = account(low_water=100, refill_batch=20, daily_capacity=25)
    services.request_numbers(db, account_id=account_id, order_ids=ids)
    assert [desk.refill_once() for _ in range(3)] == [20, 5, 0]
    with db.read() as s:
        ((last_error,),) = fetchall(s, "SELECT last_error FROM carrier_account WHERE id = ?", (account_id,))
    assert "daily capacity" in last_error


def test_kdniao_issues_one_number_a_call_and_a_lost_answer_costs_no_second_number(db, sim, desk, reserved,
                                                                                 account) -> None:
    ids = reserved(3)
    account_id = account("kdniao", carrier_code="YUNDA")
    services.request_numbers(db, account_id=account_id, order_ids=ids)
    with db.write() as s:  # as if an answer was lost: the number is issued at the service, not kept here
        (due,) = repository.claim_due(s, account_id=account_id, now=clock.utcnow(), limit=1)
        order = repository.orders(s, [due.order_id])[due.order_id]
    from baodan.waybills import accounts
    from baodan.waybills.registry import ADAPTERS
    with db.read() as s:
        opened = accounts.account(s, desk.pii, account_id)
    first = ADAPTERS["kdniao"].apply_call(opened, [desk._parcel(due, order)])
    (lost,) = ADAPTERS["kdniao"].parse_apply(desk.transport.call(desk.link(opened), first))
    assert desk.refill_once(now=clock.utcnow() + timedelta(minutes=6)) == 3  # the lease ran out: asked again
    desk.call_log.flush()
    assert call_count(db, "1007") == 4  # one parcel a call
    found = services.numbers_for(db, ids)
    assert found[due.order_id]["waybill_no"] == lost.waybill_no  # ResultCode 106: the same number again
    assert len(sim.simulation.carriers.issued("kdniao")) == 3
    assert all(re.fullmatch(r"43\d{11}", w.waybill_no) for w in sim.simulation.carriers.issued("kdniao"))


def test_a_receiver_the_service_cannot_take_fails_alone(db, sim, desk, reserved, account) -> None:
    clear = reserved(2)
    masked = reserved(1, receiver={"name": "张*", "phone": "138****8000", "province": "浙江省", "city": "杭州市",
                                   "district": "西湖区", "address": "文三路****",
                                   "platform_cipher": {"name": "#c1#", "phone": "$c2$", "address": "~c3~"}})
    account_id = account("kdniao", carrier_code="YUNDA")
    services.request_numbers(db, account_id=account_id, order_ids=clear + masked)
    assert desk.refill_once() == 2
    found = services.numbers_for(db, masked)[masked[0]]
    assert found["state"] == "failing" and "masked" in found["error"]


def test_a_taobao_order_held_masked_goes_by_its_oaid(db, sim, desk, reserved, account) -> None:
    (order_id,) = reserved(1, channel="taobao", receiver={
        "name": "张*", "phone": "138****8000", "province": "浙江省", "city": "杭州市", "district": "西湖区",
        "address": "文三路****", "platform_cipher": {"oaid": "1pRnVeKdHXLl3"}})
    account_id = account()
    services.request_numbers(db, account_id=account_id, order_ids=[order_id])
    assert desk.refill_once() == 1
    (issued,) = sim.simulation.carriers.issued("cainiao")
    assert (issued.receiver.cipher["oaid"], issued.platform_order_id) == ("1pRnVeKdHXLl3", "o0")
    found = services.numbers_for(db, [order_id])[order_id]
    assert found["sort_code"] is None  # encrypted print data: the route is on the label only


def test_a_pdd_order_held_masked_goes_to_pdds_own_service_by_its_ciphertexts(db, sim, desk, reserved,
                                                                            account) -> None:
    cipher = {"name": "~AgAAAAHn5rYB~", "phone": "$2a8BQT2nCw==$", "address": "~AgAAAAHn5rZD~"}
    (order_id,) = reserved(1, channel="pdd", receiver={
        "name": "张*", "phone": "138****8000", "province": "浙江省", "city": "杭州市", "district": "西湖区",
        "address": "文三路****", "platform_cipher": cipher})
    services.request_numbers(db, account_id=account("pdd"), order_ids=[order_id])
    assert desk.refill_once() == 1
    (issued,) = sim.simulation.carriers.issued("pdd-waybill")
    assert (issued.receiver.name, issued.receiver.phone, issued.receiver.address.address) == (
        cipher["name"], cipher["phone"], cipher["address"])
    assert services.numbers_for(db, [order_id])[order_id]["waybill_no"] == issued.waybill_no


def test_the_call_log_keeps_no_receiver_and_no_secret(db, sim, desk, reserved, account) -> None:
    ids = reserved(2)
    services.request_numbers(db, account_id=account("kdniao", carrier_code="YUNDA"), order_ids=ids[:1])
    services.request_numbers(db, account_id=account(), order_ids=ids[1:])
    assert desk.refill_once() == 2
    desk.call_log.flush()
    with db.read() as s:
        logged = " ".join(f"{a} {b}" for a, b in fetchall(s, "SELECT request, response FROM carrier_call"))
    for secret in ("张三", "13800138000", "文三路", "13900000000", "仓前街道",
                   sim.simulation.carriers.credentials("kdniao").app_secret,
                   sim.simulation.carriers.credentials("cainiao").access_token):
        assert secret not in logged
    assert "EOrderService" in logged and "cainiao.waybill.ii.get" in logged
