"""What the platform contract tests share: fixtures, the contract conformance check, and the round trips of
the server side (sign → check_request → read_call, data → envelope → read_response → parse, sign_push →
push_route + open_push), for orders, access tokens and receiver decrypts."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from baodan.channels import base
from baodan.channels.base import (
    BadSignature,
    Call,
    Credentials,
    Decrypted,
    Incoming,
    MappingError,
    PushNotice,
    ServedCall,
    Token,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PUSH_URL = "/webhooks/test"


def fixture_bytes(platform: str, name: str) -> bytes:
    return (FIXTURES / platform / name).read_bytes()


def fixture(platform: str, name: str) -> Any:
    return json.loads(fixture_bytes(platform, name).decode("utf-8"))


def as_incoming(request: base.SignedRequest) -> Incoming:
    """A signed request as the server sees it (path without the base URL)."""
    url = request.url
    path = "/" + url.split("://", 1)[1].split("/", 1)[-1] if "://" in url else url
    return Incoming(request.http_method, path, dict(request.query), dict(request.headers), request.body or b"")


def changed(request: Incoming, **fields: Any) -> Incoming:
    return dataclasses.replace(request, **fields)


def assert_conforms(adapter: Any, channel: str) -> None:
    """Every member of base.Adapter, with the same parameter names and kinds, and the v2 attributes."""
    members = [n for n in vars(base.Adapter) if not n.startswith("_")] + list(base.Adapter.__annotations__)
    for name in members:
        assert hasattr(adapter, name), name
        contract = getattr(base.Adapter, name, None)
        if callable(contract):
            assert callable(getattr(adapter, name)), name
            expected = [(p.name, p.kind) for p in inspect.signature(contract).parameters.values()][1:]
            actual = [(p.name, p.kind) for p in inspect.signature(getattr(adapter, name)).parameters.values()]
            assert actual == expected, name
    for old in ("verify_push", "parse_push", "echo_answer"):
        assert not hasattr(adapter, old), old
    assert adapter.channel == channel and adapter.calls_per_second > 0
    assert isinstance(adapter.has_push, bool) and adapter.stock_mode in ("absolute", "delta")
    assert isinstance(adapter.max_list_window, timedelta) and adapter.max_list_window > timedelta(0)


def assert_served(adapter: Any, creds: Credentials, now: datetime, call: Call, served: ServedCall) -> None:
    """sign() → check_request() gives the call back, and read_call() says what it asks for."""
    request = as_incoming(adapter.sign(creds, call, base_url="http://sim.local", now=now))
    checked = adapter.check_request(creds, request, now=now + timedelta(seconds=2))
    assert adapter.read_call(checked) == served


def list_round_trip(adapter: Any, creds: Credentials, now: datetime, orders: list[dict[str, Any]], *, page: int,
                    page_size: int, total: int, cursor: str | None = None,
                    next_cursor: str | None = None) -> base.OrderPage:
    """order_list_data → envelope → read_response → parse_order_list (of the call for `page`/`cursor`)."""
    call = adapter.order_list_call(creds, updated_from=now - timedelta(minutes=10), updated_to=now, page=page,
                                   cursor=cursor, page_size=page_size)
    data = adapter.order_list_data(orders, page=page, page_size=page_size, total=total, next_cursor=next_cursor)
    return adapter.parse_order_list(adapter.read_response(call, 200, adapter.envelope(call, data)), page=page,
                                    page_size=page_size)


def detail_round_trip(adapter: Any, creds: Credentials, order_id: str, order: dict[str, Any]) -> dict[str, Any]:
    """order_detail_data → envelope → read_response → parse_order_detail."""
    call = adapter.order_detail_call(creds, order_id)
    body = adapter.envelope(call, adapter.order_detail_data(order))
    return adapter.parse_order_detail(adapter.read_response(call, 200, body))


def assert_error_reads_back(adapter: Any, creds: Credentials, error: tuple[str, str], retryable: bool) -> None:
    """envelope(error=…) → read_response raises a PlatformError with that code, retryable or not."""
    call = adapter.order_detail_call(creds, "1")
    with pytest.raises(base.PlatformError) as caught:
        adapter.read_response(call, 200, adapter.envelope(call, None, error=error))
    assert caught.value.platform_code == error[0] and caught.value.retryable is retryable


def essentials(notice: PushNotice) -> tuple[Any, ...]:
    return (notice.platform_order_id, notice.kind, notice.platform_shop_id, notice.occurred_at, notice.order)


def push_round_trip(adapter: Any, creds: Credentials, now: datetime, notices: list[PushNotice]) -> Incoming:
    """sign_push → open_push gives the notices back; returns the push as the server saw it."""
    request = as_incoming(adapter.sign_push(creds, notices, url=PUSH_URL, now=now))
    assert request.path == PUSH_URL
    opened = adapter.open_push(creds, request, now=now + timedelta(seconds=1))
    assert [essentials(n) for n in opened] == [essentials(n) for n in notices]
    return request


def assert_reads_no_stock(adapter: Any, creds: Credentials) -> None:
    """An absolute-stock adapter has no stock query: no call, and the query's other members refuse."""
    assert adapter.stock_query_call(creds, platform_sku_id="1", platform_product_id="2") is None
    with pytest.raises(NotImplementedError):
        adapter.parse_stock_query({}, platform_sku_id="1")
    with pytest.raises(NotImplementedError):
        adapter.stock_query_data(platform_sku_id="1", quantity=1)


def assert_refused(adapter: Any, creds: Credentials, request: Incoming, now: datetime) -> None:
    with pytest.raises(BadSignature):
        adapter.open_push(creds, request, now=now)


