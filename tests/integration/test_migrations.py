"""Schema migrations on both dialects: from empty to head, idempotent, reversible (PostgreSQL), and a
ledger the database itself refuses to rewrite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from baodan import migrate
from baodan.core.db import Database, metadata
from baodan.inventory.model import MoveKind
from tests.helpers import make_catalog

MAIN_TABLES = {
    "intake_cursor", "intake_failure", "product", "warehouse", "shop", "sku", "bundle_component",
    "inventory_retry", "live_session", "sku_mapping", "stock_level", "stock_move", "sales_order",
    "order_event", "order_line", "inventory_backlog", "reservation",
    "app_user", "user_scope", "app_role", "user_session", "api_key", "audit_log", "shop_credential",
    "channel_cursor", "channel_fetch", "channel_outbox", "channel_stock", "channel_allocation", "shipment",
    "channel_carrier", "order_supersede",
    "channel_call",
    "rule_set", "order_decision", "fulfilment", "blacklist", "bin_location", "wave",
    "carrier_account", "waybill_request", "waybill", "carrier_call",
}
# PostgreSQL only: on SQLite the inbox is a file of its own.
INBOX_TABLES = {"inbox_event", "inbox_pending", "intake_counter"}


def _head(db: Database) -> str:
    head = ScriptDirectory.from_config(migrate.alembic_config(db)).get_current_head()
    assert head is not None
    return head


def _tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


@pytest.fixture
def empty_db(db_url: str) -> Iterator[Database]:
    """A database with no schema at all (not migrated, unlike the shared `db` fixture)."""
    database = Database(db_url)
    yield database
    database.dispose()


def test_upgrade_from_empty_creates_every_table_at_head(empty_db: Database) -> None:
    assert migrate.current(empty_db) is None
    assert _tables(empty_db) == set()
    migrate.upgrade(empty_db)
    assert migrate.current(empty_db) == _head(empty_db)
    expected = MAIN_TABLES if empty_db.is_sqlite else MAIN_TABLES | INBOX_TABLES
    assert _tables(empty_db) == expected


def test_migrated_schema_matches_the_declared_tables(empty_db: Database) -> None:
    """No drift between the migration scripts and the table definitions the code queries (columns, types,
    indexes, constraints). On SQLite the inbox tables are declared but live in their own file."""
    import baodan.catalog.tables  # noqa: F401  (register every table on the shared metadata)
    import baodan.channels.tables  # noqa: F401
    import baodan.fulfilment.tables  # noqa: F401
    import baodan.identity.tables  # noqa: F401
    import baodan.intake.tables  # noqa: F401
    import baodan.inventory.tables  # noqa: F401
    import baodan.orders.tables  # noqa: F401
    import baodan.waybills.tables  # noqa: F401

    migrate.upgrade(empty_db)
    with empty_db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, metadata)
    if empty_db.is_sqlite:
        diffs = [d for d in diffs if not (d[0] == "add_table" and d[1].name in INBOX_TABLES)
                 and not (d[0] == "add_index" and d[1].table.name in INBOX_TABLES)]
    assert diffs == []


def test_upgrade_is_idempotent_and_keeps_data(empty_db: Database) -> None:
    migrate.upgrade(empty_db)
    ids = make_catalog(empty_db, skus={"A": 5})
    migrate.upgrade(empty_db)
    migrate.upgrade(empty_db, "head")
    assert migrate.current(empty_db) == _head(empty_db)
    with empty_db.read() as s:
        on_hand = s.execute(text("SELECT on_hand FROM stock_level WHERE sku_id = :s"), {"s": ids["A"]}).all()
        assert on_hand == [(5,)]
        assert s.execute(text("SELECT count(*) FROM stock_move")).scalar_one() == 1


@pytest.mark.pg
def test_downgrade_to_base_and_upgrade_again_on_postgresql(pg_url: str) -> None:
    db = Database(pg_url)
    try:
        migrate.upgrade(db)
        make_catalog(db, skus={"A": 5})
        config = migrate.alembic_config(db)
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert migrate.current(db) is None
        assert _tables(db) == set()
        with db.engine.connect() as connection:
            leftovers = connection.execute(text(
                "SELECT proname FROM pg_proc WHERE pronamespace = current_schema()::regnamespace")).all()
        assert leftovers == [], f"functions left behind by the downgrade: {leftovers}"

        migrate.upgrade(db)
        assert migrate.current(db) == _head(db)
        assert _tables(db) == MAIN_TABLES | INBOX_TABLES
        ids = make_catalog(db, skus={"A": 7})  # the schema works again, ledger trigger included
        with db.read() as s:
            assert s.execute(text("SELECT on_hand FROM stock_level WHERE sku_id = :s"),
                             {"s": ids["A"]}).all() == [(7,)]
        _assert_ledger_immutable(db)
    finally:
        db.dispose()


def _assert_ledger_immutable(db: Database) -> None:
    with db.read() as s:
        before = s.execute(text("SELECT id, kind, on_hand_delta, reason FROM stock_move ORDER BY id")).all()
    assert before, "the catalog should have written a receipt move"
    move_id = before[0][0]
    statements = [
        ("UPDATE stock_move SET on_hand_delta = on_hand_delta + 1 WHERE id = :id", {"id": move_id}),
        ("UPDATE stock_move SET reason = 'rewritten' WHERE id = :id", {"id": move_id}),
        ("DELETE FROM stock_move WHERE id = :id", {"id": move_id}),
        ("DELETE FROM stock_move", {}),
    ]
    for sql, params in statements:
        with pytest.raises(Exception, match="immutable"), db.write() as s:  # noqa: B017 (driver-specific)
            s.execute(text(sql), params)
    with db.read() as s:
        after = s.execute(text("SELECT id, kind, on_hand_delta, reason FROM stock_move ORDER BY id")).all()
    assert after == before
    assert before[0][1] == MoveKind.receipt


def test_stock_move_ledger_is_immutable(db: Database) -> None:
    make_catalog(db, skus={"A": 5, "B": 3})
    _assert_ledger_immutable(db)
