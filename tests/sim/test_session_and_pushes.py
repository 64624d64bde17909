"""A live session makes the configured orders, mostly on the hot SKUs, the same ones for the same seed; its
pushes reach a receiver and verify there with the adapter's push side; when BaoDan is down (paused) they
are retried for the budget, then dropped and recorded."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace

import httpx

from baodan.channels.registry import ADAPTERS, PLATFORMS
from baodan.core import clock
from baodan.sim import Simulator
from tests.sim.conftest import ID_BASE, Receiver, sim_config

QUICK = dict(follow_up_min_s=0.05, follow_up_max_s=0.2, out_of_order_delay_s=0.3)


def test_a_session_makes_the_configured_orders_mostly_on_the_hot_skus(simulator: Simulator) -> None:
    platforms = PLATFORMS
    simulator.start_session(orders=120, rate=2000, hot_skus=2, hot_share=0.8, seed=9, platforms=platforms, **QUICK)
    status = simulator.wait_session(10)

    assert status["emitted"] == 120
    orders = [o for p in platforms for o in simulator.store.orders(p)]
    assert len(orders) == 120
    hot = {p: {s.platform_sku_id for s in simulator.config.platforms[p].skus[:2]} for p in platforms}
    on_hot = sum(o["lines"][0]["platform_sku_id"] in hot[o["channel"]] for o in orders)
    assert on_hot / len(orders) > 0.65
    statuses = Counter(o["status"] for o in orders)
    assert statuses["paid"] > 90


def test_the_same_seed_draws_the_same_session() -> None:
    def draw() -> list[tuple[str, str, tuple[tuple[str, int], ...]]]:
        with Simulator(sim_config(), id_base=ID_BASE) as sim:
            sim.start_session(orders=40, rate=4000, seed=5, platforms=PLATFORMS, **QUICK)
            sim.wait_session(10)
            return sorted((o["platform_order_id"], o["status"],
                           tuple((li["platform_sku_id"], li["quantity"]) for li in o["lines"]))
                          for p in PLATFORMS for o in sim.store.orders(p))

    assert draw() == draw()


def test_pushes_arrive_signed_and_open_with_the_adapters_push_side(receiver: Receiver) -> None:
    pushing = [p for p in PLATFORMS if ADAPTERS[p].has_push]
    config = sim_config(duplicate_ratio=0.2, out_of_order_ratio=0.2, cancel_ratio=0.1, refund_ratio=0.1,
                        address_change_ratio=0.1, **QUICK)
    config = replace(config, pushes=replace(config.pushes, push_to=receiver.url))
    with Simulator(config, id_base=ID_BASE) as sim:
        sim.start_session(orders=60, rate=1000, seed=2, platforms=tuple(pushing))
        sim.wait_session(15)
        sim.wait_pushes(15)
        counts = {p: sim.store.push_counts(p) for p in pushing}
        events = sum(len(sim.store.events(p)) for p in pushing)
        received = receiver.received()
        kinds_by_order: dict[str, list[str]] = {}
        for channel, request in received:
            adapter, creds = ADAPTERS[channel], sim.credentials(channel)
            route = adapter.push_route(request)
            assert route.app_key in (None, creds.app_key)
            assert route.platform_shop_id in (None, creds.shop_id)
            for notice in adapter.open_push(creds, request, now=clock.utcnow()):
                assert sim.store.order(channel, notice.platform_order_id) is not None
                kinds_by_order.setdefault(notice.platform_order_id, []).append(notice.kind)

    duplicates = sum(c.duplicates for c in counts.values())
    unpushed = sum(c.no_message for c in counts.values())
    assert len(received) == events - unpushed + duplicates == sum(c.sent for c in counts.values())
    assert sum(c.unsigned for c in counts.values()) == 0
    assert duplicates > 0 and sum(c.delayed for c in counts.values()) > 0
    assert sum(c.failed + c.dropped for c in counts.values()) == 0
    # held back: the order's first state (paid/created) arrives after a later one
    assert any(kinds[0] not in ("paid", "created") for kinds in kinds_by_order.values())


def test_while_pushes_are_paused_they_are_retried_then_dropped_and_recorded(receiver: Receiver) -> None:
    channel = next(p for p in PLATFORMS if ADAPTERS[p].has_push)
    config = sim_config(cancel_ratio=0, refund_ratio=0, address_change_ratio=0, unpaid_first_ratio=0,
                        duplicate_ratio=0, out_of_order_ratio=0)
    config = replace(config, pushes=replace(config.pushes, push_to=receiver.url, retry_budget_s=0.5,
                                            first_retry_s=0.1, max_retry_s=0.2))
    with Simulator(config, id_base=ID_BASE) as sim:
        assert httpx.post(sim.url + "/_sim/pushes/pause").json() == {"pushes_paused": True}
        sim.add_orders(channel, 3)
        sim.wait_pushes(10)
        counts = sim.store.push_counts(channel)
        dropped = sim.store.dropped(channel)
        assert receiver.received() == []
        assert counts.dropped == 3 and counts.sent == 0 and counts.failed >= 3 * 3
        assert {d.kind for d in dropped} == {"paid"} and all(d.attempts >= 3 for d in dropped)

        httpx.post(sim.url + "/_sim/pushes/resume")
        sim.add_orders(channel, 2)
        sim.wait_pushes(10)
        assert len(receiver.received()) == 2
        assert sim.store.push_counts(channel).sent == 2
        # the dropped orders are still there for BaoDan's incremental pull
        assert len(sim.store.orders(channel)) == 5


def test_a_refusing_receiver_gets_retries_until_it_answers(receiver: Receiver) -> None:
    channel = next(p for p in PLATFORMS if ADAPTERS[p].has_push)
    config = sim_config()
    config = replace(config, pushes=replace(config.pushes, push_to=receiver.url, retry_budget_s=5,
                                            first_retry_s=0.1, max_retry_s=0.2))
    receiver.status = 503
    with Simulator(config, id_base=ID_BASE) as sim:
        sim.add_orders(channel, 1)
        for _ in range(200):
            if sim.store.push_counts(channel).failed >= 2:
                break
            time.sleep(0.02)
        receiver.status = 200
        sim.wait_pushes(10)
        counts = sim.store.push_counts(channel)
    assert counts.sent == 1 and counts.failed >= 2 and counts.dropped == 0


def test_no_push_is_sent_without_a_push_url(simulator: Simulator) -> None:
    channel = PLATFORMS[0]
    simulator.add_orders(channel, 2)
    assert simulator.store.push_counts(channel).sent == 0 and simulator.simulation.pushes.pending == 0


def test_batched_pushes_carry_several_notices_where_the_platform_does_and_one_elsewhere(receiver: Receiver) -> None:
    config = sim_config()
    config = replace(config, pushes=replace(config.pushes, push_to=receiver.url, batch=10, linger_s=0.05))
    with Simulator(config, id_base=ID_BASE) as sim:
        douyin = sim.add_orders("douyin", 25, seed=1)
        kuaishou = sim.add_orders("kuaishou", 3, seed=1)
        sim.wait_pushes(10)
        received = receiver.received()
        creds = {p: sim.credentials(p) for p in ("douyin", "kuaishou")}
    notices = {p: [len(ADAPTERS[p].open_push(creds[p], r, now=clock.utcnow())) for c, r in received if c == p]
               for p in creds}
    assert sorted(notices["douyin"]) == [5, 10, 10]  # two full batches, the rest after linger_s
    assert notices["kuaishou"] == [1, 1, 1]  # 快手 pushes one message a request
    opened = [n.platform_order_id for c, r in received if c == "douyin"
              for n in ADAPTERS["douyin"].open_push(creds["douyin"], r, now=clock.utcnow())]
    assert sorted(opened) == sorted(o["platform_order_id"] for o in douyin)
    assert len(kuaishou) == 3
