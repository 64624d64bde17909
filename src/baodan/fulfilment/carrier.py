"""Courier and waybill (快递策略, 电子面单): the third step of the fulfilment stage. The carrier rules choose a
courier for each routed order (region, weight, amount, warehouse; the shipped default: the first active
carrier account), the order is queued for a number from that courier's account (`waybills.services`: the
numbers are obtained by the waybill desk in the background, so nothing here waits on a carrier), and once
its number is issued the order takes it and is ready to wave.

Stages: `waybill` (routed, no courier yet) → `number` (queued for a number) → `ready`. An order the
courier's service refused FAILED_ATTEMPTS times (e.g. a platform-encrypted receiver that only the
platform's own e-waybill can open) is held with `waybill_failed` and the service's message, for an operator
(release sends it back to routing).

抖店's own e-waybill (an account of adapter `douyin`) is the one service that opens 抖店's ciphertexts: an order
whose receiver 抖店 gave only encrypted goes to such an account when one serves its warehouse, and never to
another (菜鸟, 快递鸟 and 拼多多 cannot open it); with none, it goes on as any order (and the service refuses it).
Other orders go to the other accounts; a 抖店 order in clear may still take a 抖店 account when the rules
choose a courier only that account has (or no other serves its warehouse). Whether a receiver is encrypted is
read from the sealed receiver (`pii`); without the key, every 抖店 order counts as encrypted (抖店 shows apps its
receivers only so).

Accounts per warehouse: an account with a warehouse numbers only that warehouse's parcels (its sender
address is that warehouse's); one without numbers any. Daily capacity: an account's room today is its
capacity less the numbers it issued since midnight (Beijing) and the orders queued at it. The rules see, per
order, `carriers` (couriers with room for its warehouse) and `carriers_full` (couriers at capacity), so a
rule can choose by them; when the chosen courier has no room (or no account for the warehouse), the first
account with room takes the order and the decision records `capacity_full` or `courier_unavailable`. With
no account with room (or none active), orders wait in `waybill` (the summary shows how many)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from baodan.core import clock
from baodan.core.db import (
    Database,
    db_time,
    dialect_of,
    executemany,
    fetchall,
    in_list,
    insert_rows,
    read_json,
    update_from,
    where_in,
)
from baodan.fulfilment.tables import DECISION_COLUMNS
from baodan.identity.pii import PiiCipher, PiiError
from baodan.rules.store import RuleBook
from baodan.waybills import repository as numbers
from baodan.waybills import services as waybills
from baodan.waybills.accounts import start_of_day

BATCH = 2000
UNLIMITED = 10**9
FAILED_ATTEMPTS = 3  # a courier that refused an order's number this often: the order is held (waybill_failed)
DOUYIN = "douyin"  # the adapter (and channel) of 抖店's own e-waybill


@dataclass(frozen=True)
class Couriered:
    queued: int
    ready: int


def carrier_once(db: Database, rules: RuleBook, *, pii: PiiCipher | None = None, limit: int = BATCH,
                 now: datetime | None = None) -> Couriered:
    """Choose couriers and queue numbers for routed orders, then hand issued numbers to their orders. `pii`
    opens sealed receivers to tell 抖店's encrypted ones (see the module's docstring)."""
    now = now or clock.utcnow()
    return Couriered(queued=_choose(db, rules, pii, limit, now), ready=_take(db, limit, now))


def _choose(db: Database, rules: RuleBook, pii: PiiCipher | None, limit: int, now: datetime) -> int:
    with db.read() as s:
        accounts = [_Account(int(i), code, None if w is None else int(w), cap, adapter)
                    for i, code, w, cap, adapter in fetchall(
                        s, "SELECT id, carrier_code, warehouse_id, daily_capacity, adapter FROM carrier_account "
                           "WHERE active = ? ORDER BY id", (True,))]
        if not accounts:
            return 0
        rows = fetchall(s, "SELECT o.id, o.channel, o.receiver, o.paid_total_fen, w.code, f.warehouse_id, "
                           "o.receiver_sealed FROM fulfilment f JOIN sales_order o ON o.id = f.order_id "
                           "LEFT JOIN warehouse w ON w.id = f.warehouse_id "
                           "WHERE f.stage = 'waybill' AND o.state = 'reserved' ORDER BY f.order_id LIMIT ?", (limit,))
        if not rows:
            return 0
        weights = dict(where_in(s, "SELECT l.order_id, sum(l.quantity * coalesce(k.weight_g, 0)) FROM order_line l "
                                   "LEFT JOIN sku k ON k.id = l.sku_id GROUP BY l.order_id HAVING l.order_id",
                                [int(r[0]) for r in rows]))
        room = _room(s, accounts, now)
    doudian_accounts = any(a.adapter == DOUYIN for a in accounts)
    facts, candidates = [], []
    for order_id, channel, receiver, paid, warehouse, warehouse_id, sealed in rows:
        region = read_json(receiver) or {}
        encrypted = doudian_accounts and _doudian_encrypted(pii, channel, sealed)
        serving = _serving(accounts, warehouse_id, channel=channel, encrypted=encrypted)
        candidates.append(serving)
        facts.append({"channel": channel, "province": region.get("province"), "city": region.get("city"),
                      "adcode": None, "weight_g": int(weights.get(order_id) or 0), "paid_total_fen": int(paid),
                      "warehouse": warehouse,
                      "carriers": sorted({a.code for a in serving if room[a.id] > 0}),
                      "carriers_full": sorted({a.code for a in serving} - {a.code for a in serving if room[a.id] > 0})})
    decider = rules.decider("carrier")
    decisions = decider.decide(facts)
    by_account: dict[int, list[int]] = defaultdict(list)
    chosen: dict[int, tuple[_Account, Any, str | None]] = {}
    for row, serving, decision in zip(rows, candidates, decisions, strict=True):
        wanted = str(decision.answer.get("carrier") or "")
        account, note = _account_for(serving, room, wanted)
        if account is None:
            continue  # no account numbers this warehouse's parcels, or all are full today: it waits
        room[account.id] -= 1
        by_account[account.id].append(int(row[0]))
        chosen[int(row[0])] = (account, decision, note)
    if not chosen:
        return 0
    with db.write() as s:
        dialect = dialect_of(s)
        at = db_time(dialect, now)
        for account_id, order_ids in by_account.items():
            waybills.queue_numbers(s, account_id=account_id, order_ids=order_ids)
        update_from(s, "UPDATE fulfilment SET stage = 'number', carrier_code = d.carrier_code, version = version + 1, "
                       "updated_at = ? FROM {rows} WHERE fulfilment.order_id = d.order_id AND stage = 'waybill'",
                    [("order_id", "bigint"), ("carrier_code", "text")],
                    [(order_id, a.code) for order_id, (a, _, _) in chosen.items()], (at,))
        insert_rows(s, "order_decision", DECISION_COLUMNS,
                    [(order_id, "carrier", decider.version, d.rule, (d.rule_title or "")[:200] or None, a.code,
                      note, at)
                     for order_id, (a, d, note) in chosen.items()])
    return len(chosen)


@dataclass(frozen=True)
class _Account:
    id: int
    code: str
    warehouse_id: int | None  # None: numbers parcels of any warehouse
    capacity: int | None  # numbers a day at most
    adapter: str = ""  # its e-waybill service

    def serves(self, warehouse_id: int | None) -> bool:
        return self.warehouse_id is None or self.warehouse_id == warehouse_id


def _doudian_encrypted(pii: PiiCipher | None, channel: str, sealed: str | None) -> bool:
    """Whether 抖店 gave the order's receiver only encrypted (its sealed receiver carries 抖店's ciphertexts);
    without the key, or a receiver sealed with a key not configured here, every 抖店 order counts as such."""
    if channel != DOUYIN:
        return False
    if pii is None:
        return True
    if not sealed:
        return False
    try:
        return bool(pii.open(sealed).get("platform_cipher"))
    except PiiError:
        return True


def _serving(accounts: list[_Account], warehouse_id: int | None, *, channel: str,
             encrypted: bool) -> list[_Account]:
    """The accounts that may number an order's parcel, in the order they are tried: for a receiver 抖店 gave
    only encrypted, 抖店's own e-waybill accounts when one serves the warehouse; else the other accounts, then
    (for a 抖店 order) 抖店's, which number 抖店 orders only."""
    serving = [a for a in accounts if a.serves(warehouse_id)]
    own = [a for a in serving if a.adapter == DOUYIN]
    if encrypted and own:
        return own
    others = [a for a in serving if a.adapter != DOUYIN]
    return others + own if channel == DOUYIN else others


