"""`baodan bench surge --http`: a live session played by the platform simulator, end to end over HTTP.

The simulator (`baodan sim`, its own process) runs a live session as fast as it can make orders: most on a
few hot SKUs, some unpaid first, cancellations, refunds, address changes, duplicate and out-of-order
pushes. Each change is pushed, signed as the platform signs it, to a real `baodan serve` (its own process),
batched where the platform's push carries several notices (抖店 pushes a JSON array). The pushes name
orders only, so BaoDan reads them back from the platform: a deep fetch queue by the order list, a page a
call, the rest by detail calls, at the shop's granted call rate. The clock runs from the session's start
until BaoDan holds every order the simulator has, in its newest state, with nothing left to fetch, in
the inbox or waiting for a retry. Invariants are then checked against the simulator's own orders.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from baodan import migrate
from baodan.bench.surge import free_port, fresh_database, healthy, latencies_from_history, tree_peak_rss_mb
from baodan.core.db import Database, fetchall

PUSH_BATCH = 100  # notices in one push where the platform's push carries several
HOT_SKUS = 3
HOT_SHARE = 0.8
HOT_STOCK_SHARE = 0.5  # each hot SKU holds about half its demand: it sells out mid-session
SETTLE_TIMEOUT_S = 1800


@dataclass
class PlatformSurgeResult:
    db: str
    mode: str
    platforms: list[str]
    orders: int
    events: int  # order changes the simulator pushed (new orders, payments, follow-ups)
    pushes: int  # HTTP requests that carried them
    seconds: float  # session start → BaoDan holds every order in its newest state
    orders_per_s: float
    session_seconds: float  # how long the simulator took to make the session's orders
    calls: dict[str, int]  # platform calls BaoDan made, by method (orders listed, read one by one)
    calls_per_second: float  # the shops' granted platform call rate
    p50_ms: float
    p99_ms: float
    peak_rss_mb: float | None  # BaoDan's server and its worker
    lost_orders: int
    duplicate_orders: int
    wrong_status: int
    oversold_units: int
    check_problems: int
    dropped_pushes: int
    left_to_fetch: int
    states: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.lost_orders or self.duplicate_orders or self.wrong_status or self.oversold_units
                    or self.check_problems or self.dropped_pushes or self.left_to_fetch)


def run(*, orders: int, db_kind: str, database_url: str | None = None, platforms: tuple[str, ...] = ("douyin",),
        rate: float = 20_000.0, calls_per_second: float = 200.0, seed: int = 42,
        progress: bool = True) -> PlatformSurgeResult:
    from baodan.core.config import Settings
    from baodan.demo import seed_catalog
    from baodan.identity.pii import PiiCipher
    from baodan.sim.config import load_config
    from baodan.sim.connect import connect_shops

    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    workdir = Path(tempfile.mkdtemp(prefix="baodan-surge-http-"))
    db_url, cleanup = fresh_database(db_kind, database_url, workdir)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        db = Database(db_url)
        migrate.upgrade(db)
        say(f"seeding catalog on {db_kind} …")
        seed_catalog(db, stock={}, default_stock=10**6)
        _stock_hot_skus(db, orders)
        baodan_port, sim_port = free_port(), free_port()
        baodan, sim = f"http://127.0.0.1:{baodan_port}", f"http://127.0.0.1:{sim_port}"
        env = {**os.environ, "BAODAN_DATABASE_URL": db_url, "BAODAN_DATA_DIR": str(workdir),
               "BAODAN_LOG_LEVEL": "WARNING"}
        pii = PiiCipher.from_settings(Settings(database_url=db_url, data_dir=workdir))  # the server's keys too
        connected = connect_shops(db, pii, sim, platforms=platforms, calls_per_second=calls_per_second,
                                  actor="system:bench")
        if len(connected) != len(platforms):
            raise RuntimeError(f"the demo has no shop for some of {platforms}: {connected}")
        config = workdir / "sim.toml"
        config.write_text(f"[pushes]\nbatch = {PUSH_BATCH}\nretry_budget_s = {SETTLE_TIMEOUT_S}\n"
                          f"concurrency = 8\n", encoding="utf-8")
        load_config(config)  # refuse a bad config here, not in the child
        processes.append(_start(workdir, "server", env, "serve", "--port", str(baodan_port)))
        processes.append(_start(workdir, "sim", env, "sim", "--port", str(sim_port), "--config", str(config),
                                "--push-to", baodan, "--orders", "0"))
        _wait(lambda: healthy(baodan) and _sim_status(sim) is not None, "server and simulator to start", 60)
        say(f"live session of {orders:,} orders on {', '.join(platforms)} → {baodan} (platform calls at "
            f"{calls_per_second:g}/s per shop) …")
        started = time.perf_counter()
        session = _post(sim, "/_sim/session", {"orders": orders, "rate": rate, "seed": seed, "hot_skus": HOT_SKUS,
                                                "hot_share": HOT_SHARE, "platforms": list(platforms)})
        if session.get("running") is not True:
            raise RuntimeError(f"the simulator did not start the session: {session}")
        _wait(lambda: _session_done(sim), "simulator to finish its session", SETTLE_TIMEOUT_S, poll_s=0.2)
        session_seconds = time.perf_counter() - started
        say(f"session made in {session_seconds:.1f} s; waiting for BaoDan to hold every order …")
        expected = {(p, oid): st for p in platforms
                    for oid, st in _get(sim, f"/_sim/orders?platform={p}&view=status")["statuses"].items()}
        _wait(lambda: _settled(db, expected), "BaoDan to hold every order in its newest state", SETTLE_TIMEOUT_S,
              poll_s=0.25)
        seconds = time.perf_counter() - started
        peak = tree_peak_rss_mb(processes[0].pid)
        status = _sim_status(sim) or {}
        say("checking invariants …")
        return _verify(db, expected, status, platforms, db_kind=db_kind, seconds=seconds,
                       session_seconds=session_seconds, calls_per_second=calls_per_second, peak_rss_mb=peak)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


def report(result: PlatformSurgeResult, *, as_json: bool, console: Any) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps({**asdict(result), "ok": result.ok}).decode() + "\n")
        return
    console.print(f"[bold]bench surge --http[/] db={result.db} platforms={','.join(result.platforms)} "
                  f"orders={result.orders:,} changes pushed={result.events:,} in {result.pushes:,} pushes")
    console.print(f"  end to end   {result.orders_per_s:>10,.0f} orders/s   ({result.seconds:.2f} s; the simulator "
                  f"made the session in {result.session_seconds:.2f} s)")
    calls = ", ".join(f"{method} {n:,}" for method, n in result.calls.items())
    console.print(f"  read back    {calls} (at most {result.calls_per_second:g} calls/s per shop)")
    console.print(f"  latency      p50 {result.p50_ms:,.0f} ms   p99 {result.p99_ms:,.0f} ms (inbox → reserved)")
    rss = f"{result.peak_rss_mb:,.0f} MB" if result.peak_rss_mb is not None else "n/a"
    console.print(f"  peak RSS     {rss} (server and worker)")
    console.print(f"  states       {result.states}")
    console.print(f"  invariants   lost={result.lost_orders} duplicated={result.duplicate_orders} "
                  f"wrong_status={result.wrong_status} oversold={result.oversold_units} "
                  f"check_problems={result.check_problems} dropped_pushes={result.dropped_pushes} "
                  f"left_to_fetch={result.left_to_fetch}")
    console.print("  [green]all invariants hold[/]" if result.ok else "  [red]INVARIANTS VIOLATED[/]")


# ----------------------------------------------------------------------------------------- set-up


def _stock_hot_skus(db: Database, orders: int) -> None:
    """The session's featured SKUs (the first of each shop's list) hold about half their demand."""
    from sqlalchemy import select

    from baodan.catalog.tables import sku, warehouse
    from baodan.inventory import services as inventory
    from baodan.sim.config import demo_skus

    with db.read() as s:
        ids = dict(s.execute(select(sku.c.code, sku.c.id)).all())
        main = s.scalar(select(warehouse.c.id).where(warehouse.c.code == "WH-HZ"))
    stock = max(1, int(orders * HOT_SHARE / HOT_SKUS * HOT_STOCK_SHARE))
    for item in demo_skus("DY-FLAGSHIP")[:HOT_SKUS]:
        inventory.adjust_stock(db, sku_id=ids[item.sku_code], warehouse_id=main, set_to=stock,
                               reason="bench: hot SKU sells out mid-session", actor="system:bench")


def _start(workdir: Path, name: str, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    with open(workdir / f"{name}.log", "wb") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "baodan.cli", *args], env=env, stdout=log, stderr=log)


# ------------------------------------------------------------------------------------------ waits


def _wait(condition: Any, what: str, timeout_s: float, poll_s: float = 0.05) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for the {what} after {timeout_s:.0f} s")
        time.sleep(poll_s)


def _get(base: str, path: str) -> dict[str, Any]:
    import httpx

    return httpx.get(base + path, timeout=120).raise_for_status().json()  # type: ignore[no-any-return]


def _post(base: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    import httpx

    return httpx.post(base + path, json=body, timeout=30).raise_for_status().json()  # type: ignore[no-any-return]


def _sim_status(base: str) -> dict[str, Any] | None:
    import httpx

    try:
        return _get(base, "/_sim/status")
    except httpx.HTTPError:
        return None


def _session_done(base: str) -> bool:
    status = _sim_status(base) or {}
    session = status.get("session") or {}
    return bool(session) and not session.get("running") and status.get("pending_pushes") == 0


def _settled(db: Database, expected: dict[tuple[str, str], str]) -> bool:
    """Every expected order in BaoDan in its newest status, and nothing left to fetch, in the inbox or
    waiting for a retry."""
    with db.read() as s:  # the cheap questions first: this polls while BaoDan works
        if fetchall(s, "SELECT 1 FROM channel_fetch LIMIT 1") or fetchall(s, "SELECT 1 FROM inventory_retry LIMIT 1"):
            return False
        if int(fetchall(s, "SELECT count(*) FROM sales_order")[0][0]) < len(expected):
            return False
    if not _inbox_empty(db):
        return False
    with db.read() as s:
        got = {(c, o): st for c, o, st in fetchall(
            s, "SELECT channel, platform_order_id, platform_status FROM sales_order")}
    return all(got.get(key) == status for key, status in expected.items())


def _inbox_empty(db: Database) -> bool:
    from baodan.intake.inbox import open_inbox

    inbox = open_inbox(db)
    try:
        return inbox.pending(1) == 0
    finally:
        inbox.close()


# ----------------------------------------------------------------------------------------- verify


def _verify(db: Database, expected: dict[tuple[str, str], str], status: dict[str, Any], platforms: tuple[str, ...],
            *, db_kind: str, seconds: float, session_seconds: float, calls_per_second: float,
            peak_rss_mb: float | None) -> PlatformSurgeResult:
    from baodan.check import run_checks

    with db.read() as s:
        got = {(c, o): st for c, o, st in fetchall(
            s, "SELECT channel, platform_order_id, platform_status FROM sales_order")}
        ((rows, keys),) = fetchall(s, "SELECT count(*), count(DISTINCT channel || ':' || platform_order_id) "
                                      "FROM sales_order")
        oversold = int(fetchall(s, "SELECT coalesce(sum(reserved - on_hand), 0) FROM stock_level "
                                   "WHERE reserved > on_hand")[0][0])
        calls = dict(fetchall(s, "SELECT method, count(*) FROM channel_call WHERE ok = ? GROUP BY method", (True,)))
        left = int(fetchall(s, "SELECT count(*) FROM channel_fetch")[0][0])
        states = dict(fetchall(s, "SELECT state, count(*) FROM sales_order GROUP BY state"))
    problems = run_checks(db, limit=10_000)
    pushed = {p: (status.get("platforms") or {}).get(p, {}).get("pushes", {}) for p in platforms}
    latencies = sorted(latencies_from_history(db)) or [0.0]
    return PlatformSurgeResult(
        db=db_kind, mode="http, platform pushes", platforms=list(platforms), orders=len(expected),
        events=sum(int((status.get("platforms") or {}).get(p, {}).get("events", 0)) for p in platforms),
        pushes=sum(int(c.get("sent", 0)) for c in pushed.values()), seconds=round(seconds, 3),
        orders_per_s=round(len(expected) / seconds, 1), session_seconds=round(session_seconds, 3),
        calls={str(m): int(n) for m, n in sorted(calls.items())}, calls_per_second=calls_per_second,
        p50_ms=round(statistics.median(latencies) * 1000, 1),
        p99_ms=round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
        peak_rss_mb=round(peak_rss_mb, 1) if peak_rss_mb is not None else None,
        lost_orders=sum(1 for key in expected if key not in got), duplicate_orders=int(rows) - int(keys),
        wrong_status=sum(1 for key, st in expected.items() if key in got and got[key] != st),
        oversold_units=oversold, check_problems=len(problems),
        dropped_pushes=sum(int(c.get("dropped", 0)) for c in pushed.values()), left_to_fetch=left, states=states)

