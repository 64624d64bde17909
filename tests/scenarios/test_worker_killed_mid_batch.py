"""A `baodan worker` process is SIGKILLed in the middle of a 20,000-order surge and started again.

On SQLite and PostgreSQL: the orders (on a few SKUs, most with too little stock, so many wait) are in the
inbox; a worker process is killed with SIGKILL as soon as its first batches are committed (so it dies
inside a later one), a second worker process finishes the job. The crashed batch must have rolled back
whole and been claimed again: every order exists once with one history row per event, no reservation is
held twice, nothing is oversold, the outcome is exactly first paid first served (as if nothing had
happened), and `baodan check` exits 0.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest

from baodan.core.config import Settings
from baodan.core.db import Database, fetchall
from baodan.intake.inbox import open_inbox
from baodan.intake.services import ShopDirectory
from baodan.runtime import Runtime
from tests.helpers import make_catalog, order, submit

pytestmark = pytest.mark.slow

ORDERS = 20_000
STOCK = {"A": 3000, "B": 2000, "C": 60_000, "D": 700}
BATCH_SIZE = 500
KILLED, RESTARTED = "baodan-kill-w1", "baodan-kill-w2"


def _baodan() -> list[str]:
    script = Path(sys.executable).with_name("baodan")
    return [str(script)] if script.exists() else [sys.executable, "-m", "baodan.cli"]


def _env(database_url: str, data_dir: Path, app_name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAODAN_", "PG"))}
    env.update(BAODAN_DATABASE_URL=database_url, BAODAN_DATA_DIR=str(data_dir),
               BAODAN_BATCH_SIZE=str(BATCH_SIZE), BAODAN_BATCH_MAX_WAIT_MS="5", PGAPPNAME=app_name,
               PYTHONUNBUFFERED="1")
    return env


def _start(database_url: str, data_dir: Path, app_name: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([*_baodan(), "worker"], cwd=data_dir, stdout=out, stderr=subprocess.STDOUT,
                                env=_env(database_url, data_dir, app_name))


def _logs(*paths: Path) -> str:
    return "\n".join(f"--- {p.name} ---\n{p.read_text(errors='replace')[-4000:] if p.exists() else '(none)'}"
                     for p in paths)


def _reap(proc: subprocess.Popen[bytes] | None, sig: int) -> None:
    if proc is None:
        return
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _orders() -> tuple[list[dict[str, Any]], dict[str, list[tuple[str, int]]]]:
    """Orders in paid order (the order they arrive in), on SKUs A, B, D that run out and C that does not."""
    shapes = [[("A", 1)], [("B", 1), ("C", 2)], [("C", 1)], [("D", 1), ("A", 1)], [("A", 1)],
              [("D", 2)], [("B", 1)], [("C", 3), ("A", 1)]]
    lines = {f"K-{i:05d}": shapes[(i * 7 + i // 5) % len(shapes)] for i in range(ORDERS)}
    events = [order(oid, ls, paid_offset_s=i * 0.01) for i, (oid, ls) in enumerate(lines.items())]
    return events, lines


def _first_paid_first_served(lines: dict[str, list[tuple[str, int]]]) -> set[str]:
    """Whole orders, in paid order, while the stock lasts: who must end up reserved."""
    free = dict(STOCK)
    served = set()
    for oid, ls in lines.items():  # insertion order is paid order
        need = Counter()
        for code, qty in ls:
            need[code] += qty
        if all(free[code] >= qty for code, qty in need.items()):
            for code, qty in need.items():
                free[code] -= qty
            served.add(oid)
    return served


def _processed(db: Database) -> int:
    """Inbox events whose effects are committed. SQLite: those at or below the worker's cursor (counted,
    not subtracted: ids of the inbox file have gaps where a redelivery was ignored)."""
    with db.read() as s:
        if not db.is_sqlite:
            return fetchall(s, "SELECT (SELECT count(*) FROM inbox_event) - (SELECT count(*) FROM inbox_pending)")[0][0]
        rows = fetchall(s, "SELECT last_event_id FROM intake_cursor WHERE name = 'inbox'")
    cursor = rows[0][0] if rows else 0
    with closing(sqlite3.connect(db.inbox_path, timeout=30)) as conn:
        return conn.execute("SELECT count(*) FROM inbox_event WHERE id <= ?", (cursor,)).fetchone()[0]


def _session_states(database_url: str, app_name: str) -> list[str]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT state FROM pg_stat_activity WHERE application_name = %s "
                                           "ORDER BY 1", (app_name,)).fetchall()]


def _wait_backends_gone(database_url: str, app_name: str, timeout_s: float = 15) -> None:
    """PostgreSQL: the killed client's server sessions have noticed and rolled back (their locks are gone)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with psycopg.connect(database_url, autocommit=True) as conn:
            ((left,),) = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                                      (app_name,)).fetchall()
        if left == 0:
            return
        time.sleep(0.05)
    pytest.fail(f"{left} server session(s) of the killed worker still alive after {timeout_s} s")


