"""快手 order objects (`orderList` item / `open.order.detail` data) to canonical orders and back. A 快手 order
holds one item (`orderItemInfo`), so it is one canonical line."""

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

# orderBaseInfo.status → canonical status; the one table. 0 (未知) is deliberately absent.
STATUS = {
    "10": "unpaid",  # 待付款
    "30": "paid",  # 已付款
    "40": "shipped",  # 已发货
    "50": "completed",  # 已签收
    "70": "completed",  # 订单成功
    "80": "cancelled",  # 订单失败 (cancelled, closed)
}
# what from_canonical writes for each canonical status
RENDERED_STATUS = {"unpaid": 10, "paid": 30, "shipped": 40, "completed": 70, "cancelled": 80, "refunded": 80}
REFUND_SUCCEEDED = 60  # MerchantRefundInfoView.status 60 = 退款成功


def to_canonical(order: dict[str, Any], *, shop_code: str) -> dict[str, Any]:
    """One canonical order from one 快手 order; amounts are fen, times unix milliseconds."""
    oid = text(order, "orderBaseInfo.oid")
    status = lookup_status(STATUS, pick(order, "orderBaseInfo.status"), channel="kuaishou",
                           path="orderBaseInfo.status")
    quantity = count(order, "orderItemInfo.num")
    unit_price = fen(pick(order, "orderItemInfo.price"), "orderItemInfo.price")
    sku_id = text(order, "orderItemInfo.skuId", None)
    sku_code = text(order, "orderItemInfo.skuNick", None)
    if sku_id is None and sku_code is None:
        pick(order, "orderItemInfo.skuId")  # raises, naming the field
    shipping = fen(pick(order, "orderBaseInfo.expressFee", 0), "orderBaseInfo.expressFee")
    paid_total = fen(pick(order, "orderBaseInfo.totalFee"), "orderBaseInfo.totalFee")
    if status != "unpaid" and _fully_refunded(order, paid_total - shipping):
        status = "refunded"
    amount = quantity * unit_price
    return {
        "channel": "kuaishou",
        "shop": shop_code,
        "platform_order_id": oid,
        "status": status,
        "updated_at": from_epoch(pick(order, "orderBaseInfo.updateTime"), "orderBaseInfo.updateTime", ms=True),
        "created_at": from_epoch(pick(order, "orderBaseInfo.createTime"), "orderBaseInfo.createTime", ms=True),
        "paid_at": _optional_time(order, "orderBaseInfo.payTime"),
        "buyer_nick": pick(order, "orderBaseInfo.buyerNick", None),
        "receiver": _receiver(order.get("orderAddress") or {}),
        "lines": [{
            "platform_line_id": oid,  # 快手 has no sub-order: the order is its one line
            "platform_sku_id": sku_id,
            "sku_code": sku_code,
            "title": pick(order, "orderItemInfo.itemTitle", None),
            "quantity": quantity,
            "unit_price_fen": unit_price,
            "discount_fen": 0,
            "amount_fen": amount,
        }],
        "goods_total_fen": amount,
        "shipping_fee_fen": shipping,
        "discount_fen": fen(pick(order, "orderBaseInfo.discountFee", 0), "orderBaseInfo.discountFee"),
        "paid_total_fen": paid_total,
        "live_room_id": None,  # 快手 order objects name no live room
        "buyer_message": pick(order, "orderBaseInfo.remark", None),
        "seller_memo": None,  # orderNote's shape is not documented
    }


