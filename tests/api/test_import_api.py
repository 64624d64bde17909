"""POST /api/v1/orders/import: multipart upload of an order export; preview, per-row error report,
idempotent re-import, and refusals (wrong type, empty, unreadable, unknown or out-of-scope shop) that
write nothing."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from baodan.app import create_app
from baodan.catalog import schemas as catalog_schemas
from baodan.catalog import services as catalog
from baodan.identity import accounts
from tests.helpers import API, drain, error_body, make_catalog, sqlite_only

FIXTURES = Path(__file__).parents[1] / "fixtures" / "import"
URL = f"{API}/orders/import"


def _upload(client, name: str, content: bytes | None = None, **params):
    data = content if content is not None else (FIXTURES / name).read_bytes()
    return client.post(URL, params=params, files={"file": (name, data, "text/csv")})


def test_an_upload_imports_the_valid_orders_and_reports_the_rest(client, runtime, db) -> None:
    make_catalog(db, skus={"A": 100, "B": 100})
    resp = _upload(client, "baodan_orders_utf8bom.csv", shop="SHOP-A")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["template"], body["rows"], body["orders"], body["accepted"], body["duplicates"]) == (
        "baodan", 8, 2, 2, 0)
    assert body["rejected_total"] == 5
    assert body["rejected"][0] == {"row": 5, "column": "数量", "reason": "'两件' is not a quantity"}
    assert "preview" not in body
    drain(runtime)
    listed = client.get(f"{API}/orders", params={"shop": "SHOP-A"}).json()["items"]
    assert sorted(o["platform_order_id"] for o in listed) == ["BD-1001", "BD-1002"]
    again = _upload(client, "baodan_orders_utf8bom.csv", shop="SHOP-A").json()
    assert (again["accepted"], again["duplicates"]) == (0, 2)


def test_a_preview_answers_the_mapped_orders_masked_and_writes_nothing(client, runtime, db) -> None:
    make_catalog(db, skus={"A": 100}, shop="PDD-1", channel="pdd")
    resp = _upload(client, "pdd_orders_gbk.csv", shop="PDD-1", preview=2)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["template"] == "pdd" and body["rows"] == 2 and body["accepted"] == 0
    [first, second] = body["preview"]
    assert first["platform_order_id"] == "261125-083412345678901" and first["paid_total_fen"] == 9180
    assert first["receiver"]["phone"] == "138****8000" and first["receiver"]["name"] != "张三"
    assert second["status"] == "shipped"
    assert runtime.inbox.pending(100) == 0


@sqlite_only
def test_files_that_cannot_be_imported_are_refused_with_a_clear_code(client, runtime, db) -> None:
    make_catalog(db, skus={"A": 100})
    error_body(_upload(client, "orders.pdf", b"%PDF-1.4", shop="SHOP-A"), 415, "import.unsupported_type")
    error_body(_upload(client, "orders.csv", b"", shop="SHOP-A"), 422, "import.empty_file")
    error_body(_upload(client, "orders.csv", "订单号,数量\n".encode("utf-16"), shop="SHOP-A"), 422,
               "import.unreadable")
    error_body(_upload(client, "orders.xlsx", b"PK\x03\x04garbage", shop="SHOP-A"), 422, "import.unreadable")
    error_body(_upload(client, "orders.csv", "日期,金额\n2026-11-25,1\n".encode(), shop="SHOP-A"), 422,
               "import.unknown_format")
    error_body(_upload(client, "baodan_orders_utf8bom.csv", shop="SHOP-A", template="nope"), 422,
               "import.unknown_template")
    error_body(_upload(client, "pdd_orders_gbk.csv", shop="SHOP-A"), 422, "import.channel_mismatch")
    error_body(_upload(client, "baodan_orders_utf8bom.csv", shop="NOPE"), 422, "intake.unknown_shop")
    error_body(client.post(URL, params={"shop": "SHOP-A"}), 422, "request.invalid")  # no file at all
    assert runtime.inbox.pending(100) == 0


@sqlite_only
def test_a_shop_outside_the_callers_scope_is_an_unknown_shop_and_nothing_is_written(runtime, db) -> None:
    ids = make_catalog(db, skus={"A": 100})
    catalog.create_shop(db, data=catalog_schemas.ShopCreate(code="SHOP-B", name="B", channel="douyin",
                                                            default_warehouse="WH1"))
    accounts.create_user(db, username="a-ops", role="operator", password="a-long-enough-password",
                         shop_ids=[ids["SHOP-A"]])
    client = TestClient(create_app(runtime))
    login = client.post(f"{API}/auth/login", json={"username": "a-ops", "password": "a-long-enough-password"})
    client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    body = error_body(_upload(client, "baodan_orders_utf8bom.csv", shop="SHOP-B"), 422, "intake.unknown_shop")
    assert "SHOP-B" in body["message"]
    assert runtime.inbox.pending(100) == 0
    assert _upload(client, "baodan_orders_utf8bom.csv", shop="SHOP-A").json()["accepted"] == 2


@sqlite_only
def test_importing_needs_orders_write_and_a_login(anon_client, runtime, db) -> None:
    make_catalog(db, skus={"A": 100})
    error_body(_upload(anon_client, "baodan_orders_utf8bom.csv", shop="SHOP-A"), 401, "auth.required")
    accounts.create_user(db, username="viewer", role="auditor", password="a-long-enough-password")
    login = anon_client.post(f"{API}/auth/login", json={"username": "viewer", "password": "a-long-enough-password"})
    anon_client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    error_body(_upload(anon_client, "baodan_orders_utf8bom.csv", shop="SHOP-A"), 403, "auth.forbidden")
    assert runtime.inbox.pending(100) == 0
