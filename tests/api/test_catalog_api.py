"""Catalog API: status codes and stable error codes of warehouses, shops, products, SKUs, bundles,
platform SKU mappings and live sessions (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.helpers import API, error_body, sqlite_only


def _created(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 201, resp.text
    return resp.json()


def _warehouse(client: Any, code: str, priority: int = 100) -> dict[str, Any]:
    return _created(client.post(f"{API}/warehouses", json={"code": code, "name": f"仓库 {code}",
                                                           "priority": priority}))


def _shop(client: Any, code: str = "DY-1", channel: str = "douyin", **extra: Any) -> dict[str, Any]:
    body = {"code": code, "name": f"店铺 {code}", "channel": channel, **extra}
    return _created(client.post(f"{API}/shops", json=body))


def _sku(client: Any, code: str, **extra: Any) -> dict[str, Any]:
    return _created(client.post(f"{API}/skus", json={"code": code, "name": f"商品 {code}", "price_fen": 990,
                                                     **extra}))


def _list(client: Any, path: str, **params: Any) -> list[dict[str, Any]]:
    resp = client.get(f"{API}/{path}", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- warehouses -------------------------------------------------------------------------------------------

@sqlite_only
def test_a_created_warehouse_is_answered_with_201_and_can_be_read_back(client):
    created = _warehouse(client, "WH-HZ", priority=10)
    assert (created["code"], created["name"], created["priority"], created["active"]) == \
        ("WH-HZ", "仓库 WH-HZ", 10, True)
    got = client.get(f"{API}/warehouses/{created['id']}")
    assert got.status_code == 200
    assert got.json() == created
    assert _list(client, "warehouses") == [created]


@sqlite_only
def test_warehouses_are_listed_in_id_order_and_paged_with_after(client):
    ids = [_warehouse(client, f"WH-{i}")["id"] for i in range(5)]
    first = _list(client, "warehouses", limit=2)
    rest = _list(client, "warehouses", after=first[-1]["id"], limit=10)
    assert len(first) == 2
    assert [w["id"] for w in first + rest] == ids


# --- duplicates, unknown ids, invalid bodies ----------------------------------------------------------------

def test_a_duplicate_code_of_any_catalog_entity_is_refused_with_409_and_nothing_is_added(client):
    _warehouse(client, "WH-HZ")
    _shop(client, "DY-1")
    _created(client.post(f"{API}/products", json={"code": "P001", "name": "面膜"}))
    _sku(client, "S1")
    for path, body in [("warehouses", {"code": "WH-HZ", "name": "again"}),
                       ("shops", {"code": "DY-1", "name": "again", "channel": "taobao"}),
                       ("products", {"code": "P001", "name": "again"}),
                       ("skus", {"code": "S1", "name": "again"})]:
        refused = error_body(client.post(f"{API}/{path}", json=body), 409, "catalog.duplicate_code")
        assert body["code"] in refused["message"]
        assert [item["code"] for item in _list(client, path)] == [body["code"]], path
    assert _list(client, "shops")[0]["channel"] == "douyin"


@sqlite_only
def test_unknown_ids_answer_404_with_the_catalog_not_found_code(client):
    _sku(client, "A")
    for method, path, body in [("GET", "warehouses/999", None), ("GET", "shops/999", None),
                               ("GET", "skus/999", None), ("GET", "shops/999/sku-mappings", None),
                               ("PUT", "shops/999/sku-mappings", [{"platform_sku_id": "3001", "sku": "A"}]),
                               ("POST", "live-sessions/999/end", {"ended_at": "2026-12-10T23:00:00+08:00"})]:
        body_out = error_body(client.request(method, f"{API}/{path}", json=body), 404, "catalog.not_found")
        assert "999" in body_out["message"], path


INVALID_BODIES = {
    "empty-code": ("warehouses", {"code": "", "name": "empty code"}),
    "bad-code": ("warehouses", {"code": "WH 1", "name": "space in the code"}),
    "no-name": ("warehouses", {"code": "WH1"}),
    "negative-priority": ("warehouses", {"code": "WH1", "name": "n", "priority": -1}),
    "unknown-field": ("warehouses", {"code": "WH1", "name": "n", "colour": "red"}),
    "not-an-object": ("warehouses", ["WH1"]),
    "unknown-channel": ("shops", {"code": "X-1", "name": "店", "channel": "myspace"}),
    "product-unknown-field": ("products", {"code": "P1", "name": "n", "price_fen": 100}),
    "negative-price": ("skus", {"code": "S1", "name": "n", "price_fen": -1}),
    "price-not-a-number": ("skus", {"code": "S1", "name": "n", "price_fen": "ten"}),
    "component-zero-qty": ("skus", {"code": "S1", "name": "n", "components": [{"sku": "A", "qty": 0}]}),
    "bad-datetime": ("live-sessions", {"shop": "DY-1", "title": "t", "host": "h", "started_at": "yesterday"}),
}


@sqlite_only
def test_an_invalid_body_is_refused_with_422_request_invalid_and_creates_nothing(client, subtests):
    for case, (path, body) in INVALID_BODIES.items():
        with subtests.test(msg=case):
            refused = error_body(client.post(f"{API}/{path}", json=body), 422, "request.invalid")
            assert isinstance(refused["details"], list) and refused["details"]
            assert _list(client, path) == []


@sqlite_only
def test_a_non_numeric_id_is_refused_with_422_request_invalid(client):
    error_body(client.get(f"{API}/skus/abc"), 422, "request.invalid")


@sqlite_only
def test_a_malformed_json_body_answers_400_request_malformed_json(client):
    resp = client.post(f"{API}/warehouses", content=b'{"code": "WH1",',
                       headers={"content-type": "application/json"})
    error_body(resp, 400, "request.malformed_json")
    assert _list(client, "warehouses") == []


@sqlite_only
def test_routing_errors_also_answer_with_a_code_and_a_message(client, subtests):
    for method, path in [("GET", f"{API}/no-such-thing"), ("DELETE", f"{API}/warehouses")]:
        with subtests.test(msg=f"{method} {path}"):
            resp = client.request(method, path)
            assert resp.status_code in (404, 405)
            body = resp.json()
            assert isinstance(body.get("code"), str) and body["code"], body
            assert isinstance(body.get("message"), str) and body["message"], body


# --- shops --------------------------------------------------------------------------------------------------

def test_a_shop_keeps_its_default_and_fallback_warehouses_in_order(client):
    hz, gz, bj = _warehouse(client, "WH-HZ"), _warehouse(client, "WH-GZ"), _warehouse(client, "WH-BJ")
    shop = _shop(client, "DY-FLAGSHIP", default_warehouse="WH-HZ", fallback_warehouses=["WH-BJ", "WH-GZ"],
                 platform_shop_id="12345678")
    assert shop["default_warehouse_id"] == hz["id"]
    assert shop["fallback_warehouse_ids"] == [bj["id"], gz["id"]]
    assert (shop["channel"], shop["platform_shop_id"], shop["active"]) == ("douyin", "12345678", True)
    got = client.get(f"{API}/shops/{shop['id']}")
    assert got.status_code == 200
    assert got.json() == shop


@sqlite_only
def test_a_shop_without_warehouses_has_no_default_and_no_fallbacks(client):
    shop = _shop(client, "KS-1", channel="kuaishou")
    assert (shop["default_warehouse_id"], shop["fallback_warehouse_ids"]) == (None, [])


def test_a_shop_naming_an_unknown_warehouse_is_refused_and_not_created(client, subtests):
    _warehouse(client, "WH-HZ")
    _warehouse(client, "WH-GZ")
    for case, refs in {
        "default": {"default_warehouse": "WH-NOPE"},
        "fallback": {"default_warehouse": "WH-HZ", "fallback_warehouses": ["WH-GZ", "WH-NOPE"]},
    }.items():
        with subtests.test(msg=case):
            body = error_body(client.post(f"{API}/shops", json={"code": "DY-1", "name": "店", "channel": "douyin",
                                                            **refs}), 422, "catalog.invalid_reference")
            assert "WH-NOPE" in body["message"]
            assert _list(client, "shops") == []


# --- products and SKUs ----------------------------------------------------------------------------------

def test_a_sku_of_a_product_is_created_and_read_back_by_id_and_by_code(client):
    product = _created(client.post(f"{API}/products", json={"code": "P001", "name": "玻尿酸补水面膜"}))
    assert _list(client, "products") == [product]
    created = _sku(client, "P001-0001", product="P001", barcode="6901234567890", weight_g=300)
    assert (created["product_id"], created["barcode"], created["price_fen"], created["weight_g"]) == \
        (product["id"], "6901234567890", 990, 300)
    assert (created["is_bundle"], created["components"], created["active"]) == (False, [], True)
    got = client.get(f"{API}/skus/{created['id']}")
    assert got.status_code == 200
    assert got.json() == created
    assert _list(client, "skus", code="P001-0001") == [created]
    assert _list(client, "skus", code="P001-0002") == []


@sqlite_only
def test_a_sku_of_an_unknown_product_is_refused_and_not_created(client):
    body = error_body(client.post(f"{API}/skus", json={"code": "S1", "name": "n", "product": "P404"}), 422,
                  "catalog.invalid_reference")
    assert "P404" in body["message"]
    assert _list(client, "skus") == []


# --- bundles ------------------------------------------------------------------------------------------------

def test_a_bundle_lists_its_components_and_is_marked_as_a_bundle(client):
    _sku(client, "A")
    _sku(client, "B")
    bundle = _sku(client, "AB-SET", components=[{"sku": "B", "qty": 2}, {"sku": "A", "qty": 1}])
    assert bundle["is_bundle"] is True
    assert sorted((c["sku"], c["qty"]) for c in bundle["components"]) == [("A", 1), ("B", 2)]
    assert client.get(f"{API}/skus/{bundle['id']}").json() == bundle
    assert _list(client, "skus", code="A")[0]["is_bundle"] is False


def test_a_bundle_that_breaks_a_bundle_rule_is_refused_and_not_created(client, subtests):
    _sku(client, "A")
    _sku(client, "B")
    _sku(client, "AB-SET", components=[{"sku": "A", "qty": 1}, {"sku": "B", "qty": 1}])
    for case, (code, components, named) in {
        "nested-bundle": ("MEGA", [{"sku": "AB-SET", "qty": 1}], "AB-SET"),
        "contains-itself": ("SELF", [{"sku": "A", "qty": 1}, {"sku": "SELF", "qty": 1}], None),
        "unknown-component": ("AX", [{"sku": "A", "qty": 1}, {"sku": "X9", "qty": 1}], "X9"),
        "component-twice": ("AA", [{"sku": "A", "qty": 1}, {"sku": "A", "qty": 2}], None),
    }.items():
        with subtests.test(msg=case):
            resp = client.post(f"{API}/skus", json={"code": code, "name": "组合装", "components": components})
            body = error_body(resp, 422, "catalog.invalid_bundle")
            if named:
                assert named in body["message"]
            assert _list(client, "skus", code=code) == []
    assert len(_list(client, "skus")) == 3


# --- platform SKU mappings ----------------------------------------------------------------------------------

def _mappings(client: Any, shop_id: int) -> list[tuple[str, str]]:
    return [(m["platform_sku_id"], m["sku_code"]) for m in _list(client, f"shops/{shop_id}/sku-mappings")]


@sqlite_only
def test_sku_mappings_are_written_and_listed_by_platform_sku_id(client):
    shop = _shop(client)
    a, b = _sku(client, "A"), _sku(client, "B")
    resp = client.put(f"{API}/shops/{shop['id']}/sku-mappings",
                      json=[{"platform_sku_id": "3002", "sku": "B"}, {"platform_sku_id": "3001", "sku": "A"}])
    assert resp.status_code == 200
    assert resp.json() == {"written": 2}
    listed = _list(client, f"shops/{shop['id']}/sku-mappings")
    assert [(m["shop_id"], m["platform_sku_id"], m["sku_id"], m["sku_code"]) for m in listed] == \
        [(shop["id"], "3001", a["id"], "A"), (shop["id"], "3002", b["id"], "B")]


def test_putting_the_same_mappings_again_changes_nothing(client):
    shop = _shop(client)
    _sku(client, "A")
    _sku(client, "B")
    items = [{"platform_sku_id": "3001", "sku": "A"}, {"platform_sku_id": "3002", "sku": "B"}]
    first = client.put(f"{API}/shops/{shop['id']}/sku-mappings", json=items)
    before = _list(client, f"shops/{shop['id']}/sku-mappings")
    second = client.put(f"{API}/shops/{shop['id']}/sku-mappings", json=items)
    assert (first.status_code, second.status_code) == (200, 200)
    assert _list(client, f"shops/{shop['id']}/sku-mappings") == before
    assert _mappings(client, shop["id"]) == [("3001", "A"), ("3002", "B")]


def test_putting_a_mapping_for_a_known_platform_sku_points_it_at_the_new_sku(client):
    shop = _shop(client)
    _sku(client, "A")
    _sku(client, "B")
    path = f"{API}/shops/{shop['id']}/sku-mappings"
    client.put(path, json=[{"platform_sku_id": "3001", "sku": "A"}])
    resp = client.put(path, json=[{"platform_sku_id": "3001", "sku": "B"}])
    assert resp.status_code == 200
    assert _mappings(client, shop["id"]) == [("3001", "B")]


@sqlite_only
def test_mappings_belong_to_one_shop(client):
    dy, ks = _shop(client, "DY-1"), _shop(client, "KS-1", channel="kuaishou")
    _sku(client, "A")
    client.put(f"{API}/shops/{dy['id']}/sku-mappings", json=[{"platform_sku_id": "3001", "sku": "A"}])
    assert _mappings(client, dy["id"]) == [("3001", "A")]
    assert _mappings(client, ks["id"]) == []


def test_a_mapping_to_an_unknown_sku_code_is_refused_and_writes_nothing(client):
    shop = _shop(client)
    _sku(client, "A")
    items = [{"platform_sku_id": "3001", "sku": "A"}, {"platform_sku_id": "3002", "sku": "NOPE"}]
    body = error_body(client.put(f"{API}/shops/{shop['id']}/sku-mappings", json=items), 422,
                  "catalog.invalid_reference")
    assert "NOPE" in body["message"]
    assert body["details"] == {"missing": ["NOPE"]}
    assert _mappings(client, shop["id"]) == []


@sqlite_only
def test_a_mapping_body_that_is_not_a_list_is_refused_with_422(client):
    shop = _shop(client)
    _sku(client, "A")
    resp = client.put(f"{API}/shops/{shop['id']}/sku-mappings", json={"platform_sku_id": "1", "sku": "A"})
    error_body(resp, 422, "request.invalid")
    assert _mappings(client, shop["id"]) == []


# --- live sessions ------------------------------------------------------------------------------------------

def _session_body(**extra: Any) -> dict[str, Any]:
    return {"shop": "DY-1", "title": "双12预热专场", "host": "主播小美", "room_id": "7301234567890",
            "started_at": "2026-12-10T20:00:00+08:00", **extra}


def test_a_live_session_is_started_for_a_shop_with_its_featured_skus(client):
    shop = _shop(client)
    a, b = _sku(client, "A"), _sku(client, "B")
    created = _created(client.post(f"{API}/live-sessions", json=_session_body(featured_skus=["B", "A"])))
    assert (created["shop_id"], created["title"], created["host"], created["room_id"]) == \
        (shop["id"], "双12预热专场", "主播小美", "7301234567890")
    assert _at(created["started_at"]) == _at("2026-12-10T12:00:00+00:00")
    assert created["ended_at"] is None
    assert created["featured_sku_ids"] == [b["id"], a["id"]]
    assert _list(client, "live-sessions") == [created]


def test_ending_a_live_session_records_its_end(client):
    _shop(client)
    created = _created(client.post(f"{API}/live-sessions", json=_session_body()))
    resp = client.post(f"{API}/live-sessions/{created['id']}/end",
                       json={"ended_at": "2026-12-10T23:30:00+08:00"})
    assert resp.status_code == 200, resp.text
    assert _at(resp.json()["ended_at"]) == _at("2026-12-10T15:30:00+00:00")
    [listed] = _list(client, "live-sessions")
    assert _at(listed["ended_at"]) == _at("2026-12-10T15:30:00+00:00")
    assert _at(listed["started_at"]) == _at(created["started_at"])


def test_ending_a_live_session_before_or_at_its_start_is_refused_and_changes_nothing(client):
    _shop(client)
    created = _created(client.post(f"{API}/live-sessions", json=_session_body()))
    for ended_at in ["2026-12-10T19:59:59+08:00", "2026-12-10T20:00:00+08:00", "2026-12-10T12:00:00Z"]:
        error_body(client.post(f"{API}/live-sessions/{created['id']}/end", json={"ended_at": ended_at}), 422,
               "catalog.invalid_reference")
    assert _list(client, "live-sessions")[0]["ended_at"] is None


@sqlite_only
def test_a_live_session_recorded_with_an_end_before_its_start_is_refused(client):
    _shop(client)
    error_body(client.post(f"{API}/live-sessions", json=_session_body(ended_at="2026-12-10T19:00:00+08:00")), 422,
           "catalog.invalid_reference")
    assert _list(client, "live-sessions") == []


@sqlite_only
def test_a_live_session_with_an_unknown_reference_is_refused_and_not_created(client, subtests):
    _shop(client)
    _sku(client, "A")
    for case, extra in {"unknown-shop": {"shop": "NOPE"},
                        "unknown-featured-sku": {"featured_skus": ["A", "NOPE"]}}.items():
        with subtests.test(msg=case):
            body = error_body(client.post(f"{API}/live-sessions", json=_session_body(**extra)), 422,
                          "catalog.invalid_reference")
            assert "NOPE" in body["message"]
            assert _list(client, "live-sessions") == []


def test_two_sessions_of_one_shop_starting_at_the_same_moment_are_refused_with_409(client):
    _shop(client)
    _created(client.post(f"{API}/live-sessions", json=_session_body()))
    error_body(client.post(f"{API}/live-sessions", json=_session_body(title="again")), 409,
           "catalog.duplicate_code")
    assert len(_list(client, "live-sessions")) == 1


def test_numbers_out_of_range_are_refused_as_bad_input(client) -> None:
    """Found by the fuzzer: a price past 64 bits reached SQLite as an OverflowError (500)."""
    resp = client.post("/api/v1/skus", json={"code": "BIG", "name": "big", "price_fen": 2**63})
    assert resp.status_code == 422 and resp.json()["code"] == "request.invalid"


def test_a_number_that_still_reaches_the_driver_out_of_range_is_a_422_not_a_500(runtime) -> None:
    from fastapi.testclient import TestClient

    from baodan.app import create_app

    app = create_app(runtime)

    @app.get("/overflow-probe", include_in_schema=False)
    def probe() -> None:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    resp = TestClient(app).get("/overflow-probe")
    assert resp.status_code == 422 and resp.json()["code"] == "request.out_of_range"
