"""Database access: engines, sessions, SQLite pragmas, shared column types and the naming convention.

Two dialects, one schema. SQLite (embedded default) serialises writers: write sessions open with
BEGIN IMMEDIATE so a transaction that reads stock and then writes it cannot be overtaken; read sessions
use a plain BEGIN and never block the writer (WAL). PostgreSQL uses row locks and READ COMMITTED.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from psycopg.types.json import set_json_loads
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from baodan.core import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING_CONVENTION)

set_json_loads(orjson.loads)  # psycopg reads json/jsonb columns with orjson, not the standard library

# SQLite only aliases the rowid for a column typed exactly INTEGER.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")
Code = String(64)
# Identity sequences of child rows written by the thousand (order lines, history, reservations) hand
# each session this many ids at a time: one sequence update per block instead of per row. Ids then
# grow per session, not globally, so nothing may read time order from them (history sorts by time).
ID_CACHE = 1000


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes: timestamptz on PostgreSQL, fixed-width UTC text on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(26))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return clock.sql_text(value)
        return clock.as_utc(value)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return clock.from_sql_text(value)
        return clock.as_utc(value)


def normalise_url(url: str) -> str:
    """Accept URLs as users write them: postgresql:// and postgres:// mean psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Database:
    """Engines and sessions for one store. Create one per process; it is thread-safe."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            from baodan.core.errors import Invalid

            raise Invalid(f"unsupported database URL {parsed.render_as_string()!r}: use sqlite:/// or "
                          "postgresql://", code="config.database_url")
        if self.dialect == "sqlite":
            path = parsed.database
            if not path or path == ":memory:":
                from baodan.core.errors import Invalid

                raise Invalid("SQLite needs a file path (the inbox lives beside it)",
                              code="config.database_url")
            self.sqlite_path: Path | None = Path(path)
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            self.engine = self._sqlite_engine(begin="BEGIN IMMEDIATE", synchronous="FULL")
            self.read_engine = self._sqlite_engine(begin="BEGIN", synchronous="FULL")
            # The worker's batches may skip the per-commit fsync: on power loss SQLite (WAL) loses
            # only the last batches, their inbox cursor with them, and the worker redoes them from
            # the inbox, which is always fsynced. Writes people make (adjustments, catalog) stay FULL.
            # Its rows also skip SQLite's per-row foreign-key lookups: the pipeline writes only ids it has
            # just loaded or allocated, PostgreSQL enforces the same keys in every test run, and
            # `baodan check` proves there are no orphans.
            self.bulk_engine = self._sqlite_engine(begin="BEGIN IMMEDIATE", synchronous="NORMAL",
                                                   foreign_keys=False)
        else:
            self.sqlite_path = None
            # No server-side prepared statements: psycopg prepares a query after its 5th run, and
            # PostgreSQL may then keep a generic plan made while the tables were nearly empty (a
            # sequential scan of sales_order for `= ANY(ids)`), which gets slower with every order.
            self.engine = create_engine(self.url, pool_size=pool_size, max_overflow=pool_size,
                                        pool_pre_ping=True, connect_args={"prepare_threshold": None})
            self.read_engine = self.engine
            self.bulk_engine = self.engine
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = sessionmaker(self.read_engine, expire_on_commit=False)
        self._bulk = sessionmaker(self.bulk_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def inbox_path(self) -> Path:
        assert self.sqlite_path is not None
        return self.sqlite_path.with_name(self.sqlite_path.stem + "-inbox.db")

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back whole if it raises."""
        with self._writer() as session, session.begin():
            yield session

    @contextmanager
    def write_batch(self) -> Iterator[Session]:
        """A write transaction of the worker, whose work can be redone from the inbox (see __init__)."""
        with self._bulk() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session, session.begin():
            yield session

    def dispose(self) -> None:
        for engine in {self.engine, self.read_engine, self.bulk_engine}:
            engine.dispose()

    def _sqlite_engine(self, *, begin: str, synchronous: str, foreign_keys: bool = True) -> Engine:
        engine = create_engine(self.url, connect_args={"check_same_thread": False, "timeout": 60})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
            sqlite_pragmas(dbapi_conn, synchronous=synchronous, foreign_keys=foreign_keys)

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql(begin)

        return engine


