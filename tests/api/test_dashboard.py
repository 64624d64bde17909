"""The dashboard (数字大屏) over HTTP: figures of a small known live session on both databases, the caller's
shops only, the Server-Sent Events stream, and sign-in."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest

from baodan.app import create_app
from baodan.core import clock
from baodan.dashboard.hub import DashboardHub, TooManyStreams, ViewKey
from baodan.fulfilment.review import review_once
from baodan.identity import accounts
from tests.helpers import API, T0, drain, error_body, make_catalog, order, serving, sqlite_only

PASSWORD = "a-long-enough-password"


def _iso(offset_s: float) -> str:
    return (T0 + timedelta(seconds=offset_s)).isoformat()


def _post(client: Any, *orders: dict[str, Any]) -> None:
    resp = client.post(f"{API}/orders/batch", json={"orders": list(orders)})
    assert resp.status_code == 200, resp.text


def _session_fixture(client: Any, runtime: Any, db: Any) -> dict[str, Any]:
    """SHOP-A (douyin) holds a session from T0−10 min to T0+10 min with five orders: o1 A×2 (浙江), o2 A+B (广东),
    o3 B paying 1 fen (amount mismatch), o4 an unknown SKU (held), o5 A cancelled after paying. KS-B
    (kuaishou) sells one A at the same time (k1), outside the session but from the same warehouse."""
    ids = make_catalog(db, skus={"A": 10, "B": 5})
    ks = client.post(f"{API}/shops", json={"code": "KS-B", "name": "快手店", "channel": "kuaishou",
                                           "default_warehouse": "WH1"}).json()
    assert client.put(f"{API}/shops/{ks['id']}/sku-mappings", json=[{"platform_sku_id": "P-A", "sku": "A"}]) \
        .status_code == 200
    live = client.post(f"{API}/live-sessions", json={"shop": "SHOP-A", "title": "双12专场", "host": "小美",
                                                      "started_at": _iso(-600), "ended_at": _iso(600)})
    assert live.status_code == 201, live.text
    o2 = order("o2", [("A", 1), ("B", 1)], paid_offset_s=60)
    o2["receiver"] = {**o2["receiver"], "province": "广东省", "city": "广州市"}
    o3 = order("o3", [("B", 1)], paid_offset_s=65)
    o3["paid_total_fen"] = 1
    o4 = order("o4", [("A", 1)], paid_offset_s=120)
    o4["lines"][0]["platform_sku_id"] = "P-NOPE"
    _post(client, order("o1", [("A", 2)], paid_offset_s=0), o2, o3, o4, order("o5", [("A", 1)], paid_offset_s=130),
          order("k1", [("A", 1)], paid_offset_s=70, shop="KS-B", channel="kuaishou"))
    drain(runtime)
    _post(client, order("o5", [("A", 1)], paid_offset_s=130, status="cancelled", updated_offset_s=30))
    drain(runtime)
    return {"ids": ids, "ks": ks["id"], "session": live.json()["id"]}


def _dashboard(client: Any, **params: Any) -> dict[str, Any]:
    resp = client.get(f"{API}/dashboard", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _login(runtime: Any, username: str) -> Any:
    from fastapi.testclient import TestClient

    client = TestClient(create_app(runtime))
    resp = client.post(f"{API}/auth/login", json={"username": username, "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    return client


def test_a_live_sessions_figures_add_up_its_orders(client, runtime, db) -> None:
    fixture = _session_fixture(client, runtime, db)
    ids = fixture["ids"]
    board = _dashboard(client)  # the latest session by default
    assert board["view"]["kind"] == "live_session"
    assert (board["view"]["live_session_id"], board["view"]["title"], board["view"]["live"]) == \
        (fixture["session"], "双12专场", False)
    assert board["totals"] == {"orders": 5, "gmv_fen": 2000 + 2000 + 1 + 1000 + 1000, "units": 6,
                               "cancelled_orders": 1, "cancelled_fen": 1000, "net_gmv_fen": 5001}
    assert board["channels"] == [{"channel": "douyin", "orders": 5, "gmv_fen": 6001}]
    assert board["provinces"] == [{"province": "浙江省", "orders": 4, "gmv_fen": 4001},
                                  {"province": "广东省", "orders": 1, "gmv_fen": 2000}]
    # The last hour of the session (it ended at T0+10 min = 20:10 in Shanghai), zero-filled, oldest first.
    minutes = board["per_minute"]
    assert len(minutes) == 60 and minutes[-1]["label"] == "20:09" and minutes[0]["label"] == "19:10"
    busy = {m["label"]: (m["orders"], m["gmv_fen"]) for m in minutes if m["orders"]}
    assert busy == {"20:00": (1, 2000), "20:01": (2, 2001), "20:02": (2, 2000)}
    assert minutes[-1]["at"].startswith("2026-11-25T12:09:00")
    # Hot SKUs by units; what SHOP-A may still sell: A 10 on hand − 3 reserved by the session − 1 by KS-B.
    hot = [(h["sku_code"], h["units"], h["orders"], h["gmv_fen"], h["sellable"]) for h in board["hot_skus"]]
    assert hot == [("A", 4, 3, 4000, 6), ("B", 2, 2, 2000, 3)]
    assert board["hot_skus"][0]["sellable_by_shop"] == [{"shop_id": ids["SHOP-A"], "sellable": 6}]
    assert board["anomalies"] == {"orders": 2, "by_reason": [
        {"source": "order", "reason": "amount_mismatch", "orders": 1},
        {"source": "order", "reason": "unknown_sku", "orders": 1}]}
    assert board["shipping"] == {"orders": 5, "shipped": 0, "shipped_share": 0.0,
                                 "states": {"cancelled": 1, "held": 1, "reserved": 3}, "stages": {}}
    chosen = _dashboard(client, live_session_id=fixture["session"])
    assert (chosen["view"], chosen["totals"], chosen["hot_skus"]) == (board["view"], board["totals"], board["hot_skus"])


def test_shipping_progress_follows_fulfilment_and_shipping(client, runtime, db) -> None:
    fixture = _session_fixture(client, runtime, db)
    reviewed = review_once(db, runtime.pii, runtime.rules)
    assert reviewed.passed + reviewed.held == 4  # o1, o2, o3 and KS-B's k1
    orders = {o["platform_order_id"]: o["id"] for o in client.get(f"{API}/orders").json()["items"]}
    resp = client.post(f"{API}/orders/{orders['o1']}/ship", json={"carrier_code": "ZTO", "waybill_no": "ZT0001"})
    assert resp.status_code == 200, resp.text
    runtime.dashboard().interval_s = 0  # no caching between the two reads of this test
    board = _dashboard(client, live_session_id=fixture["session"])
    shipping = board["shipping"]
    assert (shipping["orders"], shipping["shipped"], shipping["shipped_share"]) == (5, 1, 0.2)
    assert shipping["states"] == {"cancelled": 1, "held": 1, "reserved": 2, "shipped": 1}
    assert sum(shipping["stages"].values()) == 3  # o1, o2, o3 are in fulfilment (o1 settled as shipped)
    held = [a for a in board["anomalies"]["by_reason"] if a["source"] == "fulfilment"]
    assert sum(a["orders"] for a in held) == shipping["stages"].get("held", 0)
    # SHOP-A's stock of A: 10 on hand − 1 shipped − 2 still reserved by the session − 1 by KS-B.
    assert board["hot_skus"][0]["sellable"] == 6


def test_today_counts_the_days_paid_orders_of_every_shop_in_scope(client, runtime, db) -> None:
    ids = make_catalog(db, skus={"A": 100})
    ks = client.post(f"{API}/shops", json={"code": "KS-B", "name": "快手店", "channel": "kuaishou",
                                           "default_warehouse": "WH1"}).json()
    client.put(f"{API}/shops/{ks['id']}/sku-mappings", json=[{"platform_sku_id": "P-A", "sku": "A"}])
    now = clock.utcnow()
    midnight = clock.to_shanghai(now).replace(hour=0, minute=0, second=0, microsecond=0)
    recent = max(now - timedelta(minutes=2), clock.as_utc(midnight) + timedelta(seconds=1))
    yesterday = clock.as_utc(midnight) - timedelta(minutes=1)

    def at(oid: str, when: Any, **kw: Any) -> dict[str, Any]:
        body = order(oid, [("A", 1)], **kw)
        body.update(paid_at=when.isoformat(), updated_at=when.isoformat(),
                    created_at=(when - timedelta(seconds=5)).isoformat())
        return body

    _post(client, at("d1", recent), at("d2", recent), at("old", yesterday),
          at("k1", recent, shop="KS-B", channel="kuaishou"))
    drain(runtime)
    board = _dashboard(client, today="true")
    assert board["view"]["kind"] == "today" and board["view"]["date"] == midnight.date().isoformat()
    assert board["totals"]["orders"] == 3
    assert {c["channel"]: c["orders"] for c in board["channels"]} == {"douyin": 2, "kuaishou": 1}
    assert sum(m["orders"] for m in board["per_minute"]) == 3  # all in the last hour
    [hot] = board["hot_skus"]
    assert (hot["units"], hot["sellable"]) == (3, None)  # two shops: a figure per shop
    assert sorted(s["shop_id"] for s in hot["sellable_by_shop"]) == sorted([ids["SHOP-A"], ks["id"]])
    assert _dashboard(client)["view"]["kind"] == "today"  # no live session at all: today

    accounts.create_user(db, username="ks-only", role="operator", password=PASSWORD, shop_ids=[ks["id"]])
    ks_client = _login(runtime, "ks-only")
    mine = ks_client.get(f"{API}/dashboard", params={"today": "true"}).json()
    assert mine["totals"]["orders"] == 1
    assert mine["channels"] == [{"channel": "kuaishou", "orders": 1, "gmv_fen": 1000}]
    assert [s["shop_id"] for s in mine["hot_skus"][0]["sellable_by_shop"]] == [ks["id"]]
    assert mine["hot_skus"][0]["sellable"] == 100 - 4  # one shop in view: its figure (yesterday's order holds 1)


def test_a_user_of_one_shop_sees_neither_another_shops_session_nor_its_figures(client, runtime, db) -> None:
    fixture = _session_fixture(client, runtime, db)
    accounts.create_user(db, username="ks-ops", role="operator", password=PASSWORD, shop_ids=[fixture["ks"]])
    ks_client = _login(runtime, "ks-ops")
    error_body(ks_client.get(f"{API}/dashboard", params={"live_session_id": fixture["session"]}), 404,
               "dashboard.unknown_session")
    board = ks_client.get(f"{API}/dashboard").json()  # no session of KS-B: today, of KS-B alone
    assert board["view"]["kind"] == "today"
    assert board["totals"]["orders"] == 0 and board["hot_skus"] == [] and board["provinces"] == []
    owner_view = _dashboard(client, live_session_id=fixture["session"])
    assert owner_view["totals"]["orders"] == 5


@sqlite_only
def test_the_dashboard_needs_a_login_and_the_permission(anon_client, runtime, db) -> None:
    error_body(anon_client.get(f"{API}/dashboard"), 401, "auth.required")
    error_body(anon_client.get("/events"), 401, "auth.required")
    accounts.create_user(db, username="buyer", role="purchasing", password=PASSWORD)
    purchasing = _login(runtime, "buyer")
    error_body(purchasing.get(f"{API}/dashboard"), 403, "auth.forbidden")
    error_body(purchasing.get("/events"), 403, "auth.forbidden")


@sqlite_only
def test_bad_dashboard_queries_are_refused_with_a_code(client, subtests) -> None:
    for params, code in [({"live_session_id": 999}, 404), ({"live_session_id": 0}, 422), ({"top": 0}, 422),
                         ({"top": 51}, 422), ({"today": "true", "live_session_id": 1}, 422),
                         ({"today": "maybe"}, 422)]:
        with subtests.test(msg=str(params)):
            body = error_body(client.get(f"{API}/dashboard", params=params), code,
                              "dashboard.unknown_session" if code == 404 else "request.invalid")
            assert body["message"]


def _read_events(url: str, cookies: dict[str, str], *, count: int, timeout_s: float = 20) -> tuple[Any, list[Any]]:
    """Open /events and read `count` events (and whatever comes before them)."""
    events: list[dict[str, Any]] = []
    with httpx.Client(base_url=url, cookies=cookies, timeout=timeout_s) as http, \
            http.stream("GET", "/events", params={"top": 3}) as resp:
        assert resp.status_code == 200, resp.read()
        current: dict[str, Any] = {}
        deadline = time.monotonic() + timeout_s
        for line in resp.iter_lines():
            assert time.monotonic() < deadline
            if line == "":
                if current:
                    events.append(current)
                current = {}
                if sum(1 for e in events if e.get("event") == "dashboard") >= count:
                    break
                continue
            field, _, value = line.partition(":")
            current[field] = value.lstrip(" ")
        return resp, events


def test_the_event_stream_sends_the_dashboard_again_and_again(client, runtime, db) -> None:
    fixture = _session_fixture(client, runtime, db)
    runtime.settings.dashboard_interval_s = 0.1
    app = create_app(runtime)
    cookies = dict(client.cookies)
    with serving(app) as url:
        resp, events = _read_events(url, cookies, count=3)
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert resp.headers["cache-control"] == "no-cache"
    assert events[0] == {"retry": "3000"}
    boards = [e for e in events if e.get("event") == "dashboard"]
    assert len(boards) >= 3
    ids = [int(e["id"]) for e in boards]
    assert ids == sorted(set(ids))  # each a newer computation
    first = orjson.loads(boards[0]["data"])
    assert first["view"]["live_session_id"] == fixture["session"]
    assert first["totals"]["orders"] == 5 and len(first["hot_skus"]) == 2
    hub = runtime.dashboard()
    deadline = time.monotonic() + 10
    while hub.streams and time.monotonic() < deadline:  # the stream's slot is given back on disconnect
        time.sleep(0.05)
    assert hub.streams == 0


@sqlite_only
def test_new_orders_reach_an_open_stream(client, runtime, db) -> None:
    make_catalog(db, skus={"A": 100})
    now = clock.utcnow()
    client.post(f"{API}/live-sessions", json={"shop": "SHOP-A", "title": "直播中", "host": "小美",
                                              "started_at": (now - timedelta(minutes=20)).isoformat()})
    runtime.settings.dashboard_interval_s = 0.1
    cookies = dict(client.cookies)
    seen: list[int] = []

    def later() -> None:
        body = order("n1", [("A", 3)])
        body.update(paid_at=now.isoformat(), updated_at=now.isoformat(),
                    created_at=(now - timedelta(seconds=5)).isoformat())
        _post(client, body)
        drain(runtime)

    writer = threading.Thread(target=later)
    with serving(create_app(runtime)) as url, httpx.Client(base_url=url, cookies=cookies, timeout=20) as http, \
            http.stream("GET", "/events") as resp:
        deadline = time.monotonic() + 60  # generous: CI boxes are shared and slow
        for line in resp.iter_lines():
            assert time.monotonic() < deadline, f"no order arrived; saw {seen}"
            if line.startswith("data:"):
                seen.append(orjson.loads(line[5:])["totals"]["units"])
                if len(seen) == 1:
                    writer.start()  # the order is paid while the stream is open
                if seen[-1] == 3:
                    break
    writer.join()
    assert seen[0] == 0 and seen[-1] == 3


@sqlite_only
def test_streams_over_the_cap_are_refused_and_slots_come_back(db) -> None:
    hub = DashboardHub(db, interval_s=0.05, max_streams=2)
    key = ViewKey(None, True, None, 10)
    wakes: list[int] = []
    first = hub.subscribe(key, lambda: wakes.append(1))
    second = hub.subscribe(key, lambda: wakes.append(2))
    with pytest.raises(TooManyStreams) as refused:
        hub.subscribe(key, lambda: None)
    assert refused.value.status == 503 and refused.value.details["retry_after_s"] > 0
    deadline = time.monotonic() + 5
    while not (1 in wakes and 2 in wakes) and time.monotonic() < deadline:  # one computation wakes both
        time.sleep(0.02)
    assert 1 in wakes and 2 in wakes
    payload, version = hub.latest(key)
    assert payload is not None and version >= 1
    hub.unsubscribe(first)
    hub.unsubscribe(first)  # twice is harmless
    third = hub.subscribe(key, lambda: None)
    hub.unsubscribe(second)
    hub.unsubscribe(third)
    assert hub.streams == 0
    hub._stop.set()


@sqlite_only
def test_too_many_streams_answer_503_with_retry_after(client, runtime, db) -> None:
    make_catalog(db, skus={"A": 1})
    runtime.settings.dashboard_max_streams = 1
    hub = runtime.dashboard()
    hub.max_streams = 1
    held = hub.subscribe(ViewKey(None, False, None, 10), lambda: None)
    resp = client.get("/events")
    body = error_body(resp, 503, "dashboard.too_many_streams")
    assert resp.headers["retry-after"] == "10" and body["details"]["max_streams"] == 1
    hub.unsubscribe(held)


def test_a_tick_adds_the_slice_that_passed_the_boundary_and_a_full_sum_catches_late_orders(client, runtime, db) -> None:
    from baodan.dashboard.hub import _View, compute

    make_catalog(db, skus={"A": 100})
    assert client.post(f"{API}/live-sessions", json={"shop": "SHOP-A", "title": "直播中", "host": "小美",
                                                     "started_at": _iso(-3600)}).status_code == 201

    def paid(oid: str, offset_s: float) -> None:
        _post(client, order(oid, [("A", 1)], paid_offset_s=offset_s))
        drain(runtime)

    def units(view: Any, offset_s: float, head_ttl_s: float = 3600) -> int:
        return compute(db, view, now=T0 + timedelta(seconds=offset_s), head_ttl_s=head_ttl_s)["totals"]["units"]

    paid("o1", -1800)
    paid("o2", -10)
    view = _View(ViewKey(None, False, None, 10))
    assert units(view, 0) == 2  # o1 summed into the head, o2 (the last 20 s) in the tail
    summed_at = view.head_at
    paid("o3", 5)
    paid("o4", 25)
    assert units(view, 60) == 4  # the head grew by the slice [−20 s, +40 s): o2, o3, o4; the tail is empty
    assert view.head_at == summed_at and view.boundary == T0 + timedelta(seconds=40)
    fresh = _View(ViewKey(None, False, None, 10))
    assert units(fresh, 60) == 4
    paid("o5", 30)  # delivered late: paid before the boundary already passed
    assert units(view, 61) == 4  # not seen until the next full sum …
    assert units(view, 62, head_ttl_s=0) == 5  # … which counts it


def test_a_split_order_counts_once_and_its_amount_as_paid(client, runtime, db) -> None:
    fixture = _session_fixture(client, runtime, db)
    runtime.dashboard().interval_s = 0
    before = _dashboard(client, live_session_id=fixture["session"])
    o2 = next(o for o in client.get(f"{API}/orders").json()["items"] if o["platform_order_id"] == "o2")
    lines = client.get(f"{API}/orders/{o2['id']}").json()["lines"]
    resp = client.post(f"{API}/fulfilment/{o2['id']}/split", json={"line_ids": [lines[1]["id"]]})
    assert resp.status_code == 200, resp.text
    after = _dashboard(client, live_session_id=fixture["session"])
    assert after["totals"]["orders"] == before["totals"]["orders"] == 5
    assert after["totals"]["gmv_fen"] == before["totals"]["gmv_fen"]
    assert after["channels"] == before["channels"] and after["provinces"] == before["provinces"]
