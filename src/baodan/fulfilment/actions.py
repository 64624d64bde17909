"""What an operator does with an order the review held (the anomaly queue, 异常订单): release it, fix its
address (it is reviewed again), or cancel it (its stock goes back). Each action is one transaction, takes the
order's lock first (as the pipeline and shipping do), checks the stage it expects, and is audited with
before/after (never a buyer's clear data). Splitting by hand is `fulfilment.split.split_by_hand`."""

from __future__ import annotations

from typing import Any

from baodan.core import clock
from baodan.core.db import Database, db_json, db_time, dialect_of, execute, fetchall, read_json
from baodan.core.errors import Conflict
from baodan.identity import audit
from baodan.identity.pii import PiiCipher
from baodan.identity.scope import EVERYTHING, Scope
from baodan.inventory import services as inventory
from baodan.orders import repository
from baodan.orders.model import OrderState
from baodan.orders.queries import OrderNotFound
from baodan.rules.store import active_version

OPEN_STAGES = ("review", "held", "route")  # before a waybill is taken: the address may still change


def release(db: Database, order_id: int, *, actor: str, note: str | None = None, ip: str | None = None,
            scope: Scope = EVERYTHING) -> dict[str, Any]:
    """A held order goes on (stage route); the decision is recorded as the operator's."""
    now = clock.utcnow()
    with db.write() as s:
        dialect = dialect_of(s)
        stage, reason = _locked(s, order_id, scope, expect=("held",))
        execute(s, "UPDATE fulfilment SET stage = 'route', hold_reason = NULL, version = version + 1, updated_at = ? "
                   "WHERE order_id = ?", (db_time(dialect, now), order_id))
        execute(s, "INSERT INTO order_decision (order_id, hook, rule_set_version, rule, rule_title, outcome, reason, "
                   "at) VALUES (?, 'review', ?, 'manual', ?, 'pass', ?, ?)",
                (order_id, active_version(s, "review"), f"released by {actor}"[:200], (note or "released")[:64],
                 db_time(dialect, now)))
        audit.record(s, actor=actor, action="fulfilment.release", target=f"order:{order_id}", ip=ip,
                     detail={"before": {"stage": stage, "hold_reason": reason}, "after": {"stage": "route"},
                             "note": note})
    return stage_of(db, order_id)


def fix_address(db: Database, pii: PiiCipher, order_id: int, address: dict[str, str], *, actor: str,
                ip: str | None = None, scope: Scope = EVERYTHING) -> dict[str, Any]:
    """A new receiving address (province, city, district, address; name and phone stay): sealed like any
    receiver, and the order goes back to review. The platform's ciphertext of the old address is dropped."""
    now = clock.utcnow()
    with db.write() as s:
        dialect = dialect_of(s)
        stage, reason = _locked(s, order_id, scope, expect=OPEN_STAGES)
        ((sealed, public),) = fetchall(s, "SELECT receiver_sealed, receiver FROM sales_order WHERE id = ?", (order_id,))
        clear = pii.open(sealed) if sealed else {}
        clear.pop("platform_cipher", None)
        before = {k: (read_json(public) or {}).get(k) for k in ("province", "city", "district")}
        changed = pii.seal_receiver({**clear, **{k: v for k, v in address.items() if v is not None}})
        assert changed is not None
        execute(s, "UPDATE sales_order SET receiver = ?, receiver_sealed = ?, phone_index = ?, updated_at = ? "
                   "WHERE id = ?", (db_json(dialect, changed.public), changed.sealed, changed.phone_index,
                                   db_time(dialect, now), order_id))
        execute(s, "UPDATE fulfilment SET stage = 'review', hold_reason = NULL, version = version + 1, "
                   "updated_at = ? WHERE order_id = ?", (db_time(dialect, now), order_id))
        repository.insert_events(s, [(order_id, "address_changed", db_time(dialect, now),
                                      db_json(dialect, {"by": actor, "region": {k: changed.public.get(k)
                                                                                for k in before}}))])
        audit.record(s, actor=actor, action="fulfilment.fix_address", target=f"order:{order_id}", ip=ip,
                     detail={"before": {"stage": stage, "hold_reason": reason, **before},
                             "after": {"stage": "review", **{k: changed.public.get(k) for k in before}}})
    return stage_of(db, order_id)


