"""Fulfilment over HTTP: where orders are (counts per stage and hold reason), the anomaly queue (异常订单)
and its actions, and the blacklist the review reads. Every answer and action is within the caller's shops."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from baodan.core import clock
from baodan.core.db import db_time, dialect_of, execute, fetchall
from baodan.core.errors import Conflict, Invalid, NotFound
from baodan.core.http import Cursor, IdPath, runtime_of
from baodan.documents.model import PageSize
from baodan.fulfilment import actions, packing, printing, short, split, waves
from baodan.fulfilment.tables import blacklist, fulfilment, wave
from baodan.identity import audit
from baodan.identity.http import Principal, client_ip, principal_of, require
from baodan.identity.scope import Scope
from baodan.orders.tables import sales_order

router = APIRouter(tags=["fulfilment"])
Rt = Annotated[Any, Depends(runtime_of)]
Me = Annotated[Principal, Depends(principal_of)]


class HeldOrder(BaseModel):
    order_id: int
    channel: str
    shop_id: int
    platform_order_id: str
    hold_reason: str | None
    paid_at: datetime | None
    paid_total_fen: int
    receiver: dict[str, Any] | None = Field(description="region in clear, name/phone/address masked")


class HeldPage(BaseModel):
    items: list[HeldOrder]
    next_cursor: str | None


class StageRead(BaseModel):
    order_id: int
    stage: str
    hold_reason: str | None
    version: int


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=200)


class AddressFix(BaseModel):
    model_config = ConfigDict(extra="forbid")
    province: str = Field(min_length=2, max_length=20)
    city: str = Field(min_length=2, max_length=30)
    district: str | None = Field(default=None, max_length=30)
    address: str = Field(min_length=2, max_length=200, description="street and number (详细地址)")


class SplitWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line_ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        min_length=1, max_length=500, description="the order's lines (order_line ids) that become a part of their own")
    note: str | None = Field(default=None, max_length=200)


class SplitPart(BaseModel):
    order_id: int
    platform_order_id: str
    state: str
    warehouse_id: int | None


class SplitRead(BaseModel):
    parts: list[SplitPart] = Field(description="the order (first), then the new part")


class BlacklistWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(pattern=r"^(buyer_nick|phone|address)$")
    value: str = Field(min_length=1, max_length=200, description="a buyer nick, a phone number (kept only as its "
                                                                 "blind index) or an address")
    note: str | None = Field(default=None, max_length=500)


@router.get("/fulfilment/summary", dependencies=[Depends(require("orders.read"))])
def summary(rt: Rt, me: Me) -> dict[str, Any]:
    """Orders per fulfilment stage, and held orders per reason."""
    scope = Scope.of(me)
    joined = fulfilment.join(sales_order, sales_order.c.id == fulfilment.c.order_id)
    with rt.db.read() as s:
        stages = dict(s.execute(select(fulfilment.c.stage, func.count()).select_from(joined)
                                .where(scope.shops(sales_order.c.shop_id)).group_by(fulfilment.c.stage)).all())
        reasons = dict(s.execute(select(fulfilment.c.hold_reason, func.count()).select_from(joined)
                                 .where(fulfilment.c.stage == "held", scope.shops(sales_order.c.shop_id))
                                 .group_by(fulfilment.c.hold_reason)).all())
    return {"stages": stages, "held_reasons": reasons}


@router.get("/fulfilment/held", dependencies=[Depends(require("orders.read"))], response_model=HeldPage)
def held(rt: Rt, me: Me, reason: Annotated[str | None, Query(max_length=64)] = None,
         shop_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
         limit: Annotated[int, Query(ge=1, le=500)] = 100, cursor: Cursor = None) -> Any:
    """The anomaly queue: held orders, oldest payment first (page on with ?cursor=)."""
    query = (select(fulfilment.c.order_id, sales_order.c.channel, sales_order.c.shop_id,
                    sales_order.c.platform_order_id, fulfilment.c.hold_reason, sales_order.c.paid_at,
                    sales_order.c.paid_total_fen, sales_order.c.receiver)
             .select_from(fulfilment.join(sales_order, sales_order.c.id == fulfilment.c.order_id))
             .where(fulfilment.c.stage == "held", Scope.of(me).shops(sales_order.c.shop_id))
             .order_by(fulfilment.c.order_id).limit(limit + 1))
    if reason:
        query = query.where(fulfilment.c.hold_reason == reason)
    if shop_id:
        query = query.where(sales_order.c.shop_id == shop_id)
    if cursor:
        query = query.where(fulfilment.c.order_id > int(cursor))
    with rt.db.read() as s:
        rows = [r._asdict() for r in s.execute(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": str(rows[-1]["order_id"]) if more else None}


@router.post("/fulfilment/{order_id}/release", dependencies=[Depends(require("orders.write"))],
             response_model=StageRead)
def release(order_id: IdPath, body: Note, rt: Rt, me: Me, request: Request) -> Any:
    """A held order goes on as it is (audited; the decision is recorded as yours)."""
    return actions.release(rt.db, order_id, actor=me.actor, note=body.note, ip=client_ip(request),
                           scope=Scope.of(me))


@router.post("/fulfilment/{order_id}/address", dependencies=[Depends(require("orders.write"))],
             response_model=StageRead)
def fix_address(order_id: IdPath, body: AddressFix, rt: Rt, me: Me, request: Request) -> Any:
    """A corrected address: sealed like any receiver, and the order is reviewed again (audited)."""
    return actions.fix_address(rt.db, rt.pii, order_id, body.model_dump(), actor=me.actor, ip=client_ip(request),
                               scope=Scope.of(me))


@router.post("/fulfilment/{order_id}/cancel", dependencies=[Depends(require("orders.write"))],
             response_model=StageRead)
def cancel(order_id: IdPath, body: Note, rt: Rt, me: Me, request: Request) -> Any:
    """Do not ship it: its stock is released and the order cancelled (audited)."""
    return actions.cancel(rt.db, order_id, actor=me.actor, note=body.note, ip=client_ip(request),
                          scope=Scope.of(me))


@router.post("/fulfilment/{order_id}/split", dependencies=[Depends(require("orders.write"))],
             response_model=SplitRead)
def split_order(order_id: IdPath, body: SplitWrite, rt: Rt, me: Me, request: Request) -> Any:
    """拆单: the chosen lines become an order of their own (a part; the platform still knows one order).
    A reserved order (not yet past routing) keeps its stock and place, a held one stays held in both parts;
    a waiting order's parts are each reserved if their stock is there now (audited)."""
    return split.split_by_hand(rt.db, order_id, body.line_ids, actor=me.actor, note=body.note,
                               ip=client_ip(request), scope=Scope.of(me))


