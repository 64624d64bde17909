"""Calls to a platform: signed by its adapter, kept under its rate per shop (and, for the methods a
platform limits further, per app), retried with backoff on 5xx, timeouts and the platform's "busy"
errors, made with a working access token (renewed ahead of expiry, and once more when the platform says it
expired: channels.tokens), and every attempt logged with secrets and PII masked.

The log (`channel_call`) is written in batches by `CallLog.flush()` (the sync loops call it), not one
transaction per call, so a burst of detail calls does not compete with the worker for the write lock.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import httpx
import orjson

from baodan.channels.base import Adapter, Call, Credentials, PlatformError
from baodan.core import clock
from baodan.core.db import Database, db_time, dialect_of, execute, executemany

if TYPE_CHECKING:
    from baodan.channels.tokens import TokenKeeper

CALL_LOG_DAYS = 7
LOG_TEXT_MAX = 2000
LOG_LIST_MAX = 5  # items of a list masked and logged (a page of 50 orders would be cut at LOG_TEXT_MAX anyway)
_SECRET_KEYS = re.compile(r"(sign|secret|token|session|password|signature|key|token_result)$", re.I)
_PII_KEYS = re.compile(r"(tel|phone|mobile|addr|address|receiver|consignee|buyer_nick|post_name|receiver_name|"
                       r"encrypt|decrypt|cipher|name_mask)", re.I)
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


@dataclass(frozen=True)
class ShopLink:
    """One shop's connection to its platform."""

    shop_id: int
    shop_code: str
    channel: str
    adapter: Adapter
    creds: Credentials
    base_url: str
    calls_per_second: float | None = None  # the shop's granted rate; None: the adapter's default
    token_expires_at: datetime | None = None  # when the access token stops working (None: not known)
    refresh_due_at: datetime | None = None  # when to renew it ahead of that (channels.tokens.refresh_due)
    refresh_expires_at: datetime | None = None  # from then on it cannot be renewed (None: not known)


class TokenBucket:
    """At most `rate` calls a second (bursts of up to one second's worth), shared by a shop's loops."""

    def __init__(self, rate: float, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = max(rate, 0.01)
        self.capacity = max(1.0, self.rate)
        self.tokens = self.capacity
        self.at = time.monotonic()
        self._lock = threading.Lock()
        self._sleep = sleep

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
                self.at = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            self._sleep(wait)


def mask(value: Any) -> Any:
    """A copy of a request or answer fit for the log: secrets dropped, PII masked, mobile numbers
    anywhere in text masked."""
    if isinstance(value, dict):
        return {k: ("***" if _SECRET_KEYS.search(str(k)) else "**" if _PII_KEYS.search(str(k)) and v else mask(v))
                for k, v in value.items()}
    if isinstance(value, list):  # the log keeps LOG_TEXT_MAX characters: a long list's first items will do
        kept = [mask(v) for v in value[:LOG_LIST_MAX]]
        return kept + [f"… {len(value) - LOG_LIST_MAX} more"] if len(value) > LOG_LIST_MAX else kept
    if isinstance(value, str):
        return _MOBILE.sub(r"\1****\2", value)
    return value


def _text(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()[:LOG_TEXT_MAX]


def _body_for_log(body: bytes | None) -> Any:
    """A JSON body masked as `mask` does; a form-encoded one (TOP, PDD, 快手, a token call) as its masked
    parameters; anything else as text with mobile numbers masked."""
    if not body:
        return None
    try:
        return mask(orjson.loads(body))
    except orjson.JSONDecodeError:
        text = body[:LOG_TEXT_MAX].decode("utf-8", "replace")
    if "=" in text and " " not in text:
        try:
            return mask(dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True)))
        except ValueError:
            pass
    return mask(text)


