"""Durable, de-duplicated inbox with group commit.

`append` returns only after the events are committed (fsync'd: SQLite synchronous=FULL, PostgreSQL
synchronous_commit=on). Concurrent callers share one commit: a single committer thread takes every
request queued while the previous commit was flushing and commits them together, so the fsync is paid
once per group rather than once per order.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import psycopg
from sqlalchemy.orm import Session

from baodan.core import clock
from baodan.core.db import Database, fetchall, raw, sqlite_pragmas

# channel, shop_id, platform_order_id, platform_status, platform_updated_at (UTC text), payload
EventRow = tuple[str, int, str, str, str, bytes]
_COLUMNS = "channel, shop_id, platform_order_id, platform_status, platform_updated_at, payload, received_at"


class InboxEvent(NamedTuple):
    id: int
    channel: str
    shop_id: int
    platform_order_id: str
    platform_status: str
    platform_updated_at: str
    payload: bytes
    received_at: str  # UTC text key (clock.sql_text)


@dataclass(frozen=True, slots=True)
class Appended:
    accepted: int
    duplicates: int


class Inbox(Protocol):
    def append(self, rows: Sequence[EventRow]) -> Appended: ...
    def claim(self, session: Session, limit: int) -> list[InboxEvent]: ...
    def mark_done(self, session: Session, events: Sequence[InboxEvent]) -> None: ...
    def pending(self, limit: int) -> int: ...
    def wait_for_events(self, timeout_s: float) -> None: ...
    def close(self) -> None: ...


def open_inbox(db: Database, *, synchronous: str = "FULL", window_ms: float = 1.0) -> Inbox:
    if db.is_sqlite:
        return SqliteInbox(db, synchronous=synchronous, window_ms=window_ms)
    return PostgresInbox(db, window_ms=window_ms)


class GroupCommitter:
    """Runs `flush(groups)` on one thread; each caller blocks until the commit holding its rows is done."""

    def __init__(self, flush: Callable[[list[Sequence[EventRow]]], list[Appended | BaseException]], *,
                 window_ms: float, max_rows: int = 50_000) -> None:
        self._flush = flush
        self._window_s = window_ms / 1000
        self._max_rows = max_rows
        self._queue: queue.Queue[tuple[Sequence[EventRow], Future[Appended]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="inbox-committer", daemon=True)
        self.commits = 0
        self.committed = threading.Event()  # set after every commit: wakes an in-process worker
        self._thread.start()

    def submit(self, rows: Sequence[EventRow]) -> Appended:
        future: Future[Appended] = Future()
        self._queue.put((rows, future))
        return future.result()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            group = [item]
            rows = len(item[0])
            deadline = time.monotonic() + self._window_s
            while rows < self._max_rows:
                try:
                    nxt = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                group.append(nxt)
                rows += len(nxt[0])
            try:
                results = self._flush([g[0] for g in group])
            except BaseException as exc:  # the commit failed: every caller of the group must hear it
                results = [exc] * len(group)
            self.commits += 1
            self.committed.set()
            for (_, future), result in zip(group, results, strict=True):
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)


class _GroupCommitInbox:
    """What both inboxes share: appends go through one GroupCommitter that calls the store's `_flush`."""

    _committer: GroupCommitter

    def append(self, rows: Sequence[EventRow]) -> Appended:
        return self._committer.submit(rows)

    def wait_for_events(self, timeout_s: float) -> None:
        """Wait until this process commits new events or the timeout passes (other processes' events
        are found by the caller's next poll)."""
        if self._committer.committed.wait(timeout_s):
            self._committer.committed.clear()


