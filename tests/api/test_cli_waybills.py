"""`baodan waybills …` from the command line, against the simulator's 菜鸟 service: list accounts, refill now,
give a number back; bad input gets one line and a non-zero exit."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from baodan.core.config import Settings
from baodan.core.db import Database, fetchall
from baodan.identity.pii import PiiCipher
from baodan.sim import Simulator, load_config
from baodan.waybills import accounts, services
from baodan.waybills.schemas import CarrierAccountWrite, Secrets, Sender
from tests.api.test_cli import failed_with, ok, run


def test_accounts_refill_and_cancel_against_the_simulator(demo_copy: Path) -> None:
    assert json.loads(ok(demo_copy, "waybills", "accounts", "--json")) == []
    config = load_config(port=0)
    with Simulator(replace(config, platforms={"taobao": config.platforms["taobao"]})) as sim:
        db = Database(f"sqlite:///{demo_copy / 'baodan.db'}")
        creds = sim.simulation.carriers.credentials("cainiao")
        data = CarrierAccountWrite(
            name="ZTO-HZ", adapter="cainiao", carrier_code="ZTO", app_key=creds.app_key, base_url=f"{sim.url}/cainiao",
            low_water=5, refill_batch=5, sender=Sender(name="杭州仓", phone="13900000000", province="浙江省",
                                                       city="杭州市", address="仓前街道 1 号"),
            secrets=Secrets(app_secret=creds.app_secret, access_token=creds.access_token, extra=dict(creds.extra)))
        pii = PiiCipher.from_settings(Settings(data_dir=demo_copy))
        account_id = accounts.save(db, pii, data=data, actor="system:test")["id"]
        with db.read() as s:
            reserved = [i for (i,) in fetchall(s, "SELECT id FROM sales_order WHERE state = 'reserved' ORDER BY id "
                                                  "LIMIT 8")]
        assert services.request_numbers(db, account_id=account_id, order_ids=reserved) == 8
        assert "5 number(s) issued" in ok(demo_copy, "waybills", "refill", "--account", "ZTO-HZ")
        (row,) = json.loads(ok(demo_copy, "waybills", "accounts", "--json"))
        assert (row["ready"], row["queued"], row["issued_today"]) == (5, 3, 5)
        assert "ZTO-HZ" in ok(demo_copy, "waybills", "accounts")
        number = services.numbers_for(db, reserved[:1])[reserved[0]]["waybill_no"]
        assert f"ZTO {number}: cancelled" in ok(demo_copy, "waybills", "cancel", number, "--reason", "拦截")
        assert [w.waybill_no for w in sim.simulation.carriers.cancelled("cainiao")] == [number]
        failed_with(run(demo_copy, "waybills", "cancel", number), "waybills.not_cancellable")
        failed_with(run(demo_copy, "waybills", "cancel", "700000000099"), "waybills.not_found")
        failed_with(run(demo_copy, "waybills", "refill", "--account", "nope"), "waybills.account_not_found")
        db.dispose()
