"""Carrier accounts as data: secrets sealed and re-sealed by a key rotation, an inactive account neither takes
orders nor asks for numbers, and the desk's loop keeps numbers ahead in the background."""

from __future__ import annotations

import threading
import time

import pytest

from baodan.core.db import fetchall
from baodan.identity.pii import PiiCipher, add_key_to_file, rotate_secrets
from baodan.waybills import accounts, services
from baodan.waybills.desk import WaybillDesk
from baodan.waybills.errors import AccountNotFound
from baodan.waybills.schemas import CarrierAccountWrite


def test_an_accounts_secrets_are_sealed_and_a_key_rotation_reseals_them(runtime, db, account) -> None:
    account_id = account()
    with db.read() as s:
        ((sealed,),) = fetchall(s, "SELECT secrets_sealed FROM carrier_account WHERE id = ?", (account_id,))
        (pool,) = accounts.pools(s, runtime.pii)
    assert pool.account.creds.app_secret not in sealed and pool.account.creds.extra["user_id"] not in sealed
    add_key_to_file(runtime.settings.data_dir / "keys.json")
    new = PiiCipher.from_settings(runtime.settings)
    assert rotate_secrets(db, new) == 1
    with db.read() as s:
        ((resealed,),) = fetchall(s, "SELECT secrets_sealed FROM carrier_account WHERE id = ?", (account_id,))
        (reopened,) = accounts.pools(s, new)
    assert resealed.split(".")[1] == new.current and reopened.account.creds == pool.account.creds


def test_an_inactive_account_takes_no_orders_and_asks_for_no_numbers(runtime, db, desk, reserved, account) -> None:
    ids = reserved(2)
    account_id = account()
    services.request_numbers(db, account_id=account_id, order_ids=ids[:1])
    current = accounts.summary(db, account_id)
    data = CarrierAccountWrite.model_validate({k: current[k] for k in accounts.SHOWN} | {"active": False})
    accounts.save(db, runtime.pii, data=data, account_id=account_id, actor="system:test")
    with pytest.raises(AccountNotFound):
        services.request_numbers(db, account_id=account_id, order_ids=ids[1:])
    assert desk.refill_once() == 0
    assert accounts.summary(db, account_id)["queued"] == 1


def test_the_loop_keeps_numbers_ahead_in_the_background(runtime, db, sim, reserved, account) -> None:
    ids = reserved(15)
    services.request_numbers(db, account_id=account(low_water=10, refill_batch=5), order_ids=ids)
    stop = threading.Event()
    with WaybillDesk(db, runtime.pii, max_attempts=1) as desk:
        (thread,) = desk.start(stop)
        deadline = time.monotonic() + 20
        while len(sim.simulation.carriers.issued("cainiao")) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        stop.set()
        thread.join(10)
    assert len(sim.simulation.carriers.issued("cainiao")) == 10  # up to the low-water mark, not beyond
    assert accounts.listing(db)[0]["ready"] == 10


def test_a_douyin_account_uses_its_shops_session_renewed_with_the_shop(runtime, db, sim) -> None:
    from dataclasses import replace
    from datetime import timedelta

    from baodan.catalog import services as catalog
    from baodan.catalog.schemas import ShopCreate, WarehouseCreate
    from baodan.channels import credentials
    from baodan.core import clock
    from baodan.waybills.errors import InvalidAccount
    from baodan.waybills.schemas import Secrets
    from tests.integration.waybills.conftest import SENDER

    catalog.create_warehouse(db, data=WarehouseCreate(code="WH1", name="WH1"))
    dy = catalog.create_shop(db, data=ShopCreate(code="DY", name="DY", channel="douyin", default_warehouse="WH1"))["id"]
    pdd = catalog.create_shop(db, data=ShopCreate(code="PDD", name="PDD", channel="pdd", default_warehouse="WH1"))["id"]
    credentials.save(db, runtime.pii, shop_id=dy, app_key="dy-app", app_secret="s", access_token="shop-token-1",
                     actor="user:owner")
    creds = sim.simulation.carriers.credentials("douyin-waybill")
    data = CarrierAccountWrite(name="ZTO-抖店", adapter="douyin", carrier_code="ZTO", app_key=creds.app_key,
                               base_url=f"{sim.url}/douyin-waybill", sender=SENDER, shop_id=dy,
                               secrets=Secrets(app_secret=creds.app_secret, access_token="stale-copy"))
    account_id = int(accounts.save(db, runtime.pii, data=data, actor="user:owner")["id"])
    with db.read() as s:
        assert accounts.account(s, runtime.pii, account_id).creds.access_token == "shop-token-1"
    with db.write() as s:  # the channel sync renews the shop's token
        stored = credentials.lock_for_refresh(s, runtime.pii, dy)
        credentials.store_token(s, runtime.pii, shop_id=dy, creds=replace(stored.creds, access_token="shop-token-2"),
                                token_expires_at=clock.utcnow() + timedelta(days=7), refresh_expires_at=None,
                                reason="test", actor="system:tokens", now=clock.utcnow())
    with db.read() as s:
        (pool,) = accounts.pools(s, runtime.pii)
    assert pool.account.creds.access_token == "shop-token-2"
    for wrong in (data.model_copy(update={"shop_id": pdd, "name": "x"}),
                  data.model_copy(update={"adapter": "cainiao", "name": "y"})):
        with pytest.raises(InvalidAccount):
            accounts.save(db, runtime.pii, data=wrong, actor="user:owner")
