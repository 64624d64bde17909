"""微信小店 order objects (`/channels/ec/order/get` → `order`) to canonical orders and back."""

from __future__ import annotations

from typing import Any

from baodan.channels._common import count, fen, from_epoch, lookup_status, pick, text, to_epoch
from baodan.channels.base import MappingError

# order.status → canonical status; the one table.
STATUS = {
    "10": "unpaid",  # 待付款
    "12": "paid",  # 礼物待收下 (paid by the giver, address to come)
    "13": "paid",  # 凑单买凑团中 (paid, group forming)
    "20": "paid",  # 待发货
    "21": "paid",  # 部分发货
    "30": "shipped",  # 待收货
    "100": "completed",  # 完成
    "190": "cancelled",  # 超卖商家取消
    "200": "refunded",  # 全部商品售后之后订单取消
    "250": "cancelled",  # 用户取消/超时未付款取消
}
# what from_canonical writes for each canonical status
RENDERED_STATUS = {"unpaid": 10, "paid": 20, "shipped": 30, "completed": 100, "cancelled": 250, "refunded": 200}


def to_canonical(order: dict[str, Any], *, shop_code: str) -> dict[str, Any]:
    """One canonical order from one 微信小店 order; amounts are fen, times unix seconds."""
    order_id = text(order, "order_id")
    status = lookup_status(STATUS, pick(order, "status"), channel="wechat", path="status")
    products = pick(order, "order_detail.product_infos")
    if not isinstance(products, list):
        raise MappingError("order field order_detail.product_infos is not a list",
                           details={"field": "order_detail.product_infos"})
    lines = [_line(order, i) for i in range(len(products))] or [pick(order, "order_detail.product_infos.0")]
    goods_total = sum(line["amount_fen"] for line in lines)
    shipping = fen(pick(order, "order_detail.price_info.freight", 0), "order_detail.price_info.freight")
    paid_total = fen(pick(order, "order_detail.price_info.order_price"), "order_detail.price_info.order_price")
    pay_time = pick(order, "order_detail.pay_info.pay_time", 0)
    return {
        "channel": "wechat",
        "shop": shop_code,
        "platform_order_id": order_id,
        "status": status,
        "updated_at": from_epoch(pick(order, "update_time"), "update_time"),
        "created_at": from_epoch(pick(order, "create_time"), "create_time"),
        "paid_at": from_epoch(pay_time, "order_detail.pay_info.pay_time") if pay_time not in (0, "0") else None,
        "buyer_nick": None,  # 微信小店 names the buyer only by openid
        "receiver": _receiver(pick(order, "order_detail.delivery_info.address_info", {})),
        "lines": lines,
        "goods_total_fen": goods_total,
        "shipping_fee_fen": shipping,
        "discount_fen": max(goods_total + shipping - paid_total, 0),  # what no line carries
        "paid_total_fen": paid_total,
        "live_room_id": text(order, "order_detail.ext_info.live_id", None),
        "buyer_message": pick(order, "order_detail.ext_info.customer_notes", None),
        "seller_memo": pick(order, "order_detail.ext_info.merchant_notes", None),
    }


def from_canonical(order: dict[str, Any]) -> dict[str, Any]:
    """A canonical order rendered as a 微信小店 order (the address fields carry the values as given)."""
    receiver = order.get("receiver") or {}
    paid_at = order.get("paid_at")
    products = [{
        "product_id": "0",
        "sku_id": line.get("platform_sku_id") or "0",
        "sku_code": line.get("sku_code") or "",
        "out_product_id": "",
        "out_sku_id": "",
        "title": line.get("title") or "",
        "sku_attrs": [],
        "sku_cnt": line["quantity"],
        "sale_price": line["unit_price_fen"],
        "real_price": line["amount_fen"],
        "on_aftersale_sku_cnt": 0,
        "finish_aftersale_sku_cnt": line["quantity"] if order["status"] == "refunded" else 0,
        "is_free_gift": False,
    } for line in order["lines"]]
    gross = sum(line["quantity"] * line["unit_price_fen"] for line in order["lines"])
    live_id = order.get("live_room_id")
    return {
        "order_id": str(order["platform_order_id"]),
        "status": RENDERED_STATUS[order["status"]],
        "create_time": to_epoch(order["created_at"]),
        "update_time": to_epoch(order["updated_at"]),
        "openid": "",
        "unionid": "",
        "order_detail": {
            "product_infos": products,
            "price_info": {
                "product_price": gross,
                "order_price": order["paid_total_fen"],
                "freight": order.get("shipping_fee_fen", 0),
                "discounted_price": gross + order.get("shipping_fee_fen", 0) - order["paid_total_fen"],
                "original_order_price": gross + order.get("shipping_fee_fen", 0),
                "change_down_price": 0,
            },
            "pay_info": {"pay_time": to_epoch(paid_at) if paid_at else 0, "transaction_id": "",
                         "payment_method": 1},
            "delivery_info": {
                "address_info": {
                    "user_name": receiver.get("name") or "",
                    "tel_number": receiver.get("phone") or "",
                    "province_name": receiver.get("province") or "",
                    "city_name": receiver.get("city") or "",
                    "county_name": receiver.get("district") or "",
                    "detail_info": receiver.get("address") or "",
                    "postal_code": "",
                },
                "delivery_product_info": [],
            },
            "ext_info": {
                "customer_notes": order.get("buyer_message") or "",
                "merchant_notes": order.get("seller_memo") or "",
                "finder_id": "",
                "live_id": str(live_id) if live_id else "",
                "order_scene": 2 if live_id else 1,
            },
        },
        "aftersale_detail": {"aftersale_order_list": [], "on_aftersale_order_cnt": 0},
    }


def _line(order: dict[str, Any], i: int) -> dict[str, Any]:
    path = f"order_detail.product_infos.{i}"
    quantity = count(order, f"{path}.sku_cnt")
    unit_price = fen(pick(order, f"{path}.sale_price"), f"{path}.sale_price")
    gross = quantity * unit_price
    discount = max(gross - fen(pick(order, f"{path}.real_price", gross), f"{path}.real_price"), 0)
    sku_id = text(order, f"{path}.sku_id", None)
    sku_code = text(order, f"{path}.sku_code", None)
    if sku_id in (None, "0") and sku_code is None:
        pick(order, f"{path}.sku_id")  # raises, naming the field
    return {
        "platform_line_id": None,  # 微信小店 lines have no ids of their own
        "platform_sku_id": sku_id if sku_id != "0" else None,
        "sku_code": sku_code,
        "title": pick(order, f"{path}.title", None),
        "quantity": quantity,
        "unit_price_fen": unit_price,
        "discount_fen": discount,
        "amount_fen": gross - discount,
    }


def _receiver(address: dict[str, Any]) -> dict[str, Any]:
    """As given (masked by the platform; /order/sensitiveinfo/decode opens it). There is no town field."""
    return {
        "name": address.get("user_name") or None,
        "phone": address.get("tel_number") or None,
        "province": address.get("province_name") or None,
        "city": address.get("city_name") or None,
        "district": address.get("county_name") or None,
        "town": None,
        "address": address.get("detail_info") or None,
    }
