"""Who is calling, and may they: the one authentication and permission gate of the HTTP API.

Every route under /api/v1 declares its permission with `Depends(require("orders.read"))`; a test walks
the route table and fails for a route without one (tests/api/test_permissions.py). A request is
authenticated by an API key (`Authorization: Bearer bd_…`) or a session cookie; with a session, unsafe
methods must repeat the session's CSRF token in `X-CSRF-Token`. Per caller rate limits answer 429 with
Retry-After (the `limits` library: memory store embedded, Redis when BAODAN_REDIS_URL is set).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItemPerMinute, storage, strategies

from baodan.core.errors import BaoDanError
from baodan.identity import accounts
from baodan.identity.accounts import AuthError, Principal

log = logging.getLogger("baodan.http")
SESSION_COOKIE = "baodan_session"
CSRF_HEADER = "x-csrf-token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Forbidden(BaoDanError):
    status = 403
    code = "auth.forbidden"


class RateLimited(BaoDanError):
    status = 429
    code = "rate_limited"


class RateLimits:
    """Moving-window limits per caller (API key, or user). With Redis, every API process counts in one
    place. If Redis stops answering, requests are let through (logged at most once a minute): a rate
    limit must not turn a Redis outage into an order-intake outage."""

    def __init__(self, redis_url: str | None = None, *, per_user_per_minute: int = 1200) -> None:
        self.storage = storage.storage_from_string(redis_url) if redis_url else storage.MemoryStorage()
        self.limiter = strategies.MovingWindowRateLimiter(self.storage)
        self.per_user = per_user_per_minute
        self._warned_at = 0.0

    def check(self, principal: Principal) -> None:
        self.hit(principal.actor, principal.rate_per_minute or self.per_user)

    def allow(self, who: str, per_minute: int) -> bool:
        """Count one more for `who`; False once over `per_minute` (for quiet throttles, no error)."""
        return self._hit(RateLimitItemPerMinute(per_minute), who)

    def hit(self, who: str, per_minute: int) -> None:
        item = RateLimitItemPerMinute(per_minute)
        if not self._hit(item, who):
            reset_at, _ = self.limiter.get_window_stats(item, who)
            retry = max(1, math.ceil(reset_at - time.time()))
            raise RateLimited(f"more than {item.amount} requests a minute; try again in {retry} s",
                              details={"retry_after_s": retry, "limit_per_minute": item.amount})

    def _hit(self, item: RateLimitItemPerMinute, who: str) -> bool:
        try:
            return bool(self.limiter.hit(item, who))
        except Exception as exc:  # the store is unreachable (redis.ConnectionError, timeouts): fail open
            if time.monotonic() - self._warned_at > 60:
                self._warned_at = time.monotonic()
                log.warning("rate-limit store unavailable, not limiting: %s", exc)
            return True


def principal_of(request: Request) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    rt = request.app.state.runtime
    principal: Principal | None = None
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        principal = accounts.key_principal(rt.db, authorization[7:].strip())
        if principal is None:
            raise AuthError("the API key is unknown or revoked", code="auth.invalid_key")
    else:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            principal = accounts.session_principal(rt.db, token, rt.role_book())
        if principal is None:
            raise AuthError("log in first (POST /api/v1/auth/login) or send an API key")
        if request.method in UNSAFE and request.headers.get(CSRF_HEADER) != principal.csrf_token:
            raise Forbidden("the X-CSRF-Token header is missing or wrong", code="auth.csrf")
    rt.rate_limits.check(principal)
    request.state.principal = principal
    return principal


_BEARER = HTTPBearer(auto_error=False, description="an API key: bd_<prefix>_<secret>", scheme_name="APIKey")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]
# Declares the CSRF header as a scheme too, so /docs can send it after a cookie login (paste the login
# answer's csrf_token under Authorize → CSRF); the check itself is in principal_of.
_CSRF = APIKeyHeader(name="X-CSRF-Token", auto_error=False, scheme_name="CSRF",
                     description="with a session cookie: the csrf_token of the login answer")
Csrf = Annotated[str | None, Depends(_CSRF)]


def require(permission: str) -> Callable[..., Principal]:
    """A FastAPI dependency: the caller, who must hold `permission`. The route table test reads
    `.permission` off it. (The bearer and CSRF parameters declare their schemes in OpenAPI, so /docs can
    authorize; the headers themselves are read by `principal_of`.)"""

    def dependency(request: Request, _key: Bearer = None, _csrf: Csrf = None) -> Principal:
        principal = principal_of(request)
        if principal.must_change_password:
            raise Forbidden("change your one-time password first (POST /api/v1/auth/password)",
                            code="auth.password_change_required")
        if not principal.can(permission):
            raise Forbidden(f"this needs the {permission!r} permission", details={"permission": permission})
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency


def signed_in(request: Request, _key: Bearer = None, _csrf: Csrf = None) -> Principal:
    """A FastAPI dependency: any authenticated caller (permission "*" in the route table)."""
    return principal_of(request)


signed_in.permission = "*"  # type: ignore[attr-defined]


def public(request: Request) -> None:
    """A FastAPI dependency marking a route that needs no login (the route table test accepts it)."""


public.permission = None  # type: ignore[attr-defined]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def route_permission(route: Any) -> str | None | bool:
    """The permission a route declares: a string ("*": any signed-in caller), None for a public route,
    False when it declares none."""
    for dep in route.dependant.dependencies:
        call = getattr(dep, "call", None)
        if call is not None and hasattr(call, "permission"):
            return call.permission
    return False
