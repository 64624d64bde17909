"""`baodan serve` is SIGKILLed (API, worker and channel sync at once) during a live session on the platform
simulator, and started again: the orders pushed while it was down, which the platforms gave up
delivering, are recovered by the incremental pull; every order is there once, in its newest state, and
`baodan check` is clean."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from baodan import migrate
from baodan.channels import carriers, credentials
from baodan.check import run_checks
from baodan.core.config import Settings
from baodan.core.db import Database, fetchall
from baodan.demo import SHOPS, seed_catalog
from baodan.identity.pii import PiiCipher
from baodan.sim import Simulator, load_config
from tests.scenarios.test_worker_killed_mid_batch import _baodan, _logs

pytestmark = pytest.mark.slow
PLATFORMS = tuple(channel for _, _, channel in SHOPS)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAODAN_")}
    env.update(BAODAN_DATA_DIR=str(data_dir), BAODAN_PULL_INTERVAL_S="1", BAODAN_PULL_LOOKBACK_HOURS="1",
               PYTHONUNBUFFERED="1")
    with log.open("ab") as out:
        proc = subprocess.Popen([*_baodan(), "serve", "--port", str(port)], cwd=data_dir, stdout=out,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, _logs(log)
        time.sleep(0.1)


def _kill(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the API process and its worker child
    except ProcessLookupError:
        return
    proc.wait(timeout=30)


def _orders(db: Database) -> list[tuple[str, str, str]]:
    with db.read() as s:
        return [tuple(r) for r in fetchall(s, "SELECT channel, platform_order_id, platform_status FROM sales_order")]


def test_orders_pushed_while_baodan_was_killed_are_recovered_by_the_pull(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    settings = Settings(data_dir=data_dir)
    db = Database(settings.resolved_database_url())
    migrate.upgrade(db)
    seed_catalog(db, sku_count=20, default_stock=60)
    port, log = _port(), tmp_path / "serve.log"
    config = load_config(port=0)
    config = replace(config, platforms={p: config.platforms[p] for p in PLATFORMS},
                     session=replace(config.session, rate=40.0, orders=160, hot_skus=2, follow_up_min_s=0.2,
                                     follow_up_max_s=1.0),
                     pushes=replace(config.pushes, push_to=f"http://127.0.0.1:{port}", retry_budget_s=1.0,
                                    first_retry_s=0.2))
    pii = PiiCipher.from_settings(settings)
    carriers.save(db, "kuaishou", {"ZTO": "4"}, actor="system:test")
    proc = None
    with Simulator(config) as sim:
        with db.read() as s:
            shops = dict(fetchall(s, "SELECT channel, id FROM shop"))
        for channel in PLATFORMS:
            creds = sim.credentials(channel)
            credentials.save(db, pii, shop_id=shops[channel], app_key=creds.app_key, app_secret=creds.app_secret,
                             platform_shop_id=creds.shop_id, base_url=sim.base_url(channel),
                             access_token=creds.access_token, extra=dict(creds.extra), actor="system:test")
        try:
            proc = _serve(data_dir, port, log)
            sim.start_session()
            time.sleep(1.5)  # some orders arrive…
            _kill(proc, signal.SIGKILL)  # …then BaoDan dies mid-session
            sim.wait_session(timeout_s=60)
            sim.wait_pushes(timeout_s=60)
            dropped = sum(sim.store.push_counts(p).dropped for p in PLATFORMS)
            assert dropped > 0, "some pushes should have failed for good while BaoDan was down"
            expected = {(p, oid): o["status"] for p in PLATFORMS for oid, o in sim.store.platforms[p].orders.items()}
            proc = _serve(data_dir, port, log)  # restarted: the pull catches up within its interval
            deadline = time.monotonic() + 90
            while True:
                got = _orders(db)
                if {(c, o): st for c, o, st in got} == expected:
                    break
                assert time.monotonic() < deadline, (
                    f"{len(set(expected) - {(c, o) for c, o, _ in got})} order(s) never recovered\n{_logs(log)}")
                time.sleep(0.5)
        finally:
            if proc is not None:
                _kill(proc, signal.SIGTERM)
    got = _orders(db)
    assert len(got) == len({(c, o) for c, o, _ in got}) == len(expected)  # once each
    assert run_checks(db) == []
    db.dispose()
