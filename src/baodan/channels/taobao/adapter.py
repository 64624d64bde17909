"""淘宝/天猫 through TOP (the Taobao Open Platform router) and its message service TMC.

Readings chosen where the spec (shared/specs/taobao_pdd_jd.md §1, §4) is [inf] or open — the one place
to correct against a sandbox:

- Requests: POST to `<base_url>/router/rest`, system parameters (method, app_key, session, timestamp, v=2.0,
  format=json, sign_method) in the query string, business parameters form-encoded in the body; all of them
  signed, empty values dropped. `sign_method` is md5 unless `creds.extra["sign_method"]` names hmac or
  hmac-sha256. BaoDan sends `timestamp` as `yyyy-MM-dd HH:mm:ss` Asia/Shanghai; check_request also accepts
  the epoch-milliseconds form of the official Python SDK.
- check_request refuses (BadSignature) a wrong app_key, a missing session (but on a sign-in call, a method naming a
  token) or one other than the shop's access token, an
  unknown sign_method, a wrong sign, and a timestamp more than 10 minutes from `now` (window [inf]).
  `read_call` reads the business parameters back from their form text.
- Answers: `{"<method without "taobao.", dots → underscores>_response": {...}}`; errors
  `{"error_response": {code, msg, sub_code, sub_msg}}`. Retryable [inf, codes from memory]: code 7 (App Call
  Limited), code 10 (service unavailable), any `isp.*` sub_code (platform-side failure), HTTP 5xx/429 (whatever
  the body).
  `envelope(error=(code, msg))` writes a numeric code as `code`, anything else as a `sub_code` under
  code 15 (Remote service error).
- Lists: `taobao.trades.sold.increment.get` without use_has_next (so total_results comes back and the pull
  may page backwards, as TOP advises); the answer is read as `{total_results, has_next, trades: {trade: [...]}}`
  — the `{"trades": {"trade": [...]}}` wrapping is TOP's JSON list convention [inf]. `has_more` is `has_next`
  when the answer carries it, else worked out from total_results, page and page_size. Window ≤ 1 day
  (`max_list_window`, else Invalid), page_size 1–100; the list trade is partial, so the pull fetches
  `trade.fullinfo.get` for each.
- Mapping: lines are `orders.order[]`; `platform_sku_id` is `sku_id`, or `num_iid` for an item without
  SKUs; `sku_code` is `outer_sku_id`, or `outer_iid`. A line's amount is its `payment`, its discount
  price × num − payment (0 when the seller raised the price); the order discount is what is left between
  goods + post_fee and the trade's `payment`. SELLER_CONSIGNED_PART maps to paid (lines still to ship),
  TRADE_CLOSED to refunded (closed after payment), TRADE_CLOSED_BY_TAOBAO to cancelled. The receiver is taken
  as given (masked since the privacy upgrade); TOP gives no receiver ciphertext but the `oaid` that
  `taobao.top.oaid.decrypt` opens (with the tid), so the `oaid` is what goes to `receiver.platform_cipher`
  (`{"oaid": …}`). `buyer_nick` falls back to `buyer_open_uid`.
- Ship: `taobao.logistics.offline.send` with tid, out_sid, company_code; when `lines` are given their
  `platform_line_id`s (oids) go to `sub_tid` with `is_split=1` (a split shipment); no lines = whole trade.
- Stock: `taobao.item.quantity.update`, type=1 (full), `num_iid` required (the item id); being absolute,
  BaoDan reads no level (`stock_query_call` None, `parse_stock_query`/`stock_query_data` NotImplementedError).
- Push: TMC is a WebSocket the app connects to; messages are not signed one by one. BaoDan's TMC client
  relays each message as an HTTP POST: body the message JSON (an object, or an array of them)
  `{topic, content (JSON string), id, pub_time, user_id, user_nick, pub_app_key}` (field names [inf]),
  query `app_key`, `timestamp`, `sign_method`, `sign`, signed with the TOP recipe over the query with the body
  appended after the parameters (TOP's batch-API form); `open_push` refuses a relay whose timestamp is more
  than 10 minutes from `now`. `push_route` reads the query's `app_key` and the first message's `user_id`
  (else `user_nick`). Only a 2xx answer lets the relay confirm the message on the socket; anything else
  leaves it to TMC's redelivery. Messages lost while nothing is connected are caught up by the incremental
  pull. Trade and refund messages become notices (by `content.tid`); other topics are skipped; there is no
  URL check (`handshake` None). `sign_push` relays all notices in one POST (one message, or an array),
  the topic by kind (created TradeCreate, paid TradeBuyerPay, shipped TradeSellerShip, cancelled TradeClose,
  completed TradeSuccess, address_changed TradeLogisticsAddressChanged, other TradeMemoModified, refund
  taobao_refund_RefundCreated) unless the notice's `raw` names a `topic`, `user_id` the notice's shop,
  `pub_time` its time (else `now`); TMC messages never carry the whole trade.
- Limits: TOP publishes no per-app rate in the sources; `calls_per_second` = 10 is a conservative guess.
- Access token (the spec has only `session`; the rest is read from TOP's generated SDKs [inf]):
  `taobao.top.auth.token.refresh` with `refresh_token`, signed without `session`; only apps sold on the
  service market (服务市场订购类应用) may refresh, others get fixed-length tokens and must be re-authorised.
  The answer is `top_auth_token_refresh_response.token_result`, a JSON text (or object) with
  `access_token`, `expires_in`, `refresh_token` and `re_expires_in` (the refresh token's lifetime, seconds),
  which `parse_token` reads. An expired or unknown session is code 27 (Invalid session), sub_code
  `invalid-sessionkey` (with or without an `isv.` prefix).
- Decrypt: `taobao.top.oaid.decrypt` takes ≤ 20 `query_list` items {oaid, tid, scene}; `scene` is sent as
  "1006" (the value in public examples [inf]). Orders without an `oaid` are left out. The answer's
  `receiver_list` (an array, or TOP's `{"receiver": [...]}` wrapping) gives the whole receiver per `tid`:
  name, mobile (else phone), address_detail, state (province), city, district, town; a trade missing from
  it was not decrypted (TOP lists no per-item error in the sources).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from baodan.channels import _common
from baodan.channels._common import compact_json, id_value, param_text, parse_time, pick, text, time_text
from baodan.channels.base import (
    BadSignature,
    Call,
    Credentials,
    Decrypted,
    Incoming,
    MappingError,
    OrderPage,
    PlatformError,
    PushNotice,
    PushRoute,
    ServedCall,
    SignedRequest,
    Token,
)
from baodan.channels.taobao import mapping, signing
from baodan.core.clock import SHANGHAI
from baodan.core.errors import Invalid

PATH = "/router/rest"
FORM = "application/x-www-form-urlencoded;charset=utf-8"
SYSTEM_PARAMS = frozenset({"method", "app_key", "session", "timestamp", "format", "v", "sign_method", "sign",
                           "partner_id", "target_app_key", "simplify"})
RETRYABLE_CODES = frozenset({"7", "10"})
INVALID_SESSION = "27"
TOKEN_METHOD = "taobao.top.auth.token.create"
REFRESH_METHOD = "taobao.top.auth.token.refresh"
DECRYPT_METHOD = "taobao.top.oaid.decrypt"
DECRYPT_SCENE = "1006"
MAX_DECRYPT = 20

# the fields BaoDan reads (see mapping); `orders` brings every sub-order field
TRADE_FIELDS = ",".join((
    "tid", "status", "type", "created", "modified", "pay_time", "consign_time", "end_time", "payment",
    "total_fee", "post_fee", "discount_fee", "adjust_fee", "buyer_nick", "buyer_open_uid", "seller_nick",
    "buyer_message", "seller_memo", "seller_flag", "receiver_name", "receiver_mobile", "receiver_phone",
    "receiver_state", "receiver_city", "receiver_district", "receiver_town", "receiver_address", "receiver_zip",
    "oaid", "orders",
))

# TMC topic (after the taobao_trade_/taobao_refund_ prefix) → PushNotice.kind
TOPIC_KINDS = {
    "taobao_trade_TradeCreate": "created",
    "taobao_trade_TradeAlipayCreate": "created",
    "taobao_trade_TradeBuyerPay": "paid",
    "taobao_trade_TradeBuyerStepPay": "paid",
    "taobao_trade_TradeSellerShip": "shipped",
    "taobao_trade_TradePartlySellerShip": "shipped",
    "taobao_trade_TradeClose": "cancelled",
    "taobao_trade_TradeCloseAndModifyDetailOrder": "cancelled",
    "taobao_trade_TradeSuccess": "completed",
    "taobao_trade_TradeLogisticsAddressChanged": "address_changed",
    "taobao_trade_TradePartlyRefund": "refund",
}
ORDER_TOPIC_PREFIXES = ("taobao_trade_", "taobao_refund_")
KIND_TOPICS = {"created": "taobao_trade_TradeCreate", "paid": "taobao_trade_TradeBuyerPay",
               "shipped": "taobao_trade_TradeSellerShip", "cancelled": "taobao_trade_TradeClose",
               "completed": "taobao_trade_TradeSuccess", "address_changed": "taobao_trade_TradeLogisticsAddressChanged",
               "other": "taobao_trade_TradeMemoModified", "refund": "taobao_refund_RefundCreated"}
LIST_METHOD = "taobao.trades.sold.increment.get"
DETAIL_METHOD = "taobao.trade.fullinfo.get"
SHIP_METHOD = "taobao.logistics.offline.send"
STOCK_METHOD = "taobao.item.quantity.update"


class TaobaoAdapter(_common.AdapterDefaults, _common.AbsoluteStock):
    channel = "taobao"
    calls_per_second = 10.0
    has_push = True
    max_list_window = timedelta(days=1)
    stock_mode = "absolute"
    decrypt_batch_size = MAX_DECRYPT
    no_stock_level = "TOP stock is set in full: BaoDan reads no stock level"
    mapping = mapping

    # client side

    def sign(self, creds: Credentials, call: Call, *, base_url: str, now: datetime) -> SignedRequest:
        system = {
            "method": call.method,
            "app_key": creds.app_key,
            "timestamp": time_text(now),
            "format": "json",
            "v": "2.0",
            "sign_method": creds.extra.get("sign_method", "md5"),
        }
        if creds.access_token and call.method not in (TOKEN_METHOD, REFRESH_METHOD):
            system["session"] = creds.access_token
        business = {key: param_text(value) for key, value in call.params.items() if value is not None}
        system["sign"] = signing.sign_params({**business, **system}, creds.app_secret, system["sign_method"])
        return SignedRequest("POST", base_url.rstrip("/") + PATH, query=system, headers={"content-type": FORM},
                             body=urlencode(business).encode())

    def read_response(self, call: Call, status: int, body: bytes) -> dict[str, Any]:
        doc = _common.answer_object("taobao", call, status, body)
        if "error_response" in doc:
            error = doc["error_response"] or {}
            code, sub_code = str(error.get("code", "")), error.get("sub_code")
            detail = f": {sub_code} {error.get('sub_msg', '')}" if sub_code else ""
            raise PlatformError(
                f"TOP error {code} {error.get('msg', '')}{detail}",
                platform_code=sub_code or code,
                retryable=code in RETRYABLE_CODES or str(sub_code or "").startswith("isp."),
                token_expired=code == INVALID_SESSION or str(sub_code or "").endswith("invalid-sessionkey"),
                details={"code": code, "sub_code": sub_code},
            )
        return _common.keyed_answer(doc, response_key(call.method), "TOP")

    def order_list_call(self, creds: Credentials, *, updated_from: datetime, updated_to: datetime,
                        page: int = 1, cursor: str | None = None, page_size: int = 50) -> Call:
        _common.check_window(updated_from, updated_to, self.max_list_window, self.channel)
        _common.check_page_size(page_size, 100, "TOP")
        return Call(LIST_METHOD, {
            "fields": TRADE_FIELDS,
            "start_modified": time_text(updated_from),
            "end_modified": time_text(updated_to),
            "page_no": page,
            "page_size": page_size,
        })

    def parse_order_list(self, data: dict[str, Any], *, page: int, page_size: int) -> OrderPage:
        trades, total = _common.listed_orders(data, "trades.trade", "total_results")
        more = bool(data["has_next"]) if "has_next" in data else _common.has_more(total, page, page_size)
        return OrderPage(orders=trades, has_more=more, total=total)

    def order_detail_call(self, creds: Credentials, platform_order_id: str) -> Call:
        return Call(DETAIL_METHOD, {"fields": TRADE_FIELDS, "tid": platform_order_id})

    def parse_order_detail(self, data: dict[str, Any]) -> dict[str, Any]:
        return _common.order_object(data, "trade")

    def ship_call(self, creds: Credentials, *, platform_order_id: str, waybill_no: str, carrier_code: str,
                  lines: list[dict[str, Any]]) -> Call:
        params: dict[str, Any] = {"tid": platform_order_id, "out_sid": waybill_no, "company_code": carrier_code}
        oids = [str(line["platform_line_id"]) for line in lines if line.get("platform_line_id")]
        if oids:
            if len(oids) > 50:
                raise Invalid("TOP ships at most 50 sub-orders per call", code="channel.too_many_lines")
            params.update(sub_tid=",".join(oids), is_split=1)
        return Call(SHIP_METHOD, params)

    def stock_call(self, creds: Credentials, *, platform_sku_id: str, quantity: int,
                   platform_product_id: str | None = None, current: int | None = None) -> Call:
        if not platform_product_id:
            raise Invalid("TOP stock updates need the item id (num_iid)", code="channel.missing_product_id")
        if quantity < 0:
            raise Invalid("a full stock update cannot be negative", code="channel.negative_stock")
        return Call(STOCK_METHOD, {"num_iid": platform_product_id, "sku_id": platform_sku_id, "quantity": quantity,
                                   "type": 1})

    def token_refresh_call(self, creds: Credentials) -> Call | None:
        return Call(REFRESH_METHOD, {"refresh_token": creds.refresh_token}) if creds.refresh_token else None

    def parse_token(self, data: dict[str, Any], *, now: datetime) -> Token:
        result = data.get("token_result")
        if isinstance(result, str):
            try:
                result = json.loads(result)
            except ValueError:
                raise PlatformError("TOP token_result is not JSON") from None
        if not isinstance(result, dict):
            raise PlatformError("TOP token answer carries no token_result")
        return _common.lifetime_token("TOP", result, now=now, refresh_expires_in="re_expires_in")

    def decrypt_call(self, creds: Credentials, items: list[tuple[str, Mapping[str, str]]]) -> Call | None:
        _common.check_decrypt_batch(items, MAX_DECRYPT, self.channel)
        queries = [{"oaid": cipher["oaid"], "tid": id_value(order_id), "scene": DECRYPT_SCENE}
                   for order_id, cipher in items if cipher.get("oaid")]
        return Call(DECRYPT_METHOD, {"query_list": queries}) if queries else None

    def parse_decrypt(self, data: dict[str, Any], *,
                      items: list[tuple[str, Mapping[str, str]]]) -> dict[str, dict[str, str]]:
        listed = data.get("receiver_list") or []
        listed = listed.get("receiver") or [] if isinstance(listed, dict) else listed
        found = {str(r.get("tid")): r for r in listed if isinstance(r, dict)}
        out = {}
        for order_id, cipher in items:
            if not cipher.get("oaid"):
                continue
            receiver = found.get(order_id)
            fields = _common.receiver_fields(receiver, DECRYPTED_FIELDS) if receiver else {}
            out[order_id] = {k: str(v) for k, v in fields.items() if v} or {
                "error": "TOP returned no receiver for this trade (the oaid was refused or has expired)"}
        return out

    # push side (the TMC relay)

    def push_route(self, request: Incoming) -> PushRoute:
        try:
            first = _common.json_messages(request.body, "TMC relay")[0]
            shop = first.get("user_id") or first.get("user_nick")
        except (BadSignature, IndexError, AttributeError):
            shop = None
        return PushRoute(app_key=request.query.get("app_key") or None,
                         platform_shop_id=str(shop) if shop is not None else None)

    def open_push(self, creds: Credentials, request: Incoming, *, now: datetime) -> list[PushNotice]:
        return _common.open_relay(
            creds, request, now, relay="TMC relay", app_field="app_key",
            check_sign=lambda: signing.check_sign(request.query, creds.app_secret, body=request.body),
            check_timestamp=_check_timestamp, notice=_notice)

    # server side (the simulator)

    def check_request(self, creds: Credentials, request: Incoming, *, now: datetime) -> Call:
        params = _common.check_top_request(creds, request, now, app_field="app_key", token_field="session",
                                           method_field="method", check_sign=signing.check_sign,
                                           check_timestamp=_check_timestamp)
        return Call(_common.named_method(params, "method"),
                    {key: value for key, value in params.items() if key not in SYSTEM_PARAMS},
                    access_token=params.get("session"))

    def read_call(self, call: Call) -> ServedCall:
        p = call.params
        if call.method == TOKEN_METHOD:
            return ServedCall("token")
        if call.method == REFRESH_METHOD:
            return ServedCall("token_refresh", refresh_token=str(p.get("refresh_token") or ""))
        if call.method == DECRYPT_METHOD:
            queries = json.loads(p["query_list"]) if isinstance(p["query_list"], str) else p["query_list"]
            return ServedCall("decrypt", decrypt_items=tuple((str(q["tid"]), str(q["oaid"])) for q in queries))
        if call.method == LIST_METHOD:
            return ServedCall("order_list", updated_from=parse_time(p["start_modified"], "start_modified"),
                              updated_to=parse_time(p["end_modified"], "end_modified"),
                              page=int(p.get("page_no", 1)), page_size=int(p.get("page_size", 40)))
        if call.method == DETAIL_METHOD:
            return ServedCall("order_detail", platform_order_id=str(p["tid"]))
        if call.method == SHIP_METHOD:
            return ServedCall("ship", platform_order_id=str(p["tid"]), waybill_no=str(p["out_sid"]),
                              carrier_code=str(p["company_code"]),
                              lines=tuple(i for i in str(p.get("sub_tid") or "").split(",") if i))
        if call.method == STOCK_METHOD and str(p.get("type", "1")) == "1":
            return ServedCall("stock", platform_sku_id=str(p["sku_id"]) if p.get("sku_id") else None,
                              platform_product_id=str(p["num_iid"]), quantity=int(p["quantity"]))
        return ServedCall("other")

    def order_list_data(self, orders: list[dict[str, Any]], *, page: int, page_size: int, total: int,
                        next_cursor: str | None) -> dict[str, Any]:
        return {"total_results": total, "has_next": _common.has_more(total, page, page_size),
                "trades": {"trade": orders}}

    def order_detail_data(self, order: dict[str, Any]) -> dict[str, Any]:
        return {"trade": order}

    def token_data(self, token: Token, *, now: datetime) -> dict[str, Any]:
        result = {"access_token": token.access_token, "token_type": "Bearer",
                  "expires_in": _common.seconds_left(token.expires_at, now),
                  "expire_time": _common.to_epoch(token.expires_at, ms=True),
                  "refresh_token": token.refresh_token or "",
                  "re_expires_in": _common.seconds_left(token.refresh_expires_at, now),
                  "taobao_user_id": "", "taobao_user_nick": ""}
        return {"token_result": compact_json(result)}

    def decrypt_data(self, results: list[Decrypted]) -> dict[str, Any]:
        """The decrypted trades' receivers; a failed one is left out (TOP lists no per-item error)."""
        return {"receiver_list": {"receiver": [{
            "tid": id_value(r.platform_order_id), "oaid": r.ciphertext or "", "name": r.fields.get("name", ""),
            "mobile": r.fields.get("phone", ""), "phone": "", "address_detail": r.fields.get("address", ""),
            "state": r.fields.get("province", ""), "city": r.fields.get("city", ""),
            "district": r.fields.get("district", ""), "town": r.fields.get("town", "")}
            for r in results if r.error is None]}}

    def sign_push(self, creds: Credentials, notices: list[PushNotice], *, url: str, now: datetime) -> SignedRequest:
        """The TMC messages of `notices` relayed in one POST (one message, or an array of them)."""
        messages = []
        for notice in notices:
            topic = notice.raw.get("topic") or _common.push_name(KIND_TOPICS, notice.kind, self.channel)
            content = notice.raw.get("content") or {}
            content = (json.loads(content) if isinstance(content, str) else dict(content)) | {
                "tid": id_value(notice.platform_order_id)}
            pub_time = time_text(notice.occurred_at or now)
            content_text = compact_json(content)
            message_id = notice.raw.get("id") or hashlib.sha1(f"{topic}:{content_text}:{pub_time}".encode()).hexdigest()
            message = {"topic": topic, "content": content_text, "id": str(message_id), "pub_time": pub_time,
                       "pub_app_key": creds.app_key}
            if notice.platform_shop_id:
                message["user_id"] = id_value(notice.platform_shop_id)
            messages.append(message)
        body = compact_json(messages[0] if len(messages) == 1 else messages).encode()
        query = {"app_key": creds.app_key, "timestamp": time_text(now), "sign_method": "md5"}
        query["sign"] = signing.sign_params(query, creds.app_secret, "md5", body=body)
        return SignedRequest("POST", url, query=query, headers={"content-type": "application/json"}, body=body)

    def envelope(self, call: Call, data: dict[str, Any] | None, *, error: tuple[str, str] | None = None) -> bytes:
        if error is not None:
            code, message = error
            if code.isdigit():
                body: dict[str, Any] = {"code": int(code), "msg": message}
            else:
                body = {"code": 15, "msg": "Remote service error", "sub_code": code, "sub_msg": message}
            return compact_json({"error_response": body}).encode()
        return compact_json({response_key(call.method): data or {}}).encode()

    def from_canonical(self, order: dict[str, Any], creds: Credentials) -> dict[str, Any]:
        return mapping.from_canonical(order, seller_nick=creds.shop_id)


