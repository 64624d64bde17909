"""The canonical order (what every channel adapter and integrator sends) and the order read models."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from baodan.orders.model import PlatformStatus

Text64 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Fen = Annotated[int, Field(ge=0, le=10**12, description="integer fen (分)")]


class Channel(StrEnum):
    douyin = "douyin"  # 抖店
    kuaishou = "kuaishou"  # 快手小店
    taobao = "taobao"  # 淘宝/天猫
    pdd = "pdd"  # 拼多多
    jd = "jd"  # 京东
    wechat = "wechat"  # 微信小店
    custom = "custom"  # the merchant's own mall (小程序/独立站)


class Receiver(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    province: str | None = Field(default=None, max_length=32)
    city: str | None = Field(default=None, max_length=32)
    district: str | None = Field(default=None, max_length=32)
    town: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, max_length=300)
    platform_cipher: dict[str, Annotated[str, StringConstraints(max_length=2000)]] | None = Field(
        default=None, max_length=8, description="the platform's encrypted receiver fields (name, phone, "
        "address, …) as it gives them, for a later decrypt call through the platform: sealed with the rest, "
        "never shown; name/phone/address then carry the masked values the platform shows")


class CanonicalLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform_line_id: str | None = Field(default=None, max_length=64)
    platform_sku_id: str | None = Field(default=None, max_length=64, description="the platform's SKU id")
    sku_code: str | None = Field(default=None, max_length=64, description="商家编码, used when unmapped")
    title: str | None = Field(default=None, max_length=300)
    quantity: int = Field(gt=0, le=100_000)
    unit_price_fen: Fen
    discount_fen: Fen = 0
    amount_fen: Fen = Field(description="what the buyer pays for this line: quantity × price − discount")
    ship_after: datetime | None = Field(default=None, description=(
        "预售: the line may not ship before this (the promised ship-from date); the order waits in "
        "fulfilment until then. Naive times are Asia/Shanghai"))
    refunded: bool = Field(default=False, description=(
        "部分退款: the buyer's refund of this line succeeded while the order is otherwise still to ship; the "
        "line is taken out of the parcel and its stock released (a whole-order refund is status `refunded`)"))


class CanonicalOrder(BaseModel):
    """One event of one platform order: its full state as of `updated_at`. See docs/canonical-order.md."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel
    shop: Text64 = Field(description="BaoDan shop code")
    platform_order_id: Text64
    status: PlatformStatus
    updated_at: datetime = Field(description="platform update time; naive times are Asia/Shanghai")
    created_at: datetime
    paid_at: datetime | None = None
    buyer_nick: str | None = Field(default=None, max_length=100)
    receiver: Receiver | None = None
    lines: list[CanonicalLine] = Field(min_length=1, max_length=500)
    goods_total_fen: Fen
    shipping_fee_fen: Fen = 0
    discount_fen: Fen = 0
    paid_total_fen: Fen
    live_room_id: str | None = Field(default=None, max_length=64)
    buyer_message: str | None = Field(default=None, max_length=1000)
    seller_memo: str | None = Field(default=None, max_length=1000)
    supersedes: list[Text64] | None = Field(default=None, max_length=50, description=(
        "platform order ids (same channel) this order replaces: the platform split them into parts (each part "
        "names the original) or merged them into this one; BaoDan cancels what they held, so nothing ships twice"))

    # Rules across fields, in as few Python calls per order as possible: intake validates thousands of
    # orders a second, and each validator pydantic calls back into Python costs about a microsecond (so
    # lines are checked once per order, not once per line). Times are kept as given (a naive time means
    # Asia/Shanghai); clock.sql_text turns them into UTC keys at intake.
    @field_validator("lines")
    @classmethod
    def _lines_name_a_sku(cls, lines: list[CanonicalLine]) -> list[CanonicalLine]:
        for i, line in enumerate(lines):
            if not (line.platform_sku_id or line.sku_code):
                raise ValueError(f"lines[{i}] needs platform_sku_id or sku_code")
        return lines

    @model_validator(mode="after")
    def _paid_orders_have_paid_at(self) -> CanonicalOrder:
        if self.status not in (PlatformStatus.unpaid, PlatformStatus.cancelled) and self.paid_at is None:
            raise ValueError(f"status {self.status.value} needs paid_at")
        return self


class OrderBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    orders: list[CanonicalOrder] = Field(min_length=1)


class BatchAccepted(BaseModel):
    accepted: int = Field(description="events new to the inbox")
    duplicates: int = Field(description="events already in the inbox (redeliveries), not processed again")


class OrderLineRead(BaseModel):
    id: int
    line_no: int
    platform_line_id: str | None
    platform_sku_id: str | None
    sku_code: str | None
    sku_id: int | None
    title: str | None
    quantity: int
    unit_price_fen: int
    discount_fen: int
    amount_fen: int
    ship_after: datetime | None = Field(default=None, description="预售: not shipped before this")
    refunded_at: datetime | None = Field(default=None, description="部分退款: refunded before shipping (the line "
                                         "left its parcel in a cancelled part)")


class ReservationRead(BaseModel):
    order_line_id: int
    sku_id: int
    warehouse_id: int
    qty: int


class OrderEventRead(BaseModel):
    kind: str
    at: datetime
    detail: dict[str, Any]


class OrderRead(BaseModel):
    id: int
    channel: str
    shop_id: int
    platform_order_id: str
    platform_status: str
    platform_updated_at: datetime
    state: str
    anomalies: list[str]
    short_sku_ids: list[int]
    created_at: datetime
    paid_at: datetime | None
    buyer_nick: str | None
    receiver: dict[str, Any] | None
    goods_total_fen: int
    shipping_fee_fen: int
    discount_fen: int
    paid_total_fen: int
    live_room_id: str | None
    live_session_id: int | None
    warehouse_id: int | None
    reserved_at: datetime | None
    ingested_at: datetime
    updated_at: datetime
    parent_order_id: int | None = Field(default=None, description="a part of a split order (拆单): the original "
                                        "order it was split from (which the platform knows it by)")


class SplitPartRead(BaseModel):
    id: int
    platform_order_id: str
    state: str
    warehouse_id: int | None
    paid_total_fen: int


class ShipmentRead(BaseModel):
    id: int
    carrier_code: str
    waybill_no: str
    shipped_at: datetime
    written_back_at: datetime | None


class DecisionRead(BaseModel):
    hook: str
    rule_set_version: int
    rule: str | None
    rule_title: str | None
    outcome: str
    reason: str | None
    at: datetime


class FulfilmentRead(BaseModel):
    stage: str
    hold_reason: str | None


class OrderDetail(OrderRead):
    lines: list[OrderLineRead]
    reservations: list[ReservationRead]
    events: list[OrderEventRead]
    shipments: list[ShipmentRead] = Field(default_factory=list, description="parcels: courier and waybill "
                                          "(tracking), and when the waybill was written back to the platform")
    decisions: list[DecisionRead] = Field(default_factory=list, description="what each rule set decided "
                                          "(review, routing, carrier), with the version and the rule")
    fulfilment: FulfilmentRead | None = Field(default=None, description="where the order is in the warehouse "
                                              "(null until the fulfilment stage has taken it)")
    parts: list[SplitPartRead] = Field(default_factory=list, description="a split order (拆单): the other orders "
                                       "of the same platform order (its original and parts)")


class UnmappedSkuRead(BaseModel):
    platform_sku_id: str
    orders: int = Field(description="orders flagged unknown_sku with a line of it")
    quantity: int
    title: str | None
    sku_code: str | None = Field(description="the 商家编码 the platform sent, if any")
    last_paid_at: datetime | None


class OrderPage(BaseModel):
    items: list[OrderRead]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null at the end")
