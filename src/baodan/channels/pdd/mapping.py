"""拼多多 orders (`order_info` / `order_sn_list[]`) to canonical orders and back. Amounts are yuan strings,
times `yyyy-MM-dd HH:mm:ss` Beijing time [inf]."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from baodan.channels._common import (
    count,
    fields_under,
    id_value,
    lookup_status,
    parse_time,
    pick,
    receiver_fields,
    text,
    time_text,
    with_cipher,
    yuan_to_fen,
)
from baodan.channels.base import MappingError
from baodan.core.money import fen_to_yuan

# status key (see status_key) → canonical status; the one table. The first key of each canonical status is
# the one from_canonical writes. "<order_status>/<refund_status>": order_status 1 待发货, 2 已发货待签收,
# 3 已签收; refund_status 1 无售后或售后关闭, 2 售后处理中, 3 退款中, 4 退款成功.
STATUS = {
    "unconfirmed": "unpaid",  # confirm_status 0 未成交
    "cancelled": "cancelled",  # confirm_status 2 已取消
    "1/1": "paid",
    "1/2": "paid",
    "1/3": "paid",
    "2/1": "shipped",
    "2/2": "shipped",
    "2/3": "shipped",
    "3/1": "completed",
    "3/2": "completed",
    "3/3": "completed",
    "1/4": "refunded",
    "2/4": "refunded",
    "3/4": "refunded",
}
RENDERED_STATUS = {canonical: key for key, canonical in reversed(STATUS.items())}
CONFIRM_STATUS_KEYS = {"0": "unconfirmed", "2": "cancelled"}  # confirm_status 1 已成交 reads the two statuses

# canonical receiver field → order fields: the masked values; the ciphertexts (only while 待发货) are
# CIPHER_FIELDS, kept in platform_cipher
RECEIVER_FIELDS = {
    "name": ("receiver_name_mask",),
    "phone": ("receiver_phone_mask",),
    "province": ("province",),
    "city": ("city",),
    "district": ("town",),  # PDD's `town` is the 区/县
    "address": ("receiver_address_mask",),
}
CIPHER_FIELDS = {"name": "receiver_name", "phone": "receiver_phone", "address": "receiver_address"}


def status_key(order: dict[str, Any]) -> str:
    confirm = str(pick(order, "confirm_status", 1))
    if confirm in CONFIRM_STATUS_KEYS:
        return CONFIRM_STATUS_KEYS[confirm]
    return f"{pick(order, 'order_status')}/{pick(order, 'refund_status')}"


def to_canonical(order: dict[str, Any], *, shop_code: str) -> dict[str, Any]:
    """One canonical order from one PDD order; gifts (`gift_list[]`) become zero-price lines."""
    status = lookup_status(STATUS, status_key(order), channel="pdd", path="order_status/refund_status")
    items = pick(order, "item_list")
    if not isinstance(items, list) or not items:
        raise MappingError("order field item_list is not a list of items", details={"field": "item_list"})
    lines = [_line(item, f"item_list.{i}") for i, item in enumerate(items)]
    lines += [_line(gift, f"gift_list.{i}", gift=True) for i, gift in enumerate(order.get("gift_list") or [])]
    paid_at = _time(order, "pay_time", required=False) or _time(order, "confirm_time", required=False)
    if paid_at is None and status not in ("unpaid", "cancelled"):
        raise MappingError("order field pay_time is missing", details={"field": "pay_time"})
    goods_total = sum(line["amount_fen"] for line in lines)
    shipping = yuan_to_fen(pick(order, "postage", "0"), "postage")
    paid_total = yuan_to_fen(pick(order, "pay_amount"), "pay_amount")
    return {
        "channel": "pdd",
        "shop": shop_code,
        "platform_order_id": text(order, "order_sn"),
        "status": status,
        "updated_at": _time(order, "updated_at"),
        "created_at": _time(order, "created_time"),
        "paid_at": paid_at,
        "buyer_nick": None,  # PDD names no buyer
        "receiver": _receiver(order),
        "lines": lines,
        "goods_total_fen": goods_total,
        "shipping_fee_fen": shipping,
        # discount_amount (platform + seller + 免单) and order_change_amount: what lies between goods + postage and
        # pay_amount; never negative
        "discount_fen": max(goods_total + shipping - paid_total, 0),
        "paid_total_fen": paid_total,
        "live_room_id": None,
        "buyer_message": pick(order, "buyer_memo", None),
        "seller_memo": pick(order, "remark", None),
    }


def from_canonical(order: dict[str, Any]) -> dict[str, Any]:
    """A canonical order rendered as a PDD `order_info` (the receiver values in the masked fields, its
    platform_cipher in the ciphertext fields).
    PDD has no line discounts: they join the order's seller_discount."""
    key = RENDERED_STATUS[order["status"]]
    if key in CONFIRM_STATUS_KEYS.values():
        confirm_status, order_status, refund_status = (0 if key == "unconfirmed" else 2), 1, 1
    else:
        confirm_status, (order_status, refund_status) = 1, map(int, key.split("/"))
    goods_amount = sum(line["quantity"] * line["unit_price_fen"] for line in order["lines"])
    discount = sum(line.get("discount_fen", 0) for line in order["lines"]) + order.get("discount_fen", 0)
    receiver = order.get("receiver") or {}
    cipher = receiver.get("platform_cipher") or {}
    items = [{
        "goods_id": 0,
        "sku_id": id_value(line.get("platform_sku_id")),
        "goods_name": line.get("title") or "",
        "goods_spec": "",
        "goods_count": line["quantity"],
        "goods_price": fen_to_yuan(line["unit_price_fen"]),
        "outer_goods_id": "",
        "outer_id": line.get("sku_code") or "",
    } for line in order["lines"]]
    paid_at = order.get("paid_at")
    return {
        "order_sn": str(order["platform_order_id"]),
        "confirm_status": confirm_status,
        "order_status": order_status,
        "refund_status": refund_status,
        "group_status": 1,
        "risk_control_status": 0,
        "created_time": _time_text(order["created_at"]),
        "updated_at": _time_text(order["updated_at"]),
        "confirm_time": _time_text(paid_at),
        "pay_time": _time_text(paid_at),
        "goods_amount": fen_to_yuan(goods_amount),
        "discount_amount": fen_to_yuan(discount),
        "seller_discount": fen_to_yuan(discount),
        "platform_discount": "0.00",
        "order_change_amount": "0.00",
        "postage": fen_to_yuan(order.get("shipping_fee_fen", 0)),
        "pay_amount": fen_to_yuan(order["paid_total_fen"]),
        "receiver_name_mask": receiver.get("name") or "",
        "receiver_phone_mask": receiver.get("phone") or "",
        "receiver_address_mask": receiver.get("address") or "",
        **{field: cipher.get(key) or "" for key, field in CIPHER_FIELDS.items()},
        "country": "中国",
        "province": receiver.get("province") or "",
        "city": receiver.get("city") or "",
        "town": receiver.get("district") or "",
        "buyer_memo": order.get("buyer_message") or "",
        "remark": order.get("seller_memo") or "",
        "item_list": items,
        "gift_list": [],
    }


