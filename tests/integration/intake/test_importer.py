"""Spreadsheet order import: templates and their detection, encodings, cell wrappers and money, the per-row
error report, idempotent re-import through the inbox, streaming. Fixtures are real export shapes
(tests/fixtures/import/); the xlsx is generated here."""

from __future__ import annotations

import csv
import inspect
import io
import itertools
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from baodan.catalog import schemas as catalog_schemas
from baodan.catalog import services as catalog
from baodan.core.db import fetchall
from baodan.intake import importer
from baodan.intake.errors import UnknownShop
from tests.helpers import drain, make_catalog

FIXTURES = Path(__file__).parents[2] / "fixtures" / "import"
GENERIC_HEADER = ["订单号", "订单状态", "下单时间", "付款时间", "收货人", "手机号", "省", "市", "区", "详细地址",
                  "商家编码", "商品名称", "数量", "单价(元)"]


def _run(runtime: Any, data: bytes | Path, *, shop: str = "SHOP-A", filename: str | None = None,
         **options: Any) -> importer.ImportResult:
    if isinstance(data, Path):
        filename, data = filename or data.name, data.read_bytes()
    return importer.import_orders(io.BytesIO(data), filename=filename or "orders.csv", shop=shop, inbox=runtime.inbox,
                                  shops=runtime.shops, pii=runtime.pii, **options)


def _csv(header: list[str], rows: list[list[str]], *, encoding: str = "utf-8", preamble: str = "") -> bytes:
    buf = io.StringIO()
    buf.write(preamble)
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def _generic_row(oid: str, sku: str = "A", qty: str = "1", price: str = "10.00", status: str = "已付款",
                 paid: str = "2026-11-25 20:00:30") -> list[str]:
    return [oid, status, "2026-11-25 20:00:00", paid, "张三", "13800138000", "浙江省", "杭州市", "西湖区",
            "文三路 90 号", sku, "面膜", qty, price]


def _pdd_shop(db: Any) -> dict[str, int]:
    return make_catalog(db, skus={"A": 100, "B": 100}, shop="PDD-1", channel="pdd")


def _orders_in_db(db: Any) -> dict[str, tuple[str, str]]:
    with db.read() as s:
        rows = fetchall(s, "SELECT platform_order_id, platform_status, state FROM sales_order")
    return {oid: (status, state) for oid, status, state in rows}


def test_templates_are_detected_from_the_header_row(runtime, db) -> None:
    _pdd_shop(db)
    catalog.create_shop(db, data=catalog_schemas.ShopCreate(code="DY-1", name="DY", channel="douyin",
                                                            default_warehouse="WH1"))
    assert _run(runtime, FIXTURES / "pdd_orders_gbk.csv", shop="PDD-1", preview=1).template == "pdd"
    assert _run(runtime, FIXTURES / "douyin_orders.csv", shop="DY-1", preview=1).template == "douyin"
    assert _run(runtime, FIXTURES / "baodan_orders_utf8bom.csv", shop="DY-1", preview=1).template == "baodan"
    assert list(importer.TEMPLATES) == ["douyin", "pdd", "baodan"]  # platform exports win a tie


def test_a_gbk_pdd_export_with_a_preamble_line_maps_to_canonical_orders(runtime, db) -> None:
    _pdd_shop(db)
    result = _run(runtime, FIXTURES / "pdd_orders_gbk.csv", shop="PDD-1", dry_run=True)
    assert result.kind == "csv/gb18030" and result.rows == 4 and result.orders == 3
    [first, shipped, cancelled] = [m.order for m in _run(runtime, FIXTURES / "pdd_orders_gbk.csv", shop="PDD-1",
                                                         preview=10).preview]
    assert first.platform_order_id == "261125-083412345678901"  # ="…" unwrapped
    assert first.channel.value == "pdd" and first.status.value == "paid"
    assert first.paid_at == datetime.fromisoformat("2026-11-25T20:15:03+08:00") == first.updated_at
    [line] = first.lines
    assert (line.platform_sku_id, line.sku_code, line.quantity, line.unit_price_fen, line.amount_fen) == (
        "1234567890123", "A", 2, 4990, 9980)  # tab padding stripped; 商品总价 99.80 ÷ 2
    assert line.title == "玻尿酸补水面膜 10片装 10片装"
    assert (first.goods_total_fen, first.discount_fen, first.shipping_fee_fen, first.paid_total_fen) == (
        9980, 800, 0, 9180)  # 店铺优惠 5.00 + 平台优惠 3.00
    assert first.receiver is not None and first.receiver.address == "文三路 90 号 3 幢 502 室"
    assert shipped.status.value == "shipped"  # 已发货，待签收
    assert shipped.updated_at == datetime.fromisoformat("2026-11-26T09:30:00+08:00")  # the latest time: 发货时间
    assert (shipped.shipping_fee_fen, shipped.paid_total_fen) == (600, 9500)
    assert cancelled.status.value == "cancelled" and cancelled.paid_at is None
    assert result.rejected == [importer.RowError(6, "商品总价(元)", "'四十九' is not an amount")]


