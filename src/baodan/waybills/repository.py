"""SQL of waybills: the queue of orders waiting for a number, the one statement that hands numbers out, the
numbers stored as issued, cancels owed to the services, and the sweep of numbers whose order no longer needs
them. Never commits: the callers own the transactions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from baodan.core.db import db_time, dialect_of, execute, executemany, fetchall, in_list, read_time
from baodan.identity.pii import PiiCipher
from baodan.orders.repository import PLATFORM_ID
from baodan.waybills.base import IssuedWaybill

LIVE = ("issued", "taken")
DONE_ORDER_STATES = ("cancelled", "shipped", "completed")  # an order in these needs no new number
LEASE = timedelta(minutes=5)  # a claimed request or cancel is another process's for this long
_TAKEN = ("order_id, account_id, carrier_code, waybill_no, sort_code, package_center_code, package_center_name, "
          "parent_waybill_no")


class Taken(NamedTuple):
    order_id: int
    account_id: int
    carrier_code: str
    waybill_no: str
    sort_code: str | None
    package_center_code: str | None
    package_center_name: str | None
    parent_waybill_no: str | None


class Due(NamedTuple):
    order_id: int
    object_id: str
    attempts: int


class OwedCancel(NamedTuple):
    id: int
    account_id: int
    order_id: int
    waybill_no: str
    object_id: str
    attempts: int


def queue(s: Session, *, account_id: int, order_ids: Sequence[int], now: datetime) -> int:
    """Queue reserved orders for a number from the account, in one statement: those that hold no live number
    and wait for none yet (others are left as they are). The application's id is BD<order id>, followed by
    -<n> when the order had n numbers before (a number given back is never asked for again)."""
    if not order_ids:
        return 0
    dialect = dialect_of(s)
    test, ids = in_list(dialect, order_ids)
    at = db_time(dialect, now)
    return execute(s, "INSERT INTO waybill_request (order_id, account_id, object_id, requested_at, next_at, attempts) "
                      "SELECT o.id, ?, 'BD' || CAST(o.id AS TEXT) || coalesce('-' || CAST(NULLIF("
                      "(SELECT count(*) FROM waybill w WHERE w.order_id = o.id), 0) AS TEXT), ''), ?, ?, 0 "
                      f"FROM sales_order o WHERE o.id {test} AND o.state = 'reserved' AND NOT EXISTS "
                      "(SELECT 1 FROM waybill w WHERE w.order_id = o.id AND w.state IN ('issued', 'taken')) "
                      "ON CONFLICT (order_id) DO NOTHING", (account_id, at, at, ids))


def account_exists(s: Session, account_id: int) -> bool:
    return bool(fetchall(s, "SELECT 1 FROM carrier_account WHERE id = ? AND active = ?", (account_id, True)))


def take(s: Session, *, order_ids: Sequence[int], now: datetime) -> list[Taken]:
    """Hand out the issued numbers of these orders, one per order, in one statement: each number once, ever.
    On PostgreSQL the rows are claimed with FOR UPDATE SKIP LOCKED, so a concurrent taker of the same orders
    neither waits nor deadlocks: it gets none of the numbers the other one holds (and they are taken)."""
    if not order_ids:
        return []
    dialect = dialect_of(s)
    test, ids = in_list(dialect, order_ids)
    if dialect == "postgresql":
        sql = ("UPDATE waybill SET state = 'taken', taken_at = ? WHERE id IN (SELECT id FROM waybill "
               f"WHERE order_id {test} AND state = 'issued' FOR UPDATE SKIP LOCKED) RETURNING {_TAKEN}")
    else:  # one writer at a time
        sql = f"UPDATE waybill SET state = 'taken', taken_at = ? WHERE order_id {test} AND state = 'issued' " \
              f"RETURNING {_TAKEN}"
    return [Taken(*row) for row in fetchall(s, sql, (db_time(dialect, now), ids))]


def claim_due(s: Session, *, account_id: int, now: datetime, limit: int) -> list[Due]:
    """The account's oldest due requests, leased for LEASE (another process skips them; a process killed
    mid-call leaves them to be retried)."""
    dialect = dialect_of(s)
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    due = [Due(int(a), b, int(c)) for a, b, c in fetchall(
        s, "SELECT order_id, object_id, attempts FROM waybill_request WHERE account_id = ? AND next_at <= ? "
           f"ORDER BY requested_at, order_id LIMIT ?{lock}", (account_id, db_time(dialect, now), limit))]
    executemany(s, "UPDATE waybill_request SET next_at = ? WHERE order_id = ?",
                [(db_time(dialect, now + LEASE), d.order_id) for d in due])
    return due


def orders(s: Session, order_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The orders as a parcel needs them: platform, trade id, state, the receiver (public and sealed) and
    the lines (title or SKU code, quantity)."""
    dialect = dialect_of(s)
    test, ids = in_list(dialect, order_ids)
    found = {int(r[0]): {"channel": r[1], "platform_order_id": r[2], "state": r[3], "receiver": r[4],
                         "receiver_sealed": r[5], "lines": []}
             for r in fetchall(s, f"SELECT o.id, o.channel, {PLATFORM_ID}, o.state, o.receiver, o.receiver_sealed "
                                  f"FROM sales_order o WHERE o.id {test}", (ids,))}
    for order_id, title, sku_code, quantity in fetchall(
            s, f"SELECT order_id, title, sku_code, quantity FROM order_line WHERE order_id {test} "
               "ORDER BY order_id, line_no", (ids,)):
        found[int(order_id)]["lines"].append((title or sku_code or "商品", int(quantity)))
    return found


