"""`baodan bench orders-list`: the order list's first page, and the dashboard, on a database of 300,000 orders.

Set-up (not timed): a fresh database filled by `bench.fill` (a month of orders, proven consistent by
`baodan check`), an owner and a user limited to one shop signed in through /api/v1/auth/login. Then each
query is sent `samples` times (after one unmeasured call) through the real app in process (FastAPI
TestClient: routing, sign-in, scope, filters, SQL, JSON), and p50/p95 printed against the 300 ms target:
no filter, each filter of the order list, a page deep down the cursor, the scoped user; and the dashboard
(a tick, as /events computes it, and a cold computation of everything). `--runs` repeats the timings on
the same data; the medians over runs are what the verdict reads.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from baodan import migrate
from baodan.bench.surge import fresh_database
from baodan.core import clock
from baodan.core.db import Database

TARGET_MS = 300.0
PASSWORD = "bench-password-long-enough"
COLD = {"dashboard: live session, cold": False, "dashboard: today, cold": True}


@dataclass
class OrdersListResult:
    db: str
    orders: int
    lines: int
    fill_seconds: float
    check_problems: int
    limit: int
    samples: int
    runs: list[dict[str, dict[str, float]]] = field(default_factory=list)  # per run: query → {p50_ms, p95_ms}
    median: dict[str, dict[str, Any]] = field(default_factory=dict)  # query → {p50_ms, p95_ms, rows, ok}
    states: dict[str, int] = field(default_factory=dict)
    load_average: list[float] = field(default_factory=list)  # 1-minute load before and after each run (2 cores)

    @property
    def ok(self) -> bool:
        return not self.check_problems and all(q["ok"] for q in self.median.values())


def run(*, orders: int, db_kind: str, database_url: str | None = None, runs: int = 1, samples: int = 15,
        limit: int = 100, seed: int = 42, progress: bool = True) -> OrdersListResult:
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    workdir = Path(tempfile.mkdtemp(prefix="baodan-orders-list-"))
    db_url, cleanup = fresh_database(db_kind, database_url, workdir)
    try:
        db = Database(db_url)
        migrate.upgrade(db)
        runtime = _runtime(db_url, workdir)
        from baodan.bench.fill import fill
        from baodan.check import run_checks

        started = time.perf_counter()
        filled = fill(runtime.db, runtime.pii, orders=orders, seed=seed, say=say)
        fill_seconds = time.perf_counter() - started
        say(f"filled in {fill_seconds:.1f} s; checking consistency …")
        problems = run_checks(runtime.db)
        for problem in problems[:5]:
            say(f"  check: {problem.code}: {problem.message}")
        result = OrdersListResult(db=db_kind, orders=orders, lines=filled.lines, fill_seconds=round(fill_seconds, 1),
                                  check_problems=len(problems), limit=limit, samples=samples, states=filled.states)
        queries = _queries(filled, runtime, limit)
        owner, scoped = _clients(runtime, filled)
        for n in range(runs):
            say(f"timing, run {n + 1} of {runs} …")
            result.load_average.append(round(os.getloadavg()[0], 2))
            result.runs.append(_time_all(queries, owner, scoped, runtime, samples))
            result.load_average.append(round(os.getloadavg()[0], 2))
        for name in result.runs[0]:
            p50 = statistics.median(r[name]["p50_ms"] for r in result.runs)
            p95 = statistics.median(r[name]["p95_ms"] for r in result.runs)
            cpu = [r[name]["cpu_p50_ms"] for r in result.runs if "cpu_p50_ms" in r[name]]
            result.median[name] = {"p50_ms": round(p50, 1), "p95_ms": round(p95, 1),
                                   "cpu_p50_ms": round(statistics.median(cpu), 1) if cpu else None,
                                   "rows": result.runs[0][name]["rows"],
                                   # a cold dashboard is the background thread's work every 60 s, not a request's
                                   "ok": p50 < TARGET_MS or name in COLD}
        owner.close()
        scoped.close()
        runtime.close()
        db.dispose()
        return result
    finally:
        cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


def report(result: OrdersListResult, *, as_json: bool, console: Any) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps({**asdict(result), "ok": result.ok}).decode() + "\n")
        return
    _say(console, f"[bold]bench orders-list[/] db={result.db} orders={result.orders:,} lines={result.lines:,} "
                  f"(filled in {result.fill_seconds:.0f} s; check: {result.check_problems} problems) "
                  f"page={result.limit} rows, {result.samples} samples × {len(result.runs)} run(s)")
    _say(console, f"  {'query':<38} {'p50 ms':>8} {'p95 ms':>8} {'cpu ms':>7} {'rows':>5}   runs (p50)")
    for name, figures in result.median.items():
        each = " ".join(f"{r[name]['p50_ms']:.1f}" for r in result.runs)
        verdict = "(background)" if name in COLD else "[green]ok[/]" if figures["ok"] else "[red]SLOW[/]"
        cpu = f"{figures['cpu_p50_ms']:.1f}" if figures["cpu_p50_ms"] is not None else "-"
        _say(console, f"  {name:<38} {figures['p50_ms']:>8.1f} {figures['p95_ms']:>8.1f} {cpu:>7} "
                      f"{figures['rows']:>5}   {each}  {verdict}")
    _say(console, "  cpu ms: this process's CPU time per request (all of it on SQLite; without the server's on "
                  "PostgreSQL) — steadier than wall time on a shared, loaded box")
    _say(console, f"  load average (1 min) around the runs: {result.load_average} on {os.cpu_count()} cores")
    _say(console, f"  target: p50 < {TARGET_MS:.0f} ms for each request — "
                  + ("[green]all met[/]" if result.ok else "[red]NOT MET[/]"))


def _say(console: Any, text: str) -> None:
    console.print(text, soft_wrap=True)  # one line per query, however narrow the terminal


# ----------------------------------------------------------------------------------------------- set-up


def _runtime(db_url: str, workdir: Path) -> Any:
    from baodan.core.config import Settings
    from baodan.runtime import Runtime

    return Runtime.open(Settings(database_url=db_url, data_dir=workdir, log_level="WARNING", dashboard_interval_s=0.05,
                                 channel_sync=False, fulfilment_stage=False))


def _clients(runtime: Any, filled: Any) -> tuple[Any, Any]:
    from fastapi.testclient import TestClient

    from baodan.app import create_app
    from baodan.identity import accounts

    accounts.create_user(runtime.db, username="bench-owner", role="owner", password=PASSWORD)
    accounts.create_user(runtime.db, username="bench-ks", role="operator", password=PASSWORD,
                         shop_ids=[filled.shop_ids["KS-STORE"]])
    runtime.rate_limits.per_user = 10**9
    runtime.dashboard().interval_s = 0  # every dashboard request computes (a tick), none is answered from cache
    out = []
    for name in ("bench-owner", "bench-ks"):
        client = TestClient(create_app(runtime))
        resp = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        assert resp.status_code == 200, resp.text
        out.append(client)
    return out[0], out[1]


def _queries(filled: Any, runtime: Any, limit: int) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(name, who, path, params) of every timed request."""
    local = clock.to_shanghai(clock.utcnow()).replace(hour=0, minute=0, second=0, microsecond=0)
    day = local - timedelta(days=15)
    middle = filled.sessions[len(filled.sessions) // 2]
    deep = max(1, filled.orders // 10)  # the page 90% of the way down, newest first
    page = {"limit": limit}
    orders = "/api/v1/orders"
    return [
        ("no filter", "owner", orders, page),
        ("status=reserved", "owner", orders, {**page, "state": "reserved"}),
        ("status=held (rare)", "owner", orders, {**page, "state": "held"}),
        ("status=awaiting_stock", "owner", orders, {**page, "state": "awaiting_stock"}),
        ("shop=TB-STORE", "owner", orders, {**page, "shop": "TB-STORE"}),
        ("channel=kuaishou", "owner", orders, {**page, "channel": "kuaishou"}),
        ("live session (today, live)", "owner", orders, {**page, "live_session_id": filled.live_session_id}),
        ("live session (2 weeks ago)", "owner", orders, {**page, "live_session_id": middle}),
        ("anomaly=any", "owner", orders, {**page, "anomaly": "any"}),
        ("anomaly=unknown_sku", "owner", orders, {**page, "anomaly": "unknown_sku"}),
        ("held in fulfilment (any reason)", "owner", orders, {**page, "hold_reason": "any"}),
        ("paid on a day 15 days ago", "owner", orders, {**page, "paid_from": day.isoformat(),
                                                        "paid_to": (day + timedelta(days=1)).isoformat()}),
        ("sku (hot)", "owner", orders, {**page, "sku": filled.hot_sku}),
        ("sku (slow seller)", "owner", orders, {**page, "sku": filled.cold_sku}),
        ("buyer phone (blind index)", "owner", orders, {**page, "buyer_phone": filled.phone}),
        ("deep cursor (90% down)", "owner", orders, {**page, "cursor": deep}),
        ("deep cursor + status=completed", "owner", orders, {**page, "cursor": deep, "state": "completed"}),
        ("session + status + anomaly", "owner", orders, {**page, "live_session_id": middle, "state": "completed",
                                                         "anomaly": "any"}),
        ("one-shop user: no filter", "scoped", orders, page),
        ("one-shop user: sku (slow seller)", "scoped", orders, {**page, "sku": filled.cold_sku}),
        ("one-shop user: paid on a day", "scoped", orders, {**page, "paid_from": day.isoformat(),
                                                            "paid_to": (day + timedelta(days=1)).isoformat()}),
        ("dashboard: live session, tick", "owner", "/api/v1/dashboard", {}),
        ("dashboard: today, tick", "owner", "/api/v1/dashboard", {"today": "true"}),
    ]


def _time_all(queries: list[tuple[str, str, str, dict[str, Any]]], owner: Any, scoped: Any, runtime: Any,
              samples: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name, who, path, params in queries:
        client = owner if who == "owner" else scoped
        resp = client.get(path, params=params)  # warm-up, and the answer's size
        assert resp.status_code == 200, f"{name}: {resp.status_code} {resp.text[:300]}"
        rows = len(resp.json().get("items", [])) if path.endswith("/orders") else 0
        times, cpu = [], []
        for _ in range(samples):
            started, started_cpu = time.perf_counter(), time.process_time()
            resp = client.get(path, params=params)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert resp.status_code == 200
        out[name] = {**_figures(times, rows), "cpu_p50_ms": round(statistics.median(cpu), 2)}
    for name, today in COLD.items():
        out[name] = _cold_dashboard(runtime, today, max(3, samples // 3))
    return out


def _cold_dashboard(runtime: Any, today: bool, samples: int) -> dict[str, float]:
    """Everything recomputed: the older orders' sums too (what a tick does every 60 s, or a new view)."""
    from baodan.dashboard.hub import DashboardHub, ViewKey

    times, cpu = [], []
    for _ in range(samples):
        hub = DashboardHub(runtime.db, interval_s=0)
        started, started_cpu = time.perf_counter(), time.process_time()
        hub.snapshot(ViewKey(None, today, None, 10))
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return {**_figures(times, 0), "cpu_p50_ms": round(statistics.median(cpu), 2)}


def _figures(times: list[float], rows: int) -> dict[str, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered), 2), "p95_ms": round(p95, 2), "rows": rows}
