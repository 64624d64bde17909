"""Request and response bodies of the carrier account API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Region = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
RegionGiven = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
MAX_LOW_WATER = 1_000_000
MAX_BATCH = 5_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Sender(_Strict):
    """Who the labels name as sender (the warehouse)."""

    name: Text
    phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=32)]
    province: RegionGiven
    city: RegionGiven
    district: Region = ""
    town: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] = ""
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class Secrets(_Strict):
    """Write-only: sealed at rest, never shown again."""

    app_secret: str = Field(min_length=8, max_length=512, description=(
        "菜鸟: the TOP app secret; 快递鸟: the AppKey; 拼多多: the client_secret; 抖店: the app_secret"))
    access_token: str | None = Field(default=None, max_length=2000, description=(
        "菜鸟, 拼多多, 抖店: the session (access token) of the seller who subscribed the courier's e-waybill "
        "service"))
    extra: dict[Annotated[str, StringConstraints(max_length=64)], Annotated[str, StringConstraints(max_length=500)]] \
        = Field(default_factory=dict, max_length=20, description=(
            "菜鸟, 拼多多: user_id (the seller id, required), template_url, need_encrypt; 快递鸟: CustomerName, "
            "CustomerPwd, MonthCode, SendSite (the courier account), pay_type; 抖店: shop_id (the 抖店 shop id), "
            "net_code and net_category (加盟网点), pay_method (1 寄付月结, 2 寄付现结), product_type"))


class CarrierAccountWrite(_Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    adapter: Literal["cainiao", "kdniao", "pdd", "douyin"] = Field(description=(
        "the e-waybill service: cainiao (菜鸟), kdniao (快递鸟), pdd (拼多多电子面单), douyin (抖店电子面单: "
        "numbers 抖店 orders, their encrypted receivers included)"))
    carrier_code: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{1,32}$")] = Field(
        description="BaoDan's courier code: ZTO, YTO, STO, YUNDA, SF, JTSD, EMS, POSTB, JD, …")
    platform_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,32}$")] | None = Field(
        default=None, description="the courier's code at this service, where not the usual one (e.g. 极兔)")
    app_key: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)] = Field(
        description="菜鸟: the TOP app key; 快递鸟: the EBusinessID; 拼多多: the client_id; 抖店: the app_key")
    base_url: str | None = Field(default=None, max_length=300, pattern=r"^https?://[^\s]+$", description=(
        "the service's gateway root; leave out for the production gateway (a simulator or sandbox: its URL)"))
    sender: Sender
    warehouse_id: int | None = Field(default=None, ge=1, le=2**53, description=(
        "the warehouse whose parcels this account numbers (the sender is that warehouse); leave out: any"))
    shop_id: int | None = Field(default=None, ge=1, le=2**53, description=(
        "抖店/拼多多 电子面单: the shop (of that platform, connected in BaoDan) whose platform session the account "
        "uses — its access token is the shop's current one, renewed with the shop's connection, instead of "
        "the copy in `secrets`"))
    daily_capacity: int | None = Field(default=None, ge=1, le=10_000_000, description="numbers a day at most")
    low_water: int = Field(default=2000, ge=0, le=MAX_LOW_WATER, description=(
        "numbers kept ready ahead of printing: below it, the refill asks for more"))
    refill_batch: int = Field(default=200, ge=1, le=MAX_BATCH, description="numbers asked for in one refill pass")
    active: bool = True
    secrets: Secrets | None = Field(default=None, description="required to create; on an update, left out: kept")


class CarrierAccountRead(BaseModel):
    id: int
    name: str
    adapter: str
    carrier_code: str
    platform_code: str | None
    app_key: str
    base_url: str | None
    sender: Sender
    warehouse_id: int | None
    shop_id: int | None = None
    daily_capacity: int | None
    low_water: int
    refill_batch: int
    active: bool
    last_error: str | None
    last_refill_at: datetime | None
    updated_by: str
    updated_at: datetime
    ready: int = Field(description="numbers issued and not yet taken")
    queued: int = Field(description="orders waiting for a number")
    failing: int = Field(description="orders whose last application failed")
    issued_today: int = Field(description="numbers issued since midnight (Beijing)")


class CancelRequest(_Strict):
    carrier_code: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{1,32}$")] | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class WaybillRead(BaseModel):
    id: int
    order_id: int
    account_id: int
    carrier_code: str
    waybill_no: str
    state: str
    cancel_reason: str | None
    last_error: str | None
