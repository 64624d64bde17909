"""Calls signed by each adapter's own client side are served by the simulator, and its answers read back
through the same adapter: the incremental list, the detail, the ship write-back and the stock push."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest

from baodan.channels.base import Call, Credentials, PlatformError
from baodan.channels.registry import ADAPTERS, PLATFORMS
from baodan.core import clock
from baodan.core.errors import BaoDanError
from baodan.sim import Simulator
from baodan.sim.simulation import ERRORS


def call(sim: Simulator, channel: str, made: Call, *, creds: Credentials | None = None) -> dict[str, Any]:
    adapter = ADAPTERS[channel]
    request = adapter.sign(creds or sim.credentials(channel), made, base_url=sim.base_url(channel),
                           now=clock.utcnow())
    answer = httpx.request(request.http_method, request.url, params=request.query, headers=request.headers,
                           content=request.body)
    return adapter.read_response(made, answer.status_code, answer.content)


def list_all(sim: Simulator, channel: str, *, page_size: int) -> list[str]:
    """Page through the whole incremental list of the last few minutes; the order ids in list order."""
    adapter, creds = ADAPTERS[channel], sim.credentials(channel)
    now = clock.utcnow()
    updated_from = now - min(adapter.max_list_window, timedelta(minutes=10))
    ids, page, cursor = [], 1, None
    while True:
        made = adapter.order_list_call(creds, updated_from=updated_from, updated_to=now + timedelta(seconds=2),
                                       page=page, cursor=cursor, page_size=page_size)
        result = adapter.parse_order_list(call(sim, channel, made), page=page, page_size=page_size)
        for order in result.orders:
            if result.ids_only:
                order = adapter.parse_order_detail(call(sim, channel, adapter.order_detail_call(
                    creds, _stub_id(adapter, order))))
            ids.append(adapter.to_canonical(order, shop_code="X")["platform_order_id"])
        assert len(result.orders) <= page_size
        if not result.has_more:
            return ids
        page, cursor = page + 1, result.next_cursor


def _stub_id(adapter: Any, stub: dict[str, Any]) -> str:
    return str(next(iter(stub.values())))


@pytest.mark.parametrize("channel", PLATFORMS)
def test_order_list_pages_through_the_orders_updated_in_the_window_oldest_first(simulator: Simulator,
                                                                              channel: str) -> None:
    added = simulator.add_orders(channel, 7, seed=3)

    listed = list_all(simulator, channel, page_size=3)

    expected = [o["platform_order_id"] for o in sorted(added, key=lambda o: (o["updated_at"],
                                                                             o["platform_order_id"]))]
    assert listed == expected


@pytest.mark.parametrize("channel", PLATFORMS)
def test_order_detail_reads_back_as_the_simulators_canonical_order(simulator: Simulator, channel: str) -> None:
    adapter, creds = ADAPTERS[channel], simulator.credentials(channel)
    order = simulator.add_orders(channel, 1, seed=5)[0]

    detail = adapter.parse_order_detail(call(simulator, channel,
                                             adapter.order_detail_call(creds, order["platform_order_id"])))

    canonical = adapter.to_canonical(detail, shop_code=order["shop"])
    assert {k: canonical[k] for k in ("platform_order_id", "status", "paid_total_fen", "shop", "channel")} == \
           {k: order[k] for k in ("platform_order_id", "status", "paid_total_fen", "shop", "channel")}
    assert [(li["platform_sku_id"], li["quantity"]) for li in canonical["lines"]] == \
           [(li["platform_sku_id"], li["quantity"]) for li in order["lines"]]
    assert canonical["updated_at"] == order["updated_at"]


@pytest.mark.parametrize("channel", PLATFORMS)
def test_an_unknown_order_gets_the_platforms_not_found_error(simulator: Simulator, channel: str) -> None:
    adapter, creds = ADAPTERS[channel], simulator.credentials(channel)
    with pytest.raises(PlatformError) as refused:
        call(simulator, channel, adapter.order_detail_call(creds, "4040404040404"))
    assert refused.value.platform_code in ERRORS[channel]["not_found"][0]


@pytest.mark.parametrize("channel", PLATFORMS)
def test_ship_is_recorded_and_the_order_becomes_shipped_with_a_newer_update_time(simulator: Simulator,
                                                                             channel: str) -> None:
    adapter, creds = ADAPTERS[channel], simulator.credentials(channel)
    order = simulator.add_orders(channel, 1, seed=7)[0]

    try:
        made = adapter.ship_call(creds, platform_order_id=order["platform_order_id"], waybill_no="SF1234567890",
                                 carrier_code="SF", lines=[])
    except (ValueError, BaoDanError):  # platforms that name carriers by number
        made = adapter.ship_call(creds, platform_order_id=order["platform_order_id"], waybill_no="SF1234567890",
                                 carrier_code="467", lines=[])
    call(simulator, channel, made)

    [writeback] = simulator.store.writebacks(channel)
    assert (writeback.platform_order_id, writeback.waybill_no, writeback.accepted) == \
           (order["platform_order_id"], "SF1234567890", True)
    shipped = simulator.store.order(channel, order["platform_order_id"])
    assert shipped is not None and shipped["status"] == "shipped"
    assert shipped["updated_at"] > order["updated_at"]
    assert [e.kind for e in simulator.store.events(channel)][-1] == "shipped"


@pytest.mark.parametrize("channel", PLATFORMS)
def test_stock_push_is_recorded_and_the_level_kept(simulator: Simulator, channel: str) -> None:
    adapter, creds = ADAPTERS[channel], simulator.credentials(channel)
    sku = simulator.config.platforms[channel].skus[0]
    current = None
    query = adapter.stock_query_call(creds, platform_sku_id=sku.platform_sku_id,
                                     platform_product_id=sku.platform_product_id)
    if query is not None:  # a delta platform: read the level first
        current = adapter.parse_stock_query(call(simulator, channel, query), platform_sku_id=sku.platform_sku_id)
        assert current == 0

    call(simulator, channel, adapter.stock_call(creds, platform_sku_id=sku.platform_sku_id, quantity=37,
                                                platform_product_id=sku.platform_product_id, current=current))

    [pushed] = simulator.store.stock_pushes(channel)
    assert (pushed.platform_sku_id, pushed.level, pushed.mode) == (sku.platform_sku_id, 37, adapter.stock_mode)
    assert simulator.store.stock_levels(channel) == {sku.platform_sku_id: 37}
    if query is not None:
        assert adapter.parse_stock_query(call(simulator, channel, query), platform_sku_id=sku.platform_sku_id) == 37


@pytest.mark.parametrize("channel", PLATFORMS)
def test_a_wrongly_signed_call_gets_the_platforms_error_envelope(simulator: Simulator, channel: str) -> None:
    adapter, creds = ADAPTERS[channel], simulator.credentials(channel)
    wrong = replace(creds, app_secret=creds.app_secret[::-1], access_token=(creds.access_token or "")[::-1],
                    extra={k: v[::-1] for k, v in creds.extra.items()})
    simulator.add_orders(channel, 1)
    made = adapter.order_list_call(wrong, updated_from=clock.utcnow() - timedelta(minutes=5),
                                   updated_to=clock.utcnow(), page=1, cursor=None, page_size=10)
    request = adapter.sign(wrong, made, base_url=simulator.base_url(channel), now=clock.utcnow())
    answer = httpx.request(request.http_method, request.url, params=request.query, headers=request.headers,
                           content=request.body)

    with pytest.raises(PlatformError):
        adapter.read_response(made, answer.status_code, answer.content)
    assert b"shop_order_list" not in answer.content and b"orderList" not in answer.content
    assert ERRORS[channel]["bad_signature"][0].encode() in answer.content or channel == "wechat"


def test_an_unknown_path_is_404_naming_the_served_prefixes(simulator: Simulator) -> None:
    answer = httpx.get(simulator.url + "/nowhere/order/get")
    assert answer.status_code == 404
    assert answer.json()["code"] == "sim.unknown_path"


@pytest.mark.parametrize("channel", ["douyin", "taobao", "wechat"])
def test_a_split_shipment_leaves_the_order_paid_until_its_last_line_ships(simulator: Simulator,
                                                                         channel: str) -> None:
    adapter, creds = ADAPTERS[channel], simulator.credentials(channel)
    order = next(o for o in simulator.add_orders(channel, 40, seed=11) if len(o["lines"]) > 1)
    lines = [{"platform_line_id": ln.get("platform_line_id"), "platform_sku_id": ln.get("platform_sku_id"),
              "quantity": ln["quantity"]} for ln in order["lines"]]
    pid = order["platform_order_id"]
    call(simulator, channel, adapter.ship_call(creds, platform_order_id=pid, waybill_no="SF0000000001",
                                               carrier_code="SF", lines=lines[:1]))
    assert simulator.store.order(channel, pid)["status"] == "paid"  # 部分发货
    call(simulator, channel, adapter.ship_call(creds, platform_order_id=pid, waybill_no="SF0000000002",
                                               carrier_code="SF", lines=lines[1:]))
    assert simulator.store.order(channel, pid)["status"] == "shipped"
    assert [w.waybill_no for w in simulator.store.writebacks(channel)] == ["SF0000000001", "SF0000000002"]
