"""Spreadsheet order import: a merchant's CSV/xlsx order export → canonical orders → the inbox.

The file is streamed, never loaded whole: rows are read one at a time (csv module over an incremental
decoder; openpyxl in read-only mode), mapped through a column template (templates/*.toml, one per
export format, picked from the header row unless named), grouped into orders and handed to
`intake.services.accept_orders` in batches of at most 5,000 — the same inbox path as the API, so
importing a file twice counts its orders as duplicates and processes nothing twice.

Choices written down here, in one place:
- **Row numbers** are 1-based positions in the file as a spreadsheet shows them (comment and blank
  lines count; the header is usually row 1).
- **Rows of one order** (same order number) are lines of that order and are expected to be adjacent,
  as platform exports write them. Rows that are not adjacent are still merged while the earlier part of
  the order has not been sent to the inbox (a window of 5,000 orders); rows of an order already sent are
  rejected with a reason saying to sort the file. The importer remembers each order number it has sent
  (about 100 bytes an order) to notice that.
- **One bad row rejects its whole order** (its other rows are reported too): taking an order without a
  line would store a wrong order that a corrected re-import could not replace (same natural key).
- **updated_at** (part of the inbox's natural key) is the file's update time when it has one, else the
  latest of the times the row gives (completed, shipped, paid, created) — a re-export after the order
  shipped is then a newer state. A file with no time at all gets a value derived from the order's cells:
  2000-01-01 00:00 Asia/Shanghai plus a BLAKE2b digest of the cells in microseconds (within that day),
  so re-importing the same file is idempotent; such orders also take it as created/paid time, so they
  sort before live orders in first-paid-first-served. Add an 更新时间 column to change such an order.
  created_at falls back to the paid time (then updated_at); a paid order without a paid time uses its
  created time.
- **Money** is read as Decimal text (¥, thousands separators and a 元 suffix allowed) and turned into
  integer fen; a column whose header says （分） is read as fen. Never float. A line gross that does not
  divide by the quantity becomes the rounded-up unit price plus a line discount of the difference.
- Excel-mangled ids (6.92E+17) are refused: the digits are gone from the file.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import tomllib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError

from baodan.core.clock import SHANGHAI
from baodan.core.errors import BaoDanError
from baodan.identity.pii import PiiCipher, mask_receiver
from baodan.identity.scope import EVERYTHING, Scope
from baodan.intake import services as intake
from baodan.intake.errors import UnknownShop
from baodan.intake.inbox import Inbox
from baodan.orders.schemas import CanonicalOrder

BATCH_ORDERS = 5000  # orders per accept_orders call (its limit)
MERGE_WINDOW = 5000  # orders held back so that non-adjacent rows of one order can still be merged
HEADER_SCAN_ROWS = 30  # preamble (comment lines, titles) allowed above the header row
SUPPORTED = (".csv", ".txt", ".xlsx")
DERIVED_EPOCH = datetime(2000, 1, 1, tzinfo=SHANGHAI)


class ImportError_(BaoDanError):  # noqa: N801 - not the builtin ImportError
    code = "import.invalid"
    status = 422


class UnsupportedFileType(ImportError_):
    code = "import.unsupported_type"
    status = 415


class Unreadable(ImportError_):
    code = "import.unreadable"


class EmptyFile(ImportError_):
    code = "import.empty_file"


class UnknownFormat(ImportError_):
    code = "import.unknown_format"


class UnknownTemplate(ImportError_):
    code = "import.unknown_template"


class TemplateChannelMismatch(ImportError_):
    code = "import.channel_mismatch"


# ----------------------------------------------------------------------------------------- templates

ORDER_TEXT = ("buyer_nick", "live_room_id", "buyer_message", "seller_memo")
RECEIVER = {"receiver_name": "name", "receiver_phone": "phone", "province": "province", "city": "city",
            "district": "district", "town": "town", "address": "address"}
TIMES = ("created_at", "paid_at", "shipped_at", "completed_at", "updated_at")
ORDER_MONEY = ("goods_total", "shipping_fee", "order_discount", "paid_total")
LINE_MONEY = ("unit_price", "line_gross", "line_discount", "line_amount")
SUMMED = frozenset({"order_discount", "line_discount"})  # every column of these adds up (店铺优惠 + 平台优惠)
FIELDS = frozenset({"platform_order_id", "status", "platform_line_id", "platform_sku_id", "sku_code", "title",
                    "spec", "quantity", *ORDER_TEXT, *RECEIVER, *TIMES, *ORDER_MONEY, *LINE_MONEY})


@dataclass(frozen=True, slots=True)
class Template:
    """How one export format's columns map to canonical fields (loaded from templates/<name>.toml)."""

    name: str
    title: str
    channel: str | None
    money_unit: str  # "元" or "分" for money columns whose header names no unit
    order_amounts: str  # "repeat": order amounts repeat on each row; "line": each row holds its share
    default_status: str
    required: tuple[str, ...]
    fields: dict[str, tuple[str, ...]]  # canonical field → normalised header aliases, preferred first
    status_rules: tuple[tuple[str, str], ...]  # (text the cell contains, canonical status), in order