class SqliteInbox(_GroupCommitInbox):
    """Inbox in its own SQLite file; the worker's progress is `intake_cursor` in the main file."""

    def __init__(self, db: Database, *, synchronous: str = "FULL", window_ms: float = 1.0) -> None:
        from baodan.intake.tables import sqlite_inbox_metadata

        self.path = db.inbox_path
        self.db = db
        self._synchronous = synchronous
        engine_url = f"sqlite:///{self.path}"
        from sqlalchemy import create_engine

        engine = create_engine(engine_url)
        sqlite_inbox_metadata.create_all(engine)
        engine.dispose()
        self._writer = self._connect()
        self._local = threading.local()
        self._committer = GroupCommitter(self._flush, window_ms=window_ms)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60)
        sqlite_pragmas(conn, synchronous=self._synchronous)
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def _flush(self, groups: list[Sequence[EventRow]]) -> list[Appended | BaseException]:
        conn = self._writer
        now = clock.sql_text(clock.utcnow())
        results: list[Appended | BaseException] = []
        counters: dict[int, list[int]] = {}
        conn.execute("BEGIN IMMEDIATE")
        try:
            for i, rows in enumerate(groups):
                conn.execute(f"SAVEPOINT r{i}")
                accepted = 0
                try:
                    for shop_id, shop_rows in _by_shop(rows).items():
                        cur = conn.executemany(
                            f"INSERT OR IGNORE INTO inbox_event ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [(*row, now) for row in shop_rows])
                        _count(counters, shop_id, len(shop_rows), cur.rowcount)
                        accepted += cur.rowcount
                except sqlite3.Error as exc:
                    conn.execute(f"ROLLBACK TO r{i}")
                    results.append(exc)
                    continue
                conn.execute(f"RELEASE r{i}")
                results.append(Appended(accepted, len(rows) - accepted))
            conn.executemany(
                "INSERT INTO intake_counter (shop_id, accepted, duplicates) VALUES (?, ?, ?) "
                "ON CONFLICT (shop_id) DO UPDATE SET accepted = accepted + excluded.accepted, "
                "duplicates = duplicates + excluded.duplicates",
                [(shop, a, d) for shop, (a, d) in sorted(counters.items())])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return results

    def claim(self, session: Session, limit: int) -> list[InboxEvent]:
        """MUST run inside the worker's write transaction (BEGIN IMMEDIATE holds the cursor row)."""
        rows = fetchall(session, "SELECT last_event_id FROM intake_cursor WHERE name = 'inbox'")
        after = rows[0][0] if rows else 0
        cur = self._reader().execute(
            f"SELECT id, {_COLUMNS} FROM inbox_event WHERE id > ? ORDER BY id LIMIT ?", (after, limit))
        return [InboxEvent(*r) for r in cur.fetchall()]

    def mark_done(self, session: Session, events: Sequence[InboxEvent]) -> None:
        if not events:
            return
        cur = raw(session).cursor()
        cur.execute(
            "INSERT INTO intake_cursor (name, last_event_id) VALUES ('inbox', ?) "
            "ON CONFLICT (name) DO UPDATE SET last_event_id = excluded.last_event_id",
            (max(e.id for e in events),))
        cur.close()

    def pending(self, limit: int) -> int:
        with self.db.read() as session:
            rows = fetchall(session, "SELECT last_event_id FROM intake_cursor WHERE name = 'inbox'")
        after = rows[0][0] if rows else 0
        # Counted, not subtracted from max(id): ids have gaps where a redelivery was ignored.
        (count,) = self._reader().execute(
            "SELECT count(*) FROM (SELECT 1 FROM inbox_event WHERE id > ? LIMIT ?)", (after, limit)).fetchone()
        return count

    def stats(self) -> dict[int, tuple[int, int]]:
        cur = self._reader().execute("SELECT shop_id, accepted, duplicates FROM intake_counter")
        return {r[0]: (r[1], r[2]) for r in cur.fetchall()}

    def close(self) -> None:
        self._committer.close()
        self._writer.close()


class PostgresInbox(_GroupCommitInbox):
    """Inbox tables in the main PostgreSQL database: the event log and the pending queue that workers
    claim from with FOR UPDATE SKIP LOCKED."""

    def __init__(self, db: Database, *, window_ms: float = 1.0) -> None:
        self.db = db
        self._conninfo = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._writer: psycopg.Connection[Any] | None = None
        self._committer = GroupCommitter(self._flush, window_ms=window_ms)

    def _connection(self) -> psycopg.Connection[Any]:
        if self._writer is None or self._writer.closed:
            self._writer = psycopg.connect(self._conninfo)
            self._writer.execute("SET synchronous_commit = on")
            self._writer.commit()
        return self._writer

    def _flush(self, groups: list[Sequence[EventRow]]) -> list[Appended | BaseException]:
        conn = self._connection()
        now = clock.utcnow()
        results: list[Appended | BaseException] = []
        counters: dict[int, list[int]] = {}
        try:
            with conn.transaction():
                for rows in groups:
                    accepted = 0
                    request_counts: dict[int, list[int]] = {}
                    try:
                        with conn.transaction():  # a savepoint: one bad request fails alone
                            for shop_id, shop_rows in _by_shop(rows).items():
                                cur = conn.execute(
                                    f"WITH new AS (INSERT INTO inbox_event ({_COLUMNS}) SELECT c, s, o, st, u, p, "
                                    "%s FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::text[], "
                                    "%s::text[], %s::bytea[]) AS t(c, s, o, st, u, p) ON CONFLICT DO NOTHING "
                                    "RETURNING id) INSERT INTO inbox_pending (id) SELECT id FROM new",
                                    [now, *map(list, zip(*shop_rows, strict=True))])
                                _count(request_counts, shop_id, len(shop_rows), cur.rowcount)
                                accepted += cur.rowcount
                    except psycopg.DataError as exc:
                        results.append(exc)
                        continue
                    for shop_id, (a, d) in request_counts.items():
                        _count(counters, shop_id, a + d, a)
                    results.append(Appended(accepted, len(rows) - accepted))
                for shop, (a, d) in sorted(counters.items()):
                    conn.execute(
                        "INSERT INTO intake_counter (shop_id, accepted, duplicates) VALUES (%s, %s, %s) "
                        "ON CONFLICT (shop_id) DO UPDATE SET accepted = intake_counter.accepted + "
                        "excluded.accepted, duplicates = intake_counter.duplicates + excluded.duplicates",
                        (shop, a, d))
        except psycopg.OperationalError:
            if self._writer is not None:
                self._writer.close()
            raise
        return results

    def claim(self, session: Session, limit: int) -> list[InboxEvent]:
        """Take the oldest pending events off the queue in one statement. The delete is part of the
        batch's transaction: if the batch rolls back, the events are pending again."""
        rows = fetchall(session, "WITH claimed AS (DELETE FROM inbox_pending WHERE id IN (SELECT id FROM "
                                 "inbox_pending ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING id) "
                                 f"SELECT e.* FROM claimed c CROSS JOIN LATERAL (SELECT id, {_COLUMNS} FROM "
                                 "inbox_event WHERE id = c.id) AS e ORDER BY e.id", (limit,))
        return [InboxEvent(r[0], r[1], r[2], r[3], r[4], r[5], bytes(r[6]), clock.sql_text(r[7])) for r in rows]

    def mark_done(self, session: Session, events: Sequence[InboxEvent]) -> None:
        """Nothing left to do: `claim` marked the events in this transaction."""

    def pending(self, limit: int) -> int:
        with self.db.read() as session:
            rows = fetchall(session, "SELECT count(*) FROM (SELECT 1 FROM inbox_pending LIMIT ?) t", (limit,))
        return rows[0][0]

    def stats(self) -> dict[int, tuple[int, int]]:
        with self.db.read() as session:
            return {r[0]: (r[1], r[2]) for r in
                    fetchall(session, "SELECT shop_id, accepted, duplicates FROM intake_counter")}

    def close(self) -> None:
        self._committer.close()
        if self._writer is not None:
            self._writer.close()


def _by_shop(rows: Sequence[EventRow]) -> dict[int, list[EventRow]]:
    groups: dict[int, list[EventRow]] = {}
    for row in rows:
        groups.setdefault(row[1], []).append(row)
    return groups


def _count(counters: dict[int, list[int]], shop_id: int, total: int, accepted: int) -> None:
    entry = counters.setdefault(shop_id, [0, 0])
    entry[0] += accepted
    entry[1] += total - accepted
