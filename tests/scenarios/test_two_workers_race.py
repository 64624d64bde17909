"""Two `baodan worker` processes race over one PostgreSQL inbox and one hot SKU.

A surge of ~4,000 orders (most on one hot SKU with 300 units, some multi-line, some cancelled later,
some cancelled before their paid event arrives, some redelivered, some updated) sits in the inbox. Two
real worker processes are released at the same instant (a table lock held by the test is the start gate)
and claim small batches with FOR UPDATE SKIP LOCKED until nothing is left. Afterwards stock is never
oversold, the hot SKU is fully reserved, every order exists once with its reservations once, every inbox
event was applied exactly once, `run_checks` is clean, and both processes did part of the work.

Who processed what is recorded by a statement trigger on `inbox_pending` that this test installs in its
own schema: it copies each event a committed batch claimed with the `application_name` of the claiming
session (each worker runs with its own PGAPPNAME). An event claimed twice would show up twice there.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest

from baodan import migrate
from baodan.check import run_checks
from baodan.core.config import Settings
from baodan.core.db import Database, fetchall
from baodan.intake.inbox import open_inbox
from baodan.intake.services import ShopDirectory
from baodan.runtime import Runtime
from tests.helpers import make_catalog, order, submit

pytestmark = [pytest.mark.pg, pytest.mark.slow]

HOT_STOCK = 300
ORDERS = 4000
WORKERS = ("baodan-race-w1", "baodan-race-w2")
SETTLE_TIMEOUT_S = 60.0


def _baodan() -> list[str]:
    script = Path(sys.executable).with_name("baodan")
    return [str(script)] if script.exists() else [sys.executable, "-m", "baodan.cli"]


def _worker_env(database_url: str, data_dir: Path, app_name: str, batch_size: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAODAN_", "PG"))}
    env.update(BAODAN_DATABASE_URL=database_url, BAODAN_DATA_DIR=str(data_dir),
               BAODAN_BATCH_SIZE=str(batch_size), BAODAN_BATCH_MAX_WAIT_MS="5", PGAPPNAME=app_name,
               PYTHONUNBUFFERED="1")
    return env


def _logs(logs: dict[str, Path]) -> str:
    out = []
    for name, path in logs.items():
        text = path.read_text(errors="replace") if path.exists() else "(no log)"
        out.append(f"--- {name} ---\n{text[-4000:]}")
    return "\n".join(out)


def _stop(procs: list[subprocess.Popen[bytes]], *, sig: int = signal.SIGTERM, timeout_s: float = 15) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(sig)
    deadline = time.monotonic() + timeout_s
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)


def _build_stream(rng: random.Random) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]], int]:
    """The orders (what each should end as) and the events in arrival order; also the redelivery count."""
    plan: dict[str, dict[str, Any]] = {}
    positioned: list[tuple[float, int, dict[str, Any]]] = []
    redeliveries = 0
    seq = 0

    def put(position: float, event: dict[str, Any]) -> None:
        nonlocal seq
        positioned.append((position, seq, event))
        seq += 1

    for i in range(ORDERS):
        oid = f"RACE-{i:05d}"
        r = rng.random()
        if r < 0.70:
            lines = [("HOT", 1)]
        elif r < 0.85:
            lines = [("HOT", 1), ("C1", 2)]
        elif r < 0.95:
            lines = [("C1", 1), ("C2", 1)]
        else:
            lines = [("C2", 3)]
        paid_s = i * 0.25
        cancelled = rng.random() < 0.10
        updated = rng.random() < 0.05
        plan[oid] = {"lines": lines, "cancelled": cancelled, "events": 1 + cancelled + updated}
        paid = order(oid, lines, paid_offset_s=paid_s)
        put(i, paid)
        if cancelled:
            # Most cancellations arrive later (often in another batch, maybe another worker's); some arrive
            # before the paid event they supersede (the platform's pushes are not ordered).
            where = i - 0.5 if rng.random() < 0.2 else i + rng.randint(1, 400)
            put(where, order(oid, lines, status="cancelled", paid_offset_s=paid_s, updated_offset_s=30))
        if updated:  # a newer paid event (buyer changed the message): must not reserve a second time
            put(i + rng.randint(1, 400), order(oid, lines, paid_offset_s=paid_s, updated_offset_s=10,
                                                buyer_message="请尽快发货"))
        if rng.random() < 0.05:  # the platform redelivers the very same event
            put(i + rng.randint(0, 800), order(oid, lines, paid_offset_s=paid_s))
            redeliveries += 1
    positioned.sort(key=lambda t: (t[0], t[1]))
    return plan, [e for _, _, e in positioned], redeliveries


_TRIGGER_SQL = [
    "CREATE TABLE race_processed_by (event_id bigint NOT NULL, app text NOT NULL, "
    "at timestamptz NOT NULL DEFAULT clock_timestamp())",
    """CREATE FUNCTION race_record_processed() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO race_processed_by (event_id, app)
         SELECT id, current_setting('application_name') FROM race_claimed_rows;
         RETURN NULL;
       END $$""",
    "CREATE TRIGGER race_record_processed AFTER DELETE ON inbox_pending REFERENCING OLD TABLE AS race_claimed_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION race_record_processed()",
]


def _wait_blocked_on_gate(url: str, procs: list[subprocess.Popen[bytes]],
                          logs: dict[str, Path], timeout_s: float = 30) -> None:
    """Both workers are up and waiting for the table lock the test holds (so neither has a head start)."""
    deadline = time.monotonic() + timeout_s
    seen: set[str] = set()
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                pytest.fail(f"a worker exited early with code {p.returncode}\n{_logs(logs)}")
        with psycopg.connect(url, autocommit=True) as probe:
            seen = {r[0] for r in probe.execute(
                "SELECT DISTINCT application_name FROM pg_stat_activity WHERE application_name = ANY(%s) "
                "AND wait_event_type = 'Lock'", (list(WORKERS),)).fetchall()}
        if seen == set(WORKERS):
            return
        time.sleep(0.05)
    pytest.fail(f"within {timeout_s} s only {sorted(seen)} of {WORKERS} reached the claim\n{_logs(logs)}")


def test_two_worker_processes_share_the_surge_and_never_oversell(pg_url: str, tmp_path: Path) -> None:
    started = time.monotonic()
    db = Database(pg_url)
    migrate.upgrade(db)
    procs: list[subprocess.Popen[bytes]] = []
    logs = {name: tmp_path / f"{name}.log" for name in WORKERS}
    gate: psycopg.Connection[Any] | None = None
    try:
        ids = make_catalog(db, skus={"HOT": HOT_STOCK, "C1": 100_000, "C2": 100_000})
        plan, events, redeliveries = _build_stream(random.Random(20261125))
        runtime = Runtime(Settings(data_dir=tmp_path, database_url=pg_url), db, open_inbox(db),
                          ShopDirectory(db, ttl_s=60))  # as the `runtime` fixture, with the shop cached
        try:
            accepted = duplicates = 0
            for i in range(0, len(events), 1000):
                appended = submit(runtime, *events[i:i + 1000])
                accepted += appended.accepted
                duplicates += appended.duplicates
        finally:
            runtime.inbox.close()
        expected_events = sum(p["events"] for p in plan.values())
        assert (accepted, duplicates) == (expected_events, redeliveries)

        with psycopg.connect(pg_url, autocommit=True) as conn:
            for sql in _TRIGGER_SQL:
                conn.execute(sql)
        gate = psycopg.connect(pg_url)
        gate.execute("LOCK TABLE inbox_pending IN EXCLUSIVE MODE")  # claims (DELETE) wait; counts do not

        for name in WORKERS:
            with logs[name].open("wb") as log:
                procs.append(subprocess.Popen([*_baodan(), "worker"], cwd=tmp_path, stdout=log,
                                              stderr=subprocess.STDOUT,
                                              env=_worker_env(pg_url, tmp_path, name, batch_size=200)))
        _wait_blocked_on_gate(pg_url, procs, logs)
        gate.commit()  # release both at once
        gate.close()
        gate = None
        released = time.monotonic()

        deadline = released + SETTLE_TIMEOUT_S
        unprocessed = marks = -1
        while time.monotonic() < deadline:
            for p in procs:
                if p.poll() is not None:
                    pytest.fail(f"a worker died with code {p.returncode} while working\n{_logs(logs)}")
            with db.read() as s:
                ((unprocessed,),) = fetchall(s, "SELECT count(*) FROM inbox_pending")
                ((marks,),) = fetchall(s, "SELECT count(*) FROM inventory_retry")
            if unprocessed == 0 and marks == 0:
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"not settled within {SETTLE_TIMEOUT_S} s: {unprocessed} events unprocessed, "
                        f"{marks} SKUs still marked for retry\n{_logs(logs)}")
        settled = time.monotonic()
        _stop(procs)
        codes = [p.returncode for p in procs]
        assert codes == [0, 0], f"workers did not stop cleanly on SIGTERM: {codes}\n{_logs(logs)}"
        output = _logs(logs)
        assert "Traceback" not in output and " ERROR " not in output, f"a batch failed:\n{output}"

        _assert_outcome(db, ids, plan, expected_events)
        print(f"\nrace: {len(events)} events submitted, {expected_events} accepted; both workers released at "
              f"+{released - started:.1f} s, settled after {settled - released:.1f} s")
    finally:
        if gate is not None:
            gate.close()
        _stop(procs, sig=signal.SIGKILL)
        db.dispose()


def _assert_outcome(db: Database, ids: dict[str, int], plan: dict[str, dict[str, Any]],
                    expected_events: int) -> None:
    hot, c1, c2 = ids["HOT"], ids["C1"], ids["C2"]
    code_of = {hot: "HOT", c1: "C1", c2: "C2"}
    with db.read() as s:
        processed_by = fetchall(s, "SELECT event_id, app FROM race_processed_by")
        orders = fetchall(s, "SELECT platform_order_id, id, state FROM sales_order")
        received = dict(fetchall(s, "SELECT o.platform_order_id, count(*) FROM order_event e "
                                    "JOIN sales_order o ON o.id = e.order_id WHERE e.kind = 'received' "
                                    "GROUP BY o.platform_order_id"))
        lines = fetchall(s, "SELECT order_id, id, sku_id, quantity FROM order_line")
        reservations = fetchall(s, "SELECT order_id, order_line_id, sku_id, qty FROM reservation")
        levels = {r[0]: (r[1], r[2])
                  for r in fetchall(s, "SELECT sku_id, on_hand, reserved FROM stock_level")}
        backlog = {r[0] for r in fetchall(s, "SELECT DISTINCT order_id FROM inventory_backlog")}

    # Every inbox event was applied exactly once, and both processes applied some.
    per_event = Counter(event_id for event_id, _ in processed_by)
    twice = [e for e, n in per_event.items() if n > 1]
    assert not twice, f"{len(twice)} inbox events were marked processed more than once, e.g. {twice[:5]}"
    assert len(per_event) == expected_events
    per_worker = Counter(app for _, app in processed_by)
    assert set(per_worker) == set(WORKERS) and all(per_worker[w] > 0 for w in WORKERS), (
        f"events processed per worker: {dict(per_worker)}; both workers should have claimed batches")
    print(f"\nevents processed per worker: {dict(per_worker)}")

    # Every order exists exactly once, and its history holds each of its events once.
    per_oid = Counter(oid for oid, _, _ in orders)
    assert set(per_oid) == set(plan), (f"missing {sorted(set(plan) - set(per_oid))[:5]}, "
                                       f"unexpected {sorted(set(per_oid) - set(plan))[:5]}")
    assert max(per_oid.values()) == 1
    wrong_history = {oid: (received.get(oid, 0), p["events"]) for oid, p in plan.items()
                     if received.get(oid, 0) != p["events"]}
    assert not wrong_history, f"history rows vs events per order (first 5): {list(wrong_history.items())[:5]}"

    # States: cancellations win over older paid events; orders on cold SKUs only are all served.
    state = {oid: st for oid, _, st in orders}
    order_id = {oid: i for oid, i, _ in orders}
    for oid, p in plan.items():
        if p["cancelled"]:
            assert state[oid] == "cancelled", f"{oid}: cancelled later, but {state[oid]}"
        elif all(code != "HOT" for code, _ in p["lines"]):
            assert state[oid] == "reserved", f"{oid} needs only plentiful SKUs, but is {state[oid]}"
        else:
            assert state[oid] in ("reserved", "awaiting_stock"), f"{oid}: {state[oid]}"

    # Reservations: one row per line of each reserved order (for that line's SKU and quantity), none else.
    lines_of: dict[int, list[tuple[int, int, int]]] = {}
    for oid_, line_id, sku_id, qty in lines:
        lines_of.setdefault(oid_, []).append((line_id, sku_id, qty))
    held: dict[int, list[tuple[int, int, int]]] = {}
    for oid_, line_id, sku_id, qty in reservations:
        held.setdefault(oid_, []).append((line_id, sku_id, qty))
    for oid, p in plan.items():
        got = sorted(held.get(order_id[oid], []))
        if state[oid] == "reserved":
            want = sorted(lines_of[order_id[oid]])
            assert got == want, f"{oid}: holds {got}, lines {want}"
            assert len(lines_of[order_id[oid]]) == len(p["lines"])
        else:
            assert got == [], f"{oid} is {state[oid]} but holds {got}"
    waiting = {order_id[oid] for oid in plan if state[oid] == "awaiting_stock"}
    assert backlog == waiting, "the waiting list is not exactly the orders waiting for stock"

    # Stock: never oversold; the hot SKU is sold out exactly, since far more was ordered than it had.
    held_per_sku = Counter()
    for _, _, sku_id, qty in reservations:
        held_per_sku[sku_id] += qty
    for sku_id, (on_hand, reserved) in levels.items():
        assert 0 <= reserved <= on_hand, f"{code_of[sku_id]}: {reserved} reserved of {on_hand} on hand"
        assert reserved == held_per_sku[sku_id], (
            f"{code_of[sku_id]}: level says {reserved} reserved, reservations hold {held_per_sku[sku_id]}")
    hot_demand = sum(q for p in plan.values() if not p["cancelled"]
                     for code, q in p["lines"] if code == "HOT")
    assert hot_demand > HOT_STOCK
    assert levels[hot] == (HOT_STOCK, HOT_STOCK), f"HOT (on hand, reserved) = {levels[hot]}"
    assert sum(1 for oid in plan if state[oid] == "awaiting_stock") > 0
    assert run_checks(db) == []