def _room(s: Any, accounts: list[_Account], now: datetime) -> dict[int, int]:
    """Numbers each account can still give today: its daily capacity less what it issued since midnight
    (Beijing) and the orders already queued at it. No capacity: no limit."""
    capped = [a.id for a in accounts if a.capacity is not None]
    used: dict[int, int] = defaultdict(int)
    if capped:
        dialect = dialect_of(s)
        frag, ids = in_list(dialect, capped)
        for account_id, n in fetchall(s, f"SELECT account_id, count(*) FROM waybill WHERE issued_at >= ? AND "
                                         f"account_id {frag} GROUP BY account_id",
                                      (db_time(dialect, start_of_day(now)), ids)):
            used[int(account_id)] += int(n)
        for account_id, n in where_in(s, "SELECT account_id, count(*) FROM waybill_request GROUP BY account_id "
                                         "HAVING account_id", capped):
            used[int(account_id)] += int(n)
    return {a.id: UNLIMITED if a.capacity is None else max(a.capacity - used[a.id], 0) for a in accounts}


def _account_for(serving: list[_Account], room: dict[int, int],
                 wanted: str) -> tuple[_Account | None, str | None]:
    """The account to number an order's parcel, of those `serving` it (its warehouse's, in order): the first
    of the courier the rules chose with room today; else the first account with room (the reason says why)."""
    if not serving:
        return None, None
    for account in serving:
        if account.code == wanted and room[account.id] > 0:
            return account, None
    fallback = next((a for a in serving if room[a.id] > 0), None)
    if fallback is None:
        return None, None
    if not wanted:
        return fallback, None
    return fallback, ("capacity_full" if any(a.code == wanted for a in serving) else "courier_unavailable")


def _take(db: Database, limit: int, now: datetime) -> int:
    with db.write() as s:
        dialect = dialect_of(s)
        waiting = [int(r[0]) for r in fetchall(s, "SELECT order_id FROM fulfilment WHERE stage = 'number' "
                                                  "ORDER BY order_id LIMIT ?", (limit,))]
        taken = numbers.take(s, order_ids=waiting, now=now)
        at = db_time(dialect, now)
        update_from(s, "UPDATE fulfilment SET stage = 'ready', carrier_code = d.carrier_code, "
                       "waybill_no = d.waybill_no, version = version + 1, updated_at = ? FROM {rows} "
                       "WHERE fulfilment.order_id = d.order_id AND stage = 'number'",
                    [("order_id", "bigint"), ("carrier_code", "text"), ("waybill_no", "text")],
                    [(t.order_id, t.carrier_code, t.waybill_no) for t in taken], (at,))
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