def sqlite_pragmas(dbapi_conn: Any, *, synchronous: str, foreign_keys: bool = True) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA synchronous={synchronous}")
    cur.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def raw(session: Session) -> Any:
    """The DB-API connection inside the session's transaction, for the bulk paths of the hot path."""
    return session.connection().connection.driver_connection


def placeholders(sql: str, dialect: str) -> str:
    """Hot-path SQL is written with `?`; psycopg wants `%s`."""
    return sql if dialect == "sqlite" else sql.replace("?", "%s")


def update_from(session: Session, sql: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]],
                params: Sequence[Any] = ()) -> int:
    """A per-row UPDATE (or DELETE … USING-style statement) as one set-based statement: `sql` reads the rows
    as the relation `{rows}` with the given columns (name, PostgreSQL type: bigint, text…), e.g.
    `UPDATE t SET a = d.a FROM {rows} WHERE t.id = d.id`, after its own `params`. PostgreSQL gets them as
    arrays through unnest (one round trip, one plan, instead of a pipelined statement per row); SQLite as
    one JSON array through json_each. Values must be JSON-able (numbers, text, None)."""
    if not rows:
        return 0
    names = [name for name, _ in columns]
    if dialect_of(session) == "sqlite":
        picks = ", ".join(f"json_extract(value, '$[{i}]') AS {name}" for i, name in enumerate(names))
        source = f"(SELECT {picks} FROM json_each(?)) AS d"
        values: list[Any] = [orjson.dumps([list(r) for r in rows]).decode()]
    else:
        arrays = ", ".join(f"?::{kind}[]" for _, kind in columns)
        source = f"unnest({arrays}) AS d({', '.join(names)})"
        values = [list(column) for column in zip(*rows, strict=True)]
    return execute(session, sql.replace("{rows}", source), (*params, *values))


def executemany(session: Session, sql: str, rows: Sequence[Sequence[Any]]) -> int:
    """Bulk write through the driver (sqlite3 executemany / psycopg pipelined executemany)."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    cur = raw(session).cursor()
    try:
        cur.executemany(placeholders(sql, dialect), rows)
        return cur.rowcount
    finally:
        cur.close()


def fetchall(session: Session, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    dialect = session.get_bind().dialect.name
    cur = raw(session).cursor()
    try:
        cur.execute(placeholders(sql, dialect), params)
        return cur.fetchall()
    finally:
        cur.close()


def execute(session: Session, sql: str, params: Sequence[Any] = ()) -> int:
    dialect = session.get_bind().dialect.name
    cur = raw(session).cursor()
    try:
        cur.execute(placeholders(sql, dialect), params)
        return cur.rowcount
    finally:
        cur.close()


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def in_list(dialect: str, values: Iterable[Any]) -> tuple[str, Any]:
    """A membership test with one parameter, whatever the list's length: `col {sql}` with `param`."""
    if dialect == "sqlite":
        return "IN (SELECT value FROM json_each(?))", orjson.dumps(list(values)).decode()
    return "= ANY(?)", list(values)


def where_in(session: Session, sql: str, values: Iterable[Any]) -> list[tuple[Any, ...]]:
    """Rows of `sql` ending in a column, with ` IN (values)` appended as one parameter (see in_list)."""
    frag, param = in_list(dialect_of(session), sorted(values))
    return fetchall(session, f"{sql} {frag}", (param,))


def db_time(dialect: str, value: datetime | str | None) -> Any:
    """A timestamp as the driver stores it. A str is a UTC text key (clock.sql_text)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if dialect == "sqlite" else value + "+00:00"
    return clock.sql_text(value) if dialect == "sqlite" else clock.as_utc(value)


def db_json(dialect: str, value: Any) -> str:
    """JSON as text for both drivers: psycopg sends a str untyped, so PostgreSQL reads it as the jsonb
    the column or COPY expects, without a wrapper object per value on the hot path."""
    del dialect
    return orjson.dumps(value).decode()


def read_time(value: Any) -> datetime | None:
    if value is None:
        return None
    return clock.from_sql_text(value) if isinstance(value, str) else clock.as_utc(value)


def read_json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def insert_rows(session: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Bulk insert through the driver's fastest path: executemany on SQLite, COPY on PostgreSQL."""
    if not rows:
        return
    if dialect_of(session) == "sqlite":
        executemany(session, f"INSERT INTO {table} ({', '.join(columns)}) "
                             f"VALUES ({', '.join('?' * len(columns))})", rows)
        return
    cur = raw(session).cursor()
    try:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cur.close()
