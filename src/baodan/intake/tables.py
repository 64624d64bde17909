"""The inbox: every event we acknowledged, keyed by its natural key so a redelivery is recognised.

On PostgreSQL the inbox is a table of the main database, with a queue of pending event ids that
workers claim with FOR UPDATE SKIP LOCKED. On SQLite
it is a separate file (`<db>-inbox.db`) so that accepting webhooks never waits for the worker's write
lock; the worker's progress (`intake_cursor`) lives in the main file, in the same transaction as the
orders it wrote.
"""

from sqlalchemy import BigInteger, Column, Identity, Index, LargeBinary, MetaData, String, Table

from baodan.core.db import NAMING_CONVENTION, BigIntPK, UtcDateTime, metadata


def _inbox_event(target: MetaData) -> Table:
    return Table(
        "inbox_event", target,
        Column("id", BigIntPK, Identity(), primary_key=True),
        Column("channel", String(32), nullable=False),
        Column("shop_id", BigInteger, nullable=False),
        Column("platform_order_id", String(64), nullable=False),
        Column("platform_status", String(16), nullable=False),
        Column("platform_updated_at", String(32), nullable=False),  # UTC text: part of the key
        Column("payload", LargeBinary, nullable=False),  # canonical order JSON
        Column("received_at", UtcDateTime, nullable=False),
        Index("uq_inbox_event_natural_key", "channel", "shop_id", "platform_order_id",
              "platform_status", "platform_updated_at", unique=True),
        sqlite_autoincrement=True,  # ids only grow: the worker's cursor relies on it
    )


def _intake_counter(target: MetaData) -> Table:
    return Table(
        "intake_counter", target,
        Column("shop_id", BigInteger, primary_key=True),
        Column("accepted", BigInteger, nullable=False),
        Column("duplicates", BigInteger, nullable=False),
    )


# PostgreSQL: part of the main schema (Alembic creates them only there).
inbox_event = _inbox_event(metadata)
intake_counter = _intake_counter(metadata)
# Events not yet processed: a narrow queue beside the (insert-only) event log. Workers claim by deleting
# rows (FOR UPDATE SKIP LOCKED) in their batch's transaction, which writes far less than updating the
# wide event rows would; a batch that rolls back puts its rows back.
inbox_pending = Table(
    "inbox_pending", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
)

# SQLite: the separate inbox file, created by intake.inbox.SqliteInbox.
sqlite_inbox_metadata = MetaData(naming_convention=NAMING_CONVENTION)
sqlite_inbox_event = _inbox_event(sqlite_inbox_metadata)
sqlite_intake_counter = _intake_counter(sqlite_inbox_metadata)

# Worker progress through the SQLite inbox: the last event id whose effects are committed.
intake_cursor = Table(
    "intake_cursor", metadata,
    Column("name", String(32), primary_key=True),
    Column("last_event_id", BigInteger, nullable=False),
)

# Events that failed alone, three times: set aside (never dropped) so the pipeline can go on.
intake_failure = Table(
    "intake_failure", metadata,
    Column("event_id", BigInteger, primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("platform_order_id", String(64), nullable=False),
    Column("error", String(2000), nullable=False),
    Column("failed_at", UtcDateTime, nullable=False),
)
