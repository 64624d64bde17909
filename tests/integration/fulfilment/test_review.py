"""Review (审单) of reserved orders, on both databases: the active rules pass or hold each order with the
rule that decided it; rules are versioned data (a new version takes effect, an old one can be restored);
a second reviewer writes nothing twice."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from baodan.core.db import fetchall, read_time
from baodan.core.errors import NotFound
from baodan.fulfilment.review import release_presale, review_once
from baodan.identity import audit
from baodan.orders.queries import order_detail
from baodan.rules import store
from baodan.rules.engine import RuleError, default_rules
from baodan.rules.store import RuleBook
from tests.helpers import drain, make_catalog

ADDRESS = {"province": "浙江省", "city": "杭州市", "district": "西湖区", "address": "文三路90号3幢502室"}


def _order(n: int, **over: Any) -> dict[str, Any]:
    body = {"channel": "douyin", "shop": "SHOP-A", "platform_order_id": f"69{n:017d}", "status": "paid",
            "updated_at": "2026-12-03T10:00:00+08:00", "created_at": "2026-12-03T09:59:00+08:00",
            "paid_at": f"2026-12-03T10:00:{n % 60:02d}+08:00", "buyer_nick": f"buyer{n}",
            "receiver": {"name": "张三", "phone": f"1380013{n:04d}", **ADDRESS},
            "lines": [{"platform_line_id": f"{n}-1", "platform_sku_id": "P-A", "title": "A", "quantity": 1,
                       "unit_price_fen": 9900, "discount_fen": 0, "amount_fen": 9900}],
            "goods_total_fen": 9900, "shipping_fee_fen": 0, "discount_fen": 0, "paid_total_fen": 9900}
    for key, value in over.items():
        if key == "receiver":
            body["receiver"] = None if value is None else {**body["receiver"], **value}
        else:
            body[key] = value
    return body


def _ingest(runtime: Any, orders: list[dict[str, Any]]) -> None:
    from baodan.intake import services as intake
    from baodan.orders.schemas import CanonicalOrder

    intake.accept_orders(runtime.inbox, runtime.shops, [CanonicalOrder.model_validate(o) for o in orders],
                         pii=runtime.pii)
    drain(runtime)


def _stages(db: Any) -> dict[str, tuple[str, str | None]]:
    with db.read() as s:
        return {p: (st, r) for p, st, r in fetchall(s, "SELECT o.platform_order_id, f.stage, f.hold_reason FROM "
                                                       "fulfilment f JOIN sales_order o ON o.id = f.order_id")}


def test_reserved_orders_are_passed_or_held_with_the_rule_that_decided(runtime, db) -> None:
    make_catalog(db, skus={"A": 100})
    _ingest(runtime, [
        _order(1),
        _order(2, buyer_message="麻烦帮我改地址"),
        _order(3, receiver={"city": "广州市"}),  # 西湖区 is not in 广州: checked, not re-guessed
        _order(4, paid_total_fen=600_000, goods_total_fen=600_000,
               lines=[{"platform_line_id": "4-1", "platform_sku_id": "P-A", "title": "A", "quantity": 2,
                       "unit_price_fen": 300_000, "discount_fen": 0, "amount_fen": 600_000}]),
        _order(5, receiver={"province": "西藏自治区", "city": "拉萨市", "district": "城关区"}),
    ])
    book = RuleBook(db)
    done = review_once(db, runtime.pii, book)
    assert (done.passed, done.held) == (1, 4)
    assert done.reasons == {"remark_keyword": 1, "address_invalid": 1, "amount_over": 1, "remote_region": 1}
    stages = _stages(db)
    assert stages[_order(1)["platform_order_id"]] == ("route", None)
    assert stages[_order(3)["platform_order_id"]] == ("held", "address_invalid")
    with db.read() as s:
        decided = fetchall(s, "SELECT o.platform_order_id, d.rule_set_version, d.rule, d.outcome, d.reason FROM "
                              "order_decision d JOIN sales_order o ON o.id = d.order_id ORDER BY o.platform_order_id")
    assert decided[0][1:] == (0, None, "pass", None)  # version 0: the shipped default
    assert decided[1][1:] == (0, "remark", "hold", "remark_keyword")
    assert review_once(db, runtime.pii, book).passed == 0  # reviewed once
    with db.read() as s:
        ((held_id,),) = fetchall(s, "SELECT id FROM sales_order WHERE platform_order_id = ?",
                                 (_order(2)["platform_order_id"],))
        detail = order_detail(s, int(held_id))
    assert detail["fulfilment"] == {"stage": "held", "hold_reason": "remark_keyword"}
    assert [(d["hook"], d["rule"], d["outcome"]) for d in detail["decisions"]] == [("review", "remark", "hold")]


def test_a_new_rule_version_takes_effect_and_an_old_one_can_be_restored(runtime, db) -> None:
    make_catalog(db, skus={"A": 100})
    lenient = copy.deepcopy(default_rules("review") or {})
    table = next(n for n in lenient["nodes"] if n["type"] == "decisionTableNode")
    table["content"]["rules"] = [r for r in table["content"]["rules"] if r["_id"] != "remark"]
    saved = store.save(db, "review", lenient, actor="user:ops", note="no remark holds during the session")
    assert (saved["version"], saved["active"]) == (1, True)
    _ingest(runtime, [_order(11, buyer_message="麻烦帮我改地址")])
    book = RuleBook(db, ttl_s=0)
    assert review_once(db, runtime.pii, book).passed == 1  # version 1 has no remark rule
    store.activate(db, "review", 0, actor="user:ops")  # back to the shipped default
    _ingest(runtime, [_order(12, buyer_message="麻烦帮我改地址")])
    assert review_once(db, runtime.pii, book).held == 1
    with db.read() as s:
        versions = dict(fetchall(s, "SELECT o.platform_order_id, d.rule_set_version FROM order_decision d "
                                    "JOIN sales_order o ON o.id = d.order_id"))
        records = audit.search(s, action="settings.rules")
    assert versions == {_order(11)["platform_order_id"]: 1, _order(12)["platform_order_id"]: 0}
    assert [r["detail"].get("activated", r["detail"].get("version")) for r in records] == [0, 1]
    assert [h["version"] for h in store.history(db, "review")] == [1, 0]
    with pytest.raises(RuleError):
        store.save(db, "review", {"nodes": [], "edges": []}, actor="user:ops")
    with pytest.raises(NotFound):
        store.activate(db, "review", 7, actor="user:ops")
    assert [h["version"] for h in store.history(db, "review")] == [1, 0]  # nothing half-written


def test_a_second_reviewer_writes_nothing_twice(runtime, db) -> None:
    make_catalog(db, skus={"A": 100})
    _ingest(runtime, [_order(n) for n in range(21, 26)])
    first, second = RuleBook(db), RuleBook(db)
    assert review_once(db, runtime.pii, first).passed == 5
    assert review_once(db, runtime.pii, second).passed == 0
    with db.read() as s:
        assert fetchall(s, "SELECT count(*) FROM order_decision")[0][0] == 5


def test_presale_orders_wait_for_their_date_then_go_on_to_routing(runtime, db) -> None:

    make_catalog(db, skus={"A": 100})
    line = _order(0)["lines"][0]
    _ingest(runtime, [
        _order(1),
        _order(2, lines=[{**line, "platform_line_id": "2-1", "ship_after": "2026-12-10T00:00:00+08:00"}]),
        _order(3, lines=[{**line, "platform_line_id": "3-1"},  # one presale line keeps the whole order
                         {**line, "platform_line_id": "3-2", "ship_after": "2026-12-12T09:00:00"}],
               goods_total_fen=19800, paid_total_fen=19800),
        _order(4, buyer_message="改地址", lines=[{**line, "platform_line_id": "4-1",
                                                  "ship_after": "2026-12-10T00:00:00+08:00"}]),
    ])
    now = datetime(2026, 12, 3, 3, tzinfo=UTC)
    done = review_once(db, runtime.pii, RuleBook(db), now=now)
    assert (done.passed, done.held) == (3, 1)
    stages = _stages(db)
    assert stages[_order(1)["platform_order_id"]] == ("route", None)
    assert stages[_order(2)["platform_order_id"]] == ("presale", None)
    assert stages[_order(3)["platform_order_id"]] == ("presale", None)
    assert stages[_order(4)["platform_order_id"]] == ("held", "remark_keyword")  # a hold comes first
    with db.read() as s:
        released_at = dict(fetchall(s, "SELECT o.platform_order_id, f.release_at FROM fulfilment f JOIN sales_order "
                                       "o ON o.id = f.order_id WHERE f.stage = 'presale'"))
    # naive times are Shanghai: 2026-12-12 09:00 +08:00 is 01:00 UTC; the latest line's date counts
    assert read_time(released_at[_order(3)["platform_order_id"]]) == datetime(2026, 12, 12, 1, tzinfo=UTC)
    assert release_presale(db, now=now + timedelta(days=1)) == 0
    assert release_presale(db, now=datetime(2026, 12, 9, 16, tzinfo=UTC)) == 1  # 12-10 00:00 in Shanghai
    assert _stages(db)[_order(2)["platform_order_id"]] == ("route", None)
    assert release_presale(db, now=datetime(2026, 12, 12, 1, tzinfo=UTC)) == 1
    assert release_presale(db, now=datetime(2026, 12, 13, tzinfo=UTC)) == 0
    with db.read() as s:
        ((order_id,),) = fetchall(s, "SELECT id FROM sales_order WHERE platform_order_id = ?",
                                  (_order(3)["platform_order_id"],))
        detail = order_detail(s, int(order_id))
    assert "presale_released" in [e["kind"] for e in detail["events"]]
