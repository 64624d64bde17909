"""The audit trail: records chain, the database refuses edits, and `verify` finds what an insider who gets
past the trigger changed: an edited record, a deleted one, a cut-off end, a rewritten hash."""

import hashlib
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import orjson
import psycopg
import pytest

from baodan.core import clock
from baodan.core.db import Database, db_json, db_time, execute, fetchall, read_json, read_time
from baodan.core.errors import Invalid
from baodan.identity import audit


def _append(db: Database, n: int, *, actor: str = "user:alice", action: str = "stock.adjust") -> list[int]:
    ids = []
    for i in range(n):
        with db.write() as s:
            ids.append(audit.record(s, actor=actor, action=action, target=f"sku:{i}", ip="10.0.0.7",
                                    detail={"before": {"on_hand": i}, "after": {"on_hand": i + 1}, "reason": "盘点"}))
    return ids


def _rows(db: Database) -> list[tuple]:
    with db.read() as s:
        return fetchall(s, "SELECT id, at, actor, action, target, ip, detail, prev_hash, hash FROM audit_log "
                           "ORDER BY id")


def _bypass_trigger(db: Database) -> None:
    """What a database owner can do: switch the append-only trigger off."""
    with db.write() as s:
        if db.is_sqlite:
            execute(s, "DROP TRIGGER audit_log_no_update")
            execute(s, "DROP TRIGGER audit_log_no_delete")
        else:
            execute(s, "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")


def _codes(problems: list[audit.AuditProblem]) -> set[str]:
    return {p.code for p in problems}


def _independent_hash(row: tuple) -> str:
    """The documented hash, computed here without the module's help."""
    record_id, at, actor, action, target, ip, detail, prev_hash, _ = row
    payload = [record_id, clock.sql_text(read_time(at)), actor, action, target, ip, read_json(detail), prev_hash]
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def test_records_chain_and_verify_clean(db) -> None:
    assert audit.head(db) is None
    assert audit.verify(db) == []
    before = clock.utcnow()
    assert _append(db, 3) == [1, 2, 3]
    with db.write() as s:
        assert audit.record(s, actor="user:bob", action="login") == 4  # no target, ip or detail
    rows = _rows(db)
    assert [r[0] for r in rows] == [1, 2, 3, 4]
    assert rows[0][7] == audit.GENESIS == "0" * 64
    for prev, row in zip(rows, rows[1:], strict=False):
        assert row[7] == prev[8]
    for row in rows:
        assert row[8] == _independent_hash(row)
        assert before <= read_time(row[1]) <= clock.utcnow()
    assert read_json(rows[0][6]) == {"before": {"on_hand": 0}, "after": {"on_hand": 1}, "reason": "盘点"}
    assert read_json(rows[3][6]) == {} and rows[3][4] is None and rows[3][5] is None
    assert audit.head(db) == (4, rows[3][8])
    assert audit.verify(db) == []
    assert audit.verify(db, expect_head=(4, rows[3][8])) == []
    assert audit.verify(db, expect_head=(2, rows[1][8])) == []  # the log has grown since the head was noted


def test_detail_reads_back_to_the_same_hash(db) -> None:
    """jsonb reorders keys and writes 1e20 as 100000000000000000000, -0.0 as 0.0: the hash must not care."""
    detail = {"z": 1, "a": [1.0, -0.0, 0.1 + 0.2, 1e20, 1.5e-7, 2**63], "m": {"b": None, "a": True},
              "when": datetime(2026, 11, 26, 8, 0, tzinfo=UTC), "pair": ("x", 2), "长": "值"}
    with db.write() as s:
        audit.record(s, actor="system", action="settings.change", detail=detail)
    assert audit.verify(db) == []


def test_bad_arguments_are_refused(db) -> None:
    with db.write() as s:
        with pytest.raises(Invalid):
            audit.record(s, actor="", action="login")
        with pytest.raises(Invalid):
            audit.record(s, actor="user:alice", action="x" * 65)
        with pytest.raises(Invalid):
            audit.record(s, actor="user:alice", action="login", detail={1: "not a string key"})
        long_id = audit.record(s, actor="user:alice", action="export", target="t" * 500, ip="i" * 100)
    ((target, ip),) = _rows_columns(db, "target, ip", long_id)
    assert (len(target), len(ip)) == (200, 64)  # cut to the columns' widths, the same on both dialects
    assert audit.verify(db) == []


def _rows_columns(db: Database, columns: str, record_id: int) -> list[tuple]:
    with db.read() as s:
        return fetchall(s, f"SELECT {columns} FROM audit_log WHERE id = ?", (record_id,))


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'user:mallory' WHERE id = 1",
                                       "DELETE FROM audit_log WHERE id = 1"])
