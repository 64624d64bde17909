"""Exports: the `export` permission, the caller's scope, a daily cap per actor, a watermark on the file
and on every row, and an audit record written before the first row leaves."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from baodan.exports import api as exports_api
from baodan.identity import accounts, audit
from tests.api.test_security import PASSWORD, _login, _two_shops
from tests.helpers import API, drain, error_body, make_catalog, order, sqlite_only, submit


def _rows(resp: Any) -> tuple[str, list[str], list[list[str]]]:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/csv")
    text = resp.content.decode("utf-8")
    assert text.startswith("\ufeff")
    banner, header, *rows = list(csv.reader(io.StringIO(text[1:])))
    return banner[0], header, rows


def _exports(db: Any) -> list[dict[str, Any]]:
    with db.read() as s:
        return audit.search(s, action="export")


@sqlite_only
def test_an_order_export_is_watermarked_masked_and_audited(runtime, db, client) -> None:
    make_catalog(db, skus={"A": 50})
    submit(runtime, *(order(f"o{i}", [("A", 1)], paid_offset_s=i) for i in range(5)))
    drain(runtime)
    banner, header, rows = _rows(client.get(f"{API}/exports/orders"))
    record = _exports(db)[0]
    assert record["actor"] == "user:owner" and record["detail"]["rows"] == 5 and record["ip"]
    assert f"#{record['id']}" in banner and "user:owner" in banner and "严禁外传" in banner
    assert header[0] == "订单ID" and header[-1] == "水印"
    assert [r[3] for r in rows] == ["o4", "o3", "o2", "o1", "o0"]  # newest first
    assert all(r[-1].startswith(f"#{record['id']} user:owner ") for r in rows)
    phone = header.index("手机")
    assert {r[phone] for r in rows} == {"138****8000"}
    assert "13800138000" not in str(rows) and "张三" not in str(rows)
    assert rows[0][header.index("实付")] == "10.00"


@sqlite_only
def test_exports_page_through_the_filter_and_stay_in_scope(runtime, db, monkeypatch) -> None:
    monkeypatch.setattr(exports_api, "PAGE", 2)
    ids = _two_shops(runtime, db)
    submit(runtime, *(order(f"a{i}", [("A", 1)]) for i in range(3, 8)))
    drain(runtime)
    accounts.create_user(db, username="a-ops", role="operator", password=PASSWORD, shop_ids=[ids["SHOP-A"]],
                         warehouse_ids=[ids["WH1"]])
    ops = _login(runtime, "a-ops")
    _, _, rows = _rows(ops.get(f"{API}/exports/orders"))
    assert sorted(r[3] for r in rows) == ["a1", "a2", "a3", "a4", "a5", "a6", "a7"]  # never b1
    _, _, rows = _rows(ops.get(f"{API}/exports/orders", params={"shop": "SHOP-B"}))
    assert rows == []
    _, _, stock = _rows(ops.get(f"{API}/exports/stock"))
    assert {r[2] for r in stock} == {"WH1"}
    assert [e["detail"]["rows"] for e in _exports(db)] == [len(stock), 0, 7]
    assert _exports(db)[1]["detail"]["filters"] == {"shop": "SHOP-B"}


def test_each_actor_has_a_daily_cap(runtime, db, client) -> None:
    """On both databases: the cap is read from the audit trail under its lock."""
    runtime.settings.export_daily_rows = 5
    make_catalog(db, skus={"A": 50})
    submit(runtime, *(order(f"o{i}", [("A", 1)]) for i in range(3)))
    drain(runtime)
    _rows(client.get(f"{API}/exports/orders"))
    body = error_body(client.get(f"{API}/exports/orders"), 429, "export.daily_cap")
    assert body["details"]["used_today"] == 3 and body["details"]["daily_cap"] == 5
    resp = client.get(f"{API}/exports/orders")
    assert 0 < int(resp.headers["Retry-After"]) <= 86400
    assert len(_exports(db)) == 1  # refused exports are not recorded as exports
    _rows(client.get(f"{API}/exports/orders", params={"platform_order_id": "o1"}))  # 1 row: 4 of 5
    accounts.create_user(db, username="fin", role="finance", password=PASSWORD)
    _rows(_login(runtime, "fin").get(f"{API}/exports/orders"))  # another user has a cap of their own


@pytest.mark.parametrize("path", ["/exports/orders", "/exports/stock"])
@sqlite_only
def test_exports_need_the_export_permission_and_the_read_one(runtime, db, client, path) -> None:
    accounts.create_user(db, username="svc", role="service", password=PASSWORD)
    error_body(_login(runtime, "svc").get(f"{API}{path}"), 403, "auth.forbidden")
    client.put(f"{API}/roles/exporter", json={"title": "只导出", "permissions": ["export"]})
    accounts.create_user(db, username="exp", role="exporter", password=PASSWORD)
    body = error_body(_login(runtime, "exp").get(f"{API}{path}"), 403, "auth.forbidden")
    assert body["details"]["permission"] in ("orders.read", "stock.read")
    assert _exports(db) == []
