"""A shop's platform credentials: the app key is shown, every secret is sealed at rest (the PII cipher,
so `baodan pii rotate` re-seals them too) and never leaves through the API again (write-only). The
access and refresh tokens are secrets like the others; when each stops working is shown
(`token_expires_at`, `refresh_expires_at`), and `channels.tokens` renews them here."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from baodan.channels.base import Credentials
from baodan.core import clock
from baodan.core.db import Database, db_time, dialect_of, execute, fetchall, read_time
from baodan.core.errors import Invalid, NotFound
from baodan.identity import audit
from baodan.identity.pii import PiiCipher

MAX_CALLS_PER_SECOND = 10_000.0
SHOWN = ("app_key", "platform_shop_id", "base_url", "calls_per_second")  # what the API shows: no secret
TOKEN_TIMES = ("token_expires_at", "refresh_expires_at")  # shown too: when the sealed tokens stop working


def new_secret() -> str:
    """A signing secret for an own channel (256 bits)."""
    return secrets.token_urlsafe(32)


def save(db: Database, pii: PiiCipher, *, shop_id: int, app_key: str, app_secret: str | None,
         platform_shop_id: str | None = None, base_url: str | None = None, access_token: str | None = None,
         extra: dict[str, str] | None = None, calls_per_second: float | None = None,
         refresh_token: str | None = None, token_expires_at: datetime | None = None,
         refresh_expires_at: datetime | None = None, keep_secrets: bool = False, actor: str,
         ip: str | None = None) -> dict[str, Any]:
    """`calls_per_second`: the rate the platform granted this shop where it is above the adapter's
    default (platforms raise quotas on request); None keeps the default. `token_expires_at` and
    `refresh_expires_at` (aware times, None: not known) are when the access and refresh tokens stop
    working: BaoDan renews the access token ahead of then (channels.tokens). `keep_secrets`: a secret
    left out (None, or no `extra`) keeps the stored one, read under the write lock, and a kept token
    keeps when it stops working; the shop must have credentials already."""
    if not app_secret and not keep_secrets:
        raise Invalid("app_secret: required", code="channels.invalid_credentials")
    if calls_per_second is not None and not 0 < calls_per_second <= MAX_CALLS_PER_SECOND:
        raise Invalid(f"calls_per_second: between 0 and {MAX_CALLS_PER_SECOND}", code="channels.invalid_credentials")
    if any(t is not None and t.tzinfo is None for t in (token_expires_at, refresh_expires_at)):
        raise Invalid("token_expires_at, refresh_expires_at: a time with its offset",
                      code="channels.invalid_credentials")
    now = clock.utcnow()
    with db.write() as s:
        dialect = dialect_of(s)
        if not fetchall(s, "SELECT 1 FROM shop WHERE id = ?", (shop_id,)):
            raise NotFound(f"no shop {shop_id}", code="catalog.not_found")
        if keep_secrets:
            stored = lock_for_refresh(s, pii, shop_id)
            if stored is None:
                raise Invalid("keep_secrets: the shop has no credentials to keep", code="channels.invalid_credentials")
            kept = stored.creds
            app_secret = app_secret or kept.app_secret
            if access_token is None:
                access_token, token_expires_at = kept.access_token, stored.token_expires_at
            if refresh_token is None:
                refresh_token, refresh_expires_at = kept.refresh_token, stored.refresh_expires_at
            extra = extra or dict(kept.extra)
        sealed = _seal(pii, Credentials(app_key, app_secret or "", access_token=access_token, extra=extra or {},
                                        refresh_token=refresh_token))
        old = fetchall(s, "SELECT app_key, platform_shop_id, base_url, calls_per_second FROM shop_credential "
                          "WHERE shop_id = ?", (shop_id,))
        execute(s, "INSERT INTO shop_credential (app_key, platform_shop_id, base_url, calls_per_second, "
                   "secrets_sealed, token_expires_at, refresh_expires_at, updated_by, updated_at, shop_id) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT (shop_id) DO UPDATE SET app_key = excluded.app_key, "
                   "platform_shop_id = excluded.platform_shop_id, base_url = excluded.base_url, "
                   "calls_per_second = excluded.calls_per_second, secrets_sealed = excluded.secrets_sealed, "
                   "token_expires_at = excluded.token_expires_at, refresh_expires_at = excluded.refresh_expires_at, "
                   "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                (app_key, platform_shop_id, base_url, calls_per_second, sealed, db_time(dialect, token_expires_at),
                 db_time(dialect, refresh_expires_at), actor, db_time(dialect, now), shop_id))
        audit.record(s, actor=actor, action="settings.shop_credentials", target=f"shop:{shop_id}", ip=ip,
                     detail={"before": dict(zip(SHOWN, old[0], strict=True)) if old else None,
                             "after": dict(zip(SHOWN, (app_key, platform_shop_id, base_url, calls_per_second),
                                               strict=True)),
                             "token_expires_at": token_expires_at, "refresh_expires_at": refresh_expires_at,
                             "secrets": "kept unless given" if keep_secrets else "replaced"})
    return summary(db, shop_id)


def summary(db: Database, shop_id: int) -> dict[str, Any]:
    """What the API shows of a shop's credentials: never a secret."""
    with db.read() as s:
        rows = fetchall(s, f"SELECT {', '.join(SHOWN)}, updated_by, updated_at, {', '.join(TOKEN_TIMES)} "
                           "FROM shop_credential WHERE shop_id = ?", (shop_id,))
    if not rows:
        return {"shop_id": shop_id, "configured": False, **dict.fromkeys(SHOWN), "updated_by": None,
                "updated_at": None, **dict.fromkeys(TOKEN_TIMES)}
    *shown, by, at, token_at, refresh_at = rows[0]
    return {"shop_id": shop_id, "configured": True, **dict(zip(SHOWN, shown, strict=True)), "updated_by": by,
            "updated_at": read_time(at), "token_expires_at": read_time(token_at),
            "refresh_expires_at": read_time(refresh_at)}


