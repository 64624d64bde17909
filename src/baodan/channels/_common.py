"""Pure helpers the platform adapters share: reading a platform object field by path (a missing field is a
MappingError naming it), integer fen, platform timestamps as Asia/Shanghai times, the status lookup, compact
JSON, and the pieces of the wire recipes that are the same on several platforms (answer parsing, timestamp
tolerance, the sorted-parameter MD5 sign, form parameters, update-time windows, receiver ciphertexts, token
answers, decrypt batches), the adapter members that are the same to the letter on several platforms
(`AdapterDefaults`, `AbsoluteStock`), and the verification steps of the TOP-style routers and relays (淘宝,
拼多多, 京东)."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from types import MappingProxyType, ModuleType
from typing import Any
from urllib.parse import parse_qsl

from baodan.channels.base import (
    BadSignature,
    Call,
    Credentials,
    Decrypted,
    Incoming,
    MappingError,
    PlatformError,
    PushAnswer,
    PushNotice,
    Token,
)
from baodan.core.clock import SHANGHAI, as_utc, to_shanghai
from baodan.core.errors import Invalid

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
    try:
        if number <= 0:
            raise OverflowError
        return (_EPOCH + timedelta(milliseconds=number) if ms else _EPOCH + timedelta(seconds=number)).astimezone(
            SHANGHAI)
    except OverflowError:  # zero, negative, or past year 9999
        raise MappingError(f"{path} is not a unix timestamp: {value!r}", details={"field": path}) from None


def to_epoch(value: datetime | str, *, ms: bool = False) -> int:
    """An aware (or Asia/Shanghai naive) time, or its ISO text, as unix seconds or milliseconds."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return (as_utc(value) - _EPOCH) // timedelta(milliseconds=1 if ms else 1000)


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


_RETRY_WORDS = ("limit", "busy", "频率", "限流", "繁忙")


def sounds_retryable(*texts: str | None) -> bool:
    """Rate-limit or busy wording in an error code or message (used where no code list is documented)."""
    return any(word in (t or "").lower() for t in texts for word in _RETRY_WORDS)


# -- times as text (TOP, PDD and JOS write `yyyy-MM-dd HH:mm:ss` Beijing time)

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def parse_time(value: Any, path: str) -> datetime:
    """`yyyy-MM-dd HH:mm:ss` (Beijing) as an aware Asia/Shanghai time."""
    try:
        return datetime.strptime(str(value), TIME_FORMAT).replace(tzinfo=SHANGHAI)
    except ValueError:
        raise MappingError(f"{path} is not a yyyy-MM-dd HH:mm:ss time: {value!r}", details={"field": path}) from None


