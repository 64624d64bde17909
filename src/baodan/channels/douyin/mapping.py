"""抖店 order objects (`shop_order_list` item / `shop_order_detail`) to canonical orders and back.

Presale (预售): an order's `appointment_ship_time` (预约发货时间, unix seconds; 0 when none) is read as the date
its lines may ship from (`ship_after` on every line); `exp_ship_time` is the latest ship time, a deadline, not
a hold. The spec lists both on the order only, so a presale order ships as one."""

from __future__ import annotations

from typing import Any

from baodan.channels._common import (
    count,
    fen,
    from_epoch,
    id_value,
    lookup_status,
    pick,
    text,
    to_epoch,
    with_cipher,
)
from baodan.channels.base import MappingError

# order_status → canonical status; the one table. 101 部分发货 stays `paid`: lines are still to ship.
STATUS = {
    "1": "unpaid",  # 待确认/待支付
    "105": "paid",  # 已支付
    "2": "paid",  # 备货中 (待发货)
    "101": "paid",  # 部分发货
    "3": "shipped",  # 已发货 (全部)
    "4": "cancelled",  # 已取消 (also after a full refund; see fully_refunded)
    "5": "completed",  # 已完成 (已收货)
}
# what from_canonical writes for each canonical status
RENDERED_STATUS = {"unpaid": 1, "paid": 2, "shipped": 3, "completed": 5, "cancelled": 4, "refunded": 4}
REFUND_SUCCEEDED = 3  # sku order after_sale_info.refund_status 3 = 退款成功


def to_canonical(order: dict[str, Any], *, shop_code: str) -> dict[str, Any]:
    """One canonical order from one 抖店 shop order; amounts are fen already, times unix seconds."""
    order_id = text(order, "order_id")
    status = lookup_status(STATUS, pick(order, "order_status"), channel="douyin", path="order_status")
    sku_orders = pick(order, "sku_order_list")
    if not isinstance(sku_orders, list):
        raise MappingError("order field sku_order_list is not a list", details={"field": "sku_order_list"})
    lines = [_line(order, i) for i in range(len(sku_orders))] or [pick(order, "sku_order_list.0")]
    ship_after = _optional_time(order, "appointment_ship_time")
    if ship_after is not None:
        for line in lines:
            line["ship_after"] = ship_after
    if status != "unpaid" and _fully_refunded(sku_orders):
        status = "refunded"
    if status != "paid":  # a line's refund is news only while the rest is still to ship (部分退款)
        for line in lines:
            line.pop("refunded", None)
    goods_total = sum(line["amount_fen"] for line in lines)
    shipping = fen(pick(order, "post_amount", 0), "post_amount")
    paid_total = fen(pick(order, "pay_amount"), "pay_amount")
    room_id = pick(order, "room_id", None)
    return {
        "channel": "douyin",
        "shop": shop_code,
        "platform_order_id": order_id,
        "status": status,
        "updated_at": from_epoch(pick(order, "update_time"), "update_time"),
        "created_at": from_epoch(pick(order, "create_time"), "create_time"),
        "paid_at": _optional_time(order, "pay_time"),
        "buyer_nick": None,  # 抖店 names the buyer only by doudian_open_id
        "receiver": _receiver(order),
        "lines": lines,
        "goods_total_fen": goods_total,
        "shipping_fee_fen": shipping,
        # promotions not already taken off a line (order-level); never negative
        "discount_fen": max(goods_total + shipping - paid_total, 0),
        "paid_total_fen": paid_total,
        "live_room_id": str(room_id) if room_id not in (None, 0, "0") else None,
        "buyer_message": pick(order, "buyer_words", None),
        "seller_memo": pick(order, "seller_words", None),
    }


