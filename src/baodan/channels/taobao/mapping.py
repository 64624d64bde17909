"""淘宝/天猫 trades (`taobao.trade.fullinfo.get` / `taobao.trades.sold.increment.get`) to canonical orders
and back. TOP gives amounts as yuan strings and times as `yyyy-MM-dd HH:mm:ss` Beijing time."""

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

# Trade.status → canonical status; the one table. The first status of each canonical status is the one
# from_canonical writes.
STATUS = {
    "WAIT_BUYER_PAY": "unpaid",  # 等待买家付款
    "TRADE_NO_CREATE_PAY": "unpaid",  # 没有创建支付宝交易
    "PAY_PENDING": "unpaid",  # 付款确认中
    "WAIT_PRE_AUTH_CONFIRM": "unpaid",  # 0元购合约中
    "WAIT_SELLER_SEND_GOODS": "paid",  # 等待卖家发货
    "SELLER_CONSIGNED_PART": "paid",  # 卖家部分发货: lines are still to ship
    "WAIT_BUYER_CONFIRM_GOODS": "shipped",  # 卖家已发货
    "TRADE_FINISHED": "completed",  # 交易成功
    "TRADE_BUYER_SIGNED": "completed",  # 买家已签收 (货到付款)
    "TRADE_CLOSED_BY_TAOBAO": "cancelled",  # 付款以前关闭
    "TRADE_CLOSED": "refunded",  # 付款以后退款成功, 交易关闭
}
RENDERED_STATUS = {canonical: status for status, canonical in reversed(STATUS.items())}

# canonical receiver field → Trade field(s), first non-empty wins
RECEIVER_FIELDS = {
    "name": ("receiver_name",),
    "phone": ("receiver_mobile", "receiver_phone"),
    "province": ("receiver_state",),
    "city": ("receiver_city",),
    "district": ("receiver_district",),
    "town": ("receiver_town",),
    "address": ("receiver_address",),
}


def to_canonical(trade: dict[str, Any], *, shop_code: str) -> dict[str, Any]:
    """One canonical order from one TOP Trade (detail or list item, with `orders.order[]`)."""
    status = lookup_status(STATUS, pick(trade, "status"), channel="taobao", path="status")
    sub_orders = pick(trade, "orders.order")
    if not isinstance(sub_orders, list) or not sub_orders:
        raise MappingError("order field orders.order is not a list of sub-orders", details={"field": "orders.order"})
    lines = [_line(sub, f"orders.order.{i}") for i, sub in enumerate(sub_orders)]
    if status != "paid":  # a line's refund is news only while the rest is still to ship (部分退款)
        for line in lines:
            line.pop("refunded", None)
    paid_at = _time(trade, "pay_time", required=False)
    if paid_at is None and status not in ("unpaid", "cancelled"):
        raise MappingError(f"order field pay_time is missing (status {trade['status']})", details={"field": "pay_time"})
    goods_total = sum(line["amount_fen"] for line in lines)
    shipping = yuan_to_fen(pick(trade, "post_fee", "0"), "post_fee")
    paid_total = yuan_to_fen(pick(trade, "payment"), "payment")
    return {
        "channel": "taobao",
        "shop": shop_code,
        "platform_order_id": text(trade, "tid"),
        "status": status,
        "updated_at": _time(trade, "modified"),
        "created_at": _time(trade, "created"),
        "paid_at": paid_at,
        "buyer_nick": pick(trade, "buyer_nick", None) or pick(trade, "buyer_open_uid", None),
        "receiver": _receiver(trade),
        "lines": lines,
        "goods_total_fen": goods_total,
        "shipping_fee_fen": shipping,
        # shop-level promotions not already taken off a sub-order; never negative
        "discount_fen": max(goods_total + shipping - paid_total, 0),
        "paid_total_fen": paid_total,
        "live_room_id": None,  # TOP's trade names no live room
        "buyer_message": pick(trade, "buyer_message", None),
        "seller_memo": pick(trade, "seller_memo", None),
    }


