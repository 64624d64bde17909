"""The audit trail: append-only, hash-chained records of who did what, when, from where (logins,
permission changes, PII reveals, exports, stock adjustments, order edits, settings changes).

- **Append-only**: a database trigger (migration 0002) refuses UPDATE and DELETE on `audit_log`.
- **Hash chain**: each record stores `prev_hash`, the hash of the record before it (64 zeros for the
  first), and `hash`, SHA-256 over a canonical serialisation of its own id, time, actor, action, target,
  ip, detail and prev_hash. Ids are allocated here, one after the other, so they are part of the hash.
  `verify` recomputes every hash and link, so someone who gets past the trigger (a database owner who
  disables it) still cannot edit or delete a record unseen: an edit breaks the record's hash, an edit
  with a recomputed hash breaks the next record's link, a deletion leaves a gap and a broken link.
- **Limit**: deleting the *last* records, or rewriting the chain from some record to the end, leaves a
  chain that is valid in itself. Only a head noted outside the database catches that: an operator keeps
  `head(db)` somewhere else (a ticket, a log shipper, a printout) and passes it to
  `verify(db, expect_head=...)`.

`record` writes inside the caller's transaction, so the audited change and its record commit or roll back
together. Writers are serialised so two never chain onto the same previous record: SQLite's write
transactions (BEGIN IMMEDIATE) already are; on PostgreSQL `record` takes a transaction-level advisory
lock that is held until the caller commits. Call it last in the transaction, after the audited change,
so the lock is held briefly and no other lock is taken after it; call it in a `db.write()` session (on
PostgreSQL at READ COMMITTED, the default, so it sees the record committed just before the lock).

**No secrets in `detail`**: callers pass masked values (138****5678, never a phone number, a password,
a TOTP secret, a session token or an API key secret; for a reveal, what was revealed and why, not the
clear text). The log is kept forever and cannot be edited, so a secret written here stays.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from baodan.core import clock
from baodan.core.db import Database, db_json, db_time, dialect_of, execute, fetchall, read_json, read_time
from baodan.core.errors import Invalid

GENESIS = "0" * 64  # prev_hash of the first record
# pg_advisory_xact_lock key that serialises appends on PostgreSQL (same 64-bit key space and derivation
# as the order locks of orders.repository, so a collision with one of them is as unlikely as any).
LOCK_KEY = int.from_bytes(hashlib.blake2b(b"baodan:audit_log", digest_size=8).digest(), "big", signed=True)
PAGE = 1000  # records per query while verifying
# Column widths (identity.tables.audit_log): actor and action must fit, target and ip are cut to fit.
_ACTOR_MAX, _ACTION_MAX, _TARGET_MAX, _IP_MAX = 100, 64, 200, 64
_COLUMNS = "id, at, actor, action, target, ip, detail, prev_hash, hash"


@dataclass(frozen=True, slots=True)
class AuditProblem:
    code: str  # audit.tampered | audit.chain_broken | audit.gap | audit.truncated
    message: str


def record(session: Session, *, actor: str, action: str, target: str | None = None, ip: str | None = None,
           detail: dict[str, Any] | None = None) -> int:
    """Append one record inside the session's transaction and return its id.

    `actor` is who (user:<name>, key:<prefix>, system, cli), `action` what (login, pii.reveal,
    stock.adjust, …), `target` what it was done to, `ip` from where, `detail` the rest (before/after):
    a JSON object of masked values only, never a secret (see the module's docstring)."""
    if not actor or len(actor) > _ACTOR_MAX:
        raise Invalid(f"audit actor must be 1 to {_ACTOR_MAX} characters", code="audit.invalid")
    if not action or len(action) > _ACTION_MAX:
        raise Invalid(f"audit action must be 1 to {_ACTION_MAX} characters", code="audit.invalid")
    if target is not None:
        target = target[:_TARGET_MAX]
    if ip is not None:
        ip = ip[:_IP_MAX]
    try:
        body = canonical_detail({} if detail is None else detail)
    except TypeError as exc:  # orjson.JSONEncodeError: a set, a key that is not a string, an int past 64 bits
        raise Invalid(f"audit detail is not JSON: {exc}", code="audit.invalid") from exc
    if not isinstance(body, dict):
        raise Invalid("audit detail must be a JSON object", code="audit.invalid")
    dialect = dialect_of(session)
    lock(session)
    last = fetchall(session, "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
    record_id, prev_hash = (last[0][0] + 1, last[0][1]) if last else (1, GENESIS)
    at = clock.utcnow()  # taken under the lock: times follow ids unless the clock steps back
    digest = record_hash(record_id, at, actor, action, target, ip, body, prev_hash)
    execute(session, f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record_id, db_time(dialect, at), actor, action, target, ip, db_json(dialect, body), prev_hash,
             digest))
    return record_id


def lock(session: Session) -> None:
    """Serialise audit writers until the transaction ends (SQLite's write transactions already are).
    Taken by `record`; take it earlier to read the log and append to it as one step (a quota check)."""
    if dialect_of(session) == "postgresql":
        fetchall(session, "SELECT pg_advisory_xact_lock(?)", (LOCK_KEY,))


def record_hash(record_id: int, at: datetime, actor: str, action: str, target: str | None, ip: str | None,
                detail: Any, prev_hash: str) -> str:
    """SHA-256 (hex) of the record's canonical serialisation: a JSON array of its fields in this order,
    the time as fixed-width UTC text, object keys sorted at every level."""
    payload = [record_id, clock.sql_text(at), actor, action, target, ip, canonical_detail(detail), prev_hash]
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def canonical_detail(value: Any) -> Any:
    """`value` as JSON reads it back, the same from SQLite's text and PostgreSQL's jsonb: whatever orjson
    serialises (datetimes, tuples, …) becomes plain JSON, and a float with an integral value that fits in
    64 bits becomes an int (jsonb keeps 1e20 as 100000000000000000000 and -0.0 as 0.0)."""
    return _integral_floats(orjson.loads(orjson.dumps(value)))


def _integral_floats(value: Any) -> Any:
    if isinstance(value, float):
        if value.is_integer() and -(2 ** 63) <= value < 2 ** 64:
            return int(value)
        return value
    if isinstance(value, dict):
        return {key: _integral_floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral_floats(item) for item in value]
    return value


def head(db: Database) -> tuple[int, str] | None:
    """The last record's (id, hash), for an operator to keep outside the database; None while empty."""
    with db.read() as s:
        rows = fetchall(s, "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
    return (int(rows[0][0]), rows[0][1]) if rows else None


def verify(db: Database, *, limit_problems: int = 50,
           expect_head: tuple[int, str] | None = None) -> list[AuditProblem]:
    """Walk the log in id order (a page at a time) and report every record whose hash does not match its
    contents, whose link does not match the record before it, every gap in ids, and, given the head an
    operator noted earlier, a log that no longer reaches it or holds another record there. Stops after
    `limit_problems` problems. An empty list means the log is intact (as far as `expect_head` reaches)."""
    if limit_problems < 1:
        raise Invalid("limit_problems must be at least 1", code="audit.invalid")
    problems: list[AuditProblem] = []
    expected_id, expected_prev = 1, GENESIS
    anchor_seen = False
    for record_id, at, actor, action, target, ip, detail, prev_hash, stored in _stream(db):
        if record_id != expected_id:
            span = str(expected_id) if record_id == expected_id + 1 else f"{expected_id} to {record_id - 1}"
            problems.append(AuditProblem("audit.gap", f"audit records {span} are missing (deleted)"))
        if prev_hash != expected_prev:
            before = "the genesis value" if expected_id == 1 else f"the hash of record {expected_id - 1}"
            problems.append(AuditProblem("audit.chain_broken", f"audit record {record_id} does not link to "
                                         f"{before}: a record before it was deleted or rewritten"))
        if _hash_of_row(record_id, at, actor, action, target, ip, detail, prev_hash) != stored:
            problems.append(AuditProblem("audit.tampered", f"audit record {record_id} ({action} by {actor}) "
                                         "does not match its hash: it was edited after it was written"))
        if expect_head is not None and expected_id <= expect_head[0] <= record_id:
            anchor_seen = True
            if record_id != expect_head[0]:
                problems.append(AuditProblem("audit.truncated", f"audit record {expect_head[0]}, noted as "
                                             "the head, is missing"))
            elif stored != expect_head[1]:
                problems.append(AuditProblem("audit.truncated", f"audit record {record_id} differs from the "
                                             "head noted earlier: the log was cut back and rewritten from there"))
        if len(problems) >= limit_problems:
            return problems[:limit_problems]
        expected_id, expected_prev = record_id + 1, stored
    if expect_head is not None and not anchor_seen:
        last = "the log is empty" if expected_id == 1 else f"the log ends at record {expected_id - 1}"
        problems.append(AuditProblem("audit.truncated", f"{last}, but record {expect_head[0]} was noted as "
                                     "the head: later records were deleted"))
    return problems[:limit_problems]


def _hash_of_row(record_id: int, at: Any, actor: str, action: str, target: str | None, ip: str | None,
                 detail: Any, prev_hash: str) -> str | None:
    """The hash a stored row should have; None if its time or detail cannot even be read (edited by hand)."""
    try:
        when = read_time(at)
        assert when is not None
        return record_hash(record_id, when, actor, action, target, ip, read_json(detail), prev_hash)
    except (ValueError, TypeError, AssertionError):  # orjson.JSONDecodeError is a ValueError
        return None


def _stream(db: Database) -> Iterator[tuple[int, Any, str, str, str | None, str | None, Any, str, str]]:
    """Every record in id order as stored, PAGE at a time (keyset pages, so memory stays bounded)."""
    after = 0
    while True:
        with db.read() as s:
            rows = fetchall(s, f"SELECT {_COLUMNS} FROM audit_log WHERE id > ? ORDER BY id LIMIT ?",
                            (after, PAGE))
        for row in rows:
            yield int(row[0]), *row[1:]
        if len(rows) < PAGE:
            return
        after = int(rows[-1][0])


def search(session: Session, *, actor: str | None = None, action: str | None = None,
           since: datetime | None = None, until: datetime | None = None, limit: int = 100,
           before_id: int | None = None) -> list[dict[str, Any]]:
    """Records newest first, filtered by actor, action and time (`since` <= at < `until`). For the next
    page pass the last id seen as `before_id`. At most 1000 records per call."""
    if not 1 <= limit <= 1000:
        raise Invalid("limit must be between 1 and 1000", code="audit.invalid")
    dialect = dialect_of(session)
    where: list[str] = []
    params: list[Any] = []
    for sql, value in (("actor = ?", actor), ("action = ?", action), ("at >= ?", db_time(dialect, since)),
                       ("at < ?", db_time(dialect, until)), ("id < ?", before_id)):
        if value is not None:
            where.append(sql)
            params.append(value)
    rows = fetchall(session, f"SELECT id, at, actor, action, target, ip, detail FROM audit_log "
                             f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY id DESC LIMIT ?",
                    (*params, limit))
    return [{"id": int(row[0]), "at": read_time(row[1]), "actor": row[2], "action": row[3], "target": row[4],
             "ip": row[5], "detail": read_json(row[6])} for row in rows]
