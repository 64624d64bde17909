"""淘宝/天猫 through TOP (the Taobao Open Platform router) and its message service TMC.

Readings chosen where the spec (shared/specs/taobao_pdd_jd.md §1, §4) is [inf] or open — the one place
to correct against a sandbox:

- Requests: POST to `<base_url>/router/rest`, system parameters (method, app_key, session, timestamp, v=2.0,
  format=json, sign_method) in the query string, business parameters form-encoded in the body; all of them
  signed, empty values dropped. `sign_method` is md5 unless `creds.extra["sign_method"]` names hmac or
  hmac-sha256. BaoDan sends `timestamp` as `yyyy-MM-dd HH:mm:ss` Asia/Shanghai; check_request also accepts
  the epoch-milliseconds form of the official Python SDK.
- check_request refuses (BadSignature) a wrong app_key, a session other than the shop's access token, an
  unknown sign_method, a wrong sign, and a timestamp more than 10 minutes from `now` (window [inf]).
- Answers: `{"<method without "taobao.", dots → underscores>_response": {...}}`; errors
  `{"error_response": {code, msg, sub_code, sub_msg}}`. Retryable [inf, codes from memory]: code 7 (App Call
  Limited), code 10 (service unavailable), any `isp.*` sub_code (platform-side failure), HTTP 5xx/429.
  `envelope(error=(code, msg))` writes a numeric code as `code`, anything else as a `sub_code` under
  code 15 (Remote service error).
- Lists: `taobao.trades.sold.increment.get` without use_has_next (so total_results comes back and the pull
  may page backwards, as TOP advises); the answer is read as `{total_results, has_next, trades: {trade: [...]}}`
  — the `{"trades": {"trade": [...]}}` wrapping is TOP's JSON list convention [inf]. Window ≤ 1 day
  (`max_list_window`); the list trade is partial, so the pull fetches `trade.fullinfo.get` for each.
- Mapping: lines are `orders.order[]`; `platform_sku_id` is `sku_id`, or `num_iid` for an item without
  SKUs; `sku_code` is `outer_sku_id`, or `outer_iid`. A line's amount is its `payment`, its discount
  price × num − payment (0 when the seller raised the price); the order discount is what is left between
  goods + post_fee and the trade's `payment`. SELLER_CONSIGNED_PART maps to paid (lines still to ship),
  TRADE_CLOSED to refunded (closed after payment), TRADE_CLOSED_BY_TAOBAO to cancelled. The receiver is taken
  as given (masked since the privacy upgrade; `oaid` is left for `taobao.top.oaid.decrypt`); `buyer_nick`
  falls back to `buyer_open_uid`.
- Ship: `taobao.logistics.offline.send` with tid, out_sid, company_code; when `lines` are given their
  `platform_line_id`s (oids) go to `sub_tid` with `is_split=1` (a split shipment); no lines = whole trade.
- Stock: `taobao.item.quantity.update`, type=1 (full), `num_iid` required (the item id).
- Push: TMC is a WebSocket the app connects to; messages are not signed one by one. BaoDan's TMC client
  relays each message as an HTTP POST: body the message JSON (an object, or an array of them)
  `{topic, content (JSON string), id, pub_time, user_id, user_nick, pub_app_key}` (field names [inf]),
  query `app_key`, `timestamp`, `sign_method`, `sign`, signed with the TOP recipe over the query with the body
  appended after the parameters (TOP's batch-API form). Only a 2xx answer lets the relay confirm the message
  on the socket; anything else leaves it to TMC's redelivery. Messages lost while nothing is connected are
  caught up by the incremental pull. Trade and refund messages become notices (by `content.tid`);
  other topics are skipped. `sign_push` posts to `creds.extra["push_url"]` (default `/webhooks/taobao`).
- Limits: TOP publishes no per-app rate in the sources; `calls_per_second` = 10 is a conservative guess.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from baodan.channels._common import compact_json, pick, text
from baodan.channels.base import (
    BadSignature,
    Call,
    Credentials,
    Incoming,
    MappingError,
    OrderPage,
    PlatformError,
    PushAnswer,
    PushNotice,
    SignedRequest,
)
from baodan.channels.taobao import mapping, signing
from baodan.core.clock import SHANGHAI
from baodan.core.errors import Invalid

PATH = "/router/rest"
FORM = "application/x-www-form-urlencoded;charset=utf-8"
SYSTEM_PARAMS = frozenset({"method", "app_key", "session", "timestamp", "format", "v", "sign_method", "sign",
                           "partner_id", "target_app_key", "simplify"})
TIMESTAMP_WINDOW = timedelta(minutes=10)
RETRYABLE_CODES = frozenset({"7", "10"})

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


class TaobaoAdapter:
    channel = "taobao"
    calls_per_second = 10.0
    max_list_window = timedelta(days=1)

    # client side

    def sign(self, creds: Credentials, call: Call, *, base_url: str, now: datetime) -> SignedRequest:
        system = {
            "method": call.method,
            "app_key": creds.app_key,
            "timestamp": mapping.time_text(now),
            "format": "json",
            "v": "2.0",
            "sign_method": creds.extra.get("sign_method", "md5"),
        }
        if creds.access_token:
            system["session"] = creds.access_token
        business = {key: _param_text(value) for key, value in call.params.items() if value is not None}
        system["sign"] = signing.sign_params({**business, **system}, creds.app_secret, system["sign_method"])
        return SignedRequest("POST", base_url.rstrip("/") + PATH, query=system, headers={"content-type": FORM},
                             body=urlencode(business).encode())

    def read_response(self, call: Call, status: int, body: bytes) -> dict[str, Any]:
        try:
            doc = json.loads(body)
        except ValueError:
            raise PlatformError(f"TOP answered HTTP {status} without JSON", retryable=status >= 500 or status == 429,
                                details={"status": status}) from None
        if not isinstance(doc, dict):
            raise PlatformError(f"TOP answered HTTP {status} with no JSON object", details={"status": status})
        if "error_response" in doc:
            error = doc["error_response"] or {}
            code, sub_code = str(error.get("code", "")), error.get("sub_code")
            detail = f": {sub_code} {error.get('sub_msg', '')}" if sub_code else ""
            raise PlatformError(
                f"TOP error {code} {error.get('msg', '')}{detail}",
                platform_code=sub_code or code,
                retryable=code in RETRYABLE_CODES or str(sub_code or "").startswith("isp.") or status >= 500,
                details={"code": code, "sub_code": sub_code},
            )
        key = response_key(call.method)
        if not isinstance(doc.get(key), dict):
            raise PlatformError(f"TOP answer has no {key}", retryable=status >= 500, details={"status": status})
        return doc[key]

    def order_list_call(self, creds: Credentials, *, updated_from: datetime, updated_to: datetime,
                        page: int, page_size: int) -> Call:
        _check_window(updated_from, updated_to, self.max_list_window)
        if not 1 <= page_size <= 100:
            raise Invalid(f"TOP page_size is 1–100, not {page_size}", code="channel.bad_page_size")
        return Call("taobao.trades.sold.increment.get", {
            "fields": TRADE_FIELDS,
            "start_modified": mapping.time_text(updated_from),
            "end_modified": mapping.time_text(updated_to),
            "page_no": page,
            "page_size": page_size,
        })

    def parse_order_list(self, data: dict[str, Any]) -> OrderPage:
        trades = pick(data, "trades.trade", [])
        if not isinstance(trades, list):
            raise MappingError("trades.trade is not a list", details={"field": "trades.trade"})
        total = pick(data, "total_results", None)
        return OrderPage(orders=trades, has_more=bool(data.get("has_next")),
                         total=int(total) if total is not None else None)

    def order_detail_call(self, creds: Credentials, platform_order_id: str) -> Call:
        return Call("taobao.trade.fullinfo.get", {"fields": TRADE_FIELDS, "tid": platform_order_id})

    def parse_order_detail(self, data: dict[str, Any]) -> dict[str, Any]:
        trade = pick(data, "trade")
        if not isinstance(trade, dict):
            raise MappingError("trade is not an object", details={"field": "trade"})
        return trade

    def ship_call(self, creds: Credentials, *, platform_order_id: str, waybill_no: str, carrier_code: str,
                  lines: list[dict[str, Any]]) -> Call:
        params: dict[str, Any] = {"tid": platform_order_id, "out_sid": waybill_no, "company_code": carrier_code}
        oids = [str(line["platform_line_id"]) for line in lines if line.get("platform_line_id")]
        if oids:
            if len(oids) > 50:
                raise Invalid("TOP ships at most 50 sub-orders per call", code="channel.too_many_lines")
            params.update(sub_tid=",".join(oids), is_split=1)
        return Call("taobao.logistics.offline.send", params)

    def stock_call(self, creds: Credentials, *, platform_sku_id: str, quantity: int,
                   platform_product_id: str | None = None) -> Call:
        if not platform_product_id:
            raise Invalid("TOP stock updates need the item id (num_iid)", code="channel.missing_product_id")
        if quantity < 0:
            raise Invalid("a full stock update cannot be negative", code="channel.negative_stock")
        return Call("taobao.item.quantity.update", {"num_iid": platform_product_id, "sku_id": platform_sku_id,
                                                    "quantity": quantity, "type": 1})

    # push side (the TMC relay)

    def verify_push(self, creds: Credentials, request: Incoming) -> None:
        if request.query.get("app_key") != creds.app_key:
            raise BadSignature("TMC relay names another app_key")
        signing.check_sign(request.query, creds.app_secret, body=request.body)

    def parse_push(self, request: Incoming) -> list[PushNotice]:
        try:
            doc = json.loads(request.body)
        except ValueError:
            raise MappingError("TMC relay body is not JSON", details={"field": "body"}) from None
        messages = doc if isinstance(doc, list) else [doc]
        return [notice for message in messages if (notice := _notice(message)) is not None]

    def push_answer(self, ok: bool) -> PushAnswer:
        return PushAnswer(200, b'{"success":true}') if ok else PushAnswer(500, b'{"success":false}')

    # mapping

    def to_canonical(self, order: dict[str, Any], *, shop_code: str) -> dict[str, Any]:
        return mapping.to_canonical(order, shop_code=shop_code)

    # server side (the simulator)

    def check_request(self, creds: Credentials, request: Incoming, *, now: datetime) -> Call:
        params = dict(request.query)
        if request.body and "json" not in request.headers.get("content-type", ""):
            params.update(parse_qsl(request.body.decode(), keep_blank_values=True))
        if params.get("app_key") != creds.app_key:
            raise BadSignature("unknown app_key", details={"app_key": params.get("app_key")})
        if creds.access_token and params.get("session", creds.access_token) != creds.access_token:
            raise BadSignature("session is not this shop's access token")
        signing.check_sign(params, creds.app_secret)
        _check_timestamp(params.get("timestamp", ""), now)
        if not params.get("method"):
            raise BadSignature("no method named")
        return Call(params["method"], {key: value for key, value in params.items() if key not in SYSTEM_PARAMS})

    def sign_push(self, creds: Credentials, notices: list[dict[str, Any]], *, now: datetime) -> SignedRequest:
        messages = [{**notice, "content": _content_text(notice.get("content"))} for notice in notices]
        body = compact_json(messages[0] if len(messages) == 1 else messages).encode()
        query = {"app_key": creds.app_key, "timestamp": mapping.time_text(now), "sign_method": "md5"}
        query["sign"] = signing.sign_params(query, creds.app_secret, "md5", body=body)
        return SignedRequest("POST", creds.extra.get("push_url", "/webhooks/taobao"), query=query,
                             headers={"content-type": "application/json"}, body=body)

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


def response_key(method: str) -> str:
    """`taobao.trades.sold.increment.get` → `trades_sold_increment_get_response`."""
    return method.removeprefix("taobao.").replace(".", "_") + "_response"


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return mapping.time_text(value)
    if isinstance(value, dict | list):
        return compact_json(value)
    return str(value)


def _content_text(content: Any) -> Any:
    return compact_json(content) if isinstance(content, dict) else content


def _check_window(start: datetime, end: datetime, limit: timedelta) -> None:
    if not timedelta(0) < end - start <= limit:
        raise Invalid(f"the update-time window must be positive and at most {limit}", code="channel.bad_window")


def _check_timestamp(value: str, now: datetime) -> None:
    try:
        if value.isdigit():
            at = datetime.fromtimestamp(int(value) / 1000, SHANGHAI)
        else:
            at = mapping.parse_time(value, "timestamp")
    except (MappingError, ValueError, OverflowError):
        raise BadSignature(f"timestamp {value!r} is not a TOP time") from None
    if abs(now - at) > TIMESTAMP_WINDOW:
        raise BadSignature("timestamp is more than 10 minutes from the gateway's clock", details={"timestamp": value})


def _notice(message: Any) -> PushNotice | None:
    if not isinstance(message, dict):
        raise MappingError("TMC message is not an object", details={"field": "message"})
    topic = str(message.get("topic", ""))
    if not topic.startswith(ORDER_TOPIC_PREFIXES):
        return None
    content = message.get("content")
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            raise MappingError(f"TMC {topic} content is not JSON", details={"field": "content"}) from None
    if not isinstance(content, dict):
        raise MappingError(f"TMC {topic} carries no content", details={"field": "content"})
    occurred = pick(message, "pub_time", None) or pick(content, "modified", None)
    shop = pick(message, "user_id", None) or pick(message, "user_nick", None)
    return PushNotice(
        platform_order_id=text(content, "tid"),
        kind="refund" if topic.startswith("taobao_refund_") else TOPIC_KINDS.get(topic, "other"),
        platform_shop_id=str(shop) if shop is not None else None,
        occurred_at=mapping.parse_time(occurred, "pub_time") if occurred else None,
        raw={**message, "content": content},
    )
