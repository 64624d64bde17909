"""京东 POP orders (`orderInfo` of `jingdong.pop.order.enSearch` / `enGet`) to canonical orders and back.
Amounts are yuan strings, times `yyyy-MM-dd HH:mm:ss` Beijing time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from baodan.channels._common import (
    count,
    fields_under,
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

NO_TIME = "0001-01-01 00:00:00"  # what JOS writes for a time that has not happened (also 1970-01-01 …)

# orderState → canonical status; the one table. The first state of each canonical status is the one
# from_canonical writes. JD has no refunded state: a paid order cancelled (and refunded) is TRADE_CANCELED.
STATUS = {
    "NOT_PAY": "unpaid",  # 未付款 — seen in another order API only; enSearch lists no unpaid orders
    "WAIT_SELLER_STOCK_OUT": "paid",  # 等待出库
    "WAIT_SELLER_DELIVERY": "paid",  # 等待发货 (cross-border)
    "POP_ORDER_PAUSE": "paid",  # 暂停: still the merchant's to ship once released
    "PAUSE": "paid",
    "LOCKED": "paid",  # 已锁定 (e.g. a cancel request under review): not to ship, stock still held
    "WAIT_SEND_CODE": "paid",  # LOC 等待发码
    "WAIT_GOODS_RECEIVE_CONFIRM": "shipped",  # 等待确认收货
    "FINISHED_L": "completed",  # 完成
    "TRADE_CANCELED": "cancelled",  # 取消
}
RENDERED_STATUS = {canonical: state for state, canonical in reversed(STATUS.items())} | {"refunded": "TRADE_CANCELED"}

# canonical receiver field → consigneeInfo fields, first non-empty that fits the canonical field wins
# (plain or masked values); the TDE ciphertexts go to platform_cipher
RECEIVER_FIELDS = {
    "name": ("fullname",),
    "phone": ("mobile", "telephone"),
    "province": ("province",),
    "city": ("city",),
    "district": ("county",),
    "town": ("town",),
    "address": ("fullAddress",),
}


def to_canonical(order: dict[str, Any], *, shop_code: str) -> dict[str, Any]:
    """One canonical order from one JOS orderInfo; paid total is orderPayment plus the balance used."""
    status = lookup_status(STATUS, pick(order, "orderState"), channel="jd", path="orderState")
    items = pick(order, "itemInfoList")
    if not isinstance(items, list) or not items:
        raise MappingError("order field itemInfoList is not a list of items", details={"field": "itemInfoList"})
    lines = [_line(item, f"itemInfoList.{i}") for i, item in enumerate(items)]
    paid_at = _time(order, "paymentConfirmTime", required=False)
    if paid_at is None and status not in ("unpaid", "cancelled"):
        raise MappingError("order field paymentConfirmTime is missing", details={"field": "paymentConfirmTime"})
    goods_total = sum(line["amount_fen"] for line in lines)
    shipping = yuan_to_fen(pick(order, "freightPrice", "0"), "freightPrice")
    paid_total = (yuan_to_fen(pick(order, "orderPayment"), "orderPayment")
                  + yuan_to_fen(pick(order, "balanceUsed", "0"), "balanceUsed"))
    return {
        "channel": "jd",
        "shop": shop_code,
        "platform_order_id": text(order, "orderId"),
        "status": status,
        "updated_at": _time(order, "modified"),
        "created_at": _time(order, "orderStartTime"),
        "paid_at": paid_at,
        "buyer_nick": pick(order, "open_id_buyer", None),
        "receiver": _receiver(order.get("consigneeInfo") or {}),
        "lines": lines,
        "goods_total_fen": goods_total,
        "shipping_fee_fen": shipping,
        # seller and JD coupons/promotions (couponDetailList) are not split per line: one order discount
        "discount_fen": max(goods_total + shipping - paid_total, 0),
        "paid_total_fen": paid_total,
        "live_room_id": None,
        "buyer_message": pick(order, "orderRemark", None),
        "seller_memo": pick(order, "venderRemark", None),
        "supersedes": _parents(order),
    }


def _parents(order: dict[str, Any]) -> list[str] | None:
    """A split order (JD splits an order per warehouse or at the seller's request) names its original in
    parentOrderId / directParentOrderId; "0" or its own id means none."""
    own = text(order, "orderId")
    parents = [str(p) for p in (order.get("directParentOrderId"), order.get("parentOrderId"))
               if p not in (None, "", 0, "0") and str(p) != own]
    return list(dict.fromkeys(parents)) or None


def from_canonical(order: dict[str, Any], *, vender_id: str = "") -> dict[str, Any]:
    """A canonical order rendered as a JOS orderInfo (plain receiver values; line discounts join
    sellerDiscount, JD having none per line)."""
    goods = sum(line["quantity"] * line["unit_price_fen"] for line in order["lines"])
    discount = sum(line.get("discount_fen", 0) for line in order["lines"]) + order.get("discount_fen", 0)
    receiver = order.get("receiver") or {}
    cipher = receiver.get("platform_cipher") or {}
    return {
        "orderId": str(order["platform_order_id"]),
        "venderId": vender_id,
        "orderType": "22",  # SOP
        "payType": "4",  # online
        "orderState": RENDERED_STATUS[order["status"]],
        "orderStateRemark": "",
        "orderTotalPrice": fen_to_yuan(goods),
        "orderSellerPrice": fen_to_yuan(max(goods - discount, 0)),
        "orderPayment": fen_to_yuan(order["paid_total_fen"]),
        "freightPrice": fen_to_yuan(order.get("shipping_fee_fen", 0)),
        "sellerDiscount": fen_to_yuan(discount),
        "balanceUsed": "0.00",
        "orderStartTime": _time_text(order["created_at"]),
        "modified": _time_text(order["updated_at"]),
        "paymentConfirmTime": _time_text(order.get("paid_at")),
        "orderEndTime": NO_TIME,
        "orderRemark": order.get("buyer_message") or "",
        "venderRemark": order.get("seller_memo") or "",
        "open_id_buyer": order.get("buyer_nick") or "",
        **({"parentOrderId": order["supersedes"][0], "directParentOrderId": order["supersedes"][0]}
           if order.get("supersedes") else {}),
        "consigneeInfo": {
            "fullname": receiver.get("name") or "",
            "mobile": receiver.get("phone") or "",
            "telephone": "",
            "province": receiver.get("province") or "",
            "city": receiver.get("city") or "",
            "county": receiver.get("district") or "",
            "town": receiver.get("town") or "",
            "fullAddress": receiver.get("address") or "",
            "encrypt_fullname": cipher.get("name") or "",
            "encrypt_mobile": cipher.get("phone") or "",
            "encrypt_fullAddress": cipher.get("address") or "",
        },
        "itemInfoList": [{
            "skuId": line.get("platform_sku_id") or "",
            "outerSkuId": line.get("sku_code") or "",
            "skuName": line.get("title") or "",
            "jdPrice": fen_to_yuan(line["unit_price_fen"]),
            "itemTotal": str(line["quantity"]),
        } for line in order["lines"]],
        "couponDetailList": [],
    }


def _line(item: dict[str, Any], where: str) -> dict[str, Any]:
    with fields_under(where):
        quantity = count(item, "itemTotal")
        price = yuan_to_fen(pick(item, "jdPrice"), "jdPrice")
        sku_id = text(item, "skuId", None)
        sku_code = pick(item, "outerSkuId", None)  # "not guaranteed" by JD
        if not (sku_id or sku_code):
            raise MappingError("item names no SKU", details={"field": "skuId"})
    return {
        "platform_line_id": None,  # JD gives items no ids of their own
        "platform_sku_id": sku_id,
        "sku_code": sku_code,
        "title": pick(item, "skuName", None),
        "quantity": quantity,
        "unit_price_fen": price,
        "discount_fen": 0,
        "amount_fen": quantity * price,
    }


def _receiver(info: dict[str, Any]) -> dict[str, Any] | None:
    receiver = receiver_fields(info, RECEIVER_FIELDS)
    cipher = {"name": info.get("encrypt_fullname"),
              "phone": info.get("encrypt_mobile") or info.get("encrypt_telephone"),
              "address": info.get("encrypt_fullAddress")}
    return with_cipher(receiver, **cipher) if any(receiver.values()) or any(cipher.values()) else None


def _time(order: dict[str, Any], path: str, *, required: bool = True) -> datetime | None:
    value = pick(order, path) if required else pick(order, path, None)
    if value is None or (not required and str(value).startswith(("0001-01-01", "1970-01-01"))):
        return None
    return parse_time(value, path)


def _time_text(value: datetime | str | None) -> str:
    return NO_TIME if value is None else time_text(value)