def from_canonical(order: dict[str, Any], *, shop_id: str = "") -> dict[str, Any]:
    """A canonical order rendered as a 抖店 shop order (plain receiver fields, what a sandbox shop sees, and
    the receiver's platform_cipher in the `encrypt_*` fields)."""
    order_id = str(order["platform_order_id"])
    status = order["status"]
    refunded = status == "refunded"
    receiver = order.get("receiver") or {}
    cipher = receiver.get("platform_cipher") or {}
    sku_orders = []
    for i, line in enumerate(order["lines"], start=1):
        sum_amount = line["quantity"] * line["unit_price_fen"]
        sku_orders.append({
            "order_id": line.get("platform_line_id") or f"{order_id}{i:02d}",
            "parent_order_id": order_id,
            "order_level": 3,
            "order_status": RENDERED_STATUS[status],
            "product_id": 0,
            "product_id_str": "",
            "sku_id": id_value(line.get("platform_sku_id")),
            "out_sku_id": "",
            "code": line.get("sku_code") or "",
            "product_name": line.get("title") or "",
            "spec": [],
            "item_num": line["quantity"],
            "origin_amount": line["unit_price_fen"],
            "sum_amount": sum_amount,
            "pay_amount": line["amount_fen"],
            "after_sale_info": {"after_sale_status": 12 if refunded or line.get("refunded") else 0,
                                "after_sale_type": 0 if refunded else 2,  # 2 未发货仅退款
                                "refund_status": REFUND_SUCCEEDED if refunded or line.get("refunded") else 0},
        })
    line_discounts = sum(line.get("discount_fen", 0) for line in order["lines"])
    paid_at = order.get("paid_at")
    return {
        "order_id": order_id,
        "shop_id": id_value(shop_id) or 0,
        "order_status": RENDERED_STATUS[status],
        "order_status_desc": "",
        "create_time": to_epoch(order["created_at"]),
        "update_time": to_epoch(order["updated_at"]),
        "pay_time": to_epoch(paid_at) if paid_at else 0,
        "appointment_ship_time": max((to_epoch(line["ship_after"]) for line in order["lines"]
                                      if line.get("ship_after")), default=0),
        "finish_time": 0,
        "order_amount": order["goods_total_fen"] + line_discounts + order.get("shipping_fee_fen", 0),
        "pay_amount": order["paid_total_fen"],
        "post_amount": order.get("shipping_fee_fen", 0),
        "modify_amount": 0,
        "promotion_amount": line_discounts + order.get("discount_fen", 0),
        "promotion_shop_amount": line_discounts + order.get("discount_fen", 0),
        "promotion_platform_amount": 0,
        "promotion_talent_amount": 0,
        "buyer_words": order.get("buyer_message") or "",
        "seller_words": order.get("seller_memo") or "",
        "post_receiver": receiver.get("name") or "",
        "post_tel": receiver.get("phone") or "",
        "encrypt_post_receiver": cipher.get("name") or "",
        "encrypt_post_tel": cipher.get("phone") or "",
        "post_addr": {
            "province": {"name": receiver.get("province") or "", "id": ""},
            "city": {"name": receiver.get("city") or "", "id": ""},
            "town": {"name": receiver.get("district") or "", "id": ""},
            "street": {"name": receiver.get("town") or "", "id": ""},
            "detail": receiver.get("address") or "",
            "encrypt_detail": cipher.get("address") or "",
        },
        "sku_order_list": sku_orders,
        "logistics_info": [],
        "room_id": id_value(order.get("live_room_id")) or 0,
    }


def _line(order: dict[str, Any], i: int) -> dict[str, Any]:
    path = f"sku_order_list.{i}"
    quantity = count(order, f"{path}.item_num")
    unit_price = fen(pick(order, f"{path}.origin_amount"), f"{path}.origin_amount")
    gross = quantity * unit_price
    # the sku order's pay_amount is after the promotions shared onto it
    discount = max(gross - fen(pick(order, f"{path}.pay_amount", gross), f"{path}.pay_amount"), 0)
    sku_id = text(order, f"{path}.sku_id", None)
    code = text(order, f"{path}.code", None)
    if sku_id in (None, "0") and code is None:
        pick(order, f"{path}.sku_id")  # raises, naming the field
    return {
        "platform_line_id": text(order, f"{path}.order_id", None),
        "platform_sku_id": sku_id if sku_id != "0" else None,
        "sku_code": code,
        "title": pick(order, f"{path}.product_name", None),
        "quantity": quantity,
        "unit_price_fen": unit_price,
        "discount_fen": discount,
        "amount_fen": gross - discount,
        **({"refunded": True} if str(pick(order, f"{path}.after_sale_info.refund_status", 0)) == str(REFUND_SUCCEEDED)
           else {}),
    }


def _receiver(order: dict[str, Any]) -> dict[str, Any]:
    """Plain values when the platform gives them, else the masked ones; the ciphertexts (which
    /order/batchDecrypt opens) go to `platform_cipher`. 抖店's `town` is the district and `street` the town."""
    addr = _first(order.get("post_addr"), order.get("mask_post_addr")) or {}

    def name(part: str) -> str | None:
        value = addr.get(part)
        return (value.get("name") if isinstance(value, dict) else value) or None

    receiver = {
        "name": _first(order.get("post_receiver"), order.get("mask_post_receiver")),
        "phone": _first(order.get("post_tel"), order.get("mask_post_tel")),
        "province": name("province"),
        "city": name("city"),
        "district": name("town"),
        "town": name("street"),
        "address": _first(addr.get("detail"), (order.get("mask_post_addr") or {}).get("detail")),
    }
    return with_cipher(receiver, name=order.get("encrypt_post_receiver"), phone=order.get("encrypt_post_tel"),
                       address=(order.get("post_addr") or {}).get("encrypt_detail"))


def _fully_refunded(sku_orders: list[dict[str, Any]]) -> bool:
    return all((sku.get("after_sale_info") or {}).get("refund_status") == REFUND_SUCCEEDED for sku in sku_orders)


def _optional_time(order: dict[str, Any], field: str) -> Any:
    value = order.get(field)
    return from_epoch(value, field) if value not in (None, 0, "0", "") else None


def _first(*values: Any) -> Any:
    return next((value for value in values if value), None)


