"""A live session on the platform simulator, end to end: signed pushes reach BaoDan's webhooks, orders are
reserved, a shipped order's waybill is written back to the platform, the new sellable stock is pushed; and
while BaoDan is away, the pushes it missed are recovered by the incremental pull, without duplicates."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from baodan.app import create_app
from baodan.channels import carriers, credentials, stock
from baodan.channels.registry import ADAPTERS
from baodan.channels.sync import ChannelSync
from baodan.check import run_checks
from baodan.core.db import fetchall
from baodan.demo import SHOPS, seed_catalog
from baodan.sim import Simulator, load_config
from tests.helpers import API, drain, serving, sqlite_only

pytestmark = [sqlite_only, pytest.mark.slow]
PLATFORMS = tuple(channel for _, _, channel in SHOPS)  # douyin, kuaishou, taobao: the demo's shops


def _simulator(push_to: str | None, **session: Any) -> Simulator:
    config = load_config(port=0)
    config = replace(config, platforms={p: config.platforms[p] for p in PLATFORMS},
                     session=replace(config.session, **{"rate": 400.0, "orders": 120, "hot_skus": 2,
                                                        "follow_up_min_s": 0.2, "follow_up_max_s": 1.0,
                                                        "out_of_order_delay_s": 0.3, **session}),
                     pushes=replace(config.pushes, push_to=push_to, retry_budget_s=1.5, first_retry_s=0.2))
    return Simulator(config)


def _connect(db: Any, runtime: Any, sim: Simulator) -> None:
    carriers.save(db, "kuaishou", {"ZTO": "4"}, actor="system:test")  # 快手 numbers couriers: no default
    with db.read() as s:
        shops = dict(fetchall(s, "SELECT channel, id FROM shop"))
    for channel in PLATFORMS:
        creds = sim.credentials(channel)
        credentials.save(db, runtime.pii, shop_id=shops[channel], app_key=creds.app_key, app_secret=creds.app_secret,
                         platform_shop_id=creds.shop_id, base_url=sim.base_url(channel),
                         access_token=creds.access_token, extra=dict(creds.extra), actor="system:test")


def _sync(runtime: Any) -> ChannelSync:
    return ChannelSync(runtime.db, runtime.inbox, runtime.shops, runtime.pii, pull_lookback=timedelta(hours=1))


def _settle(runtime: Any, sync: ChannelSync) -> None:
    """Fetch what pushes named, then let the worker process everything."""
    for _ in range(20):
        if not sync.fetch_once():
            break
    drain(runtime)


def _baodan_orders(db: Any) -> dict[tuple[str, str], str]:
    with db.read() as s:
        return {(c, o): st for c, o, st in fetchall(s, "SELECT channel, platform_order_id, platform_status "
                                                       "FROM sales_order")}


def _sim_orders(sim: Simulator) -> dict[tuple[str, str], str]:
    return {(p, oid): order["status"] for p in PLATFORMS
            for oid, order in sim.store.platforms[p].orders.items()}


def test_a_live_session_flows_through_pushes_ship_write_back_and_stock_push(runtime, db, client) -> None:
    seed_catalog(db, sku_count=20, default_stock=40)
    with serving(create_app(runtime)) as baodan, _simulator(baodan) as sim:
        _connect(db, runtime, sim)
        sync = _sync(runtime)
        sim.start_session()
        sim.wait_session()
        sim.wait_pushes()
        _settle(runtime, sync)
        expected = _sim_orders(sim)
        assert len(expected) == 120
        got = _baodan_orders(db)
        missing = sorted(set(expected) - set(got))
        assert not missing, f"orders the pushes did not bring: {missing[:5]}"
        assert {k: got[k] for k in expected} == expected  # the newest state of every order won
        assert sum(sim.store.push_counts(p).duplicates for p in PLATFORMS) > 0  # redeliveries were handled

        shipped = {}
        for channel in PLATFORMS:
            order = client.get(f"{API}/orders", params={"channel": channel, "state": "reserved", "limit": 1}).json()
            order = order["items"][0]
            resp = client.post(f"{API}/orders/{order['id']}/ship",
                               json={"carrier_code": "ZTO", "waybill_no": f"ZT{order['id']:010d}"})
            assert resp.status_code == 200, resp.text
            shipped[channel] = (order["platform_order_id"], f"ZT{order['id']:010d}")
        assert sync.writeback_once() == len(PLATFORMS)
        for channel, (platform_order_id, waybill) in shipped.items():
            written = [w for w in sim.store.platforms[channel].writebacks if w.platform_order_id == platform_order_id]
            assert [w.waybill_no for w in written] == [waybill], channel
        assert sync.writeback_once() == 0  # written back once

        pushed = sync.stock_once(everything=True)
        while sync.stock_pending:  # a pass sends at most about stock_interval_s of calls; the rest follow
            pushed += sync.stock_once()
        assert pushed > 0
        with db.read() as s:
            listings = stock.listings(s, shop_ids=[link.shop_id for link in sync.links()])
            sellable = stock.sellable(s, listings)
        for link in sync.links():
            pushed = sim.store.platforms[link.channel].stock_pushes
            assert pushed, link.channel
            for item in [i for i in listings if i.shop_id == link.shop_id]:  # what each platform now sells
                assert sim.store.stock_level(link.channel, item.platform_sku_id) == \
                    sellable[(link.shop_id, item.platform_sku_id)], (link.channel, item.platform_sku_id)
        assert sync.stock_once() == 0  # nothing changed since: nothing pushed again
        sync.call_log.flush()
        with db.read() as s:
            ((calls, secrets),) = fetchall(s, "SELECT count(*), sum(CASE WHEN request LIKE ? THEN 1 ELSE 0 END) "
                                              "FROM channel_call", (f"%{sim.credentials('douyin').app_secret}%",))
        assert calls > 0 and not secrets
    assert run_checks(db) == []


def test_the_pull_recovers_every_order_pushed_while_baodan_was_away(runtime, db) -> None:
    seed_catalog(db, sku_count=20, default_stock=40)
    with _simulator("http://127.0.0.1:9/unreachable", orders=60) as sim:  # BaoDan is down: every push fails
        _connect(db, runtime, sim)
        sim.start_session()
        sim.wait_session()
        sim.wait_pushes()
        dropped = sum(sim.store.push_counts(p).dropped for p in PLATFORMS)
        assert dropped > 0 and _baodan_orders(db) == {}
        sync = _sync(runtime)  # BaoDan is back: the first pull of each shop reads the last hour
        for link in sync.links():
            sync.pull_once(link)
        _settle(runtime, sync)
        expected = _sim_orders(sim)
        assert {k: v for k, v in _baodan_orders(db).items()} == expected
        for link in sync.links():  # a second pull reads the overlap again: nothing new, nothing doubled
            sync.pull_once(link)
        _settle(runtime, sync)
        assert _baodan_orders(db) == expected
    with db.read() as s:
        ((dupes,),) = fetchall(s, "SELECT count(*) - count(DISTINCT channel || ':' || platform_order_id) "
                                  "FROM sales_order")
        cursors = fetchall(s, "SELECT count(*) FROM channel_cursor WHERE last_error IS NULL")[0][0]
    assert dupes == 0 and cursors == len(PLATFORMS)
    assert run_checks(db) == []
    assert all(ADAPTERS[p].has_push for p in PLATFORMS)


def test_a_stock_change_reaches_the_platform_within_a_second_and_a_sell_out_goes_first(runtime, db) -> None:
    import threading
    import time

    from baodan.inventory import services as inventory_services
    from baodan.inventory.model import MoveKind

    seed_catalog(db, sku_count=20, default_stock=40)
    with _simulator(None) as sim:
        _connect(db, runtime, sim)
        sync = ChannelSync(runtime.db, runtime.inbox, runtime.shops, runtime.pii, stock_interval_s=0.2)
        stop = threading.Event()
        threads = sync.start(stop)
        try:
            deadline = time.monotonic() + 20
            while not all(sim.store.stock_levels(p) for p in PLATFORMS):
                assert time.monotonic() < deadline, "the first full push did not happen"
                time.sleep(0.05)
            with db.read() as s:
                sku_id, wh = fetchall(s, "SELECT sku_id, warehouse_id FROM stock_level WHERE on_hand > 0 "
                                         "ORDER BY sku_id LIMIT 1")[0]
                code = fetchall(s, "SELECT code FROM sku WHERE id = ?", (sku_id,))[0][0]
            platform_sku = f"DY-{code}"
            changed_at = time.monotonic()
            inventory_services.adjust_stock(db, sku_id=sku_id, warehouse_id=wh, set_to=0, kind=MoveKind.adjust)
            while sim.store.stock_level("douyin", platform_sku) != 0:
                assert time.monotonic() - changed_at < 5, "the sell-out was not pushed"
                time.sleep(0.02)
            elapsed = time.monotonic() - changed_at
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
    assert elapsed < 1.0, f"the change took {elapsed:.2f} s to reach the platform"