def test_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(db: Database, db_url: str,
                                                                   tmp_path: Path) -> None:
    t0 = time.monotonic()
    ids = make_catalog(db, skus=STOCK)
    events, lines = _orders()
    redelivered = events[::97]  # a few redeliveries, mixed in
    runtime = Runtime(Settings(data_dir=tmp_path, database_url=db_url), db, open_inbox(db),
                      ShopDirectory(db, ttl_s=60))  # as the `runtime` fixture, with the shop cached
    first: subprocess.Popen[bytes] | None = None
    second: subprocess.Popen[bytes] | None = None
    logs = (tmp_path / "worker-killed.log", tmp_path / "worker-restarted.log")
    try:
        accepted = duplicates = 0
        stream = events[:10_000] + redelivered + events[10_000:]
        for i in range(0, len(stream), 5000):
            appended = submit(runtime, *stream[i:i + 5000])
            accepted += appended.accepted
            duplicates += appended.duplicates
        assert (accepted, duplicates) == (ORDERS, len(redelivered))
        submitted = time.monotonic()

        # 1. A worker runs; it is SIGKILLed as soon as something is committed (it is then inside a batch).
        first = _start(db_url, tmp_path, KILLED, logs[0])
        deadline = time.monotonic() + 60
        done = 0
        while time.monotonic() < deadline:
            if first.poll() is not None:
                pytest.fail(f"the worker exited by itself with code {first.returncode}\n{_logs(*logs)}")
            done = _processed(db)
            if done > 0:
                break
            time.sleep(0.005)
        else:
            pytest.fail(f"the worker committed nothing within 60 s\n{_logs(*logs)}")
        sessions = _session_states(db_url, KILLED) if not db.is_sqlite else []
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed = time.monotonic()
        assert first.returncode == -signal.SIGKILL
        if not db.is_sqlite:
            _wait_backends_gone(db_url, KILLED)
        at_kill = _processed(db)
        assert 0 < at_kill < ORDERS, f"the kill should land mid-surge: {at_kill} of {ORDERS} events processed"
        with db.read() as s:
            ((written,),) = fetchall(s, "SELECT count(*) FROM sales_order")
        assert written == at_kill, (
            f"{written} orders written for {at_kill} committed events: a partial batch leaked")

        # 2. A new worker finishes the job.
        second = _start(db_url, tmp_path, RESTARTED, logs[1])
        deadline = time.monotonic() + 60
        remaining = marks = -1
        while time.monotonic() < deadline:
            if second.poll() is not None:
                pytest.fail(f"the restarted worker exited with code {second.returncode}\n{_logs(*logs)}")
            remaining = ORDERS - _processed(db)
            with db.read() as s:
                ((marks,),) = fetchall(s, "SELECT count(*) FROM inventory_retry")
            if remaining == 0 and marks == 0:
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"not finished within 60 s of the restart: {remaining} events pending, {marks} SKUs "
                        f"marked for retry\n{_logs(*logs)}")
        finished = time.monotonic()
        _reap(second, signal.SIGTERM)
        assert second.returncode == 0, f"restarted worker exit code {second.returncode}\n{_logs(*logs)}"
        assert "Traceback" not in _logs(logs[1]), _logs(logs[1])

        check = subprocess.run([*_baodan(), "check"], cwd=tmp_path, capture_output=True, text=True,
                               env=_env(db_url, tmp_path, "baodan-check"), timeout=60)
        assert check.returncode == 0, f"baodan check failed:\n{check.stdout}\n{check.stderr}"

        _assert_outcome(db, ids, lines)
        print(f"\n{db.dialect}: submitted in {submitted - t0:.1f} s; killed after {killed - submitted:.1f} s "
              f"with {at_kill}/{ORDERS} events processed (its sessions then: {sessions or 'n/a'}); "
              f"restart finished in {finished - killed:.1f} s")
    finally:
        _reap(first, signal.SIGKILL)
        _reap(second, signal.SIGKILL)
        runtime.inbox.close()


