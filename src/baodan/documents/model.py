"""What a shipping label, a pick list and a packing slip say: plain values the fulfilment code fills (no
database access here), and the rules for what may be printed (masking, truncation, pick order)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from baodan.identity import pii


class PageSize(StrEnum):
    """Paper the documents print on, by its name in the print dialog (width × height, mm)."""

    label_100x150 = "100x150"  # 二联单 size, the common thermal roll
    label_76x130 = "76x130"  # 一联单, the 菜鸟/拼多多/抖音 standard template size
    a4 = "a4"
    a5 = "a5"

    @property
    def mm(self) -> tuple[int, int]:
        return _SIZES_MM[self]


_SIZES_MM = {PageSize.label_100x150: (100, 150), PageSize.label_76x130: (76, 130), PageSize.a4: (210, 297),
             PageSize.a5: (148, 210)}
LABEL_SIZES = (PageSize.label_100x150, PageSize.label_76x130)


@dataclass(frozen=True, slots=True)
class Party:
    """A sender or receiver as the order gives it; the region prints in clear, the rest per the rules below."""

    name: str
    phone: str | None = None
    province: str = ""
    city: str = ""
    district: str = ""
    town: str = ""
    address: str = ""  # the street address below the region


@dataclass(frozen=True, slots=True)
class LabelItem:
    sku_code: str
    title: str
    qty: int


@dataclass(frozen=True, slots=True)
class LabelData:
    """One parcel's shipping label (电子面单, self-drawn). `platform_encrypted`: the platform gave the receiver
    encrypted (淘宝 oaid, 拼多多/抖店 ciphertexts), so only a masked receiver may ever be printed."""

    waybill_no: str
    carrier: str  # as printed: 中通快递
    receiver: Party
    sender: Party
    order_no: str
    shop: str
    items: tuple[LabelItem, ...] = ()
    sort_code: str = ""  # 大头笔 / 三段码
    package_center: str = ""  # 集包地
    platform_encrypted: bool = False
    qr_text: str | None = None  # default: the waybill number
    printed_at: datetime | None = None  # aware; default: now. Shown in Asia/Shanghai


@dataclass(frozen=True, slots=True)
class PickLine:
    location: str  # 库位, e.g. A-01-02
    sku_code: str
    title: str
    qty: int
    barcode: str = ""  # the SKU's barcode (EAN/UPC or own), printed as text


@dataclass(frozen=True, slots=True)
class PickListData:
    wave_no: str
    warehouse: str
    lines: tuple[PickLine, ...]
    orders: int  # parcels in the wave
    created_at: datetime | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class SlipLine:
    sku_code: str
    title: str
    qty: int
    spec: str = ""  # 规格: 颜色/尺码
    unit_price_fen: int | None = None


@dataclass(frozen=True, slots=True)
class PackingSlipData:
    order_no: str
    shop: str
    receiver: Party
    lines: tuple[SlipLine, ...]
    buyer_remark: str = ""
    platform_encrypted: bool = False
    waybill_no: str = ""
    paid_at: datetime | None = None
    paid_fen: int | None = None  # what the buyer paid; default: the sum of the lines when all have a price
    printed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PrintedParty:
    """A party as it may appear on paper."""

    name: str
    phone: str
    region: str
    address: str


# ------------------------------------------------------------------------------------------------ rules


def printed_receiver(receiver: Party, *, platform_encrypted: bool) -> PrintedParty:
    """The receiver as a label or slip may show it. The phone is always masked (138****1234, as on the
    platforms' privacy labels); for a platform-encrypted order the name and street address are masked too,
    whatever the caller passed, so a self-drawn label never shows that receiver in clear."""
    name, address = receiver.name, receiver.address
    if platform_encrypted:
        name = _keep_masked(name, pii.mask_name)
        address = _keep_masked(address, pii.mask_address)
    return PrintedParty(name=name or "", phone=_keep_masked(receiver.phone, pii.mask_phone) or "",
                        region=region_text(receiver), address=address or "")


def printed_sender(sender: Party) -> PrintedParty:
    """The shop's own return address, printed as given (it is the merchant's, not a buyer's)."""
    return PrintedParty(name=sender.name, phone=sender.phone or "", region=region_text(sender),
                        address=sender.address)


def region_text(party: Party) -> str:
    parts = [party.province, party.city, party.district, party.town]
    shown: list[str] = []
    for part in parts:  # 直辖市: 上海市 上海市 → once
        if part and (not shown or shown[-1] != part):
            shown.append(part)
    return " ".join(shown)


def truncate(text: str, width: int) -> str:
    """At most `width` columns (a CJK character takes two), ending in … (two columns) when cut."""
    text = " ".join(text.split())
    if sum(map(char_width, text)) <= width:
        return text
    kept, used = [], 0
    for char in text:
        used += char_width(char)
        if used > width - 2:
            break
        kept.append(char)
    return "".join(kept).rstrip() + "…"


def char_width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def pick_rows(lines: Iterable[PickLine]) -> list[PickLine]:
    """One row per (location, SKU), quantities summed: a hot wave of one SKU is a single row with the total.
    Rows in walking order: locations compared part by part, numbers as numbers (A-2 before A-10)."""
    merged: dict[tuple[str, str], PickLine] = {}
    for line in lines:
        key = (line.location, line.sku_code)
        seen = merged.get(key)
        merged[key] = line if seen is None else PickLine(
            location=seen.location, sku_code=seen.sku_code, title=seen.title, qty=seen.qty + line.qty,
            barcode=seen.barcode or line.barcode)
    return sorted(merged.values(), key=lambda row: (location_key(row.location), row.sku_code))


_NUMBER_RUN = re.compile(r"(\d+)")


def location_key(location: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(part)) if part.isdigit() else (1, part.upper())
                 for part in _NUMBER_RUN.split(location) if part)


def slip_total_fen(data: PackingSlipData) -> int | None:
    if data.paid_fen is not None:
        return data.paid_fen
    if not data.lines or any(line.unit_price_fen is None for line in data.lines):
        return None
    return sum(line.qty * (line.unit_price_fen or 0) for line in data.lines)


def _keep_masked(value: str | None, mask: Callable[[str], str | None]) -> str | None:
    """Mask a value unless it already is (a platform's masked copy is printed as the platform gave it)."""
    if not value or "*" in value:
        return value
    return mask(value)
