"""Users, passwords, sessions and API keys, and the Principal every request acts as.

- Passwords: argon2id with OWASP's parameters (19 MiB, 2 passes): ~27 ms per check on the 2-core box.
- Lockout: 5 wrong passwords lock the account for 15 minutes (counted per account, so spreading guesses
  over many addresses does not help); each failure and lock is audited.
- Sessions: a random token in an HttpOnly, SameSite=Strict cookie; only its SHA-256 is stored. Unsafe
  requests made with a session must repeat the session's CSRF token in `X-CSRF-Token`. Sessions expire
  after 12 hours without use and 7 days at most, and can be revoked.
- API keys: `bd_<prefix>_<secret>`, shown once; only the secret's SHA-256 is stored (the secret has 256
  bits, so a fast hash is enough); scoped to permissions and shops; revocable.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyotp
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from baodan.core import clock
from baodan.core.db import Database, db_json, db_time, dialect_of, execute, fetchall, read_json, read_time
from baodan.core.errors import BaoDanError, Invalid
from baodan.identity import audit
from baodan.identity.pii import PiiCipher
from baodan.identity.roles import ADMIN_ROLES, BUILTIN_ROLES, PERMISSIONS, RoleBook

HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.ID)
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
SESSION_IDLE = timedelta(hours=12)
SESSION_MAX = timedelta(days=7)
_DUMMY_HASH = HASHER.hash("not a password")  # checked for unknown users too, so timing tells nothing


class AuthError(BaoDanError):
    status = 401
    code = "auth.required"


class LoginFailed(AuthError):
    code = "auth.invalid_credentials"


class TotpRequired(AuthError):
    code = "auth.totp_required"


class AccountLocked(BaoDanError):
    status = 423
    code = "auth.locked"


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a user (session) or an integrator (API key), with their data scope."""

    kind: str  # user | key | system
    name: str  # username, or the key's prefix
    role: str
    permissions: frozenset[str]
    shop_ids: frozenset[int] | None = None  # None: every shop
    warehouse_ids: frozenset[int] | None = None  # None: every warehouse
    user_id: int | None = None
    csrf_token: str | None = field(default=None, repr=False)
    rate_per_minute: int | None = None
    must_change_password: bool = False  # logged in with a one-time password: only /auth/* until changed

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.name}"

    def can(self, permission: str) -> bool:
        return permission in self.permissions


SYSTEM = Principal("system", "cli", "owner", frozenset(PERMISSIONS))


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_password() -> str:
    return secrets.token_urlsafe(12)


def load_role_book(db: Database) -> RoleBook:
    with db.read() as s:
        rows = fetchall(s, "SELECT name, permissions FROM app_role")
    return RoleBook({name: read_json(perms) for name, perms in rows})


# ------------------------------------------------------------------------------------------------ users


def create_user(db: Database, *, username: str, role: str, display_name: str | None = None,
                password: str | None = None, shop_ids: list[int] | None = None,
                warehouse_ids: list[int] | None = None, actor: str = "system:cli",
                must_change_password: bool | None = None, ip: str | None = None) -> tuple[int, str]:
    """Create a user; returns (id, password). Without a password one is generated (shown once), and the
    user must change it before doing anything else (unless `must_change_password` says otherwise)."""
    username = username.strip()
    if not username or len(username) > 64:
        raise Invalid("username: 1 to 64 characters", code="users.invalid")
    book = load_role_book(db)
    if role not in book.roles:
        raise Invalid(f"role: unknown role {role!r}", code="users.unknown_role")
    if must_change_password is None:
        must_change_password = password is None
    password = password or new_password()
    _check_strength(password)
    now = clock.utcnow()
    with db.write() as s:
        dialect = dialect_of(s)
        if fetchall(s, "SELECT 1 FROM app_user WHERE username = ?", (username,)):
            raise Invalid(f"username {username!r} is taken", code="users.exists", status=409)
        ((user_id,),) = fetchall(
            s, "INSERT INTO app_user (username, display_name, password_hash, role, active, must_change_password, "
               "failed_logins, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?) RETURNING id",
            (username, display_name or username, HASHER.hash(password), role, True, must_change_password,
             db_time(dialect, now), db_time(dialect, now)))
        for kind, ids in (("shop", shop_ids or []), ("warehouse", warehouse_ids or [])):
            for ref_id in sorted(set(ids)):
                execute(s, "INSERT INTO user_scope (user_id, kind, ref_id) VALUES (?, ?, ?)", (user_id, kind, ref_id))
        audit.record(s, actor=actor, action="users.create", target=f"user:{username}", ip=ip,
                     detail={"role": role, "shops": sorted(set(shop_ids or [])),
                             "warehouses": sorted(set(warehouse_ids or []))})
    return user_id, password


