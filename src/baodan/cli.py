"""The `baodan` command line. Errors print one line `error: <code>: <message>` and exit non-zero."""

from __future__ import annotations

import logging
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from baodan.channels.cli import channels_app
from baodan.core.config import Settings, get_settings
from baodan.core.errors import BaoDanError
from baodan.waybills.cli import waybills_app

app = typer.Typer(help="BaoDan 爆单 ERP: orders, stock and fulfilment for live-stream e-commerce.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
stock_app = typer.Typer(help="Stock levels and adjustments.", no_args_is_help=True)
orders_app = typer.Typer(help="Orders.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks (print figures; --json for machines).", no_args_is_help=True)
app.add_typer(stock_app, name="stock")
app.add_typer(orders_app, name="orders")
app.add_typer(bench_app, name="bench")
audit_app = typer.Typer(help="The audit trail (append-only, hash-chained).", no_args_is_help=True)
pii_app = typer.Typer(help="Buyer personal data: encryption keys.", no_args_is_help=True)
users_app = typer.Typer(help="Users, sessions and API keys.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(pii_app, name="pii")
app.add_typer(users_app, name="users")
app.add_typer(channels_app, name="channels")
app.add_typer(waybills_app, name="waybills")
console = Console()


class CliError(BaoDanError):
    code = "cli.error"


def settings() -> Settings:
    return get_settings()


def _open_db(require_schema: bool = True) -> Any:
    from baodan import migrate
    from baodan.core.db import Database

    db = Database(settings().resolved_database_url())
    if require_schema:
        try:
            current = migrate.current(db)
        except Exception as exc:
            raise CliError(f"cannot open the database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}",
                           code="database.unavailable") from exc
        if current is None:
            raise CliError("the database has no schema yet: run `baodan init` first", code="database.not_initialised")
    return db


@app.command()
def init(demo: Annotated[bool, typer.Option("--demo", help="load demo shops, SKUs, stock and orders")] = False,
         orders: Annotated[int, typer.Option(help="demo orders to push through the pipeline", min=0)] = 3000) -> None:
    """Create or migrate the database (idempotent); --demo loads demo data into an empty one."""
    from baodan import migrate
    from baodan.catalog.services import count
    from baodan.catalog.tables import shop

    db = _open_db(require_schema=False)
    try:
        migrate.upgrade(db)
    except Exception as exc:
        raise CliError(f"migration failed: {str(exc).splitlines()[0]}", code="database.migration_failed") from exc
    where = settings().resolved_database_url() if not db.is_sqlite else str(db.sqlite_path)
    console.print(f"database ready: {where}")
    from baodan.identity import accounts

    first = accounts.bootstrap_admin(db)
    if first is not None:
        console.print(f"[bold]first administrator[/]: user [bold]{first[0]}[/], one-time password "
                      f"[bold]{first[1]}[/] (shown once; change it after logging in)", soft_wrap=True)
    if not demo:
        return
    with db.read() as s:
        if count(s, shop):
            console.print("demo data: the database already has shops; nothing loaded")
            return
    _load_demo(db, orders)


def _load_demo(db: Any, orders: int) -> None:
    from datetime import timedelta

    import orjson
    from pydantic import TypeAdapter

    from baodan.bench.generate import generate_burst, render
    from baodan.core import clock
    from baodan.demo import seed_catalog
    from baodan.identity.pii import PiiCipher
    from baodan.intake import services as intake
    from baodan.intake.inbox import open_inbox
    from baodan.orders.schemas import OrderBatch
    from baodan.worker import Worker

    start = clock.utcnow().replace(microsecond=0) - timedelta(minutes=40)
    cat = seed_catalog(db, session_start=start)
    burst = generate_burst(cat, orders, start=start + timedelta(minutes=5), seconds=1800, seed=11)
    inbox = open_inbox(db)
    pii = PiiCipher.from_settings(settings())
    try:
        shops = intake.ShopDirectory(db)
        adapter = TypeAdapter(OrderBatch)
        for i in range(0, len(burst.events), 1000):
            chunk = [render(cat, burst.orders[e.order], e) for e in burst.events[i:i + 1000]]
            batch = adapter.validate_json(orjson.dumps({"orders": chunk}))
            intake.accept_orders(inbox, shops, batch.orders, pii=pii)
        Worker(db, inbox).drain()
    finally:
        inbox.close()
    console.print(f"demo data: {len(cat.shop_ids)} shops, {len(cat.warehouse_ids)} warehouses, "
                  f"{len(cat.sku_codes)} SKUs + {len(cat.bundle_codes)} bundles, {orders} orders "
                  f"({len(burst.events)} platform events)")


@app.command()
def serve(role: Annotated[str, typer.Option(help="all (API + worker), api, or worker")] = "all",
          host: Annotated[str | None, typer.Option(help="listen address")] = None,
          port: Annotated[int | None, typer.Option(help="listen port")] = None) -> None:
    """Run BaoDan: HTTP API and worker in one process (default), or one role per process."""
    if role not in ("all", "api", "worker"):
        raise CliError(f"--role must be all, api or worker, not {role!r}", code="cli.invalid_option")
    _open_db().dispose()
    if role == "worker":
        worker()
        return
    import uvicorn

    from baodan.app import create_app
    from baodan.runtime import Runtime, tune_gc

    cfg = settings()
    host, port = host or cfg.host, port or cfg.port
    runtime = Runtime.open(cfg)
    application = create_app(runtime, with_worker=role == "all", own_runtime=True)
    tune_gc()
    console.print(f"BaoDan ({role}) on {runtime.db.dialect}: API docs at http://{host}:{port}/docs")
    if application.state.console_built:
        console.print(f"web console at http://{host}:{port}/")
    uvicorn.run(application, host=host, port=port, log_level=cfg.log_level.lower(), access_log=False)


@app.command()
def worker() -> None:
    """Run the worker alone: claim inbox batches, reserve stock, retry waiting orders. Ctrl-C stops."""
    import signal
    import threading

    from baodan.runtime import Runtime, tune_gc

    _open_db().dispose()
    runtime = Runtime.open(settings())
    tune_gc()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    console.print(f"worker running on {runtime.db.dialect}; Ctrl-C stops")
    runtime.start_channel_sync(stop)
    try:
        runtime.worker().run(stop)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        runtime.close()


@stock_app.command("show")
def stock_show(sku: Annotated[str | None, typer.Option(help="SKU code")] = None,
               warehouse: Annotated[str | None, typer.Option(help="warehouse code")] = None,
               limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50) -> None:
    """Stock levels per SKU × warehouse."""
    from baodan.inventory import queries

    db = _open_db()
    with db.read() as s:
        rows = queries.stock_levels(s, sku_code=sku, warehouse_code=warehouse, limit=limit)
    if not rows and (sku or warehouse):
        raise CliError(f"no stock level for sku={sku} warehouse={warehouse}", code="inventory.unknown_level")
    table = Table("SKU", "名称", "仓库", "在库 on hand", "占用 reserved", "可用 available")
    for r in rows:
        table.add_row(r["sku_code"], r["sku_name"], r["warehouse_code"], str(r["on_hand"]), str(r["reserved"]),
                      str(r["available"]))
    console.print(table)


@stock_app.command("adjust")
def stock_adjust(sku: Annotated[str, typer.Argument(help="SKU code")],
                 warehouse: Annotated[str, typer.Argument(help="warehouse code")],
                 delta: Annotated[int | None, typer.Option(help="add (negative: remove) this many")] = None,
                 set_to: Annotated[int | None, typer.Option("--set", help="set on hand to this count")] = None,
                 receipt: Annotated[bool, typer.Option(help="record as goods received (入库)")] = False,
                 reason: Annotated[str | None, typer.Option()] = None,
                 ref: Annotated[str | None,
                                typer.Option(help="idempotency key: a repeated ref changes nothing")] = None,
                 ) -> None:
    """Adjust on-hand stock (one ledger move); orders waiting for the SKU are then served in paid order."""
    from sqlalchemy import select

    from baodan import pipeline
    from baodan.catalog.tables import sku as sku_table
    from baodan.catalog.tables import warehouse as warehouse_table
    from baodan.inventory import services
    from baodan.inventory.model import MoveKind

    db = _open_db()
    with db.read() as s:
        sku_id = s.scalar(select(sku_table.c.id).where(sku_table.c.code == sku))
        warehouse_id = s.scalar(select(warehouse_table.c.id).where(warehouse_table.c.code == warehouse))
    if sku_id is None:
        raise CliError(f"no SKU {sku!r}", code="inventory.unknown_sku")
    if warehouse_id is None:
        raise CliError(f"no warehouse {warehouse!r}", code="inventory.unknown_warehouse")
    level = services.adjust_stock(db, sku_id=sku_id, warehouse_id=warehouse_id, delta=delta, set_to=set_to,
                                  kind=MoveKind.receipt if receipt else MoveKind.adjust, reason=reason,
                                  actor="cli", idempotency_key=ref)
    served = pipeline.retry_awaiting_stock(db)
    console.print(f"{sku} @ {warehouse}: on hand {level.on_hand}, reserved {level.reserved}, "
                  f"available {level.available}" + (f"; {served} waiting order(s) reserved" if served else ""))


@orders_app.command("show")
def orders_show(order: Annotated[str, typer.Argument(help="BaoDan order id or platform order id")],
                channel: Annotated[str | None, typer.Option(help="channel, if the platform id is ambiguous")] = None,
                as_json: Annotated[bool, typer.Option("--json")] = False,
                reveal: Annotated[bool, typer.Option("--reveal", help="show the buyer's name, phone and address "
                                                                    "in clear (recorded in the audit trail)")] = False,
                ) -> None:
    """One order with lines, reservations and history (the buyer masked unless --reveal)."""
    import orjson

    from baodan.core import clock
    from baodan.orders import queries

    db = _open_db()
    with db.read() as s:
        try:
            order_id = queries.find_order_id(s, channel=channel, platform_order_id=order)
        except queries.OrderNotFound:
            if not order.isdigit():
                raise
            order_id = int(order)
        detail = queries.order_detail(s, order_id)
    if reveal:
        detail["receiver"] = _reveal(db, order_id, detail.get("receiver"))
    if as_json:
        sys.stdout.write(orjson.dumps(detail, default=str, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    shown = lambda t: clock.to_shanghai(t).strftime("%Y-%m-%d %H:%M:%S") if t else "-"  # noqa: E731
    console.print(f"[bold]订单 {detail['id']}[/] {detail['channel']} {detail['platform_order_id']}  "
                  f"状态 {detail['state']} (平台 {detail['platform_status']})  "
                  f"付款 {shown(detail['paid_at'])}  实付 {detail['paid_total_fen'] / 100:.2f} 元")
    receiver = detail.get("receiver") or {}
    console.print("收件人: " + " ".join(str(receiver.get(k) or "") for k in (
        "name", "phone", "province", "city", "district", "town", "address") if receiver.get(k)) or "收件人: -")
    if detail["anomalies"]:
        console.print(f"异常: {', '.join(detail['anomalies'])}")
    if detail["short_sku_ids"]:
        console.print(f"缺货 SKU: {detail['short_sku_ids']}")
    lines = Table("#", "SKU", "标题", "数量", "金额(分)")
    for ln in detail["lines"]:
        lines.add_row(str(ln["line_no"]), ln["sku_code"] or ln["platform_sku_id"] or "-", ln["title"] or "",
                      str(ln["quantity"]), str(ln["amount_fen"]))
    console.print(lines)
    for r in detail["reservations"]:
        console.print(f"占用: line {r['order_line_id']} SKU {r['sku_id']} × {r['qty']} @ warehouse {r['warehouse_id']}")
    for e in detail["events"]:
        console.print(f"{shown(e['at'])}  {e['kind']}  {orjson.dumps(e['detail']).decode()}")


@app.command()
def check() -> None:
    """Prove stock levels equal their ledger and every hold belongs to a live order; exit 1 if not."""
    from baodan.check import run_checks

    problems = run_checks(_open_db())
    for p in problems:
        console.print(f"{p.code}: {p.message}")
    if problems:
        raise CliError(f"{len(problems)} problem(s) found", code="check.failed")
    console.print("check: ok — stock levels equal their ledger; every reservation belongs to a live order line")


@app.command()
def backup(destination: Annotated[str | None, typer.Argument(
        help="archive file to write (default: <data dir>/backups/baodan-YYYYMMDD-HHMMSS.zip, UTC)")] = None) -> None:
    """Write a consistent backup archive of the database; safe while BaoDan runs."""
    from pathlib import Path

    from baodan import backup as backups

    db = _open_db()
    target = Path(destination) if destination else settings().data_dir / "backups" / backups.default_name()
    try:
        written = backups.backup(db, target)
    except backups.BackupError as exc:
        raise CliError(exc.message, code=exc.code) from exc
    finally:
        db.dispose()
    console.print(f"backup written: {written.path} ({backups.human_size(written.size)}, {db.dialect}, "
                  f"schema revision {written.manifest['revision']})", soft_wrap=True)
    keys = settings().data_dir / "keys.json"
    if keys.exists():
        console.print(f"note: the PII keys ({keys}) are not in the archive; keep a copy of them apart from it",
                      soft_wrap=True)


@app.command()
def restore(archive: Annotated[str, typer.Argument(help="archive written by `baodan backup`")],
            force: Annotated[bool, typer.Option("--force", help="replace a database that already holds data")]
            = False) -> None:
    """Restore a backup archive into the configured database (stop BaoDan first), then migrate it to head."""
    from pathlib import Path

    from baodan import backup as backups

    db = _open_db(require_schema=False)
    try:
        done = backups.restore(db, Path(archive), force=force)
    except backups.BackupError as exc:
        raise CliError(exc.message, code=exc.code) from exc
    finally:
        db.dispose()
    m = done.manifest
    console.print(f"restored {archive} ({m['dialect']} backup of {m['created_at']}, schema revision "
                  f"{m['revision']}, {len(m['members'])} file(s)) into {done.target}", soft_wrap=True)
    if done.migrated_from:
        console.print(f"migrated the schema from revision {done.migrated_from} to {done.revision}")


@bench_app.command("surge")
def bench_surge(orders: Annotated[int, typer.Option(min=1, help="orders in the burst")] = 300_000,
                db: Annotated[str, typer.Option(help="sqlite or postgresql")] = "sqlite",
                database_url: Annotated[str | None, typer.Option(help="PostgreSQL URL (default: "
                                                                  "BAODAN_TEST_PG_URL or local test db)")] = None,
                http: Annotated[bool, typer.Option("--http", help=(
                    "end to end over HTTP: a live session on the platform simulator pushes signed webhooks to a "
                    "server, which reads the orders back from the platform (--via api: post canonical batches "
                    "to /api/v1/orders/batch instead)"))] = False,
                via: Annotated[str, typer.Option(help="with --http: platforms (the simulator) or api")] = "platforms",
                platforms: Annotated[str, typer.Option(help="with --http: the simulated platforms, comma-separated "
                                                       "(demo shops: douyin, kuaishou, taobao)")] = "douyin",
                platform_rate: Annotated[float, typer.Option(min=1, max=10_000, help=(
                    "with --http: the platform calls per second each shop may make (its granted quota)"))] = 200.0,
                url: Annotated[str | None, typer.Option(help="with --http --via api: a server already running "
                                                         "(else one is started)")] = None,
                clients: Annotated[int, typer.Option(min=1, max=64, help="concurrent senders")] = 4,
                chunk: Annotated[int, typer.Option(min=1, max=5000, help="orders per request")] = 500,
                workers: Annotated[int, typer.Option(
                    min=1, max=8, help="worker processes (PostgreSQL; SQLite has one writer)")] = 1,
                seed: Annotated[int, typer.Option()] = 42,
                as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False) -> None:
    """Push a live-session burst through intake and worker; print throughput, latency and invariants."""
    from baodan.bench import platforms as platform_surge
    from baodan.bench import surge
    from baodan.channels.registry import ADAPTERS

    if db not in ("sqlite", "postgresql"):
        raise CliError(f"--db must be sqlite or postgresql, not {db!r}", code="cli.invalid_option")
    if via not in ("platforms", "api"):
        raise CliError(f"--via must be platforms or api, not {via!r}", code="cli.invalid_option")
    if http and via == "platforms":
        chosen = tuple(p.strip() for p in platforms.split(",") if p.strip())
        unknown = [p for p in chosen if p not in ("douyin", "kuaishou", "taobao")]
        if not chosen or unknown:
            raise CliError(f"--platforms: the demo shops are on douyin, kuaishou and taobao, not {unknown or '∅'}",
                           code="cli.invalid_option")
        if not all(ADAPTERS[p].has_push for p in chosen):
            raise CliError("--platforms: each must push orders", code="cli.invalid_option")
        found = platform_surge.run(orders=orders, db_kind=db, database_url=database_url, platforms=chosen,
                                   calls_per_second=platform_rate, seed=seed, progress=not as_json)
        platform_surge.report(found, as_json=as_json, console=console)
        if not found.ok:
            raise CliError("invariants violated (see above)", code="bench.invariants")
        return
    result = surge.run(orders=orders, db_kind=db, database_url=database_url, http=http, url=url, clients=clients,
                       chunk=chunk, workers=workers, seed=seed, progress=not as_json)
    surge.report(result, as_json=as_json, console=console)
    if not result.ok:
        raise CliError("invariants violated (see above)", code="bench.invariants")


@bench_app.command("labels")
def bench_labels(count: Annotated[int, typer.Option(min=1, help="labels in the print job")] = 10_000,
                 size: Annotated[str, typer.Option(help="label size: 100x150 or 76x130")] = "100x150",
                 chunk: Annotated[int, typer.Option(min=1, max=5000, help="labels per typst run")] = 500,
                 output: Annotated[str | None, typer.Option(help="keep the PDF at this path")] = None,
                 as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False) -> None:
    """Render generated shipping labels into one PDF; print labels/s, peak RSS and the PDF's size."""
    from baodan.documents import bench as label_bench
    from baodan.documents.model import LABEL_SIZES, PageSize

    if size not in LABEL_SIZES:
        raise CliError(f"--size must be 100x150 or 76x130, not {size!r}", code="cli.invalid_option")
    result = label_bench.run(count=count, size=PageSize(size), chunk_pages=chunk, output=output)
    label_bench.report(result, as_json=as_json, console=console)


@bench_app.command("fulfil")
def bench_fulfil(orders: Annotated[int, typer.Option(min=1, max=1_000_000, help="reserved orders")] = 50_000,
                 db: Annotated[str, typer.Option(help="sqlite or postgresql")] = "sqlite",
                 database_url: Annotated[str | None, typer.Option(help="PostgreSQL URL (default: "
                                                                   "BAODAN_TEST_PG_URL or local test db)")] = None,
                 carrier_rate: Annotated[float, typer.Option(min=1, max=10_000, help=(
                     "calls/s the e-waybill account may make (10 parcels a call)"))] = 200.0,
                 seed: Annotated[int, typer.Option()] = 42,
                 as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False) -> None:
    """Reserved orders (80% on 2 SKUs) through review, routing, courier, waybill numbers (the simulator's
    菜鸟), waves and labels; print orders/s per step and labels/s."""
    from baodan.bench import fulfil

    if db not in ("sqlite", "postgresql"):
        raise CliError(f"--db must be sqlite or postgresql, not {db!r}", code="cli.invalid_option")
    result = fulfil.run(orders=orders, db_kind=db, database_url=database_url, carrier_rate=carrier_rate, seed=seed,
                        progress=not as_json)
    fulfil.report(result, as_json=as_json, console=console)
    if not result.ok:
        raise CliError("orders were left behind (see above)", code="bench.invariants")


@bench_app.command("orders-list")
def bench_orders_list(orders: Annotated[int, typer.Option(min=1000, max=5_000_000, help="orders in the database")]
                      = 300_000,
                      db: Annotated[str, typer.Option(help="sqlite or postgresql")] = "sqlite",
                      database_url: Annotated[str | None, typer.Option(help="PostgreSQL URL (default: "
                                                                        "BAODAN_TEST_PG_URL or local test db)")] = None,
                      runs: Annotated[int, typer.Option(min=1, max=20, help="timings repeated on the same data; "
                                                        "the verdict reads their medians")] = 1,
                      samples: Annotated[int, typer.Option(min=1, max=1000, help="requests per query and run")] = 15,
                      limit: Annotated[int, typer.Option(min=1, max=500, help="rows per page")] = 100,
                      seed: Annotated[int, typer.Option()] = 42,
                      as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False) -> None:
    """Fill a database with a month of orders (300,000 by default), then time the order list's first page
    over HTTP (no filter, each filter, a deep cursor page, a one-shop user) and the dashboard; p50/p95 per
    query against 300 ms."""
    from baodan.bench import orders_list

    if db not in ("sqlite", "postgresql"):
        raise CliError(f"--db must be sqlite or postgresql, not {db!r}", code="cli.invalid_option")
    result = orders_list.run(orders=orders, db_kind=db, database_url=database_url, runs=runs, samples=samples,
                             limit=limit, seed=seed, progress=not as_json)
    orders_list.report(result, as_json=as_json, console=console)
    if not result.ok:
        raise CliError("a query missed its target or the data is inconsistent (see above)", code="bench.slow")


@app.command("sim")
def sim(port: Annotated[int, typer.Option(help="listen port")] = 8700,
        host: Annotated[str, typer.Option(help="listen address")] = "127.0.0.1",
        config: Annotated[str | None, typer.Option(help="TOML file: credentials, shops, SKUs, session, pushes")] = None,
        push_to: Annotated[str | None, typer.Option(help="BaoDan's base URL: push to <URL>/webhooks/<platform> "
                                                         "(default: no pushes, pull only)")] = None,
        platform: Annotated[str | None, typer.Option(help="serve only this platform, at the root of the port")] = None,
        rate: Annotated[float | None, typer.Option(min=0.001, help="session orders per second [50]")] = None,
        orders: Annotated[int | None, typer.Option(min=0, help="session orders; 0: no session [1000]")] = None,
        hot_skus: Annotated[int | None, typer.Option(min=0, help="hot SKUs taking most orders [3]")] = None,
        seed: Annotated[int | None, typer.Option(help="the session's random seed [1]")] = None) -> None:
    """Play each platform's open API locally (signed calls, order list/detail, write-backs, stock) and run a
    live session that pushes signed webhooks to BaoDan; Ctrl-C stops. Inspect at /_sim/status."""
    from dataclasses import replace

    from baodan.sim import runner
    from baodan.sim.config import load_config

    cfg = load_config(config, port=port, host=host, push_to=push_to, platform=platform, rate=rate, orders=orders,
                      hot_skus=hot_skus, seed=seed)
    cfg = replace(cfg, session=replace(cfg.session, autostart=True))
    runner.serve(cfg, echo=lambda line: console.print(line, soft_wrap=True, markup=False, highlight=False))


# ----------------------------------------------------------------------------------- identity commands


def _reveal(db: Any, order_id: int, masked: dict[str, Any] | None) -> dict[str, Any] | None:
    """The receiver in clear, with an audit record written first (no record, no reveal)."""
    from baodan.identity.pii import PiiCipher
    from baodan.orders.services import reveal_receiver

    clear = reveal_receiver(db, PiiCipher.from_settings(settings()), order_id, actor=CLI_ACTOR)
    return masked if clear is None else {**(masked or {}), **clear}

CLI_ACTOR = "system:cli"


@users_app.command("create")
def users_create(username: Annotated[str, typer.Argument()],
                 role: Annotated[str, typer.Option(help="owner, operator, warehouse, service, purchasing, finance, "
                                                         "auditor, or a custom role")],
                 shop: Annotated[list[str] | None, typer.Option(help="limit to this shop code (repeat)")] = None,
                 warehouse: Annotated[list[str] | None, typer.Option(help="limit to this warehouse (repeat)")] = None,
                 ) -> None:
    """Create a user with a one-time password (shown once)."""
    from baodan.identity import accounts

    db = _open_db()
    shop_ids, warehouse_ids = _scope_ids(db, shop or [], warehouse or [])
    _, password = accounts.create_user(db, username=username, role=role, shop_ids=shop_ids,
                                       warehouse_ids=warehouse_ids, actor=CLI_ACTOR)
    console.print(f"user {username} ({role}) created; one-time password: [bold]{password}[/]", soft_wrap=True)


@users_app.command("reset-password")
def users_reset_password(username: Annotated[str, typer.Argument()]) -> None:
    """Give a user a new one-time password, lift a lockout and end their sessions."""
    from baodan.identity import accounts

    password = accounts.reset_password(_open_db(), username=username, actor=CLI_ACTOR)
    console.print(f"new one-time password for {username}: [bold]{password}[/]", soft_wrap=True)


@users_app.command("totp")
def users_totp(username: Annotated[str, typer.Argument()]) -> None:
    """Turn on two-factor login for a user (a new secret; the old one stops working). Prints the
    otpauth:// URI once: show it to the user as a QR code or let them type the secret."""
    from baodan.identity import accounts
    from baodan.identity.pii import PiiCipher

    uri = accounts.enrol_totp(_open_db(), username=username, pii=PiiCipher.from_settings(settings()),
                              actor=CLI_ACTOR, confirmed=True)
    console.print(f"two-factor login is on for {username}; add to an authenticator app (shown once):\n{uri}",
                  soft_wrap=True)


@users_app.command("revoke-sessions")
def users_revoke_sessions(username: Annotated[str, typer.Argument()]) -> None:
    """Log a user out everywhere."""
    from baodan.identity import accounts

    count = accounts.revoke_sessions(_open_db(), username=username, actor=CLI_ACTOR)
    console.print(f"{count} session(s) of {username} ended")


@users_app.command("create-key")
def users_create_key(name: Annotated[str, typer.Argument(help="what the key is for")],
                     permission: Annotated[list[str], typer.Option(help="e.g. orders.write (repeat)")],
                     shop: Annotated[list[str] | None, typer.Option(help="limit to this shop code (repeat)")] = None,
                     rate: Annotated[int, typer.Option(min=1, help="requests per minute")] = 600) -> None:
    """Create an API key for an integrator (shown once; stored hashed)."""
    from baodan.identity import accounts

    db = _open_db()
    shop_ids, _ = _scope_ids(db, shop or [], [])
    key = accounts.create_api_key(db, name=name, permissions=permission, shop_ids=shop_ids, rate_per_minute=rate,
                                  actor=CLI_ACTOR)
    console.print(f"API key (shown once; send as 'Authorization: Bearer …'): [bold]{key}[/]", soft_wrap=True)


@users_app.command("revoke-key")
def users_revoke_key(prefix: Annotated[str, typer.Argument(help="the part after bd_ and before the next _")]) -> None:
    from baodan.identity import accounts

    accounts.revoke_api_key(_open_db(), prefix=prefix, actor=CLI_ACTOR)
    console.print(f"API key {prefix} revoked")


def _scope_ids(db: Any, shops: list[str], warehouses: list[str]) -> tuple[list[int], list[int]]:
    from sqlalchemy import select

    from baodan.catalog.tables import shop as shop_table
    from baodan.catalog.tables import warehouse as warehouse_table

    with db.read() as s:
        shop_ids = dict(s.execute(select(shop_table.c.code, shop_table.c.id).where(shop_table.c.code.in_(shops))).all())
        wh_ids = dict(s.execute(select(warehouse_table.c.code, warehouse_table.c.id)
                                .where(warehouse_table.c.code.in_(warehouses))).all())
    missing = sorted(set(shops) - shop_ids.keys()) + sorted(set(warehouses) - wh_ids.keys())
    if missing:
        raise CliError(f"unknown shop or warehouse code(s): {', '.join(missing)}", code="users.unknown_scope")
    return list(shop_ids.values()), list(wh_ids.values())


@audit_app.command("verify")
def audit_verify(head_id: Annotated[int | None, typer.Option(help="a head noted earlier: its id")] = None,
                 head_hash: Annotated[str | None, typer.Option(help="… and its hash")] = None) -> None:
    """Prove no audit record was edited or removed (hash chain); note the head printed to detect truncation."""
    from baodan.identity import audit

    db = _open_db()
    problems = audit.verify(db, expect_head=(head_id, head_hash) if head_id and head_hash else None)
    for p in problems:
        console.print(f"{p.code}: {p.message}", soft_wrap=True)
    if problems:
        raise CliError(f"{len(problems)} problem(s) in the audit trail", code="audit.failed")
    head = audit.head(db)
    console.print(f"audit: ok — {head[0] if head else 0} record(s) chained; head "
                  f"--head-id {head[0] if head else 0} --head-hash {head[1] if head else '-'}", soft_wrap=True)


@pii_app.command("status")
def pii_status() -> None:
    """Which key sealed how many orders."""
    from baodan.identity.pii import PiiCipher, sealed_by_key

    cipher = PiiCipher.from_settings(settings())
    counts = sealed_by_key(_open_db())
    console.print(f"current key {cipher.current}; configured {', '.join(cipher.key_ids)}; orders sealed per key: "
                  f"{counts or 'none'}", soft_wrap=True)


@pii_app.command("new-key")
def pii_new_key() -> None:
    """Add a key to the embedded key file and seal new data with it (then run `baodan pii rotate`)."""
    from baodan.identity import audit
    from baodan.identity.pii import add_key_to_file

    cfg = settings()
    if cfg.pii_keys:
        raise CliError("keys come from BAODAN_PII_KEYS: add the new key there and set BAODAN_PII_CURRENT_KEY",
                       code="pii.keys_from_env")
    key_id = add_key_to_file(cfg.data_dir / "keys.json")
    db = _open_db()
    with db.write() as s:
        audit.record(s, actor=CLI_ACTOR, action="pii.new_key", target=f"key:{key_id}")
    console.print(f"new key {key_id} is current; run `baodan pii rotate` to re-seal older orders")


@pii_app.command("rotate")
def pii_rotate(batch: Annotated[int, typer.Option(min=1, max=100_000)] = 1000) -> None:
    """Re-seal orders, TOTP secrets and shop credentials sealed with an older key, in batches, while
    BaoDan runs."""
    from baodan.identity import audit
    from baodan.identity.pii import PiiCipher, rotate_orders, rotate_secrets

    cipher = PiiCipher.from_settings(settings())
    db = _open_db()
    secrets_done = rotate_secrets(db, cipher)
    done = rotate_orders(db, cipher, batch_size=batch, progress=lambda n: console.print(f"  {n} re-sealed"))
    with db.write() as s:
        audit.record(s, actor=CLI_ACTOR, action="pii.rotate", target=f"key:{cipher.current}",
                     detail={"orders": done, "secrets": secrets_done})
    console.print(f"{done} order(s) and {secrets_done} secret(s) re-sealed with key {cipher.current}")


# ------------------------------------------------------------------------------------ spreadsheet import

import_app = typer.Typer(help="Import orders from spreadsheets (platform exports, CSV or xlsx).", no_args_is_help=True)
app.add_typer(import_app, name="import")


@import_app.command("orders")
def import_orders(file: Annotated[str, typer.Argument(help="the .csv or .xlsx file (e.g. a platform's order export)")],
                  shop: Annotated[str, typer.Option(help="the BaoDan shop the orders belong to")],
                  template: Annotated[str | None, typer.Option(
                      help="column template (baodan, pdd, douyin); default: detected from the header row")] = None,
                  preview: Annotated[int | None, typer.Option(min=1, max=10_000, help="show the first N mapped rows; "
                                                                                      "write nothing")] = None,
                  dry_run: Annotated[bool, typer.Option("--dry-run", help="read and check the whole file; write "
                                                                          "nothing")] = False,
                  errors: Annotated[str | None, typer.Option(help="write the per-row error report to this CSV")]
                  = None) -> None:
    """Import a spreadsheet of orders into the inbox (idempotent: importing a file again adds nothing);
    rows that cannot be taken are listed (row, column, reason), the others go in."""
    from pathlib import Path

    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    from baodan.identity.pii import PiiCipher
    from baodan.intake import importer
    from baodan.intake import services as intake
    from baodan.intake.inbox import open_inbox

    path = Path(file)
    if not path.is_file():
        raise CliError(f"cannot open {file}: no such file", code="import.unreadable")
    db = _open_db()
    writes = preview is None and not dry_run
    inbox = open_inbox(db) if writes else None
    bar = Progress(TextColumn("importing"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
                   console=Console(stderr=True), disable=not sys.stderr.isatty(), transient=True)
    task = bar.add_task("import", total=None)
    pii = PiiCipher.from_settings(settings())  # its own errors name the key file, not the spreadsheet
    try:
        with path.open("rb") as stream, bar:
            result = importer.import_orders(
                stream, filename=path.name, shop=shop, inbox=inbox, shops=intake.ShopDirectory(db),
                pii=pii, template=template, preview=preview, dry_run=dry_run,
                progress=lambda done, total: bar.update(task, completed=done, total=total))
    except OSError as exc:
        raise CliError(f"cannot read {file}: {exc.strerror or exc}", code="import.unreadable") from exc
    finally:
        if inbox is not None:
            inbox.close()
        db.dispose()
    if preview is not None:
        _print_import_preview(importer.preview_rows(result.preview))
    _print_import_report(result, errors, previewed=preview is not None)


def _print_import_preview(rows: list[dict[str, Any]]) -> None:
    from baodan.core.money import fen_to_yuan

    table = Table("行 row", "订单号", "状态", "付款时间", "SKU", "商品", "数量", "单价(元)", "金额(元)", "实付(元)",
                  "收件人")
    for r in rows:
        table.add_row(str(r["row"]), r["platform_order_id"], r["status"], (r["paid_at"] or "-")[:19],
                      r["sku_code"] or r["platform_sku_id"] or "-", r["title"] or "", str(r["quantity"]),
                      fen_to_yuan(r["unit_price_fen"]), fen_to_yuan(r["amount_fen"]),
                      fen_to_yuan(r["paid_total_fen"]), r["receiver"] or "-")
    console.print(table)


def _print_import_report(result: Any, errors_path: str | None, *, previewed: bool) -> None:
    from pathlib import Path

    from baodan.intake import importer

    shown = 50
    if result.rejected:
        table = Table("行 row", "列 column", "原因 reason", title=f"rows not taken ({len(result.rejected)})")
        for e in result.rejected[:shown]:
            table.add_row(str(e.row), e.column, e.reason)
        console.print(table)
        if len(result.rejected) > shown:
            console.print(f"… and {len(result.rejected) - shown} more" + ("" if errors_path else
                                                                         " (--errors FILE writes them all)"))
    if errors_path:
        importer.write_error_report(result.rejected, Path(errors_path))
        console.print(f"error report: {errors_path} ({len(result.rejected)} row(s))", soft_wrap=True)
    what = "preview" if previewed else "dry run, nothing written" if result.dry_run else "into the inbox"
    console.print(f"{result.filename}: template {result.template} ({result.kind}); {result.rows} data row(s), "
                  f"{result.orders} order(s) valid, {result.accepted} accepted, {result.duplicates} duplicate(s), "
                  f"{len({e.row for e in result.rejected})} row(s) not taken ({what})", soft_wrap=True)
    if result.orders == 0:
        reason = (f"{len(result.rejected)} row(s) rejected" if result.rejected
                  else "it has a header row but no data rows")
        raise CliError(f"no row of {result.filename} could be taken: {reason}", code="import.nothing_taken")


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        app()
    except BaoDanError as exc:
        sys.stderr.write(f"error: {exc.code}: {exc.message}\n")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