def test_the_error_report_names_row_column_and_reason_and_valid_orders_still_go_in(runtime, db) -> None:
    make_catalog(db, skus={"A": 100, "B": 100})
    result = _run(runtime, FIXTURES / "baodan_orders_utf8bom.csv")
    assert result.kind == "csv/utf-8-sig"
    assert (result.rows, result.orders, result.accepted, result.duplicates) == (8, 2, 2, 0)
    assert [e.as_dict() for e in result.rejected] == [
        {"row": 5, "column": "数量", "reason": "'两件' is not a quantity"},
        {"row": 6, "column": "单价（元）", "reason": "'10.005' has more than two decimals"},
        {"row": 7, "column": "订单号", "reason": "order BD-1004 is not taken: row 6 of it has an error"},
        {"row": 8, "column": "订单状态", "reason": "unknown order status '拼团中'"},
        {"row": 9, "column": "商家编码", "reason": "no SKU: the row names neither a merchant code (商家编码) nor a "
                                               "platform SKU id"}]
    drain(runtime)
    orders = _orders_in_db(db)
    assert orders == {"BD-1001": ("paid", "reserved"), "BD-1002": ("paid", "reserved")}
    report = Path(runtime.settings.data_dir) / "errors.csv"
    importer.write_error_report(result.rejected, report)
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "row,column,reason" and lines[1] == "5,数量,'两件' is not a quantity"


def test_importing_the_same_file_again_is_idempotent(runtime, db) -> None:
    _pdd_shop(db)
    first = _run(runtime, FIXTURES / "pdd_orders_gbk.csv", shop="PDD-1")
    assert (first.accepted, first.duplicates) == (3, 0)
    drain(runtime)
    again = _run(runtime, FIXTURES / "pdd_orders_gbk.csv", shop="PDD-1")
    assert (again.accepted, again.duplicates) == (0, 3)
    assert runtime.inbox.pending(100) == 0
    assert _orders_in_db(db) == {"261125-083412345678901": ("paid", "reserved"),
                                 "261125-083412345678902": ("shipped", "shipped"),
                                 "261125-083412345678903": ("cancelled", "cancelled")}


def test_a_file_without_times_gets_a_derived_updated_at_and_stays_idempotent(runtime, db) -> None:
    make_catalog(db, skus={"A": 10})
    data = _csv(["订单号", "商家编码", "数量", "单价"], [["N-1", "A", "1", "10"], ["N-2", "A", "2", "10"]])
    [one, two] = [m.order for m in _run(runtime, data, preview=5).preview]
    assert one.updated_at.date().isoformat() == "2000-01-01" and one.updated_at != two.updated_at
    assert one.paid_at == one.created_at == one.updated_at
    assert [m.order.updated_at for m in _run(runtime, data, preview=5).preview] == [one.updated_at, two.updated_at]
    assert (_run(runtime, data).accepted, _run(runtime, data).duplicates) == (2, 2)
    edited = _csv(["订单号", "商家编码", "数量", "单价"], [["N-1", "A", "3", "10"]])
    assert _run(runtime, edited, preview=5).preview[0].order.updated_at != one.updated_at


def test_money_is_read_as_decimal_yuan_or_fen_by_header_unit(runtime, db) -> None:
    make_catalog(db, skus={"A": 10})
    header = ["订单号", "商家编码", "数量", "单价 (分)", "运费（元）", "实付金额（元）", "付款时间"]
    data = _csv(header, [["M-1", "A", "3", "3333", "￥1,000.10", "1,010.09元", "2026-11-25 20:00:00"],
                         ["M-2", "A", "1", "12.5", "0", "0", "2026-11-25 20:00:00"],
                         ["M-3", "A", "1", "-100", "0", "0", "2026-11-25 20:00:00"]])
    result = _run(runtime, data, preview=10)
    [order] = [m.order for m in result.preview]
    assert (order.lines[0].unit_price_fen, order.lines[0].amount_fen) == (3333, 9999)
    assert (order.shipping_fee_fen, order.paid_total_fen) == (100010, 101009)
    assert [(e.row, e.column, e.reason) for e in result.rejected] == [
        (3, "单价 (分)", "'12.5' is not a whole number of fen"), (4, "单价 (分)", "negative amount '-100'")]


def test_an_xlsx_export_is_read_with_typed_cells_and_a_title_row(runtime, db, tmp_path) -> None:
    make_catalog(db, skus={"A": 10, "B": 10})
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("订单")
    sheet.append(["订单列表（导出）"])
    sheet.append([])
    sheet.append([" 订单号 ", "付款时间", "商家编码", "数量", "单价（元）", "实付金额（元）"])
    sheet.append(["X-1", datetime(2026, 11, 25, 20, 1, 2), "A", 2, 49.9, 119.8])
    sheet.append(["X-1", datetime(2026, 11, 25, 20, 1, 2), "B", 1, 20, 119.8])
    sheet.append([6.92e17, datetime(2026, 11, 25, 20, 2), "A", 1, 10, 10])
    sheet.append(["X-3", "2026/11/25 8:05", "A", 1.0, "10.00", "10.00"])
    path = tmp_path / "orders.xlsx"
    book.save(path)
    result = _run(runtime, path, preview=10)
    assert result.kind == "xlsx" and result.template == "baodan"
    [x1, x3] = [m.order for m in result.preview]
    assert [(ln.sku_code, ln.quantity, ln.unit_price_fen) for ln in x1.lines] == [("A", 2, 4990), ("B", 1, 2000)]
    assert (x1.paid_total_fen, x1.paid_at) == (11980, datetime.fromisoformat("2026-11-25T20:01:02+08:00"))
    assert x3.paid_at == datetime.fromisoformat("2026-11-25T08:05:00+08:00")
    [error] = result.rejected
    assert error.row == 6 and error.column == "订单号" and "scientific notation" in error.reason
    assert _run(runtime, path).accepted == 2


