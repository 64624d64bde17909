"""Webhook endpoints: where platforms and own channels push orders. Exempt from user authentication,
each is verified by its sender's signature instead; an unsigned or wrongly signed push is refused
(401, nothing written) and audited (at most BAD_SIGNATURE_AUDITS_PER_MINUTE records per shop, so a flood
of forgeries cannot flood the trail). Only verification and the inbox insert happen here, so the
answer comes within the platforms' accept budget. Pushes are not rate limited: they are the orders."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from baodan.channels import custom
from baodan.channels.base import BadSignature
from baodan.core.errors import Invalid, NotFound
from baodan.identity import audit
from baodan.identity.http import client_ip, public
from baodan.identity.scope import Scope
from baodan.intake import services as intake
from baodan.orders.schemas import BatchAccepted, OrderBatch

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
BAD_SIGNATURE_AUDITS_PER_MINUTE = 10
SIGNED = {401: {"description": "unsigned, wrongly signed or stale (code webhook.*): nothing was written"},
          404: {"description": "no such shop on this channel (webhook.unknown_shop)"}}


@router.post("/custom/{shop}", dependencies=[Depends(public)], response_model=BatchAccepted, responses={
    **SIGNED, 422: {"description": "invalid orders, or an order of another shop: nothing was written"}})
async def custom_push(shop: str, request: Request) -> Any:
    """An own channel pushes canonical orders (`{"orders": [...]}`, up to 5,000, each of this shop)
    signed with the shop's secret: see docs/own-channel.md. Idempotent, like POST /api/v1/orders/batch."""
    body = await request.body()
    return await run_in_threadpool(_accept_custom, request.app.state.runtime, shop, dict(request.headers), body,
                                   client_ip(request))


def _accept_custom(rt: Any, shop_code: str, headers: dict[str, str], body: bytes, ip: str | None) -> dict[str, int]:
    found = rt.shops.lookup(shop_code)
    if found is None or found[1] != "custom":
        raise NotFound(f"no own-channel shop {shop_code!r}", code="webhook.unknown_shop")
    shop_id = found[0]
    creds = rt.credentials.get(shop_id)
    try:
        if creds is None:
            raise BadSignature(f"shop {shop_code!r} has no signing secret yet: set its credentials first",
                               code="webhook.not_configured")
        custom.verify(creds.app_secret, headers, body)
    except BadSignature as exc:
        refused(rt, channel="custom", shop=shop_code, ip=ip, why=exc.code)
        raise
    try:
        batch = OrderBatch.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    for index, order in enumerate(batch.orders):
        if order.shop != shop_code:
            raise Invalid(f"orders[{index}]: shop {order.shop!r} pushed to the webhook of {shop_code!r}",
                          code="webhook.shop_mismatch", details={"index": index})
    result = intake.accept_orders(rt.inbox, rt.shops, batch.orders, pii=rt.pii, scope=Scope(frozenset({shop_id})),
                                  max_orders=rt.settings.max_orders_per_request)
    return {"accepted": result.accepted, "duplicates": result.duplicates}


def refused(rt: Any, *, channel: str, shop: str, ip: str | None, why: str) -> None:
    """Audit a refused push (throttled per shop)."""
    if rt.rate_limits.allow(f"webhook-refused:{channel}:{shop}", BAD_SIGNATURE_AUDITS_PER_MINUTE):
        with rt.db.write() as s:
            audit.record(s, actor=f"webhook:{channel}", action="webhook.refused", target=f"shop:{shop[:64]}", ip=ip,
                         detail={"why": why})
