"""What one BaoDan process runs: the database, the inbox and, by role, the API and/or the worker."""

from __future__ import annotations

import gc
import logging
import multiprocessing
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from baodan.channels.credentials import CredentialCache
from baodan.channels.ingest import ChannelIntake, LinkDirectory
from baodan.core.config import Settings
from baodan.core.db import Database
from baodan.identity.accounts import load_role_book
from baodan.identity.http import RateLimits
from baodan.identity.pii import PiiCipher
from baodan.identity.roles import RoleBook
from baodan.intake.inbox import Inbox, open_inbox
from baodan.intake.services import ShopDirectory
from baodan.rules.store import RuleBook
from baodan.worker import Worker

log = logging.getLogger("baodan")
_DASHBOARD_LOCK = threading.Lock()
ROLE_BOOK_TTL_S = 10.0  # how soon a process sees custom roles another process changed


def tune_gc() -> None:
    """Collect cycles less often in a server process. By default Python's cyclic collector runs every
    700 container allocations; validating a request or processing a batch of 2,000 orders allocates
    hundreds of thousands of dicts, models and tuples that live until the work ends, so the collector
    rescans them again and again (measured: a third of intake's CPU). Reference counting still frees
    everything acyclic at once, and cycles are still collected, only in larger steps. `freeze` moves
    what start-up created (modules, tables, schemas) out of the collector's sight for good."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    inbox: Inbox
    shops: ShopDirectory
    pii: PiiCipher | None = None  # from settings when not given
    roles: RoleBook | None = None  # built-in and custom roles, loaded from the database when not given
    rate_limits: RateLimits | None = None
    credentials: CredentialCache | None = None  # shops' platform credentials, opened
    links: LinkDirectory | None = None  # shops connected to a platform
    channel_intake: ChannelIntake | None = None  # platform orders into the inbox (webhooks)
    rules: RuleBook | None = None  # compiled active rule sets (review, routing, carrier)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    worker_pid: int | None = None
    _roles_loaded_at: float = 0.0
    _dashboard: Any = None

    def dashboard(self) -> Any:
        """The process's one DashboardHub (created on first use): live figures shared by every screen."""
        with _DASHBOARD_LOCK:
            if self._dashboard is None:
                from baodan.dashboard.hub import DashboardHub

                self._dashboard = DashboardHub(self.db, interval_s=self.settings.dashboard_interval_s,
                                               max_streams=self.settings.dashboard_max_streams, stop=self.stop)
        return self._dashboard

    def __post_init__(self) -> None:
        if self.pii is None:
            self.pii = PiiCipher.from_settings(self.settings)
        if self.roles is None:
            self.reload_roles()
        if self.rate_limits is None:
            self.rate_limits = RateLimits(self.settings.redis_url or None)
        if self.credentials is None:
            self.credentials = CredentialCache(self.db, self.pii)
        if self.links is None:
            self.links = LinkDirectory(self.db, self.credentials)
        if self.rules is None:
            self.rules = RuleBook(self.db)
        if self.channel_intake is None:
            self.channel_intake = ChannelIntake(self.db, self.inbox, self.shops, self.pii,
                                                max_orders=self.settings.max_orders_per_request)

    def role_book(self) -> RoleBook:
        """The roles, reloaded from the database every ROLE_BOOK_TTL_S (custom roles may have changed)."""
        if self.roles is None or time.monotonic() - self._roles_loaded_at > ROLE_BOOK_TTL_S:
            self.reload_roles()
        assert self.roles is not None
        return self.roles

    def reload_roles(self) -> None:
        self.roles = load_role_book(self.db)
        self._roles_loaded_at = time.monotonic()

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        db = Database(settings.resolved_database_url())
        inbox = open_inbox(db, synchronous=settings.inbox_synchronous, window_ms=settings.group_commit_window_ms)
        return cls(settings, db, inbox, ShopDirectory(db))

    def worker(self) -> Worker:
        return Worker(self.db, self.inbox, batch_size=self.settings.batch_size,
                      max_wait_ms=self.settings.batch_max_wait_ms)

    def start_channel_sync(self, stop: threading.Event) -> None:
        """Pull, fetch, write back and push stock for every connected shop, and keep e-waybill numbers ahead of
        printing (waybills.desk), in threads of this process."""
        if not self.settings.channel_sync:
            return
        from datetime import timedelta

        from baodan.channels.sync import ChannelSync
        from baodan.waybills.desk import WaybillDesk

        sync = ChannelSync(self.db, self.inbox, self.shops, self.pii, pull_interval_s=self.settings.pull_interval_s,
                           pull_lookback=timedelta(hours=self.settings.pull_lookback_hours),
                           stock_interval_s=self.settings.stock_push_interval_ms / 1000,
                           directory=self.links, intake=self.channel_intake)
        self.threads += sync.start(stop)
        assert self.pii is not None
        self.threads += WaybillDesk(self.db, self.pii).start(stop)  # e-waybill numbers ahead of printing

    def start_fulfilment(self, stop: threading.Event) -> None:
        """Review (and the later fulfilment steps) of reserved orders, in a thread of this process."""
        if not self.settings.fulfilment_stage:
            return
        from baodan.fulfilment.stage import FulfilmentStage

        assert self.pii is not None and self.rules is not None
        window = timedelta(minutes=self.settings.merge_window_minutes)
        self.threads.append(FulfilmentStage(self.db, self.inbox, self.pii, self.rules, merge_window=window).start(stop))

    def start_worker_thread(self) -> None:
        thread = threading.Thread(target=self.worker().run, args=(self.stop,), name="worker", daemon=True)
        thread.start()
        self.threads.append(thread)

    def start_worker_process(self) -> None:
        """Run the worker in a child process, restarted if it dies. Python runs one thread at a time,
        so on a 2-core box intake (HTTP, validation) and the worker each need a process of their own."""
        thread = threading.Thread(target=self._supervise_worker, name="worker-supervisor", daemon=True)
        thread.start()
        self.threads.append(thread)

    def _supervise_worker(self) -> None:
        context = multiprocessing.get_context("spawn")
        while not self.stop.is_set():
            process = context.Process(target=run_worker_process, args=(self.settings.model_dump(),),
                                      name="baodan-worker", daemon=True)
            process.start()
            self.worker_pid = process.pid
            while process.is_alive() and not self.stop.wait(0.2):
                pass
            if process.is_alive():
                process.terminate()
                process.join(timeout=30)
                return
            log.error("worker process exited with code %s; restarting it", process.exitcode)
            self.stop.wait(1.0)

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=40)
        self.inbox.close()
        self.db.dispose()


def run_worker_process(settings: dict[str, Any]) -> None:
    """Entry point of a worker process: its own database connections, stops on SIGTERM."""
    logging.basicConfig(level=settings.get("log_level", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    runtime = Runtime.open(Settings(**settings))
    tune_gc()
    runtime.start_channel_sync(stop)
    runtime.start_fulfilment(stop)
    try:
        runtime.worker().run(stop)
    finally:
        runtime.close()