def store_issued(s: Session, pii: PiiCipher, *, account_id: int, carrier_code: str,
                 issued: Sequence[tuple[int, IssuedWaybill]], now: datetime) -> int:
    """Keep issued numbers (a number kept already, re-issued for the same application, is not kept twice) and
    end their orders' requests; returns the numbers new here."""
    dialect = dialect_of(s)
    at = db_time(dialect, now)
    added = executemany(s, "INSERT INTO waybill (account_id, order_id, object_id, carrier_code, waybill_no, "
                           "sort_code, package_center_code, package_center_name, parent_waybill_no, print_sealed, "
                           "state, issued_at, cancel_attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'issued', ?, 0) "
                           "ON CONFLICT (carrier_code, waybill_no) DO NOTHING",
                        [(account_id, order_id, w.object_id, carrier_code, w.waybill_no, w.sort_code,
                          w.package_center_code, w.package_center_name, w.parent_waybill_no,
                          pii.seal({"print_data": w.print_data}) if w.print_data else None, at)
                         for order_id, w in issued])
    executemany(s, "DELETE FROM waybill_request WHERE order_id = ? AND EXISTS (SELECT 1 FROM waybill w "
                   "WHERE w.order_id = waybill_request.order_id AND w.object_id = waybill_request.object_id)",
                [(order_id,) for order_id, _ in issued])
    return max(added, 0)


def request_failed(s: Session, failed: Iterable[tuple[Due, str]], *, now: datetime,
                   backoff: Any) -> None:
    dialect = dialect_of(s)
    executemany(s, "UPDATE waybill_request SET attempts = ?, next_at = ?, last_error = ? WHERE order_id = ?",
                [(due.attempts + 1, db_time(dialect, now + backoff(due.attempts + 1)), error[:500], due.order_id)
                 for due, error in failed])


def drop_requests(s: Session, order_ids: Sequence[int]) -> int:
    if not order_ids:
        return 0
    test, ids = in_list(dialect_of(s), order_ids)
    return execute(s, f"DELETE FROM waybill_request WHERE order_id {test}", (ids,))


