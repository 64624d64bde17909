"""PDFs of shipping labels, pick lists and packing slips, compiled by typst from the templates beside this
module. Data reaches typst as JSON in `sys.inputs` (never spliced into markup), already masked, truncated
and formatted here; barcodes go in as SVG text.

Many labels: `render_labels` compiles `chunk_pages` labels per typst run and streams each run's pages into
one output PDF (pdfstream), so memory holds one chunk, not the whole job: 10,000 labels run in the same
memory as 500.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import typst

from baodan.core import clock
from baodan.core.money import fen_to_yuan
from baodan.documents import codes, model
from baodan.documents.errors import InvalidDocument, RenderFailed
from baodan.documents.fonts import cjk_fonts
from baodan.documents.model import LabelData, PackingSlipData, PageSize, PickListData
from baodan.documents.pdfstream import PdfConcatenator

CHUNK_PAGES = 500
TEMPLATES = Path(__file__).parent / "templates"
PICK_TITLE_COLUMNS = 56  # two lines of the title column at most


@dataclass(frozen=True, slots=True)
class _LabelLayout:
    """Heights of a label's rows (mm; they add up to the page less its margins) and its type sizes (pt)."""

    rows: dict[str, float]
    margin: float = 2
    base: float = 8.5
    small: float = 7
    carrier: float = 13
    sort: float = 26
    center: float = 10
    waybill: float = 13
    bar_h: float = 14
    tag: float = 7
    tag_text: float = 12
    name: float = 11
    address: float = 10.5
    item: float = 8.5
    qr: float = 22
    item_lines: int = 8
    item_columns: int = 44  # a CJK character takes two

    def inner_width(self, size: PageSize) -> float:
        return size.mm[0] - 2 * self.margin - 2 * 1.2  # less the rows' inset


_LAYOUTS = {
    PageSize.label_100x150: _LabelLayout(
        rows={"header": 9, "sort": 15, "bar": 24, "to": 26, "from": 17, "items": 44, "sign": 11}),
    PageSize.label_76x130: _LabelLayout(
        rows={"header": 8, "sort": 13, "bar": 20, "to": 23, "from": 15, "items": 36, "sign": 11},
        base=7.5, small=6, carrier=11, sort=20, center=8.5, waybill=11, bar_h=11.5, tag=6, tag_text=10,
        name=9.5, address=8.5, item=7.5, qr=17, item_lines=6, item_columns=34),
}


@dataclass(frozen=True, slots=True)
class LabelRun:
    pages: int
    chunks: int
    bytes_written: int


def render_label(label: LabelData, *, size: PageSize = PageSize.label_100x150) -> bytes:
    """One label as a one-page PDF."""
    return _compile("label", _labels_input([label], size))


def render_labels(labels: Iterable[LabelData], out: BinaryIO, *, size: PageSize = PageSize.label_100x150,
                  chunk_pages: int = CHUNK_PAGES) -> LabelRun:
    """All labels into `out` as one PDF, in the order given, `chunk_pages` per typst run. Memory stays
    that of one chunk whatever the count. Writes nothing and raises InvalidDocument for no labels."""
    if chunk_pages < 1:
        raise InvalidDocument("chunk_pages must be at least 1")
    writer = PdfConcatenator(out)
    chunks = 0
    for chunk in _batched(iter(labels), chunk_pages):
        writer.add(_compile("label", _labels_input(chunk, size), forget=True))
        chunks += 1
    if chunks == 0:
        raise InvalidDocument("no labels to print")
    written = writer.close()
    return LabelRun(pages=writer.pages, chunks=chunks, bytes_written=written)


def render_pick_list(data: PickListData) -> bytes:
    """A wave's pick list on A4: one row per location and SKU in walking order, totals at the top."""
    rows = model.pick_rows(data.lines)
    created = data.created_at or clock.utcnow()
    wave_bar = codes.code128(data.wave_no)
    payload = {
        "font": cjk_fonts().family, "mono": cjk_fonts().mono,
        "wave": data.wave_no, "warehouse": data.warehouse, "orders": data.orders, "note": data.note,
        "created": _shanghai(created), "bar": wave_bar.svg, "bar_w": round(wave_bar.modules * 0.3, 2),
        "skus": len({row.sku_code for row in rows}), "total": sum(row.qty for row in rows),
        "rows": [[row.location, row.sku_code, model.truncate(row.title, PICK_TITLE_COLUMNS), row.barcode,
                  str(row.qty)] for row in rows],
    }
    return _compile("pick_list", payload, timestamp=created)


