"""`baodan bench fulfil`: reserved orders through the warehouse steps, timed per step.

Set-up (not timed): a fresh database, the demo catalog with stock for everything, `orders` paid orders (80%
on 2 hot SKUs, as a live session's) taken through intake and the worker to reserved, and the platform
simulator started as its own process for its 菜鸟 e-waybill service. Then, each timed on its own: review
(the shipped review rules), routing, courier choice and queueing for numbers, obtaining the numbers from
the simulator (the waybill desk, 10 parcels a call, at `--carrier-rate` calls/s), taking them, building the
waves, and printing every wave's labels (100×150) into one PDF per wave. Figures: orders/s per step,
labels/s, peak RSS of this process.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from baodan import migrate
from baodan.bench.surge import free_port, fresh_database
from baodan.core.db import Database, fetchall


@dataclass
class FulfilResult:
    db: str
    orders: int
    hot_share: float
    steps: dict[str, dict[str, float]] = field(default_factory=dict)  # step → {seconds, per_s}
    labels: int = 0
    labels_per_s: float = 0.0
    label_pdf_mb: float = 0.0
    waves: int = 0
    single_sku_waves: int = 0
    held: int = 0
    merged: int = 0  # orders shipping in another order's parcel (one buyer, one address, within 30 minutes)
    peak_rss_mb: float = 0.0
    ready_ok: bool = False

    @property
    def ok(self) -> bool:
        return self.ready_ok


def run(*, orders: int, db_kind: str, database_url: str | None = None, carrier_rate: float = 200.0,
        seed: int = 42, progress: bool = True) -> FulfilResult:
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    workdir = Path(tempfile.mkdtemp(prefix="baodan-fulfil-"))
    db_url, cleanup = fresh_database(db_kind, database_url, workdir)
    sim: subprocess.Popen[bytes] | None = None
    try:
        db = Database(db_url)
        migrate.upgrade(db)
        runtime = _runtime(db_url, workdir)
        say(f"seeding catalog and {orders:,} reserved orders on {db_kind} …")
        _reserved(runtime, orders, seed)
        port = free_port()
        with open(workdir / "sim.log", "wb") as log:
            sim = subprocess.Popen([sys.executable, "-m", "baodan.cli", "sim", "--port", str(port), "--orders", "0"],
                                   stdout=log, stderr=log, env={**os.environ})
        _account(runtime, f"http://127.0.0.1:{port}")
        _wait_http(f"http://127.0.0.1:{port}/_sim/status")
        result = FulfilResult(db=db_kind, orders=orders, hot_share=0.8)
        _steps(runtime, result, workdir, carrier_rate, say)
        result.peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        runtime.close()
        return result
    finally:
        if sim is not None:
            sim.terminate()
            sim.wait(timeout=30)
        cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


def report(result: FulfilResult, *, as_json: bool, console: Any) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps({**asdict(result), "ok": result.ok}).decode() + "\n")
        return
    console.print(f"[bold]bench fulfil[/] db={result.db} orders={result.orders:,} (80% on 2 SKUs)")
    for step, figures in result.steps.items():
        console.print(f"  {step:<10} {figures['per_s']:>10,.0f} orders/s   ({figures['seconds']:.2f} s)")
    console.print(f"  labels     {result.labels_per_s:>10,.0f} labels/s   ({result.labels:,} labels in {result.waves} "
                  f"waves, {result.single_sku_waves} single-SKU; {result.label_pdf_mb:,.1f} MB of PDF)")
    console.print(f"  held       {result.held:,} orders by the review rules; {result.merged:,} merged into another's "
                  f"parcel; peak RSS {result.peak_rss_mb:,.0f} MB")
    console.print("  [green]every order ready, waved and labelled[/]" if result.ok else "  [red]ORDERS LEFT BEHIND[/]")


# ----------------------------------------------------------------------------------------- set-up


def _runtime(db_url: str, workdir: Path) -> Any:
    from baodan.core.config import Settings
    from baodan.runtime import Runtime

    return Runtime.open(Settings(database_url=db_url, data_dir=workdir, log_level="WARNING"))


def _reserved(runtime: Any, orders: int, seed: int) -> None:
    from baodan.bench.generate import generate_burst, render
    from baodan.core import clock
    from baodan.demo import seed_catalog
    from baodan.intake import services as intake
    from baodan.orders.schemas import CanonicalOrder

    cat = seed_catalog(runtime.db, stock={}, default_stock=10**7)
    burst = generate_burst(cat, orders, seed=seed, start=clock.utcnow(), seconds=max(60.0, orders / 500),
                           hot_count=2, hot_share=0.8, duplicate_rate=0, out_of_order_rate=0, cancel_rate=0,
                           anomaly_rate=0)
    batch: list[CanonicalOrder] = []
    for event in burst.events:
        batch.append(CanonicalOrder.model_validate(render(cat, burst.orders[event.order], event)))
        if len(batch) == 2000:
            intake.accept_orders(runtime.inbox, runtime.shops, batch, pii=runtime.pii)
            batch = []
    if batch:
        intake.accept_orders(runtime.inbox, runtime.shops, batch, pii=runtime.pii)
    runtime.worker().drain()


def _account(runtime: Any, sim_url: str) -> None:
    from baodan.sim import load_config
    from baodan.sim.simulation import Simulation
    from baodan.waybills import accounts
    from baodan.waybills.schemas import CarrierAccountWrite, Secrets, Sender

    creds = Simulation(load_config()).carriers.credentials("cainiao")  # the simulator's fixed defaults
    accounts.save(runtime.db, runtime.pii, actor="system:bench", data=CarrierAccountWrite(
        name="ZTO-杭州主仓", adapter="cainiao", carrier_code="ZTO", app_key=creds.app_key,
        base_url=f"{sim_url}/cainiao", low_water=1_000_000, refill_batch=2000,
        sender=Sender(name="杭州主仓", phone="13900000000", province="浙江省", city="杭州市", district="余杭区",
                      address="仓前街道 1 号"),
        secrets=Secrets(app_secret=creds.app_secret, access_token=creds.access_token, extra=dict(creds.extra))))


def _wait_http(url: str, timeout_s: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"the simulator did not answer at {url}")


# ------------------------------------------------------------------------------------------ steps


def _steps(runtime: Any, result: FulfilResult, workdir: Path, carrier_rate: float, say: Any) -> None:
    from baodan.fulfilment import printing, waves
    from baodan.fulfilment.carrier import _choose, _take
    from baodan.fulfilment.merge import merge_once
    from baodan.fulfilment.review import review_once
    from baodan.fulfilment.routing import route_once
    from baodan.waybills.cloudprint import CloudPrintAdapter
    from baodan.waybills.desk import WaybillDesk

    db, book = runtime.db, runtime.rules
    CloudPrintAdapter.calls_per_second = carrier_rate  # the account's granted rate at the simulated 菜鸟

    def timed(name: str, step: Any, count: Any) -> None:
        say(f"{name} …")
        started, done = time.perf_counter(), 0
        while True:
            moved = step()
            done += count(moved)
            if not count(moved):
                break
        seconds = time.perf_counter() - started
        result.steps[name] = {"seconds": round(seconds, 3), "per_s": round(done / seconds, 1) if seconds else 0.0,
                              "orders": done}

    from baodan.core import clock

    timed("review", lambda: review_once(db, runtime.pii, book, limit=2000), lambda r: r.passed + r.held)
    result.held = _count(db, "SELECT count(*) FROM fulfilment WHERE stage = 'held'")
    timed("route", lambda: route_once(db, book, limit=2000), lambda r: r.kept + r.moved)
    routed = _count(db, "SELECT count(*) FROM fulfilment WHERE stage = 'waybill'")
    started = time.perf_counter()
    result.merged = merge_once(db, runtime.pii, window=timedelta(minutes=30), limit=routed)  # one pass over all
    seconds = time.perf_counter() - started
    result.steps["merge"] = {"seconds": round(seconds, 3), "per_s": round(routed / seconds, 1) if seconds else 0.0,
                             "orders": routed}
    timed("courier", lambda: _choose(db, book, runtime.pii, 2000, clock.utcnow()), lambda n: n)
    with WaybillDesk(db, runtime.pii) as desk:
        timed("numbers", lambda: desk.refill_once(), lambda n: n)
    timed("take", lambda: _take(db, 2000, clock.utcnow()), lambda n: n)
    with db.read() as s:
        warehouses = [int(w) for (w,) in fetchall(s, "SELECT DISTINCT warehouse_id FROM fulfilment "
                                                     "WHERE stage = 'ready'")]
    made: list[dict[str, Any]] = []
    started = time.perf_counter()
    for warehouse_id in warehouses:
        made += waves.build_waves(db, warehouse_id=warehouse_id, actor="system:bench")
    seconds = time.perf_counter() - started
    waved = sum(w["orders"] for w in made)
    result.steps["waves"] = {"seconds": round(seconds, 3), "per_s": round(waved / seconds, 1) if seconds else 0.0,
                             "orders": waved}
    result.waves, result.single_sku_waves = len(made), sum(1 for w in made if w["kind"] == "single_sku")
    say(f"printing {waved:,} labels in {len(made)} waves …")
    started, pages, size = time.perf_counter(), 0, 0
    for wave in made:
        path = workdir / f"wave-{wave['id']}.pdf"
        with open(path, "wb") as out:
            pages += printing.print_labels(db, runtime.pii, wave["id"], out).pages
        size += path.stat().st_size
        path.unlink()
    seconds = time.perf_counter() - started
    result.labels, result.labels_per_s = pages, round(pages / seconds, 1) if seconds else 0.0
    result.label_pdf_mb = round(size / 2**20, 1)
    result.ready_ok = waved + result.merged == result.orders - result.held and pages == waved


def _count(db: Database, sql: str) -> int:
    with db.read() as s:
        return int(fetchall(s, sql)[0][0])
