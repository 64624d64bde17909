"""Backup and restore on both dialects: an archive restored into a fresh database passes `run_checks` and holds
the same orders, stock and inbox as its source; damaged, tampered or mismatched archives and non-empty targets
are refused with nothing written."""

from __future__ import annotations

import json
import sqlite3
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import make_url

from baodan import backup, migrate
from baodan.check import run_checks
from baodan.core.config import Settings
from baodan.core.db import Database, fetchall
from baodan.intake.inbox import open_inbox
from baodan.intake.services import ShopDirectory
from baodan.runtime import Runtime
from tests.api.test_cli import failed_with, ok, run
from tests.conftest import PG_URL
from tests.helpers import drain, make_catalog, order, submit


@pytest.fixture
def fresh_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of `db_url`'s dialect: a new SQLite path, or on PostgreSQL a new database (dropped
    afterwards) whose search_path names the source's schema, as pg_restore recreates objects under their
    schema's name."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'baodan.db'}"
        return
    name = f"t_restore_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(db_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def restored(fresh_url: str) -> Iterator[Database]:
    database = Database(fresh_url)
    yield database
    database.dispose()


def pipeline_data(runtime: Any, db: Database) -> None:
    """Orders reserved, one waiting for stock, a bundle, a redelivery (a duplicate), and one event accepted
    but not yet processed."""
    make_catalog(db, skus={"A": 3, "B": 5}, bundles={"AB": [("A", 1), ("B", 1)]})
    o1 = order("o1", [("A", 2)], paid_offset_s=1)
    submit(runtime, o1, order("o2", [("A", 2)], paid_offset_s=2), order("o3", [("AB", 1), ("B", 2)], paid_offset_s=3))
    submit(runtime, o1)
    drain(runtime)
    submit(runtime, order("o4", [("B", 1)], paid_offset_s=4))


def state(db: Database) -> dict[str, Any]:
    with db.read() as s:
        found = {
            "orders": fetchall(s, "SELECT id, platform_order_id, state, warehouse_id FROM sales_order ORDER BY id"),
            "lines": fetchall(s, "SELECT id, order_id, sku_id, quantity FROM order_line ORDER BY id"),
            "levels": fetchall(s, "SELECT sku_id, warehouse_id, on_hand, reserved FROM stock_level ORDER BY 1, 2"),
            "reservations": fetchall(s, "SELECT order_line_id, sku_id, warehouse_id, qty FROM reservation "
                                        "ORDER BY 1, 2, 3"),
            "moves": fetchall(s, "SELECT count(*) FROM stock_move"),
        }
    inbox = open_inbox(db)
    try:
        found["inbox_counters"] = inbox.stats()  # type: ignore[attr-defined]
        found["pending"] = inbox.pending(1000)
    finally:
        inbox.close()
    return found


def runtime_for(db: Database, tmp_path: Path) -> Runtime:
    settings = Settings(data_dir=tmp_path, database_url=db.url, batch_max_wait_ms=5)
    return Runtime(settings, db, open_inbox(db), ShopDirectory(db, ttl_s=0))


def rewrite(archive: Path, out: Path, change: Any) -> Path:
    """A copy of `archive` whose members went through `change(name, data) -> data`."""
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, change(name, src.read(name)))
    return out