def flip(text: str) -> str:
    """The text with its last character changed (a tampered signature)."""
    return text[:-1] + ("0" if text[-1] != "0" else "1")


def assert_unmappable(convert: Callable[[], Any], field: str, match: str | None = None, *,
                      under: bool = False) -> None:
    """The conversion raises a MappingError naming `field` (with `under`, `field` or a field below it), and
    matching `match`."""
    with pytest.raises(MappingError, match=match) as caught:
        convert()
    assert caught.value.details["field"].startswith(field) if under else caught.value.details["field"] == field


def without(order: dict[str, Any], path: str) -> dict[str, Any]:
    """A deep copy of the order without the field at a dotted path (`order_detail.product_infos.1.sale_price`)."""
    broken = copy.deepcopy(order)
    *parents, leaf = path.split(".")
    target: Any = broken
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    del target[leaf]
    return broken


def assert_missing_is_named(adapter: Any, order: dict[str, Any], path: str, *, shop_code: str = "S",
                            under: bool = False) -> None:
    """to_canonical of the order without the field at `path` raises a MappingError naming it (with `under`,
    it or a field below it)."""
    broken = without(order, path)
    assert_unmappable(lambda: adapter.to_canonical(broken, shop_code=shop_code), path, under=under)


def assert_rendered_statuses_read_back(mapping: Any, *, refunded_as: str = "refunded") -> None:
    """Each status from_canonical renders reads back through the one status table (a canonical refunded as
    `refunded_as`, on platforms without a refunded state)."""
    for canonical, rendered in mapping.RENDERED_STATUS.items():
        assert mapping.STATUS[str(rendered)] == (refunded_as if canonical == "refunded" else canonical)


def list_served(adapter: Any, creds: Credentials, now: datetime, window: timedelta, *, page: int,
                page_size: int) -> tuple[Call, ServedCall]:
    """An order_list_call over the `window` before `now` and what read_call should make of it (for the
    parametrised server-side tables)."""
    return (adapter.order_list_call(creds, updated_from=now - window, updated_to=now, page=page, page_size=page_size),
            ServedCall("order_list", updated_from=now - window, updated_to=now, page=page, page_size=page_size))


def detail_served(adapter: Any, creds: Credentials, platform_order_id: str) -> tuple[Call, ServedCall]:
    """An order_detail_call and what read_call should make of it."""
    return (adapter.order_detail_call(creds, platform_order_id),
            ServedCall("order_detail", platform_order_id=platform_order_id))


# -- access tokens and receiver decrypts


def assert_token_refresh(adapter: Any, creds: Credentials, now: datetime) -> Any:
    """token_refresh_call → sign → check_request → read_call is the refresh of the shop's refresh token
    (sent without an access token); token_data → envelope → read_response → parse_token gives the token
    back (times to the second). Returns the signed request as the server saw it."""
    call = adapter.token_refresh_call(creds)
    assert call is not None
    request = as_incoming(adapter.sign(creds, call, base_url="http://sim.local", now=now))
    assert creds.access_token not in str(request.query) + (request.body or b"").decode(errors="replace")
    checked = adapter.check_request(dataclasses.replace(creds, access_token=None), request, now=now)
    assert checked.access_token is None
    assert adapter.read_call(checked) == ServedCall("token_refresh", refresh_token=creds.refresh_token)
    token = Token("new-access-token", now + timedelta(hours=2), "new-refresh-token", now + timedelta(days=30))
    body = adapter.envelope(call, adapter.token_data(token, now=now))
    parsed = adapter.parse_token(adapter.read_response(call, 200, body), now=now)
    assert (parsed.access_token, parsed.expires_at) == (token.access_token, token.expires_at)
    return request


def assert_token_expired_reads_back(adapter: Any, creds: Credentials, error: tuple[str, str]) -> None:
    """An order call answered with the platform's token-expired error is a PlatformError marked
    token_expired (not retryable: it needs a new token first); another error is not marked."""
    call = adapter.order_detail_call(creds, "1")
    with pytest.raises(base.PlatformError) as caught:
        adapter.read_response(call, 200, adapter.envelope(call, None, error=error))
    assert caught.value.token_expired and not caught.value.retryable
    with pytest.raises(base.PlatformError) as other:
        adapter.read_response(call, 200, adapter.envelope(call, None, error=("66", "参数错误")))
    assert not other.value.token_expired


def decrypt_round_trip(adapter: Any, creds: Credentials, now: datetime, items: list[tuple[str, dict[str, str]]],
                       clear: dict[str, dict[str, str]], *, refused: str | None = None) -> dict[str, dict[str, str]]:
    """decrypt_call → sign → check_request → read_call names each order's ciphertexts; decrypt_data of the
    simulator's answer (each ciphertext opened to its field of `clear`, the order `refused` refused) →
    envelope → read_response → parse_decrypt. Returns what parse_decrypt made of it."""
    call = adapter.decrypt_call(creds, items)
    assert call is not None
    request = as_incoming(adapter.sign(creds, call, base_url="http://sim.local", now=now))
    served = adapter.read_call(adapter.check_request(creds, request, now=now))
    assert served.kind == "decrypt"
    results = []
    for order_id, ciphertext in served.decrypt_items:
        cipher = dict(items)[order_id]
        field = next((f for f, c in cipher.items() if c == ciphertext and f != "oaid"), None)
        opened = clear[order_id] if field is None else {field: clear[order_id][field]}
        error = ("70001", "密文与订单不匹配") if order_id == refused else None
        results.append(Decrypted(order_id, ciphertext, {} if error else opened, error))
    body = adapter.envelope(call, adapter.decrypt_data(results))
    return adapter.parse_decrypt(adapter.read_response(call, 200, body), items=items)
