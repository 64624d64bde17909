"""Read side of orders: filtered lists (keyset paging) and one order with lines, stock and history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, literal_column, or_, select, text, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from baodan.catalog.tables import live_session, shop, sku, sku_mapping
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
    hold_reason: str | None = None  # held in fulfilment for this reason, or "any"


def list_orders(s: Session, f: OrderFilter, *, before_id: int | None, limit: int,
                scope: Scope = EVERYTHING) -> tuple[list[dict], int | None]:
    """Newest first; returns the page and the cursor (last id) for the next one, None at the end."""
    conds = _conditions(s, f, scope)
    if before_id is not None:
        conds.append(sales_order.c.id < before_id)
    newest_first = _newest_first(s, f, scope, conds)
    rows = s.execute(select(*PUBLIC_COLUMNS).where(and_(True, *conds)).order_by(newest_first)
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
    sqlite = s.get_bind().dialect.name == "sqlite"
    paid = _paid(f)
    conds = [_scoped(s, scope, paid) if sqlite else scope.shops(sales_order.c.shop_id)]
    if f.channel:
        if sqlite and not f.platform_order_id:
            conds.append(_equal(s, "channel", f.channel))
        else:
            conds.append(sales_order.c.channel == f.channel)
    if f.shop:
        shop_id = select(shop.c.id).where(shop.c.code == f.shop).scalar_subquery()
        conds.append(_equal(s, "shop_id", shop_id, paid) if sqlite else sales_order.c.shop_id == shop_id)
    if f.state:
        conds.append(_equal(s, "state", f.state, paid) if sqlite else sales_order.c.state == f.state)
    if f.platform_status:
        conds.append(sales_order.c.platform_status == f.platform_status)
    if f.live_session_id is not None:
        conds.append(sales_order.c.live_session_id == f.live_session_id)
    if f.anomaly:
        conds.append(_has_anomaly(s, f.anomaly))
    conds += paid
    if f.phone_index:
        conds.append(sales_order.c.phone_index == f.phone_index)
    if f.sku:
        conds.append(sales_order.c.id.in_(select(order_line.c.order_id).where(
            order_line.c.sku_id == select(sku.c.id).where(sku.c.code == f.sku).scalar_subquery())))
    if f.hold_reason:  # the held are few: read through ix_fulfilment_stage
        held = select(fulfilment.c.order_id).where(fulfilment.c.stage == "held")
        if f.hold_reason != "any":
            held = held.where(fulfilment.c.hold_reason == f.hold_reason)
        conds.append(sales_order.c.id.in_(held))
    if f.platform_order_id:
        conds.append(sales_order.c.platform_order_id == f.platform_order_id)
        if not f.channel:  # lets the (channel, platform_order_id) unique index serve the lookup
            conds.append(sales_order.c.channel.in_([c.value for c in Channel]))
    return conds


# SQLite plans without statistics (BaoDan never runs ANALYZE): given `state = ?` it reads every order of that
# state by its index and sorts them by id for the page, which costs ~6 µs an order (30,000 reserved orders:
# ~170 ms, and a big session has ten times that). Reading newest first by id and stopping at the page's end
# costs ~0.5 µs an order passed over. So a filter matching many orders is written `+column = ?`, which keeps
# SQLite off its index; one matching few keeps the index (a full scan to find a handful would cost more).
# Which it is, a count of at most FEW + 1 index entries tells. The shop and state indexes go on with the paid
# time, so with a paid-time filter the count is of both, against FEW_CLUSTERED: orders paid within a range lie
# together in id order, so reading newest first would first pass over everything paid since (see
# _newest_first), and sorting up to that many is the cheaper way.
# PostgreSQL has statistics and decides itself.
FEW = 2000
FEW_CLUSTERED = 20_000


def _newest_first(s: Session, f: OrderFilter, scope: Scope, conds: list[Any]) -> Any:
    """The page's order: by id, newest first. When the orders asked for lie together far down the id order
    (those paid within a past day, an older live session's) and are few, they are read by their index and
    sorted: both databases would otherwise walk the primary key down from the newest order past everything
    that came after them (on 300,000 orders, a day 15 days back: PostgreSQL ~210 → ~50 ms, SQLite ~160 →
    ~50 ms; a session two weeks back on PostgreSQL ~200 → ~20 ms; SQLite's session index already runs in id
    order). `conds` may gain the shop list that lets the (shop, paid) index serve a paid-time filter."""
    postgres = s.get_bind().dialect.name == "postgresql"
    by_index = (sales_order.c.id + 0).desc() if postgres else sales_order.c.id.desc()
    if postgres and f.live_session_id is not None and s.scalar(  # a live session's orders are the newest
            select(live_session.c.ended_at).where(live_session.c.id == f.live_session_id)) is not None \
            and _matches_few(s, sales_order.c.live_session_id == f.live_session_id, FEW_CLUSTERED):
        return by_index
    if (f.paid_from or f.paid_to) and not f.shop and (postgres or scope.shop_ids is None):
        shop_ids = sorted(scope.shop_ids) if scope.shop_ids is not None else list(s.scalars(select(shop.c.id)))
        in_shops = sales_order.c.shop_id.in_(shop_ids)
        if shop_ids and _matches_few(s, and_(in_shops, *_paid(f)), FEW_CLUSTERED):
            conds.append(in_shops)
            return by_index
    return sales_order.c.id.desc()


def _paid(f: OrderFilter) -> list[Any]:
    return [c for c in (sales_order.c.paid_at >= f.paid_from if f.paid_from else None,
                        sales_order.c.paid_at < f.paid_to if f.paid_to else None) if c is not None]


def _equal(s: Session, column: str, value: Any, paid: list[Any] | None = None) -> Any:
    plain = sales_order.c[column] == value
    if _matches_few(s, and_(plain, *(paid or ())), FEW_CLUSTERED if paid else FEW):
        return plain
    return literal_column(f"+sales_order.{column}") == (value if isinstance(value, ColumnElement)
                                                         else literal(value))


def _scoped(s: Session, scope: Scope, paid: list[Any]) -> Any:
    plain = scope.shops(sales_order.c.shop_id)
    if scope.shop_ids is None or not scope.shop_ids or _matches_few(s, and_(plain, *paid),
                                                                     FEW_CLUSTERED if paid else FEW):
        return plain
    return literal_column("+sales_order.shop_id").in_(sorted(scope.shop_ids))


def _matches_few(s: Session, condition: Any, few: int | None = None) -> bool:
    few = FEW if few is None else few
    probe = select(literal(1)).select_from(sales_order).where(condition).limit(few + 1).subquery()
    return int(s.execute(select(func.count()).select_from(probe)).scalar_one()) <= few


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
    family = out["parent_order_id"] or order_id  # a split order (拆单): its original and every part
    out["parts"] = [r._asdict() for r in s.execute(
        select(sales_order.c.id, sales_order.c.platform_order_id, sales_order.c.state, sales_order.c.warehouse_id,
               sales_order.c.paid_total_fen)
        .where(or_(sales_order.c.id == family, sales_order.c.parent_order_id == family), sales_order.c.id != order_id)
        .order_by(sales_order.c.id))] if out["parent_order_id"] or _has_parts(s, order_id) else []
    return out


def _has_parts(s: Session, order_id: int) -> bool:
    return s.execute(select(literal(1)).where(sales_order.c.parent_order_id == order_id).limit(1)).first() is not None


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
    if dialect == "sqlite":  # most orders have none: the text comparison spares them json_each
        return text("sales_order.anomalies <> '[]' AND EXISTS (SELECT 1 FROM json_each(sales_order.anomalies) "
                    "WHERE value = :anomaly_code)").bindparams(anomaly_code=code)
    return type_coerce(sales_order.c.anomalies, JSONB).contains([code])