def load_templates() -> dict[str, Template]:
    """The built-in templates, platform exports first (auto-detection prefers them on a tie)."""
    found: dict[str, Template] = {}
    for entry in sorted(resources.files("baodan.intake").joinpath("templates").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            template = _template(tomllib.loads(entry.read_text(encoding="utf-8")))
            found[template.name] = template
    return dict(sorted(found.items(), key=lambda kv: (kv[1].channel is None, kv[0])))


def _template(data: dict[str, Any]) -> Template:
    unknown = set(data["fields"]) - FIELDS
    if unknown:  # a typo in a template must not silently drop a column
        raise ValueError(f"template {data['name']}: unknown field(s) {sorted(unknown)}")
    fields = {name: tuple(normalise_header(alias)[0] for alias in aliases) for name, aliases in data["fields"].items()}
    return Template(name=data["name"], title=data["title"], channel=data.get("channel"),
                    money_unit=data.get("money_unit", "元"), order_amounts=data.get("order_amounts", "repeat"),
                    default_status=data.get("default_status", "paid"), required=tuple(data["required"]),
                    fields=fields, status_rules=tuple((r["contains"], r["status"]) for r in data.get("status", [])))


# ------------------------------------------------------------------------------------- cell cleaning

_FULL_WIDTH = str.maketrans({"（": "(", "）": ")", "【": "[", "】": "]", "［": "[", "］": "]", "：": ":",
                             "\u3000": " ", "－": "-", "\ufeff": ""})
_UNIT = re.compile(r"[(\[]([+-]?)(元|分|件|个|单)[)\]]$")
_SPACES = re.compile(r"\s+")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
_NULLS = frozenset({"", "-", "--", "—", "/", "null", "none", "nan", "无"})
_PADDING = " \t\r\n\u3000\ufeff"


def clean_cell(value: str) -> str:
    """A cell as the merchant meant it: without the wrappers exports add to stop Excel mangling long
    numbers (="…", a leading backtick, tab padding), the BOM and surrounding spaces."""
    text = value.strip(_PADDING)
    if text and text[0] in "=`'":
        if text.startswith('="') and text.endswith('"'):
            text = text[2:-1]
        text = text.lstrip("`'").strip(_PADDING)
    return text


def normalise_header(value: str) -> tuple[str, str | None]:
    """(key, unit): full-width brackets, spaces and a leading * dropped, English lower-cased; a trailing
    unit such as （元） or (分) (or an English `_fen`/`_yuan` suffix) becomes the unit."""
    text = _SPACES.sub("", clean_cell(value).translate(_FULL_WIDTH)).lstrip("*").lower()
    unit = None
    match = _UNIT.search(text)
    if match:
        unit, text = match.group(2), text[:match.start()]
    elif text.endswith("_fen"):
        unit, text = "分", text[:-4]
    elif text.endswith("_yuan"):
        unit, text = "元", text[:-5]
    if text.endswith("(元"):  # a bracket the exporter never closed
        unit, text = "元", text[:-2]
    return text, unit


TEMPLATES = load_templates()


# ------------------------------------------------------------------------------------------ reading


@dataclass(slots=True)
class Source:
    """The rows of a file, streamed: (row number, cells as text). `position()` / `total` drive progress
    (bytes for CSV, rows for xlsx when the sheet declares its size)."""

    rows: Iterator[tuple[int, list[str]]]
    kind: str
    position: Callable[[], int]
    total: int | None


def open_source(stream: BinaryIO, filename: str) -> Source:
    """Open a CSV (UTF-8 with or without BOM, GBK/GB18030 detected) or xlsx file for streaming.
    `stream` must be seekable. Raises UnsupportedFileType, EmptyFile or Unreadable."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUPPORTED:
        raise UnsupportedFileType(f"{filename}: a {suffix or 'file without extension'} file cannot be imported; "
                                  "send .csv or .xlsx", details={"filename": filename, "supported": list(SUPPORTED)})
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size == 0:
        raise EmptyFile(f"{filename} is empty", details={"filename": filename})
    if suffix == ".xlsx":
        return _xlsx_source(stream, filename)
    return _csv_source(stream, filename, size)


def _csv_source(stream: BinaryIO, filename: str, size: int) -> Source:
    head = stream.read(1 << 16)
    stream.seek(0)
    if head.startswith(b"PK\x03\x04") or b"\x00" in head:
        raise Unreadable(f"{filename}: not a text CSV (it looks like a binary or xlsx file)",
                         details={"filename": filename})
    encoding = _detect_encoding(head)
    if encoding is None:
        raise Unreadable(f"{filename}: the text is neither UTF-8 nor GBK/GB18030", details={"filename": filename})
    return Source(rows=_csv_rows(stream, filename, encoding), kind=f"csv/{encoding}", position=stream.tell,
                  total=size)


def _detect_encoding(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):  # GB18030 is a superset of GBK and GB2312
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _csv_rows(stream: BinaryIO, filename: str, encoding: str) -> Iterator[tuple[int, list[str]]]:
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    reader = csv.reader(text)
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):  # noqa: B007 - read after the loop on an error
            yield number, cells
    except UnicodeDecodeError as exc:
        raise Unreadable(f"{filename}: after row {number}, bytes that are not {encoding} ({exc.reason})",
                         details={"filename": filename, "row": number + 1}) from exc
    except csv.Error as exc:
        raise Unreadable(f"{filename}: row {number + 1}: {exc}", details={"filename": filename,
                                                                          "row": number + 1}) from exc
    finally:
        if not text.closed:  # hand the stream back to its owner rather than close it
            text.detach()


def _xlsx_source(stream: BinaryIO, filename: str) -> Source:
    import openpyxl  # imported here: only imports of xlsx files pay for it

    try:
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
        sheet = book.worksheets[0]
    except Exception as exc:  # whatever openpyxl trips on, the file is not a workbook it can read
        raise Unreadable(f"{filename}: not a readable xlsx workbook ({exc.__class__.__name__}: {exc})",
                         details={"filename": filename}) from exc
    seen = [0]

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                seen[0] = number
                yield number, [_xlsx_text(v) for v in values]
        except Exception as exc:  # a workbook that breaks off part-way
            raise Unreadable(f"{filename}: sheet {sheet.title!r} breaks off after row {seen[0]} ({exc})",
                             details={"filename": filename, "row": seen[0] + 1}) from exc
        finally:
            book.close()

    total = sheet.max_row if isinstance(sheet.max_row, int) and sheet.max_row > 1 else None
    return Source(rows=rows(), kind="xlsx", position=lambda: seen[0], total=total)


def _xlsx_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int):  # bool too: "True"
        return str(value)
    if isinstance(value, float):  # shortest repr round-trips the decimal the cell shows; no arithmetic
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


# ------------------------------------------------------------------------------------------ mapping


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


class _RowProblem(Exception):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Column:
    index: int
    header: str
    unit: str | None


@dataclass(slots=True)
class _Row:
    number: int
    order_no: str
    values: dict[str, Any]  # parsed field values (None when empty)
    cells: tuple[str, ...]  # the cleaned cells of mapped columns (for the derived updated_at)
    problem: RowError | None = None


@dataclass(slots=True)
class _Group:
    order_no: str
    rows: list[_Row] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MappedOrder:
    order: CanonicalOrder
    rows: tuple[int, ...]  # the file rows it came from


class Mapping:
    """A template bound to one file's header row: which column feeds which field."""

    def __init__(self, template: Template, header: Sequence[str], header_row: int) -> None:
        self.template = template
        self.header_row = header_row
        normalised = [normalise_header(h) for h in header]
        self.columns: dict[str, list[_Column]] = {}
        for name, aliases in template.fields.items():
            bound = [_Column(i, clean_cell(header[i]), unit) for alias in aliases
                     for i, (key, unit) in enumerate(normalised) if key == alias]
            if bound:
                self.columns[name] = bound if name in SUMMED else _unique(bound)
        self._plan = [(name, tuple(c.index for c in cols), self._converter(name, cols))
                      for name, cols in self.columns.items()]

    @property
    def missing(self) -> list[str]:
        return [name for name in self.template.required if name not in self.columns]

    @property
    def score(self) -> int:
        return sum(len(cols) for cols in self.columns.values())

    def header_of(self, name: str) -> str:
        cols = self.columns.get(name)
        if cols:
            return cols[0].header
        aliases = self.template.fields.get(name, ())
        return aliases[0] if aliases else name

    def parse(self, number: int, cells: Sequence[str]) -> _Row:
        """One data row → parsed values; a problem is recorded on the row, never raised."""
        values: dict[str, Any] = {}
        kept: list[str] = []
        width = len(cells)
        name = ""
        try:
            for name, indexes, convert in self._plan:
                if len(indexes) == 1:  # the usual case, kept fast: a 100,000-row file passes here 2.6M times
                    i = indexes[0]
                    text = clean_cell(cells[i]) if i < width else ""
                    kept.append(text)
                    values[name] = convert(text, 0) if convert is not None else (text or None)
                    continue
                texts = [clean_cell(cells[i]) if i < width else "" for i in indexes]
                kept.extend(texts)
                if name in SUMMED:
                    present = [a for k, t in enumerate(texts) if (a := convert(t, k)) is not None]
                    values[name] = sum(present) if present else None
                else:
                    k, text = next(((k, t) for k, t in enumerate(texts) if t), (0, ""))
                    values[name] = convert(text, k) if convert is not None else (text or None)
        except _RowProblem as problem:
            return _Row(number, values.get("platform_order_id") or "", values, (),
                        RowError(number, self.header_of(problem.field), problem.reason))
        order_no = values.get("platform_order_id") or ""
        row = _Row(number, order_no, values, tuple(kept))
        if not order_no:
            row.problem = RowError(number, self.header_of("platform_order_id"), "the order number is empty")
        elif values.get("quantity") is None:
            row.problem = RowError(number, self.header_of("quantity"), "the quantity is empty")
        elif not (values.get("sku_code") or values.get("platform_sku_id")):
            row.problem = RowError(number, self.header_of("sku_code" if "sku_code" in self.columns
                                                          else "platform_sku_id"),
                                   "no SKU: the row names neither a merchant code (商家编码) nor a platform SKU id")
        return row

    def _converter(self, name: str, cols: list[_Column]) -> Callable[[str, int], Any] | None:
        """text, column position → value, for one field; None for plain text."""
        if name in ORDER_MONEY or name in LINE_MONEY:
            units = [c.unit or self.template.money_unit for c in cols]
            return lambda text, k: _money(name, text, units[k])
        if name in TIMES:
            return lambda text, _k: _time(name, text)
        if name == "quantity":
            return lambda text, _k: _quantity(text)
        if name == "status":
            return lambda text, _k: self._status(text)
        if name == "platform_order_id":
            return lambda text, _k: _order_number(text)
        return None

    def _status(self, text: str) -> str:
        if not text:
            return self.template.default_status
        lowered = text.lower()
        if lowered in ("unpaid", "paid", "shipped", "completed", "cancelled", "refunded"):
            return lowered
        for contains, status in self.template.status_rules:
            if contains in text:
                return status
        raise _RowProblem("status", f"unknown order status {text!r}")


def _unique(cols: list[_Column]) -> list[_Column]:
    seen: set[int] = set()
    return [c for c in cols if not (c.index in seen or seen.add(c.index))]


def _order_number(text: str) -> str | None:
    if _SCIENTIFIC.match(text):
        raise _RowProblem("platform_order_id", f"{text!r} is a number Excel shortened to scientific notation: the "
                                               "order number's digits are lost; export the column as text")
    return text or None


def _money(name: str, text: str, unit: str) -> int | None:
    if text.lower() in _NULLS:
        return None
    raw = text.replace(",", "").replace("¥", "").replace("￥", "").strip()
    if raw.endswith("元"):
        raw, unit = raw[:-1].strip(), "元"
    elif raw.endswith("分"):
        raw, unit = raw[:-1].strip(), "分"
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise _RowProblem(name, f"{text!r} is not an amount") from None
    if not amount.is_finite():
        raise _RowProblem(name, f"{text!r} is not an amount")
    if amount < 0:
        raise _RowProblem(name, f"negative amount {text!r}")
    fen = amount if unit == "分" else amount * 100
    if fen != fen.to_integral_value():
        raise _RowProblem(name, f"{text!r} has more than two decimals" if unit != "分"
                          else f"{text!r} is not a whole number of fen")
    return int(fen)


def _quantity(text: str) -> int | None:
    if not text:
        return None
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise _RowProblem("quantity", f"{text!r} is not a quantity") from None
    if not value.is_finite() or value != value.to_integral_value() or value <= 0:
        raise _RowProblem("quantity", f"{text!r} is not a whole number above 0")
    return int(value)


_TIME = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,6}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$")


