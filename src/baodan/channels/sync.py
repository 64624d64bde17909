"""Keeping BaoDan and the platforms in step, in the background:

- **fetch**: orders a push named without their content (`channel_fetch`) are read with a detail call;
- **pull**: every shop's orders updated since its cursor are listed and read (catch-up after downtime or
  missed pushes); the cursor (`channel_cursor`) advances only once a window's orders are in the inbox,
  so a restart re-reads at most one window, and intake's idempotence makes the re-read harmless;
- **write-back**: waybills of shipped orders (`channel_outbox`) are sent, retried with backoff;
- **stock**: the sellable quantity of every platform SKU whose stock changed is pushed when it differs from
  what was last pushed (`channel_stock`): changes are coalesced per SKU, pushed within about a second,
  and a SKU that fell to zero goes first.

Everything reaches the inbox through `intake.accept_orders`, the same path as webhooks and the API. Each
loop's one pass (`fetch_once`, `pull_once`, …) is a plain method, so tests drive them step by step.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from baodan.channels import carriers
from baodan.channels import stock as stock_rules
from baodan.channels.base import OrderPage, PlatformError
from baodan.channels.credentials import CredentialCache
from baodan.channels.ingest import ChannelIntake, LinkDirectory, backoff, order_id_of
from baodan.channels.tokens import TokenKeeper
from baodan.channels.transport import CallLog, ShopLink, Transport
from baodan.core import clock
from baodan.core.db import Database, db_time, dialect_of, execute, executemany, fetchall, read_json, read_time
from baodan.core.errors import BaoDanError
from baodan.identity.pii import PiiCipher
from baodan.intake import services as intake
from baodan.intake.inbox import Inbox

log = logging.getLogger("baodan.channels")

# Fetches and write-backs are leased, not locked through the platform call: a claimed row's next_at moves
# LEASE ahead, so another worker process skips it, and a process killed mid-call leaves it to be retried.
LEASE = timedelta(minutes=5)
IDLE_WAIT_S = 5.0  # how long the loops sleep while no shop is connected
PULL_OVERLAP = timedelta(minutes=2)  # re-read before the cursor: platforms index updates a little late
FETCH_BATCH = 50
# A shop with at least BULK_FETCH due orders (a live session) is read by its order list, a page of orders a
# call, from the oldest update time its pushes stated, instead of one detail call an order; what the list
# does not show (the platform indexes late) is left to detail calls.
BULK_FETCH = 20
BULK_MARGIN = timedelta(seconds=5)  # a push that states no update time came this long after the update at most
LIST_PAGE_SIZE = 50  # within every platform's page limit
BULK_PATIENCE = timedelta(minutes=1)  # while listing fails, queued orders wait this long before detail calls


class ChannelSync:
    def __init__(self, db: Database, inbox: Inbox, shops: intake.ShopDirectory, pii: PiiCipher, *,
                 transport: Transport | None = None, pull_interval_s: float = 60.0,
                 pull_lookback: timedelta = timedelta(hours=24), stock_interval_s: float = 0.2,
                 max_orders: int = 5000, directory: LinkDirectory | None = None,
                 intake: ChannelIntake | None = None) -> None:
        """`directory` and `intake`: a runtime's own, so a process keeps one credential cache."""
        self.db = db
        self.call_log = CallLog(db)
        self.directory = directory or LinkDirectory(db, CredentialCache(db, pii))
        self.transport = transport or Transport(self.call_log, tokens=TokenKeeper(db, pii, directory=self.directory))
        self.intake = intake or ChannelIntake(db, inbox, shops, pii, max_orders=max_orders)
        self.ingest, self.request_fetch = self.intake.ingest, self.intake.request_fetch
        self.pull_interval_s = pull_interval_s
        self.pull_lookback = pull_lookback
        self.stock_interval_s = stock_interval_s
        self._stock_since: datetime | None = None
        self._stock_retry: dict[tuple[int, str], stock_rules.Listing] = {}  # owed a push from an earlier pass

    def links(self, *, fresh: bool = False) -> list[ShopLink]:
        return self.directory.all(fresh=fresh)

    def link(self, shop_id: int) -> ShopLink | None:
        return next((k for k in self.links() if k.shop_id == shop_id), None)

    # ----------------------------------------------------------------------------------------- fetch

    def fetch_once(self, *, now: datetime | None = None) -> int:
        """Read due queued orders (by the order list for shops with many, else by detail calls); returns
        how many went to the inbox."""
        now = now or clock.utcnow()
        self._settle_known()
        with self.db.read() as s:
            deep = {int(shop_id): min(read_time(t) - margin for t, margin in ((stated, timedelta(0)),
                                                                              (unstated, BULK_MARGIN)) if t)
                    for shop_id, count, stated, unstated in fetchall(
                        s, "SELECT shop_id, count(*), min(updated_at), min(CASE WHEN updated_at IS NULL "
                           "THEN requested_at END) FROM channel_fetch WHERE next_at <= ? AND attempts = 0 "
                           "GROUP BY shop_id", (db_time(dialect_of(s), now),)) if count >= BULK_FETCH}
        done = 0
        for shop_id, oldest in deep.items():
            link = self.link(shop_id)
            if link is not None:
                done += self._fetch_by_list(link, oldest, now=now)
        return done + self._fetch_by_detail(now, listed_shops=deep.keys())

    def _settle_known(self) -> None:
        """Queued orders BaoDan already holds in the state the push named (or a newer one) need no read:
        a push that came late, after the order list or another push brought that state."""
        with self.db.write() as s:
            execute(s, "DELETE FROM channel_fetch WHERE updated_at IS NOT NULL AND EXISTS (SELECT 1 FROM sales_order o "
                       "JOIN shop p ON p.channel = o.channel WHERE p.id = channel_fetch.shop_id "
                       "AND o.platform_order_id = channel_fetch.platform_order_id "
                       "AND o.platform_updated_at >= channel_fetch.updated_at)")

    def _fetch_by_list(self, link: ShopLink, oldest: datetime, *, now: datetime) -> int:
        """Read a shop's queued orders by listing what was updated from the oldest of them up to the last
        whole second (platforms stamp updates in whole seconds: an unfinished second would be read again);
        each listed order leaves the queue (unless a newer push came meanwhile), the rest of the window goes
        to detail calls. Orders of the unfinished second wait for the next pass."""
        started = now
        until = started.replace(microsecond=0) - timedelta(microseconds=1)
        if oldest > until:
            return 0
        done, queued_before = 0, started
        try:
            start = oldest
            while start < until:
                end = min(until, start + link.adapter.max_list_window)
                done += self._list_window(link, start, end, queued_before=started)
                start = end
        except (BaoDanError, ValueError) as exc:  # refused or unreachable: listed again next pass, and what
            # has waited BULK_PATIENCE goes to detail calls meanwhile
            log.warning("listing the queued orders of shop %s failed: %s", link.shop_code, exc)
            queued_before = started - BULK_PATIENCE
        with self.db.write() as s:
            dialect = dialect_of(s)
            execute(s, "UPDATE channel_fetch SET attempts = 1 WHERE shop_id = ? AND attempts = 0 AND requested_at <= ? "
                       "AND coalesce(updated_at, requested_at) <= ?",
                    (link.shop_id, db_time(dialect, queued_before), db_time(dialect, until)))
        return done

    def _list_window(self, link: ShopLink, start: datetime, end: datetime, *, queued_before: datetime) -> int:
        done = 0
        for result in self._pages(link, start, end):
            if result.ids_only:  # the list names orders only: no gain over detail calls
                return done
            done += self._take_listed(link, result.orders, queued_before=queued_before)
        return done

    def _pages(self, link: ShopLink, start: datetime, end: datetime) -> Iterator[OrderPage]:
        """The shop's order list for updates within [start, end], page by page."""
        page, cursor = 1, None
        while True:
            call = link.adapter.order_list_call(link.creds, updated_from=start, updated_to=end, page=page,
                                                cursor=cursor, page_size=LIST_PAGE_SIZE)
            result = link.adapter.parse_order_list(self.transport.call(link, call), page=page,
                                                   page_size=LIST_PAGE_SIZE)
            yield result
            if not result.has_more or not result.orders:
                return
            page, cursor = page + 1, result.next_cursor

    def _take_listed(self, link: ShopLink, orders: list[dict[str, Any]], *, queued_before: datetime) -> int:
        """Listed orders into the inbox; those queued for a fetch before `queued_before` are done with
        (an unmappable one stays queued with its reason)."""
        result = self.ingest(link, orders)
        with self.db.write() as s:
            queued = db_time(dialect_of(s), queued_before)
            executemany(s, "DELETE FROM channel_fetch WHERE shop_id = ? AND platform_order_id = ? "
                           "AND requested_at <= ?", [(link.shop_id, order_id, queued) for order_id in result.taken])
        return result.accepted + result.duplicates

    def _fetch_by_detail(self, now: datetime, *, listed_shops: Iterable[int] = ()) -> int:
        """Read due queued orders one detail call each (of `listed_shops`, only those their list missed)."""
        listed = ",".join(str(int(shop_id)) for shop_id in listed_shops)
        with self.db.write() as s:
            dialect = dialect_of(s)
            due = fetchall(s, "SELECT shop_id, platform_order_id, attempts, requested_at FROM channel_fetch "
                              "WHERE next_at <= ? "
                              + (f"AND (attempts > 0 OR shop_id NOT IN ({listed})) " if listed else "")
                              + f"ORDER BY next_at LIMIT ?{_skip_locked(dialect)}",
                           (db_time(dialect, now), FETCH_BATCH))
            executemany(s, "UPDATE channel_fetch SET next_at = ? WHERE shop_id = ? AND platform_order_id = ?",
                        [(db_time(dialect, now + LEASE), shop_id, order_id) for shop_id, order_id, _, _ in due])
        done = 0
        for shop_id, order_id, attempts, requested_at in due:
            link = self.link(int(shop_id))
            if link is None:
                self._fetch_failed(shop_id, order_id, attempts, "the shop has no credentials", now)
                continue
            try:
                call = link.adapter.order_detail_call(link.creds, order_id)
                detail = link.adapter.parse_order_detail(self.transport.call(link, call))
                accepted, duplicates, failed, _ = self.ingest(link, [detail], queue_failed=False)
            except (BaoDanError, ValueError) as exc:  # refused, unreachable, or unmappable: retried later
                self._fetch_failed(shop_id, order_id, attempts, str(exc), now)
                continue
            if failed:
                self._fetch_failed(shop_id, order_id, attempts, failed[0][1], now)
                continue
            with self.db.write() as s:  # a push while the call was out asked again: it stays queued
                execute(s, "DELETE FROM channel_fetch WHERE shop_id = ? AND platform_order_id = ? AND attempts = ? "
                           "AND requested_at <= ?", (shop_id, order_id, attempts, requested_at))
            done += accepted + duplicates
        return done

    def _fetch_failed(self, shop_id: int, order_id: str, attempts: int, error: str, now: datetime) -> None:
        with self.db.write() as s:
            execute(s, "UPDATE channel_fetch SET attempts = ?, next_at = ?, last_error = ? WHERE shop_id = ? "
                       "AND platform_order_id = ?",
                    (attempts + 1, db_time(dialect_of(s), now + backoff(attempts + 1)), error[:500], shop_id, order_id))

    # ------------------------------------------------------------------------------------------ pull

    def pull_once(self, link: ShopLink, *, now: datetime | None = None) -> int:
        """List the shop's orders updated since its cursor, window by window, into the inbox. Returns
        orders read; the cursor moves after each complete window."""
        now = now or clock.utcnow()
        with self.db.read() as s:
            rows = fetchall(s, "SELECT synced_to FROM channel_cursor WHERE shop_id = ?", (link.shop_id,))
        start = (read_time(rows[0][0]) - PULL_OVERLAP) if rows else now - self.pull_lookback
        end = now
        read = 0
        try:
            while start < end:
                window_end = min(end, start + link.adapter.max_list_window)
                read += self._pull_window(link, start, window_end, queued_before=now)
                self._save_cursor(link.shop_id, window_end, None, now)
                start = window_end
        except PlatformError as exc:
            self._save_cursor(link.shop_id, None, exc.message, now)
            raise
        return read

    def _pull_window(self, link: ShopLink, start: datetime, end: datetime, *, queued_before: datetime) -> int:
        read = 0
        for result in self._pages(link, start, end):
            if result.ids_only:
                self.request_fetch(link.shop_id, [order_id_of(link, o) for o in result.orders])
            else:
                self._take_listed(link, result.orders, queued_before=queued_before)
            read += len(result.orders)
        return read

    def _save_cursor(self, shop_id: int, synced_to: datetime | None, error: str | None, now: datetime) -> None:
        with self.db.write() as s:
            dialect = dialect_of(s)
            if synced_to is None:
                execute(s, "UPDATE channel_cursor SET last_run_at = ?, last_error = ? WHERE shop_id = ?",
                        (db_time(dialect, now), error[:500] if error else None, shop_id))
            else:
                execute(s, "INSERT INTO channel_cursor (shop_id, synced_to, last_run_at) VALUES (?, ?, ?) "
                           "ON CONFLICT (shop_id) DO UPDATE SET synced_to = excluded.synced_to, "
                           "last_run_at = excluded.last_run_at, last_error = NULL",
                        (shop_id, db_time(dialect, synced_to), db_time(dialect, now)))

    # ------------------------------------------------------------------------------------ write-back

    def writeback_once(self, *, now: datetime | None = None) -> int:
        """Send due waybill write-backs; returns how many the platforms took."""
        now = now or clock.utcnow()
        with self.db.write() as s:
            dialect = dialect_of(s)
            due = fetchall(s, "SELECT id, shop_id, ref, payload, attempts FROM channel_outbox WHERE done_at IS NULL "
                              f"AND next_at <= ? ORDER BY next_at LIMIT 50{_skip_locked(dialect)}",
                           (db_time(dialect, now),))
            executemany(s, "UPDATE channel_outbox SET next_at = ? WHERE id = ?",
                        [(db_time(dialect, now + LEASE), row[0]) for row in due])
        sent = 0
        for outbox_id, shop_id, ref, payload, attempts in due:
            body = read_json(payload)
            link = self.link(int(shop_id))
            try:
                if link is None:
                    raise PlatformError("the shop has no credentials", code="channel.not_configured")
                with self.db.read() as s:
                    carrier = carriers.platform_code(s, link.channel, body["carrier_code"])
                self.transport.call(link, link.adapter.ship_call(
                    link.creds, platform_order_id=body["platform_order_id"], waybill_no=body["waybill_no"],
                    carrier_code=carrier, lines=body.get("lines") or []))
            except (BaoDanError, ValueError) as exc:  # the platform refused, or the call cannot be made yet
                with self.db.write() as s:
                    execute(s, "UPDATE channel_outbox SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?",
                            (attempts + 1, db_time(dialect_of(s), now + backoff(attempts + 1)), str(exc)[:500],
                             outbox_id))
                continue
            with self.db.write() as s:
                dialect = dialect_of(s)
                execute(s, "UPDATE channel_outbox SET done_at = ?, attempts = ?, last_error = NULL WHERE id = ?",
                        (db_time(dialect, now), attempts + 1, outbox_id))
                execute(s, "UPDATE shipment SET written_back_at = ? WHERE id = ?", (db_time(dialect, now), int(ref)))
            sent += 1
        return sent

    # ----------------------------------------------------------------------------------------- stock

    def stock_once(self, *, now: datetime | None = None, everything: bool = False) -> int:
        """Push the sellable quantity of every listing whose stock changed since the last pass (or of
        every listing: `everything`) and now differs from what the platform was last told. Zeros first."""
        now = now or clock.utcnow()
        links = {k.shop_id: k for k in self.links()}
        if not links:
            return 0
        since, self._stock_since = self._stock_since, now - timedelta(seconds=2)  # a commit may carry an older stamp
        with self.db.read() as s:
            changed = None
            if since is not None and not everything:
                changed = {int(r[0]) for r in fetchall(s, "SELECT DISTINCT sku_id FROM stock_level "
                                                          "WHERE updated_at >= ?", (db_time(dialect_of(s), since),))}
            items = {(i.shop_id, i.platform_sku_id): i
                     for i in stock_rules.listings(s, shop_ids=links.keys(), sku_ids=changed)}
            items.update((k, v) for k, v in self._stock_retry.items() if k[0] in links)  # handed on or failed
            targets = stock_rules.sellable(s, items.values())
            pushed = {(int(a), b): int(c) for a, b, c in fetchall(
                s, "SELECT shop_id, platform_sku_id, pushed_qty FROM channel_stock")}
        todo = sorted((key for key in items if pushed.get(key) != targets[key]), key=lambda k: (targets[k] != 0, k))
        sent, started = 0, time.monotonic()
        for index, key in enumerate(todo):
            if sent and time.monotonic() - started > self.stock_interval_s:
                # a long backlog (a first push, a reconcile): hand the rest to the next pass, so that a SKU
                # selling out meanwhile is seen within a pass and goes to the front
                self._stock_retry.update((k, items[k]) for k in todo[index:])
                break
            try:
                self._push_stock(links[key[0]], items[key], targets[key])
            except (BaoDanError, ValueError) as exc:
                self._stock_retry[key] = items[key]
                self._record_stock(key, None, str(exc), now)
                continue
            self._stock_retry.pop(key, None)
            self._record_stock(key, targets[key], None, now)
            sent += 1
        return sent

    @property
    def stock_pending(self) -> int:
        """Listings owed a push that a pass handed on (a backlog, or a push that failed)."""
        return len(self._stock_retry)

    def _push_stock(self, link: ShopLink, item: stock_rules.Listing, quantity: int) -> None:
        adapter, current = link.adapter, None
        query = adapter.stock_query_call(link.creds, platform_sku_id=item.platform_sku_id,
                                         platform_product_id=item.platform_product_id)
        if query is not None:
            current = adapter.parse_stock_query(self.transport.call(link, query),
                                                platform_sku_id=item.platform_sku_id)
            if current == quantity:
                return
        self.transport.call(link, adapter.stock_call(link.creds, platform_sku_id=item.platform_sku_id,
                                                     quantity=quantity, platform_product_id=item.platform_product_id,
                                                     current=current))

    def _record_stock(self, key: tuple[int, str], quantity: int | None, error: str | None, now: datetime) -> None:
        with self.db.write() as s:
            dialect = dialect_of(s)
            if quantity is None:
                execute(s, "UPDATE channel_stock SET last_error = ? WHERE shop_id = ? AND platform_sku_id = ?",
                        ((error or "")[:500], *key))
            else:
                execute(s, "INSERT INTO channel_stock (shop_id, platform_sku_id, pushed_qty, pushed_at) "
                           "VALUES (?, ?, ?, ?) ON CONFLICT (shop_id, platform_sku_id) DO UPDATE SET "
                           "pushed_qty = excluded.pushed_qty, pushed_at = excluded.pushed_at, last_error = NULL",
                        (*key, quantity, db_time(dialect, now)))

    # ----------------------------------------------------------------------------------------- loops

    def start(self, stop: threading.Event) -> list[threading.Thread]:
        """Run every loop in a daemon thread until `stop` is set."""
        loops = [("channel-fetch", self._fetch_loop), ("channel-pull", self._pull_loop),
                 ("channel-writeback", self._writeback_loop), ("channel-stock", self._stock_loop)]
        threads = [threading.Thread(target=self._guard, args=(fn, stop), name=name, daemon=True) for name, fn in loops]
        for thread in threads:
            thread.start()
        return threads

    def _guard(self, loop: Any, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                loop(stop)
            except Exception:  # a loop must outlive any one failure; the call log and cursors hold the detail
                log.exception("channel loop %s failed; restarting it", threading.current_thread().name)
                stop.wait(5)

    def _idle(self, stop: threading.Event) -> bool:
        """No shop is connected: wait a while instead of polling (the worker has better things to do)."""
        if self.links():
            return False
        stop.wait(IDLE_WAIT_S)
        return True

    def _fetch_loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if self._idle(stop):
                continue
            done = self.fetch_once()
            self.call_log.flush()
            stop.wait(0.05 if done else 0.5)

    def _pull_loop(self, stop: threading.Event) -> None:
        last_prune = 0.0
        while not stop.is_set():
            for link in self.links(fresh=True):
                try:
                    self.pull_once(link)
                except PlatformError as exc:
                    log.warning("pull of shop %s failed: %s", link.shop_code, exc.message)
            self.call_log.flush()
            if time.monotonic() - last_prune > 3600:
                self.call_log.prune()
                last_prune = time.monotonic()
            stop.wait(self.pull_interval_s)

    def _writeback_loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if self._idle(stop):
                continue
            sent = self.writeback_once()
            self.call_log.flush()
            stop.wait(0.2 if sent else 1.0)

    def _stock_loop(self, stop: threading.Event) -> None:
        last_full = time.monotonic()
        while not stop.is_set():
            if self._idle(stop):
                continue
            everything = time.monotonic() - last_full > 300  # a full reconcile every 5 minutes
            if everything:
                last_full = time.monotonic()
            self.stock_once(everything=everything)
            self.call_log.flush()
            stop.wait(self.stock_interval_s)


def _skip_locked(dialect: str) -> str:
    """PostgreSQL: two processes claiming at once each take other rows (SQLite has one writer anyway)."""
    return " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