def _assert_outcome(db: Database, ids: dict[str, int], lines: dict[str, list[tuple[str, int]]]) -> None:
    code_of = {ids[c]: c for c in STOCK}
    with db.read() as s:
        orders = fetchall(s, "SELECT platform_order_id, id, state FROM sales_order")
        received = Counter(r[0] for r in fetchall(
            s, "SELECT order_id FROM order_event WHERE kind = 'received'"))
        line_rows = fetchall(s, "SELECT order_id, id, sku_id, quantity FROM order_line")
        reservations = fetchall(s, "SELECT order_id, order_line_id, sku_id, qty FROM reservation")
        levels = {r[0]: (r[1], r[2])
                  for r in fetchall(s, "SELECT sku_id, on_hand, reserved FROM stock_level")}
        moves = dict(fetchall(s, "SELECT kind, count(*) FROM stock_move GROUP BY kind"))

    per_oid = Counter(oid for oid, _, _ in orders)
    assert set(per_oid) == set(lines), (f"lost {sorted(set(lines) - set(per_oid))[:5]}, "
                                        f"unexpected {sorted(set(per_oid) - set(lines))[:5]}")
    assert max(per_oid.values()) == 1, "an order was written twice"
    order_id = {oid: i for oid, i, _ in orders}
    state = {oid: st for oid, _, st in orders}
    twice = [oid for oid in lines if received[order_id[oid]] != 1]
    assert not twice, f"{len(twice)} orders do not have exactly one history row per event, e.g. {twice[:5]}"

    lines_of: dict[int, list[tuple[int, int, int]]] = {}
    for oid_, line_id, sku_id, qty in line_rows:
        lines_of.setdefault(oid_, []).append((line_id, sku_id, qty))
    held: dict[int, list[tuple[int, int, int]]] = {}
    for oid_, line_id, sku_id, qty in reservations:
        held.setdefault(oid_, []).append((line_id, sku_id, qty))
    assert len({(r[1], r[2]) for r in reservations}) == len(reservations), "a line holds the same SKU twice"
    for oid, ls in lines.items():
        got = sorted(held.get(order_id[oid], []))
        assert len(lines_of[order_id[oid]]) == len(ls)
        if state[oid] == "reserved":
            assert got == sorted(lines_of[order_id[oid]]), f"{oid}: holds {got}"
        else:
            assert state[oid] == "awaiting_stock", f"{oid}: {state[oid]}"
            assert got == [], f"{oid} waits but holds {got}"

    expected = _first_paid_first_served(lines)
    reserved = {oid for oid in lines if state[oid] == "reserved"}
    assert reserved == expected, (
        f"not first paid first served: {len(reserved - expected)} served out of turn "
        f"(e.g. {sorted(reserved - expected)[:5]}), {len(expected - reserved)} skipped "
        f"(e.g. {sorted(expected - reserved)[:5]})")
    assert len(expected) < ORDERS, "the scenario should leave orders waiting"

    held_per_sku = Counter()
    for _, _, sku_id, qty in reservations:
        held_per_sku[sku_id] += qty
    for sku_id, (on_hand, level_reserved) in levels.items():
        code = code_of[sku_id]
        assert on_hand == STOCK[code], f"{code}: on hand {on_hand}, received {STOCK[code]}"
        assert 0 <= level_reserved <= on_hand, f"{code} oversold: {level_reserved} reserved of {on_hand}"
        assert level_reserved == held_per_sku[sku_id], (
            f"{code}: level reserves {level_reserved}, reservations hold {held_per_sku[sku_id]}")
    assert moves.get("release", 0) == 0 and moves.get("ship", 0) == 0, moves
