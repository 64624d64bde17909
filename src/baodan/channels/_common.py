"""Pure helpers the platform adapters share: reading a platform object field by path (a missing field is a
MappingError naming it), integer fen, platform timestamps as Asia/Shanghai times, the status lookup, compact
JSON and a cursor order page."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from baodan.channels.base import MappingError, OrderPage
from baodan.core.clock import SHANGHAI

_MISSING = object()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def pick(obj: Any, path: str, default: Any = _MISSING) -> Any:
    """The value at a dotted path ("orderBaseInfo.oid", "sku_order_list.0.item_num"). None and "" count as
    missing: without a default that is a MappingError whose details name the path."""
    value = obj
    for key in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            value = None
        if value is None:
            break
    if value is None or value == "":
        if default is _MISSING:
            raise MappingError(f"order field {path} is missing", details={"field": path})
        return default
    return value


def text(obj: Any, path: str, default: Any = _MISSING) -> Any:
    """Like pick, as a string (platform ids come as numbers on some endpoints, strings on others)."""
    value = pick(obj, path, default)
    return str(value) if isinstance(value, int | str) and not isinstance(value, bool) else value


def count(obj: Any, path: str) -> int:
    """A positive whole number (a quantity) at a path."""
    value = pick(obj, path)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise MappingError(f"{path} is not a positive quantity: {value!r}", details={"field": path})
    return value


def fen(value: Any, path: str) -> int:
    """An amount the platform gives in integer fen (int or digit string); floats and signs are refused."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MappingError(f"{path} is not an integer amount in fen: {value!r}", details={"field": path})
    try:
        amount = int(value)
    except ValueError:
        raise MappingError(f"{path} is not an integer amount in fen: {value!r}", details={"field": path}) from None
    if amount < 0:
        raise MappingError(f"{path} is negative: {value!r}", details={"field": path})
    return amount


def yuan_to_fen(value: Any, path: str) -> int:
    """'12.30' → 1230 through Decimal; floats and more than two decimals are refused."""
    if isinstance(value, bool | float) or not isinstance(value, int | str | Decimal):
        raise MappingError(f"{path} is not an amount in yuan: {value!r}", details={"field": path})
    try:
        cents = Decimal(str(value).strip()) * 100
    except InvalidOperation:
        raise MappingError(f"{path} is not an amount in yuan: {value!r}", details={"field": path}) from None
    if cents != cents.to_integral_value() or cents < 0:
        raise MappingError(f"{path} is not a whole number of fen: {value!r}", details={"field": path})
    return int(cents)


def from_epoch(value: Any, path: str, *, ms: bool = False) -> datetime:
    """A unix timestamp (seconds, or milliseconds with ms=True) as an aware Asia/Shanghai time."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MappingError(f"{path} is not a unix timestamp: {value!r}", details={"field": path})
    try:
        number = int(value)
    except ValueError:
        raise MappingError(f"{path} is not a unix timestamp: {value!r}", details={"field": path}) from None
    if number <= 0:
        raise MappingError(f"{path} is not a unix timestamp: {value!r}", details={"field": path})
    return (_EPOCH + timedelta(milliseconds=number) if ms else _EPOCH + timedelta(seconds=number)).astimezone(SHANGHAI)


def to_epoch(value: datetime | str, *, ms: bool = False) -> int:
    """An aware (or Asia/Shanghai naive) time, or its ISO text, as unix seconds or milliseconds."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return (value - _EPOCH) // timedelta(milliseconds=1 if ms else 1000)


def lookup_status(table: Mapping[Any, str], value: Any, *, channel: str, path: str) -> str:
    """The canonical status for a platform status through the adapter's one table; unknown → MappingError."""
    key = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    try:
        return table[key]
    except (KeyError, TypeError):
        raise MappingError(f"unknown {channel} order status {value!r} at {path}; known: {', '.join(map(str, table))}",
                           details={"field": path, "value": value}) from None


def compact_json(value: Any, *, sort_keys: bool = False) -> str:
    """JSON without spaces, non-ASCII kept as is (what the platforms' SDKs send)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)


@dataclass(frozen=True)
class CursorPage(OrderPage):
    """An order page from a platform that pages by cursor: pass `cursor` to the next order_list_call."""

    cursor: str | None = None


_RETRY_WORDS = ("limit", "busy", "频率", "限流", "繁忙")


def sounds_retryable(*texts: str | None) -> bool:
    """Rate-limit or busy wording in an error code or message (used where no code list is documented)."""
    return any(word in (t or "").lower() for t in texts for word in _RETRY_WORDS)
