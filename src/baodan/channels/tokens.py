"""Shops' access tokens kept working: renewed ahead of expiry, and once more when a platform answers that
one expired; a token that cannot be renewed stops the shop's calls until the merchant re-authorises.

- **When**: a token is renewed once less than `min(1 hour, 10% of its lifetime)` is left (`refresh_due`),
  its lifetime counting from when it was saved (by the merchant, or by the last renewal). An hour is
  plenty for any platform's refresh call, and 10% keeps a 7200 s WeChat token from being renewed every
  hour (it is renewed 12 minutes ahead).
- **One renewal at a time per shop**: a lock per shop in the process, and the shop's `shop_credential` row
  locked across the refresh call (`credentials.lock_for_refresh`: FOR UPDATE on PostgreSQL, the write
  transaction on SQLite, held for one HTTP round trip every few days per shop). The row is read again under
  the lock: if its token is no longer the one that was used, another process renewed it (or the merchant
  saved new credentials) and that token is taken, so two processes never both use up a refresh token.
- **Stored** in that one transaction: the new tokens sealed with the other secrets, the new expiry times,
  and an audit record `settings.shop_token_refreshed` (times only, no token).
- **Refused**: a refresh the platform refuses (or that cannot be made: no refresh token, or it expired)
  marks the shop (`credentials.mark_unrenewable`: refresh_expires_at = now, and the access token expired
  when the platform said so). The shop's calls then raise ReauthorizeNeeded without reaching the platform
  once its access token has expired, `baodan channels status` says the merchant must re-authorise, and
  nothing is retried until new credentials are saved. A refresh that fails for a passing reason (5xx,
  timeout) is not tried again for `cooldown`; meanwhile the token in hand is used while it works.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from baodan.channels import credentials
from baodan.channels.base import PlatformError, ReauthorizeNeeded
from baodan.channels.transport import ShopLink, Transport
from baodan.core import clock
from baodan.core.db import Database
from baodan.identity.pii import PiiCipher

if TYPE_CHECKING:
    from baodan.channels.ingest import LinkDirectory

log = logging.getLogger("baodan.channels")

MAX_MARGIN = timedelta(hours=1)
MARGIN_SHARE = 0.1
REFRESH_ATTEMPTS = 2  # the refresh call holds the shop's row locked: retry it once, not four times
REFRESH_ACTOR = "system:token-refresh"


def refresh_due(expires_at: datetime | None, saved_at: datetime | None) -> datetime | None:
    """When to renew a token that stops working at `expires_at` and was saved at `saved_at`: `min(1 hour,
    10% of its lifetime)` ahead (None when its expiry is not known)."""
    if expires_at is None:
        return None
    lifetime = expires_at - saved_at if saved_at is not None and saved_at < expires_at else timedelta(0)
    return expires_at - min(MAX_MARGIN, lifetime * MARGIN_SHARE)


def token_problem(token_expires_at: datetime | None, refresh_expires_at: datetime | None, *,
                  now: datetime) -> str | None:
    """What the merchant must do about a shop's token, for the status; None while it is renewed as due."""
    if refresh_expires_at is None or refresh_expires_at > now:
        return None
    since = f"since {_shown(refresh_expires_at)} (no refresh token, or it expired or the platform refused it)"
    if token_expires_at is not None and token_expires_at > now:
        return (f"re-authorise before {_shown(token_expires_at)}: the access token cannot be renewed {since}; "
                "save the new token with PUT /api/v1/shops/{id}/credentials or `baodan channels connect`")
    return (f"re-authorise: the access token has expired and cannot be renewed {since}; save the new token "
            "with PUT /api/v1/shops/{id}/credentials or `baodan channels connect`")


