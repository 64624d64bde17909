"""Orders API: batch intake (idempotent, all or nothing), filtered order lists with cursor paging, one
order with its lines, reservations and history, intake status — and bad input that must write nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.helpers import API, T0, drain, error_body, make_catalog, order, sqlite_only


def _post(client: Any, *orders: dict[str, Any]) -> Any:
    return client.post(f"{API}/orders/batch", json={"orders": list(orders)})


def _accepted(resp: Any) -> dict[str, int]:
    assert resp.status_code == 200, resp.text[:2000]
    return resp.json()


def _status(client: Any) -> dict[str, Any]:
    resp = client.get(f"{API}/intake/status")
    assert resp.status_code == 200
    return resp.json()


def _orders(client: Any, **params: Any) -> list[dict[str, Any]]:
    resp = client.get(f"{API}/orders", params={"limit": 500, **params})
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]


def _ids(client: Any, **params: Any) -> list[str]:
    """Platform order ids of the orders listed, sorted (the order of the list is tested with paging)."""
    return sorted(o["platform_order_id"] for o in _orders(client, **params))


def _assert_nothing_written(client: Any, runtime: Any) -> None:
    assert _status(client) == {"pending": 0, "shops": []}
    drain(runtime)
    assert _orders(client) == []


def _iso(offset_s: float) -> str:
    return (T0 + timedelta(seconds=offset_s)).isoformat()


# --- intake and reading back --------------------------------------------------------------------------------

def test_a_posted_batch_is_reserved_by_the_worker_and_readable_with_lines_reservations_and_events(
        client, runtime, db):
    ids = make_catalog(db, skus={"A": 10, "B": 5})
    resp = _post(client, order("DY-1001", [("A", 2), ("B", 1)], paid_offset_s=1),
                 order("DY-1002", [("A", 1)], paid_offset_s=2))
    assert _accepted(resp) == {"accepted": 2, "duplicates": 0}
    assert _status(client)["pending"] == 2
    drain(runtime)
    status = _status(client)
    assert status == {"pending": 0, "shops": [{"shop_id": ids["SHOP-A"], "accepted": 2, "duplicates": 0}]}

    page = client.get(f"{API}/orders").json()
    assert page["next_cursor"] is None
    assert [o["platform_order_id"] for o in page["items"]] == ["DY-1002", "DY-1001"]  # newest first
    summary = page["items"][1]
    assert (summary["channel"], summary["shop_id"], summary["state"], summary["platform_status"]) == \
        ("douyin", ids["SHOP-A"], "reserved", "paid")
    assert (summary["warehouse_id"], summary["anomalies"], summary["short_sku_ids"]) == (ids["WH1"], [], [])
    assert (summary["goods_total_fen"], summary["paid_total_fen"]) == (3000, 3000)

    resp = client.get(f"{API}/orders/{summary['id']}")
    assert resp.status_code == 200
    detail = resp.json()
    assert {k: detail[k] for k in summary} == summary
    assert [(ln["line_no"], ln["platform_sku_id"], ln["sku_id"], ln["quantity"], ln["amount_fen"])
            for ln in detail["lines"]] == [(1, "P-A", ids["A"], 2, 2000), (2, "P-B", ids["B"], 1, 1000)]
    line_ids = [ln["id"] for ln in detail["lines"]]
    assert [(r["order_line_id"], r["sku_id"], r["warehouse_id"], r["qty"])
            for r in detail["reservations"]] == [(line_ids[0], ids["A"], ids["WH1"], 2),
                                                 (line_ids[1], ids["B"], ids["WH1"], 1)]
    [event] = detail["events"]
    assert event["kind"] == "received"
    assert (event["detail"]["status"], event["detail"]["outcome"]) == ("paid", "reserved")

    levels = {r["sku_code"]: (r["on_hand"], r["reserved"]) for r in client.get(f"{API}/stock").json()}
    assert levels == {"A": (10, 3), "B": (5, 1)}


def test_a_later_event_of_the_same_order_updates_it_and_adds_to_its_history(client, runtime, db):
    make_catalog(db, skus={"A": 10})
    _accepted(_post(client, order("DY-1", [("A", 2)])))
    drain(runtime)
    _accepted(_post(client, order("DY-1", [("A", 2)], status="cancelled", updated_offset_s=60)))
    drain(runtime)
    [summary] = _orders(client)
    detail = client.get(f"{API}/orders/{summary['id']}").json()
    assert (detail["state"], detail["platform_status"]) == ("cancelled", "cancelled")
    assert detail["reservations"] == []
    assert [e["detail"]["status"] for e in detail["events"]] == ["paid", "cancelled"]
    assert client.get(f"{API}/stock").json()[0]["reserved"] == 0


def test_posting_the_same_batch_twice_counts_duplicates_and_makes_one_order(client, runtime, db):
    ids = make_catalog(db, skus={"A": 10})
    batch = [order("DY-1", [("A", 2)])]
    assert _accepted(_post(client, *batch)) == {"accepted": 1, "duplicates": 0}
    assert _accepted(_post(client, *batch)) == {"accepted": 0, "duplicates": 1}
    drain(runtime)
    assert _accepted(_post(client, *batch)) == {"accepted": 0, "duplicates": 1}
    drain(runtime)
    assert _ids(client) == ["DY-1"]
    [summary] = _orders(client)
    assert len(client.get(f"{API}/orders/{summary['id']}").json()["events"]) == 1
    assert client.get(f"{API}/stock").json()[0]["reserved"] == 2
    assert _status(client) == {"pending": 0,
                               "shops": [{"shop_id": ids["SHOP-A"], "accepted": 1, "duplicates": 2}]}


def test_a_batch_repeating_one_event_counts_the_repeat_as_a_duplicate(client, runtime, db):
    make_catalog(db, skus={"A": 10})
    one = order("DY-1", [("A", 1)])
    assert _accepted(_post(client, one, one, order("DY-2", [("A", 1)]))) == {"accepted": 2, "duplicates": 1}
    drain(runtime)
    assert _ids(client) == ["DY-1", "DY-2"]


@sqlite_only
def test_an_unknown_order_id_answers_404_with_a_code(client):
    error_body(client.get(f"{API}/orders/999"), 404, "orders.not_found")


# --- list filters and paging -----------------------------------------------------------------------------

def _filter_fixture(client: Any, runtime: Any, db: Any) -> dict[str, Any]:
    """Two shops on two channels, a live session that ends 30 s after T0, and seven orders:
    o1 in the session; o2, o3 (kuaishou), o6 (amount mismatch) reserved; o4 waits for stock;
    o5 is held on an unknown SKU; o7 is unpaid."""
    ids = make_catalog(db, skus={"A": 3, "B": 5})
    ks = client.post(f"{API}/shops", json={"code": "KS-B", "name": "快手店", "channel": "kuaishou",
                                           "default_warehouse": "WH1"}).json()
    assert client.put(f"{API}/shops/{ks['id']}/sku-mappings", json=[{"platform_sku_id": "P-A", "sku": "A"}]) \
        .status_code == 200
    live = client.post(f"{API}/live-sessions", json={"shop": "SHOP-A", "title": "专场", "host": "主播",
                                                      "started_at": _iso(-600), "ended_at": _iso(30)})
    assert live.status_code == 201, live.text
    wrong_total = order("o6", [("B", 1)], paid_offset_s=300)
    wrong_total["paid_total_fen"] = 1
    unknown_sku = order("o5", [("A", 1)], paid_offset_s=240)
    unknown_sku["lines"][0]["platform_sku_id"] = "P-NOPE"
    _accepted(_post(client, order("o1", [("A", 1)], paid_offset_s=0),
                    order("o2", [("A", 1)], paid_offset_s=60),
                    order("o3", [("A", 1)], paid_offset_s=120, shop="KS-B", channel="kuaishou"),
                    order("o4", [("A", 1)], paid_offset_s=180), unknown_sku, wrong_total,
                    order("o7", [("B", 1)], status="unpaid", paid_offset_s=360)))
    drain(runtime)
    states = {o["platform_order_id"]: o["state"] for o in _orders(client)}
    assert states == {"o1": "reserved", "o2": "reserved", "o3": "reserved", "o4": "awaiting_stock",
                      "o5": "held", "o6": "reserved", "o7": "unpaid"}
    return {"ids": ids, "session_id": live.json()["id"]}


@pytest.mark.parametrize("few", [2000, 0], ids=["by-index", "newest-first-scan"])
def test_orders_are_listed_by_channel_shop_state_session_anomaly_paid_time_and_platform_order_id(
        client, runtime, db, subtests, monkeypatch, few):
    # few=0: every filter is written as one matching many orders (SQLite: `+column`, read newest first)
    monkeypatch.setattr("baodan.orders.queries.FEW", few)
    monkeypatch.setattr("baodan.orders.queries.FEW_CLUSTERED", few)
    fixture = _filter_fixture(client, runtime, db)
    session_id = fixture["session_id"]
    douyin = ["o1", "o2", "o4", "o5", "o6", "o7"]
    expected: list[tuple[dict[str, Any], list[str]]] = [
        ({"channel": "kuaishou"}, ["o3"]), ({"channel": "douyin"}, douyin), ({"channel": "taobao"}, []),
        ({"shop": "KS-B"}, ["o3"]), ({"shop": "SHOP-A"}, douyin), ({"shop": "NO-SUCH-SHOP"}, []),
        ({"state": "reserved"}, ["o1", "o2", "o3", "o6"]), ({"state": "awaiting_stock"}, ["o4"]),
        ({"state": "held"}, ["o5"]), ({"state": "unpaid"}, ["o7"]),
        ({"channel": "douyin", "state": "reserved"}, ["o1", "o2", "o6"]),
        ({"platform_status": "unpaid"}, ["o7"]),
        ({"live_session_id": session_id}, ["o1"]), ({"live_session_id": session_id + 1}, []),
        ({"anomaly": "any"}, ["o5", "o6"]),
        ({"anomaly": "unknown_sku"}, ["o5"]), ({"anomaly": "amount_mismatch"}, ["o6"]),
        ({"anomaly": "missing_address"}, []), ({"anomaly": "amount_mismatch", "state": "held"}, []),
        # paid_from is inclusive, paid_to exclusive; the unpaid order has no paid time.
        ({"paid_from": _iso(60), "paid_to": _iso(240)}, ["o2", "o3", "o4"]),
        ({"paid_from": _iso(241)}, ["o6"]), ({"paid_to": _iso(0)}, []),
        # A naive time is Shanghai time: 20:01 in Shanghai is T0 (12:00 UTC) + 60 s.
        ({"paid_from": "2026-11-25T20:01:00", "paid_to": "2026-11-25T20:02:00"}, ["o2"]),
        ({"platform_order_id": "o3"}, ["o3"]), ({"platform_order_id": "o3", "channel": "douyin"}, []),
        # A SKU code: orders with a line of it (o5's line names no known SKU; o7 is unpaid but has B).
        ({"sku": "A"}, ["o1", "o2", "o3", "o4"]), ({"sku": "B"}, ["o6", "o7"]), ({"sku": "NOPE"}, []),
        ({"sku": "A", "channel": "kuaishou"}, ["o3"]), ({"sku": "B", "state": "reserved"}, ["o6"]),
        ({"buyer_phone": "13800138000"}, ["o1", "o2", "o3", "o4", "o5", "o6", "o7"]),
        ({"buyer_phone": "13800138000", "shop": "KS-B"}, ["o3"]), ({"buyer_phone": "13900000000"}, []),
    ]
    for params, ids in expected:
        with subtests.test(msg=str(params)):
            assert _ids(client, **params) == ids


@pytest.mark.parametrize("few", [2000, 0], ids=["by-index", "newest-first-scan"])
def test_every_list_filter_stays_within_the_callers_shops(client, runtime, db, subtests, monkeypatch, few):
    from baodan.identity import accounts

    monkeypatch.setattr("baodan.orders.queries.FEW", few)
    monkeypatch.setattr("baodan.orders.queries.FEW_CLUSTERED", few)
    fixture = _filter_fixture(client, runtime, db)
    shops = {s["code"]: s["id"] for s in client.get(f"{API}/shops").json()}
    accounts.create_user(db, username="a-only", role="operator", password="a-long-enough-password",
                         shop_ids=[shops["SHOP-A"]])
    from fastapi.testclient import TestClient

    from baodan.app import create_app

    mine = TestClient(create_app(runtime))
    assert mine.post(f"{API}/auth/login", json={"username": "a-only", "password": "a-long-enough-password"}) \
        .status_code == 200
    everything = ["o1", "o2", "o4", "o5", "o6", "o7"]  # all but KS-B's o3
    for params, ids in [({}, everything), ({"channel": "kuaishou"}, []), ({"shop": "KS-B"}, []),
                        ({"state": "reserved"}, ["o1", "o2", "o6"]),
                        ({"live_session_id": fixture["session_id"]}, ["o1"]), ({"anomaly": "any"}, ["o5", "o6"]),
                        ({"paid_from": _iso(60), "paid_to": _iso(240)}, ["o2", "o4"]),
                        ({"sku": "A"}, ["o1", "o2", "o4"]),
                        ({"buyer_phone": "13800138000"}, everything), ({"platform_order_id": "o3"}, [])]:
        with subtests.test(msg=str(params)):
            resp = mine.get(f"{API}/orders", params={"limit": 500, **params})
            assert resp.status_code == 200, resp.text
            assert sorted(o["platform_order_id"] for o in resp.json()["items"]) == ids


@sqlite_only
def test_an_invalid_list_filter_is_refused_with_422_request_invalid(client, subtests):
    for params in [{"anomaly": "too_cheap"}, {"state": "lost"}, {"channel": "myspace"}, {"sku": ""},
                   {"sku": "x" * 65},
                   {"paid_from": "yesterday"}, {"live_session_id": "first"}, {"limit": 0}, {"limit": 501},
                   {"cursor": -1}, {"cursor": "abc"}]:
        with subtests.test(msg=str(params)):
            error_body(client.get(f"{API}/orders", params=params), 422, "request.invalid")


def test_orders_are_paged_newest_first_with_a_cursor_until_it_is_null(client, runtime, db):
    make_catalog(db, skus={"A": 10})
    _accepted(_post(client, *[order(f"o{i}", [("A", 1)], paid_offset_s=i) for i in range(5)]))
    drain(runtime)
    seen: list[dict[str, Any]] = []
    cursor = None
    pages = []
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor is not None else {})}
        page = client.get(f"{API}/orders", params=params).json()
        pages.append(len(page["items"]))
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str)
        assert len(pages) < 10
    assert pages == [2, 2, 1]
    order_ids = [o["id"] for o in seen]
    assert order_ids == sorted(order_ids, reverse=True)
    assert sorted(o["platform_order_id"] for o in seen) == [f"o{i}" for i in range(5)]
    exact = client.get(f"{API}/orders", params={"limit": 5}).json()
    assert (len(exact["items"]), exact["next_cursor"]) == (5, None)
    filtered = client.get(f"{API}/orders", params={"limit": 1, "state": "reserved"}).json()
    second = client.get(f"{API}/orders", params={"limit": 1, "state": "reserved",
                                                 "cursor": filtered["next_cursor"]}).json()
    assert second["items"][0]["id"] < filtered["items"][0]["id"]


# --- bad input: 4xx with a stable code, and nothing written -----------------------------------------------

@sqlite_only
def test_malformed_json_is_refused_with_400_and_writes_nothing(client, runtime, db):
    make_catalog(db, skus={"A": 10})
    good = json.dumps({"orders": [order("o1", [("A", 1)])]})
    body = error_body(client.post(f"{API}/orders/batch", content=good[:-5].encode(),
                              headers={"content-type": "application/json"}), 400, "request.malformed_json")
    assert "JSON" in body["message"]
    _assert_nothing_written(client, runtime)


def _bad(field: str, value: Any, *, line: bool = False) -> dict[str, Any]:
    body = order("o3", [("A", 1)], paid_offset_s=3)
    (body["lines"][0] if line else body)[field] = value
    return body


def _without(field: str) -> dict[str, Any]:
    body = order("o3", [("A", 1)], paid_offset_s=3)
    del body[field]
    return body


INVALID_ORDERS = {
    "quantity-not-a-number": (_bad("quantity", "lots", line=True), "quantity"),
    "total-not-a-number": (_bad("paid_total_fen", "ten yuan"), "paid_total_fen"),
    "lines-not-a-list": (_bad("lines", {"platform_sku_id": "P-A"}), "lines"),
    "bad-datetime": (_bad("updated_at", "last tuesday"), "updated_at"),
    "unknown-status": (_bad("status", "lost_in_the_post"), "status"),
    "unknown-channel": (_bad("channel", "myspace"), "channel"),
    "zero-quantity": (_bad("quantity", 0, line=True), "quantity"),
    "negative-quantity": (_bad("quantity", -1, line=True), "quantity"),
    "negative-price": (_bad("unit_price_fen", -100, line=True), "unit_price_fen"),
    "paid-without-paid_at": (_bad("paid_at", None), "paid_at"),
    "shipped-without-paid_at": ({**_bad("paid_at", None), "status": "shipped"}, "paid_at"),
    "no-lines": (_bad("lines", []), "lines"),
    "line-without-a-sku": ({**_bad("platform_sku_id", None, line=True)}, "platform_sku_id"),
    "no-shop": (_without("shop"), "shop"),
    "unknown-order-field": (_bad("coupon_code", "DOUBLE12"), "coupon_code"),
    "unknown-line-field": (_bad("gift_wrap", True, line=True), "gift_wrap"),
}


@sqlite_only
def test_an_invalid_last_order_refuses_the_whole_batch_with_422_and_writes_nothing(
        client, runtime, db, subtests):
    make_catalog(db, skus={"A": 10})
    for case, (bad, where) in INVALID_ORDERS.items():
        with subtests.test(msg=case):
            body = error_body(_post(client, order("o1", [("A", 1)], paid_offset_s=1),
                                order("o2", [("A", 1)], paid_offset_s=2), bad), 422, "request.invalid")
            assert where in body["message"]
            assert any(where in [str(p) for p in d["loc"]] or where in d["msg"] for d in body["details"]), \
                body["details"]
            assert _status(client) == {"pending": 0, "shops": []}
    _assert_nothing_written(client, runtime)


@sqlite_only
def test_a_batch_without_a_list_of_orders_is_refused_with_422_and_writes_nothing(
        client, runtime, db, subtests):
    make_catalog(db, skus={"A": 10})
    for case, body in {"empty": {"orders": []}, "no-orders": {}, "a-list": [], "a-string": {"orders": "o1"},
                       "unknown-field": {"orders": [order("o1", [("A", 1)])], "source": "douyin"}}.items():
        with subtests.test(msg=case):
            error_body(client.post(f"{API}/orders/batch", json=body), 422, "request.invalid")
    _assert_nothing_written(client, runtime)


def _compact(i: int) -> dict[str, Any]:
    return {"channel": "douyin", "shop": "SHOP-A", "platform_order_id": f"b{i}", "status": "unpaid",
            "updated_at": "2026-11-25T12:00:00Z", "created_at": "2026-11-25T12:00:00Z",
            "lines": [{"platform_sku_id": "P-A", "quantity": 1, "unit_price_fen": 1, "amount_fen": 1}],
            "goods_total_fen": 1, "paid_total_fen": 1}


@sqlite_only
def test_a_batch_of_6000_orders_is_refused_with_413_batch_too_large_and_writes_nothing(client, runtime, db):
    make_catalog(db, skus={"A": 10})
    payload = json.dumps({"orders": [_compact(i) for i in range(6000)]}, separators=(",", ":")).encode()
    assert len(payload) < runtime.settings.max_body_bytes  # the order count, not the body size, is refused
    resp = client.post(f"{API}/orders/batch", content=payload, headers={"content-type": "application/json"})
    body = error_body(resp, 413, "intake.batch_too_large")
    assert body["details"] == {"limit": 5000, "received": 6000}
    _assert_nothing_written(client, runtime)


@sqlite_only
def test_a_batch_of_exactly_5000_orders_is_accepted(client, runtime, db):
    make_catalog(db, skus={"A": 10})
    payload = json.dumps({"orders": [_compact(i) for i in range(5000)]}, separators=(",", ":")).encode()
    resp = client.post(f"{API}/orders/batch", content=payload, headers={"content-type": "application/json"})
    assert _accepted(resp) == {"accepted": 5000, "duplicates": 0}
    assert _status(client)["pending"] == 5000


def _ten_megabytes() -> bytes:
    head = b'{"orders": [{"buyer_message": "'
    tail = b'"}]}'
    return head + b"x" * (10 * 1024 * 1024 - len(head) - len(tail)) + tail


@sqlite_only
def test_a_10_mb_body_is_refused_with_413_request_too_large_and_writes_nothing(client, runtime, db):
    make_catalog(db, skus={"A": 10})
    body = error_body(client.post(f"{API}/orders/batch", content=_ten_megabytes(),
                              headers={"content-type": "application/json"}), 413, "request.too_large")
    assert body["details"] == {"limit": runtime.settings.max_body_bytes}
    _assert_nothing_written(client, runtime)


@sqlite_only
def test_a_10_mb_body_streamed_without_a_content_length_is_refused_with_413_request_too_large(
        client, runtime, db):
    make_catalog(db, skus={"A": 10})
    data = _ten_megabytes()

    def chunks() -> Any:
        for start in range(0, len(data), 1024 * 1024):
            yield data[start:start + 1024 * 1024]

    resp = client.post(f"{API}/orders/batch", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in resp.request.headers
    error_body(resp, 413, "request.too_large")
    _assert_nothing_written(client, runtime)


@sqlite_only
def test_a_small_body_streamed_without_a_content_length_is_accepted(client, runtime, db):
    make_catalog(db, skus={"A": 10})
    data = json.dumps({"orders": [order(f"o{i}", [("A", 1)], paid_offset_s=i) for i in range(3)]}).encode()

    def chunks() -> Any:
        for start in range(0, len(data), 100):
            yield data[start:start + 100]

    resp = client.post(f"{API}/orders/batch", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in resp.request.headers
    assert _accepted(resp) == {"accepted": 3, "duplicates": 0}


def test_an_unknown_shop_in_the_last_order_refuses_the_whole_batch_and_writes_nothing(client, runtime, db):
    make_catalog(db, skus={"A": 10})
    batch = [order(f"o{i}", [("A", 1)], paid_offset_s=i) for i in range(3)] + [
        order("o3", [("A", 1)], paid_offset_s=3, shop="NO-SUCH-SHOP")]
    body = error_body(_post(client, *batch), 422, "intake.unknown_shop")
    assert "NO-SUCH-SHOP" in body["message"]
    assert body["details"] == {"index": 3, "shop": "NO-SUCH-SHOP"}
    _assert_nothing_written(client, runtime)


@sqlite_only
def test_an_order_whose_channel_does_not_match_its_shop_is_refused_and_writes_nothing(client, runtime, db):
    make_catalog(db, skus={"A": 10})  # SHOP-A sells on douyin
    body = error_body(_post(client, order("o1", [("A", 1)]), order("o2", [("A", 1)], channel="kuaishou")), 422,
                  "intake.channel_mismatch")
    assert "douyin" in body["message"] and "kuaishou" in body["message"]
    assert body["details"] == {"index": 1}
    _assert_nothing_written(client, runtime)


@sqlite_only
def test_a_refused_batch_leaves_earlier_accepted_orders_alone(client, runtime, db):
    make_catalog(db, skus={"A": 10})
    _accepted(_post(client, order("o1", [("A", 1)])))
    error_body(_post(client, order("o2", [("A", 1)]), order("o3", [("A", 1)], shop="NOPE")), 422,
           "intake.unknown_shop")
    error_body(_post(client, order("o4", [("A", 0)])), 422, "request.invalid")
    assert _status(client)["pending"] == 1
    drain(runtime)
    assert _ids(client) == ["o1"]
    assert _status(client)["shops"][0]["accepted"] == 1


def test_paid_at_in_the_answer_is_the_same_instant_that_was_sent(client, runtime, db):
    make_catalog(db, skus={"A": 10})
    sent = order("o1", [("A", 1)])
    sent["paid_at"] = "2026-11-25T20:00:00+08:00"
    _accepted(_post(client, sent))
    drain(runtime)
    [got] = _orders(client)
    assert datetime.fromisoformat(got["paid_at"].replace("Z", "+00:00")) == T0


def test_orders_held_in_fulfilment_are_listed_by_hold_reason(client, runtime, db):
    from baodan.fulfilment.review import review_once

    make_catalog(db, skus={"A": 10})
    remote = order("far", [("A", 2)], paid_offset_s=1)  # amounts differ: no suspected duplicates
    remote["receiver"] = {**remote["receiver"], "province": "新疆维吾尔自治区", "city": "乌鲁木齐市",
                          "district": "天山区"}
    _accepted(_post(client, order("memo", [("A", 1)], seller_memo="先别发"), remote,
                    order("fine", [("A", 3)], paid_offset_s=2)))
    drain(runtime)
    review_once(db, runtime.pii, runtime.rules)
    assert _ids(client, hold_reason="any") == ["far", "memo"]
    assert _ids(client, hold_reason="remote_region") == ["far"]
    assert _ids(client, hold_reason="remark_keyword") == ["memo"]
    assert _ids(client, hold_reason="blacklisted") == []
    assert _ids(client, hold_reason="any", state="reserved") == ["far", "memo"]  # held in the warehouse, not by intake
    error_body(client.get(f"{API}/orders", params={"hold_reason": "DROP TABLE"}), 422, "request.invalid")