def refused(code: str, call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(backup.BackupError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.message
    assert "\n" not in caught.value.message
    return caught.value.message


def assert_empty(db: Database) -> None:
    """Nothing written: no SQLite files (and no temporary ones), or no tables in the PostgreSQL target."""
    if db.is_sqlite:
        assert db.sqlite_path is not None
        assert list(db.sqlite_path.parent.iterdir()) == []
        return
    with db.engine.connect() as conn:
        tables = conn.exec_driver_sql("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").scalar()
    assert not tables


def test_a_restored_backup_passes_check_and_equals_its_source(runtime, db, restored, tmp_path) -> None:
    pipeline_data(runtime, db)
    source = state(db)
    assert {o[1]: o[2] for o in source["orders"]} == {"o1": "reserved", "o2": "awaiting_stock", "o3": "reserved"}
    assert source["pending"] == 1 and sum(d for _, d in source["inbox_counters"].values()) == 1
    written = backup.backup(db, tmp_path / "backups" / backup.default_name())
    assert written.size == written.path.stat().st_size > 0
    assert written.manifest["dialect"] == db.dialect and written.manifest["revision"] == migrate.current(db)

    done = backup.restore(restored, written.path)

    assert done.migrated_from is None and done.revision == migrate.current(restored)
    assert run_checks(restored) == []
    assert state(restored) == source
    # The event accepted after the last batch is in the archive, unprocessed: the restored worker takes it, and
    # the identities and sequences go on where the source's were.
    rt = runtime_for(restored, tmp_path)
    try:
        drain(rt)
    finally:
        rt.inbox.close()
    after = state(restored)
    assert after["pending"] == 0
    assert [o[1:3] for o in after["orders"]] == [*[o[1:3] for o in source["orders"]], ("o4", "reserved")]
    assert run_checks(restored) == []


def test_an_older_archive_is_migrated_to_head_after_the_restore(db_url, restored, tmp_path) -> None:
    old = Database(db_url)
    try:
        migrate.upgrade(old, "0001")
        written = backup.backup(old, tmp_path / "old.zip")
    finally:
        old.dispose()
    assert written.manifest["revision"] == "0001"
    done = backup.restore(restored, written.path)
    assert done.migrated_from == "0001"
    assert migrate.current(restored) == done.revision != "0001"
    assert run_checks(restored) == []


def test_a_damaged_archive_is_refused_and_nothing_is_written(db, restored, tmp_path) -> None:
    written = backup.backup(db, tmp_path / "good.zip")
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(written.path.read_bytes()[: written.size // 2])
    refused("backup.corrupt", backup.restore, restored, truncated)
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"not an archive at all")
    refused("backup.corrupt", backup.restore, restored, garbage)
    not_ours = rewrite(written.path, tmp_path / "other.zip",
                       lambda name, data: b'{"format": "something else"}' if name == "manifest.json" else data)
    assert "not a BaoDan backup" in refused("backup.corrupt", backup.restore, restored, not_ours)
    refused("backup.not_found", backup.restore, restored, tmp_path / "missing.zip")
    assert_empty(restored)


def test_a_member_that_does_not_match_its_checksum_is_refused(db, restored, tmp_path) -> None:
    written = backup.backup(db, tmp_path / "good.zip")

    def flip_last_byte(name: str, data: bytes) -> bytes:
        return data if name == "manifest.json" else data[:-1] + bytes([data[-1] ^ 1])

    tampered = rewrite(written.path, tmp_path / "tampered.zip", flip_last_byte)  # zip CRCs are right again
    assert "does not match the checksum" in refused("backup.checksum_mismatch", backup.restore, restored, tampered)
    assert_empty(restored)


def test_a_database_that_holds_data_is_replaced_only_with_force(runtime, db, restored, tmp_path) -> None:
    pipeline_data(runtime, db)
    written = backup.backup(db, tmp_path / "a.zip")
    backup.restore(restored, written.path)
    rt = runtime_for(restored, tmp_path)
    try:
        drain(rt)  # the restored database now differs from the archive: o4 is reserved
    finally:
        rt.inbox.close()
    changed = state(restored)

    assert "--force" in refused("backup.target_not_empty", backup.restore, restored, written.path)
    assert state(restored) == changed

    backup.restore(restored, written.path, force=True)
    assert state(restored) == state(db)
    assert run_checks(restored) == []


def test_a_backup_never_overwrites_a_file(db, tmp_path) -> None:
    existing = tmp_path / "x.zip"
    existing.write_bytes(b"keep me")
    refused("backup.destination_exists", backup.backup, db, existing)
    assert existing.read_bytes() == b"keep me"


@pytest.mark.pg
def test_an_archive_of_one_dialect_is_refused_by_the_other(pg_url, tmp_path) -> None:
    lite, pg = Database(f"sqlite:///{tmp_path / 'lite' / 'baodan.db'}"), Database(pg_url)
    try:
        migrate.upgrade(lite)
        migrate.upgrade(pg)
        lite_archive = backup.backup(lite, tmp_path / "lite.zip").path
        pg_archive = backup.backup(pg, tmp_path / "pg.zip").path
        empty_pg = Database(make_url(pg_url).set(query={"options": "-csearch_path=t_nothing_here"})
                            .render_as_string(hide_password=False))
        empty_lite = Database(f"sqlite:///{tmp_path / 'empty' / 'baodan.db'}")
        assert "sqlite backup" in refused("backup.wrong_dialect", backup.restore, empty_pg, lite_archive)
        assert "postgresql backup" in refused("backup.wrong_dialect", backup.restore, empty_lite, pg_archive)
        assert_empty(empty_lite)
        # pg_restore cannot rename a schema: a schema's archive goes back under the same schema name only.
        refused("backup.schema_mismatch", backup.restore, empty_pg, pg_archive)
    finally:
        lite.dispose()
        pg.dispose()


def test_the_search_path_schema_is_read_from_the_url() -> None:
    assert backup.search_path_schema("postgresql://u@h/db?options=-csearch_path%3Dt_1") == "t_1"
    assert backup.search_path_schema("postgresql://u@h/db?options=-c%20search_path%3D%22T2%22,public") == "T2"
    assert backup.search_path_schema("postgresql://u@h/db") is None
    assert backup.search_path_schema("postgresql://u@h/db?options=-cstatement_timeout%3D5") is None


def test_the_password_goes_to_pg_tools_only_through_the_environment() -> None:
    db = Database("postgresql://alice:s3cret@db.example:6543/shop?sslmode=require")
    args, env = backup._pg_connection(db)
    assert args == ["--host=db.example", "--port=6543", "--username=alice", "--dbname=shop"]
    assert env["PGPASSWORD"] == "s3cret" and env["PGSSLMODE"] == "require"
    assert not any("s3cret" in a for a in args)


def test_a_missing_pg_tool_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    assert "pg_dump" in refused("backup.tool_missing", backup._tool, "pg_dump")


# ------------------------------------------------------------------------------- the real command line, SQLite

def cli(data_dir: Path, *args: str) -> Any:
    data_dir.parent.mkdir(parents=True, exist_ok=True)  # run from beside the data dir, where no .env is
    return run(data_dir, *args)


def cli_ok(data_dir: Path, *args: str) -> str:
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    return ok(data_dir, *args)


def cli_error(data_dir: Path, code: str, *args: str) -> str:
    return failed_with(cli(data_dir, *args), code)


def counts(data_dir: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(data_dir / "baodan.db") as conn:
        return conn.execute("SELECT (SELECT count(*) FROM sales_order), (SELECT sum(on_hand) FROM stock_level), "
                            "(SELECT sum(reserved) FROM stock_level), (SELECT last_event_id FROM intake_cursor)"
                            ).fetchall()


@pytest.mark.slow
def test_the_cli_backs_up_and_restores_a_sqlite_database(tmp_path) -> None:
    source, target = tmp_path / "source" / "data", tmp_path / "target" / "data"
    cli_ok(source, "init", "--demo", "--orders", "40")
    out = cli_ok(source, "backup")
    [line] = [line for line in out.splitlines() if line.startswith("backup written: ")]
    archive = Path(line.removeprefix("backup written: ").split(" (")[0])
    assert archive.parent == source / "backups" and archive.name.startswith("baodan-") and archive.is_file()
    assert "keys.json" in out  # the reminder that the PII keys are not in the archive
    manifest = json.loads(zipfile.ZipFile(archive).read("manifest.json"))
    assert set(manifest["members"]) == {"baodan.db", "baodan-inbox.db"}

    assert "restored" in cli_ok(target, "restore", str(archive))
    assert "check: ok" in cli_ok(target, "check")
    assert counts(target) == counts(source) and counts(target)[0][0] == 40

    assert "--force" in cli_error(target, "backup.target_not_empty", "restore", str(archive))
    cli_ok(target, "restore", "--force", str(archive))
    assert counts(target) == counts(source)
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(archive.read_bytes()[:1000])
    cli_error(target, "backup.corrupt", "restore", "--force", str(damaged))
    cli_error(target, "backup.not_found", "restore", str(tmp_path / "nope.zip"))
    assert "check: ok" in cli_ok(target, "check")