def test_the_database_refuses_updates_and_deletes(db, statement) -> None:
    _append(db, 2)
    refused = (sqlite3.IntegrityError, psycopg.errors.RaiseException)
    with pytest.raises(refused, match="append-only"), db.write() as s:
        execute(s, statement)
    assert len(_rows(db)) == 2
    assert audit.verify(db) == []


@pytest.mark.parametrize(("column", "value"), [
    ("detail", {"before": {"on_hand": 1}, "after": {"on_hand": 100}, "reason": "盘点"}),
    ("actor", "user:mallory"), ("action", "login"), ("target", "sku:99"), ("ip", None),
    ("at", datetime(2020, 1, 1, tzinfo=UTC))])
def test_an_edited_record_is_tampered(db, column, value) -> None:
    _append(db, 3)
    _bypass_trigger(db)
    with db.write() as s:
        param = db_json(s.get_bind().dialect.name, value) if column == "detail" else value
        if column == "at":
            param = db_time(s.get_bind().dialect.name, value)
        assert execute(s, f"UPDATE audit_log SET {column} = ? WHERE id = 2", (param,)) == 1
    problems = audit.verify(db)
    assert [p.code for p in problems] == ["audit.tampered"], problems
    assert "audit record 2 " in problems[0].message


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # only SQLite keeps times and JSON as free text
def test_garbage_written_by_hand_is_tampered_not_a_crash(db) -> None:
    _append(db, 2)
    _bypass_trigger(db)
    with db.write() as s:
        execute(s, "UPDATE audit_log SET detail = '{not json', at = 'yesterday' WHERE id = 1")
    assert [p.code for p in audit.verify(db)] == ["audit.tampered"]


def test_a_deleted_middle_record_breaks_the_chain(db) -> None:
    _append(db, 5)
    _bypass_trigger(db)
    with db.write() as s:
        execute(s, "DELETE FROM audit_log WHERE id = 3")
    problems = audit.verify(db)
    assert _codes(problems) == {"audit.gap", "audit.chain_broken"}, problems
    assert any("audit records 3 are missing" in p.message for p in problems if p.code == "audit.gap")
    assert any("audit record 4 " in p.message for p in problems if p.code == "audit.chain_broken")


def test_a_deleted_first_record_breaks_the_chain(db) -> None:
    _append(db, 3)
    _bypass_trigger(db)
    with db.write() as s:
        execute(s, "DELETE FROM audit_log WHERE id = 1")
    assert _codes(audit.verify(db)) == {"audit.gap", "audit.chain_broken"}


def test_a_deleted_last_record_is_caught_only_with_the_noted_head(db) -> None:
    _append(db, 4)
    noted = audit.head(db)
    assert noted is not None and noted[0] == 4
    _bypass_trigger(db)
    with db.write() as s:
        execute(s, "DELETE FROM audit_log WHERE id = 4")
    assert audit.verify(db) == []  # what is left is a valid chain in itself
    problems = audit.verify(db, expect_head=noted)
    assert [p.code for p in problems] == ["audit.truncated"], problems
    assert "ends at record 3" in problems[0].message


def test_a_cut_and_regrown_log_is_caught_with_the_noted_head(db) -> None:
    _append(db, 4)
    noted = audit.head(db)
    _bypass_trigger(db)
    with db.write() as s:
        execute(s, "DELETE FROM audit_log WHERE id >= 3")
    _append(db, 3, actor="user:mallory")  # new records 3..5 chain validly onto record 2
    assert audit.verify(db) == []
    problems = audit.verify(db, expect_head=noted)
    assert [p.code for p in problems] == ["audit.truncated"], problems
    assert "audit record 4 differs" in problems[0].message


def test_an_empty_log_with_a_noted_head_is_truncated(db) -> None:
    _append(db, 2)
    noted = audit.head(db)
    _bypass_trigger(db)
    with db.write() as s:
        execute(s, "DELETE FROM audit_log")
    assert audit.verify(db) == []
    assert [p.code for p in audit.verify(db, expect_head=noted)] == ["audit.truncated"]


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(db) -> None:
    _append(db, 4)
    _bypass_trigger(db)
    row = list(_rows(db)[1])
    row[6] = db_json(db.dialect, {"before": {"on_hand": 1}, "after": {"on_hand": 100}, "reason": "盘点"})
    forged = _independent_hash(tuple(row))
    with db.write() as s:
        execute(s, "UPDATE audit_log SET detail = ?, hash = ? WHERE id = 2", (row[6], forged))
    problems = audit.verify(db)
    assert [p.code for p in problems] == ["audit.chain_broken"], problems
    assert "audit record 3 does not link to the hash of record 2" in problems[0].message


