"""Review (审单): the first step of the fulfilment stage. Reserved orders not yet in fulfilment are taken in
batches, their facts computed (amounts, quantities, remarks, the address checked by `fulfilment.address`,
blacklist hits, suspected duplicates, the region), and the active review rules decide each: `pass` sends the
order on (stage `route`), `hold` puts it in the anomaly queue (stage `held`, with the reason). Every decision
is recorded in `order_decision` with the rule set version and the rule that made it.

The rules run outside any write transaction; the results are written with INSERT … ON CONFLICT DO NOTHING,
so a second worker process reviewing the same orders at the same moment writes nothing twice (its
decisions are only recorded for the rows it inserted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from baodan.core import clock
from baodan.core.db import (
    Database,
    db_json,
    db_time,
    dialect_of,
    executemany,
    fetchall,
    insert_rows,
    read_json,
    read_time,
    update_from,
    where_in,
)
from baodan.fulfilment.address import check_address
from baodan.fulfilment.tables import DECISION_COLUMNS
from baodan.identity.pii import PiiCipher
from baodan.orders import repository
from baodan.rules.store import RuleBook

BATCH = 1000
DUPLICATE_WINDOW = timedelta(minutes=30)  # the same buyer paying the same amount again this soon: a double order


@dataclass(frozen=True)
class Reviewed:
    passed: int
    held: int
    reasons: dict[str, int]


def review_once(db: Database, pii: PiiCipher, rules: RuleBook, *, limit: int = BATCH,
                now: datetime | None = None) -> Reviewed:
    """Review up to `limit` reserved orders that are not yet in fulfilment, oldest reservation first."""
    now = now or clock.utcnow()
    with db.read() as s:
        orders = fetchall(s, "SELECT o.id, o.shop_id, o.channel, o.paid_total_fen, o.goods_total_fen, o.paid_at, "
                             "o.buyer_nick, o.phone_index, o.receiver, o.receiver_sealed, o.buyer_message, "
                             "o.seller_memo, o.live_room_id, o.warehouse_id, p.code, coalesce(o.parent_order_id, o.id) "
                             "FROM sales_order o "
                             "JOIN shop p ON p.id = o.shop_id LEFT JOIN fulfilment f ON f.order_id = o.id "
                             "WHERE o.state = 'reserved' AND (f.order_id IS NULL OR f.stage = 'review') "
                             "ORDER BY o.reserved_at, o.id LIMIT ?",
                          (limit,))
        if not orders:
            return Reviewed(0, 0, {})
        ids = [int(r[0]) for r in orders]
        lines: dict[int, list[tuple[str | None, int]]] = {}
        ship_after: dict[int, datetime] = {}
        for order_id, code, qty, after in where_in(
                s, "SELECT order_id, sku_code, quantity, ship_after FROM order_line WHERE order_id", ids):
            lines.setdefault(int(order_id), []).append((code, int(qty)))
            if (after := read_time(after)) is not None:
                ship_after[int(order_id)] = max(after, ship_after.get(int(order_id), after))
        blacklisted = _blacklisted(s, orders)
        duplicates = _suspected_duplicates(s, orders)
    facts = [_facts(row, lines.get(int(row[0]), []), pii, blacklisted, duplicates, ship_after.get(int(row[0])))
             for row in orders]
    decider = rules.decider("review")
    decisions = decider.decide(facts)
    held = {int(row[0]): d for row, d in zip(orders, decisions, strict=True) if d.action == "hold"}
    with db.write() as s:
        dialect = dialect_of(s)
        at = db_time(dialect, now)
        rows = [(int(row[0]), _stage(int(row[0]), held, ship_after, now),
                 (held[int(row[0])].reason or "held by rule")[:64] if int(row[0]) in held else None,
                 row[13], db_time(dialect, ship_after[int(row[0])]) if int(row[0]) in ship_after else None, at)
                for row in orders]
        taken = _record(s, rows)
        insert_rows(s, "order_decision", DECISION_COLUMNS,
                    [(int(row[0]), "review", decider.version, d.rule, (d.rule_title or "")[:200] or None,
                      d.action or "", (d.reason or "")[:64] or None, at)
                     for row, d in zip(orders, decisions, strict=True) if int(row[0]) in taken])
    reasons: dict[str, int] = {}
    for order_id, decision in held.items():
        if order_id in taken:
            reasons[decision.reason or "held by rule"] = reasons.get(decision.reason or "held by rule", 0) + 1
    return Reviewed(passed=len(taken) - sum(reasons.values()), held=sum(reasons.values()), reasons=reasons)


def _record(s: Any, rows: Sequence[tuple[Any, ...]]) -> set[int]:
    """Fulfilment rows for orders nobody reviewed yet, and the outcome for those sent back to review (an
    operator fixed the address); the ids this call decided."""
    before = dict(where_in(s, "SELECT order_id, stage FROM fulfilment WHERE order_id", [r[0] for r in rows]))
    fresh = [r for r in rows if r[0] not in before]
    again = [r for r in rows if before.get(r[0]) == "review"]
    update_from(s, "INSERT INTO fulfilment (order_id, stage, hold_reason, warehouse_id, release_at, version, "
                   "updated_at) SELECT d.order_id, d.stage, d.hold_reason, d.warehouse_id, d.release_at, 0, ? "
                   "FROM {rows} WHERE true ON CONFLICT (order_id) DO NOTHING",
                [("order_id", "bigint"), ("stage", "text"), ("hold_reason", "text"), ("warehouse_id", "bigint"),
                 ("release_at", "timestamptz")], [r[:5] for r in fresh], (fresh[0][5],) if fresh else ())
    executemany(s, "UPDATE fulfilment SET stage = ?, hold_reason = ?, warehouse_id = ?, release_at = ?, "
                   "version = version + 1, updated_at = ? WHERE order_id = ? AND stage = 'review'",
                [(*r[1:], r[0]) for r in again])
    return {int(r[0]) for r in (*fresh, *again)}


def _stage(order_id: int, held: dict[int, Any], ship_after: dict[int, datetime], now: datetime) -> str:
    """Held by a rule; else waiting for its presale date (预售); else on to routing."""
    if order_id in held:
        return "held"
    return "presale" if order_id in ship_after and ship_after[order_id] > now else "route"


def release_presale(db: Database, *, limit: int = BATCH, now: datetime | None = None) -> int:
    """Presale orders whose date has come go on to routing (oldest date first); how many."""
    now = now or clock.utcnow()
    with db.write() as s:
        dialect = dialect_of(s)
        at = db_time(dialect, now)
        due = [int(r[0]) for r in fetchall(s, "SELECT order_id FROM fulfilment WHERE stage = 'presale' AND "
                                              "release_at <= ? ORDER BY release_at, order_id LIMIT ?", (at, limit))]
        executemany(s, "UPDATE fulfilment SET stage = 'route', version = version + 1, updated_at = ? "
                       "WHERE order_id = ? AND stage = 'presale'", [(at, i) for i in due])
        repository.insert_events(s, [(i, "presale_released", at, db_json(dialect, {})) for i in due])
    return len(due)


def _facts(row: Sequence[Any], lines: list[tuple[str | None, int]], pii: PiiCipher,
           blacklisted: set[int], duplicates: set[int], ship_after: datetime | None) -> dict[str, Any]:
    (order_id, _shop_id, channel, paid, goods, _paid_at, _nick, _phone_index, receiver, sealed, message, memo,
     live_room, _warehouse, shop_code, _family) = row
    region = read_json(receiver) or {}
    clear = pii.open(sealed) if sealed else None
    if clear is None and not region:
        address_problem: str | None = "address_missing"
        province = city = district = None
    else:
        checked = check_address(region.get("province"), region.get("city"), region.get("district"),
                                (clear or {}).get("address") or region.get("address"))
        address_problem, province, city, district = checked.problem, checked.province, checked.city, checked.district
    return {
        "channel": channel, "shop": shop_code, "paid_total_fen": int(paid), "goods_total_fen": int(goods),
        "quantity": sum(q for _, q in lines), "line_count": len(lines),
        "sku_codes": [c for c, _ in lines if c], "buyer_message": message or "", "seller_memo": memo or "",
        "remarks": " ".join(t for t in (message, memo) if t), "province": province, "city": city,
        "district": district, "adcode": None, "address_problem": address_problem,
        "blacklisted": int(order_id) in blacklisted, "suspected_duplicate": int(order_id) in duplicates,
        "presale_until": ship_after.isoformat() if ship_after else None, "live_room_id": live_room,
    }


def _blacklisted(s: Any, orders: Sequence[Sequence[Any]]) -> set[int]:
    entries = fetchall(s, "SELECT kind, value, phone_index FROM blacklist")
    if not entries:
        return set()
    nicks = {v for k, v, _ in entries if k == "buyer_nick"}
    phones = {int(p) for k, _, p in entries if k == "phone" and p is not None}
    return {int(r[0]) for r in orders if (r[6] and r[6] in nicks) or (r[7] is not None and int(r[7]) in phones)}


def _suspected_duplicates(s: Any, orders: Sequence[Sequence[Any]]) -> set[int]:
    """Orders whose buyer (same shop, same phone) paid the same amount in another open order within
    DUPLICATE_WINDOW (the parts of one split order are one order)."""
    phones = sorted({int(r[7]) for r in orders if r[7] is not None})
    if not phones:
        return set()
    others: dict[tuple[int, int, int], list[tuple[int, datetime | None]]] = {}
    for family, shop_id, phone, total, paid_at in where_in(
            s, "SELECT coalesce(parent_order_id, id), shop_id, phone_index, paid_total_fen, paid_at FROM sales_order "
               "WHERE state IN ('reserved', 'awaiting_stock', 'held', 'shipped') AND phone_index", phones):
        others.setdefault((int(shop_id), int(phone), int(total)), []).append((int(family), read_time(paid_at)))
    found = set()
    for row in orders:
        if row[7] is None:
            continue
        paid_at = read_time(row[5])
        for other_id, other_paid in others.get((int(row[1]), int(row[7]), int(row[3])), []):
            if other_id != int(row[15]) and paid_at and other_paid and abs(paid_at - other_paid) <= DUPLICATE_WINDOW:
                found.add(int(row[0]))
    return found