def reset_password(db: Database, *, username: str, actor: str, ip: str | None = None) -> str:
    """An admin resets a password: a new one-time password, the lock lifted, every session revoked."""
    password = new_password()
    now = clock.utcnow()
    with db.write() as s:
        dialect = dialect_of(s)
        rows = fetchall(s, "SELECT id FROM app_user WHERE username = ?", (username,))
        if not rows:
            raise Invalid(f"no user {username!r}", code="users.not_found", status=404)
        execute(s, "UPDATE app_user SET password_hash = ?, must_change_password = ?, failed_logins = 0, "
                   "locked_until = NULL, updated_at = ? WHERE id = ?",
                (HASHER.hash(password), True, db_time(dialect, now), rows[0][0]))
        _revoke_sessions(s, rows[0][0], now)
        audit.record(s, actor=actor, action="users.reset_password", target=f"user:{username}", ip=ip)
    return password


def _check_strength(password: str) -> None:
    if len(password) < 10:
        raise Invalid("password: at least 10 characters", code="users.weak_password")
    if len(password) > 200:
        raise Invalid("password: at most 200 characters", code="users.weak_password")


def change_password(db: Database, *, user_id: int, current: str, new: str, keep_session: str | None,
                    ip: str | None = None) -> None:
    """A user changes their own password (the current one is asked again). Ends their other sessions."""
    _check_strength(new)
    if new == current:
        raise Invalid("the new password must differ from the current one", code="users.weak_password")
    with db.read() as s:
        rows = fetchall(s, "SELECT username, password_hash FROM app_user WHERE id = ?", (user_id,))
    if not rows or not _verify(rows[0][1], current):
        raise LoginFailed("the current password is wrong", code="auth.invalid_credentials")
    now = clock.utcnow()
    with db.write() as s:
        dialect = dialect_of(s)
        execute(s, "UPDATE app_user SET password_hash = ?, must_change_password = ?, updated_at = ? WHERE id = ?",
                (HASHER.hash(new), False, db_time(dialect, now), user_id))
        execute(s, "UPDATE user_session SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL "
                   "AND token_hash <> ?", (db_time(dialect, now), user_id, _sha256(keep_session or "")))
        audit.record(s, actor=f"user:{rows[0][0]}", action="users.change_password", target=f"user:{rows[0][0]}",
                     ip=ip)


def authenticate(db: Database, *, username: str, password: str, ip: str | None, totp_code: str | None = None,
                 pii: PiiCipher | None = None, require_2fa_for_admins: bool = False) -> int:
    """The user id if the password (and, once enrolled, the TOTP code) is right; counts failures and
    locks the account after too many. With `require_2fa_for_admins`, an admin without 2FA is refused
    until an operator enrols one (`baodan users totp NAME`)."""
    now = clock.utcnow()
    with db.read() as s:
        rows = fetchall(s, "SELECT id, password_hash, active, failed_logins, locked_until, totp_secret, role "
                           "FROM app_user WHERE username = ?", (username,))
    if not rows:
        _verify(_DUMMY_HASH, password)
        with db.write() as s:
            audit.record(s, actor=f"user:{username[:64]}", action="login_failed", ip=ip, detail={"why": "unknown"})
        raise LoginFailed("wrong username or password")
    user_id, hashed, active, failures, locked_until, totp_sealed, role = rows[0]
    locked = read_time(locked_until)
    if locked is not None and locked > now:
        raise AccountLocked(f"too many wrong passwords: locked until {clock.to_shanghai(locked):%H:%M} (上海时间)",
                            details={"locked_until": locked.isoformat()})
    ok = _verify(hashed, password) and active
    totp = _totp_state(totp_sealed, pii)
    why = "password" if active else "inactive"
    if ok and totp is not None and totp["confirmed"]:
        if not totp_code:
            raise TotpRequired("this account has two-factor login: send the 6-digit code as `totp`")
        if not pyotp.TOTP(totp["secret"]).verify(totp_code, valid_window=1):
            ok, why = False, "totp"
    if ok and require_2fa_for_admins and role in ADMIN_ROLES and not (totp and totp["confirmed"]):
        raise TotpRequired("administrators must use two-factor login here: ask for `baodan users totp "
                           f"{username}` to be run first", code="auth.totp_enrollment_required", status=403)
    with db.write() as s:
        dialect = dialect_of(s)
        if ok:
            execute(s, "UPDATE app_user SET failed_logins = 0, locked_until = NULL WHERE id = ?", (user_id,))
            if HASHER.check_needs_rehash(hashed):
                execute(s, "UPDATE app_user SET password_hash = ? WHERE id = ?", (HASHER.hash(password), user_id))
            audit.record(s, actor=f"user:{username}", action="login", ip=ip)
            return int(user_id)
        failures += 1
        lock = now + LOCK_FOR if failures >= MAX_FAILURES else None
        execute(s, "UPDATE app_user SET failed_logins = ?, locked_until = ? WHERE id = ?",
                (0 if lock else failures, db_time(dialect, lock), user_id))
        audit.record(s, actor=f"user:{username}", action="login_failed", ip=ip,
                     detail={"failures": failures, "locked": lock is not None, "why": why})
    if lock is not None:
        raise AccountLocked("too many wrong passwords: the account is locked for 15 minutes",
                            details={"locked_until": lock.isoformat()})
    raise LoginFailed("wrong username or password")


