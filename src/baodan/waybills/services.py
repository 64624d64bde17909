"""Use cases of waybills, as the fulfilment code calls them: queue orders for a number, read what is ready,
take numbers for parcels (one statement, no carrier call), and give numbers back (cancel, or void the
numbers of orders that no longer need them). Carrier calls are never made here: the desk (waybills.desk)
makes them in the background, so none of these waits on a carrier."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from baodan.core import clock
from baodan.core.db import Database
from baodan.core.errors import Invalid
from baodan.identity import audit
from baodan.waybills import repository
from baodan.waybills.errors import AccountNotFound, NotCancellable, WaybillNotFound
from baodan.waybills.repository import Taken

SYSTEM_ACTOR = "system:waybills"
MAX_ORDERS = 100_000  # orders one call may name


def request_numbers(db: Database, *, account_id: int, order_ids: Sequence[int]) -> int:
    """Queue reserved orders for a number from the account (oldest first). Idempotent: an order that holds a
    number or waits for one already is left as it is. Returns how many were queued. One statement, no carrier
    call: safe on the surge path."""
    with db.write() as s:
        return queue_numbers(s, account_id=account_id, order_ids=order_ids)


def queue_numbers(s: Session, *, account_id: int, order_ids: Sequence[int]) -> int:
    """`request_numbers` inside the caller's transaction (the pipeline's batch)."""
    if not repository.account_exists(s, account_id):
        raise AccountNotFound(f"no active carrier account {account_id}")
    return repository.queue(s, account_id=account_id, order_ids=_bounded(order_ids), now=clock.utcnow())


def numbers_for(db: Database, order_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """What each order has: its number (`state` issued: ready; taken: on its parcel) with the routing the
    label prints, or its place in the queue (`state` queued, or failing with the service's last `error`).
    Orders with neither are left out."""
    with db.read() as s:
        return repository.numbers_for(s, _bounded(order_ids))


def take_numbers(db: Database, *, order_ids: Sequence[int]) -> list[Taken]:
    """Hand the orders' ready numbers to their parcels, in one statement (see repository.take): each number
    is handed out once; orders whose number is not ready (or that a concurrent taker holds) are left out."""
    with db.write() as s:
        return repository.take(s, order_ids=_bounded(order_ids), now=clock.utcnow())


def cancel(db: Database, *, waybill_no: str, carrier_code: str | None = None, reason: str = "", actor: str,
           ip: str | None = None) -> dict[str, Any]:
    """Give a number back to its service: owed at once (audited, in the same transaction) and sent by the desk
    (`WaybillDesk.cancel_once`), retried until the service answers. A number refused before is asked again."""
    with db.write() as s:
        rows = repository.find(s, waybill_no=waybill_no, carrier_code=carrier_code)
        if not rows:
            raise WaybillNotFound(f"no waybill {waybill_no}")
        if len(rows) > 1:
            raise NotCancellable(f"waybill {waybill_no} is known for several couriers: name the carrier_code",
                                 details={"carrier_codes": sorted(r[3] for r in rows)})
        waybill_id, order_id, account_id, carrier, number, state = rows[0]
        if state not in ("issued", "taken", "cancel_refused"):
            raise NotCancellable(f"waybill {carrier} {number} is {state}", details={"state": state})
        repository.owe_cancel(s, [waybill_id], reason=reason or "cancelled by hand", now=clock.utcnow())
        audit.record(s, actor=actor, action="waybills.cancel", target=f"waybill:{carrier}:{number}", ip=ip,
                     detail={"order_id": order_id, "account_id": account_id, "before": state, "reason": reason})
    return {"id": int(waybill_id), "order_id": int(order_id), "account_id": int(account_id), "carrier_code": carrier,
            "waybill_no": number, "state": "cancelling", "cancel_reason": reason or "cancelled by hand",
            "last_error": None}


def void_for_orders(db: Database, *, order_ids: Sequence[int], actor: str, reason: str,
                    include_taken: bool = False, ip: str | None = None) -> dict[str, Any]:
    """An intercepted order's numbers go back: its place in the queue is dropped, its never-printed (issued)
    numbers are owed a cancel, and, `include_taken`, the ones handed to a parcel too (the label is to be
    destroyed). Audited; returns what was dropped and voided."""
    states = ("issued", "taken") if include_taken else ("issued",)
    with db.write() as s:
        dropped = repository.drop_requests(s, _bounded(order_ids))
        rows = repository.live_of_orders(s, _bounded(order_ids), states=states)
        voided = repository.owe_cancel(s, [r[0] for r in rows], reason=reason, now=clock.utcnow())
        if dropped or rows:
            audit.record(s, actor=actor, action="waybills.void", target=f"orders:{len(order_ids)}", ip=ip,
                         detail={"reason": reason, "requests_dropped": dropped,
                                 "numbers": [f"{r[2]}:{r[3]}" for r in rows[:100]], "count": len(rows)})
    return {"requests_dropped": dropped, "voided": voided}


def _bounded(order_ids: Sequence[int]) -> list[int]:
    ids = list(dict.fromkeys(int(i) for i in order_ids))
    if len(ids) > MAX_ORDERS:
        raise Invalid(f"at most {MAX_ORDERS} orders a call", code="waybills.too_many_orders")
    return ids
