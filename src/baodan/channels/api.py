"""HTTP routes of channels: a shop's platform credentials (write-only secrets)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select

from baodan.catalog.errors import CatalogNotFound
from baodan.catalog.tables import shop
from baodan.channels import carriers, credentials, stock
from baodan.channels.registry import ADAPTERS
from baodan.channels.status import sync_state
from baodan.core import clock
from baodan.core.db import db_time, dialect_of, execute, fetchall
from baodan.core.errors import Invalid, NotFound
from baodan.core.http import MAX_ID, IdPath, runtime_of
from baodan.identity import audit
from baodan.identity.accounts import Principal
from baodan.identity.http import client_ip, principal_of, require
from baodan.identity.scope import Scope

router = APIRouter(tags=["channels"])
Rt = Annotated[Any, Depends(runtime_of)]
Me = Annotated[Principal, Depends(principal_of)]


class CredentialsWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    app_key: str = Field(default="", max_length=128, description="the platform app's key (AppKey/client_id)")
    app_secret: str | None = Field(default=None, min_length=8, max_length=512, description=(
        "write-only; for an own channel (custom) leave it out to have a secret generated (answered once)"))
    platform_shop_id: str | None = Field(default=None, max_length=64)
    base_url: str | None = Field(default=None, max_length=300, pattern=r"^https?://[^\s]+$", description=(
        "the platform's gateway root; leave out for the production gateway (a simulator or sandbox: its URL)"))
    access_token: str | None = Field(default=None, max_length=2000, description="write-only")
    extra: dict[str, str] = Field(default_factory=dict, max_length=20, description="write-only platform specifics")
    calls_per_second: float | None = Field(default=None, gt=0, le=credentials.MAX_CALLS_PER_SECOND, description=(
        "the call rate the platform granted this shop, where above the default; leave out for the default"))
    refresh_token: str | None = Field(default=None, max_length=2000, description=(
        "write-only; the platform's refresh token, where it has one: BaoDan renews the access token with it"))
    token_expires_at: AwareDatetime | None = Field(default=None, description=(
        "when the access token stops working (from the platform's expires_in); leave out if not known"))
    refresh_expires_at: AwareDatetime | None = Field(default=None, description=(
        "when the refresh token stops working; leave out if not known"))
    keep_secrets: bool = Field(default=False, description=(
        "true: a secret left out (app_secret, access_token, refresh_token, an empty extra) keeps the stored "
        "one, and a kept token keeps when it stops working (the console's form: a blank secret field keeps "
        "the old secret); the shop must have credentials already"))


class CredentialsRead(BaseModel):
    shop_id: int
    configured: bool
    app_key: str | None
    platform_shop_id: str | None
    base_url: str | None = None
    calls_per_second: float | None = None
    updated_by: str | None
    updated_at: datetime | None
    token_expires_at: datetime | None = Field(default=None, description="when the access token stops working")
    refresh_expires_at: datetime | None = Field(default=None, description=(
        "when the refresh token stops working (or stopped: refused by the platform, or there is none)"))
    generated_secret: str | None = Field(default=None, description="only in the answer that generated it")


def _shop_channel(rt: Any, me: Principal, shop_id: int) -> str:
    with rt.db.read() as s:
        channel = s.scalar(select(shop.c.channel).where(shop.c.id == shop_id, Scope.of(me).shops(shop.c.id)))
    if channel is None:
        raise CatalogNotFound(f"no shop {shop_id}")
    return channel


@router.get("/shops/{shop_id}/credentials", dependencies=[Depends(require("catalog.read"))],
            response_model=CredentialsRead)
def get_credentials(shop_id: IdPath, rt: Rt, me: Me) -> Any:
    """What is configured (never a secret)."""
    _shop_channel(rt, me, shop_id)
    return credentials.summary(rt.db, shop_id)


@router.put("/shops/{shop_id}/credentials", dependencies=[Depends(require("settings.write"))],
            response_model=CredentialsRead)
def put_credentials(shop_id: IdPath, body: CredentialsWrite, rt: Rt, me: Me, request: Request) -> Any:
    """Set the shop's credentials (replacing all of them). Secrets are sealed at rest and never shown
    again; the change is audited without them."""
    channel = _shop_channel(rt, me, shop_id)
    secret, generated = body.app_secret, None
    if secret is None and not body.keep_secrets:
        if channel != "custom":
            raise Invalid("app_secret: required for a platform shop", code="channels.invalid_credentials")
        secret = generated = credentials.new_secret()
    saved = credentials.save(rt.db, rt.pii, shop_id=shop_id, app_key=body.app_key, app_secret=secret,
                             platform_shop_id=body.platform_shop_id, base_url=body.base_url,
                             access_token=body.access_token, extra=body.extra,
                             calls_per_second=body.calls_per_second, refresh_token=body.refresh_token,
                             token_expires_at=body.token_expires_at, refresh_expires_at=body.refresh_expires_at,
                             keep_secrets=body.keep_secrets, actor=me.actor, ip=client_ip(request))
    rt.credentials.forget(shop_id)
    rt.links.forget()
    return {**saved, "generated_secret": generated}


Carriers = Annotated[dict[Annotated[str, Field(pattern=r"^[A-Z0-9_]{1,32}$")],
                          Annotated[str, Field(min_length=1, max_length=32)]], Field(max_length=100)]


def _platform(channel: str) -> str:
    if channel not in ADAPTERS:
        raise NotFound(f"no platform {channel!r}", code="channels.unknown_platform")
    return channel


@router.get("/channels/{channel}/carriers", dependencies=[Depends(require("catalog.read"))],
            response_model=dict[str, str])
def get_carriers(channel: str, rt: Rt) -> Any:
    """BaoDan courier code (ZTO, YTO, SF, …) → this platform's code for it, as write-backs send it."""
    with rt.db.read() as s:
        return carriers.codes(s, _platform(channel))