def enrol_totp(db: Database, *, username: str, pii: PiiCipher, actor: str, confirmed: bool) -> str:
    """A new TOTP secret for a user (sealed like PII); returns the otpauth:// URI for an authenticator app.
    `confirmed=False` (self-service): it takes effect once `confirm_totp` sees a valid code."""
    secret = pyotp.random_base32()
    with db.write() as s:
        if not execute(s, "UPDATE app_user SET totp_secret = ?, updated_at = ? WHERE username = ?",
                       (pii.seal({"secret": secret, "confirmed": confirmed}), db_time(dialect_of(s), clock.utcnow()),
                        username)):
            raise Invalid(f"no user {username!r}", code="users.not_found", status=404)
        audit.record(s, actor=actor, action="users.totp_enrol", target=f"user:{username}",
                     detail={"confirmed": confirmed})
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="BaoDan")


def confirm_totp(db: Database, *, user_id: int, code: str, pii: PiiCipher) -> None:
    with db.write() as s:
        rows = fetchall(s, "SELECT username, totp_secret FROM app_user WHERE id = ?", (user_id,))
        state = _totp_state(rows[0][1], pii) if rows else None
        if state is None:
            raise Invalid("start enrolment first (POST /api/v1/auth/totp)", code="auth.totp_not_started")
        if not pyotp.TOTP(state["secret"]).verify(code, valid_window=1):
            raise Invalid("that code is not valid now", code="auth.totp_invalid")
        execute(s, "UPDATE app_user SET totp_secret = ? WHERE id = ?",
                (pii.seal({"secret": state["secret"], "confirmed": True}), user_id))
        audit.record(s, actor=f"user:{rows[0][0]}", action="users.totp_confirm", target=f"user:{rows[0][0]}")


def _totp_state(sealed: str | None, pii: PiiCipher | None) -> dict[str, Any] | None:
    if sealed is None:
        return None
    if pii is None:
        raise AuthError("two-factor login needs the PII keys", code="auth.totp_unavailable", status=500)
    return pii.open(sealed)


def _verify(hashed: str, password: str) -> bool:
    try:
        return HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# --------------------------------------------------------------------------------------------- sessions


