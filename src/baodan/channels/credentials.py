"""A shop's platform credentials: the app key is shown, every secret is sealed at rest (the PII cipher,
so `baodan pii rotate` re-seals them too) and never leaves through the API again (write-only)."""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

from baodan.channels.base import Credentials
from baodan.core import clock
from baodan.core.db import Database, db_time, dialect_of, execute, fetchall, read_time
from baodan.core.errors import Invalid, NotFound
from baodan.identity import audit
from baodan.identity.pii import PiiCipher

MAX_CALLS_PER_SECOND = 10_000.0
SHOWN = ("app_key", "platform_shop_id", "base_url", "calls_per_second")  # what the API shows: no secret


def new_secret() -> str:
    """A signing secret for an own channel (256 bits)."""
    return secrets.token_urlsafe(32)


def save(db: Database, pii: PiiCipher, *, shop_id: int, app_key: str, app_secret: str,
         platform_shop_id: str | None = None, base_url: str | None = None, access_token: str | None = None,
         extra: dict[str, str] | None = None, calls_per_second: float | None = None, actor: str,
         ip: str | None = None) -> dict[str, Any]:
    """`calls_per_second`: the rate the platform granted this shop where it is above the adapter's
    default (platforms raise quotas on request); None keeps the default."""
    if not app_secret:
        raise Invalid("app_secret: required", code="channels.invalid_credentials")
    if calls_per_second is not None and not 0 < calls_per_second <= MAX_CALLS_PER_SECOND:
        raise Invalid(f"calls_per_second: between 0 and {MAX_CALLS_PER_SECOND}", code="channels.invalid_credentials")
    sealed = pii.seal({"app_secret": app_secret, "access_token": access_token, "extra": extra or {}})
    now = clock.utcnow()
    with db.write() as s:
        dialect = dialect_of(s)
        if not fetchall(s, "SELECT 1 FROM shop WHERE id = ?", (shop_id,)):
            raise NotFound(f"no shop {shop_id}", code="catalog.not_found")
        old = fetchall(s, "SELECT app_key, platform_shop_id, base_url, calls_per_second FROM shop_credential "
                          "WHERE shop_id = ?", (shop_id,))
        execute(s, "INSERT INTO shop_credential (app_key, platform_shop_id, base_url, calls_per_second, "
                   "secrets_sealed, updated_by, updated_at, shop_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT (shop_id) DO UPDATE SET app_key = excluded.app_key, "
                   "platform_shop_id = excluded.platform_shop_id, base_url = excluded.base_url, "
                   "calls_per_second = excluded.calls_per_second, secrets_sealed = excluded.secrets_sealed, "
                   "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                (app_key, platform_shop_id, base_url, calls_per_second, sealed, actor, db_time(dialect, now),
                 shop_id))
        audit.record(s, actor=actor, action="settings.shop_credentials", target=f"shop:{shop_id}", ip=ip,
                     detail={"before": dict(zip(SHOWN, old[0], strict=True)) if old else None,
                             "after": dict(zip(SHOWN, (app_key, platform_shop_id, base_url, calls_per_second),
                                               strict=True)),
                             "secrets": "replaced"})
    return summary(db, shop_id)


def summary(db: Database, shop_id: int) -> dict[str, Any]:
    """What the API shows of a shop's credentials: never a secret."""
    with db.read() as s:
        rows = fetchall(s, f"SELECT {', '.join(SHOWN)}, updated_by, updated_at FROM shop_credential "
                           "WHERE shop_id = ?", (shop_id,))
    if not rows:
        return {"shop_id": shop_id, "configured": False, **dict.fromkeys(SHOWN), "updated_by": None,
                "updated_at": None}
    *shown, by, at = rows[0]
    return {"shop_id": shop_id, "configured": True, **dict(zip(SHOWN, shown, strict=True)), "updated_by": by,
            "updated_at": read_time(at)}


def load(db: Database, pii: PiiCipher, shop_id: int) -> Credentials | None:
    with db.read() as s:
        rows = fetchall(s, "SELECT app_key, platform_shop_id, secrets_sealed FROM shop_credential WHERE shop_id = ?",
                        (shop_id,))
    if not rows:
        return None
    app_key, platform_shop_id, sealed = rows[0]
    opened = pii.open(sealed)
    return Credentials(app_key=app_key, app_secret=opened["app_secret"], shop_id=platform_shop_id or "",
                       access_token=opened.get("access_token"), extra=opened.get("extra") or {})


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
