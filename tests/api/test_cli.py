"""The real `baodan` command line, run as a subprocess on SQLite: init, demo data, check, stock and orders;
errors print exactly one line `error: <code>: <message>` on stderr and exit non-zero."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BAODAN = Path(sys.executable).with_name("baodan")  # the console script of the venv running the tests
SKU = "P001-0001"


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`baodan <args>` with its data (the SQLite files) in `data_dir`, from a directory without a .env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAODAN_")}
    env.update(BAODAN_DATA_DIR=str(data_dir), COLUMNS="250", NO_COLOR="1")
    return subprocess.run([str(BAODAN), *args], cwd=data_dir.parent, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def ok(data_dir: Path, *args: str) -> str:
    done = run(data_dir, *args)
    assert done.returncode == 0, f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    return done.stdout


def failed_with(done: subprocess.CompletedProcess[str], code: str) -> str:
    """Assert a non-zero exit and exactly one stderr line `error: <code>: <message>`; return the message."""
    assert done.returncode != 0, done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    prefix = f"error: {code}: "
    assert lines[0].startswith(prefix), lines[0]
    assert lines[0][len(prefix):].strip(), lines[0]
    return lines[0][len(prefix):]


def query(data_dir: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(data_dir / "baodan.db") as conn:
        return conn.execute(sql, params).fetchall()


def _level(data_dir: Path, sku: str, warehouse: str) -> tuple[int, int]:
    [(_, _, on_hand, reserved)] = _level_row(data_dir, sku, warehouse)
    return on_hand, reserved


def _level_row(data_dir: Path, sku: str, warehouse: str) -> list[tuple]:
    """(sku id, warehouse id, on hand, reserved) of one stock level, read straight from the database."""
    return query(data_dir, "SELECT l.sku_id, l.warehouse_id, l.on_hand, l.reserved FROM stock_level l "
                           "JOIN sku s ON s.id = l.sku_id JOIN warehouse w ON w.id = l.warehouse_id "
                           "WHERE s.code = ? AND w.code = ?", sku, warehouse)


def test_a_command_before_init_fails_with_database_not_initialised(tmp_path):
    message = failed_with(run(tmp_path / "data", "stock", "show"), "database.not_initialised")
    assert "baodan init" in message


def test_init_creates_the_database_and_running_it_again_changes_nothing(tmp_path):
    data_dir = tmp_path / "data"
    assert "database ready" in ok(data_dir, "init")
    tables = query(data_dir, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    assert ("sales_order",) in tables and ("stock_level",) in tables
    assert "database ready" in ok(data_dir, "init")
    assert query(data_dir, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") == tables
    assert query(data_dir, "SELECT count(*) FROM shop") == [(0,)]


def test_the_demo_database_passes_check(demo_dir):
    assert query(demo_dir, "SELECT count(*) FROM sales_order") == [(200,)]
    assert query(demo_dir, "SELECT count(*) FROM shop") == [(3,)]
    out = ok(demo_dir, "check")
    assert "check: ok" in out


def test_stock_show_lists_the_levels_of_one_sku(demo_dir):
    out = ok(demo_dir, "stock", "show", "--sku", SKU)
    on_hand, reserved = _level(demo_dir, SKU, "WH-HZ")
    [row] = [line for line in out.splitlines() if SKU in line]
    cells = [c.strip() for c in row.replace("┃", "│").split("│") if c.strip()]
    assert cells[0] == SKU
    assert cells[2:] == ["WH-HZ", str(on_hand), str(reserved), str(on_hand - reserved)]
    assert "P001-0002" not in out


def test_stock_adjust_with_the_same_ref_changes_stock_once(demo_copy):
    on_hand, reserved = _level(demo_copy, SKU, "WH-HZ")
    first = ok(demo_copy, "stock", "adjust", SKU, "WH-HZ", "--delta", "5", "--ref", "r1")
    second = ok(demo_copy, "stock", "adjust", SKU, "WH-HZ", "--delta", "5", "--ref", "r1")
    assert f"on hand {on_hand + 5}" in first
    assert f"on hand {on_hand + 5}" in second
    assert _level(demo_copy, SKU, "WH-HZ") == (on_hand + 5, reserved)
    moves = query(demo_copy, "SELECT on_hand_delta, actor FROM stock_move WHERE idempotency_key = 'r1'")
    assert moves == [(5, "cli")]


def test_orders_show_prints_an_order_found_by_its_platform_id(demo_dir):
    [(order_id, platform_id, state)] = query(demo_dir, "SELECT id, platform_order_id, state FROM sales_order "
                                                       "WHERE state = 'reserved' ORDER BY id LIMIT 1")
    [(platform_sku,)] = query(demo_dir, "SELECT platform_sku_id FROM order_line "
                                        "WHERE order_id = ? AND line_no = 1", order_id)
    out = ok(demo_dir, "orders", "show", platform_id)
    assert f"订单 {order_id}" in out
    assert platform_id in out
    assert f"状态 {state}" in out
    assert platform_sku in out
    assert "received" in out


def test_stock_adjust_of_an_unknown_sku_fails_with_one_error_line(demo_dir):
    message = failed_with(run(demo_dir, "stock", "adjust", "NO-SUCH-SKU", "WH-HZ", "--delta", "5"),
                          "inventory.unknown_sku")
    assert "NO-SUCH-SKU" in message


def test_stock_adjust_with_both_delta_and_set_fails_and_changes_nothing(demo_copy):
    before = query(demo_copy, "SELECT count(*) FROM stock_move")
    level = _level(demo_copy, SKU, "WH-HZ")
    failed_with(run(demo_copy, "stock", "adjust", SKU, "WH-HZ", "--delta", "5", "--set", "3"),
                "inventory.invalid_adjustment")
    assert query(demo_copy, "SELECT count(*) FROM stock_move") == before
    assert _level(demo_copy, SKU, "WH-HZ") == level


def test_check_reports_a_stock_level_that_disagrees_with_its_ledger_and_exits_1(demo_copy):
    [(sku_id, warehouse_id, on_hand, reserved)] = _level_row(demo_copy, SKU, "WH-HZ")
    with sqlite3.connect(demo_copy / "baodan.db") as conn:
        conn.execute("UPDATE stock_level SET on_hand = on_hand + 1 WHERE sku_id = ? AND warehouse_id = ?",
                     (sku_id, warehouse_id))
    done = run(demo_copy, "check")
    assert done.returncode == 1
    problems = [line for line in done.stdout.splitlines() if line.strip()]
    assert problems == [f"ledger_mismatch: SKU {sku_id} in warehouse {warehouse_id}: "
                        f"level on hand {on_hand + 1} reserved {reserved}, "
                        f"ledger says {on_hand} and {reserved}"]
    assert "1 problem" in failed_with(done, "check.failed")
