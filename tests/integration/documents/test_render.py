"""Documents rendered by typst with the packaged CJK font, read back with pypdf."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from baodan.documents import bench, fonts, render
from baodan.documents.errors import FontsMissing, InvalidDocument
from baodan.documents.model import (
    LabelData,
    LabelItem,
    PackingSlipData,
    PageSize,
    Party,
    PickLine,
    PickListData,
    SlipLine,
)

MM = 72 / 25.4
RECEIVER = Party(name="王小明", phone="13812341234", province="浙江省", city="杭州市", district="西湖区",
                 address="文三路 398 号 东部软件园 3 号楼 1201 室")
SENDER = Party(name="爆单旗舰店", phone="0571-88886666", province="浙江省", city="杭州市", district="余杭区",
               address="仓前街道良睦路 1399 号")


def a_label(**changes: object) -> LabelData:
    fields: dict[str, object] = dict(
        waybill_no="73100012345678", carrier="中通快递", receiver=RECEIVER, sender=SENDER,
        order_no="BD20261202000123", shop="抖店·爆单旗舰店", sort_code="310-W01 07", package_center="杭州转运中心",
        items=(LabelItem("SKU-A001", "夏季新款冰丝防晒衣女 UPF50+ 透气薄款外套 浅蓝色 L 码", 2),),
        printed_at=datetime(2026, 12, 2, 10, 30, tzinfo=UTC))
    fields.update(changes)
    return LabelData(**fields)  # type: ignore[arg-type]


def text_of(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize("size", [PageSize.label_100x150, PageSize.label_76x130])
def test_label_prints_the_waybill_and_cjk_names_with_the_receivers_phone_masked(size):
    reader, text = text_of(render.render_label(a_label(), size=size))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((size.mm[0] * MM, size.mm[1] * MM), abs=0.01)
    assert "7310 0012 3456 78" in text  # the waybill number, in groups of four
    assert "138****1234" in text and "13812341234" not in text
    for shown in ("王小明", "爆单旗舰店", "中通快递", "310-W01 07", "杭州转运中心", "SKU-A001", "文三路 398 号",
                  "2026-12-02 18:30"):  # printed in Asia/Shanghai
        assert shown in text


def test_label_of_a_platform_encrypted_order_never_shows_the_receiver_in_clear():
    _, text = text_of(render.render_label(a_label(platform_encrypted=True)))
    assert "王**" in text and "138****1234" in text
    for clear in ("王小明", "13812341234", "东部软件园", "1201"):
        assert clear not in text
    assert "西湖区" in text  # the region stays


def test_label_with_many_items_lists_what_fits_and_counts_the_rest():
    items = tuple(LabelItem(f"SKU-{n:03d}", f"商品 {n}", 1) for n in range(12))
    _, text = text_of(render.render_label(a_label(items=items), size=PageSize.label_76x130))
    assert "SKU-004" in text and "SKU-005" not in text
    assert "另 7 种 7 件；共 12 件" in text


@pytest.mark.slow
def test_a_thousand_labels_make_one_pdf_of_a_thousand_pages():
    out = io.BytesIO()
    run = render.render_labels(bench.sample_labels(1000), out, chunk_pages=300)
    reader = PdfReader(out)
    assert run.pages == len(reader.pages) == 1000 and run.chunks == 4
    assert run.bytes_written == len(out.getvalue())
    first, last = list(bench.sample_labels(1000))[::999]
    assert first.order_no in reader.pages[0].extract_text()
    assert last.order_no in reader.pages[999].extract_text()


def test_no_labels_is_an_error_not_an_empty_pdf():
    with pytest.raises(InvalidDocument):
        render.render_labels([], io.BytesIO())


def test_a_label_prints_only_on_a_label_size():
    with pytest.raises(InvalidDocument):
        render.render_label(a_label(), size=PageSize.a4)


def test_pick_list_has_one_row_per_location_and_sku_in_walking_order():
    hot = [PickLine("A-10-01", "SKU-A001", "夏季新款冰丝防晒衣女", 1, "6901234567892")] * 3000
    data = PickListData(wave_no="W20261202-0007", warehouse="杭州一号仓", orders=3001, note="直播爆款",
                        lines=(*hot, PickLine("A-2-03", "SKU-B002", "纯棉短袜 5 双装", 1)),
                        created_at=datetime(2026, 12, 2, 3, 0, tzinfo=UTC))
    reader, text = text_of(render.render_pick_list(data))
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((210 * MM, 297 * MM), abs=0.01)
    assert "拣货单" in text and "W20261202-0007" in text and "杭州一号仓" in text
    assert "3000" in text and text.count("SKU-A001") == 1
    assert text.index("A-2-03") < text.index("A-10-01")
    assert "合计 3001 件" in text


def test_packing_slip_shows_lines_in_yuan_and_the_buyers_remark():
    data = PackingSlipData(
        order_no="BD20261202000123", shop="抖店·爆单旗舰店", receiver=RECEIVER, platform_encrypted=True,
        lines=(SlipLine("SKU-A001", "防晒衣", 2, "浅蓝色 L", 8900), SlipLine("SKU-B002", "纯棉短袜", 1, "", 1990)),
        buyer_remark="请不要放发票，谢谢", waybill_no="73100012345678")
    reader, text = text_of(render.render_packing_slip(data))
    assert float(reader.pages[0].mediabox.width) == pytest.approx(100 * MM, abs=0.01)
    for shown in ("发货单", "BD20261202000123", "89.00", "19.90", "197.90", "请不要放发票，谢谢", "王**",
                  "138****1234"):
        assert shown in text
    assert "13812341234" not in text and "王小明" not in text


def test_a_missing_font_names_the_command_that_installs_it(monkeypatch):
    monkeypatch.setattr(fonts, "PACKAGE", "no_such_font_package")
    monkeypatch.setattr(fonts, "SYSTEM_FONTS", False)
    fonts.cjk_fonts.cache_clear()
    try:
        with pytest.raises(FontsMissing) as raised:
            fonts.cjk_fonts()
        assert "make setup" in raised.value.message and "noto-cjk-sans-otc" in raised.value.message
        assert raised.value.code == "documents.fonts_missing"
    finally:
        fonts.cjk_fonts.cache_clear()


def test_the_packaged_font_is_the_one_used():
    found = fonts.cjk_fonts()
    assert found.family == "Noto Sans CJK SC"
    assert "noto-cjk-sans-otc" in found.source


def test_emoji_and_rare_characters_in_a_remark_do_not_stop_the_print():
    data = PackingSlipData(order_no="BD1", shop="店", receiver=Party(name="䶮 先生", phone="13812341234"),
                           lines=(SlipLine("S1", "𠀋 古籍复刻", 1),), buyer_remark="快点发货🙏🙏 谢谢")
    _, text = text_of(render.render_packing_slip(data, size=PageSize.a5))
    assert "快点发货" in text and "䶮" in text


def test_concatenated_pdf_has_a_true_cross_reference_table():
    from baodan.documents.pdfstream import PdfConcatenator

    out = io.BytesIO()
    writer = PdfConcatenator(out)
    for waybill in ("73100000000001", "73100000000002"):
        writer.add(render.render_label(a_label(waybill_no=waybill)))
    writer.close()
    data = out.getvalue()
    reader = PdfReader(io.BytesIO(data), strict=True)  # strict: a wrong xref offset raises
    assert len(reader.pages) == 2 and reader.metadata is not None and reader.metadata.producer == "BaoDan (typst)"
    for object_id, offset in reader.xref[0].items():
        assert data[offset:].startswith(b"%d 0 obj" % object_id)
    assert "7310 0000 0000 02" in reader.pages[1].extract_text()
