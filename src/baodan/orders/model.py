"""Order states, platform statuses and the pure rules applied to every incoming order."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import NamedTuple


class PlatformStatus(StrEnum):
    """The platform's view of the order, in the canonical vocabulary every adapter maps to."""

    unpaid = "unpaid"  # 待付款
    paid = "paid"  # 已付款, waiting for the seller to ship
    shipped = "shipped"  # 已发货
    completed = "completed"  # 已完成 / 已签收
    cancelled = "cancelled"  # 已取消 / 交易关闭 before shipping
    refunded = "refunded"  # fully refunded (全额退款) — closes the order like a cancel


# When two events carry the same update time, the later stage of the life cycle wins.
STATUS_RANK = {
    PlatformStatus.unpaid: 0,
    PlatformStatus.paid: 1,
    PlatformStatus.shipped: 2,
    PlatformStatus.completed: 3,
    PlatformStatus.refunded: 4,
    PlatformStatus.cancelled: 5,
}

CLOSED = frozenset({PlatformStatus.cancelled, PlatformStatus.refunded})


class OrderState(StrEnum):
    """BaoDan's own state of an order (what the warehouse and operators act on)."""

    unpaid = "unpaid"  # 待付款: nothing reserved
    reserved = "reserved"  # 已占库存: stock held in one warehouse, ready for fulfilment
    awaiting_stock = "awaiting_stock"  # 缺货: paid, waiting in paid order for stock to arrive
    held = "held"  # 异常挂起: cannot be reserved until an operator fixes it (e.g. unknown SKU)
    shipped = "shipped"  # 已发货
    completed = "completed"  # 已完成
    cancelled = "cancelled"  # 已取消 / 已退款 before shipping: reservation released


LIVE_STATES = frozenset({OrderState.reserved})
OPEN_STATES = frozenset({OrderState.unpaid, OrderState.reserved, OrderState.awaiting_stock, OrderState.held})


class Anomaly(StrEnum):
    """Reason codes of an order kept but flagged (异常); never dropped, never silently fixed."""

    unknown_sku = "unknown_sku"  # a line names a SKU we cannot map
    amount_mismatch = "amount_mismatch"  # lines + shipping − discount ≠ paid total, or a line's sum is off
    missing_address = "missing_address"  # no receiver, or no province/city/address
    shipped_without_stock = "shipped_without_stock"  # platform says shipped but nothing was reserved
    superseded = "superseded"  # the platform split or merged it into other orders: cancelled here
    superseded_after_shipping = "superseded_after_shipping"  # its original already shipped: held, not shipped twice


def is_newer(status: str, updated_at_key: str, than_status: str, than_updated_at_key: str) -> bool:
    """True when (status, update time) is strictly later than the stored one. Keys are UTC text."""
    if updated_at_key != than_updated_at_key:
        return updated_at_key > than_updated_at_key
    return STATUS_RANK[PlatformStatus(status)] > STATUS_RANK[PlatformStatus(than_status)]


class LineAmounts(NamedTuple):
    quantity: int
    unit_price_fen: int
    discount_fen: int
    amount_fen: int


def amount_anomalies(lines: Sequence[LineAmounts], *, shipping_fee_fen: int, discount_fen: int,
                     paid_total_fen: int, goods_total_fen: int) -> list[Anomaly]:
    """Every line must add up (qty × price − discount) and the order must add up to what was paid."""
    goods = 0
    for line in lines:
        if line.quantity * line.unit_price_fen - line.discount_fen != line.amount_fen:
            return [Anomaly.amount_mismatch]
        goods += line.amount_fen
    if goods != goods_total_fen or goods + shipping_fee_fen - discount_fen != paid_total_fen:
        return [Anomaly.amount_mismatch]
    return []


def address_anomalies(receiver: dict | None) -> list[Anomaly]:
    if not receiver:
        return [Anomaly.missing_address]
    for key in ("name", "phone", "province", "city", "address"):
        if not str(receiver.get(key) or "").strip():
            return [Anomaly.missing_address]
    return []


def attribute_session(sessions, *, shop_id: int, paid_at, live_room_id: str | None) -> int | None:  # noqa: ANN001
    """The live session an order belongs to: the one the platform names by live room, else the shop's
    session that was live when the order was paid. `sessions` are newest first."""
    if paid_at is None:
        return None
    if live_room_id:
        for window in sessions:
            if window.shop_id == shop_id and window.room_id == live_room_id and window.covers(paid_at):
                return window.id
    for window in sessions:
        if window.shop_id == shop_id and window.covers(paid_at):
            return window.id
    return None