# canonical receiver field → the fields of a taobao.top.oaid.decrypt receiver, first given wins
DECRYPTED_FIELDS = {"name": ("name",), "phone": ("mobile", "phone"), "address": ("address_detail",),
                    "province": ("state",), "city": ("city",), "district": ("district",), "town": ("town",)}


def response_key(method: str) -> str:
    """`taobao.trades.sold.increment.get` → `trades_sold_increment_get_response`."""
    return method.removeprefix("taobao.").replace(".", "_") + "_response"


def _check_timestamp(value: str, now: datetime) -> None:
    """TOP's `yyyy-MM-dd HH:mm:ss` (or the Python SDK's epoch milliseconds), within 10 minutes of `now`."""
    try:
        at = datetime.fromtimestamp(int(value) / 1000, SHANGHAI) if value.isdigit() else parse_time(value, "timestamp")
    except (MappingError, ValueError, OverflowError):
        at = None
    _common.check_fresh(at, now, value)


def _notice(message: Any) -> PushNotice | None:
    if not isinstance(message, dict):
        raise MappingError("TMC message is not an object", details={"field": "message"})
    topic = str(message.get("topic", ""))
    if not topic.startswith(ORDER_TOPIC_PREFIXES):
        return None
    content = _common.message_content(message.get("content"), f"TMC {topic}", "content")
    occurred = pick(message, "pub_time", None) or pick(content, "modified", None)
    shop = pick(message, "user_id", None) or pick(message, "user_nick", None)
    return PushNotice(
        platform_order_id=text(content, "tid"),
        kind="refund" if topic.startswith("taobao_refund_") else TOPIC_KINDS.get(topic, "other"),
        platform_shop_id=str(shop) if shop is not None else None,
        occurred_at=parse_time(occurred, "pub_time") if occurred else None,
        raw={**message, "content": content},
    )