def render_packing_slip(data: PackingSlipData, *, size: PageSize = PageSize.label_100x150) -> bytes:
    """A packing slip (发货单) for one parcel: order, lines with prices in yuan, the buyer's remark."""
    if size not in (*model.LABEL_SIZES, PageSize.a5):
        raise InvalidDocument(f"a packing slip prints on 100x150, 76x130 or a5, not {size}")
    printed = data.printed_at or clock.utcnow()
    receiver = model.printed_receiver(data.receiver, platform_encrypted=data.platform_encrypted)
    total = model.slip_total_fen(data)
    payload = {
        "font": cjk_fonts().family, "mono": cjk_fonts().mono, "w": size.mm[0], "h": size.mm[1],
        "order": data.order_no, "shop": data.shop, "waybill": data.waybill_no,
        "paid": _shanghai(data.paid_at) if data.paid_at else "", "printed": _shanghai(printed),
        "to": _party_json(receiver), "remark": data.buyer_remark,
        "lines": [[line.sku_code, line.title, line.spec, str(line.qty),
                   fen_to_yuan(line.unit_price_fen) if line.unit_price_fen is not None else ""]
                  for line in data.lines],
        "qty": sum(line.qty for line in data.lines),
        "total": fen_to_yuan(total) if total is not None else "",
    }
    return _compile("packing_slip", payload, timestamp=printed)


# ------------------------------------------------------------------------------------------ helpers


def _labels_input(labels: Iterable[LabelData], size: PageSize) -> dict[str, Any]:
    layout = _LAYOUTS.get(size)
    if layout is None:
        raise InvalidDocument(f"a label prints on 100x150 or 76x130, not {size}")
    fonts = cjk_fonts()
    now = clock.utcnow()
    return {
        "font": fonts.family, "mono": fonts.mono, "w": size.mm[0], "h": size.mm[1],
        "layout": {name: getattr(layout, name) for name in layout.__slots__},
        "labels": [_label_json(label, layout, size, now) for label in labels],
    }


def _label_json(label: LabelData, layout: _LabelLayout, size: PageSize, now: datetime) -> dict[str, Any]:
    if not label.waybill_no:
        raise InvalidDocument(f"order {label.order_no}: a label needs a waybill number")
    bar = codes.code128(label.waybill_no)
    receiver = model.printed_receiver(label.receiver, platform_encrypted=label.platform_encrypted)
    items = [model.truncate(f"{item.sku_code} ×{item.qty} {item.title}", layout.item_columns)
             for item in label.items]
    shown = items if len(items) <= layout.item_lines else items[: layout.item_lines - 1]
    hidden = label.items[len(shown):]
    more = (f"…另 {len(hidden)} 种 {sum(i.qty for i in hidden)} 件；共 {sum(i.qty for i in label.items)} 件"
            if hidden else "")
    return {
        "carrier": label.carrier, "waybill": label.waybill_no, "waybill_spaced": _spaced(label.waybill_no),
        "sort": label.sort_code, "center": label.package_center,
        "bar": bar.svg, "bar_w": round(bar.modules * codes.module_mm(bar.modules, layout.inner_width(size)), 3),
        "qr": codes.qr(label.qr_text or label.waybill_no).svg,
        "to": _party_json(receiver), "from": _party_json(model.printed_sender(label.sender)),
        "items": shown, "more": more, "order": label.order_no, "shop": label.shop,
        "time": _shanghai(label.printed_at or now),
    }


def _party_json(party: model.PrintedParty) -> dict[str, str]:
    return {"name": party.name, "phone": party.phone, "region": party.region, "address": party.address}


def _spaced(waybill: str) -> str:
    """7310 0012 3456 78: groups of four are easier to read out and type."""
    return " ".join(waybill[i:i + 4] for i in range(0, len(waybill), 4))


def _shanghai(moment: datetime) -> str:
    return clock.to_shanghai(moment).strftime("%Y-%m-%d %H:%M")


def _batched(items: Iterator[LabelData], size: int) -> Iterator[list[LabelData]]:
    while chunk := list(islice(items, size)):
        yield chunk


@functools.cache
def _compiler(template: str) -> typst.Compiler:
    # By path: typst-py 0.15.2 compiles a Compiler made from source bytes only once ("file not found").
    return typst.Compiler(input=str(TEMPLATES / f"{template}.typ"), root=str(TEMPLATES),
                          font_paths=cjk_fonts().fonts)


def _compile(template: str, payload: dict[str, Any], *, timestamp: datetime | None = None,
             forget: bool = False) -> bytes:
    """One typst run. `forget`: then drop what typst memoised for it (a chunk of labels), see below."""
    data = orjson.dumps(payload).decode()
    with _TYPST:
        try:
            pdf = _compiler(template).compile(format="pdf", sys_inputs={"data": data}, pdf_tags=False,
                                              timestamp=int((timestamp or clock.utcnow()).timestamp()))
        except typst.TypstError as exc:
            raise RenderFailed(f"typst could not compile the {template}: {exc.message}",
                               details={"diagnostic": exc.diagnostic, "hints": exc.hints}) from exc
        if forget:
            _forget()
    assert isinstance(pdf, bytes)
    return pdf


def _forget() -> None:
    """typst-py evicts memo entries unused for 10 compiles; a 500-label chunk leaves ~110 MB there, so
    memory would grow for 10 chunks (to ~1.2 GB) before levelling off. Ten compiles of an empty file
    (~1.5 ms each) age the chunk's entries out."""
    empty = _compiler("empty")
    for _ in range(_MEMO_MAX_AGE):
        empty.compile(format="svg")


_MEMO_MAX_AGE = 10  # typst-py calls comemo::evict(10) after each compile
_TYPST = threading.Lock()  # a Compiler is not reentrant (pyo3 &mut self); API threads may print at once