def from_canonical(order: dict[str, Any], *, seller_id: str = "") -> dict[str, Any]:
    """A canonical order of one line rendered as a 快手 order (masked receiver fields carry the values,
    the encrypted ones the receiver's platform_cipher)."""
    if len(order["lines"]) != 1:
        raise ValueError(f"a kuaishou order holds one item, not {len(order['lines'])}")
    line = order["lines"][0]
    status = order["status"]
    receiver = order.get("receiver") or {}
    cipher = receiver.get("platform_cipher") or {}
    oid = id_value(order["platform_order_id"])
    paid_at = order.get("paid_at")
    fees = {"totalFee": order["paid_total_fen"], "expressFee": order.get("shipping_fee_fen", 0),
            "discountFee": order.get("discount_fen", 0) + line.get("discount_fen", 0)}
    refunds = []
    if status == "refunded":
        refunds.append({"refundId": id_value(f"{order['platform_order_id']}1"), "oid": oid,
                        "skuId": id_value(line.get("platform_sku_id")), "status": REFUND_SUCCEEDED,
                        "handlingWay": 10, "refundFee": order["paid_total_fen"] - fees["expressFee"],
                        "updateTime": to_epoch(order["updated_at"], ms=True)})
    return {
        "orderBaseInfo": {
            "oid": oid,
            "status": RENDERED_STATUS[status],
            "createTime": to_epoch(order["created_at"], ms=True),
            "updateTime": to_epoch(order["updated_at"], ms=True),
            "payTime": to_epoch(paid_at, ms=True) if paid_at else 0,
            "sendTime": 0,
            "recvTime": 0,
            **fees,
            "remark": order.get("buyer_message") or "",
            "buyerOpenId": "",
            "buyerNick": order.get("buyer_nick") or "",
            "sellerId": id_value(seller_id) or 0,
            "disableDeliveryReasonCode": [],
        },
        "orderItemInfo": {
            "itemId": 0,
            "skuId": id_value(line.get("platform_sku_id")) or 0,
            "relItemId": 0,
            "relSkuId": 0,
            "skuNick": line.get("sku_code") or "",
            "goodsCode": "",
            "itemTitle": line.get("title") or "",
            "skuDesc": "",
            "num": line["quantity"],
            "price": line["unit_price_fen"],
            "originalPrice": line["unit_price_fen"],
            "itemPicUrl": "",
        },
        "orderRefundList": refunds,
        "orderLogisticsInfo": [],
        "orderAddress": {
            "encryptedConsignee": cipher.get("name") or "",
            "desensitiseConsignee": receiver.get("name") or "",
            "encryptedMobile": cipher.get("phone") or "",
            "desensitiseMobile": receiver.get("phone") or "",
            "encryptedAddress": cipher.get("address") or "",
            "desensitiseAddress": receiver.get("address") or "",
            "province": receiver.get("province") or "",
            "city": receiver.get("city") or "",
            "district": receiver.get("district") or "",
            "town": receiver.get("town") or "",
        },
        "subOrderInfo": [],
    }


def _receiver(address: dict[str, Any]) -> dict[str, Any]:
    """The masked values (快手 gives no plain ones); the ciphertexts, for a later open.order.decrypt.batch, go
    to `platform_cipher`."""
    receiver = {
        "name": address.get("desensitiseConsignee") or None,
        "phone": address.get("desensitiseMobile") or None,
        "province": address.get("province") or None,
        "city": address.get("city") or None,
        "district": address.get("district") or None,
        "town": address.get("town") or None,
        "address": address.get("desensitiseAddress") or None,
    }
    return with_cipher(receiver, name=address.get("encryptedConsignee"), phone=address.get("encryptedMobile"),
                       address=address.get("encryptedAddress"))


def _fully_refunded(order: dict[str, Any], goods_paid_fen: int) -> bool:
    refunds = [r for r in order.get("orderRefundList") or [] if r.get("status") == REFUND_SUCCEEDED]
    return bool(refunds) and sum(fen(r.get("refundFee", 0), "orderRefundList.refundFee") for r in refunds) >= max(
        goods_paid_fen, 1)


def _optional_time(order: dict[str, Any], path: str) -> Any:
    value = pick(order, path, 0)
    return from_epoch(value, path, ms=True) if value not in (0, "0") else None


