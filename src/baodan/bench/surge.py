"""`baodan bench surge`: a live-session burst pushed through the real intake and worker.

Request bodies are generated and rendered in a forked child before the clock starts (so neither the
generator's CPU nor its memory is charged to BaoDan); producers then read them from a file and go
through the same validation and intake code as `POST /api/v1/orders/batch` (or post them over HTTP to
a server with --http). Invariants are checked from the database afterwards.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

from baodan import migrate
from baodan.core import clock
from baodan.core.db import Database, fetchall
from baodan.demo import Catalog, seed_catalog

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
HOT_STOCK_SHARE = 0.4  # hot SKUs hold 40% of their demand: they sell out part-way


@dataclass
class SurgeResult:
    db: str
    mode: str
    orders: int
    events: int
    seconds: float
    orders_per_s: float
    accept_seconds: float
    accept_per_s: float
    p50_ms: float
    p99_ms: float
    peak_rss_mb: float | None
    oversold_units: int
    lost_orders: int
    duplicate_orders: int
    ledger_mismatches: int
    check_problems: int
    wrong_status: int
    duplicates_sent: int
    duplicates_counted: int
    states: dict[str, int] = field(default_factory=dict)
    hot_skus: dict[str, dict[str, int]] = field(default_factory=dict)
    latency_source: str = ""

    @property
    def ok(self) -> bool:
        return not (self.oversold_units or self.lost_orders or self.duplicate_orders or self.ledger_mismatches
                    or self.check_problems or self.wrong_status or self.duplicates_counted != self.duplicates_sent)


def run(*, orders: int, db_kind: str, database_url: str | None = None, http: bool = False, url: str | None = None,
        clients: int = 4, chunk: int = 500, workers: int = 1, seed: int = 42, progress: bool = True) -> SurgeResult:
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    workdir = Path(tempfile.mkdtemp(prefix="baodan-surge-"))
    db_url, cleanup = fresh_database(db_kind, database_url, workdir)
    try:
        db = Database(db_url)
        migrate.upgrade(db)
        say(f"seeding catalog on {db_kind} …")
        cat = seed_catalog(db, stock={}, default_stock=10**6, session_start=clock.utcnow().replace(microsecond=0))
        say(f"generating {orders:,} orders …")
        plan = _prepare(cat, orders, seed=seed, chunk=chunk, workdir=workdir)
        _stock_hot_skus(db, cat, plan["hot_demand"])
        if http:
            timing = _run_http(db, db_url, workdir, plan, url=url, clients=clients, say=say)
        else:
            timing = _run_in_process(db, db_url, plan, workdir, clients=clients, workers=workers, say=say)
        say("checking invariants …")
        result = _verify(db, cat, plan, timing, db_kind=db_kind, mode="http" if http else "in-process")
        db.dispose()
        return result
    finally:
        cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


def report(result: SurgeResult, *, as_json: bool, console: Any) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps({**asdict(result), "ok": result.ok}).decode() + "\n")
        return
    console.print(f"[bold]bench surge[/] db={result.db} mode={result.mode} orders={result.orders:,} "
                  f"events={result.events:,}")
    console.print(f"  end to end   {result.orders_per_s:>10,.0f} orders/s   ({result.seconds:.2f} s)")
    console.print(f"  accept       {result.accept_per_s:>10,.0f} events/s   ({result.accept_seconds:.2f} s)")
    console.print(f"  latency      p50 {result.p50_ms:,.0f} ms   p99 {result.p99_ms:,.0f} ms "
                  f"(accept → reserved, {result.latency_source})")
    rss = f"{result.peak_rss_mb:,.0f} MB" if result.peak_rss_mb is not None else "n/a (external server)"
    console.print(f"  peak RSS     {rss}")
    console.print(f"  states       {result.states}")
    for code, figures in result.hot_skus.items():
        console.print(f"  hot SKU {code}: stock {figures['stock']}, reserved {figures['reserved']}, "
                      f"demand {figures['demand']}")
    console.print(f"  invariants   oversold={result.oversold_units} lost={result.lost_orders} "
                  f"duplicated={result.duplicate_orders} ledger_mismatches={result.ledger_mismatches} "
                  f"check_problems={result.check_problems} wrong_status={result.wrong_status} "
                  f"redeliveries sent/counted={result.duplicates_sent}/{result.duplicates_counted}")
    console.print("  [green]all invariants hold[/]" if result.ok else "  [red]INVARIANTS VIOLATED[/]")


# ----------------------------------------------------------------------------------------- set-up


def fresh_database(kind: str, url: str | None, workdir: Path) -> tuple[str, Any]:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}", lambda: None
    import psycopg

    base = url or os.environ.get("BAODAN_TEST_PG_URL", DEFAULT_PG)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    sep = "&" if "?" in plain else "?"
    return f"{plain}{sep}options={quote(f'-csearch_path={schema}')}", drop


def _prepare(cat: Catalog, orders: int, *, seed: int, chunk: int, workdir: Path) -> dict[str, Any]:
    """Generate and render the burst in a forked child; returns its summary (and writes the files)."""
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=_render_files, args=(cat, orders, seed, chunk, workdir))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"burst generator failed (exit {child.exitcode})")
    return orjson.loads((workdir / "plan.json").read_bytes())


def _render_files(cat: Catalog, orders: int, seed: int, chunk: int, workdir: Path) -> None:
    from baodan.bench.generate import generate_burst, render

    start = cat.live_session_start or clock.utcnow()
    burst = generate_burst(cat, orders, seed=seed, start=start, seconds=max(60.0, orders / 500))
    with open(workdir / "requests.jsonl", "wb") as out:
        for i in range(0, len(burst.events), chunk):
            body = {"orders": [render(cat, burst.orders[e.order], e) for e in burst.events[i:i + chunk]]}
            out.write(orjson.dumps(body) + b"\n")
    final = burst.final_status()
    hot_demand = {code: 0 for code in burst.hot_skus}
    for o in burst.orders:
        if final[o.index] == "paid":
            for code, qty in o.lines:
                if code in hot_demand:
                    hot_demand[code] += qty
    plan = {"orders": [[o.channel, o.platform_order_id, final[o.index], len(o.lines)] for o in burst.orders],
            "events": len(burst.events), "duplicates": burst.duplicates, "hot_demand": hot_demand,
            "requests": (len(burst.events) + chunk - 1) // chunk}
    (workdir / "plan.json").write_bytes(orjson.dumps(plan))


def _stock_hot_skus(db: Database, cat: Catalog, hot_demand: dict[str, int]) -> None:
    from sqlalchemy import select

    from baodan.catalog.tables import sku
    from baodan.inventory import services as inventory

    with db.read() as s:
        ids = dict(s.execute(select(sku.c.code, sku.c.id)).all())
    for code, demand in hot_demand.items():
        stock = int(demand * HOT_STOCK_SHARE)
        inventory.adjust_stock(db, sku_id=ids[code], warehouse_id=cat.warehouse_ids["WH-HZ"], set_to=stock,
                               reason="bench: hot SKU sells out part-way", actor="bench")
        cat.on_hand[(code, "WH-HZ")] = stock
    for code in cat.sku_codes:
        if code not in hot_demand:
            cat.on_hand[(code, "WH-HZ")] = 10**6


def _requests(workdir: Path) -> Iterator[bytes]:
    with open(workdir / "requests.jsonl", "rb") as f:
        yield from f


# ------------------------------------------------------------------------------------------- runs


@dataclass
class _Timing:
    started: float
    accept_done: float
    finished: float
    latencies_s: list[float]
    latency_source: str
    peak_rss_mb: float | None


def _run_in_process(db: Database, db_url: str, plan: dict[str, Any], workdir: Path, *, clients: int,
                    workers: int, say: Any) -> _Timing:
    """The embedded server without its HTTP layer: intake in this process (as the API does), the
    worker in child processes exactly as `baodan serve` runs it."""
    from pydantic import TypeAdapter

    from baodan.core.config import Settings
    from baodan.identity.pii import PiiCipher
    from baodan.intake import services as intake
    from baodan.intake.inbox import open_inbox
    from baodan.orders.schemas import OrderBatch
    from baodan.runtime import run_worker_process, tune_gc

    tune_gc()  # as `baodan serve` does for its API process
    inbox = open_inbox(db)
    shops = intake.ShopDirectory(db)
    adapter = TypeAdapter(OrderBatch)
    config = Settings(database_url=db_url, data_dir=workdir, log_level="WARNING")
    pii = PiiCipher.from_settings(config)  # intake seals receivers, as the API does
    settings = config.model_dump()
    context = multiprocessing.get_context("spawn")
    worker_count = workers if not db.is_sqlite else 1
    children = [context.Process(target=run_worker_process, args=(settings,), daemon=True)
                for _ in range(worker_count)]
    for child in children:
        child.start()
    say(f"pushing {plan['events']:,} events from {clients} producers; {worker_count} worker process(es) …")
    try:
        time.sleep(1.0)  # let the worker processes import and connect before the clock starts
        started, accept_done = _push(workdir, clients, lambda: lambda body: intake.accept_orders(
            inbox, shops, adapter.validate_json(body).orders, pii=pii))
        _wait_until(lambda: inbox.pending(1) == 0 and _retry_idle(db), say=say, what="workers to drain")
        finished = time.perf_counter()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 + sum(
            _process_peak_rss_mb(c.pid) or 0 for c in children)  # type: ignore[arg-type]
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.join(timeout=30)
        inbox.close()
    return _Timing(started, accept_done, finished, latencies_from_history(db),
                   "to end of batch, from history", peak)


def _run_http(db: Database, db_url: str, workdir: Path, plan: dict[str, Any], *, url: str | None, clients: int,
              say: Any) -> _Timing:
    import httpx

    server = None
    if url is None:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "BAODAN_DATABASE_URL": db_url, "BAODAN_DATA_DIR": str(workdir),
               "BAODAN_LOG_LEVEL": "WARNING"}
        with open(workdir / "server.log", "wb") as log:  # the child keeps its own copy of the descriptor
            server = subprocess.Popen([sys.executable, "-m", "baodan.cli", "serve", "--port", str(port)], env=env,
                                      stdout=subprocess.DEVNULL, stderr=log)
        _wait_until(lambda: healthy(url), say=say, what="server to start", timeout_s=60)
    from baodan.identity import accounts

    key = accounts.create_api_key(db, name="bench surge", permissions=["orders.write", "orders.read"],
                                  rate_per_minute=10**7, actor="system:bench")  # integrators post with a key
    auth = {"authorization": f"Bearer {key}"}
    clients_open: list[httpx.Client] = []

    def sender() -> Any:
        client = httpx.Client(base_url=url, timeout=120, headers=auth)
        clients_open.append(client)

        def send(body: bytes) -> None:
            response = client.post("/api/v1/orders/batch", content=body, headers={"content-type": "application/json"})
            if response.status_code != 200:
                raise RuntimeError(f"the server refused a request: {response.status_code} {response.text[:300]}")
        return send

    try:
        say(f"posting {plan['requests']:,} requests to {url} from {clients} clients …")
        started, accept_done = _push(workdir, clients, sender)
        with httpx.Client(base_url=url, timeout=30, headers=auth) as client:
            _wait_until(lambda: client.get("/api/v1/intake/status").json()["pending"] == 0 and _retry_idle(db),
                        say=say, what="server's worker to drain", poll_s=0.02)
        finished = time.perf_counter()
        peak = tree_peak_rss_mb(server.pid) if server else None  # the server and its worker process
    finally:
        for client in clients_open:
            client.close()
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    return _Timing(started, accept_done, finished, latencies_from_history(db), "to end of batch, from history",
                   peak)


def _push(workdir: Path, clients: int, make_sender: Any) -> tuple[float, float]:
    """Send every rendered request from `clients` threads (each with its own `make_sender()`); returns
    when all are acknowledged, with the start and end times. The first failure is raised."""
    source = _requests(workdir)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def produce() -> None:
        try:
            send = make_sender()
            while True:
                with lock:
                    body = next(source, None)
                if body is None:
                    return
                send(body)
        except BaseException as exc:  # surfaced below: a bench must not hide a failed request
            errors.append(exc)

    threads = [threading.Thread(target=produce, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return started, time.perf_counter()


def _retry_idle(db: Database) -> bool:
    with db.read() as s:
        return not fetchall(s, "SELECT 1 FROM inventory_retry")


def _wait_until(condition: Any, *, say: Any, what: str, timeout_s: float = 1800, poll_s: float = 0.005) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for the {what} after {timeout_s:.0f} s")
        time.sleep(poll_s)


def healthy(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_peak_rss_mb(pid: int) -> float | None:
    """Peak RSS of a process and its descendants (while they are alive)."""
    total = _process_peak_rss_mb(pid)
    if total is None:
        return None
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return total
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        total += sum(tree_peak_rss_mb(int(child)) or 0 for child in children)
    return total


def _process_peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def latencies_from_history(db: Database) -> list[float]:
    out = []
    with db.read() as s:
        for at, detail in fetchall(s, "SELECT at, detail FROM order_event WHERE kind = 'received'"):
            d = orjson.loads(detail) if isinstance(detail, str | bytes) else detail
            at_dt = clock.from_sql_text(at) if isinstance(at, str) else at
            out.append((at_dt - clock.from_sql_text(d["received_at"])).total_seconds())
    return out


# ----------------------------------------------------------------------------------------- verify


def _verify(db: Database, cat: Catalog, plan: dict[str, Any], timing: _Timing, *, db_kind: str,
            mode: str) -> SurgeResult:
    from baodan.check import run_checks

    expected = {(channel, pid): (status, n_lines) for channel, pid, status, n_lines in plan["orders"]}
    with db.read() as s:
        rows = fetchall(s, "SELECT o.channel, o.platform_order_id, o.platform_status, count(l.id) FROM sales_order o "
                           "LEFT JOIN order_line l ON l.order_id = o.id GROUP BY o.id, o.channel, "
                           "o.platform_order_id, o.platform_status")
        ((total_rows, distinct_keys),) = fetchall(
            s, "SELECT count(*), count(DISTINCT channel || ':' || platform_order_id) FROM sales_order")
        held = fetchall(s, "SELECT s.code, w.code, sum(r.qty) FROM reservation r JOIN sku s ON s.id = r.sku_id "
                           "JOIN warehouse w ON w.id = r.warehouse_id GROUP BY s.code, w.code")
        levels_over = fetchall(s, "SELECT coalesce(sum(reserved - on_hand), 0) FROM stock_level "
                                  "WHERE reserved > on_hand")[0][0]
        states = dict(fetchall(s, "SELECT state, count(*) FROM sales_order GROUP BY state"))
    inbox_counts = _counted_duplicates(db)
    found = {(r[0], r[1]): (r[2], r[3]) for r in rows}
    lost = sum(1 for key in expected if key not in found)
    wrong_status = sum(1 for key, (status, _) in expected.items() if key in found and found[key][0] != status)
    duplicated = (total_rows - distinct_keys) + sum(
        1 for key, (_, n_lines) in expected.items() if key in found and found[key][1] != n_lines)
    oversold = int(levels_over) + sum(max(0, int(qty) - cat.on_hand.get((sku, wh), 0)) for sku, wh, qty in held)
    problems = run_checks(db, limit=10_000)
    ledger = sum(1 for p in problems if p.code in ("ledger_mismatch", "reserved_mismatch"))
    reserved_by_sku = {sku: int(qty) for sku, wh, qty in held if wh == "WH-HZ"}
    seconds = timing.finished - timing.started
    accept_seconds = timing.accept_done - timing.started
    latencies = sorted(timing.latencies_s) or [0.0]
    return SurgeResult(
        db=db_kind, mode=mode, orders=len(expected), events=plan["events"], seconds=round(seconds, 3),
        orders_per_s=round(len(expected) / seconds, 1), accept_seconds=round(accept_seconds, 3),
        accept_per_s=round(plan["events"] / accept_seconds, 1),
        p50_ms=round(statistics.median(latencies) * 1000, 1),
        p99_ms=round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
        peak_rss_mb=round(timing.peak_rss_mb, 1) if timing.peak_rss_mb is not None else None,
        oversold_units=oversold, lost_orders=lost, duplicate_orders=duplicated, ledger_mismatches=ledger,
        check_problems=len(problems) - ledger, wrong_status=wrong_status, duplicates_sent=plan["duplicates"],
        duplicates_counted=inbox_counts, states=states,
        hot_skus={code: {"stock": cat.on_hand[(code, "WH-HZ")], "reserved": reserved_by_sku.get(code, 0),
                         "demand": demand} for code, demand in plan["hot_demand"].items()},
        latency_source=timing.latency_source)


def _counted_duplicates(db: Database) -> int:
    from baodan.intake.inbox import open_inbox

    inbox = open_inbox(db)
    try:
        return sum(d for _, d in inbox.stats().values())  # type: ignore[attr-defined]
    finally:
        inbox.close()
