"""`baodan import orders`, run as a subprocess on the demo database: preview table, error report (printed
and --errors CSV), dry run, idempotent re-import, and one-line errors when nothing can be taken."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest

from tests.api.test_cli import failed_with, ok, run

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parents[1] / "fixtures" / "import"


def _inbox_events(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "baodan-inbox.db") as conn:
        return conn.execute("SELECT count(*) FROM inbox_event").fetchone()[0]


def test_import_preview_dry_run_and_idempotent_import(demo_copy: Path, tmp_path: Path) -> None:
    before = _inbox_events(demo_copy)
    # the 抖店 export masks the phone already; in clear here, so the preview's 138****8000 is the CLI masking it
    exported = (FIXTURES / "douyin_orders.csv").read_text(encoding="utf-8")
    (tmp_path / "douyin_orders.csv").write_text(exported.replace("138****8000", "13800138000"), encoding="utf-8")
    douyin = str(tmp_path / "douyin_orders.csv")
    out = ok(demo_copy, "import", "orders", douyin, "--shop", "DY-FLAGSHIP", "--preview", "2")
    assert "6920000000000012345" in out and "49.90" in out and "138****8000" in out
    assert "template douyin" in out and "preview" in out
    out = ok(demo_copy, "import", "orders", douyin, "--shop", "DY-FLAGSHIP", "--dry-run")
    assert "2 order(s) valid, 0 accepted" in out and "dry run" in out
    assert _inbox_events(demo_copy) == before
    out = ok(demo_copy, "import", "orders", douyin, "--shop", "DY-FLAGSHIP")
    assert "2 order(s) valid, 2 accepted, 0 duplicate(s)" in out
    assert _inbox_events(demo_copy) == before + 2
    out = ok(demo_copy, "import", "orders", douyin, "--shop", "DY-FLAGSHIP", "--template", "douyin")
    assert "0 accepted, 2 duplicate(s)" in out
    assert _inbox_events(demo_copy) == before + 2


def test_the_error_report_is_printed_and_written_and_valid_rows_still_go_in(demo_copy: Path, tmp_path: Path) -> None:
    report = tmp_path / "errors.csv"
    out = ok(demo_copy, "import", "orders", str(FIXTURES / "baodan_orders_utf8bom.csv"), "--shop", "DY-FLAGSHIP",
             "--errors", str(report))
    assert "rows not taken (5)" in out and "'两件' is not a quantity" in out
    assert "2 accepted" in out
    with report.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["row", "column", "reason"] and rows[1] == ["5", "数量", "'两件' is not a quantity"]
    assert len(rows) == 6


def test_a_file_where_nothing_can_be_taken_fails_with_one_line(demo_copy: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("订单号,商家编码,数量,单价\nX-1,A,zero,10\n", encoding="utf-8")
    done = run(demo_copy, "import", "orders", str(bad), "--shop", "DY-FLAGSHIP")
    assert "'zero' is not a quantity" in done.stdout
    assert "bad.csv" in failed_with(done, "import.nothing_taken")
    assert "no such file" in failed_with(run(demo_copy, "import", "orders", str(tmp_path / "missing.csv"),
                                             "--shop", "DY-FLAGSHIP"), "import.unreadable")
    garbage = tmp_path / "orders.xlsx"
    garbage.write_bytes(b"PK\x03\x04 broken")
    assert "orders.xlsx" in failed_with(run(demo_copy, "import", "orders", str(garbage), "--shop", "DY-FLAGSHIP"),
                                        "import.unreadable")
    failed_with(run(demo_copy, "import", "orders", str(FIXTURES / "pdd_orders_gbk.csv"), "--shop", "NOPE"),
                "intake.unknown_shop")
    failed_with(run(demo_copy, "import", "orders", str(FIXTURES / "pdd_orders_gbk.csv"), "--shop", "DY-FLAGSHIP"),
                "import.channel_mismatch")


def test_a_preview_with_no_valid_row_is_called_a_preview(demo_copy: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("订单号,商家编码,数量,单价\nX-1,A,zero,10\n", encoding="utf-8")
    done = run(demo_copy, "import", "orders", str(bad), "--shop", "DY-FLAGSHIP", "--preview", "2")
    assert "(preview)" in done.stdout and "dry run" not in done.stdout
