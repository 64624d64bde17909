"""The real `baodan` command line for identity and security: the first admin, users and keys, revealing a
buyer (audited), the audit trail, and PII keys."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from baodan.core.config import Settings
from baodan.core.db import Database
from baodan.identity import accounts
from tests.api.test_cli import failed_with, ok, query, run

pytestmark = pytest.mark.slow


def _db(data_dir: Path) -> Database:
    return Database(Settings(data_dir=data_dir).resolved_database_url())


def test_init_creates_the_first_admin_once_with_a_one_time_password(tmp_path) -> None:
    data_dir = tmp_path / "data"
    out = ok(data_dir, "init")
    password = re.search(r"one-time password (\S+)", out).group(1)  # type: ignore[union-attr]
    db = _db(data_dir)
    try:
        assert accounts.authenticate(db, username="admin", password=password, ip=None) > 0
    finally:
        db.dispose()
    again = ok(data_dir, "init")
    assert "one-time password" not in again
    assert query(data_dir, "SELECT username, role FROM app_user") == [("admin", "owner")]
    assert password not in " ".join(str(v) for row in query(data_dir, "SELECT * FROM app_user") for v in row)


def test_revealing_a_buyer_is_audited_and_otherwise_they_stay_masked(demo_copy) -> None:
    [(order_id,)] = query(demo_copy, "SELECT id FROM sales_order WHERE receiver_sealed IS NOT NULL LIMIT 1")
    masked = ok(demo_copy, "orders", "show", str(order_id))
    assert "****" in masked and not re.search(r"1\d{10}", masked)
    before = query(demo_copy, "SELECT count(*) FROM audit_log WHERE action = 'pii.reveal'")[0][0]
    clear = ok(demo_copy, "orders", "show", str(order_id), "--reveal")
    assert re.search(r"1\d{10}", clear)
    assert query(demo_copy, "SELECT count(*) FROM audit_log WHERE action = 'pii.reveal'")[0][0] == before + 1
    assert "audit: ok" in ok(demo_copy, "audit", "verify")


def test_audit_verify_fails_on_a_tampered_record(demo_copy) -> None:
    ok(demo_copy, "users", "create", "clerk", "--role", "service", "--shop", "DY-FLAGSHIP")
    with sqlite3.connect(demo_copy / "baodan.db") as conn:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("UPDATE audit_log SET actor = 'someone else' WHERE action = 'users.create'")
    message = failed_with(run(demo_copy, "audit", "verify"), "audit.failed")
    assert "problem" in message


def test_users_and_keys_are_managed_from_the_command_line(demo_copy) -> None:
    out = ok(demo_copy, "users", "create", "packer", "--role", "warehouse", "--warehouse", "WH-HZ")
    assert "one-time password" in out
    failed_with(run(demo_copy, "users", "create", "x", "--role", "janitor"), "users.unknown_role")
    failed_with(run(demo_copy, "users", "create", "y", "--role", "service", "--shop", "NOPE"), "users.unknown_scope")
    key = re.search(r"(bd_\w+_\S+)", ok(demo_copy, "users", "create-key", "erp", "--permission", "orders.write",
                                       "--shop", "DY-FLAGSHIP")).group(1)  # type: ignore[union-attr]
    assert query(demo_copy, "SELECT count(*) FROM api_key WHERE secret_hash LIKE ?", key.split("_", 2)[2][:8] + "%") \
        == [(0,)]  # stored hashed
    ok(demo_copy, "users", "revoke-key", key.split("_")[1])
    failed_with(run(demo_copy, "users", "revoke-key", key.split("_")[1]), "api_keys.not_found")
    assert "session(s)" in ok(demo_copy, "users", "revoke-sessions", "packer")
    assert "new one-time password" in ok(demo_copy, "users", "reset-password", "packer")


def test_a_new_pii_key_and_rotation_reseal_every_order(demo_copy) -> None:
    assert "current key k1" in ok(demo_copy, "pii", "status")
    assert "new key k2" in ok(demo_copy, "pii", "new-key")
    assert "re-sealed with key k2" in ok(demo_copy, "pii", "rotate", "--batch", "500")
    assert "{'k2':" in ok(demo_copy, "pii", "status")
    [(order_id,)] = query(demo_copy, "SELECT id FROM sales_order WHERE receiver_sealed IS NOT NULL LIMIT 1")
    assert re.search(r"1\d{10}", ok(demo_copy, "orders", "show", str(order_id), "--reveal"))
