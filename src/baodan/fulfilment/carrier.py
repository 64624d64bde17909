"""Courier and waybill (快递策略, 电子面单): the third step of the fulfilment stage. The carrier rules choose a
courier for each routed order (region, weight, amount, warehouse; the shipped default: the first active
carrier account), the order is queued for a number from that courier's account (`waybills.services`: the
numbers are obtained by the waybill desk in the background, so nothing here waits on a carrier), and once
its number is issued the order takes it and is ready to wave.

Stages: `waybill` (routed, no courier yet) → `number` (queued for a number) → `ready`. An order the
courier's service refused FAILED_ATTEMPTS times (e.g. a platform-encrypted receiver that only the
platform's own e-waybill can open) is held with `waybill_failed` and the service's message, for an operator
(release sends it back to routing). With no active
carrier account, orders wait in `waybill` (the summary shows how many). Not built yet: per-warehouse
accounts (an account's sender address is one warehouse's; today the first active account of the chosen
courier is used) and a courier's daily capacity in the rules (the desk stops at it)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from baodan.core import clock
from baodan.core.db import Database, db_time, dialect_of, executemany, fetchall, read_json, where_in
from baodan.rules.store import RuleBook
from baodan.waybills import repository as numbers
from baodan.waybills import services as waybills

BATCH = 2000
FAILED_ATTEMPTS = 3  # a courier that refused an order's number this often: the order is held (waybill_failed)


@dataclass(frozen=True)
class Couriered:
    queued: int
    ready: int


def carrier_once(db: Database, rules: RuleBook, *, limit: int = BATCH, now: datetime | None = None) -> Couriered:
    """Choose couriers and queue numbers for routed orders, then hand issued numbers to their orders."""
    now = now or clock.utcnow()
    return Couriered(queued=_choose(db, rules, limit, now), ready=_take(db, limit, now))


def _choose(db: Database, rules: RuleBook, limit: int, now: datetime) -> int:
    with db.read() as s:
        accounts = fetchall(s, "SELECT id, carrier_code FROM carrier_account WHERE active = ? ORDER BY id", (True,))
        if not accounts:
            return 0
        rows = fetchall(s, "SELECT o.id, o.channel, o.receiver, o.paid_total_fen, w.code FROM fulfilment f "
                           "JOIN sales_order o ON o.id = f.order_id LEFT JOIN warehouse w ON w.id = f.warehouse_id "
                           "WHERE f.stage = 'waybill' AND o.state = 'reserved' ORDER BY f.order_id LIMIT ?", (limit,))
        if not rows:
            return 0
        weights = dict(where_in(s, "SELECT l.order_id, sum(l.quantity * coalesce(k.weight_g, 0)) FROM order_line l "
                                   "LEFT JOIN sku k ON k.id = l.sku_id GROUP BY l.order_id HAVING l.order_id",
                                [int(r[0]) for r in rows]))
    first_of = {}
    for account_id, code in accounts:
        first_of.setdefault(code, int(account_id))
    default = int(accounts[0][0])
    facts = []
    for order_id, channel, receiver, paid, warehouse in rows:
        region = read_json(receiver) or {}
        facts.append({"channel": channel, "province": region.get("province"), "city": region.get("city"),
                      "adcode": None, "weight_g": int(weights.get(order_id) or 0), "paid_total_fen": int(paid),
                      "warehouse": warehouse})
    decider = rules.decider("carrier")
    decisions = decider.decide(facts)
    by_account: dict[int, list[int]] = defaultdict(list)
    chosen = {}
    for row, decision in zip(rows, decisions, strict=True):
        account = first_of.get(str(decision.answer.get("carrier") or ""), default)
        by_account[account].append(int(row[0]))
        chosen[int(row[0])] = (account, decision)
    codes = {int(a): c for a, c in accounts}
    with db.write() as s:
        dialect = dialect_of(s)
        at = db_time(dialect, now)
        for account_id, order_ids in by_account.items():
            waybills.queue_numbers(s, account_id=account_id, order_ids=order_ids)
        executemany(s, "UPDATE fulfilment SET stage = 'number', carrier_code = ?, version = version + 1, "
                       "updated_at = ? WHERE order_id = ? AND stage = 'waybill'",
                    [(codes[a], at, order_id) for order_id, (a, _) in chosen.items()])
        executemany(s, "INSERT INTO order_decision (order_id, hook, rule_set_version, rule, rule_title, outcome, "
                       "reason, at) VALUES (?, 'carrier', ?, ?, ?, ?, ?, ?)",
                    [(order_id, decider.version, d.rule, (d.rule_title or "")[:200] or None, codes[a],
                      None if d.answer.get("carrier") in (None, codes[a]) else "unknown courier: first account",
                      at) for order_id, (a, d) in chosen.items()])
    return len(chosen)


def _take(db: Database, limit: int, now: datetime) -> int:
    with db.write() as s:
        dialect = dialect_of(s)
        waiting = [int(r[0]) for r in fetchall(s, "SELECT order_id FROM fulfilment WHERE stage = 'number' "
                                                  "ORDER BY order_id LIMIT ?", (limit,))]
        taken = numbers.take(s, order_ids=waiting, now=now)
        at = db_time(dialect, now)
        executemany(s, "UPDATE fulfilment SET stage = 'ready', carrier_code = ?, waybill_no = ?, "
                       "version = version + 1, updated_at = ? WHERE order_id = ? AND stage = 'number'",
                    [(t.carrier_code, t.waybill_no, at, t.order_id) for t in taken])
        got = {t.order_id for t in taken}
        failing = {order_id: state for order_id, state in numbers.numbers_for(
            s, [i for i in waiting if i not in got]).items()
            if state["state"] == "failing" and state["attempts"] >= FAILED_ATTEMPTS}
        executemany(s, "DELETE FROM waybill_request WHERE order_id = ?", [(i,) for i in failing])
        executemany(s, "UPDATE fulfilment SET stage = 'held', hold_reason = 'waybill_failed', version = version + 1, "
                       "updated_at = ? WHERE order_id = ? AND stage = 'number'", [(at, i) for i in failing])
        executemany(s, "INSERT INTO order_decision (order_id, hook, rule_set_version, rule, rule_title, outcome, "
                       "reason, at) VALUES (?, 'carrier', 0, 'waybill', ?, 'hold', 'waybill_failed', ?)",
                    [(i, (state["error"] or "")[:200] or None, at) for i, state in failing.items()])
    return len(taken)
