"""Inventory API: stock levels, adjustments (delta or set_to, idempotent per Idempotency-Key), the refusal
to go below what is reserved, and the ledger of moves newest first."""

from __future__ import annotations

from typing import Any

from tests.helpers import API, drain, error_body, make_catalog, order, sqlite_only, submit


def _levels(client: Any, **params: Any) -> list[tuple[str, str, int, int, int]]:
    resp = client.get(f"{API}/stock", params=params)
    assert resp.status_code == 200, resp.text
    return [(r["sku_code"], r["warehouse_code"], r["on_hand"], r["reserved"], r["available"])
            for r in resp.json()]


def _level(client: Any, sku: str, warehouse: str = "WH1") -> tuple[int, int, int]:
    [(_, _, on_hand, reserved, available)] = _levels(client, sku=sku, warehouse=warehouse)
    return on_hand, reserved, available


def _moves(client: Any, sku: str, **params: Any) -> list[dict[str, Any]]:
    resp = client.get(f"{API}/stock/moves", params={"sku": sku, **params})
    assert resp.status_code == 200, resp.text
    return resp.json()


def _adjust(client: Any, key: str | None = None, **body: Any) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(f"{API}/stock/adjustments", json={"warehouse": "WH1", **body}, headers=headers)


def _reserve(runtime: Any, sku: str, qty: int) -> None:
    """Reserve `qty` of a SKU through a real paid order and the worker."""
    submit(runtime, order("hold-1", [(sku, qty)]))
    drain(runtime)


# --- levels -----------------------------------------------------------------------------------------------

def test_stock_lists_every_level_with_available_and_filters_by_sku_and_warehouse(client, runtime, db):
    ids = make_catalog(db, skus={"A": 10, "B": 4}, warehouses=("WH1", "WH2"))
    assert _adjust(client, sku="A", warehouse="WH2", delta=7).status_code == 200
    _reserve(runtime, "A", 3)
    rows = client.get(f"{API}/stock").json()
    assert [(r["sku_id"], r["warehouse_id"]) for r in rows] == \
        [(ids["A"], ids["WH1"]), (ids["A"], ids["WH2"]), (ids["B"], ids["WH1"])]
    assert {(r["sku_name"], r["safety_stock"]) for r in rows} == {("A", 0), ("B", 0)}
    assert _levels(client) == [("A", "WH1", 10, 3, 7), ("A", "WH2", 7, 0, 7), ("B", "WH1", 4, 0, 4)]
    assert _levels(client, sku="A") == [("A", "WH1", 10, 3, 7), ("A", "WH2", 7, 0, 7)]
    assert _levels(client, warehouse="WH2") == [("A", "WH2", 7, 0, 7)]
    assert _levels(client, sku="B", warehouse="WH1") == [("B", "WH1", 4, 0, 4)]
    assert _levels(client, sku="B", warehouse="WH2") == []
    assert _levels(client, sku="NOPE") == []


@sqlite_only
def test_stock_is_paged_by_sku_and_warehouse(client, db):
    ids = make_catalog(db, skus={"A": 1, "B": 2, "C": 3})
    first = client.get(f"{API}/stock", params={"limit": 2}).json()
    rest = client.get(f"{API}/stock", params={"limit": 2, "after_sku_id": first[-1]["sku_id"],
                                              "after_warehouse_id": first[-1]["warehouse_id"]}).json()
    assert [r["sku_id"] for r in first + rest] == [ids["A"], ids["B"], ids["C"]]
    error_body(client.get(f"{API}/stock", params={"limit": 0}), 422, "request.invalid")


# --- adjustments ------------------------------------------------------------------------------------------

def test_an_adjustment_by_delta_adds_or_removes_stock_and_answers_the_new_level(client, db):
    ids = make_catalog(db, skus={"A": 10})
    resp = _adjust(client, sku="A", delta=5, reason="盘盈")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["sku_id"], body["warehouse_id"], body["on_hand"], body["reserved"], body["available"]) == \
        (ids["A"], ids["WH1"], 15, 0, 15)
    assert _adjust(client, sku="A", delta=-12).json()["on_hand"] == 3
    assert _level(client, "A") == (3, 0, 3)


