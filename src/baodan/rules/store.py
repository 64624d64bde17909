"""Rule sets kept in the database: every save is a new version (never an edit of an old one), one version
per hook is active, and every change is audited. Until a hook's rules are saved, the shipped default
(`rules/defaults/<hook>.json`) is in force as version 0. `RuleBook` keeps compiled rule sets per process
and notices a newly activated version within `ttl_s`."""

from __future__ import annotations

import threading
import time
from typing import Any

from baodan.core import clock
from baodan.core.db import Database, db_json, db_time, dialect_of, execute, fetchall, read_json, read_time
from baodan.core.errors import NotFound
from baodan.identity import audit
from baodan.rules.engine import HOOKS, Decider, RuleError, compile_rules, default_rules


def save(db: Database, hook: str, content: dict[str, Any], *, actor: str, note: str | None = None,
         ip: str | None = None) -> dict[str, Any]:
    """Store `content` as the hook's next version and make it the active one (refused with RuleError,
    nothing written, when it does not compile or answers outside the hook's shape)."""
    compile_rules(hook, content)
    now = clock.utcnow()
    with db.write() as s:
        dialect = dialect_of(s)
        ((latest,),) = fetchall(s, "SELECT coalesce(max(version), 0) FROM rule_set WHERE hook = ?", (hook,))
        version = int(latest) + 1
        execute(s, "UPDATE rule_set SET active = ? WHERE hook = ? AND active = ?", (False, hook, True))
        execute(s, "INSERT INTO rule_set (hook, version, content, note, active, created_by, created_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (hook, version, db_json(dialect, content), note, True, actor, db_time(dialect, now)))
        audit.record(s, actor=actor, action="settings.rules", target=f"rules:{hook}", ip=ip,
                     detail={"hook": hook, "version": version, "note": note})
    return describe(db, hook, version)


def activate(db: Database, hook: str, version: int, *, actor: str, ip: str | None = None) -> dict[str, Any]:
    """Make an earlier (or the default, 0) version the active one again: a roll-back, audited."""
    check_hook(hook)
    with db.write() as s:
        if version and not fetchall(s, "SELECT 1 FROM rule_set WHERE hook = ? AND version = ?", (hook, version)):
            raise NotFound(f"{hook} rules have no version {version}", code="rules.not_found")
        before = active_version(s, hook)
        execute(s, "UPDATE rule_set SET active = (version = ?) WHERE hook = ?", (version, hook))
        audit.record(s, actor=actor, action="settings.rules", target=f"rules:{hook}", ip=ip,
                     detail={"hook": hook, "activated": version, "before": before})
    return describe(db, hook, version)


def active_version(s: Any, hook: str) -> int:
    rows = fetchall(s, "SELECT version FROM rule_set WHERE hook = ? AND active = ?", (hook, True))
    return int(rows[0][0]) if rows else 0


def describe(db: Database, hook: str, version: int | None = None) -> dict[str, Any]:
    """A version of a hook's rules (default: the active one), with its content."""
    check_hook(hook)
    with db.read() as s:
        version = active_version(s, hook) if version is None else version
        rows = fetchall(s, "SELECT content, note, active, created_by, created_at FROM rule_set WHERE hook = ? "
                           "AND version = ?", (hook, version))
        active = active_version(s, hook)
    if version == 0:
        return {"hook": hook, "version": 0, "active": active == 0, "note": "shipped default", "created_by": None,
                "created_at": None, "content": default_rules(hook)}
    if not rows:
        raise NotFound(f"{hook} rules have no version {version}", code="rules.not_found")
    content, note, is_active, by, at = rows[0]
    return {"hook": hook, "version": version, "active": bool(is_active), "note": note, "created_by": by,
            "created_at": read_time(at), "content": read_json(content)}


def history(db: Database, hook: str) -> list[dict[str, Any]]:
    """Every saved version of a hook's rules, newest first (without their content), then the default."""
    check_hook(hook)
    with db.read() as s:
        rows = fetchall(s, "SELECT version, note, active, created_by, created_at FROM rule_set WHERE hook = ? "
                           "ORDER BY version DESC", (hook,))
    saved = [{"hook": hook, "version": int(v), "note": note, "active": bool(a), "created_by": by,
              "created_at": read_time(at)} for v, note, a, by, at in rows]
    default = {"hook": hook, "version": 0, "note": "shipped default", "active": not any(r["active"] for r in saved),
               "created_by": None, "created_at": None}
    return [*saved, default]


class RuleBook:
    """Compiled active rule sets per hook, re-read every `ttl_s` (another process may have saved one)."""

    def __init__(self, db: Database, *, ttl_s: float = 10.0) -> None:
        self.db, self.ttl_s = db, ttl_s
        self._lock = threading.Lock()
        self._cached: dict[str, tuple[float, Decider]] = {}

    def decider(self, hook: str) -> Decider:
        with self._lock:
            hit = self._cached.get(hook)
        if hit is not None and time.monotonic() - hit[0] < self.ttl_s:
            return hit[1]
        found = describe(self.db, hook)
        if hit is not None and hit[1].version == found["version"]:
            decider = hit[1]
        else:
            if found["content"] is None:
                raise RuleError(f"no {hook} rules are saved and none ship with BaoDan", code="rules.not_found")
            decider = compile_rules(hook, found["content"], version=found["version"])
        with self._lock:
            self._cached[hook] = (time.monotonic(), decider)
        return decider

    def forget(self) -> None:
        with self._lock:
            self._cached.clear()


def check_hook(hook: str) -> None:
    if hook not in HOOKS:
        raise NotFound(f"no hook {hook!r}; hooks: {', '.join(HOOKS)}", code="rules.unknown_hook")