def from_canonical(order: dict[str, Any], *, seller_nick: str = "") -> dict[str, Any]:
    """A canonical order rendered as a TOP Trade (JSON shape of `trade.fullinfo.get`, empty fields left out)."""
    order_id = str(order["platform_order_id"])
    status = RENDERED_STATUS[order["status"]]
    refunded = order["status"] == "refunded"
    sub_orders = []
    for i, line in enumerate(order["lines"], start=1):
        total = line["quantity"] * line["unit_price_fen"]
        sub_orders.append(_without_empty({
            "oid": id_value(line.get("platform_line_id") or f"{order_id}{i:02d}"),
            "status": status,
            "title": line.get("title"),
            "sku_id": id_value(line.get("platform_sku_id")),
            "outer_sku_id": line.get("sku_code"),
            "num": line["quantity"],
            "price": fen_to_yuan(line["unit_price_fen"]),
            "total_fee": fen_to_yuan(total),
            "discount_fee": fen_to_yuan(line.get("discount_fen", 0)),
            "adjust_fee": "0.00",
            "payment": fen_to_yuan(line["amount_fen"]),
            "refund_status": "SUCCESS" if refunded or line.get("refunded") else "NO_REFUND",
        }))
    receiver = order.get("receiver") or {}
    trade = {
        "tid": id_value(order_id),
        "status": status,
        "type": "fixed",
        "seller_nick": seller_nick,
        "buyer_nick": order.get("buyer_nick"),
        "created": _time_text(order["created_at"]),
        "modified": _time_text(order["updated_at"]),
        "pay_time": _time_text(order.get("paid_at")),
        "total_fee": fen_to_yuan(sum(line["quantity"] * line["unit_price_fen"] for line in order["lines"])),
        "discount_fee": fen_to_yuan(order.get("discount_fen", 0)),
        "post_fee": fen_to_yuan(order.get("shipping_fee_fen", 0)),
        "payment": fen_to_yuan(order["paid_total_fen"]),
        "buyer_message": order.get("buyer_message"),
        "seller_memo": order.get("seller_memo"),
        "orders": {"order": sub_orders},
    }
    trade.update({fields[0]: receiver.get(key) for key, fields in RECEIVER_FIELDS.items()})
    trade["oaid"] = (receiver.get("platform_cipher") or {}).get("oaid")
    return _without_empty(trade)


def _line(sub: dict[str, Any], where: str) -> dict[str, Any]:
    with fields_under(where):
        quantity = count(sub, "num")
        price = yuan_to_fen(pick(sub, "price"), "price")
        amount = yuan_to_fen(pick(sub, "payment"), "payment")
        # items without SKUs have no sku_id: the item id and the item's merchant code stand in
        sku_id = text(sub, "sku_id", None) or text(sub, "num_iid", None)
        sku_code = pick(sub, "outer_sku_id", None) or pick(sub, "outer_iid", None)
        if not (sku_id or sku_code):
            raise MappingError("sub-order names no SKU", details={"field": "sku_id"})
        line_id = text(sub, "oid")
    return {
        "platform_line_id": line_id,
        "platform_sku_id": sku_id,
        "sku_code": sku_code,
        "title": pick(sub, "title", None),
        "quantity": quantity,
        "unit_price_fen": price,
        # payment = price × num + adjust_fee − discount_fee; a raised price (adjust_fee > 0) is no discount
        "discount_fen": max(quantity * price - amount, 0),
        "amount_fen": amount,
        **({"refunded": True} if pick(sub, "refund_status", None) == "SUCCESS" else {}),
    }


def _receiver(trade: dict[str, Any]) -> dict[str, Any] | None:
    """The receiver fields as given (masked), and the `oaid` that taobao.top.oaid.decrypt opens as the
    receiver's platform_cipher; None when the trade (a partial list trade) has neither."""
    receiver = receiver_fields(trade, RECEIVER_FIELDS)
    if not any(receiver.values()) and not trade.get("oaid"):
        return None
    return with_cipher(receiver, oaid=trade.get("oaid"))


def _time(trade: dict[str, Any], path: str, *, required: bool = True) -> datetime | None:
    value = pick(trade, path) if required else pick(trade, path, None)
    return None if value is None else parse_time(value, path)


def _time_text(value: datetime | str | None) -> str | None:
    return None if value is None else time_text(value)


def _without_empty(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if value not in (None, "")}
