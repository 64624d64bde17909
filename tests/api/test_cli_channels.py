"""`baodan channels …` from the command line: connect a shop, see its state, pull now, connect the demo
to the simulator; bad input gets one line and a non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path

from baodan.sim import Simulator, load_config
from tests.api.test_cli import failed_with, ok, run


def test_connect_status_and_pull_against_the_simulator(demo_copy: Path) -> None:
    assert json.loads(ok(demo_copy, "channels", "status", "--json")) == []
    with Simulator(load_config(port=0)) as sim:
        sim.add_orders("douyin", 5, seed=3)
        out = ok(demo_copy, "channels", "connect-sim", sim.url)
        assert "DY-FLAGSHIP (douyin)" in out and "TB-STORE (taobao)" in out
        assert "5 order(s) read" in ok(demo_copy, "channels", "pull", "DY-FLAGSHIP")
    status = {r["shop"]: r for r in json.loads(ok(demo_copy, "channels", "status", "--json"))}
    assert status["DY-FLAGSHIP"]["synced_to"] and status["DY-FLAGSHIP"]["calls_last_hour"] >= 1
    assert status["DY-FLAGSHIP"]["failed_calls_last_hour"] == 0 and status["KS-STORE"]["synced_to"] is None
    assert "pulled up to" in ok(demo_copy, "channels", "status")


def test_bad_input_is_one_line_and_nothing_is_written(demo_copy: Path) -> None:
    failed_with(run(demo_copy, "channels", "connect", "NOPE", "--app-key", "k", "--app-secret", "s"),
                "catalog.not_found")
    failed_with(run(demo_copy, "channels", "connect", "DY-FLAGSHIP", "--app-key", "k", "--app-secret", "s",
                    "--base-url", "ftp://x"), "cli.invalid_option")
    failed_with(run(demo_copy, "channels", "connect", "DY-FLAGSHIP", "--app-key", "k", "--app-secret", "s",
                    "--extra", "novalue"), "cli.invalid_option")
    failed_with(run(demo_copy, "channels", "pull", "DY-FLAGSHIP"), "channels.not_connected")
    failed_with(run(demo_copy, "channels", "connect-sim", "localhost:8700"), "cli.invalid_option")
    assert json.loads(ok(demo_copy, "channels", "status", "--json")) == []
    ok(demo_copy, "channels", "connect", "DY-FLAGSHIP", "--app-key", "k", "--app-secret", "s", "--base-url",
       "http://127.0.0.1:9/nowhere")
    failed_with(run(demo_copy, "channels", "pull", "DY-FLAGSHIP"), "channel.misconfigured")  # no access token
    ok(demo_copy, "channels", "connect", "DY-FLAGSHIP", "--app-key", "k", "--app-secret", "s", "--access-token", "t",
       "--base-url", "http://127.0.0.1:9/nowhere")
    failed_with(run(demo_copy, "channels", "pull", "DY-FLAGSHIP"), "channel.unreachable")


def test_the_sync_state_over_http_keeps_to_the_callers_shops(runtime, db, client) -> None:
    from baodan.channels import credentials
    from baodan.identity import accounts
    from tests.api.test_security import PASSWORD, _login, _two_shops

    ids = _two_shops(runtime, db)
    for shop in ("SHOP-A", "SHOP-B"):
        credentials.save(db, runtime.pii, shop_id=ids[shop], app_key=f"k-{shop}", app_secret="s",
                         actor="system:test")
    assert {r["shop"] for r in client.get("/api/v1/channels/status").json()} == {"SHOP-A", "SHOP-B"}
    accounts.create_user(db, username="a-ops", role="operator", password=PASSWORD, shop_ids=[ids["SHOP-A"]])
    rows = _login(runtime, "a-ops").get("/api/v1/channels/status").json()
    assert [r["shop"] for r in rows] == ["SHOP-A"] and rows[0]["fetch_queued"] == 0
