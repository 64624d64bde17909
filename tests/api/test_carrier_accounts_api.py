"""Carrier accounts over HTTP (secrets write-only, audited) and giving a waybill number back, through the
in-process simulator's 菜鸟 service."""

from __future__ import annotations

from dataclasses import replace

from baodan.core.db import fetchall
from baodan.identity import accounts, audit
from baodan.sim import Simulator, load_config
from baodan.waybills import services
from baodan.waybills.desk import WaybillDesk
from tests.api.test_security import PASSWORD, _login
from tests.helpers import API, drain, error_body, make_catalog, order, sqlite_only, submit

pytestmark = sqlite_only
SENDER = {"name": "杭州仓", "phone": "13900000000", "province": "浙江省", "city": "杭州市", "district": "余杭区",
          "address": "仓前街道 1 号"}
BODY = {"name": "ZTO-杭州", "adapter": "cainiao", "carrier_code": "ZTO", "app_key": "23456789", "sender": SENDER,
        "secrets": {"app_secret": "cn-secret-123456", "access_token": "session-abc", "extra": {"user_id": "22001"}}}


def test_a_carrier_account_is_created_read_and_changed_and_its_secrets_never_shown(runtime, db, client) -> None:
    resp = client.post(f"{API}/carrier-accounts", json=BODY)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert (created["name"], created["low_water"], created["refill_batch"], created["ready"]) == ("ZTO-杭州", 2000,
                                                                                                  200, 0)
    assert "secrets" not in created and "cn-secret" not in resp.text and "session-abc" not in resp.text
    url = f"{API}/carrier-accounts/{created['id']}"
    assert client.get(url).json() == created
    assert [a["id"] for a in client.get(f"{API}/carrier-accounts").json()] == [created["id"]]
    changed = client.put(url, json={k: v for k, v in BODY.items() if k != "secrets"} | {"low_water": 500})
    assert changed.status_code == 200, changed.text
    assert changed.json()["low_water"] == 500
    with db.read() as s:
        records = audit.search(s, action="settings.carrier_account")
        ((sealed,),) = fetchall(s, "SELECT secrets_sealed FROM carrier_account")
    assert [r["detail"]["secrets"] for r in records] == ["kept", "replaced"]  # newest first
    assert records[0]["detail"]["before"]["low_water"] == 2000 and records[0]["detail"]["after"]["low_water"] == 500
    assert "cn-secret" not in str(records) and runtime.pii.open(sealed)["app_secret"] == "cn-secret-123456"


def test_carrier_account_refusals(runtime, db, client) -> None:
    assert client.post(f"{API}/carrier-accounts", json=BODY).status_code == 201
    error_body(client.post(f"{API}/carrier-accounts", json=BODY), 409, "waybills.account_exists")
    error_body(client.post(f"{API}/carrier-accounts", json={**BODY, "name": "other", "secrets": None}), 422,
               "waybills.invalid_account")
    error_body(client.post(f"{API}/carrier-accounts", json={**BODY, "adapter": "sf-express"}), 422, "request.invalid")
    error_body(client.post(f"{API}/carrier-accounts", json={**BODY, "low_water": -1}), 422, "request.invalid")
    error_body(client.get(f"{API}/carrier-accounts/999"), 404, "waybills.account_not_found")
    error_body(client.put(f"{API}/carrier-accounts/999", json=BODY), 404, "waybills.account_not_found")
    accounts.create_user(db, username="ops", role="operator", password=PASSWORD)
    operator = _login(runtime, "ops")
    assert operator.get(f"{API}/carrier-accounts").status_code == 200
    error_body(operator.post(f"{API}/carrier-accounts", json={**BODY, "name": "x"}), 403, "auth.forbidden")


def test_a_number_is_given_back_over_http_at_once(runtime, db, client) -> None:
    config = load_config(port=0)
    with Simulator(replace(config, platforms={"taobao": config.platforms["taobao"]})) as sim:
        creds = sim.simulation.carriers.credentials("cainiao")
        body = BODY | {"base_url": f"{sim.url}/cainiao", "app_key": creds.app_key, "secrets": {
            "app_secret": creds.app_secret, "access_token": creds.access_token, "extra": dict(creds.extra)}}
        account_id = client.post(f"{API}/carrier-accounts", json=body).json()["id"]
        make_catalog(db, skus={"A": 5})
        submit(runtime, order("o1", [("A", 1)]))
        drain(runtime)
        with db.read() as s:
            ((order_id,),) = fetchall(s, "SELECT id FROM sales_order")
        services.request_numbers(db, account_id=account_id, order_ids=[order_id])
        with WaybillDesk(db, runtime.pii) as desk:
            assert desk.refill_once() == 1
        number = services.numbers_for(db, [order_id])[order_id]["waybill_no"]
        assert client.get(f"{API}/carrier-accounts/{account_id}").json()["ready"] == 1
        resp = client.post(f"{API}/waybills/{number}/cancel", json={"reason": "拦截"})
        assert resp.status_code == 200, resp.text
        assert resp.json()["state"] == "cancelled" and resp.json()["cancel_reason"] == "拦截"
        assert [w.waybill_no for w in sim.simulation.carriers.cancelled("cainiao")] == [number]
        error_body(client.post(f"{API}/waybills/{number}/cancel", json={}), 409, "waybills.not_cancellable")
        error_body(client.post(f"{API}/waybills/700000000099/cancel", json={}), 404, "waybills.not_found")