def _line(item: dict[str, Any], where: str, *, gift: bool = False) -> dict[str, Any]:
    with fields_under(where):
        quantity = count(item, "goods_count")
        price = 0 if gift else yuan_to_fen(pick(item, "goods_price"), "goods_price")
        sku_id = text(item, "sku_id", None) or text(item, "goods_id", None)
        sku_code = pick(item, "outer_id", None) or pick(item, "outer_goods_id", None)
        if not (sku_id or sku_code):
            raise MappingError("item names no SKU", details={"field": "sku_id"})
    return {
        "platform_line_id": None,  # PDD gives items no ids of their own
        "platform_sku_id": sku_id,
        "sku_code": sku_code,
        "title": pick(item, "goods_name", None),
        "quantity": quantity,
        "unit_price_fen": price,
        "discount_fen": 0,
        "amount_fen": quantity * price,
    }


def _receiver(order: dict[str, Any]) -> dict[str, Any] | None:
    receiver = receiver_fields(order, RECEIVER_FIELDS)
    cipher = {key: order.get(field) for key, field in CIPHER_FIELDS.items()}
    return with_cipher(receiver, **cipher) if any(receiver.values()) or any(cipher.values()) else None


def _time(order: dict[str, Any], path: str, *, required: bool = True) -> datetime | None:
    value = pick(order, path) if required else pick(order, path, None)
    return None if value is None else parse_time(value, path)


def _time_text(value: datetime | str | None) -> str:
    return "" if value is None else time_text(value)