@router.put("/channels/{channel}/carriers", dependencies=[Depends(require("settings.write"))],
            response_model=dict[str, str])
def put_carriers(channel: str, body: Carriers, rt: Rt, me: Me, request: Request) -> Any:
    """Set the platform's codes for couriers (from its own list, e.g. 拼多多 pdd.logistics.companies.get);
    the others keep theirs. Audited."""
    return carriers.save(rt.db, _platform(channel), body, actor=me.actor, ip=client_ip(request))


class Allocation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    shop_id: int = Field(ge=1, le=MAX_ID)
    percent: int | None = Field(default=None, ge=0, le=100, description="this shop sells at most this share")
    cap: int | None = Field(default=None, ge=0, le=10**9, description="… and at most this many")
    set_aside: int | None = Field(default=None, ge=0, le=10**9, description="units kept for this shop alone")


class AllocationRead(Allocation):
    platform_sku_id: str | None = None
    sellable: int | None = Field(default=None, description="what the shop may sell now (pushed to its platform)")


@router.get("/skus/{sku_id}/allocations", dependencies=[Depends(require("stock.read"))],
            response_model=list[AllocationRead])
def get_allocations(sku_id: IdPath, rt: Rt, me: Me) -> Any:
    """How a SKU's stock is shared between the shops that sell it (one pool unless set otherwise), and
    what each may sell now."""
    scope = Scope.of(me)
    with rt.db.read() as s:
        rows = {r[0]: r[1:] for r in fetchall(s, "SELECT shop_id, percent, cap, set_aside FROM channel_allocation "
                                                 "WHERE sku_id = ?", (sku_id,))}
        shop_ids = [i for (i,) in fetchall(s, "SELECT id FROM shop") if scope.has_shop(i)]
        items = [i for i in stock.listings(s, shop_ids=shop_ids, sku_ids=[sku_id]) if i.sku_id == sku_id]
        sellable = stock.sellable(s, items)
    return [{"shop_id": i.shop_id, "platform_sku_id": i.platform_sku_id,
             **dict(zip(("percent", "cap", "set_aside"), rows.get(i.shop_id, (None, None, None)), strict=True)),
             "sellable": sellable[(i.shop_id, i.platform_sku_id)]} for i in items]


@router.put("/skus/{sku_id}/allocations", dependencies=[Depends(require("catalog.write"))],
            response_model=list[AllocationRead])
def put_allocations(sku_id: IdPath, body: Annotated[list[Allocation], Field(max_length=100)], rt: Rt, me: Me,
                    request: Request) -> Any:
    """Replace how a SKU is shared between shops (an empty list: one shared pool again). Audited; the new
    sellable quantities are pushed within a second or two."""
    scope = Scope.of(me)
    if any(not scope.has_shop(a.shop_id) for a in body):
        raise CatalogNotFound("no such shop")
    now = clock.utcnow()
    with rt.db.write() as s:
        dialect = dialect_of(s)
        if not fetchall(s, "SELECT 1 FROM sku WHERE id = ?", (sku_id,)):
            raise CatalogNotFound(f"no SKU {sku_id}")
        before = [dict(zip(("shop_id", "percent", "cap", "set_aside"), r, strict=True)) for r in fetchall(
            s, "SELECT shop_id, percent, cap, set_aside FROM channel_allocation WHERE sku_id = ? ORDER BY shop_id",
            (sku_id,))]
        execute(s, "DELETE FROM channel_allocation WHERE sku_id = ?", (sku_id,))
        for a in body:
            execute(s, "INSERT INTO channel_allocation (sku_id, shop_id, percent, cap, set_aside, updated_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (sku_id, a.shop_id, a.percent, a.cap, a.set_aside,
                                                     db_time(dialect, now)))
        # touch the levels so the stock loop sees the SKU as changed and pushes the new quantities
        execute(s, "UPDATE stock_level SET updated_at = ? WHERE sku_id = ?", (db_time(dialect, now), sku_id))
        audit.record(s, actor=me.actor, action="settings.allocation", target=f"sku:{sku_id}", ip=client_ip(request),
                     detail={"before": before, "after": [a.model_dump() for a in body]})
    return get_allocations(sku_id, rt, me)


class SyncState(BaseModel):
    shop: str
    channel: str
    app_key: str | None
    base_url: str | None
    synced_to: datetime | None
    last_pull_at: datetime | None
    pull_error: str | None
    fetch_queued: int
    fetch_failing: int
    fetch_error: str | None
    writebacks_owed: int
    writeback_error: str | None
    stock_listings_pushed: int
    stock_failing: int
    calls_last_hour: int
    failed_calls_last_hour: int
    token_expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    token_error: str | None = Field(default=None, description=(
        "set when the access token cannot be renewed: the merchant must re-authorise the shop"))


@router.get("/channels/status", dependencies=[Depends(require("catalog.read"))], response_model=list[SyncState])
def channels_status(rt: Rt, me: Me) -> Any:
    """How each connected shop (of the caller's) is in step with its platform: how far the pull got, orders
    waiting for a detail call, write-backs owed, failing stock pushes, failed calls in the last hour."""
    scope = Scope.of(me)
    with rt.db.read() as s:
        codes = {code for shop_id, code in fetchall(s, "SELECT id, code FROM shop") if scope.has_shop(shop_id)}
    return [row for row in sync_state(rt.db) if row["shop"] in codes]