def _time(name: str, text: str) -> datetime | None:
    if text.lower() in _NULLS or text.startswith("0000") or text.startswith("1970-01-01"):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        match = _TIME.match(text)
        if not match:
            raise _RowProblem(name, f"{text!r} is not a date and time (2026-11-25 20:15:03)") from None
        y, mo, d, h, mi, s, frac, zone = match.groups()
        stamp = (f"{y}-{int(mo):02d}-{int(d):02d}T{int(h or 0):02d}:{int(mi or 0):02d}:{int(s or 0):02d}"
                 + (f".{frac.ljust(6, '0')}" if frac else "") + (zone or ""))
        try:
            value = datetime.fromisoformat(stamp)
        except ValueError:
            raise _RowProblem(name, f"{text!r} is not a valid date and time") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=SHANGHAI)


def _derived_time(rows: Sequence[_Row]) -> datetime:
    digest = hashlib.blake2b(digest_size=8)
    for row in rows:
        digest.update("\x1f".join(row.cells).encode("utf-8"))
        digest.update(b"\x1e")
    return DERIVED_EPOCH + timedelta(microseconds=int.from_bytes(digest.digest(), "big") % 86_400_000_000)


def _build(mapping: Mapping, group: _Group, *, shop: str, channel: str) -> CanonicalOrder:
    """The canonical order of one group of rows; raises _RowProblem naming the field at fault."""
    rows = group.rows
    first = rows[0].values
    per_line = mapping.template.order_amounts == "line"

    def order_money(name: str) -> int | None:
        if not per_line:
            return first.get(name)
        present = [r.values[name] for r in rows if r.values.get(name) is not None]
        return sum(present) if present else None

    lines = [_line(row.values) for row in rows]
    goods = order_money("goods_total")
    goods = sum(line["amount_fen"] for line in lines) if goods is None else goods
    shipping = order_money("shipping_fee") or 0
    discount = order_money("order_discount") or 0
    paid_total = order_money("paid_total")
    if paid_total is None:
        paid_total = goods + shipping - discount
        if paid_total < 0:
            raise _RowProblem("order_discount", f"the discount ({discount} fen) is larger than goods plus shipping")
    times = {name: first.get(name) for name in TIMES}
    present = [t for t in times.values() if t is not None]
    if present:
        updated = times["updated_at"] or max(present)
        created = times["created_at"] or times["paid_at"] or updated
    else:
        updated = created = _derived_time(rows)
    status = first.get("status") or mapping.template.default_status
    paid = times["paid_at"]
    if paid is None and status not in ("unpaid", "cancelled"):
        paid = created
    receiver = {key: first.get(name) for name, key in RECEIVER.items()}
    body: dict[str, Any] = {
        "channel": channel, "shop": shop, "platform_order_id": group.order_no, "status": status,
        "updated_at": updated, "created_at": created, "paid_at": paid,
        "receiver": receiver if any(receiver.values()) else None, "lines": lines,
        "goods_total_fen": goods, "shipping_fee_fen": shipping, "discount_fen": discount, "paid_total_fen": paid_total,
        **{name: first.get(name) for name in ORDER_TEXT}}
    return CanonicalOrder.model_validate(body)