def counts(s: Session, *, account_id: int, since: datetime) -> tuple[int, int]:
    """(numbers ready, numbers issued since `since`) of an account."""
    dialect = dialect_of(s)
    ((ready, today),) = fetchall(
        s, "SELECT count(*) FILTER (WHERE state = 'issued'), count(*) FILTER (WHERE issued_at >= ?) FROM waybill "
           "WHERE account_id = ?", (db_time(dialect, since), account_id))
    return int(ready), int(today)


def note_account(s: Session, *, account_id: int, error: str | None, now: datetime) -> None:
    execute(s, "UPDATE carrier_account SET last_error = ?, last_refill_at = ? WHERE id = ?",
            ((error or "")[:500] or None, db_time(dialect_of(s), now), account_id))


# -- cancels

def find(s: Session, *, waybill_no: str, carrier_code: str | None = None) -> list[tuple[Any, ...]]:
    sql = "SELECT id, order_id, account_id, carrier_code, waybill_no, state FROM waybill WHERE waybill_no = ?"
    return fetchall(s, sql + (" AND carrier_code = ?" if carrier_code else ""),
                    (waybill_no, carrier_code) if carrier_code else (waybill_no,))


def waybill_row(s: Session, waybill_id: int) -> dict[str, Any]:
    cols = ("id", "order_id", "account_id", "carrier_code", "waybill_no", "state", "cancel_reason", "last_error")
    ((*values,),) = fetchall(s, f"SELECT {', '.join(cols)} FROM waybill WHERE id = ?", (waybill_id,))
    return dict(zip(cols, values, strict=True))


def live_of_orders(s: Session, order_ids: Sequence[int], *, states: Sequence[str]) -> list[tuple[Any, ...]]:
    dialect = dialect_of(s)
    test, ids = in_list(dialect, order_ids)
    marks = ", ".join("?" * len(states))
    return fetchall(s, "SELECT id, order_id, carrier_code, waybill_no, state FROM waybill "
                       f"WHERE order_id {test} AND state IN ({marks})", (ids, *states))


def owe_cancel(s: Session, ids: Sequence[int], *, reason: str, now: datetime) -> int:
    """Owe the services a cancel of these numbers (issued, taken, or refused before: asked again)."""
    at = db_time(dialect_of(s), now)
    return executemany(s, "UPDATE waybill SET state = 'cancelling', cancel_reason = ?, cancel_requested_at = ?, "
                          "cancel_next_at = ?, cancel_attempts = 0, last_error = NULL WHERE id = ? "
                          "AND state IN ('issued', 'taken', 'cancel_refused')",
                       [(reason[:200], at, at, waybill_id) for waybill_id in ids])


def claim_cancels(s: Session, *, now: datetime, limit: int, ids: Sequence[int] | None = None) -> list[OwedCancel]:
    dialect = dialect_of(s)
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    only = ""
    params: tuple[Any, ...] = (db_time(dialect, now),)
    if ids is not None:
        test, id_list = in_list(dialect, ids)
        only, params = f" AND id {test}", (*params, id_list)
    due = [OwedCancel(int(a), int(b), int(c), d, e, int(f)) for a, b, c, d, e, f in fetchall(
        s, "SELECT id, account_id, order_id, waybill_no, object_id, cancel_attempts FROM waybill "
           f"WHERE state = 'cancelling' AND cancel_next_at <= ?{only} ORDER BY cancel_next_at LIMIT ?{lock}",
        (*params, limit))]
    executemany(s, "UPDATE waybill SET cancel_next_at = ? WHERE id = ?",
                [(db_time(dialect, now + LEASE), c.id) for c in due])
    return due


def cancel_done(s: Session, waybill_id: int, *, now: datetime) -> None:
    """Given back: the print data goes with it (it may name the receiver)."""
    execute(s, "UPDATE waybill SET state = 'cancelled', cancelled_at = ?, print_sealed = NULL, last_error = NULL, "
               "cancel_attempts = cancel_attempts + 1 WHERE id = ? AND state = 'cancelling'",
            (db_time(dialect_of(s), now), waybill_id))