def test_rows_of_one_order_that_are_not_adjacent_are_merged_or_reported(runtime, db, monkeypatch) -> None:
    make_catalog(db, skus={"A": 10, "B": 10})
    rows = [_generic_row("S-1", "A"), _generic_row("S-2", "A"), _generic_row("S-1", "B")]
    [s1, s2] = [m.order for m in _run(runtime, _csv(GENERIC_HEADER, rows), preview=10).preview]
    assert [ln.sku_code for ln in s1.lines] == ["A", "B"] and s2.platform_order_id == "S-2"
    monkeypatch.setattr(importer, "MERGE_WINDOW", 1)  # S-1 is sent before its last row is read
    result = _run(runtime, _csv(GENERIC_HEADER, rows), dry_run=True)
    assert result.orders == 2
    [late] = result.rejected
    assert late.row == 4 and "already taken from row 2" in late.reason and "adjacent" in late.reason


def test_a_named_template_is_used_and_a_file_matching_none_is_refused(runtime, db) -> None:
    make_catalog(db, skus={"A": 10})
    data = _csv(GENERIC_HEADER, [_generic_row("T-1")])
    assert _run(runtime, data, template="baodan", preview=1).template == "baodan"
    with pytest.raises(importer.UnknownTemplate):
        _run(runtime, data, template="nope")
    with pytest.raises(importer.UnknownFormat, match="missing column"):
        _run(runtime, data, template="pdd")
    with pytest.raises(importer.UnknownFormat, match="no header row"):
        _run(runtime, _csv(["日期", "金额"], [["2026-11-25", "1.00"]]))
    with pytest.raises(importer.TemplateChannelMismatch):  # a 拼多多 export for a 抖店 shop
        _run(runtime, FIXTURES / "pdd_orders_gbk.csv")


def test_unreadable_empty_and_wrongly_named_files_are_refused_before_anything_is_written(runtime, db) -> None:
    make_catalog(db, skus={"A": 10})
    with pytest.raises(importer.UnsupportedFileType):
        _run(runtime, b"a,b\n", filename="orders.pdf")
    with pytest.raises(importer.EmptyFile):
        _run(runtime, b"", filename="orders.csv")
    with pytest.raises(importer.Unreadable):
        _run(runtime, "订单号,数量\n".encode("utf-16"), filename="orders.csv")
    with pytest.raises(importer.Unreadable):
        _run(runtime, b"PK\x03\x04 not really a workbook", filename="orders.xlsx")
    with pytest.raises(importer.Unreadable):
        _run(runtime, b"\x81\x30\xff\xff\xfe" * 10, filename="orders.csv")
    with pytest.raises(UnknownShop):
        _run(runtime, FIXTURES / "baodan_orders_utf8bom.csv", shop="NOPE")
    assert runtime.inbox.pending(100) == 0


def test_a_gbk_file_without_preamble_and_crlf_is_read(runtime, db) -> None:
    make_catalog(db, skus={"A": 10})
    data = _csv(GENERIC_HEADER, [_generic_row("G-1", status="待发货")], encoding="gbk")
    result = _run(runtime, data)
    assert result.kind == "csv/gb18030" and result.accepted == 1
    assert importer.normalise_header("\ufeff`商品总价（元） ") == ("商品总价", "元")


def test_the_reader_streams_rows_and_holds_a_bounded_window_of_orders(runtime, db, monkeypatch) -> None:
    """A file is never read whole: rows come from a generator, and orders are yielded while later rows are
    still unread (the merge window bounds what is held)."""
    make_catalog(db, skus={"A": 10})
    source = importer.open_source(io.BytesIO(_csv(GENERIC_HEADER, [_generic_row("R-1")])), "orders.csv")
    assert inspect.isgenerator(source.rows)
    monkeypatch.setattr(importer, "MERGE_WINDOW", 10)
    pulled = itertools.count()

    def endless() -> Any:
        yield 1, GENERIC_HEADER
        for n in itertools.count(2):
            next(pulled)
            yield n, _generic_row(f"E-{n}")

    reader = importer.OrderReader(importer.Source(endless(), "csv", lambda: 0, None), shop="SHOP-A",
                                  channel="douyin")
    orders = reader.orders()
    taken = [next(orders).order.platform_order_id for _ in range(3)]
    assert taken == ["E-2", "E-3", "E-4"]
    assert next(pulled) <= 14  # 3 yielded + a window of 10 + the row that closed the last group