class TokenKeeper:
    """Renews shops' access tokens for a Transport (its `tokens`). `directory`: the process's shop links,
    forgotten after a renewal so the next links carry the new token (links held meanwhile are brought up to
    date by `ready`)."""

    def __init__(self, db: Database, pii: PiiCipher, *, directory: LinkDirectory | None = None,
                 cooldown: timedelta = timedelta(seconds=60)) -> None:
        self.db, self.pii, self.directory, self.cooldown = db, pii, directory, cooldown
        self._lock = threading.Lock()
        self._shop_locks: dict[int, threading.Lock] = {}
        self._renewed: dict[tuple[int, str | None], ShopLink] = {}  # (shop, replaced token) → newer link
        self._failing: dict[int, tuple[float, PlatformError]] = {}  # shop → (retry after, the passing failure)

    def ready(self, link: ShopLink, transport: Transport) -> ShopLink:
        """The link with the shop's newest token, renewed first when due. Raises ReauthorizeNeeded for a token
        that has expired and cannot be renewed; a renewal that fails while the token still works is logged
        and the token used."""
        link = self.newest(link)
        now = clock.utcnow()
        expires_at = link.token_expires_at
        if expires_at is None or link.refresh_due_at is None or now < link.refresh_due_at:
            return link
        expired = now >= expires_at
        if not self._renewable(link, now):
            if expired:
                raise ReauthorizeNeeded(f"{link.shop_code}: " + (token_problem(expires_at, link.refresh_expires_at,
                                                                               now=now) or "re-authorise"),
                                        details={"shop": link.shop_code})
            return link
        try:
            return self.renew(link, transport, expired=expired)
        except PlatformError as exc:
            if expired:
                raise
            log.warning("%s: the access token was not renewed ahead of expiry (%s); it works until %s",
                        link.shop_code, exc.message, expires_at)
            return self.newest(link)

    def renew(self, link: ShopLink, transport: Transport, *, expired: bool) -> ShopLink:
        """A new token for the link's shop, or the one another thread or process got since `link` was read
        (then nothing is called). `expired`: the platform said the link's token no longer works (or its
        expiry passed). Raises ReauthorizeNeeded when it cannot be renewed, the refresh call's PlatformError
        when that failed for a passing reason."""
        used = link.creds.access_token
        with self._shop_lock(link.shop_id):
            newer = self.newest(link)
            if newer.creds.access_token != used:
                return newer
            failing = self._failing.get(link.shop_id)
            if failing is not None and time.monotonic() < failing[0]:
                raise failing[1]
            outcome = self._renew_locked(link, transport, expired=expired)
            if isinstance(outcome, ShopLink):
                self._failing.pop(link.shop_id, None)
                with self._lock:
                    self._renewed[(link.shop_id, used)] = outcome
            elif outcome.retryable:
                self._failing[link.shop_id] = (time.monotonic() + self.cooldown.total_seconds(), outcome)
        self._forget(link.shop_id)
        if isinstance(outcome, PlatformError):
            raise outcome
        return outcome

    def newest(self, link: ShopLink) -> ShopLink:
        """The link this keeper renewed `link`'s token into (following renewals), else `link`."""
        with self._lock:
            for _ in range(100):  # renewals in one process's life; the bound only guards against a cycle
                newer = self._renewed.get((link.shop_id, link.creds.access_token))
                if newer is None:
                    break
                link = newer
        return link

    def _renew_locked(self, link: ShopLink, transport: Transport, *, expired: bool) -> ShopLink | PlatformError:
        now = clock.utcnow()
        with self.db.write() as s:
            found = credentials.lock_for_refresh(s, self.pii, link.shop_id)
            if found is None:
                return PlatformError(f"{link.shop_code}: the shop has no credentials", code="channel.not_configured")
            creds, token_expires_at, refresh_expires_at, saved_at = found
            if creds.access_token != link.creds.access_token:  # renewed meanwhile: take that one
                return replace(link, creds=creds, token_expires_at=token_expires_at,
                               refresh_due_at=refresh_due(token_expires_at, saved_at),
                               refresh_expires_at=refresh_expires_at)
            call = link.adapter.token_refresh_call(creds)
            why = "no refresh token" if call is None else None
            if call is not None and refresh_expires_at is not None and refresh_expires_at <= now:
                why = "the refresh token expired or was refused"
            if why is None:
                assert call is not None
                try:
                    token = link.adapter.parse_token(transport.send(replace(link, creds=creds), call,
                                                                    max_attempts=REFRESH_ATTEMPTS), now=now)
                except PlatformError as exc:
                    if exc.retryable:
                        return exc
                    why = f"the platform refused the refresh: {exc.message}"
                else:
                    renewed = replace(creds, access_token=token.access_token,
                                      refresh_token=token.refresh_token or creds.refresh_token)
                    refresh_at = token.refresh_expires_at if token.refresh_token else refresh_expires_at
                    credentials.store_token(s, self.pii, shop_id=link.shop_id, creds=renewed,
                                            token_expires_at=token.expires_at, refresh_expires_at=refresh_at,
                                            reason="expired" if expired else "due", actor=REFRESH_ACTOR, now=now)
                    return replace(link, creds=renewed, token_expires_at=token.expires_at,
                                   refresh_due_at=refresh_due(token.expires_at, now), refresh_expires_at=refresh_at)
            credentials.mark_unrenewable(s, shop_id=link.shop_id, expired=expired, now=now)
        log.warning("%s: the access token cannot be renewed (%s): the merchant must re-authorise",
                    link.shop_code, why)
        return ReauthorizeNeeded(f"{link.shop_code}: the access token cannot be renewed ({why}): re-authorise "
                                 "the shop on the platform and save the new token (PUT /api/v1/shops/{id}/credentials "
                                 "or `baodan channels connect`)", details={"shop": link.shop_code, "reason": why})

    def _renewable(self, link: ShopLink, now: datetime) -> bool:
        dead = link.refresh_expires_at is not None and link.refresh_expires_at <= now
        return not dead and link.adapter.token_refresh_call(link.creds) is not None

    def _shop_lock(self, shop_id: int) -> threading.Lock:
        with self._lock:
            return self._shop_locks.setdefault(shop_id, threading.Lock())

    def _forget(self, shop_id: int) -> None:
        if self.directory is not None:
            self.directory.credentials.forget(shop_id)
            self.directory.forget()


def _shown(at: datetime) -> str:
    return f"{clock.to_shanghai(at):%Y-%m-%d %H:%M} (上海)"
