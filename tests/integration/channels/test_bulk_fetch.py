"""A deep fetch queue (a live session's pushes name thousands of orders) is read by the order list, a page
of orders a call, not by one detail call an order; what the list does not show is left to detail calls."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from baodan.channels import credentials
from baodan.channels.base import PlatformError
from baodan.channels.sync import BULK_FETCH, BULK_PATIENCE, LIST_PAGE_SIZE, ChannelSync
from baodan.core import clock
from baodan.core.db import fetchall
from baodan.demo import seed_catalog
from baodan.sim import Simulator, load_config
from tests.helpers import drain

MISSING = "6900000000000000042"  # a pushed order the platform's list does not show


def _sync(runtime: Any) -> ChannelSync:
    return ChannelSync(runtime.db, runtime.inbox, runtime.shops, runtime.pii)


@pytest.fixture
def douyin(runtime: Any, db: Any) -> Iterator[tuple[Simulator, int]]:
    """The demo catalog, its 抖店 shop connected to a simulator that pushes nothing."""
    seed_catalog(db, sku_count=20, default_stock=1000)
    config = load_config(port=0)
    with Simulator(replace(config, platforms={"douyin": config.platforms["douyin"]})) as sim:
        with db.read() as s:
            ((shop_id,),) = fetchall(s, "SELECT id FROM shop WHERE channel = 'douyin'")
        creds = sim.credentials("douyin")
        credentials.save(db, runtime.pii, shop_id=shop_id, app_key=creds.app_key, app_secret=creds.app_secret,
                         platform_shop_id=creds.shop_id, base_url=sim.base_url("douyin"),
                         access_token=creds.access_token, actor="system:test")
        yield sim, shop_id


def test_a_deep_fetch_queue_is_read_by_the_list_and_the_rest_by_detail_calls(runtime, db, douyin) -> None:
    sim, shop_id = douyin
    orders = sim.add_orders("douyin", BULK_FETCH + LIST_PAGE_SIZE, seed=3)
    sync = _sync(runtime)
    sync.request_fetch(shop_id, [o["platform_order_id"] for o in orders],
                       updated={o["platform_order_id"]: o["updated_at"] for o in orders})
    sync.request_fetch(shop_id, [MISSING], updated={MISSING: clock.utcnow() - timedelta(hours=1)})
    # the oldest stated update time is an hour ago: the list reads from there, and does not find MISSING;
    # it reads whole seconds only (a second still going would be read again), so it waits for this one
    assert sync.fetch_once() == 0
    assert sync.fetch_once(now=clock.utcnow() + timedelta(seconds=1)) == len(orders)
    sync.call_log.flush()
    with db.read() as s:
        calls = dict(fetchall(s, "SELECT method, count(*) FROM channel_call GROUP BY method"))
        queued = fetchall(s, "SELECT platform_order_id, attempts, last_error FROM channel_fetch")
    # the first pass listed the hour before this second (an empty page); the second one 70 orders in two
    # pages, not 70 detail calls
    assert calls == {"order.searchList": 3, "order.orderDetail": 1}
    ((order_id, attempts, error),) = queued  # the one the list did not show: a detail call, then backoff
    assert order_id == MISSING and attempts == 2 and "订单不存在" in error
    drain(runtime)
    with db.read() as s:
        got = {r[0] for r in fetchall(s, "SELECT platform_order_id FROM sales_order")}
    assert got == {o["platform_order_id"] for o in orders}


def test_a_shallow_queue_is_read_by_detail_calls_and_a_newer_push_keeps_its_order_queued(runtime, db,
                                                                                         douyin) -> None:
    sim, shop_id = douyin
    orders = sim.add_orders("douyin", 3, seed=4)
    sync = _sync(runtime)
    sync.request_fetch(shop_id, [o["platform_order_id"] for o in orders])
    assert sync.fetch_once() == 3
    sync.call_log.flush()
    with db.read() as s:
        assert dict(fetchall(s, "SELECT method, count(*) FROM channel_call GROUP BY method")) == {
            "order.orderDetail": 3}
        assert not fetchall(s, "SELECT 1 FROM channel_fetch")
    # a listed order whose newest push came after the list started stays queued for its own read
    listed = sim.add_orders("douyin", 1, seed=5)[0]["platform_order_id"]
    sync.request_fetch(shop_id, [listed])
    page = sim.store.updated_between("douyin", None, None, limit=100)[0]
    adapter, link = sync.link(shop_id).adapter, sync.link(shop_id)
    raw = [adapter.from_canonical(o, link.creds) for o in page if o["platform_order_id"] == listed]
    sync._take_listed(link, raw, queued_before=clock.utcnow() - timedelta(seconds=5))
    with db.read() as s:
        assert [r[0] for r in fetchall(s, "SELECT platform_order_id FROM channel_fetch")] == [listed]
    sync._take_listed(link, raw, queued_before=clock.utcnow())
    with db.read() as s:
        assert not fetchall(s, "SELECT 1 FROM channel_fetch")


def test_a_late_push_for_a_state_baodan_holds_is_settled_without_a_call(runtime, db, douyin) -> None:
    sim, shop_id = douyin
    order = sim.add_orders("douyin", 1, seed=6)[0]
    order_id = order["platform_order_id"]
    sync = _sync(runtime)
    sync.request_fetch(shop_id, [order_id], updated={order_id: order["updated_at"]})
    assert sync.fetch_once() == 1
    drain(runtime)
    sync.request_fetch(shop_id, [order_id], updated={order_id: order["updated_at"]})  # the push, late
    assert sync.fetch_once() == 0
    newer = order["updated_at"] + timedelta(seconds=1)
    sync.request_fetch(shop_id, [order_id], updated={order_id: newer})  # a change BaoDan has not seen
    sync.fetch_once()
    sync.call_log.flush()
    with db.read() as s:
        assert fetchall(s, "SELECT method, count(*) FROM channel_call GROUP BY method") == [("order.orderDetail", 2)]


def test_while_the_list_fails_queued_orders_wait_a_minute_before_detail_calls(runtime, db, douyin) -> None:
    sim, shop_id = douyin
    orders = sim.add_orders("douyin", BULK_FETCH, seed=7)
    sync = _sync(runtime)
    sync.request_fetch(shop_id, [o["platform_order_id"] for o in orders],
                       updated={o["platform_order_id"]: o["updated_at"] for o in orders})
    real_call, methods = sync.transport.call, []

    def list_refused(link: Any, call: Any) -> Any:
        methods.append(call.method)
        if call.method == "order.searchList":
            raise PlatformError("busy", retryable=True)
        return real_call(link, call)

    sync.transport.call = list_refused  # type: ignore[method-assign]
    soon = clock.utcnow() + timedelta(seconds=1)
    assert sync.fetch_once(now=soon) == 0 and methods == ["order.searchList"]  # nobody detail-fetched yet
    assert sync.fetch_once(now=soon + BULK_PATIENCE) == len(orders)  # a minute on: detail calls take over
    assert methods.count("order.orderDetail") == len(orders)


def test_a_push_while_an_orders_detail_call_is_out_keeps_it_queued(runtime, db, douyin) -> None:
    sim, shop_id = douyin
    (order,) = sim.add_orders("douyin", 1, seed=6)
    sync = _sync(runtime)
    sync.request_fetch(shop_id, [order["platform_order_id"]])
    real = sync.transport.call

    def call_and_push_meanwhile(link: Any, made: Any) -> Any:
        answer = real(link, made)
        sync.request_fetch(shop_id, [order["platform_order_id"]])  # the platform pushed again meanwhile
        return answer

    sync.transport.call = call_and_push_meanwhile  # type: ignore[method-assign]
    assert sync.fetch_once() == 1
    with db.read() as s:  # the newer push is read again, not dropped with the answered one
        assert [r[0] for r in fetchall(s, "SELECT platform_order_id FROM channel_fetch")] == \
            [order["platform_order_id"]]
