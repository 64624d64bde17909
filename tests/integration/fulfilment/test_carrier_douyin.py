"""The courier step and 抖店's own e-waybill, on both databases: with a 抖店电子面单 account active, an order
whose receiver 抖店 gave only encrypted is queued there and never at 菜鸟 (which cannot open it), while orders in
clear keep going to the other accounts; without the PII key every 抖店 order counts as encrypted."""

from __future__ import annotations

from baodan.core.db import fetchall
from baodan.fulfilment.carrier import carrier_once
from baodan.fulfilment.review import review_once
from baodan.fulfilment.routing import route_once
from baodan.rules.store import RuleBook
from tests.helpers import make_catalog
from tests.integration.fulfilment.test_review import _ingest, _order
from tests.integration.waybills.conftest import account, sim  # noqa: F401 (fixtures)


def _masked(n: int) -> dict[str, object]:
    """A receiver as 抖店 gives it: masked, with its ciphertexts (a buyer of its own, so no duplicate)."""
    return {"name": "张*", "phone": f"138****{n:04d}", "address": "文三路****",
            "platform_cipher": {"name": f"#VpsnqAH7{n}#", "phone": f"$8HZlW0dw{n}$", "address": f"~Qm1vQ2Rl{n}~"}}


def _queued_at(db) -> dict[str, int]:
    with db.read() as s:
        return {p: int(a) for p, a in fetchall(s, "SELECT o.platform_order_id, r.account_id FROM waybill_request r "
                                                  "JOIN sales_order o ON o.id = r.order_id")}


def test_doudian_encrypted_receivers_go_to_doudians_own_e_waybill_and_others_elsewhere(runtime, db,  # noqa: F811
                                                                                       account) -> None:  # noqa: F811
    make_catalog(db, skus={"A": 100})
    encrypted = [_order(n, receiver=_masked(n)) for n in (801, 802)]
    clear = [_order(803)]
    _ingest(runtime, encrypted + clear)
    book = RuleBook(db)
    review_once(db, runtime.pii, book)
    route_once(db, book)
    cainiao = account("cainiao", carrier_code="ZTO")
    doudian = account("douyin", carrier_code="ZTO")
    assert carrier_once(db, book, pii=runtime.pii).queued == 3
    queued = _queued_at(db)
    assert {queued[o["platform_order_id"]] for o in encrypted} == {doudian}  # never 菜鸟
    assert queued[clear[0]["platform_order_id"]] == cainiao  # the first account with room, as before
    with db.read() as s:
        reasons = {r for (r,) in fetchall(s, "SELECT reason FROM order_decision WHERE hook = 'carrier'")}
    assert reasons == {None}  # the default rule (first account with room) decided every one


def test_without_the_key_every_doudian_order_counts_as_encrypted_and_other_couriers_are_not_offered(
        runtime, db, account) -> None:  # noqa: F811
    make_catalog(db, skus={"A": 100})
    _ingest(runtime, [_order(811)])
    book = RuleBook(db)
    review_once(db, runtime.pii, book)
    route_once(db, book)
    account("cainiao", carrier_code="YTO")
    doudian = account("douyin", carrier_code="ZTO")
    assert carrier_once(db, book).queued == 1
    assert _queued_at(db) == {_order(811)["platform_order_id"]: doudian}
    with db.read() as s:
        (outcome,) = [r for (r,) in fetchall(s, "SELECT outcome FROM order_decision WHERE hook = 'carrier'")]
    assert outcome == "ZTO"