@router.get("/blacklist", dependencies=[Depends(require("orders.read"))])
def list_blacklist(rt: Rt) -> list[dict[str, Any]]:
    """Entries the review holds on (phones are shown by their blind index only)."""
    with rt.db.read() as s:
        rows = s.execute(select(blacklist.c.id, blacklist.c.kind, blacklist.c.value, blacklist.c.note,
                                blacklist.c.created_by, blacklist.c.created_at).order_by(blacklist.c.id)).all()
    return [r._asdict() for r in rows]


@router.post("/blacklist", dependencies=[Depends(require("orders.write"))], status_code=201)
def add_blacklist(body: BlacklistWrite, rt: Rt, me: Me, request: Request) -> dict[str, Any]:
    value: str | None = body.value.strip()
    index = None
    if body.kind == "phone":
        index = rt.pii.phone_index(value)
        if index is None:
            raise Invalid(f"not a phone number: {body.value!r}", code="blacklist.invalid")
        value = None
    now = clock.utcnow()
    with rt.db.write() as s:
        dialect = dialect_of(s)
        found = fetchall(s, "SELECT id FROM blacklist WHERE kind = ? AND value IS NOT DISTINCT FROM ? "
                            "AND phone_index IS NOT DISTINCT FROM ?" if dialect == "postgresql" else
                            "SELECT id FROM blacklist WHERE kind = ? AND value IS ? AND phone_index IS ?",
                         (body.kind, value, index))
        if found:
            raise Conflict("already on the blacklist", code="blacklist.exists", details={"id": int(found[0][0])})
        ((entry_id,),) = fetchall(s, "INSERT INTO blacklist (kind, value, phone_index, note, created_by, created_at) "
                                     "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                                  (body.kind, value, index, body.note, me.actor, db_time(dialect, now)))
        audit.record(s, actor=me.actor, action="settings.blacklist", target=f"blacklist:{entry_id}",
                     ip=client_ip(request), detail={"kind": body.kind, "added": True})
    return {"id": int(entry_id), "kind": body.kind}


@router.delete("/blacklist/{entry_id}", dependencies=[Depends(require("orders.write"))], status_code=204)
def remove_blacklist(entry_id: IdPath, rt: Rt, me: Me, request: Request) -> None:
    with rt.db.write() as s:
        if not execute(s, "DELETE FROM blacklist WHERE id = ?", (entry_id,)):
            raise NotFound(f"no blacklist entry {entry_id}", code="blacklist.not_found")
        audit.record(s, actor=me.actor, action="settings.blacklist", target=f"blacklist:{entry_id}",
                     ip=client_ip(request), detail={"removed": True})


class WaveBuild(BaseModel):
    model_config = ConfigDict(extra="forbid")
    warehouse_id: int = Field(ge=1, le=2**62)


class BinWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=64, description="SKU code")
    location: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9\-_.]+$", description="e.g. A-01-03")
    zone: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9\-_]+$")


