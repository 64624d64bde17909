"""The fulfilment stage in the worker process (docs/fulfilment.md §1): a loop that takes reserved orders
through splitting (waiting orders that can ship in parts), review, presale release, routing, merging
and the courier step, in batches.

The surge comes first: while the inbox holds more than BACKLOG events, the loop waits, so that during a
live session every core cycle goes to taking orders and reserving stock; it catches up as soon as intake
does (the warehouse does not pick within the second anyway)."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from baodan.core.db import Database
from baodan.fulfilment.carrier import carrier_once
from baodan.fulfilment.intercept import intercept_once, settle_shipped
from baodan.fulfilment.merge import merge_once
from baodan.fulfilment.review import release_presale, review_once
from baodan.fulfilment.routing import route_once
from baodan.fulfilment.split import Splitter
from baodan.identity.pii import PiiCipher
from baodan.intake.inbox import Inbox
from baodan.rules.store import RuleBook

log = logging.getLogger("baodan.fulfilment")

BACKLOG = 2000  # inbox events waiting: above this, the surge has the worker to itself
IDLE_WAIT_S = 1.0


class FulfilmentStage:
    def __init__(self, db: Database, inbox: Inbox, pii: PiiCipher, rules: RuleBook, *,
                 merge_window: timedelta = timedelta(minutes=30)) -> None:
        self.db, self.inbox, self.pii, self.rules = db, inbox, pii, rules
        self.merge_window = merge_window
        self.splitter = Splitter()

    def once(self) -> int:
        """One pass of every step; how many orders moved."""
        stopped = intercept_once(self.db) + settle_shipped(self.db)
        split = self.splitter.once(self.db, self.rules)  # waiting orders that can ship in parts
        reviewed = review_once(self.db, self.pii, self.rules)
        released = release_presale(self.db)
        routed = route_once(self.db, self.rules)
        merged = merge_once(self.db, self.pii, window=self.merge_window)
        couriered = carrier_once(self.db, self.rules, pii=self.pii)
        return (stopped + split + released + reviewed.passed + reviewed.held + routed.kept + routed.moved + merged
                + couriered.queued + couriered.ready)

    def start(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self._run, args=(stop,), name="fulfilment", daemon=True)
        thread.start()
        return thread

    def _run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                if self.inbox.pending(BACKLOG + 1) > BACKLOG:
                    stop.wait(IDLE_WAIT_S)
                    continue
                moved = self.once()
            except Exception:  # one failing pass must not end the stage; the rows show where it stopped
                log.exception("fulfilment pass failed; retrying")
                stop.wait(5 * IDLE_WAIT_S)
                continue
            if not moved:
                stop.wait(IDLE_WAIT_S)
