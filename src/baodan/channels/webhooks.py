"""Webhook endpoints: where platforms and own channels push orders. Exempt from user authentication,
each is verified by its sender's signature instead; an unsigned or wrongly signed push is refused
(the platform's failure answer, or 401 for own channels; nothing written) and audited (at most
BAD_SIGNATURE_AUDITS_PER_MINUTE records per shop, so a flood of forgeries cannot flood the trail).

Only verification and the inbox insert happen here, so the answer comes within the platforms' accept
budget: a push that carries the whole order goes to the inbox; one that only names an order queues it
for a detail call (`channel_fetch`, done by the channel sync in the background). Pushes are not rate
limited: they are the orders."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from baodan.channels import custom
from baodan.channels.base import BadSignature, Incoming, PushNotice
from baodan.channels.registry import ADAPTERS
from baodan.channels.transport import ShopLink
from baodan.core import clock
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


@router.post("/{platform}", dependencies=[Depends(public)], responses={
    200: {"description": "the platform's success answer"},
    404: {"description": "no such platform, or it has no push (webhook.unknown_platform)"}})
async def platform_push(platform: str, request: Request) -> Response:
    """A platform's order push (抖店, 快手, 淘宝 TMC relay, 拼多多 PMC relay, 微信小店): register
    `<BaoDan URL>/webhooks/<platform>` as the push URL in the platform's back office. Verified with the
    credentials of the shop (app) it names; answered in the platform's own success/failure shape."""
    incoming = _incoming(request, await request.body())
    answer = await run_in_threadpool(_accept_platform, request.app.state.runtime, platform, incoming,
                                     client_ip(request))
    return Response(answer.body, status_code=answer.status, media_type=answer.content_type)


@router.get("/{platform}", dependencies=[Depends(public)])
async def platform_handshake(platform: str, request: Request) -> Response:
    """A platform's check of the push URL (e.g. WeChat's echostr), answered as the platform expects."""
    incoming = _incoming(request, b"")
    rt = request.app.state.runtime
    for link in _candidates(rt, platform, incoming):
        answer = link.adapter.handshake(link.creds, incoming)
        if answer is not None:
            return Response(answer.body, status_code=answer.status, media_type=answer.content_type)
    raise NotFound(f"no {platform} shop answers a URL check here", code="webhook.unknown_platform")


def _incoming(request: Request, body: bytes) -> Incoming:
    return Incoming(request.method, request.url.path, dict(request.query_params),
                    {k.lower(): v for k, v in request.headers.items()}, body)


def _candidates(rt: Any, platform: str, incoming: Incoming) -> list[ShopLink]:
    adapter = ADAPTERS.get(platform)
    if adapter is None or not adapter.has_push:
        raise NotFound(f"no platform {platform!r} pushes here", code="webhook.unknown_platform")
    route = adapter.push_route(incoming)
    links = rt.links.of_channel(platform)
    if route.app_key:
        links = [k for k in links if k.creds.app_key == route.app_key]
    if route.platform_shop_id:
        links = [k for k in links if not k.creds.shop_id or k.creds.shop_id == route.platform_shop_id] or links
    return links


def _accept_platform(rt: Any, platform: str, incoming: Incoming, ip: str | None) -> Any:
    links = _candidates(rt, platform, incoming)
    adapter = ADAPTERS[platform]
    notices: list[PushNotice] | None = None
    why = "webhook.not_configured"
    for link in links:  # usually one: the shop whose app the push names
        try:
            notices, verified = link.adapter.open_push(link.creds, incoming, now=clock.utcnow()), link
            break
        except BadSignature as exc:
            why = exc.code
    if notices is None:
        refused(rt, channel=platform, shop=(links[0].shop_code if len(links) == 1 else "?"), ip=ip, why=why)
        return adapter.push_answer(False)
    # a notice may name another shop of the same app (one app, several shops); never one whose
    # credentials did not verify this push
    by_shop = {k.creds.shop_id: k for k in links
               if k.creds.shop_id and (k.creds.app_key, k.creds.app_secret) == (verified.creds.app_key,
                                                                                verified.creds.app_secret)}
    full: dict[int, list[dict[str, Any]]] = {}
    named: dict[int, dict[str, Any]] = {}  # shop → order id → the update time the push stated
    targets: dict[int, ShopLink] = {}
    for notice in notices:
        link = by_shop.get(notice.platform_shop_id or "", verified)
        targets[link.shop_id] = link
        if notice.order is not None:
            full.setdefault(link.shop_id, []).append(notice.order)
        else:
            stated = named.setdefault(link.shop_id, {})
            stated[notice.platform_order_id] = max(filter(None, (stated.get(notice.platform_order_id),
                                                                 notice.occurred_at)), default=None)
    for shop_id, orders in full.items():
        rt.channel_intake.ingest(targets[shop_id], orders)
    for shop_id, stated in named.items():
        rt.channel_intake.request_fetch(shop_id, stated, updated=stated)
    return adapter.push_answer(True)
