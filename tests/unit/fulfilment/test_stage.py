"""The fulfilment stage yields to the surge: while the inbox has a backlog it reviews nothing."""

from __future__ import annotations

import threading
from typing import Any

from baodan.fulfilment import stage
from baodan.fulfilment.stage import BACKLOG, FulfilmentStage


class _Inbox:
    def __init__(self, waiting: int) -> None:
        self.waiting = waiting

    def pending(self, limit: int) -> int:
        return min(self.waiting, limit)


def _run_briefly(waiting: int, monkeypatch: Any) -> int:
    passes: list[int] = []
    stop = threading.Event()
    fulfilment = FulfilmentStage(db=None, inbox=_Inbox(waiting), pii=None, rules=None)  # type: ignore[arg-type]

    def once() -> int:
        passes.append(1)
        stop.set()
        return 0

    monkeypatch.setattr(fulfilment, "once", once)
    monkeypatch.setattr(stage, "IDLE_WAIT_S", 0.01)
    thread = fulfilment.start(stop)
    thread.join(0.3)
    stop.set()
    thread.join(1)
    return len(passes)


def test_the_stage_waits_while_intake_has_a_backlog(monkeypatch: Any) -> None:
    assert _run_briefly(BACKLOG + 1, monkeypatch) == 0
    assert _run_briefly(BACKLOG, monkeypatch) == 1