def test_problems_are_limited(db) -> None:
    _append(db, 6)
    _bypass_trigger(db)
    with db.write() as s:
        execute(s, "UPDATE audit_log SET actor = 'user:mallory'")
    assert len(audit.verify(db)) == 6
    assert len(audit.verify(db, limit_problems=2)) == 2


def test_verify_pages_through_a_long_log(db, monkeypatch) -> None:
    monkeypatch.setattr(audit, "PAGE", 3)
    _append(db, 10)
    assert audit.verify(db, expect_head=audit.head(db)) == []
    _bypass_trigger(db)
    with db.write() as s:
        execute(s, "DELETE FROM audit_log WHERE id = 7")  # in the third page
    assert _codes(audit.verify(db)) == {"audit.gap", "audit.chain_broken"}


def test_a_rolled_back_record_leaves_no_trace(db) -> None:
    _append(db, 2)
    noted = audit.head(db)
    with pytest.raises(RuntimeError), db.write() as s:
        assert audit.record(s, actor="user:alice", action="order.edit", target="order:1") == 3
        raise RuntimeError("the audited change failed")
    assert audit.head(db) == noted
    assert audit.verify(db) == []
    with db.write() as s:
        assert audit.record(s, actor="user:alice", action="order.edit", target="order:1") == 3
    assert audit.verify(db, expect_head=noted) == []
    assert audit.head(db)[0] == 3


def test_concurrent_writers_make_one_chain(db) -> None:
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for i in range(50):
                with db.write() as s:
                    audit.record(s, actor=f"user:{name}", action="stock.adjust", target=f"sku:{i}")
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = _rows(db)
    assert [r[0] for r in rows] == list(range(1, 101))
    assert sorted(r[2] for r in rows) == ["user:a"] * 50 + ["user:b"] * 50
    assert audit.verify(db) == []


def test_a_second_writer_waits_for_the_first_to_commit(db) -> None:
    """The first writer's record is not committed yet when the second appends: without the lock the
    second would read the same previous record (and, on PostgreSQL, collide on its id)."""
    first_recorded = threading.Event()
    second_done = threading.Event()
    result: dict[str, object] = {}

    def second() -> None:
        first_recorded.wait(10)
        try:
            with db.write() as s:
                result["id"] = audit.record(s, actor="user:b", action="login")
        except BaseException as exc:  # reported below, in the test's thread
            result["error"] = exc
        second_done.set()

    thread = threading.Thread(target=second)
    thread.start()
    with db.write() as s:
        assert audit.record(s, actor="user:a", action="login") == 1
        first_recorded.set()
        assert not second_done.wait(0.5)  # the second writer is held until this transaction ends
    thread.join(10)
    assert "error" not in result, result
    assert result["id"] == 2
    assert audit.verify(db) == []


def test_search_filters_newest_first(db) -> None:
    _append(db, 3, actor="user:alice", action="stock.adjust")
    _append(db, 2, actor="user:bob", action="pii.reveal")
    with db.write() as s:
        audit.record(s, actor="user:bob", action="stock.adjust", target="sku:9", detail={"after": 1})
    with db.read() as s:
        everything = audit.search(s)
        assert [r["id"] for r in everything] == [6, 5, 4, 3, 2, 1]
        newest = everything[0]
        assert newest["actor"] == "user:bob" and newest["action"] == "stock.adjust"
        assert newest["target"] == "sku:9" and newest["detail"] == {"after": 1} and newest["ip"] is None
        assert isinstance(newest["at"], datetime) and newest["at"].tzinfo is not None
        assert [r["id"] for r in audit.search(s, actor="user:bob")] == [6, 5, 4]
        assert [r["id"] for r in audit.search(s, action="stock.adjust")] == [6, 3, 2, 1]
        assert [r["id"] for r in audit.search(s, actor="user:bob", action="pii.reveal")] == [5, 4]
        assert [r["id"] for r in audit.search(s, limit=2)] == [6, 5]
        assert [r["id"] for r in audit.search(s, limit=2, before_id=5)] == [4, 3]
        at_4 = everything[2]["at"]
        assert [r["id"] for r in audit.search(s, since=at_4)] == [6, 5, 4]
        assert [r["id"] for r in audit.search(s, until=at_4)] == [3, 2, 1]
        assert audit.search(s, since=clock.utcnow() + timedelta(hours=1)) == []
        with pytest.raises(Invalid):
            audit.search(s, limit=0)
