"""Request and response bodies of the inventory API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class AdjustmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64, description="SKU code")
    warehouse: str = Field(min_length=1, max_length=64, description="warehouse code")
    delta: int | None = Field(default=None, ge=-10**9, le=10**9, description="add (or remove) this many")
    set_to: int | None = Field(default=None, ge=0, le=10**9, description="or set on hand to this (a count)")
    kind: Literal["adjust", "receipt"] = "adjust"
    reason: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _one_of(self) -> AdjustmentRequest:
        if (self.delta is None) == (self.set_to is None):
            raise ValueError("give exactly one of delta or set_to")
        return self


class SafetyStockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64, description="SKU code")
    warehouse: str = Field(min_length=1, max_length=64, description="warehouse code")
    safety_stock: int = Field(ge=0, le=10**9, description="units kept back from the platforms' sellable stock")


class StockLevelRead(BaseModel):
    sku_id: int
    warehouse_id: int
    on_hand: int
    reserved: int
    available: int
    safety_stock: int
    updated_at: datetime


class StockLevelRow(StockLevelRead):
    sku_code: str
    sku_name: str
    warehouse_code: str


class StockMoveRead(BaseModel):
    id: int
    sku_id: int
    warehouse_id: int
    kind: str
    on_hand_delta: int
    reserved_delta: int
    order_id: int | None
    reason: str | None
    actor: str | None
    created_at: datetime
