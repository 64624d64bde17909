"""The one narrow contract every platform adapter fulfils, in both directions.

An adapter is pure: it builds and checks bytes, it never opens a socket or touches the database. The
transport (retries, rate limits, logging with secrets masked), the webhook routes, the incremental pull and
the simulator are generic code around it, so a platform is one sub-package of `baodan.channels`:

- **client side** (BaoDan calling the platform): `sign()` turns an API method and its business parameters into
  a signed HTTP request; `read_response()` unwraps the platform's envelope or raises `PlatformError`;
  `*_call()` name the method and parameters of the calls BaoDan makes (order list by update time, order
  detail, ship write-back, stock push, access-token refresh, receiver decrypt); `parse_*()` read their
  answers. `read_response()` marks an answer that says the shop's access token expired or is unknown
  (`PlatformError.token_expired`), so the transport can refresh the token and try once more.
- **push side** (the platform calling BaoDan): `push_route()` reads which app/shop a push claims to be for,
  so its credentials can be found; `open_push()` verifies it (raises `BadSignature`) and reads its notices;
  `push_answer()` is the body the platform expects back; `handshake()` answers a URL check.
- **mapping**: `to_canonical()` turns a platform order object (list item or detail) into a canonical order
  dict (docs/canonical-order.md), amounts in fen, the status through the adapter's one status table.
- **server side** (what the simulator needs to play the platform with the same recipe):
  `check_request()` verifies a signed call and returns its method, parameters and the access token it
  carried (checked against `creds.access_token` when that is given; the simulator leaves it out and checks
  tokens against the ones it issued); `read_call()` says what the call asks for; `order_list_data()`,
  `order_detail_data()`, `stock_query_data()`, `token_data()` and `decrypt_data()` shape answers,
  `envelope()` wraps them the way the platform does; `sign_push()` makes a push the way the platform signs
  it; `from_canonical()` renders an order as the platform's order object.

Where the spec (../shared/specs) marks a detail uncertain, the adapter's module docstring records the
reading chosen, in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
    refresh_token: str | None = None  # where the platform renews access tokens with one


@dataclass(frozen=True)
class Token:
    """An access token as a platform's token call answers it: when it stops working, and the refresh token
    that renews it (None where the platform has none, or its lifetime where it says none)."""

    access_token: str
    expires_at: datetime
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None


@dataclass(frozen=True)
class Call:
    """One API call before signing: the platform's method name and its business parameters. Server side,
    `check_request` also names the access token the call carried (None: none, or a sign-in call)."""

    method: str
    params: dict[str, Any]
    access_token: str | None = field(default=None, compare=False)


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
class PushRoute:
    """What an incoming push claims to be for, read before verification (unverified): which app and
    which shop, so the right credentials can be found to verify it."""

    app_key: str | None = None
    platform_shop_id: str | None = None


@dataclass(frozen=True)
class PushAnswer:
    status: int
    body: bytes
    content_type: str = "application/json"


@dataclass(frozen=True)
class OrderPage:
    """One page of the incremental order list. `orders` are platform order objects, or, with `ids_only`,
    stubs naming the order id only (each needs a detail call). Page on with `page + 1`, or with
    `next_cursor` on platforms that page by cursor."""

    orders: list[dict[str, Any]]
    has_more: bool
    total: int | None = None
    next_cursor: str | None = None
    ids_only: bool = False


@dataclass(frozen=True)
class ServedCall:
    """A verified incoming API call as the simulator serves it (`Adapter.read_call`). `kind`: order_list,
    order_detail, ship, stock, stock_query, token (a sign-in: the shop's current token), token_refresh (a
    new token: for `refresh_token`, or for the app secret where the platform mints tokens from it),
    decrypt (`decrypt_items`: each order id and the ciphertext asked about, None where the platform decrypts
    by order id), or other (anything else: unknown methods)."""

    kind: str
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    page: int = 1
    page_size: int = 50
    cursor: str | None = None
    platform_order_id: str | None = None
    waybill_no: str | None = None
    carrier_code: str | None = None
    platform_sku_id: str | None = None
    platform_product_id: str | None = None
    quantity: int | None = None  # stock: the level to set (absolute) or the change (delta)
    refresh_token: str | None = None
    decrypt_items: tuple[tuple[str, str | None], ...] = ()
    lines: tuple[str, ...] = ()  # ship: the lines of a split shipment (line ids, or SKU ids where lines have none)


@dataclass(frozen=True)
class Decrypted:
    """One item of a decrypt call as the simulator answers it: the order and the ciphertext asked about,
    and the receiver fields it opens to (name, phone, address, and the region where the platform gives the
    whole receiver), or the platform's error (code, message)."""

    platform_order_id: str
    ciphertext: str | None
    fields: dict[str, str] = field(default_factory=dict)
    error: tuple[str, str] | None = None


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
    """The platform answered with an error. `retryable`: worth trying again later (5xx, busy, rate limited);
    `token_expired`: the shop's access token expired or is unknown to the platform (refresh it, then retry)."""

    status = 502
    code = "channel.platform_error"

    def __init__(self, message: str, *, platform_code: str | None = None, retryable: bool = False,
                 token_expired: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.platform_code = platform_code
        self.retryable = retryable
        self.token_expired = token_expired


class ReauthorizeNeeded(PlatformError):
    """The shop's access token cannot be renewed (no refresh token, or the refresh token expired or was
    refused): the merchant must authorise BaoDan again on the platform and enter the new token."""

    status = 409
    code = "channel.reauthorize_needed"


class MappingError(BaoDanError):
    """A platform order object cannot be turned into a canonical order (a field is missing or malformed);
    `details` names the field path."""

    status = 422
    code = "channel.unmappable_order"


class Adapter(Protocol):
    channel: str  # the canonical channel name: douyin, kuaishou, wechat, taobao, pdd, jd
    calls_per_second: float  # the platform's per-app (or per-shop) limit BaoDan keeps under
    has_push: bool  # False: orders arrive only through the incremental pull (JD)
    max_list_window: timedelta  # the longest updated_from..updated_to one order_list_call may span
    stock_mode: str  # "absolute": stock_call sets the level; "delta": it changes it (needs the current level)
    call_rates: Mapping[str, float]  # method → calls a second per app, for methods limited below the rest
    decrypt_batch_size: int  # orders one decrypt_call takes (0: the platform has no decrypt call)

    # client side
    def sign(self, creds: Credentials, call: Call, *, base_url: str, now: datetime) -> SignedRequest: ...
    def read_response(self, call: Call, status: int, body: bytes) -> dict[str, Any]: ...
    def order_list_call(self, creds: Credentials, *, updated_from: datetime, updated_to: datetime,
                        page: int = 1, cursor: str | None = None, page_size: int = 50) -> Call:
        """`page` is 1-based; platforms that page by cursor take `cursor` (None: the first page)."""
        ...

    def parse_order_list(self, data: dict[str, Any], *, page: int, page_size: int) -> OrderPage: ...
    def order_detail_call(self, creds: Credentials, platform_order_id: str) -> Call: ...
    def parse_order_detail(self, data: dict[str, Any]) -> dict[str, Any]: ...
    def ship_call(self, creds: Credentials, *, platform_order_id: str, waybill_no: str, carrier_code: str,
                  lines: list[dict[str, Any]]) -> Call:
        """`lines` empty: the whole order ships in this parcel; else the lines in it (platform line ids and
        quantities), for platforms that take split shipments."""
        ...

    def stock_call(self, creds: Credentials, *, platform_sku_id: str, quantity: int,
                   platform_product_id: str | None = None, current: int | None = None) -> Call:
        """Make the platform's sellable quantity `quantity`. A delta platform sends `quantity - current`,
        `current` being what stock_query_call read just before."""
        ...

    def stock_query_call(self, creds: Credentials, *, platform_sku_id: str,
                         platform_product_id: str | None = None) -> Call | None:
        """For delta platforms: the call reading the platform's current level (None for absolute ones)."""
        ...

    def parse_stock_query(self, data: dict[str, Any], *, platform_sku_id: str) -> int: ...
    def token_refresh_call(self, creds: Credentials) -> Call | None:
        """The call that renews the shop's access token (with its refresh token, or with the app secret where
        the platform mints tokens from it); None where it cannot be renewed (no refresh token)."""
        ...

    def parse_token(self, data: dict[str, Any], *, now: datetime) -> Token: ...
    def decrypt_call(self, creds: Credentials, items: list[tuple[str, Mapping[str, str]]]) -> Call | None:
        """Decrypt the receivers of up to `decrypt_batch_size` orders, each given as (platform order id, its
        receiver's platform_cipher). Items without what the platform needs are left out; None when none is
        left (or the platform has no decrypt call)."""
        ...

    def parse_decrypt(self, data: dict[str, Any], *,
                      items: list[tuple[str, Mapping[str, str]]]) -> dict[str, dict[str, str]]:
        """Per order of `items` (those decrypt_call sent): the clear receiver fields the platform gave back,
        or `{"error": "<the platform's message>"}`."""
        ...

    # push side
    def push_route(self, request: Incoming) -> PushRoute: ...
    def open_push(self, creds: Credentials, request: Incoming, *, now: datetime) -> list[PushNotice]:
        """Verify the push (raise BadSignature: bad signature, wrong app, stale where the platform signs a
        time) and read its notices (decrypting them where the platform encrypts)."""
        ...

    def push_answer(self, ok: bool) -> PushAnswer: ...
    def handshake(self, creds: Credentials, request: Incoming) -> PushAnswer | None:
        """The answer to a platform's URL check (a GET on the push URL, e.g. WeChat's echostr); None if the
        platform has none."""
        ...

    # mapping
    def to_canonical(self, order: dict[str, Any], *, shop_code: str) -> dict[str, Any]: ...

    # server side (the simulator): play the platform with the same recipe
    def check_request(self, creds: Credentials, request: Incoming, *, now: datetime) -> Call: ...
    def read_call(self, call: Call) -> ServedCall: ...
    def order_list_data(self, orders: list[dict[str, Any]], *, page: int, page_size: int, total: int,
                        next_cursor: str | None) -> dict[str, Any]: ...
    def order_detail_data(self, order: dict[str, Any]) -> dict[str, Any]: ...
    def stock_query_data(self, *, platform_sku_id: str, quantity: int) -> dict[str, Any]: ...
    def token_data(self, token: Token, *, now: datetime) -> dict[str, Any]: ...
    def decrypt_data(self, results: list[Decrypted]) -> dict[str, Any]: ...
    def envelope(self, call: Call, data: dict[str, Any] | None, *, error: tuple[str, str] | None = None) -> bytes: ...
    def sign_push(self, creds: Credentials, notices: list[PushNotice], *, url: str, now: datetime) -> SignedRequest:
        """A push of `notices` (each with `order`, the platform order object, where the platform's push
        carries it) to `url`, signed or encrypted as the platform does."""
        ...

    def from_canonical(self, order: dict[str, Any], creds: Credentials) -> dict[str, Any]: ...