def _warehouse_in_scope(me: Principal, warehouse_id: int) -> None:
    if not Scope.of(me).has_warehouse(warehouse_id):
        raise NotFound(f"no warehouse {warehouse_id}", code="catalog.not_found")


@router.put("/warehouses/{warehouse_id}/bins", dependencies=[Depends(require("warehouse.operate"))])
def put_bins(warehouse_id: IdPath, body: Annotated[list[BinWrite], Field(max_length=5000)], rt: Rt, me: Me,
             request: Request) -> dict[str, int]:
    """Where SKUs lie in the warehouse (replaces the given SKUs' bins); pick lists walk them in order."""
    _warehouse_in_scope(me, warehouse_id)
    with rt.db.write() as s:
        if not fetchall(s, "SELECT 1 FROM warehouse WHERE id = ?", (warehouse_id,)):
            raise NotFound(f"no warehouse {warehouse_id}", code="catalog.not_found")
        codes = dict(fetchall(s, "SELECT code, id FROM sku"))
        unknown = sorted({b.sku for b in body} - set(codes))
        if unknown:
            raise Invalid(f"unknown SKU codes: {', '.join(unknown[:10])}", code="catalog.unknown_sku",
                          details={"skus": unknown[:100]})
        for item in body:
            execute(s, "INSERT INTO bin_location (sku_id, warehouse_id, location, zone) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (sku_id, warehouse_id) DO UPDATE SET location = excluded.location, "
                       "zone = excluded.zone", (codes[item.sku], warehouse_id, item.location, item.zone))
        audit.record(s, actor=me.actor, action="settings.bins", target=f"warehouse:{warehouse_id}",
                     ip=client_ip(request), detail={"skus": len(body)})
    return {"saved": len(body)}


class ShortReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=64, description="SKU code")
    missing: int = Field(ge=1, le=10_000_000, description="units the books hold that are not there")
    reason: str | None = Field(default=None, max_length=200)
    ref: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9\-_.:]+$",
                            description="the caller's reference: a report resent with it changes nothing")


@router.post("/warehouses/{warehouse_id}/short", dependencies=[Depends(require("stock.adjust"))])
def report_short(warehouse_id: IdPath, body: ShortReport, rt: Rt, me: Me, request: Request) -> dict[str, Any]:
    """A warehouse runs short (缺货改派): the missing units are written off and the orders they were promised
    to (latest paid first, not yet waved) are re-reserved in the next warehouse that has them, or wait."""
    _warehouse_in_scope(me, warehouse_id)
    with rt.db.read() as s:
        found = fetchall(s, "SELECT id FROM sku WHERE code = ?", (body.sku,))
    if not found:
        raise Invalid(f"unknown SKU code {body.sku!r}", code="catalog.unknown_sku")
    return short.report_short(rt.db, sku_id=int(found[0][0]), warehouse_id=warehouse_id, missing=body.missing,
                              actor=me.actor, reason=body.reason, ref=body.ref, ip=client_ip(request),
                              scope=Scope.of(me))


@router.post("/waves", dependencies=[Depends(require("warehouse.operate"))], status_code=201)
def build(body: WaveBuild, rt: Rt, me: Me) -> list[dict[str, Any]]:
    """Group the warehouse's ready orders into waves (single-SKU waves for hot SKUs, mixed ones by zone)."""
    _warehouse_in_scope(me, body.warehouse_id)
    return waves.build_waves(rt.db, warehouse_id=body.warehouse_id, actor=me.actor)