def cancel(db: Database, order_id: int, *, actor: str, note: str | None = None, ip: str | None = None,
           scope: Scope = EVERYTHING) -> dict[str, Any]:
    """The seller will not ship it: the reservation is released (the stock is free for the next order in
    line) and the order is cancelled (the refund, if any, is the platform's business)."""
    now = clock.utcnow()
    with db.write() as s:
        dialect = dialect_of(s)
        stage, reason = _locked(s, order_id, scope, expect=OPEN_STAGES)
        allocation = inventory.plan_allocation(s, demands=[], release_order_ids=[order_id])
        inventory.write_allocation(s, allocation, now=now, reference=f"cancel:{order_id}", actor=actor[:64])
        ((anomalies,),) = fetchall(s, "SELECT anomalies FROM sales_order WHERE id = ?", (order_id,))
        marks = sorted({*(read_json(anomalies) or ()), "cancelled_by_seller"})
        execute(s, "UPDATE sales_order SET state = ?, anomalies = ?, warehouse_id = NULL, reserved_at = NULL, "
                   "updated_at = ? WHERE id = ?",
                (OrderState.cancelled.value, db_json(dialect, marks), db_time(dialect, now), order_id))
        execute(s, "UPDATE fulfilment SET stage = 'cancelled', version = version + 1, updated_at = ? "
                   "WHERE order_id = ?", (db_time(dialect, now), order_id))
        repository.insert_events(s, [(order_id, "cancelled", db_time(dialect, now),
                                      db_json(dialect, {"by": actor, "note": note}))])
        audit.record(s, actor=actor, action="fulfilment.cancel", target=f"order:{order_id}", ip=ip,
                     detail={"before": {"stage": stage, "hold_reason": reason, "state": "reserved"},
                             "after": {"stage": "cancelled", "state": "cancelled"}, "note": note})
    return stage_of(db, order_id)


def stage_of(db: Database, order_id: int) -> dict[str, Any]:
    with db.read() as s:
        rows = fetchall(s, "SELECT stage, hold_reason, version FROM fulfilment WHERE order_id = ?", (order_id,))
    stage, reason, version = rows[0]
    return {"order_id": order_id, "stage": stage, "hold_reason": reason, "version": int(version)}


def _locked(s: Any, order_id: int, scope: Scope, *, expect: tuple[str, ...]) -> tuple[str, str | None]:
    """Lock the order (as the pipeline does), then read its fulfilment stage; refuse an unexpected one."""
    rows = fetchall(s, "SELECT channel, platform_order_id, shop_id FROM sales_order WHERE id = ?", (order_id,))
    if not rows or not scope.has_shop(rows[0][2]):
        raise OrderNotFound(f"no order {order_id}")
    repository.lock_orders(s, [(rows[0][0], rows[0][1])])
    found = fetchall(s, "SELECT f.stage, f.hold_reason, o.state FROM fulfilment f JOIN sales_order o "
                        "ON o.id = f.order_id WHERE f.order_id = ?", (order_id,))
    if not found:
        raise Conflict(f"order {order_id} is not in fulfilment yet (not reserved, or not reviewed yet)",
                       code="fulfilment.not_in_fulfilment")
    stage, reason, state = found[0]
    if stage not in expect or state != OrderState.reserved:
        raise Conflict(f"order {order_id} is {stage} ({state}): this needs it {' or '.join(expect)}",
                       code="fulfilment.wrong_stage", details={"stage": stage, "state": state})
    return stage, reason
