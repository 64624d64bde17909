"""What one BaoDan process runs: the database, the inbox and, by role, the API and/or the worker."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from baodan.core.config import Settings
from baodan.core.db import Database
from baodan.intake.inbox import Inbox, open_inbox
from baodan.intake.services import ShopDirectory
from baodan.worker import Worker

log = logging.getLogger("baodan")


@dataclass
class Runtime:
    settings: Settings
    db: Database
    inbox: Inbox
    shops: ShopDirectory
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        db = Database(settings.resolved_database_url())
        inbox = open_inbox(db, synchronous=settings.inbox_synchronous, window_ms=settings.group_commit_window_ms)
        return cls(settings, db, inbox, ShopDirectory(db))

    def worker(self) -> Worker:
        return Worker(self.db, self.inbox, batch_size=self.settings.batch_size,
                      max_wait_ms=self.settings.batch_max_wait_ms)

    def start_worker_thread(self) -> None:
        thread = threading.Thread(target=self.worker().run, args=(self.stop,), name="worker", daemon=True)
        thread.start()
        self.threads.append(thread)

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)
        self.inbox.close()
        self.db.dispose()
