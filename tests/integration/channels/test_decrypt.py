"""Receivers the platforms give masked and encrypted, decrypted through the in-process simulator: one
reveal over HTTP (audited first, never stored in clear), and decrypt_receivers in batches on every platform
that has a decrypt call."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from baodan.channels import credentials, decrypt
from baodan.channels.registry import ADAPTERS
from baodan.channels.sync import ChannelSync
from baodan.core.db import Database, execute, fetchall
from baodan.identity import audit
from baodan.sim import Simulator, load_config
from tests.helpers import API, drain, error_body, make_catalog

SHOP = "SHOP-A"
DECRYPTING = ("douyin", "kuaishou", "wechat", "taobao", "pdd")
# orders per platform: more than one batch where that stays quick (PDD allows one decrypt call in 10 s, WeChat
# decrypts one order a call)
ORDERS = {"douyin": 20, "kuaishou": 20, "wechat": 3, "taobao": 25, "pdd": 20, "jd": 2}


@pytest.fixture
def simulate() -> Iterator[Any]:
    started: list[Simulator] = []

    def start(channel: str) -> Simulator:
        config = load_config(port=0)
        config = replace(config, platforms={channel: config.platforms[channel]})
        started.append(Simulator(config).start())
        return started[-1]

    yield start
    for sim in started:
        sim.stop()


def _orders_in(db: Database, runtime: Any, sim: Simulator, channel: str, count: int) -> dict[str, int]:
    """`count` simulator orders pulled into BaoDan and processed; platform order id → BaoDan order id."""
    shop_id = make_catalog(db, skus={"A": 5}, shop=SHOP, channel=channel)[SHOP]
    creds = sim.credentials(channel)
    credentials.save(db, runtime.pii, shop_id=shop_id, app_key=creds.app_key, app_secret=creds.app_secret,
                     platform_shop_id=creds.shop_id, base_url=sim.base_url(channel), access_token=creds.access_token,
                     refresh_token=creds.refresh_token, extra=dict(creds.extra), actor="system:test")
    sim.add_orders(channel, count)
    sync = ChannelSync(runtime.db, runtime.inbox, runtime.shops, runtime.pii, pull_lookback=timedelta(minutes=30))
    sync.pull_once(sync.link(shop_id))
    for _ in range(10):
        if not sync.fetch_once():  # WeChat lists order ids only: each is read by a detail call
            break
    drain(runtime)
    with db.read() as s:
        found = dict(fetchall(s, "SELECT platform_order_id, id FROM sales_order WHERE shop_id = ?", (shop_id,)))
    assert len(found) == count
    return found


def _clear(sim: Simulator, channel: str, platform_order_id: str) -> dict[str, str]:
    order = sim.store.order(channel, platform_order_id)
    assert order is not None
    return order["receiver"]


def _sealed(db: Database, runtime: Any, order_id: int) -> dict[str, Any]:
    with db.read() as s:
        ((sealed,),) = fetchall(s, "SELECT receiver_sealed FROM sales_order WHERE id = ?", (order_id,))
    return runtime.pii.open(sealed)


def test_reveal_over_http_decrypts_through_the_platform_after_the_audit_record(runtime, db, simulate,
                                                                                client) -> None:
    sim = simulate("douyin")
    ids = _orders_in(db, runtime, sim, "douyin", 2)
    (platform_order_id, order_id), (other_platform_id, other_id) = sorted(ids.items())
    sealed = _sealed(db, runtime, order_id)
    assert decrypt.is_masked(sealed) and set(sealed["platform_cipher"]) >= {"name", "phone", "address"}

    resp = client.post(f"{API}/orders/{order_id}/reveal")

    assert resp.status_code == 200, resp.text
    clear = _clear(sim, "douyin", platform_order_id)
    assert resp.json() == {k: clear[k] for k in ("name", "phone", "address")}
    with db.read() as s:
        [record] = audit.search(s, action="pii.reveal")
    assert record["target"] == f"order:{order_id}" and record["detail"]["decrypt"] == "platform"
    assert _sealed(db, runtime, order_id) == sealed  # the clear receiver is not kept
    with db.read() as s:
        logged = " ".join(str(r) for r in fetchall(s, "SELECT request, response FROM channel_call"))
        dump = " ".join(str(r) for r in fetchall(s, "SELECT * FROM sales_order"))
    assert "order.batchDecrypt" in logged
    assert clear["phone"] not in logged + dump and clear["name"] not in logged + dump

    # a ciphertext of another order is refused by the platform: 502 with its message
    swapped = runtime.pii.seal(_sealed(db, runtime, other_id))
    with db.write() as s:
        execute(s, "UPDATE sales_order SET receiver_sealed = ? WHERE id = ?", (swapped, order_id))
    body = error_body(client.post(f"{API}/orders/{order_id}/reveal"), 502, "channel.platform_error")
    assert "密文与订单不匹配" in body["message"]

    # the shop no longer connected: 409
    with db.write() as s:
        execute(s, "DELETE FROM shop_credential", ())
    error_body(client.post(f"{API}/orders/{other_id}/reveal"), 409, "channels.not_connected")


@pytest.mark.parametrize("channel", DECRYPTING)
def test_decrypt_receivers_opens_every_order_in_batches_per_shop(runtime, db, simulate, channel) -> None:
    sim = simulate(channel)
    ids = _orders_in(db, runtime, sim, channel, ORDERS[channel])

    found = decrypt.decrypt_receivers(db, runtime.pii, ids.values())

    assert found.failed == {}
    for platform_order_id, order_id in ids.items():
        clear = _clear(sim, channel, platform_order_id)
        assert {k: found.receivers[order_id][k] for k in ("name", "phone", "address")} == \
               {k: clear[k] for k in ("name", "phone", "address")}
        assert "platform_cipher" not in found.receivers[order_id]
        assert decrypt.is_masked(_sealed(db, runtime, order_id))  # nothing stored in clear
    size = ADAPTERS[channel].decrypt_batch_size
    with db.read() as s:
        ((calls,),) = fetchall(s, "SELECT count(*) FROM channel_call WHERE method LIKE ? AND ok = ?",
                               ("%ecrypt%" if channel != "wechat" else "%sensitiveinfo%", True))
    assert calls == -(-len(ids) // size)


def test_jd_receivers_stay_masked_its_decrypt_is_not_built(runtime, db, simulate) -> None:
    sim = simulate("jd")
    ids = _orders_in(db, runtime, sim, "jd", ORDERS["jd"])

    found = decrypt.decrypt_receivers(db, runtime.pii, ids.values())

    assert found.receivers == {} and set(found.failed) == set(ids.values())
    assert all(isinstance(e, decrypt.NoDecrypt) and e.status == 409 for e in found.failed.values())


def test_clear_receivers_are_given_as_sealed_without_a_platform_call(runtime, db) -> None:
    from tests.helpers import order, submit

    make_catalog(db, skus={"A": 5})
    submit(runtime, order("6920000000000099999", [("A", 1)]))
    drain(runtime)
    with db.read() as s:
        ((order_id,),) = fetchall(s, "SELECT id FROM sales_order", ())

    found = decrypt.decrypt_receivers(db, runtime.pii, [order_id])

    assert found.receivers[order_id]["phone"] == "13800138000" and found.failed == {}
    with db.read() as s:
        assert fetchall(s, "SELECT count(*) FROM channel_call", ()) == [(0,)]
