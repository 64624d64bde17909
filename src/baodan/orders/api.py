"""HTTP routes of orders: intake of canonical orders, filtered lists, one order with its history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import select

from baodan.catalog.errors import CatalogNotFound
from baodan.catalog.tables import shop
from baodan.core.http import Cursor, IdPath, runtime_of
from baodan.identity.accounts import Principal
from baodan.identity.http import client_ip, principal_of, require
from baodan.identity.scope import Scope
from baodan.intake import importer
from baodan.intake import services as intake
from baodan.orders import queries, services, shipping
from baodan.orders.filters import order_filter
from baodan.orders.queries import OrderFilter
from baodan.orders.schemas import BatchAccepted, OrderBatch, OrderDetail, OrderPage, ShipmentRead, UnmappedSkuRead

router = APIRouter(tags=["orders"])
Rt = Annotated[Any, Depends(runtime_of)]
READ = [Depends(require("orders.read"))]
Me = Annotated[Principal, Depends(principal_of)]
WRITE = [Depends(require("orders.write"))]  # the permission each route needs


@router.post("/orders/batch", dependencies=WRITE, response_model=BatchAccepted, responses={
    413: {"description": "more than 5,000 orders, or a body over the size limit"},
    422: {"description": "invalid order, unknown shop or channel mismatch: nothing was written"}})
def post_orders(body: OrderBatch, rt: Rt, me: Me) -> Any:
    """Accept up to 5,000 canonical orders (see docs/canonical-order.md). Answers after they are durably
    in the inbox; the worker reserves stock moments later. Idempotent: redelivered events are counted
    as duplicates and not processed again."""
    result = intake.accept_orders(rt.inbox, rt.shops, body.orders, pii=rt.pii, scope=Scope.of(me),
                                  max_orders=rt.settings.max_orders_per_request)
    return {"accepted": result.accepted, "duplicates": result.duplicates}


@router.get("/orders", dependencies=READ, response_model=OrderPage)
def list_orders(rt: Rt, me: Me, f: Annotated[OrderFilter, Depends(order_filter)], cursor: Cursor = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 50) -> Any:
    """Orders, newest first, filtered; page with `cursor`."""
    with rt.db.read() as s:
        items, next_id = queries.list_orders(s, f, before_id=cursor, limit=limit, scope=Scope.of(me))
    return {"items": items, "next_cursor": str(next_id) if next_id is not None else None}


@router.get("/orders/{order_id}", dependencies=READ, response_model=OrderDetail)
def get_order(order_id: IdPath, rt: Rt, me: Me) -> Any:
    """One order with its lines, stock held and the history of every event and decision."""
    with rt.db.read() as s:
        return queries.order_detail(s, order_id, scope=Scope.of(me))


@router.get("/shops/{shop_id}/unmapped-skus", dependencies=READ, response_model=list[UnmappedSkuRead])
def unmapped_skus(shop_id: IdPath, rt: Rt, me: Me, limit: Annotated[int, Query(ge=1, le=500)] = 200) -> Any:
    """Platform SKU ids of the shop's orders flagged unknown_sku that no SKU mapping covers yet (map them
    with PUT /shops/{shop_id}/sku-mappings), most orders first."""
    with rt.db.read() as s:
        if s.scalar(select(shop.c.id).where(shop.c.id == shop_id, Scope.of(me).shops(shop.c.id))) is None:
            raise CatalogNotFound(f"no shop {shop_id}")
        return queries.unmapped_platform_skus(s, shop_id=shop_id, limit=limit)


@router.get("/intake/status", dependencies=READ)
def intake_status(rt: Rt, me: Me) -> dict[str, Any]:
    """Events waiting for the worker, and per-shop accepted/duplicate counts (of the caller's shops)."""
    scope = Scope.of(me)
    stats = rt.inbox.stats()
    return {"pending": rt.inbox.pending(10**9),
            "shops": [{"shop_id": k, "accepted": a, "duplicates": d} for k, (a, d) in sorted(stats.items())
                      if scope.has_shop(k)]}


class RevealedReceiver(BaseModel):
    name: str | None
    phone: str | None
    address: str | None


@router.post("/orders/{order_id}/reveal", dependencies=[Depends(require("pii.reveal"))],
             response_model=RevealedReceiver)
def reveal_receiver(order_id: IdPath, rt: Rt, me: Me, request: Request) -> Any:
    """The buyer's name, phone and address in clear. Needs `pii.reveal`; every reveal is recorded in the
    audit trail (in the same transaction, before anything is shown)."""
    clear = services.reveal_receiver(rt.db, rt.pii, order_id, actor=me.actor, ip=client_ip(request),
                                     scope=Scope.of(me))
    return clear or {"name": None, "phone": None, "address": None}


# ------------------------------------------------------------------------------------ spreadsheet import

IMPORT_REJECTED_SHOWN = 1000  # rows listed in an answer; rejected_total counts them all


class ImportRejectedRow(BaseModel):
    row: int = Field(description="row number as a spreadsheet shows it (1-based; comment lines count)")
    column: str = Field(description="the header of the column at fault, or empty for the order as a whole")
    reason: str


class ImportAnswer(BaseModel):
    template: str = Field(description="the column template used (detected from the header row unless named)")
    rows: int = Field(description="data rows read")
    orders: int = Field(description="valid orders in those rows")
    accepted: int = Field(description="orders new to the inbox")
    duplicates: int = Field(description="orders already in the inbox (an earlier import), not processed again")
    rejected: list[ImportRejectedRow] = Field(description=f"rows not taken (the first {IMPORT_REJECTED_SHOWN})")
    rejected_total: int
    preview: list[dict[str, Any]] | None = Field(
        default=None, description="with ?preview=N: the canonical orders of the first N rows, receiver masked; "
                                  "nothing was written")


@router.post("/orders/import", dependencies=WRITE, response_model=ImportAnswer, response_model_exclude_none=True,
             responses={415: {"description": "not a .csv or .xlsx file (import.unsupported_type)"},
                        422: {"description": "unreadable or empty file, no known header row, unknown template or "
                                             "shop: nothing was written"}})
def import_orders_file(rt: Rt, me: Me,
                       file: Annotated[UploadFile, File(description="a .csv (UTF-8 or GBK) or .xlsx order export")],
                       shop: Annotated[str, Query(description="BaoDan shop code the orders belong to")],
                       template: Annotated[str | None, Query(description="baodan, pdd, douyin; default: detected "
                                                                         "from the header row")] = None,
                       preview: Annotated[int | None, Query(ge=1, le=1000, description="map the first N rows and "
                                                                                      "answer them; write nothing")]
                       = None) -> Any:
    """Import a spreadsheet of orders (multipart field `file`) through the same inbox as
    `/orders/batch`: idempotent, so uploading a file again counts its orders as duplicates. Rows that
    cannot be taken come back in `rejected` (row, column, reason); the valid orders still go in. The body
    limit applies (BAODAN_MAX_BODY_BYTES, 8 MB by default): import larger files with `baodan import orders`."""
    result = importer.import_orders(file.file, filename=file.filename or "upload", shop=shop, inbox=rt.inbox,
                                    shops=rt.shops, pii=rt.pii, scope=Scope.of(me), template=template,
                                    preview=preview, batch_size=min(importer.BATCH_ORDERS,
                                                                    rt.settings.max_orders_per_request))
    answer: dict[str, Any] = {
        "template": result.template, "rows": result.rows, "orders": result.orders, "accepted": result.accepted,
        "duplicates": result.duplicates, "rejected_total": len(result.rejected),
        "rejected": [e.as_dict() for e in result.rejected[:IMPORT_REJECTED_SHOWN]]}
    if preview is not None:
        answer["preview"] = [importer.masked_order(m.order) for m in result.preview]
    return answer


class ShipRequest(BaseModel):
    carrier_code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$",
                              description="the courier's code as the platform knows it (e.g. ZTO, YTO, SF)")
    waybill_no: str = Field(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9-]+$")


@router.post("/orders/{order_id}/ship", dependencies=WRITE, response_model=ShipmentRead, responses={
    409: {"description": "not reserved (orders.not_shippable), shipped with another waybill, or waybill in use"}})
def ship(order_id: IdPath, body: ShipRequest, rt: Rt, me: Me, request: Request) -> Any:
    """Ship a reserved order: stock leaves the warehouse, the order becomes shipped, and the waybill is
    written back to the platform in the background. Sending the same waybill again answers the same
    shipment."""
    return shipping.ship_order(rt.db, order_id=order_id, carrier_code=body.carrier_code, waybill_no=body.waybill_no,
                               actor=me.actor, ip=client_ip(request), scope=Scope.of(me))
