"""Request and response bodies of the catalog API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from baodan.orders.schemas import Channel

CodeStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                           pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WarehouseCreate(_Strict):
    code: CodeStr
    name: Name
    priority: int = Field(default=100, ge=0, le=10_000)


class WarehouseUpdate(_Strict):
    """Fields left out are kept; the code is the warehouse's key and does not change."""

    name: Name | None = None
    priority: int | None = Field(default=None, ge=0, le=10_000)
    active: bool | None = Field(default=None, description="an inactive warehouse is given no new orders")


class WarehouseRead(BaseModel):
    id: int
    code: str
    name: str
    priority: int
    active: bool
    created_at: datetime


class ShopCreate(_Strict):
    code: CodeStr
    name: Name
    channel: Channel
    platform_shop_id: str | None = Field(default=None, max_length=64)
    default_warehouse: CodeStr | None = Field(default=None, description="warehouse code")
    fallback_warehouses: list[CodeStr] = Field(default_factory=list, max_length=50,
                                               description="warehouse codes tried after the default, in order")


class ShopUpdate(_Strict):
    """Fields left out are kept; code and channel do not change. null clears platform_shop_id and
    default_warehouse."""

    name: Name | None = None
    platform_shop_id: str | None = Field(default=None, max_length=64)
    default_warehouse: CodeStr | None = Field(default=None, description="warehouse code")
    fallback_warehouses: list[CodeStr] | None = Field(default=None, max_length=50,
                                                      description="warehouse codes tried after the default, in order")
    active: bool | None = Field(default=None, description="an inactive shop takes no orders and is not synced")


class ShopRead(BaseModel):
    id: int
    code: str
    name: str
    channel: str
    platform_shop_id: str | None
    default_warehouse_id: int | None
    fallback_warehouse_ids: list[int]
    active: bool
    created_at: datetime


class ProductCreate(_Strict):
    code: CodeStr
    name: Name


class ProductRead(BaseModel):
    id: int
    code: str
    name: str
    created_at: datetime


class BundlePart(_Strict):
    sku: CodeStr = Field(description="component SKU code")
    qty: int = Field(gt=0, le=1000)


class SkuCreate(_Strict):
    code: CodeStr = Field(description="商家编码")
    name: Name
    product: CodeStr | None = Field(default=None, description="product code")
    barcode: str | None = Field(default=None, max_length=64)
    price_fen: int = Field(default=0, ge=0, le=10**12)
    weight_g: int = Field(default=0, ge=0, le=10**8)
    components: list[BundlePart] = Field(default_factory=list, max_length=50,
                                         description="non-empty for a bundle (组合装)")


class SkuUpdate(_Strict):
    """Fields left out are kept; the code and a bundle's components do not change. null clears product and
    barcode."""

    name: Name | None = None
    product: CodeStr | None = Field(default=None, description="product code")
    barcode: str | None = Field(default=None, max_length=64)
    price_fen: int | None = Field(default=None, ge=0, le=10**12)
    weight_g: int | None = Field(default=None, ge=0, le=10**8)
    active: bool | None = None


class SkuRead(BaseModel):
    id: int
    code: str
    name: str
    product_id: int | None
    barcode: str | None
    is_bundle: bool
    price_fen: int
    weight_g: int
    active: bool
    components: list[BundlePart] = Field(default_factory=list)


PlatformId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class SkuMappingItem(_Strict):
    platform_sku_id: PlatformId
    sku: CodeStr
    platform_product_id: PlatformId | None = Field(
        default=None, description="the platform's product (item) id, where its stock calls need it")


class SkuMappingRead(BaseModel):
    shop_id: int
    platform_sku_id: str
    sku_id: int
    sku_code: str
    platform_product_id: str | None = None


class LiveSessionCreate(_Strict):
    shop: CodeStr
    title: Name
    host: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    room_id: str | None = Field(default=None, max_length=64)
    started_at: datetime
    ended_at: datetime | None = None
    featured_skus: list[CodeStr] = Field(default_factory=list, max_length=500)


class LiveSessionEnd(_Strict):
    ended_at: datetime


class LiveSessionRead(BaseModel):
    id: int
    shop_id: int
    title: str
    host: str
    room_id: str | None
    started_at: datetime
    ended_at: datetime | None
    featured_sku_ids: list[int]
