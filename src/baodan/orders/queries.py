"""Read side of orders: filtered lists (keyset paging) and one order with lines, stock and history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, literal_column, select, text, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from baodan.catalog.tables import shop, sku, sku_mapping
from baodan.channels.tables import shipment
from baodan.core.errors import NotFound
from baodan.fulfilment.tables import fulfilment, order_decision
from baodan.identity.scope import EVERYTHING, Scope
from baodan.inventory.tables import reservation
from baodan.orders.schemas import Channel
from baodan.orders.tables import order_event, order_line, sales_order


class OrderNotFound(NotFound):
    code = "orders.not_found"


# Every column but the sealed PII and its index: reads show the masked receiver (identity.pii).
PUBLIC_COLUMNS = [c for c in sales_order.c if c.name not in ("receiver_sealed", "phone_index")]


@dataclass(frozen=True, slots=True)
class OrderFilter:
    channel: str | None = None
    shop: str | None = None  # shop code
    state: str | None = None
    platform_status: str | None = None
    live_session_id: int | None = None
    anomaly: str | None = None  # a reason code, or "any"
    paid_from: datetime | None = None
    paid_to: datetime | None = None
    platform_order_id: str | None = None
    phone_index: int | None = None  # the buyer phone's blind index (PiiCipher.phone_index)
    sku: str | None = None  # a SKU code: orders with a line of it


def list_orders(s: Session, f: OrderFilter, *, before_id: int | None, limit: int,
                scope: Scope = EVERYTHING) -> tuple[list[dict], int | None]:
    """Newest first; returns the page and the cursor (last id) for the next one, None at the end."""
    conds = _conditions(s, f, scope)
    if before_id is not None:
        conds.append(sales_order.c.id < before_id)
    rows = s.execute(select(*PUBLIC_COLUMNS).where(and_(True, *conds)).order_by(sales_order.c.id.desc())
                     .limit(limit + 1)).all()
    items = [r._asdict() for r in rows[:limit]]
    return items, (items[-1]["id"] if len(rows) > limit else None)


def count_orders(s: Session, f: OrderFilter, *, scope: Scope = EVERYTHING) -> tuple[int, int | None]:
    """How many orders match, and the highest id among them (an export reads up to it, so orders that
    arrive while it streams do not change what it holds)."""
    count, top = s.execute(select(func.count(), func.max(sales_order.c.id))
                           .where(and_(True, *_conditions(s, f, scope)))).one()
    return int(count), top


def _conditions(s: Session, f: OrderFilter, scope: Scope) -> list[Any]:
    conds = [scope.shops(sales_order.c.shop_id)]
    if f.channel:
        conds.append(sales_order.c.channel == f.channel)
    if f.shop:
        conds.append(sales_order.c.shop_id == select(shop.c.id).where(shop.c.code == f.shop).scalar_subquery())
    if f.state:
        conds.append(sales_order.c.state == f.state)
    if f.platform_status:
        conds.append(sales_order.c.platform_status == f.platform_status)
    if f.live_session_id is not None:
        conds.append(sales_order.c.live_session_id == f.live_session_id)
    if f.anomaly:
        conds.append(_has_anomaly(s, f.anomaly))
    if f.paid_from:
        conds.append(sales_order.c.paid_at >= f.paid_from)
    if f.paid_to:
        conds.append(sales_order.c.paid_at < f.paid_to)
    if f.phone_index:
        conds.append(sales_order.c.phone_index == f.phone_index)
    if f.sku:
        conds.append(sales_order.c.id.in_(select(order_line.c.order_id).where(
            order_line.c.sku_id == select(sku.c.id).where(sku.c.code == f.sku).scalar_subquery())))
    if f.platform_order_id:
        conds.append(sales_order.c.platform_order_id == f.platform_order_id)
        if not f.channel:  # lets the (channel, platform_order_id) unique index serve the lookup
            conds.append(sales_order.c.channel.in_([c.value for c in Channel]))
    return conds


def order_detail(s: Session, order_id: int, *, scope: Scope = EVERYTHING) -> dict[str, Any]:
    row = s.execute(select(*PUBLIC_COLUMNS).where(sales_order.c.id == order_id,
                                                  scope.shops(sales_order.c.shop_id))).one_or_none()
    if row is None:
        raise OrderNotFound(f"no order {order_id}")
    out = row._asdict()
    out["lines"] = [r._asdict() for r in s.execute(
        select(order_line).where(order_line.c.order_id == order_id).order_by(order_line.c.line_no))]
    out["reservations"] = [r._asdict() for r in s.execute(
        select(reservation.c.order_line_id, reservation.c.sku_id, reservation.c.warehouse_id, reservation.c.qty)
        .where(reservation.c.order_id == order_id).order_by(reservation.c.order_line_id, reservation.c.sku_id))]
    out["events"] = [r._asdict() for r in s.execute(
        select(order_event.c.kind, order_event.c.at, order_event.c.detail)
        .where(order_event.c.order_id == order_id).order_by(order_event.c.at, order_event.c.id))]
    out["shipments"] = [r._asdict() for r in s.execute(
        select(shipment.c.id, shipment.c.carrier_code, shipment.c.waybill_no, shipment.c.shipped_at,
               shipment.c.written_back_at).where(shipment.c.order_id == order_id).order_by(shipment.c.id))]
    out["decisions"] = [r._asdict() for r in s.execute(
        select(order_decision.c.hook, order_decision.c.rule_set_version, order_decision.c.rule,
               order_decision.c.rule_title, order_decision.c.outcome, order_decision.c.reason, order_decision.c.at)
        .where(order_decision.c.order_id == order_id).order_by(order_decision.c.id))]
    stage = s.execute(select(fulfilment.c.stage, fulfilment.c.hold_reason)
                      .where(fulfilment.c.order_id == order_id)).one_or_none()
    out["fulfilment"] = stage._asdict() if stage is not None else None
    return out


def unmapped_platform_skus(s: Session, *, shop_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """The shop's platform SKU ids that orders flagged unknown_sku carry and no mapping covers yet, most
    orders first: what the merchant still has to map (catalog sku_mapping). The caller checks the scope."""
    lines = (select(order_line.c.platform_sku_id.label("platform_sku_id"),
                    func.count(func.distinct(sales_order.c.id)).label("orders"),
                    func.sum(order_line.c.quantity).label("quantity"),
                    func.max(order_line.c.title).label("title"), func.max(order_line.c.sku_code).label("sku_code"),
                    func.max(sales_order.c.paid_at).label("last_paid_at"))
             .join(sales_order, sales_order.c.id == order_line.c.order_id)
             .where(sales_order.c.shop_id == shop_id, _has_anomaly(s, "unknown_sku"), order_line.c.sku_id.is_(None),
                    order_line.c.platform_sku_id.is_not(None),
                    ~select(sku_mapping.c.sku_id).where(sku_mapping.c.shop_id == shop_id,
                                                        sku_mapping.c.platform_sku_id == order_line.c.platform_sku_id
                                                        ).exists())
             .group_by(order_line.c.platform_sku_id)
             .order_by(func.count(func.distinct(sales_order.c.id)).desc(), order_line.c.platform_sku_id).limit(limit))
    return [r._asdict() for r in s.execute(lines)]


def sealed_receiver(s: Session, order_id: int, *, scope: Scope = EVERYTHING) -> str | None:
    """The sealed receiver of an order in scope (OrderNotFound otherwise); None if it has none."""
    row = s.execute(select(sales_order.c.receiver_sealed).where(sales_order.c.id == order_id,
                                                                scope.shops(sales_order.c.shop_id))).one_or_none()
    if row is None:
        raise OrderNotFound(f"no order {order_id}")
    return row[0]


def find_order_id(s: Session, *, channel: str | None, platform_order_id: str) -> int:
    channels = [channel] if channel else [c.value for c in Channel]
    query = select(sales_order.c.id).where(sales_order.c.platform_order_id == platform_order_id,
                                           sales_order.c.channel.in_(channels))
    ids = s.scalars(query).all()
    if not ids:
        raise OrderNotFound(f"no order {platform_order_id!r}")
    return ids[0]


def count_by_state(s: Session) -> dict[str, int]:
    return dict(s.execute(select(sales_order.c.state, func.count()).group_by(sales_order.c.state)).tuples().all())


def _has_anomaly(s: Session, code: str) -> Any:
    dialect = s.get_bind().dialect.name
    if code == "any":
        if dialect == "sqlite":
            return text("json_array_length(sales_order.anomalies) > 0")
        return literal_column("jsonb_array_length(sales_order.anomalies)") > 0
    if dialect == "sqlite":
        return text("EXISTS (SELECT 1 FROM json_each(sales_order.anomalies) WHERE value = :anomaly_code)"
                    ).bindparams(anomaly_code=code)
    return type_coerce(sales_order.c.anomalies, JSONB).contains([code])
