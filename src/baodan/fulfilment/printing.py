"""Printing a wave: its shipping labels in wave order (one PDF, bounded memory however many) and its pick
list; and a parcel's packing slip (发货单). Labels are filled from the orders as BaoDan holds them: the
receiver from the sealed receiver, printed by `documents.model.printed_receiver`'s rules (an order whose
receiver the platform gave encrypted prints masked: the courier's scanner resolves it; the phone is always
masked), the sender from the carrier account, the sort code and package centre from the issued waybill.
Intercepted orders print no label; a merged parcel prints one, with the items of every order in it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from baodan.core import clock
from baodan.core.db import Database, fetchall, read_json, read_time, where_in
from baodan.documents import model as doc
from baodan.documents.render import LabelRun, render_labels, render_packing_slip, render_pick_list
from baodan.fulfilment.waves import merged_into, pick_list
from baodan.identity.pii import PiiCipher
from baodan.identity.scope import EVERYTHING, Scope
from baodan.orders.queries import OrderNotFound

CARRIER_NAMES = {"ZTO": "中通快递", "YTO": "圆通速递", "STO": "申通快递", "YUNDA": "韵达快递", "SF": "顺丰速运",
                 "EMS": "EMS", "JD": "京东快递", "JTSD": "极兔速递", "POSTB": "邮政快递包裹", "DBKD": "德邦快递"}
PAGE = 500  # orders read per query while labels stream out


def print_labels(db: Database, pii: PiiCipher, wave_id: int, out: BinaryIO, *,
                 size: doc.PageSize = doc.PageSize.label_100x150, scope: Scope = EVERYTHING) -> LabelRun:
    """The wave's labels into `out`, in pick order."""
    pick_list(db, wave_id, scope=scope)  # the wave exists and is in scope
    return render_labels(_labels(db, pii, wave_id), out, size=size)


def print_pick_list(db: Database, wave_id: int, *, scope: Scope = EVERYTHING) -> bytes:
    wave = pick_list(db, wave_id, scope=scope)
    with db.read() as s:
        ((warehouse,),) = fetchall(s, "SELECT name FROM warehouse WHERE id = ?", (wave["warehouse_id"],))
    lines = tuple(doc.PickLine(location=line["location"] if line["location"] != "~" else "",
                               sku_code=line["sku_code"], title=line["name"], qty=line["qty"],
                               barcode=line["barcode"] or "") for line in wave["lines"])
    kind = "爆款单品波次" if wave["kind"] == "single_sku" else f"混合波次 {wave['zone'] or ''}"
    return render_pick_list(doc.PickListData(wave_no=f"W{wave_id:06d}", warehouse=warehouse, lines=lines,
                                             orders=wave["orders"], created_at=wave["created_at"], note=kind))


def print_packing_slip(db: Database, pii: PiiCipher, order_id: int, *,
                       size: doc.PageSize = doc.PageSize.label_100x150, scope: Scope = EVERYTHING) -> bytes:
    """The packing slip (发货单) of an order's parcel: its lines with prices (and those of the orders merged
    into it), the buyer's remark, the receiver printed by the label's rules. A merged order's slip is its
    parcel's (its lead's)."""
    with db.read() as s:
        found = fetchall(s, "SELECT o.shop_id, f.warehouse_id, coalesce(f.parcel_of, o.id) FROM sales_order o "
                            "LEFT JOIN fulfilment f ON f.order_id = o.id WHERE o.id = ?", (order_id,))
        if not found or not scope.has_shop(found[0][0]) or not scope.has_warehouse(found[0][1]):
            raise OrderNotFound(f"no order {order_id}")
        lead = int(found[0][2])
        ((order_no, public, sealed, shop, message, paid_at, paid, waybill),) = fetchall(
            s, "SELECT o.platform_order_id, o.receiver, o.receiver_sealed, p.name, o.buyer_message, o.paid_at, "
               "o.paid_total_fen, f.waybill_no FROM sales_order o JOIN shop p ON p.id = o.shop_id "
               "LEFT JOIN fulfilment f ON f.order_id = o.id WHERE o.id = ?", (lead,))
        orders = [lead, *merged_into(s, [lead])]
        lines = tuple(doc.SlipLine(sku_code=code or "", title=title or "", qty=int(qty), unit_price_fen=int(price))
                      for _, code, title, qty, price in sorted(where_in(
                          s, "SELECT order_id, sku_code, title, quantity, unit_price_fen FROM order_line "
                             "WHERE refunded_at IS NULL AND order_id", orders)))
        if len(orders) > 1:
            paid = sum(int(p) for (p,) in where_in(s, "SELECT paid_total_fen FROM sales_order WHERE id", orders))
    clear = pii.open(sealed) if sealed else {}
    return render_packing_slip(doc.PackingSlipData(
        order_no=order_no, shop=shop, receiver=_party({**(read_json(public) or {}), **clear}), lines=lines,
        buyer_remark=message or "", platform_encrypted=bool(clear.get("platform_cipher")),
        waybill_no=waybill or "", paid_at=read_time(paid_at), paid_fen=int(paid), printed_at=clock.utcnow()),
        size=size)


def _labels(db: Database, pii: PiiCipher, wave_id: int) -> Iterator[doc.LabelData]:
    after = 0
    while True:
        with db.read() as s:
            rows = fetchall(s, "SELECT f.pick_seq, f.order_id, f.carrier_code, f.waybill_no, o.platform_order_id, "
                               "o.receiver, o.receiver_sealed, p.name, a.sender, w.sort_code, w.package_center_name "
                               "FROM fulfilment f JOIN sales_order o ON o.id = f.order_id "
                               "JOIN shop p ON p.id = o.shop_id "
                               "LEFT JOIN waybill w ON w.carrier_code = f.carrier_code AND w.waybill_no = f.waybill_no "
                               "LEFT JOIN carrier_account a ON a.id = w.account_id "
                               "WHERE f.wave_id = ? AND f.pick_seq > ? AND f.stage != 'intercepted' "
                               "AND f.waybill_no IS NOT NULL ORDER BY f.pick_seq LIMIT ?", (wave_id, after, PAGE))
            if not rows:
                return
            leads = [int(r[1]) for r in rows]
            parcel_of = {order_id: order_id for order_id in leads} | merged_into(s, leads)
            items: dict[int, list[doc.LabelItem]] = {}
            for order_id, code, title, qty in where_in(
                    s, "SELECT order_id, sku_code, title, quantity FROM order_line WHERE order_id", list(parcel_of)):
                items.setdefault(parcel_of[int(order_id)], []).append(doc.LabelItem(code or "", title or "", int(qty)))
        for seq, order_id, carrier, waybill, order_no, public, sealed, shop, sender, sort_code, center in rows:
            clear = pii.open(sealed) if sealed else {}
            region = read_json(public) or {}
            yield doc.LabelData(
                waybill_no=waybill, carrier=CARRIER_NAMES.get(carrier or "", carrier or ""),
                receiver=_party({**region, **clear}), sender=_party(read_json(sender) or {}), order_no=order_no,
                shop=shop, items=tuple(items.get(int(order_id), ())), sort_code=sort_code or "",
                package_center=center or "", platform_encrypted=bool(clear.get("platform_cipher")))
            after = int(seq)


def _party(fields: dict[str, Any]) -> doc.Party:
    return doc.Party(name=str(fields.get("name") or ""), phone=fields.get("phone"),
                     province=str(fields.get("province") or ""), city=str(fields.get("city") or ""),
                     district=str(fields.get("district") or ""), town=str(fields.get("town") or ""),
                     address=str(fields.get("address") or ""))