@router.get("/waves", dependencies=[Depends(require("warehouse.operate"))])
def list_waves(rt: Rt, me: Me, status: Annotated[str | None, Query(pattern=r"^(open|picked|done)$")] = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 100, cursor: Cursor = None) -> dict[str, Any]:
    query = (select(wave).where(Scope.of(me).warehouses(wave.c.warehouse_id))
             .order_by(wave.c.id.desc()).limit(limit + 1))
    if status:
        query = query.where(wave.c.status == status)
    if cursor:
        query = query.where(wave.c.id < cursor)
    with rt.db.read() as s:
        rows = [r._asdict() for r in s.execute(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": str(rows[-1]["id"]) if more else None}


@router.get("/waves/{wave_id}", dependencies=[Depends(require("warehouse.operate"))])
def get_wave(wave_id: IdPath, rt: Rt, me: Me) -> dict[str, Any]:
    """The wave, its pick list (per SKU and bin, in bin order) and its orders in label order."""
    scope = Scope.of(me)
    return {**waves.pick_list(rt.db, wave_id, scope=scope), "orders": waves.wave_orders(rt.db, wave_id, scope=scope)}


@router.post("/waves/{wave_id}/picked", dependencies=[Depends(require("warehouse.operate"))])
def picked(wave_id: IdPath, rt: Rt, me: Me) -> dict[str, Any]:
    return waves.mark_picked(rt.db, wave_id, actor=me.actor, scope=Scope.of(me))


class Scan(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64, description="what the scanner read")
    qty: int = Field(default=1, ge=1, le=1000)


class Confirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weight_g: int | None = Field(default=None, ge=1, le=packing.MAX_WEIGHT_G)


@router.post("/pack/scan", dependencies=[Depends(require("warehouse.operate"))])
def pack_scan(body: Scan, rt: Rt, me: Me) -> dict[str, Any]:
    """Scan a parcel's waybill: what it must hold, and what is scanned so far (409 pack.intercepted: put it
    back, the order was cancelled)."""
    return packing.scan_waybill(rt.db, body.code, scope=Scope.of(me))


@router.post("/pack/{order_id}/items", dependencies=[Depends(require("warehouse.operate"))])
def pack_item(order_id: IdPath, body: Scan, rt: Rt, me: Me) -> dict[str, Any]:
    """Scan an item into the parcel (422 pack.wrong_item / pack.too_many say what was expected)."""
    return packing.scan_item(rt.db, order_id, body.code, qty=body.qty, scope=Scope.of(me))


@router.post("/pack/{order_id}/confirm", dependencies=[Depends(require("warehouse.operate"))])
def pack_confirm(order_id: IdPath, body: Confirm, rt: Rt, me: Me, request: Request) -> dict[str, Any]:
    """Every item scanned: weigh and ship (the waybill goes back to the platform)."""
    return packing.confirm(rt.db, order_id, weight_g=body.weight_g, actor=me.actor, ip=client_ip(request),
                           scope=Scope.of(me))


@router.get("/waves/{wave_id}/labels.pdf", dependencies=[Depends(require("warehouse.operate"))],
            response_class=StreamingResponse)
def wave_labels(wave_id: IdPath, rt: Rt, me: Me,
                size: Annotated[str, Query(pattern=r"^(100x150|76x130)$")] = "100x150") -> StreamingResponse:
    """The wave's shipping labels in pick order, one PDF (written to a temporary file, then streamed)."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115  (closed by the stream below)
    try:
        printing.print_labels(rt.db, rt.pii, wave_id, spool, size=PageSize(size), scope=Scope.of(me))
    except BaseException:
        spool.close()
        raise
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while block := spool.read(1 << 16):
                yield block

    return StreamingResponse(chunks(), media_type="application/pdf",
                             headers={"content-disposition": f'inline; filename="wave-{wave_id}-labels.pdf"'})


@router.get("/pack/{order_id}/packing-slip.pdf", dependencies=[Depends(require("warehouse.operate"))],
            response_class=Response)
def packing_slip(order_id: IdPath, rt: Rt, me: Me,
                 size: Annotated[str, Query(pattern=r"^(100x150|76x130|a5)$")] = "100x150") -> Response:
    """The packing slip (发货单) of the order's parcel: items with prices, the buyer's remark, the receiver as
    the label prints it."""
    return Response(printing.print_packing_slip(rt.db, rt.pii, order_id, size=PageSize(size), scope=Scope.of(me)),
                    media_type="application/pdf",
                    headers={"content-disposition": f'inline; filename="order-{order_id}-packing-slip.pdf"'})


@router.get("/waves/{wave_id}/pick-list.pdf", dependencies=[Depends(require("warehouse.operate"))],
            response_class=Response)
def wave_pick_list(wave_id: IdPath, rt: Rt, me: Me) -> Response:
    return Response(printing.print_pick_list(rt.db, wave_id, scope=Scope.of(me)), media_type="application/pdf",
                    headers={"content-disposition": f'inline; filename="wave-{wave_id}-pick-list.pdf"'})
