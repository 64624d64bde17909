"""The dashboard's JSON (GET /api/v1/dashboard, and the `dashboard` event of /events), for the API docs."""

from __future__ import annotations

import datetime as dt
from datetime import datetime

from pydantic import BaseModel, Field


class View(BaseModel):
    kind: str = Field(description="live_session or today")
    live_session_id: int | None
    title: str | None = None
    host: str | None = None
    shop_id: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    live: bool | None = Field(default=None, description="the session has not ended")
    date: dt.date | None = Field(default=None, description="today: the Shanghai calendar day")
    ends_at: datetime | None = None


class Span(BaseModel):
    from_: datetime = Field(alias="from", description="orders paid from (UTC)")
    to: datetime = Field(description="… until (now, or the end of the session)")


class Totals(BaseModel):
    orders: int = Field(description="paid orders (cancelled later included)")
    gmv_fen: int = Field(description="what they paid, fen")
    units: int = Field(description="units of known SKUs in them")
    cancelled_orders: int
    cancelled_fen: int
    net_gmv_fen: int = Field(description="gmv_fen less what cancelled orders paid")


class Minute(BaseModel):
    at: datetime = Field(description="the minute's start (UTC)")
    label: str = Field(description="HH:MM in Asia/Shanghai")
    orders: int
    gmv_fen: int


class ChannelFigures(BaseModel):
    channel: str
    orders: int
    gmv_fen: int


class ProvinceFigures(BaseModel):
    province: str = Field(description="the receiver's province as the platform gave it; 未知 without one")
    orders: int
    gmv_fen: int


class ShopSellable(BaseModel):
    shop_id: int
    sellable: int


class HotSku(BaseModel):
    sku_id: int
    sku_code: str | None
    name: str | None
    is_bundle: bool
    units: int
    orders: int = Field(description="order lines")
    gmv_fen: int = Field(description="line amounts, fen")
    sellable: int | None = Field(description="what the view's shop may still sell (pushed to its platform): "
                                             "on hand − reserved − safety stock − set aside for other shops, "
                                             "within its share; null when the view covers several shops")
    sellable_by_shop: list[ShopSellable]


class Anomaly(BaseModel):
    source: str = Field(description="order: flagged at intake (sales_order.anomalies); fulfilment: held by "
                                    "review or a later step")
    reason: str
    orders: int


class Anomalies(BaseModel):
    orders: int = Field(description="sum over reasons (an order with two reasons counts twice)")
    by_reason: list[Anomaly]


class Shipping(BaseModel):
    orders: int
    shipped: int = Field(description="orders shipped or completed")
    shipped_share: float
    states: dict[str, int] = Field(description="orders per state (reserved, awaiting_stock, held, shipped, …)")
    stages: dict[str, int] = Field(description="orders per fulfilment stage (review, route, waybill, ready, waved, "
                                               "picked, packed, shipped, held, …)")


class Dashboard(BaseModel):
    view: View
    window: Span
    as_of: datetime
    timezone: str
    totals: Totals
    per_minute: list[Minute] = Field(description="the last 60 minutes of the window, oldest first, zero-filled")
    channels: list[ChannelFigures]
    hot_skus: list[HotSku]
    anomalies: Anomalies
    shipping: Shipping
    provinces: list[ProvinceFigures]