def _line(values: dict[str, Any]) -> dict[str, Any]:
    quantity: int = values["quantity"]
    unit, gross, amount = values.get("unit_price"), values.get("line_gross"), values.get("line_amount")
    discount = values.get("line_discount") or 0
    if unit is None:
        if gross is None and amount is not None:
            gross = amount + discount
        if gross is None:
            raise _RowProblem("unit_price", "no price: the row gives neither a unit price nor a line amount")
        unit = -(-gross // quantity)  # rounded up; the difference becomes a line discount
        discount += unit * quantity - gross
    if amount is None:
        amount = unit * quantity - discount
        if amount < 0:
            raise _RowProblem("line_discount", "the line discount is larger than quantity × unit price")
    title = values.get("title")
    if values.get("spec"):
        title = f"{title} {values['spec']}" if title else values["spec"]
    return {"platform_line_id": values.get("platform_line_id"), "platform_sku_id": values.get("platform_sku_id"),
            "sku_code": values.get("sku_code"), "title": title[:300] if title else None, "quantity": quantity,
            "unit_price_fen": unit, "discount_fen": discount, "amount_fen": amount}


_PYDANTIC_FIELD = {"platform_order_id": "platform_order_id", "status": "status", "updated_at": "updated_at",
                   "created_at": "created_at", "paid_at": "paid_at", "buyer_nick": "buyer_nick",
                   "goods_total_fen": "goods_total", "shipping_fee_fen": "shipping_fee",
                   "discount_fen": "order_discount", "paid_total_fen": "paid_total", "live_room_id": "live_room_id",
                   "buyer_message": "buyer_message", "seller_memo": "seller_memo"}
_PYDANTIC_LINE = {"platform_line_id": "platform_line_id", "platform_sku_id": "platform_sku_id",
                  "sku_code": "sku_code", "title": "title", "quantity": "quantity", "unit_price_fen": "unit_price",
                  "discount_fen": "line_discount", "amount_fen": "line_amount"}


def _validation_errors(mapping: Mapping, group: _Group, exc: ValidationError) -> list[RowError]:
    """Pydantic's complaints about an assembled order, pinned to a row and a column where possible."""
    found: list[RowError] = []
    for err in exc.errors():
        loc = err["loc"]
        row, name = group.rows[0].number, None
        if loc and loc[0] == "lines" and len(loc) >= 2 and isinstance(loc[1], int):
            row = group.rows[min(loc[1], len(group.rows) - 1)].number
            name = _PYDANTIC_LINE.get(str(loc[2])) if len(loc) > 2 else None
        elif loc and loc[0] == "receiver" and len(loc) > 1:
            name = next((k for k, v in RECEIVER.items() if v == loc[1]), None)
        elif loc:
            name = _PYDANTIC_FIELD.get(str(loc[0]))
        message = err["msg"].removeprefix("Value error, ")
        found.append(RowError(row, mapping.header_of(name) if name else "", message))
    return found


# ------------------------------------------------------------------------------------------ reading orders


def _skipped(cells: Sequence[str]) -> bool:
    """A blank row or a comment line (# …): neither a header nor data."""
    return not any(c.strip() for c in cells) or cells[0].lstrip("\ufeff \t").startswith("#")


class OrderReader:
    """Streams a file's rows as canonical orders; `errors` fills as it goes. Finds the header row among
    the first rows (skipping comment/title lines) and the template: the named one, or the built-in
    template matching that row best."""

    def __init__(self, source: Source, *, shop: str, channel: str, template: str | None = None,
                 filename: str = "the file") -> None:
        self.source = source
        self.shop, self.channel, self.filename = shop, channel, filename
        self.errors: list[RowError] = []
        self.rows_read = 0  # data rows (below the header, not blank)
        if template is not None and template not in TEMPLATES:
            raise UnknownTemplate(f"no template {template!r}; built-in: {', '.join(TEMPLATES)}",
                                  details={"templates": list(TEMPLATES)})
        self.mapping = self._find_header([TEMPLATES[template]] if template else list(TEMPLATES.values()))
        wanted = self.mapping.template.channel
        if wanted is not None and wanted != channel:
            raise TemplateChannelMismatch(
                f"{filename} is a {self.mapping.template.title} file, but shop {shop!r} sells on {channel}",
                details={"template": self.mapping.template.name, "shop": shop, "channel": channel})

    @property
    def template(self) -> Template:
        return self.mapping.template

    def _find_header(self, candidates: list[Template]) -> Mapping:
        best: Mapping | None = None
        closest: tuple[int, Mapping] | None = None
        for number, cells in self.source.rows:
            if number > HEADER_SCAN_ROWS:
                break
            if _skipped(cells):
                continue
            for template in candidates:
                mapping = Mapping(template, cells, number)
                if not mapping.missing and (best is None or mapping.score > best.score):
                    best = mapping
                elif closest is None or mapping.score > closest[0]:
                    closest = (mapping.score, mapping)
            if best is not None:
                return best
        if closest is not None and len(candidates) == 1:
            t = closest[1]
            raise UnknownFormat(f"{self.filename}: no header row for template {t.template.name!r} in the first "
                                f"{HEADER_SCAN_ROWS} rows; missing column(s): "
                                + ", ".join(t.header_of(name) for name in t.missing),
                                details={"template": t.template.name, "missing": [t.header_of(n) for n in t.missing]})
        if closest is None:
            raise EmptyFile(f"{self.filename} has no rows", details={"filename": self.filename})
        raise UnknownFormat(f"{self.filename}: no header row in the first {HEADER_SCAN_ROWS} rows matches a "
                            f"template ({', '.join(TEMPLATES)}); name one with --template/?template=",
                            details={"templates": list(TEMPLATES)})

    def orders(self, *, limit_rows: int | None = None) -> Iterator[MappedOrder]:
        """Valid orders in file order (give or take non-adjacent merges); stops after `limit_rows` data
        rows (then finishes the order in hand)."""
        window: OrderedDict[str, _Group] = OrderedDict()
        sent: dict[str, int] = {}  # order number → its first row, for orders already yielded
        current: _Group | None = None
        for number, cells in self.source.rows:
            if _skipped(cells):
                continue
            row = self.mapping.parse(number, cells)
            if limit_rows is not None and self.rows_read >= limit_rows and (
                    current is None or row.order_no != current.order_no):
                break  # the preview ends with the order in hand complete
            self.rows_read += 1
            if current is None or row.order_no != current.order_no or not row.order_no:
                if current is not None:
                    yield from self._park(window, sent, current)
                current = _Group(row.order_no)
            current.rows.append(row)
        if current is not None:
            yield from self._park(window, sent, current)
        while window:
            yield from self._emit(sent, window.popitem(last=False)[1])

    def _park(self, window: OrderedDict[str, _Group], sent: dict[str, int], group: _Group) -> Iterator[MappedOrder]:
        key = group.order_no
        if not key:
            self._reject(group)
            return
        if key in sent:
            first = sent[key]
            for row in group.rows:
                self.errors.append(row.problem or RowError(
                    row.number, self.mapping.header_of("platform_order_id"),
                    f"order {key} was already taken from row {first}: rows of one order must be adjacent "
                    "(sort the file by order number and import it again)"))
            return
        if key in window:  # non-adjacent rows of an order not yet sent: merge them
            window[key].rows.extend(group.rows)
            return
        window[key] = group
        if len(window) > MERGE_WINDOW:
            yield from self._emit(sent, window.popitem(last=False)[1])

    def _emit(self, sent: dict[str, int], group: _Group) -> Iterator[MappedOrder]:
        sent[group.order_no] = group.rows[0].number
        if any(row.problem for row in group.rows):
            self._reject(group)
            return
        try:
            order = _build(self.mapping, group, shop=self.shop, channel=self.channel)
        except _RowProblem as problem:
            self._reject(group, [RowError(group.rows[0].number, self.mapping.header_of(problem.field),
                                          problem.reason)])
            return
        except ValidationError as exc:
            self._reject(group, _validation_errors(self.mapping, group, exc))
            return
        yield MappedOrder(order, tuple(r.number for r in group.rows))

    def _reject(self, group: _Group, found: list[RowError] | None = None) -> None:
        """Report every row of a rejected order: the faulty ones with their reason, the others as taken
        down with them."""
        found = list(found or [])
        for row in group.rows:
            if row.problem is not None:
                found.append(row.problem)
        faulty = {e.row for e in found}
        first_fault = min(faulty) if faulty else group.rows[0].number
        for row in group.rows:
            if row.number not in faulty:
                found.append(RowError(row.number, self.mapping.header_of("platform_order_id"),
                                      f"order {group.order_no} is not taken: row {first_fault} of it has an error"))
        self.errors.extend(sorted(found, key=lambda e: e.row))


# ------------------------------------------------------------------------------------------ use cases


@dataclass(slots=True)
class ImportResult:
    filename: str
    template: str
    kind: str
    rows: int = 0  # data rows read
    orders: int = 0  # valid orders (sent to the inbox unless dry run/preview)
    accepted: int = 0
    duplicates: int = 0
    rejected: list[RowError] = field(default_factory=list)
    preview: list[MappedOrder] = field(default_factory=list)
    dry_run: bool = False


def resolve_shop(shops: intake.ShopDirectory, code: str, *, scope: Scope = EVERYTHING) -> str:
    """The channel the shop sells on; another's shop is no shop at all to this caller (UnknownShop)."""
    found = shops.lookup(code)
    if found is None or not scope.has_shop(found[0]):
        raise UnknownShop(f"no active shop with code {code!r}", details={"shop": code})
    return found[1]


def import_orders(stream: BinaryIO, *, filename: str, shop: str, inbox: Inbox | None,
                  shops: intake.ShopDirectory, pii: PiiCipher, scope: Scope = EVERYTHING,
                  template: str | None = None, preview: int | None = None, dry_run: bool = False,
                  batch_size: int = BATCH_ORDERS,
                  progress: Callable[[int, int | None], None] | None = None) -> ImportResult:
    """Import the orders of a spreadsheet export into the inbox, streaming it in batches of at most
    `batch_size` orders. Idempotent (the inbox's natural key): importing the same file again counts
    every order as a duplicate. Rows that cannot be taken are reported in `rejected` (row, column,
    reason); the valid orders still go in. `preview=N` maps the first N data rows and writes nothing;
    so does `dry_run` (for the whole file). `progress(position, total)` is called now and then.
    Raises UnknownShop before reading, and the file-level errors of this module before writing."""
    channel = resolve_shop(shops, shop, scope=scope)
    source = open_source(stream, filename)
    reader = OrderReader(source, shop=shop, channel=channel, template=template, filename=filename)
    result = ImportResult(filename=filename, template=reader.template.name, kind=source.kind,
                          dry_run=dry_run or preview is not None)
    batch: list[CanonicalOrder] = []
    if progress is not None:
        progress(source.position(), source.total)

    def flush() -> None:
        if batch and not result.dry_run:
            assert inbox is not None
            appended = intake.accept_orders(inbox, shops, batch, pii=pii, scope=scope,
                                            max_orders=batch_size)
            result.accepted += appended.accepted
            result.duplicates += appended.duplicates
        batch.clear()

    for count, mapped in enumerate(reader.orders(limit_rows=preview), start=1):
        result.orders += 1
        if preview is not None:
            result.preview.append(mapped)
            continue
        batch.append(mapped.order)
        if len(batch) >= batch_size:
            flush()
        if progress is not None and count % 500 == 0:
            progress(source.position(), source.total)
    flush()
    if progress is not None:
        progress(source.total or source.position(), source.total)
    result.rows = reader.rows_read
    result.rejected = sorted(reader.errors, key=lambda e: e.row)
    return result


def preview_rows(mapped: Iterable[MappedOrder]) -> list[dict[str, Any]]:
    """One flat dict per line of the previewed orders, the receiver masked (for tables and answers)."""
    out: list[dict[str, Any]] = []
    for item in mapped:
        order = item.order
        shown = mask_receiver(order.receiver.model_dump()) if order.receiver is not None else None
        receiver = None if shown is None else " ".join(
            shown[k] for k in ("name", "phone", "province", "city", "district", "address") if shown.get(k))
        for row, line in zip(item.rows, order.lines, strict=False):
            out.append({
                "row": row, "platform_order_id": order.platform_order_id, "status": order.status.value,
                "paid_at": order.paid_at.isoformat() if order.paid_at else None,
                "updated_at": order.updated_at.isoformat(), "sku_code": line.sku_code,
                "platform_sku_id": line.platform_sku_id, "title": line.title, "quantity": line.quantity,
                "unit_price_fen": line.unit_price_fen, "amount_fen": line.amount_fen,
                "paid_total_fen": order.paid_total_fen,
                "receiver": receiver})
    return out


def masked_order(order: CanonicalOrder) -> dict[str, Any]:
    """A previewed order as JSON, the receiver's name, phone and address masked."""
    body = order.model_dump(mode="json")
    if body.get("receiver"):
        body["receiver"] = mask_receiver(body["receiver"])  # as every answer shows it: no ciphertext either
    return body


def write_error_report(errors: Iterable[RowError], path: Path) -> None:
    """The error report as CSV (UTF-8 with BOM, so Excel opens it with the Chinese intact)."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["row", "column", "reason"])
        for e in errors:
            writer.writerow([e.row, e.column, e.reason])
