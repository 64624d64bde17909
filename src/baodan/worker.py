"""The worker: claims inbox batches and runs the pipeline; retries orders waiting for stock.

A failed batch rolls back whole and is claimed again. A batch that keeps failing is retried in halves
down to single events; one event that fails alone three times is set aside in `intake_failure` (kept,
reported by `baodan check`) so one bad event cannot stop every order behind it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from prometheus_client import Counter, Histogram

from baodan import pipeline
from baodan.core import clock
from baodan.core.db import Database, db_time, dialect_of, execute
from baodan.intake.inbox import Inbox

log = logging.getLogger("baodan.worker")

BATCHES = Counter("baodan_worker_batches_total", "Batches committed")
EVENTS = Counter("baodan_worker_events_total", "Inbox events processed")
OUTCOMES = Counter("baodan_worker_orders_total", "Orders by outcome", ["outcome"])
BATCH_SECONDS = Histogram("baodan_worker_batch_seconds", "Time to process one batch",
                          buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
LATENCY = Histogram("baodan_accept_to_processed_seconds", "From inbox commit to batch commit",
                    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
FAILURES = Counter("baodan_worker_batch_failures_total", "Batches rolled back")

RETRYABLE = ("deadlock", "could not serialize", "database is locked", "lock timeout")


class Worker:
    def __init__(self, db: Database, inbox: Inbox, *, batch_size: int = 2000, max_wait_ms: float = 50.0,
                 on_batch: Callable[[pipeline.BatchResult, float], None] | None = None) -> None:
        self.db = db
        self.inbox = inbox
        self.batch_size = batch_size
        self.max_wait_s = max_wait_ms / 1000
        self.on_batch = on_batch
        self._limit = batch_size
        self._failures = 0

    def run(self, stop: threading.Event) -> None:
        """Process until `stop` is set. Waits for a full batch or `max_wait` after the first event."""
        first_seen: float | None = None
        while not stop.is_set():
            pending = self.inbox.pending(self.batch_size)
            if pending == 0:
                first_seen = None
                self._retry_waiting()
                self.inbox.wait_for_events(0.02)  # events from other processes are found by polling
                continue
            if pending < self.batch_size:
                first_seen = first_seen or time.monotonic()
                remaining = self.max_wait_s - (time.monotonic() - first_seen)
                if remaining > 0:
                    self.inbox.wait_for_events(min(remaining, 0.01))
                    continue
            first_seen = None
            self.run_once()
            self._retry_waiting()

    def drain(self) -> int:
        """Process everything pending now, without waiting for batches to fill. Returns events done."""
        done = 0
        while True:
            result = self.run_once()
            if result is None:
                self._retry_waiting()
                if self.inbox.pending(1) == 0:
                    return done
                continue
            done += result.events

    def run_once(self) -> pipeline.BatchResult | None:
        try:
            result = pipeline.process_batch(self.db, self.inbox, limit=self._limit)
        except Exception as exc:  # the transaction is rolled back; decide how to try again
            FAILURES.inc()
            self._after_failure(exc)
            return None
        self._limit, self._failures = self.batch_size, 0
        if result is not None:
            self._observe(result)
        return result

    def _observe(self, result: pipeline.BatchResult) -> None:
        done = clock.utcnow()
        BATCHES.inc()
        EVENTS.inc(result.events)
        BATCH_SECONDS.observe(result.seconds)
        for outcome in ("reserved", "awaiting_stock", "held", "released", "shipped"):
            OUTCOMES.labels(outcome).inc(getattr(result, outcome))
        for received in result.received_at[::16]:  # a sample keeps the metric cheap at 2,000 events a batch
            LATENCY.observe((done - clock.from_sql_text(received)).total_seconds())
        log.info("batch events=%d new=%d updated=%d stale=%d reserved=%d short=%d held=%d released=%d "
                 "seconds=%.3f", result.events, result.new_orders, result.updated_orders, result.stale_events,
                 result.reserved, result.awaiting_stock, result.held, result.released, result.seconds)
        if self.on_batch is not None:
            self.on_batch(result, time.time())

    def _after_failure(self, exc: Exception) -> None:
        text = str(exc).lower()
        if any(marker in text for marker in RETRYABLE):
            log.warning("batch rolled back and will be retried: %s", exc)
            time.sleep(0.05)
            return
        self._failures += 1
        log.exception("batch of up to %d events failed (%d in a row)", self._limit, self._failures)
        if self._limit > 1:
            self._limit = max(1, self._limit // 2)
        elif self._failures >= 3:
            self._set_aside(exc)
            self._failures = 0
        time.sleep(min(1.0, 0.05 * self._failures))

    def _set_aside(self, exc: Exception) -> None:
        with self.db.write() as session:
            events = self.inbox.claim(session, 1)
            if not events:
                return
            event = events[0]
            execute(session, "INSERT INTO intake_failure (event_id, channel, platform_order_id, error, failed_at) "
                             "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (event.id, event.channel, event.platform_order_id, f"{type(exc).__name__}: {exc}"[:2000],
                     db_time(dialect_of(session), clock.utcnow())))
            self.inbox.mark_done(session, events)
        log.error("event %d (%s %s) set aside in intake_failure", event.id, event.channel, event.platform_order_id)
        self._limit = self.batch_size

    def _retry_waiting(self) -> None:
        try:
            reserved = pipeline.retry_awaiting_stock(self.db, page_size=self.batch_size)
        except Exception:
            log.exception("retrying orders waiting for stock failed; will try again")
            return
        if reserved:
            OUTCOMES.labels("reserved").inc(reserved)
            log.info("stock arrived: %d waiting orders reserved", reserved)