def load(db: Database, pii: PiiCipher, shop_id: int) -> Credentials | None:
    with db.read() as s:
        return stored(s, pii, shop_id)


def stored(s: Session, pii: PiiCipher, shop_id: int) -> Credentials | None:
    """The shop's credentials as last saved or renewed (in the caller's transaction); None: not connected."""
    rows = fetchall(s, "SELECT app_key, platform_shop_id, secrets_sealed FROM shop_credential WHERE shop_id = ?",
                    (shop_id,))
    return _opened(pii, *rows[0]) if rows else None


class Stored(NamedTuple):
    creds: Credentials
    token_expires_at: datetime | None
    refresh_expires_at: datetime | None
    saved_at: datetime | None  # when they were saved (by the merchant, or by the last renewal)


def lock_for_refresh(s: Session, pii: PiiCipher, shop_id: int) -> Stored | None:
    """The shop's credentials and when its access and refresh tokens stop working, read under a lock
    held until the transaction ends (FOR UPDATE on PostgreSQL; SQLite's write transaction already is
    one): another process refreshing the same shop waits, then reads what this one stored."""
    lock = " FOR UPDATE" if dialect_of(s) == "postgresql" else ""
    rows = fetchall(s, "SELECT app_key, platform_shop_id, secrets_sealed, token_expires_at, refresh_expires_at, "
                       f"updated_at FROM shop_credential WHERE shop_id = ?{lock}", (shop_id,))
    if not rows:
        return None
    app_key, platform_shop_id, sealed, token_at, refresh_at, saved_at = rows[0]
    return Stored(_opened(pii, app_key, platform_shop_id, sealed), read_time(token_at), read_time(refresh_at),
                  read_time(saved_at))


def store_token(s: Session, pii: PiiCipher, *, shop_id: int, creds: Credentials, token_expires_at: datetime,
                refresh_expires_at: datetime | None, reason: str, actor: str, now: datetime) -> None:
    """Keep renewed tokens (sealed, inside the caller's transaction) and audit it without them. The
    credentials count as saved `now` by `actor` (so the token's lifetime counts from now)."""
    dialect = dialect_of(s)
    execute(s, "UPDATE shop_credential SET secrets_sealed = ?, token_expires_at = ?, refresh_expires_at = ?, "
               "updated_by = ?, updated_at = ? WHERE shop_id = ?",
            (_seal(pii, creds), db_time(dialect, token_expires_at), db_time(dialect, refresh_expires_at), actor,
             db_time(dialect, now), shop_id))
    audit.record(s, actor=actor, action="settings.shop_token_refreshed", target=f"shop:{shop_id}",
                 detail={"reason": reason, "token_expires_at": token_expires_at,
                         "refresh_expires_at": refresh_expires_at, "secrets": "replaced"})


def mark_unrenewable(s: Session, *, shop_id: int, expired: bool, now: datetime) -> None:
    """Record that the shop's access token cannot be renewed from `now` on (refresh_expires_at = now: no
    refresh token, or it expired or was refused) and, `expired`, that the access token no longer works;
    BaoDan then calls the platform with neither until the merchant saves new credentials."""
    at = db_time(dialect_of(s), now)
    execute(s, "UPDATE shop_credential SET refresh_expires_at = CASE WHEN refresh_expires_at IS NULL OR "
               "refresh_expires_at > ? THEN ? ELSE refresh_expires_at END WHERE shop_id = ?", (at, at, shop_id))
    if expired:
        execute(s, "UPDATE shop_credential SET token_expires_at = ? WHERE shop_id = ? AND "
                   "(token_expires_at IS NULL OR token_expires_at > ?)", (at, shop_id, at))


def _seal(pii: PiiCipher, creds: Credentials) -> str:
    return pii.seal({"app_secret": creds.app_secret, "access_token": creds.access_token,
                     "refresh_token": creds.refresh_token, "extra": dict(creds.extra)})


def _opened(pii: PiiCipher, app_key: str, platform_shop_id: str | None, sealed: str) -> Credentials:
    opened = pii.open(sealed)
    return Credentials(app_key=app_key, app_secret=opened["app_secret"], shop_id=platform_shop_id or "",
                       access_token=opened.get("access_token"), extra=opened.get("extra") or {},
                       refresh_token=opened.get("refresh_token"))


class CredentialCache:
    """Opened credentials per shop, kept `ttl_s` (webhooks verify every push; a changed secret takes
    effect within ttl_s, at once in the process that saved it)."""

    def __init__(self, db: Database, pii: PiiCipher, *, ttl_s: float = 10.0) -> None:
        self._db, self._pii, self._ttl_s = db, pii, ttl_s
        self._lock = threading.Lock()
        self._cached: dict[int, tuple[float, Credentials | None]] = {}

    def get(self, shop_id: int) -> Credentials | None:
        with self._lock:
            hit = self._cached.get(shop_id)
        if hit is not None and time.monotonic() - hit[0] < self._ttl_s:
            return hit[1]
        found = load(self._db, self._pii, shop_id)
        with self._lock:
            self._cached[shop_id] = (time.monotonic(), found)
        return found

    def forget(self, shop_id: int) -> None:
        with self._lock:
            self._cached.pop(shop_id, None)
