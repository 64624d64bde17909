"""The anomaly queue's actions, on both databases: release, fix the address (reviewed again), cancel (the
stock is free again); each audited, each refused at the wrong stage; and the same over HTTP within scope."""

from __future__ import annotations

from typing import Any

import pytest

from baodan.catalog import services as catalog
from baodan.catalog.schemas import ShopCreate
from baodan.check import run_checks
from baodan.core.db import fetchall
from baodan.core.errors import Conflict
from baodan.fulfilment import actions
from baodan.fulfilment.review import review_once
from baodan.identity import accounts, audit
from baodan.rules.store import RuleBook
from tests.api.test_security import PASSWORD, _login
from tests.helpers import API, error_body, sqlite_only
from tests.integration.fulfilment.test_review import _ingest, _order, _stages

ADDRESS_FIX = {"province": "浙江省", "city": "杭州市", "district": "西湖区", "address": "文三路90号3幢502室"}


def _held(runtime: Any, db: Any) -> dict[str, int]:
    from tests.helpers import make_catalog

    make_catalog(db, skus={"A": 5})
    _ingest(runtime, [_order(31, receiver={"city": "广州市"}), _order(32, buyer_message="先别发，等通知"),
                      _order(33)])
    review_once(db, runtime.pii, RuleBook(db))
    with db.read() as s:
        return {p: int(i) for i, p in fetchall(s, "SELECT id, platform_order_id FROM sales_order")}


def test_release_fix_and_cancel_each_audited(runtime, db) -> None:
    ids = _held(runtime, db)
    bad_address, hold_on, fine = (ids[_order(n)["platform_order_id"]] for n in (31, 32, 33))
    assert actions.release(db, hold_on, actor="user:ops", note="买家已确认")["stage"] == "route"
    with pytest.raises(Conflict) as wrong:
        actions.release(db, fine, actor="user:ops")  # not held
    assert wrong.value.code == "fulfilment.wrong_stage"
    assert actions.fix_address(db, runtime.pii, bad_address, ADDRESS_FIX, actor="user:ops")["stage"] == "review"
    assert review_once(db, runtime.pii, RuleBook(db)).passed == 1  # reviewed again, passes now
    assert _stages(db)[_order(31)["platform_order_id"]] == ("route", None)
    with db.read() as s:
        (receiver,) = fetchall(s, "SELECT receiver FROM sales_order WHERE id = ?", (bad_address,))[0]
    assert "广州" not in str(receiver)
    with db.read() as s:
        ((free_before,),) = fetchall(s, "SELECT on_hand - reserved FROM stock_level")
    actions.cancel(db, fine, actor="user:ops", note="买家要求不发")
    with db.read() as s:
        ((free_after,),) = fetchall(s, "SELECT on_hand - reserved FROM stock_level")
        ((state,),) = fetchall(s, "SELECT state FROM sales_order WHERE id = ?", (fine,))
        done = [r["action"] for r in audit.search(s) if r["action"].startswith("fulfilment.")]
    assert state == "cancelled" and free_after == free_before + 1
    assert sorted(done) == ["fulfilment.cancel", "fulfilment.fix_address", "fulfilment.release"]
    assert run_checks(db) == []


@sqlite_only  # the HTTP layer is the same on both databases
def test_the_queue_and_its_actions_over_http_stay_in_scope(runtime, db, client) -> None:
    ids = _held(runtime, db)
    page = client.get(f"{API}/fulfilment/held").json()
    assert sorted(i["hold_reason"] for i in page["items"]) == ["address_invalid", "remark_keyword"]
    assert all("广州" not in str(i["receiver"].get("address")) for i in page["items"])
    summary = client.get(f"{API}/fulfilment/summary").json()
    assert summary["stages"] == {"held": 2, "route": 1}
    held_id = ids[_order(32)["platform_order_id"]]
    assert client.post(f"{API}/fulfilment/{held_id}/release", json={}).json()["stage"] == "route"
    error_body(client.post(f"{API}/fulfilment/{held_id}/release", json={}), 409, "fulfilment.wrong_stage")
    error_body(client.post(f"{API}/fulfilment/999999/cancel", json={}), 404, "orders.not_found")
    error_body(client.post(f"{API}/fulfilment/{held_id}/address", json={"province": "浙"}), 422, "request.invalid")
    assert client.post(f"{API}/blacklist", json={"kind": "phone", "value": "13800138000"}).status_code == 201
    error_body(client.post(f"{API}/blacklist", json={"kind": "phone", "value": "13800138000"}), 409,
               "blacklist.exists")
    listed = client.get(f"{API}/blacklist").json()
    assert listed[0]["kind"] == "phone" and listed[0]["value"] is None  # never the number
    assert client.delete(f"{API}/blacklist/{listed[0]['id']}").status_code == 204
    other = catalog.create_shop(db, data=ShopCreate(code="SHOP-B", name="B", channel="douyin",
                                                    default_warehouse="WH1"))["id"]
    accounts.create_user(db, username="b-ops", role="operator", password=PASSWORD, shop_ids=[other])
    b_ops = _login(runtime, "b-ops")
    assert b_ops.get(f"{API}/fulfilment/held").json()["items"] == []  # another shop's queue
    assert b_ops.get(f"{API}/fulfilment/summary").json()["stages"] == {}
    error_body(b_ops.post(f"{API}/fulfilment/{ids[_order(31)['platform_order_id']]}/cancel", json={}), 404,
               "orders.not_found")