def test_an_adjustment_with_set_to_sets_the_counted_quantity(client, db):
    make_catalog(db, skus={"A": 10})
    resp = _adjust(client, sku="A", set_to=4, reason="盘点")
    assert resp.status_code == 200, resp.text
    assert (resp.json()["on_hand"], resp.json()["available"]) == (4, 4)
    assert _level(client, "A") == (4, 0, 4)
    [latest, *_] = _moves(client, "A")
    assert (latest["kind"], latest["on_hand_delta"], latest["reserved_delta"], latest["reason"]) == \
        ("adjust", -6, 0, "盘点")


@sqlite_only
def test_setting_stock_to_what_is_on_hand_writes_no_move(client, db):
    make_catalog(db, skus={"A": 10})
    before = _moves(client, "A")
    assert _adjust(client, sku="A", set_to=10).json()["on_hand"] == 10
    assert _moves(client, "A") == before


def test_stock_received_in_a_new_warehouse_creates_its_level(client, db):
    make_catalog(db, skus={"A": 10}, warehouses=("WH1", "WH2"))
    resp = _adjust(client, sku="A", warehouse="WH2", delta=6, kind="receipt", reason="入库")
    assert resp.status_code == 200, resp.text
    assert _level(client, "A", "WH2") == (6, 0, 6)
    assert _moves(client, "A", warehouse="WH2")[0]["kind"] == "receipt"


def test_a_replayed_idempotency_key_changes_nothing(client, db):
    make_catalog(db, skus={"A": 10})
    first = _adjust(client, key="count-2026-11-25-A", sku="A", delta=5)
    again = _adjust(client, key="count-2026-11-25-A", sku="A", delta=5)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["on_hand"] == again.json()["on_hand"] == 15
    assert _level(client, "A") == (15, 0, 15)
    assert [m["on_hand_delta"] for m in _moves(client, "A")] == [5, 10]
    other = _adjust(client, key="count-2026-11-25-A-2", sku="A", delta=5)
    assert other.json()["on_hand"] == 20


@sqlite_only
def test_a_replayed_idempotency_key_with_set_to_changes_nothing_after_later_moves(client, db):
    make_catalog(db, skus={"A": 10})
    assert _adjust(client, key="k1", sku="A", set_to=4).json()["on_hand"] == 4
    assert _adjust(client, sku="A", delta=3).json()["on_hand"] == 7
    assert _adjust(client, key="k1", sku="A", set_to=4).status_code == 200
    assert _level(client, "A") == (7, 0, 7)
    assert [m["on_hand_delta"] for m in _moves(client, "A")] == [3, -6, 10]


def test_going_below_what_is_reserved_is_refused_with_409_and_changes_nothing(client, runtime, db):
    make_catalog(db, skus={"A": 10})
    _reserve(runtime, "A", 6)
    moves_before = _moves(client, "A")
    body = error_body(_adjust(client, sku="A", set_to=5), 409, "inventory.below_reserved")
    assert body["details"] == {"on_hand": 10, "reserved": 6, "change": -5}
    error_body(_adjust(client, sku="A", delta=-5), 409, "inventory.below_reserved")
    assert _level(client, "A") == (10, 6, 4)
    assert _moves(client, "A") == moves_before
    assert _adjust(client, sku="A", set_to=6).json()["available"] == 0  # down to exactly the reserved is fine


INVALID_ADJUSTMENTS = {
    "delta-and-set_to": {"sku": "A", "delta": 5, "set_to": 3},
    "neither": {"sku": "A"},
    "negative-set_to": {"sku": "A", "set_to": -1},
    "delta-not-a-number": {"sku": "A", "delta": "five"},
    "kind-ship": {"sku": "A", "delta": 1, "kind": "ship"},
    "unknown-field": {"sku": "A", "delta": 1, "note": "extra field"},
    "empty-sku": {"sku": "", "delta": 1},
}


@sqlite_only
def test_an_invalid_adjustment_is_refused_with_422_and_changes_nothing(client, db, subtests):
    make_catalog(db, skus={"A": 10})
    for case, body in INVALID_ADJUSTMENTS.items():
        with subtests.test(msg=case):
            error_body(_adjust(client, **body), 422, "request.invalid")
            assert _level(client, "A") == (10, 0, 10)
            assert len(_moves(client, "A")) == 1
    refused = error_body(_adjust(client, sku="A", delta=5, set_to=3), 422, "request.invalid")
    assert "delta" in refused["message"] and "set_to" in refused["message"]