class CallLog:
    """Attempts waiting to be written to `channel_call` (or `table`, whose `owner` column names the shop or
    account the call was made for)."""

    def __init__(self, db: Database, *, table: str = "channel_call", owner: str = "shop_id") -> None:
        self.db = db
        self.table, self.owner = table, owner
        self._rows: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()

    def add(self, *, shop_id: int, method: str, attempt: int, status: int | None, ok: bool, error: str | None,
            duration_ms: int, request: Any, response: Any) -> None:
        with self._lock:
            self._rows.append((clock.utcnow(), shop_id, method[:100], attempt, status, ok, (error or "")[:300] or None,
                               duration_ms, _text(request), _text(response) if response is not None else None))

    def flush(self) -> int:
        with self._lock:
            rows, self._rows = self._rows, []
        if rows:
            with self.db.write() as s:
                dialect = dialect_of(s)
                executemany(s, f"INSERT INTO {self.table} (at, {self.owner}, method, attempt, status, ok, error, "
                               "duration_ms, request, response) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [(db_time(dialect, r[0]), *r[1:]) for r in rows])
        return len(rows)

    def prune(self, *, now: datetime | None = None) -> int:
        cutoff = (now or clock.utcnow()) - timedelta(days=CALL_LOG_DAYS)
        with self.db.write() as s:
            return execute(s, f"DELETE FROM {self.table} WHERE at < ?", (db_time(dialect_of(s), cutoff),))


class Transport:
    """Makes calls for every shop: one HTTP connection pool, one token bucket per shop (and one per app for
    each method in the adapter's `call_rates`). With `tokens`, calls are made with a working access token."""

    def __init__(self, log: CallLog, *, http: httpx.Client | None = None, max_attempts: int = 4,
                 backoff_s: float = 0.5, max_backoff_s: float = 8.0,
                 sleep: Callable[[float], None] = time.sleep, tokens: TokenKeeper | None = None) -> None:
        self.log = log
        self.http = http or httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0))
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.tokens = tokens
        self._sleep = sleep
        self._buckets: dict[int, TokenBucket] = {}
        self._method_buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, link: ShopLink) -> TokenBucket:
        with self._lock:
            rate = link.calls_per_second or link.adapter.calls_per_second
            bucket = self._buckets.get(link.shop_id)
            if bucket is None or bucket.rate != max(rate, 0.01):  # new, or the shop's rate changed
                bucket = self._buckets[link.shop_id] = TokenBucket(rate, sleep=self._sleep)
            return bucket

    def method_bucket(self, link: ShopLink, method: str) -> TokenBucket | None:
        """The app's bucket for a method the platform limits below the rest (None for the others)."""
        rate = link.adapter.call_rates.get(method)
        if rate is None:
            return None
        key = (link.channel, link.creds.app_key, method)
        with self._lock:
            bucket = self._method_buckets.get(key)
            if bucket is None:
                bucket = self._method_buckets[key] = TokenBucket(rate, sleep=self._sleep)
            return bucket

    def call(self, link: ShopLink, call: Call) -> dict[str, Any]:
        """The unwrapped answer's data; raises PlatformError when the platform refuses (at once) or after
        `max_attempts` retryable failures. With `tokens`: the shop's newest access token is used, renewed
        first when due; an answer that the token expired renews it and makes the call once more; a token
        that cannot be renewed raises ReauthorizeNeeded without calling the platform."""
        if self.tokens is None:
            return self.send(link, call)
        link = self.tokens.ready(link, self)
        try:
            return self.send(link, call)
        except PlatformError as exc:
            if not exc.token_expired:
                raise
            return self.send(self.tokens.renew(link, self, expired=True), call)

    def send(self, link: ShopLink, call: Call, *, max_attempts: int | None = None) -> dict[str, Any]:
        """One call with the link's credentials as they are (no token renewal), retried as `call` says."""
        last: PlatformError | None = None
        attempts = max_attempts or self.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                request = link.adapter.sign(link.creds, call, base_url=link.base_url, now=clock.utcnow())
            except ValueError as exc:  # the shop's credentials lack what this platform needs
                raise PlatformError(f"{link.shop_code}: {exc}", code="channel.misconfigured") from None
            self.bucket(link).acquire()
            limited = self.method_bucket(link, call.method)
            if limited is not None:
                limited.acquire()
            logged = {"method": request.http_method, "url": request.url, "query": mask(dict(request.query)),
                      "body": _body_for_log(request.body)}
            started = time.monotonic()
            status: int | None = None
            answer: Any = None
            try:
                response = self.http.request(request.http_method, request.url, params=request.query,
                                             headers=request.headers, content=request.body)
                status, answer = response.status_code, _body_for_log(response.content)
                data = link.adapter.read_response(call, response.status_code, response.content)
            except httpx.HTTPError as exc:
                last = PlatformError(f"{call.method}: {type(exc).__name__}: {exc}", retryable=True,
                                     code="channel.unreachable")
            except PlatformError as exc:
                last = exc
            else:
                self.log.add(shop_id=link.shop_id, method=call.method, attempt=attempt, status=status, ok=True,
                             error=None, duration_ms=_ms(started), request=logged, response=answer)
                return data
            self.log.add(shop_id=link.shop_id, method=call.method, attempt=attempt, status=status, ok=False,
                         error=last.message, duration_ms=_ms(started), request=logged, response=answer)
            if not last.retryable or attempt == attempts:
                break
            delay = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
            self._sleep(delay * (0.5 + random.random() / 2))  # jitter: many shops must not retry in step
        assert last is not None
        raise last


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
