"""Waybill fixtures: the in-process simulator (its e-waybill services), carrier accounts pointing at it,
reserved orders, and a desk that tries each call once (the loop retries later, so tests never sleep)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from baodan.core.db import Database, fetchall
from baodan.sim import Simulator, load_config
from baodan.waybills import accounts
from baodan.waybills.desk import WaybillDesk
from baodan.waybills.schemas import CarrierAccountWrite, Secrets, Sender
from tests.helpers import drain, make_catalog, order, submit

SERVICES = {"pdd": "pdd-waybill", "douyin": "douyin-waybill"}  # the simulator's prefix of each adapter's service,
# where not its name
SENDER = Sender(name="杭州仓", phone="13900000000", province="浙江省", city="杭州市", district="余杭区",
                address="仓前街道 1 号")


@pytest.fixture
def sim() -> Iterator[Simulator]:
    config = load_config(port=0)
    with Simulator(replace(config, platforms={"taobao": config.platforms["taobao"]})) as simulator:
        yield simulator


@pytest.fixture
def desk(runtime: Any, db: Database) -> Iterator[WaybillDesk]:
    with WaybillDesk(db, runtime.pii, max_attempts=1) as waybill_desk:
        yield waybill_desk


@pytest.fixture
def fast_services(monkeypatch: pytest.MonkeyPatch) -> None:
    """The services' call rates raised (the default, 10 calls a second, makes 2,000 numbers take 20 s)."""
    from baodan.waybills.cainiao import CainiaoAdapter
    from baodan.waybills.kdniao import KdniaoAdapter

    for adapter in (CainiaoAdapter, KdniaoAdapter):
        monkeypatch.setattr(adapter, "calls_per_second", 1000.0)


@pytest.fixture
def account(runtime: Any, db: Database, sim: Simulator) -> Callable[..., int]:
    """An account at the simulator's service `adapter`; returns its id."""

    def make(adapter: str = "cainiao", *, carrier_code: str = "ZTO", low_water: int = 2000,
             refill_batch: int = 200, daily_capacity: int | None = None, name: str | None = None,
             warehouse_id: int | None = None) -> int:
        service = SERVICES.get(adapter, adapter)
        creds = sim.simulation.carriers.credentials(service)
        data = CarrierAccountWrite(
            name=name or f"{carrier_code}-{adapter}", adapter=adapter, carrier_code=carrier_code,
            app_key=creds.app_key, base_url=f"{sim.url}/{service}", sender=SENDER, low_water=low_water,
            refill_batch=refill_batch, daily_capacity=daily_capacity, warehouse_id=warehouse_id,
            secrets=Secrets(app_secret=creds.app_secret, access_token=creds.access_token, extra=dict(creds.extra)))
        return int(accounts.save(db, runtime.pii, data=data, actor="system:test")["id"])

    return make


@pytest.fixture
def reserved(runtime: Any, db: Database) -> Callable[..., list[int]]:
    """`count` orders processed to reserved (one SKU with stock for all); their ids, oldest first."""
    made = {"n": 0}

    def make(count: int, *, channel: str = "douyin", **extra: Any) -> list[int]:
        shop = f"SHOP-{channel.upper()}"
        if made["n"] == 0:
            make_catalog(db, skus={"A": 100_000}, shop=shop, channel=channel)
        start = made["n"]
        made["n"] += count
        submit(runtime, *[order(f"o{i}", [("A", 1)], shop=shop, channel=channel, paid_offset_s=i, **extra)
                          for i in range(start, start + count)])
        drain(runtime)
        with db.read() as s:
            marks = ", ".join("?" * count)
            rows = fetchall(s, f"SELECT id, state FROM sales_order WHERE platform_order_id IN ({marks}) ORDER BY id",
                            [f"o{i}" for i in range(start, start + count)])
        assert {state for _, state in rows} == {"reserved"}
        return [int(order_id) for order_id, _ in rows]

    return make


def call_count(db: Database, method: str | None = None) -> int:
    with db.read() as s:
        if method is None:
            return int(fetchall(s, "SELECT count(*) FROM carrier_call")[0][0])
        return int(fetchall(s, "SELECT count(*) FROM carrier_call WHERE method = ?", (method,))[0][0])