def cancel_failed(s: Session, owed: OwedCancel, *, error: str, now: datetime, retry_at: datetime | None) -> None:
    """A failed cancel: tried again at `retry_at`, or (None) left as the service refused it (cancel_refused)."""
    dialect = dialect_of(s)
    if retry_at is None:
        execute(s, "UPDATE waybill SET state = 'cancel_refused', cancel_attempts = ?, last_error = ? WHERE id = ? "
                   "AND state = 'cancelling'", (owed.attempts + 1, error[:500], owed.id))
    else:
        execute(s, "UPDATE waybill SET cancel_attempts = ?, cancel_next_at = ?, last_error = ? WHERE id = ? "
                   "AND state = 'cancelling'", (owed.attempts + 1, db_time(dialect, retry_at), error[:500], owed.id))


# -- the sweep of numbers and requests that orders no longer need

def settle_used(s: Session, *, now: datetime) -> int:
    """Issued numbers a shipment already carries (shipped by hand with the number read off the list) count
    as taken."""
    return execute(s, "UPDATE waybill SET state = 'taken', taken_at = ? WHERE state = 'issued' AND EXISTS "
                      "(SELECT 1 FROM shipment sh WHERE sh.carrier_code = waybill.carrier_code "
                      "AND sh.waybill_no = waybill.waybill_no)", (db_time(dialect_of(s), now),))


def unneeded(s: Session, *, limit: int) -> list[tuple[Any, ...]]:
    """Issued (never taken) numbers of orders that were cancelled or shipped otherwise: (id, order id,
    carrier code, number, order state)."""
    marks = ", ".join("?" * len(DONE_ORDER_STATES))
    return fetchall(s, "SELECT w.id, w.order_id, w.carrier_code, w.waybill_no, o.state FROM waybill w "
                       f"JOIN sales_order o ON o.id = w.order_id WHERE w.state = 'issued' AND o.state IN ({marks}) "
                       "ORDER BY w.id LIMIT ?", (*DONE_ORDER_STATES, limit))


def drop_unneeded_requests(s: Session) -> int:
    marks = ", ".join("?" * len(DONE_ORDER_STATES))
    return execute(s, "DELETE FROM waybill_request WHERE EXISTS (SELECT 1 FROM sales_order o WHERE "
                      f"o.id = waybill_request.order_id AND o.state IN ({marks}))", DONE_ORDER_STATES)


def numbers_for(s: Session, order_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Per order: its live number, else its queued request, else nothing."""
    dialect = dialect_of(s)
    test, ids = in_list(dialect, order_ids)
    found: dict[int, dict[str, Any]] = {}
    for order_id, object_id, attempts, error, next_at in fetchall(
            s, f"SELECT order_id, object_id, attempts, last_error, next_at FROM waybill_request WHERE order_id {test}",
            (ids,)):
        found[int(order_id)] = {"state": "failing" if attempts else "queued", "object_id": object_id,
                                "attempts": int(attempts), "error": error, "next_at": read_time(next_at)}
    for (waybill_id, order_id, account_id, carrier_code, waybill_no, state, sort_code, center_code, center_name,
         parent, issued_at) in fetchall(
            s, "SELECT id, order_id, account_id, carrier_code, waybill_no, state, sort_code, package_center_code, "
               f"package_center_name, parent_waybill_no, issued_at FROM waybill WHERE order_id {test} "
               "AND state IN ('issued', 'taken')", (ids,)):
        found[int(order_id)] = {"state": state, "id": int(waybill_id), "account_id": int(account_id),
                                "carrier_code": carrier_code, "waybill_no": waybill_no, "sort_code": sort_code,
                                "package_center_code": center_code, "package_center_name": center_name,
                                "parent_waybill_no": parent, "issued_at": read_time(issued_at)}
    return found
