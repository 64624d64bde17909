"""The simulator's settings (defaults that match `baodan init --demo`, a TOML file, the command line), its
inspection endpoints, and `baodan sim` started and stopped as a process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from baodan.catalog.tables import shop, sku_mapping
from baodan.cli import app
from baodan.core.db import Database
from baodan.demo import seed_catalog
from baodan.migrate import upgrade
from baodan.sim import Simulator, load_config
from baodan.sim.config import SimConfigError


def test_the_defaults_are_the_demo_shops_platform_shop_ids_and_sku_mappings(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    upgrade(db)
    seed_catalog(db, sku_count=200)
    with db.read() as s:
        shops = {code: (channel, platform_id) for code, channel, platform_id in s.execute(
            select(shop.c.code, shop.c.channel, shop.c.platform_shop_id)).all()}
        mapped = s.execute(select(shop.c.code, sku_mapping.c.platform_sku_id).join(
            shop, shop.c.id == sku_mapping.c.shop_id)).all()
    db.dispose()
    config = load_config()
    for code, (channel, platform_shop_id) in shops.items():
        platform = config.platforms[channel]
        assert (platform.shop, platform.credentials.shop_id) == (code, platform_shop_id)
        assert {s.platform_sku_id for s in platform.skus} == {sku for c, sku in mapped if c == code}
    assert config.session_platforms() == tuple(channel for channel, _ in shops.values())


def test_a_toml_file_overrides_credentials_skus_and_session_and_the_options_override_it(tmp_path: Path) -> None:
    path = tmp_path / "sim.toml"
    path.write_text('''
[sim]
push_to = "http://127.0.0.1:9999"

[session]
rate = 10
orders = 5
hot_skus = 1
platforms = ["pdd"]

[pushes]
retry_budget_s = 3

[platforms.pdd]
shop = "PDD-MAIN"
app_key = "key-1"
app_secret = "secret-1"
shop_id = "123456"
push_url = "http://127.0.0.1:9998/hooks/pdd"
skus = ["1001", {id = "1002", sku_code = "P001-0001", title = "面膜", price_fen = 4990, product_id = "88"}]

[platforms.jd]
enabled = false
''', encoding="utf-8")

    config = load_config(path, orders=7, seed=3)

    pdd = config.platforms["pdd"]
    assert (pdd.shop, pdd.credentials.app_key, pdd.credentials.app_secret, pdd.credentials.shop_id) == \
           ("PDD-MAIN", "key-1", "secret-1", "123456")
    assert [s.platform_sku_id for s in pdd.skus] == ["1001", "1002"] and pdd.skus[1].price_fen == 4990
    assert "jd" not in config.platforms
    assert (config.session.rate, config.session.orders, config.session.seed, config.session.hot_skus) == (10, 7, 3, 1)
    assert config.session_platforms() == ("pdd",)
    assert config.push_url("pdd") == "http://127.0.0.1:9998/hooks/pdd"
    assert config.push_url("douyin") == "http://127.0.0.1:9999/webhooks/douyin"
    assert config.pushes.retry_budget_s == 3


def test_a_bad_config_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "sim.toml"
    path.write_text("[session]\nspeed = 3\n", encoding="utf-8")
    with pytest.raises(SimConfigError, match="unknown \\[session\\] keys: speed"):
        load_config(path)
    with pytest.raises(SimConfigError, match="--platform"):
        load_config(platform="amazon")
    path.write_text("[pushes]\nbatch = 0\n", encoding="utf-8")
    with pytest.raises(SimConfigError, match="batch and concurrency must be at least 1"):
        load_config(path)


def test_one_platform_is_served_at_the_root_with_platform() -> None:
    config = load_config(port=0, platform="douyin")
    assert list(config.platforms) == ["douyin"] and config.prefix("douyin") == ""
    with Simulator(config) as sim:
        assert sim.base_url("douyin") == sim.url
        answer = httpx.post(sim.url + "/order/searchList", params={"app_key": "nobody"}, content=b"{}")
        assert answer.status_code == 200 and answer.json()["code"] != 10000


def test_the_inspection_endpoints(simulator: Simulator) -> None:
    channel = next(iter(simulator.config.platforms))
    simulator.add_orders(channel, 2)
    status = httpx.get(simulator.url + "/_sim/status").json()
    assert status["platforms"][channel]["orders"] == 2 and status["pushes_paused"] is False
    orders = httpx.get(simulator.url + "/_sim/orders", params={"platform": channel}).json()
    assert orders["total"] == 2 and orders["orders"][0]["channel"] == channel
    assert httpx.get(simulator.url + "/_sim/writebacks", params={"platform": channel}).json()["writebacks"] == []
    assert httpx.get(simulator.url + "/_sim/stock", params={"platform": channel}).json()["levels"] == {}
    assert httpx.get(simulator.url + "/_sim/orders", params={"platform": "amazon"}).status_code == 404

    started = httpx.post(simulator.url + "/_sim/session", json={
        "orders": 3, "rate": 10, "seed": 4, "platforms": [channel], "follow_up_min_s": 0.01, "follow_up_max_s": 0.05})
    assert started.status_code == 202 and started.json()["orders"] == 3
    assert httpx.post(simulator.url + "/_sim/session", json={"orders": 3}).status_code == 409
    simulator.wait_session(5)
    assert httpx.post(simulator.url + "/_sim/session", json={"speed": 3}).status_code == 422
    assert len(simulator.store.orders(channel)) == 5
    assert httpx.post(simulator.url + "/_sim/pushes/pause").json() == {"pushes_paused": True}
    assert httpx.post(simulator.url + "/_sim/pushes/resume").json() == {"pushes_paused": False}


def test_sim_help_names_the_options() -> None:
    result = CliRunner().invoke(app, ["sim", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--config", "--push-to", "--platform", "--rate", "--orders", "--hot-skus", "--seed"):
        assert option in result.output


def test_baodan_sim_prints_the_credentials_serves_and_stops_on_ctrl_c() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "baodan.cli", "sim", "--port", str(port), "--orders", "5",
                                "--rate", "100"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "COLUMNS": "300"})
    try:
        lines = []
        while not any(line.startswith("simulator on") for line in lines):
            line = process.stdout.readline()  # type: ignore[union-attr]
            assert line, process.stderr.read()  # type: ignore[union-attr]
            lines.append(line)
        assert [line.split()[0] for line in lines[:6]] == ["douyin", "kuaishou", "wechat", "taobao", "pdd", "jd"]
        assert all(" app_key=" in line and " app_secret=" in line and " shop_id=" in line for line in lines[:6])
        services = {line.split()[0]: line for line in lines[6:10]}  # then each e-waybill service's account
        assert list(services) == ["cainiao", "kdniao", "pdd-waybill", "douyin-waybill"]
        assert " adapter=douyin " in services["douyin-waybill"] and " access_token=" in services["douyin-waybill"]
        assert services["douyin-waybill"].rstrip().endswith(f"base_url=http://127.0.0.1:{port}/douyin-waybill")
        for _ in range(100):
            status = httpx.get(f"http://127.0.0.1:{port}/_sim/status").json()
            if status["session"] and not status["session"]["running"]:
                break
            time.sleep(0.05)
        assert sum(p["orders"] for p in status["platforms"].values()) == 5
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(10) in (0, 130)
