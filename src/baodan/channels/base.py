"""The one narrow contract every platform adapter fulfils, in both directions.

An adapter is pure: it builds and checks bytes, it never opens a socket or touches the database. The
transport (retries, rate limits, logging with secrets masked), the webhook routes, the incremental pull and
the simulator are generic code around it, so a platform is one sub-package of `baodan.channels`:

- **client side** (BaoDan calling the platform): `sign()` turns an API method and its business parameters into
  a signed HTTP request; `read_response()` unwraps the platform's envelope or raises `PlatformError`;
  `*_call()` name the method and parameters of the calls BaoDan makes (order list by update time, order
  detail, ship write-back, stock push); `parse_*()` read their answers.
- **push side** (the platform calling BaoDan): `verify_push()` checks the platform's signature (raises
  `BadSignature`); `parse_push()` reads the notices in a push; `push_answer()` is the body the platform
  expects back.
- **mapping**: `to_canonical()` turns a platform order object (list item or detail) into a canonical order
  dict (docs/canonical-order.md), amounts in fen, the status through the adapter's one status table.
- **server side** (what the simulator needs to play the platform with the same recipe):
  `check_request()` verifies a signed call and returns its method and parameters; `sign_push()` makes a
  push the way the platform signs it; `envelope()` wraps an answer the way the platform does;
  `from_canonical()` renders an order as the platform's order object.

Where the spec (../shared/specs) marks a detail uncertain, the adapter's module docstring records the
reading chosen, in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from baodan.core.errors import BaoDanError


@dataclass(frozen=True)
class Credentials:
    """What a merchant enters for one shop on one platform."""

    app_key: str
    app_secret: str
    shop_id: str = ""  # the platform's id of the shop
    access_token: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)  # platform specifics (e.g. a push token, an AES key)


@dataclass(frozen=True)
class Call:
    """One API call before signing: the platform's method name and its business parameters."""

    method: str
    params: dict[str, Any]


@dataclass(frozen=True)
class SignedRequest:
    """A ready HTTP request: `url` is base_url + path, `query` the query string parameters."""

    http_method: str
    url: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass(frozen=True)
class PushNotice:
    """One notice in a platform push. `kind`: created, paid, cancelled, shipped, completed, address_changed,
    refund, other. Most pushes name the order only; `order` is the platform order object when the push
    carries the whole of it (then no detail call is needed)."""

    platform_order_id: str
    kind: str
    platform_shop_id: str | None = None
    occurred_at: datetime | None = None
    order: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PushAnswer:
    status: int
    body: bytes
    content_type: str = "application/json"


@dataclass(frozen=True)
class OrderPage:
    orders: list[dict[str, Any]]  # platform order objects
    has_more: bool
    total: int | None = None


@dataclass(frozen=True)
class Incoming:
    """An HTTP request as a server saw it (for verify_push and check_request)."""

    http_method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: bytes


class BadSignature(BaoDanError):
    status = 401
    code = "webhook.bad_signature"


class PlatformError(BaoDanError):
    """The platform answered with an error. `retryable`: worth trying again later (5xx, busy, rate limited)."""

    status = 502
    code = "channel.platform_error"

    def __init__(self, message: str, *, platform_code: str | None = None, retryable: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.platform_code = platform_code
        self.retryable = retryable


class MappingError(BaoDanError):
    """A platform order object cannot be turned into a canonical order (a field is missing or malformed);
    `details` names the field path."""

    status = 422
    code = "channel.unmappable_order"


class Adapter(Protocol):
    channel: str  # the canonical channel name: douyin, kuaishou, wechat, taobao, pdd, jd
    calls_per_second: float  # the platform's per-app (or per-shop) limit BaoDan keeps under

    # client side
    def sign(self, creds: Credentials, call: Call, *, base_url: str, now: datetime) -> SignedRequest: ...
    def read_response(self, call: Call, status: int, body: bytes) -> dict[str, Any]: ...
    def order_list_call(self, creds: Credentials, *, updated_from: datetime, updated_to: datetime,
                        page: int, page_size: int) -> Call: ...
    def parse_order_list(self, data: dict[str, Any]) -> OrderPage: ...
    def order_detail_call(self, creds: Credentials, platform_order_id: str) -> Call: ...
    def parse_order_detail(self, data: dict[str, Any]) -> dict[str, Any]: ...
    def ship_call(self, creds: Credentials, *, platform_order_id: str, waybill_no: str, carrier_code: str,
                  lines: list[dict[str, Any]]) -> Call: ...
    def stock_call(self, creds: Credentials, *, platform_sku_id: str, quantity: int,
                   platform_product_id: str | None = None) -> Call: ...

    # push side
    def verify_push(self, creds: Credentials, request: Incoming) -> None: ...
    def parse_push(self, request: Incoming) -> list[PushNotice]: ...
    def push_answer(self, ok: bool) -> PushAnswer: ...

    # mapping
    def to_canonical(self, order: dict[str, Any], *, shop_code: str) -> dict[str, Any]: ...

    # server side (the simulator)
    def check_request(self, creds: Credentials, request: Incoming, *, now: datetime) -> Call: ...
    def sign_push(self, creds: Credentials, notices: list[dict[str, Any]], *, now: datetime) -> SignedRequest: ...
    def envelope(self, call: Call, data: dict[str, Any] | None, *, error: tuple[str, str] | None = None) -> bytes: ...
    def from_canonical(self, order: dict[str, Any], creds: Credentials) -> dict[str, Any]: ...