@sqlite_only
def test_a_receipt_that_removes_stock_is_refused_with_422(client, db):
    make_catalog(db, skus={"A": 10})
    error_body(_adjust(client, sku="A", delta=-1, kind="receipt"), 422, "inventory.invalid_adjustment")
    assert _level(client, "A") == (10, 0, 10)


@sqlite_only
def test_adjusting_an_unknown_sku_or_warehouse_answers_404(client, db):
    make_catalog(db, skus={"A": 10})
    body = error_body(_adjust(client, sku="NOPE", delta=1), 404, "inventory.unknown_level")
    assert "NOPE" in body["message"]
    body = error_body(_adjust(client, sku="A", warehouse="WH-NOPE", delta=1), 404, "inventory.unknown_level")
    assert "WH-NOPE" in body["message"]
    assert _levels(client) == [("A", "WH1", 10, 0, 10)]


# --- ledger -----------------------------------------------------------------------------------------------

def test_the_ledger_lists_moves_of_a_sku_newest_first(client, runtime, db):
    ids = make_catalog(db, skus={"A": 10, "B": 3}, warehouses=("WH1", "WH2"))
    _adjust(client, sku="A", delta=-2, reason="破损")
    _adjust(client, sku="A", warehouse="WH2", delta=4, kind="receipt")
    _reserve(runtime, "A", 1)
    moves = _moves(client, "A")
    assert [(m["kind"], m["warehouse_id"], m["on_hand_delta"], m["reserved_delta"]) for m in moves] == [
        ("reserve", ids["WH1"], 0, 1), ("receipt", ids["WH2"], 4, 0), ("adjust", ids["WH1"], -2, 0),
        ("receipt", ids["WH1"], 10, 0)]
    assert [m["id"] for m in moves] == sorted((m["id"] for m in moves), reverse=True)
    assert {m["sku_id"] for m in moves} == {ids["A"]}
    assert (moves[2]["reason"], moves[2]["actor"]) == ("破损", "user:owner")  # who was logged in
    assert [m["kind"] for m in _moves(client, "A", warehouse="WH2")] == ["receipt"]
    assert [m["kind"] for m in _moves(client, "B")] == ["receipt"]
    # the ledger adds up to the level
    assert sum(m["on_hand_delta"] for m in moves if m["warehouse_id"] == ids["WH1"]) == _level(client, "A")[0]


@sqlite_only
def test_the_ledger_is_paged_with_before_id(client, db):
    make_catalog(db, skus={"A": 10})
    for delta in (1, 2, 3):
        _adjust(client, sku="A", delta=delta)
    first = _moves(client, "A", limit=2)
    rest = _moves(client, "A", limit=2, before_id=first[-1]["id"])
    assert [m["on_hand_delta"] for m in first + rest] == [3, 2, 1, 10]


@sqlite_only
def test_the_ledger_of_an_unknown_sku_answers_404_and_a_sku_is_required(client, db):
    make_catalog(db, skus={"A": 10})
    error_body(client.get(f"{API}/stock/moves", params={"sku": "NOPE"}), 404, "inventory.unknown_level")
    error_body(client.get(f"{API}/stock/moves", params={"sku": "A", "warehouse": "WH-NOPE"}), 404,
           "inventory.unknown_level")
    error_body(client.get(f"{API}/stock/moves"), 422, "request.invalid")


def test_an_adjustment_is_audited_with_before_and_after_and_a_repeat_is_not(client, db):
    from baodan.identity import audit

    make_catalog(db, skus={"A": 10})
    before = len(_stock_audit(db))
    assert _adjust(client, key="count-1", sku="A", set_to=7, reason="盘点").status_code == 200
    assert _adjust(client, key="count-1", sku="A", set_to=7, reason="盘点").status_code == 200  # replayed
    records = _stock_audit(db)
    assert len(records) == before + 1
    newest = records[0]
    assert newest["actor"] == "user:owner" and newest["ip"] == "testclient"
    assert newest["detail"]["before"]["on_hand"] == 10 and newest["detail"]["after"]["on_hand"] == 7
    assert newest["detail"]["reason"] == "盘点" and newest["detail"]["idempotency_key"] == "count-1"
    assert audit.verify(db) == []


def _stock_audit(db):
    from baodan.identity import audit

    with db.read() as s:
        return audit.search(s, action="stock.adjust")