def time_text(value: datetime | str) -> str:
    """An aware (or Asia/Shanghai naive) time, or its ISO text, as `yyyy-MM-dd HH:mm:ss` Beijing time."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return to_shanghai(value).strftime(TIME_FORMAT)


def id_value(value: Any) -> Any:
    """Numeric ids as int64 (the platforms' JSON types); other ids stay as they are."""
    return int(value) if isinstance(value, str) and value.isdigit() and int(value) < 2**63 else value


# -- calls

TIMESTAMP_TOLERANCE = timedelta(minutes=10)


def check_fresh(sent_at: datetime | None, now: datetime, value: Any) -> None:
    """BadSignature unless a signed timestamp was read and lies within 10 minutes of `now`."""
    if sent_at is None or abs(sent_at - now) > TIMESTAMP_TOLERANCE:
        raise BadSignature("timestamp missing, malformed or more than 10 minutes from now",
                           details={"timestamp": value})


def check_window(updated_from: datetime, updated_to: datetime, limit: timedelta, channel: str) -> None:
    """An order list's update-time window must be positive and at most the platform's `max_list_window`."""
    if not timedelta(0) < updated_to - updated_from <= limit:
        raise Invalid(f"{channel} lists orders over a positive update-time window of at most {limit}",
                      code="channel.bad_window")


def check_page_size(page_size: int, limit: int, channel: str) -> None:
    if not 1 <= page_size <= limit:
        raise Invalid(f"{channel} page_size is 1–{limit}, not {page_size}", code="channel.bad_page_size")


def has_more(total: int | None, page: int, page_size: int) -> bool:
    """Whether pages after `page` (1-based) hold orders, from the total the platform counted."""
    return total is not None and page * page_size < total


def request_params(request: Incoming) -> dict[str, str]:
    """The query parameters and, unless the body is JSON, the form-encoded body parameters of a request."""
    params = dict(request.query)
    if request.body and "json" not in request.headers.get("content-type", ""):
        params.update(parse_qsl(request.body.decode(), keep_blank_values=True))
    return params


def param_text(value: Any) -> str:
    """A business parameter as form text: booleans true/false, objects and lists compact JSON, times Beijing."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return time_text(value)
    if isinstance(value, dict | list):
        return compact_json(value)
    return str(value)


def sorted_join(params: Mapping[str, str], *, keep_empty: bool = True) -> str:
    """k1v1k2v2… over every parameter but `sign`, sorted by key (the TOP, PDD and JOS string to sign)."""
    return "".join(key + value for key, value in sorted(params.items())
                   if key != "sign" and (keep_empty or value != ""))


def wrapped_md5(params: Mapping[str, str], secret: str, *, keep_empty: bool = True, body: bytes = b"") -> str:
    """upper(md5_hex(secret + sorted_join(params) + body + secret))."""
    return hashlib.md5(secret.encode() + sorted_join(params, keep_empty=keep_empty).encode() + body
                       + secret.encode()).hexdigest().upper()


def sign_matches(given: str | None, *expected: str, hex_digest: bool = True) -> bool:
    """`given` equals one of the expected signatures, in constant time; hex digests in either case."""
    if not given:
        return False
    fold = str.lower if hex_digest else str
    return any(hmac.compare_digest(fold(given.strip()), fold(e)) for e in expected)


def extra_secret(creds: Credentials, name: str, channel: str) -> str:
    try:
        return creds.extra[name]
    except KeyError:
        raise ValueError(f"{channel} credentials need extra[{name!r}]") from None


def dotted_path(method: str) -> str:
    """`order.searchList` → `/order/searchList`."""
    return "/" + method.replace(".", "/")


# -- answers

def retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def answer_object(channel: str, call: Call, status: int, body: bytes) -> dict[str, Any]:
    """The platform's answer as a JSON object. HTTP 429/5xx is a retryable PlatformError, whatever the body;
    a body that is not a JSON object is a PlatformError."""
    if retryable_status(status):
        raise PlatformError(f"{channel} {call.method}: HTTP {status}", platform_code=str(status), retryable=True,
                            details={"status": status})
    try:
        answer = json.loads(body)
    except ValueError:
        raise PlatformError(f"{channel} {call.method}: HTTP {status}, not JSON", platform_code=str(status),
                            details={"status": status}) from None
    if not isinstance(answer, dict):
        raise PlatformError(f"{channel} {call.method}: HTTP {status}, not a JSON object", platform_code=str(status),
                            details={"status": status})
    return answer


def success_answer(ok: bool) -> PushAnswer:
    """`{"success":true}` for a kept message, HTTP 500 otherwise (the relays of TMC/PMC frames)."""
    return PushAnswer(200, b'{"success":true}') if ok else PushAnswer(500, b'{"success":false}')


# -- pushes

def json_messages(body: bytes, what: str) -> list[Any]:
    """A push body holding one JSON message or an array of them."""
    try:
        doc = json.loads(body)
    except ValueError:
        raise BadSignature(f"{what} body is not JSON") from None
    return doc if isinstance(doc, list) else [doc]


def push_name(names: Mapping[str, str], kind: str, channel: str) -> str:
    """The platform's message name (tag, topic, event) that `sign_push` sends for a PushNotice kind."""
    try:
        return names[kind]
    except KeyError:
        raise ValueError(f"{channel} pushes no message of kind {kind!r}; known: {', '.join(names)}") from None


# -- receivers

def with_cipher(receiver: dict[str, Any], **ciphertexts: Any) -> dict[str, Any]:
    """The receiver with the platform's ciphertexts (only those given) under `platform_cipher`."""
    cipher = {key: value for key, value in ciphertexts.items() if isinstance(value, str) and value}
    return receiver | {"platform_cipher": cipher} if cipher else receiver

# canonical receiver field lengths (orders.schemas.Receiver)
RECEIVER_LIMITS = {"name": 100, "phone": 32, "province": 32, "city": 32, "district": 32, "town": 64, "address": 300}


@contextmanager
def fields_under(where: str) -> Iterator[None]:
    """A MappingError raised inside names its field under `where` (an order line: `item_list.0` + `.goods_price`)."""
    try:
        yield
    except MappingError as exc:
        field = f"{where}.{exc.details['field']}"
        raise MappingError(f"order field {field}: {exc.message}", details={"field": field}) from None


def receiver_fields(obj: Mapping[str, Any], fields: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """Each canonical receiver field from the first of its platform fields that is given and fits it."""
    return {key: next((obj[f] for f in names if obj.get(f) and len(str(obj[f])) <= RECEIVER_LIMITS[key]), None)
            for key, names in fields.items()}


# -- access tokens

def lifetime_token(channel: str, data: Mapping[str, Any], *, now: datetime, expires_in: str = "expires_in",
                   refresh_expires_in: str | None = None, refresh_lifetime: timedelta | None = None) -> Token:
    """A token answer that gives `access_token`, its lifetime in seconds under `expires_in` and a
    `refresh_token`, whose lifetime is under `refresh_expires_in` when the answer says it, else
    `refresh_lifetime` where the platform documents one, else unknown. PlatformError without a token."""
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise PlatformError(f"{channel} token answer carries no access_token", details={"keys": sorted(data)[:20]})
    refresh = data.get("refresh_token") or None
    refresh_at = None
    if refresh and refresh_expires_in and data.get(refresh_expires_in) is not None:
        refresh_at = now + timedelta(seconds=_seconds(channel, data, refresh_expires_in))
    elif refresh and refresh_lifetime is not None:
        refresh_at = now + refresh_lifetime
    return Token(token, now + timedelta(seconds=_seconds(channel, data, expires_in)), refresh, refresh_at)


def oauth_call(creds: Credentials, path: str, params: Mapping[str, str], *, app_field: str,
               grant: tuple[str, str]) -> Call:
    """An OAuth token call (快手, 京东: sign-in by code, or refresh) as the server checks it: the app id under
    `app_field` and `app_secret` must be ours, and `grant_type` the grant's (type, parameter) with the
    parameter given; each refused with BadSignature. The call carries the parameters but the secret."""
    if params.get(app_field) != creds.app_key:
        raise BadSignature(f"unknown {app_field}", details={app_field: params.get(app_field)})
    if not sign_matches(params.get("app_secret"), creds.app_secret, hex_digest=False):
        raise BadSignature("app_secret does not match")
    grant_type, parameter = grant
    if params.get("grant_type") != grant_type or not params.get(parameter):
        raise BadSignature(f"{path} takes grant_type={grant_type} with {parameter}")
    return Call(path, {k: v for k, v in params.items() if k != "app_secret"})


def seconds_left(at: datetime | None, now: datetime) -> int:
    """Seconds from `now` until `at`, rounded up (0 when past; 0 for None), as a token answer's `expires_in`."""
    return max(math.ceil((at - now).total_seconds()), 0) if at is not None else 0


def _seconds(channel: str, data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    try:
        seconds = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise PlatformError(f"{channel} token answer: {key} is not a number of seconds: {value!r}",
                            details={"field": key}) from None
    if seconds <= 0:
        raise PlatformError(f"{channel} token answer: {key} is not positive: {value!r}", details={"field": key})
    return seconds


# -- receiver decrypt: the ciphertexts of each order's platform_cipher, a batch at a time

CIPHER_FIELDS = ("name", "phone", "address")


def cipher_items(items: Sequence[tuple[str, Mapping[str, str]]], *, limit: int,
                 channel: str) -> list[tuple[str, str, str]]:
    """(order id, field, ciphertext) of each name, phone and address ciphertext the items carry; ValueError
    when there are more than the platform's `limit` per call."""
    found = [(order_id, key, cipher[key]) for order_id, cipher in items for key in CIPHER_FIELDS
             if cipher.get(key)]
    if len(found) > limit:
        raise ValueError(f"{channel} decrypts at most {limit} ciphertexts per call, not {len(found)}")
    return found


def cipher_call(method: str, items: Sequence[tuple[str, Mapping[str, str]]], *, limit: int, channel: str,
                list_key: str, order_key: str, cipher_key: str, order_id: Callable[[str], Any] = str) -> Call | None:
    """A decrypt call listing each ciphertext with its order (抖店, 快手, 拼多多): `{list_key: [{order_key:
    order_id(id), cipher_key: ciphertext}, …]}`, at most `limit` of them; None when the items carry none."""
    ciphers = cipher_items(items, limit=limit, channel=channel)
    if not ciphers:
        return None
    return Call(method, {list_key: [{order_key: order_id(oid), cipher_key: cipher} for oid, _field, cipher in ciphers]})


def decrypted_by_cipher(items: Sequence[tuple[str, Mapping[str, str]]], rows: Iterable[Mapping[str, Any]], *,
                        order_key: str, cipher_key: str, clear: Callable[[Mapping[str, Any]], str | None],
                        code_key: str, message_key: str) -> dict[str, dict[str, str]]:
    """Per order of `items`, from the answer's rows (one a ciphertext: its order under `order_key`, the
    ciphertext under `cipher_key`, `clear(row)` its clear text, None when refused with `code_key` and
    `message_key`): each clear text in the field whose ciphertext was asked about; an order that got none
    back is `{"error": …}` (its first refusal, or that the platform answered nothing for it)."""
    asked = cipher_items(items, limit=len(items) * len(CIPHER_FIELDS), channel="")
    fields = {(order_id, cipher): key for order_id, key, cipher in asked}
    opened: dict[str, dict[str, str]] = {}
    errors: dict[str, str] = {}
    for row in rows:
        order_id = str(row.get(order_key))
        key = fields.get((order_id, row.get(cipher_key)))
        if key is None:
            continue  # not something we asked about
        text = clear(row)
        if text:
            opened.setdefault(order_id, {})[key] = text
        else:
            errors.setdefault(order_id, f"{row.get(message_key) or 'no clear text'} ({row.get(code_key)})")
    return {order_id: opened.get(order_id) or {"error": errors.get(order_id, "the platform answered nothing for it")}
            for order_id in dict.fromkeys(order_id for order_id, _key, _cipher in asked)}


def check_decrypt_batch(items: Sequence[Any], limit: int, channel: str) -> None:
    if len(items) > limit:
        raise ValueError(f"{channel} decrypts at most {limit} orders per call, not {len(items)}")


def one_field(result: Decrypted) -> str:
    """The clear text of a simulated decrypt result that opened one field (empty when it failed)."""
    return next(iter(result.fields.values()), "") if result.error is None else ""


# -- TOP-style routers (淘宝, 拼多多, 京东): one app key, the shop's token, a sorted-parameter sign

def check_app_and_token(params: Mapping[str, str], creds: Credentials, *, app_field: str, token_field: str,
                        method: str = "") -> None:
    """The app must be ours and, but for a sign-in call (a `method` naming a token), a token must be given
    and, when `creds` name one, be this shop's: an order, ship or stock call without it is refused as the
    platform refuses it. (Without `creds.access_token` the caller checks the token: the simulator does.)"""
    if params.get(app_field) != creds.app_key:
        raise BadSignature(f"unknown {app_field}", details={app_field: params.get(app_field)})
    if "token" in method.lower():
        return
    if token_field not in params:
        raise BadSignature(f"{token_field} is missing")
    if creds.access_token and params[token_field] != creds.access_token:
        raise BadSignature(f"{token_field} is not this shop's")


def listed_orders(data: Mapping[str, Any], orders_path: str, total_path: str) -> tuple[list[Any], int | None]:
    """An order list answer's orders (none when absent; MappingError when not a list) and the total it counts."""
    orders = pick(data, orders_path, [])
    if not isinstance(orders, list):
        raise MappingError(f"{orders_path} is not a list", details={"field": orders_path})
    total = pick(data, total_path, None)
    return orders, int(total) if total is not None else None


def order_object(data: Mapping[str, Any], path: str) -> dict[str, Any]:
    """The order object of a detail answer; MappingError when it is missing or not an object."""
    order = pick(data, path)
    if not isinstance(order, dict):
        raise MappingError(f"{path} is not an object", details={"field": path})
    return order


def message_content(content: Any, what: str, field: str) -> dict[str, Any]:
    """A relayed TMC/PMC message's `content`: an object, or its JSON text; MappingError naming `field` else."""
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            raise MappingError(f"{what} content is not JSON", details={"field": field}) from None
    if not isinstance(content, dict):
        raise MappingError(f"{what} carries no content", details={"field": field})
    return content


def keyed_answer(answer: Mapping[str, Any], key: str, channel: str) -> dict[str, Any]:
    """The object under the method's response key (`trades_sold_increment_get_response` …)."""
    data = answer.get(key)
    if not isinstance(data, dict):
        raise PlatformError(f"{channel} answer has no {key}", details={"key": key})
    return data


def check_top_request(creds: Credentials, request: Incoming, now: datetime, *, app_field: str, token_field: str,
                      method_field: str, check_sign: Callable[[dict[str, str], str], None],
                      check_timestamp: Callable[[str, datetime], None]) -> dict[str, str]:
    """The parameters of a TOP-style call once verified, in this order: the app and the shop's token
    (check_app_and_token), the sign (`check_sign(params, app_secret)`), then the timestamp
    (`check_timestamp(value, now)`); each refuses with BadSignature."""
    params = request_params(request)
    check_app_and_token(params, creds, app_field=app_field, token_field=token_field,
                        method=params.get(method_field, ""))
    check_sign(params, creds.app_secret)
    check_timestamp(params.get("timestamp", ""), now)
    return params


def named_method(params: Mapping[str, str], method_field: str) -> str:
    """The method a TOP-style call names (`method`, PDD's `type`); BadSignature when it names none."""
    if not params.get(method_field):
        raise BadSignature(f"no {method_field} named")
    return params[method_field]


def open_relay(creds: Credentials, request: Incoming, now: datetime, *, relay: str, app_field: str,
               check_sign: Callable[[], None], check_timestamp: Callable[[str, datetime], None],
               notice: Callable[[Any], PushNotice | None]) -> list[PushNotice]:
    """A relayed TMC/PMC push (`relay` names it): the query's `app_field` must be our app, then `check_sign()`
    and `check_timestamp(query timestamp, now)` must pass (each refuses with BadSignature); the body's
    messages (one, or an array) become notices through `notice`, which skips a message by returning None."""
    if request.query.get(app_field) != creds.app_key:
        raise BadSignature(f"{relay} names another {app_field}")
    check_sign()
    check_timestamp(request.query.get("timestamp", ""), now)
    messages = json_messages(request.body, relay)
    return [found for message in messages if (found := notice(message)) is not None]


# -- adapter members that are the same to the letter on several platforms; an adapter that inherits them
#    and differs on one defines that member itself

class AdapterDefaults:
    """No URL check (`handshake` None), the `{"success":true}` / HTTP 500 push answer of the TMC/PMC relays,
    `to_canonical` through the platform package's mapping module (the class attribute `mapping`), and no
    method limited below the adapter's `calls_per_second` (`call_rates` empty)."""

    mapping: ModuleType
    call_rates: Mapping[str, float] = MappingProxyType({})

    def push_answer(self, ok: bool) -> PushAnswer:
        return success_answer(ok)

    def handshake(self, creds: Credentials, request: Incoming) -> PushAnswer | None:
        return None

    def to_canonical(self, order: dict[str, Any], *, shop_code: str) -> dict[str, Any]:
        return self.mapping.to_canonical(order, shop_code=shop_code)


class AbsoluteStock:
    """A platform whose stock_call sets the level: BaoDan reads none, so there is no stock query
    (`stock_query_call` None) and the query's other members raise NotImplementedError(`no_stock_level`)."""

    no_stock_level: str

    def stock_query_call(self, creds: Credentials, *, platform_sku_id: str,
                         platform_product_id: str | None = None) -> Call | None:
        return None

    def parse_stock_query(self, data: dict[str, Any], *, platform_sku_id: str) -> int:
        raise NotImplementedError(self.no_stock_level)

    def stock_query_data(self, *, platform_sku_id: str, quantity: int) -> dict[str, Any]:
        raise NotImplementedError(self.no_stock_level)
