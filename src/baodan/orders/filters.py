"""The order filter of the HTTP API, as one FastAPI dependency (the order list and the order export
take the same query parameters)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query, Request

from baodan.core import clock
from baodan.core.errors import Invalid
from baodan.core.http import MAX_ID
from baodan.orders.model import Anomaly, OrderState, PlatformStatus
from baodan.orders.queries import OrderFilter
from baodan.orders.schemas import Channel


def order_filter(request: Request, channel: Channel | None = None, shop: str | None = None,
                 state: OrderState | None = None, platform_status: PlatformStatus | None = None,
                 live_session_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                 anomaly: Annotated[str | None, Query(description="a reason code (unknown_sku, amount_mismatch, "
                                                      "missing_address, shipped_without_stock) or 'any'")] = None,
                 paid_from: datetime | None = None, paid_to: datetime | None = None,
                 platform_order_id: str | None = None,
                 buyer_phone: Annotated[str | None, Query(max_length=32, description="exact match, through the "
                                                          "phone's blind index (never stored in clear)")] = None,
                 hold_reason: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_]+$", description=(
                     "held in fulfilment (the anomaly queue, 异常订单) for this reason (blacklisted, "
                     "remote_region, address_problem, waybill_failed, …) or 'any'"))] = None,
                 sku: Annotated[str | None, Query(min_length=1, max_length=64, description=(
                     "a SKU code (商家编码): orders with a line of that SKU (a bundle's code finds the bundle's "
                     "orders)"))] = None,
                 ) -> OrderFilter:
    if anomaly is not None and anomaly != "any" and anomaly not in Anomaly.__members__:
        raise Invalid(f"anomaly: unknown reason code {anomaly!r}", code="request.invalid")
    phone_index = request.app.state.runtime.pii.phone_index(buyer_phone) if buyer_phone else None
    if buyer_phone and phone_index is None:
        raise Invalid("buyer_phone: no digits in it", code="request.invalid")
    return OrderFilter(
        channel=channel.value if channel else None, shop=shop, state=state.value if state else None,
        platform_status=platform_status.value if platform_status else None, live_session_id=live_session_id,
        anomaly=anomaly, paid_from=clock.as_utc(paid_from) if paid_from else None,
        paid_to=clock.as_utc(paid_to) if paid_to else None, platform_order_id=platform_order_id,
        phone_index=phone_index, sku=sku, hold_reason=hold_reason)