def open_session(db: Database, *, user_id: int, ip: str | None, user_agent: str | None) -> tuple[str, str]:
    """A new session; returns (cookie token, CSRF token). Only the token's hash is stored."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = clock.utcnow()
    with db.write() as s:
        dialect = dialect_of(s)
        execute(s, "INSERT INTO user_session (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, "
                   "ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (_sha256(token), user_id, csrf, db_time(dialect, now), db_time(dialect, now),
                 db_time(dialect, now + SESSION_MAX), (ip or "")[:64], (user_agent or "")[:300]))
    return token, csrf


def session_principal(db: Database, token: str, book: RoleBook) -> Principal | None:
    """The user behind a session cookie, or None if it is unknown, expired, revoked or the user inactive."""
    now = clock.utcnow()
    with db.read() as s:
        rows = fetchall(s, "SELECT s.user_id, s.csrf_token, s.last_seen_at, s.expires_at, s.revoked_at, u.username, "
                           "u.role, u.active, u.must_change_password FROM user_session s "
                           "JOIN app_user u ON u.id = s.user_id WHERE s.token_hash = ?", (_sha256(token),))
        if not rows:
            return None
        user_id, csrf, last_seen, expires, revoked, username, role, active, must_change = rows[0]
        if revoked is not None or not active or read_time(expires) <= now or read_time(last_seen) + SESSION_IDLE <= now:
            return None
        shops, warehouses = _scope(s, user_id)
    if (now - read_time(last_seen)).total_seconds() > 60:  # keep the idle clock without a write per request
        with db.write() as s:
            execute(s, "UPDATE user_session SET last_seen_at = ? WHERE token_hash = ?",
                    (db_time(dialect_of(s), now), _sha256(token)))
    return Principal("user", username, role, book.permissions(role), shops, warehouses, user_id, csrf,
                     must_change_password=bool(must_change))


def close_session(db: Database, token: str) -> None:
    with db.write() as s:
        execute(s, "UPDATE user_session SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
                (db_time(dialect_of(s), clock.utcnow()), _sha256(token)))


def revoke_sessions(db: Database, *, username: str, actor: str, ip: str | None = None) -> int:
    now = clock.utcnow()
    with db.write() as s:
        rows = fetchall(s, "SELECT id FROM app_user WHERE username = ?", (username,))
        if not rows:
            raise Invalid(f"no user {username!r}", code="users.not_found", status=404)
        count = _revoke_sessions(s, rows[0][0], now)
        audit.record(s, actor=actor, action="users.revoke_sessions", target=f"user:{username}", ip=ip,
                     detail={"sessions": count})
    return count


def _revoke_sessions(s: Any, user_id: int, now: datetime) -> int:
    return execute(s, "UPDATE user_session SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                   (db_time(dialect_of(s), now), user_id))


def _scope(s: Any, user_id: int) -> tuple[frozenset[int] | None, frozenset[int] | None]:
    rows = fetchall(s, "SELECT kind, ref_id FROM user_scope WHERE user_id = ?", (user_id,))
    shops = frozenset(r for k, r in rows if k == "shop")
    warehouses = frozenset(r for k, r in rows if k == "warehouse")
    return shops or None, warehouses or None


# --------------------------------------------------------------------------------------------- API keys


def create_api_key(db: Database, *, name: str, permissions: list[str], shop_ids: list[int] | None = None,
                   rate_per_minute: int = 600, actor: str, ip: str | None = None) -> str:
    """A new key, returned once (`bd_<prefix>_<secret>`); only the secret's hash is stored."""
    unknown = sorted(set(permissions) - set(PERMISSIONS))
    if unknown or not permissions:
        raise Invalid(f"permissions: unknown {unknown}" if unknown else "permissions: name at least one",
                      code="api_keys.invalid")
    prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
    now = clock.utcnow()
    with db.write() as s:
        dialect = dialect_of(s)
        execute(s, "INSERT INTO api_key (prefix, secret_hash, name, permissions, shop_ids, rate_per_minute, "
                   "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (prefix, _sha256(secret), name, db_json(dialect, sorted(set(permissions))),
                 db_json(dialect, sorted(set(shop_ids or []))), rate_per_minute, actor, db_time(dialect, now)))
        audit.record(s, actor=actor, action="api_keys.create", target=f"key:{prefix}", ip=ip,
                     detail={"name": name, "permissions": sorted(set(permissions)),
                             "shops": sorted(set(shop_ids or []))})
    return f"bd_{prefix}_{secret}"


def revoke_api_key(db: Database, *, prefix: str, actor: str, ip: str | None = None) -> None:
    with db.write() as s:
        if not execute(s, "UPDATE api_key SET revoked_at = ? WHERE prefix = ? AND revoked_at IS NULL",
                       (db_time(dialect_of(s), clock.utcnow()), prefix)):
            raise Invalid(f"no active API key {prefix!r}", code="api_keys.not_found", status=404)
        audit.record(s, actor=actor, action="api_keys.revoke", target=f"key:{prefix}", ip=ip)


def key_principal(db: Database, presented: str) -> Principal | None:
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != "bd":
        return None
    with db.read() as s:
        rows = fetchall(s, "SELECT secret_hash, permissions, shop_ids, rate_per_minute, revoked_at, last_used_at "
                           "FROM api_key WHERE prefix = ?", (parts[1],))
    if not rows:
        return None
    secret_hash, permissions, shop_ids, rate, revoked, last_used = rows[0]
    if revoked is not None or not hmac.compare_digest(secret_hash, _sha256(parts[2])):
        return None
    now = clock.utcnow()
    if last_used is None or (now - read_time(last_used)).total_seconds() > 60:  # not a write per request
        with db.write() as s:
            execute(s, "UPDATE api_key SET last_used_at = ? WHERE prefix = ?", (db_time(dialect_of(s), now), parts[1]))
    shops = frozenset(read_json(shop_ids))
    return Principal("key", parts[1], "api_key", frozenset(read_json(permissions)) & frozenset(PERMISSIONS),
                     shops or None, None, rate_per_minute=rate)


def bootstrap_admin(db: Database) -> tuple[str, str] | None:
    """The first owner account with a one-time password, if there is no user yet (`baodan init`)."""
    with db.read() as s:
        if fetchall(s, "SELECT 1 FROM app_user LIMIT 1"):
            return None
    _, password = create_user(db, username="admin", role="owner", display_name="管理员")
    return "admin", password


assert set(BUILTIN_ROLES) >= {"owner", "operator", "warehouse", "service", "purchasing", "finance", "auditor"}
