"""Read side of the dashboard: which orders a view adds up (a live session's, or a Shanghai day's, within
the caller's shops), their sums in SQL, and the hot SKUs' names and sellable stock. Never loads orders.

Every query reads the window's paid orders through an index: a session's by `ix_sales_order_session`, the
newest minutes (and a day's) by `ix_sales_order_shop_paid` with the shops spelled out, so the part
recounted every tick reads only the orders paid in the last minutes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from baodan.channels import stock as channel_stock
from baodan.core import clock
from baodan.core.db import db_time, dialect_of, fetchall, read_json, read_time
from baodan.core.errors import NotFound
from baodan.dashboard.model import Partial, Window
from baodan.identity.scope import Scope


class UnknownSession(NotFound):
    code = "dashboard.unknown_session"


def window_of(s: Session, *, live_session_id: int | None, today: bool, scope: Scope, now: datetime) -> Window:
    """The orders a view adds up. `live_session_id`: that session (404 outside the caller's shops);
    `today`: orders paid since midnight in Shanghai; neither: the live session of the caller's shops that
    started last (the most recent one once none is live), or today when there is none."""
    if today:
        return _today(s, scope, now)
    if live_session_id is not None:
        rows = _sessions(s, scope, "id = ?", (live_session_id,))
        if not rows:
            raise UnknownSession(f"no live session {live_session_id}")
    else:
        rows = _sessions(s, scope, "ended_at IS NULL", ()) or _sessions(s, scope, "1 = 1", ())
        if not rows:
            return _today(s, scope, now)
    session_id, shop_id, title, host, started, ended = rows[0]
    started_at, ended_at = read_time(started), read_time(ended)
    assert started_at is not None
    end = min(now, ended_at) if ended_at is not None else now
    return Window("live_session", started_at, max(end, started_at), int(session_id), (int(shop_id),),
                  {"title": title, "host": host, "shop_id": int(shop_id), "started_at": started_at,
                   "ended_at": ended_at, "live": ended_at is None or ended_at > now})


def partial(s: Session, window: Window, *, paid_from: datetime, paid_to: datetime | None,
            minutes_from: datetime) -> Partial:
    """Sums over the window's orders paid in [paid_from, paid_to) (no upper bound when None); orders paid
    at or after `minutes_from` are also counted per minute."""
    part = Partial()
    if not window.shop_ids:
        return part
    dialect = dialect_of(s)
    where, params = _where(dialect, window, paid_from, paid_to)
    if dialect == "sqlite":
        province = "json_extract(o.receiver, '$.province')"
        minute = "CASE WHEN o.paid_at >= ? THEN substr(o.paid_at, 1, 16) END"
    else:
        province = "o.receiver ->> 'province'"
        minute = "CASE WHEN o.paid_at >= ? THEN to_char(o.paid_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') END"
    # the parts of a split order (拆单) are parcels, not orders: counted once, their amounts add up as paid
    rows = fetchall(s, f"SELECT o.channel, {province}, o.state, {minute}, o.anomalies, "
                       f"sum(CASE WHEN o.parent_order_id IS NULL THEN 1 ELSE 0 END), "
                       f"sum(o.paid_total_fen) FROM sales_order o WHERE {where} GROUP BY 1, 2, 3, 4, 5",
                    (db_time(dialect, minutes_from), *params))
    for channel, prov, state, minute_key, anomalies, count, fen in rows:
        key = (channel, prov, state, minute_key)
        part.cube[key] += int(count)
        part.gmv[key] += int(fen or 0)
        for code in read_json(anomalies) or ():
            part.order_anomalies[code] += int(count)
    for shop_id, sku_id, units, lines, fen in fetchall(
            s, f"SELECT o.shop_id, l.sku_id, sum(l.quantity), count(*), sum(l.amount_fen) FROM sales_order o "
               f"JOIN order_line l ON l.order_id = o.id WHERE {where} AND l.sku_id IS NOT NULL "
               f"GROUP BY o.shop_id, l.sku_id", params):
        key = (int(shop_id), int(sku_id))
        part.units[key] += int(units)
        part.lines[key] += int(lines)
        part.line_fen[key] += int(fen or 0)
    for stage, reason, count in fetchall(
            s, f"SELECT f.stage, f.hold_reason, count(*) FROM sales_order o JOIN fulfilment f ON f.order_id = o.id "
               f"WHERE {where} GROUP BY f.stage, f.hold_reason", params):
        part.stages[stage] += int(count)
        if stage == "held":
            part.held[reason or "unknown"] += int(count)
    return part


def hot_skus(s: Session, window: Window, top: Sequence[tuple[int, int, int, int, list[int]]]) -> list[dict[str, Any]]:
    """The hot SKUs named, with what each shop may still sell of them (channels.stock.sellable: on hand −
    reserved − safety stock over the shop's warehouses, less what is set aside for other shops, within the
    shop's share). `sellable` is that figure when the window is one shop's (a live session), else null."""
    if not top:
        return []
    sku_ids = [t[0] for t in top]
    names = {int(r[0]): (r[1], r[2], bool(r[3])) for r in fetchall(
        s, f"SELECT id, code, name, is_bundle FROM sku WHERE id IN ({', '.join('?' * len(sku_ids))})", sku_ids)}
    # One listing per (shop, SKU): sellable is the same for every platform SKU a shop maps to one SKU.
    listings = [channel_stock.Listing(shop_id, f"sku-{sku_id}", sku_id, None)
                for sku_id, *_, shops in top for shop_id in (window.shop_ids if len(window.shop_ids) == 1 else shops)]
    sellable = channel_stock.sellable(s, listings)
    out = []
    for sku_id, units, lines, fen, _ in top:
        code, name, is_bundle = names.get(sku_id, (None, None, False))
        per_shop = [{"shop_id": item.shop_id, "sellable": sellable[(item.shop_id, item.platform_sku_id)]}
                    for item in listings if item.sku_id == sku_id]
        out.append({"sku_id": sku_id, "sku_code": code, "name": name, "is_bundle": is_bundle, "units": units,
                    "orders": lines, "gmv_fen": fen,
                    "sellable": per_shop[0]["sellable"] if len(window.shop_ids) == 1 and per_shop else None,
                    "sellable_by_shop": per_shop})
    return out


def _today(s: Session, scope: Scope, now: datetime) -> Window:
    local = clock.to_shanghai(now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    shop_ids = [int(r[0]) for r in fetchall(s, "SELECT id FROM shop ORDER BY id")
                if scope.has_shop(int(r[0]))]
    return Window("today", clock.as_utc(midnight), now, None, tuple(shop_ids),
                  {"date": midnight.date().isoformat(), "ends_at": clock.as_utc(midnight + timedelta(days=1))})


def _sessions(s: Session, scope: Scope, condition: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    if scope.shop_ids is None:
        shops = ""
    else:
        shops = f" AND shop_id IN ({', '.join(str(int(i)) for i in sorted(scope.shop_ids))})" if scope.shop_ids \
            else " AND 1 = 0"
    return fetchall(s, f"SELECT id, shop_id, title, host, started_at, ended_at FROM live_session "
                       f"WHERE {condition}{shops} ORDER BY started_at DESC, id DESC LIMIT 1", params)


def _where(dialect: str, window: Window, paid_from: datetime, paid_to: datetime | None) -> tuple[str, tuple[Any, ...]]:
    # Shop ids are integers from our own tables, written inline so each shop's index range is one probe.
    conds = [f"o.shop_id IN ({', '.join(str(int(i)) for i in window.shop_ids)})", "o.paid_at >= ?"]
    params: list[Any] = [db_time(dialect, paid_from)]
    if paid_to is not None:
        conds.append("o.paid_at < ?")
        params.append(db_time(dialect, paid_to))
    if window.live_session_id is not None:
        conds.append("o.live_session_id = ?")
        params.append(window.live_session_id)
    return " AND ".join(conds), tuple(params)
