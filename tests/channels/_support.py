"""What the platform contract tests share: fixtures, the contract conformance check, and the round trips of
the server side (sign → check_request → read_call, data → envelope → read_response → parse, sign_push →
push_route + open_push)."""

from __future__ import annotations

import dataclasses
import inspect
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from baodan.channels import base
from baodan.channels.base import BadSignature, Call, Credentials, Incoming, MappingError, PushNotice, ServedCall

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


def essentials(notice: PushNotice) -> tuple[Any, ...]:
    return (notice.platform_order_id, notice.kind, notice.platform_shop_id, notice.occurred_at, notice.order)


def push_round_trip(adapter: Any, creds: Credentials, now: datetime, notices: list[PushNotice]) -> Incoming:
    """sign_push → open_push gives the notices back; returns the push as the server saw it."""
    request = as_incoming(adapter.sign_push(creds, notices, url=PUSH_URL, now=now))
    assert request.path == PUSH_URL
    opened = adapter.open_push(creds, request, now=now + timedelta(seconds=1))
    assert [essentials(n) for n in opened] == [essentials(n) for n in notices]
    return request


def assert_refused(adapter: Any, creds: Credentials, request: Incoming, now: datetime) -> None:
    with pytest.raises(BadSignature):
        adapter.open_push(creds, request, now=now)


def flip(text: str) -> str:
    """The text with its last character changed (a tampered signature)."""
    return text[:-1] + ("0" if text[-1] != "0" else "1")


def assert_unmappable(convert: Callable[[], Any], field: str, match: str | None = None) -> None:
    """The conversion raises a MappingError naming `field` (and matching `match`)."""
    with pytest.raises(MappingError, match=match) as caught:
        convert()
    assert caught.value.details["field"] == field
