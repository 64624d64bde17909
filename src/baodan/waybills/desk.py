"""The waybill desk, in the background: keeps each account's numbers ahead of printing (**refill**: below the
account's low-water mark it asks its service for the next batch of queued orders, up to `max_per_call`
parcels a call), gives numbers back (**cancel**: the cancels owed, retried with backoff), and voids the
numbers orders no longer need (**sweep**: an order cancelled or shipped otherwise before its number was
taken). Each pass (`refill_once`, `cancel_once`, `sweep_once`) is a plain method, so tests drive them step
by step; `start` runs them in a thread, like the channel loops (channels.sync).

Calls go through the platforms' transport (channels.transport: signed by the adapter, kept under its rate,
retried on 5xx, timeouts and busy answers) and are logged in `carrier_call` with secrets masked and every
sender, receiver and print data hidden.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self

import orjson

from baodan.channels.ingest import backoff
from baodan.channels.transport import CallLog, ShopLink, Transport
from baodan.core import clock
from baodan.core.db import Database, read_json
from baodan.core.errors import BaoDanError
from baodan.identity import audit
from baodan.identity.pii import PiiCipher
from baodan.waybills import accounts, repository
from baodan.waybills.accounts import Pool
from baodan.waybills.base import Address, CarrierAccount, Contact, Parcel, WaybillAdapter, masked
from baodan.waybills.registry import ADAPTERS
from baodan.waybills.repository import DONE_ORDER_STATES, Due, OwedCancel
from baodan.waybills.services import SYSTEM_ACTOR

log = logging.getLogger("baodan.waybills")

CANCEL_BATCH = 50
SWEEP_BATCH = 500
MAX_CANCEL_REFUSALS = 3  # a cancel the service refuses this often (not busy: refused) is left as refused
MAX_ITEMS = 20  # lines named on a label at most
IDLE_WAIT_S = 5.0
_HIDDEN = re.compile(r"(recipient|receiver|sender|receiver_info|sender_info|print_?data|printtemplate|encrypteddata"
                     r"|name|oaid)$", re.I)


class WaybillCallLog(CallLog):
    """The call log of e-waybill services (`carrier_call`): on top of the transport's masking, every sender,
    receiver (抖店's `*_info` too) and print data is hidden, also inside JSON text parameters (菜鸟's request,
    快递鸟's RequestData)."""

    def __init__(self, db: Database) -> None:
        super().__init__(db, table="carrier_call", owner="account_id")

    def add(self, *, request: Any, response: Any, **fields: Any) -> None:
        super().add(request=_hidden(request), response=_hidden(response), **fields)


class WaybillDesk:
    def __init__(self, db: Database, pii: PiiCipher, *, transport: Transport | None = None,
                 max_attempts: int = 4) -> None:
        self.db, self.pii = db, pii
        self.call_log = WaybillCallLog(db)
        self.transport = transport or Transport(self.call_log, max_attempts=max_attempts)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.call_log.flush()
        self.transport.http.close()

    def pools(self) -> list[Pool]:
        with self.db.read() as s:
            return accounts.pools(s, self.pii)

    # ------------------------------------------------------------------------------------------ refill

    def refill_once(self, *, now: datetime | None = None, account_id: int | None = None) -> int:
        """One batch for each active account (or the one named) whose ready numbers are below its low-water
        mark, within its daily capacity; returns the numbers issued."""
        now = now or clock.utcnow()
        return sum(self._refill(pool, now) for pool in self.pools()
                   if account_id is None or pool.account.id == account_id)

    def _refill(self, pool: Pool, now: datetime) -> int:
        account = pool.account
        with self.db.read() as s:
            ready, today = repository.counts(s, account_id=account.id, since=accounts.start_of_day(now))
        if ready >= pool.low_water:
            return 0
        room = pool.refill_batch if pool.daily_capacity is None else min(pool.refill_batch, pool.daily_capacity - today)
        if room <= 0:
            with self.db.write() as s:
                repository.note_account(s, account_id=account.id, now=now,
                                        error=f"daily capacity of {pool.daily_capacity} numbers reached")
            return 0
        with self.db.write() as s:
            due = repository.claim_due(s, account_id=account.id, now=now, limit=room)
            orders = repository.orders(s, [d.order_id for d in due]) if due else {}
        if not due:
            return 0
        dropped, failed, parcels = [], [], []
        for d in due:
            order = orders.get(d.order_id)
            if order is None or order["state"] in DONE_ORDER_STATES:
                dropped.append(d.order_id)
                continue
            try:
                parcels.append((d, self._parcel(d, order)))
            except ValueError as exc:  # a receiver this service cannot take: retried with backoff, shown
                failed.append((d, str(exc)))
        adapter = ADAPTERS[account.adapter]
        issued = 0
        for start in range(0, len(parcels), adapter.max_per_call):
            issued += self._apply(account, adapter, parcels[start:start + adapter.max_per_call], failed, now)
        with self.db.write() as s:
            repository.drop_requests(s, dropped)
            repository.request_failed(s, failed, now=now, backoff=backoff)
            repository.note_account(s, account_id=account.id, now=now, error=failed[-1][1] if failed else None)
        return issued

    def _apply(self, account: CarrierAccount, adapter: WaybillAdapter, chunk: Sequence[tuple[Due, Parcel]],
               failed: list[tuple[Due, str]], now: datetime) -> int:
        """Numbers for one call's parcels; a refusal of several parcels is retried one parcel a call, so one
        parcel the service refuses (an address it does not serve) holds up no other, and so are the parcels an
        answer of several leaves without a number (抖店 names them in err_infos), so each gets its own message."""
        try:
            call = adapter.apply_call(account, [parcel for _, parcel in chunk])
            got = adapter.parse_apply(self.transport.call(self.link(account), call))
        except (BaoDanError, ValueError) as exc:
            if len(chunk) > 1 and not getattr(exc, "retryable", False):
                return sum(self._apply(account, adapter, [one], failed, now) for one in chunk)
            failed.extend((due, str(exc)) for due, _ in chunk)
            return 0
        by_object = {due.object_id: due for due, _ in chunk}
        issued = [(by_object[w.object_id].order_id, w) for w in got if w.object_id in by_object]
        answered = {w.object_id for w in got}
        unanswered = [one for one in chunk if one[0].object_id not in answered]
        with self.db.write() as s:
            stored = repository.store_issued(s, self.pii, account_id=account.id, carrier_code=account.carrier_code,
                                             issued=issued, now=now)
        if len(chunk) > 1 and issued:
            return stored + sum(self._apply(account, adapter, [one], failed, now) for one in unanswered)
        failed.extend((due, "the service answered no number for it") for due, _ in unanswered)
        return stored

    def _parcel(self, due: Due, order: dict[str, Any]) -> Parcel:
        public = read_json(order["receiver"]) or {}
        sealed = self.pii.open(order["receiver_sealed"]) if order["receiver_sealed"] else {}
        fields = {key: sealed.get(key) or public.get(key) or "" for key in ("name", "phone", "address")}
        if not (public.get("province") and public.get("city") and fields["address"]):
            raise ValueError(f"order {order['platform_order_id']}: the receiver has no province, city or address")
        cipher = (sealed.get("platform_cipher") or {}) if any(masked(value) for value in fields.values()) else {}
        return Parcel(object_id=due.object_id, platform_order_id=order["platform_order_id"], channel=order["channel"],
                      receiver=Contact(name=fields["name"], phone=fields["phone"], cipher=cipher, address=Address(
                          province=public["province"], city=public["city"], district=public.get("district") or "",
                          town=public.get("town") or "", address=fields["address"])),
                      items=tuple((name[:100], n) for name, n in order["lines"][:MAX_ITEMS]) or (("商品", 1),))

    # ------------------------------------------------------------------------------------------ cancel

    def cancel_once(self, *, now: datetime | None = None, ids: Sequence[int] | None = None) -> int:
        """Send due cancels (or those of `ids` that are due); returns how many the services took back."""
        now = now or clock.utcnow()
        with self.db.write() as s:
            owed = repository.claim_cancels(s, now=now, limit=CANCEL_BATCH, ids=ids)
        opened: dict[int, CarrierAccount] = {}
        done = 0
        for item in owed:
            try:
                if item.account_id not in opened:
                    with self.db.read() as s:
                        opened[item.account_id] = accounts.account(s, self.pii, item.account_id)
                account = opened[item.account_id]
                adapter = ADAPTERS[account.adapter]
                call = adapter.cancel_call(account, waybill_no=item.waybill_no, object_id=item.object_id)
                adapter.parse_cancel(self.transport.call(self.link(account), call))
            except (BaoDanError, ValueError) as exc:
                self._cancel_failed(item, exc, now)
                continue
            with self.db.write() as s:
                repository.cancel_done(s, item.id, now=now)
            done += 1
        return done

    def _cancel_failed(self, item: OwedCancel, exc: Exception, now: datetime) -> None:
        refused = not getattr(exc, "retryable", False)
        final = refused and item.attempts + 1 >= MAX_CANCEL_REFUSALS
        with self.db.write() as s:
            repository.cancel_failed(s, item, error=str(exc), now=now,
                                     retry_at=None if final else now + backoff(item.attempts + 1))

    # ------------------------------------------------------------------------------------------- sweep

    def sweep_once(self, *, now: datetime | None = None) -> int:
        """Numbers a shipment carries count as taken; requests and never-taken numbers of orders cancelled or
        shipped otherwise are dropped and voided (owed a cancel), audited as the system's. Returns the voided."""
        now = now or clock.utcnow()
        with self.db.write() as s:
            repository.settle_used(s, now=now)
            repository.drop_unneeded_requests(s)
            rows = repository.unneeded(s, limit=SWEEP_BATCH)
            by_state: dict[str, list[int]] = {}
            for waybill_id, _order_id, _carrier, _number, state in rows:
                by_state.setdefault(state, []).append(int(waybill_id))
            voided = sum(repository.owe_cancel(s, ids, reason=f"order {state}", now=now)
                         for state, ids in by_state.items())
            if rows:
                audit.record(s, actor=SYSTEM_ACTOR, action="waybills.void", target=f"orders:{len(rows)}",
                             detail={"reason": "orders no longer need their numbers", "count": len(rows),
                                     "numbers": [f"{r[2]}:{r[3]}" for r in rows[:100]]})
        return voided

    # ------------------------------------------------------------------------------------------- loops

    def start(self, stop: threading.Event) -> list[threading.Thread]:
        thread = threading.Thread(target=self._guard, args=(stop,), name="waybills", daemon=True)
        thread.start()
        return [thread]

    def _guard(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self._loop(stop)
            except Exception:  # the loop must outlive any one failure; requests and the call log hold the detail
                log.exception("the waybill loop failed; restarting it")
                stop.wait(5)

    def _loop(self, stop: threading.Event) -> None:
        last_prune = 0.0
        while not stop.is_set():
            if not self.pools():
                stop.wait(IDLE_WAIT_S)
                continue
            done = self.sweep_once() + self.refill_once() + self.cancel_once()
            self.call_log.flush()
            if time.monotonic() - last_prune > 3600:
                self.call_log.prune()
                last_prune = time.monotonic()
            stop.wait(0.05 if done else 1.0)

    def link(self, account: CarrierAccount) -> ShopLink:
        """The account as the transport takes a connection: its own rate bucket and log rows (by its id)."""
        return ShopLink(shop_id=account.id, shop_code=account.name, channel=account.adapter,
                        adapter=ADAPTERS[account.adapter],  # type: ignore[arg-type]  (sign/read_response/rates)
                        creds=account.creds, base_url=account.base_url)


def _hidden(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "**" if v and _HIDDEN.search(str(k)) else _hidden(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hidden(v) for v in value]
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return _hidden(orjson.loads(value))
        except orjson.JSONDecodeError:
            return value
    return value
