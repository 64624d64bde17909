"""拼多多 through its open platform router (POP) and its message service PMC.

Readings chosen where the spec (shared/specs/taobao_pdd_jd.md §2, §4) is [inf] or open — the one place
to correct against a sandbox:

- Requests: every parameter (type, client_id, access_token, timestamp in unix seconds, data_type=JSON,
  version=V1, the business parameters, sign) form-encoded in a POST to `<base_url>/api/router`; objects and
  lists are sent as compact JSON text, booleans as true/false. BaoDan never sends empty values, so the open
  question whether empty values are signed does not arise for its calls; check_request accepts either
  reading (the node SDK signs them, a PHP SDK does not).
- check_request refuses (BadSignature) a wrong client_id, an access_token other than the shop's, a wrong
  sign and a timestamp more than 10 minutes from `now` (window [inf]; a millisecond timestamp is read as
  such). Business parameters come back as text, JSON text (`[`/`{`) parsed.
- Answers: `{"<resp_key>": {...}}` with the keys the SDK names (RESPONSE_KEYS; other types get
  `<type without "pdd.", dots → underscores>_response` [inf]); errors `{"error_response": {error_code,
  error_msg, sub_code, sub_msg, request_id}}`. Retryable: 52101 (throttled), 52102/52103 (unavailable), 70031
  (too frequent), HTTP 5xx/429. 10019 (token expired) is not: it needs a token refresh.
- Lists: `pdd.order.number.list.increment.get` with order_status=5 and refund_status=5 (all), window ≤ 30
  minutes (`max_list_window`), page_size ≤ 100, without use_has_next so total_count comes back and the pull
  may page backwards; the pull should keep end_updated_at ≤ now − 3 min. List items are full orders.
- Status: PDD shows only confirmed (成交) orders, so the status is read from confirm_status (0 未成交 →
  unpaid, 2 已取消 → cancelled) and otherwise from order_status/refund_status: refund_status 4 (退款成功) →
  refunded whatever the shipping state [inf: taken as a full refund]; 2/3 (售后处理中/退款中) keep the shipping
  state. group_status and risk_control_status are not statuses (a 风控 order must not ship: the ship step's
  concern).
- Mapping: `item_list[]` are the lines, with no line ids (platform_line_id None) and no line discounts;
  `platform_sku_id` is `sku_id` (else goods_id), `sku_code` `outer_id` (else outer_goods_id). `gift_list[]`
  items become zero-price lines [inf]. The order discount is what lies between goods + postage and pay_amount.
  Receiver: the ciphertext fields while 待发货, else the `*_mask` ones, as given — but a ciphertext longer than
  the canonical field allows (phone ≤ 32 characters) gives way to the masked value, so the order stays
  valid; decrypting goes by `pdd.open.decrypt.batch` with data_tag = order_sn. PDD's `town` is the
  district [inf]. paid_at is pay_time, else confirm_time. buyer_memo/remark are read if present [inf: not
  in the spec's field list]. Times `yyyy-MM-dd HH:mm:ss` Beijing [inf].
- Ship: `pdd.logistics.online.send` for the whole order (PDD ships per order; `lines` are not sent);
  `carrier_code` must be PDD's numeric logistics_id.
- Stock: `pdd.goods.quantity.update`, update_type=1 (full), goods_id required.
- Push: PMC is a WebSocket (`wss://message-api.pinduoduo.com/message/{client_id}/{timestamp_ms}/{sign}`);
  frames are not signed one by one. BaoDan's PMC client relays frames as an HTTP POST: body the frame JSON
  `{"id", "commandType": "Common", "sendTime", "message": {"type", "mallID", "content": "<json>"}}` (or an array
  of frames), query `client_id`, `timestamp` (ms) and `sign` = the PMC path sign with the body inserted before
  the secret. Only a 2xx answer lets the relay send the Ack frame; anything else leaves the frame to PMC's
  redelivery. Frames lost while nothing is connected are caught up by the incremental pull. HeartBeat/Ack
  frames and topics other than pdd_trade_*/pdd_refund_* give no notice; a frame whose mallID differs from its
  content's mall_id is refused. `sign_push` posts to `creds.extra["push_url"]` (default `/webhooks/pdd`).
- Limits: `calls_per_second` = 50, the per-shop limit of the increment list (3000 per 60 s), the tightest
  of the calls BaoDan makes (decrypt, 1 per 10 s per app, is not one of them).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from baodan.channels._common import compact_json, from_epoch, pick, text, to_epoch
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
from baodan.channels.pdd import mapping, signing
from baodan.core.errors import Invalid

PATH = "/api/router"
FORM = "application/x-www-form-urlencoded;charset=utf-8"
SYSTEM_PARAMS = frozenset({"type", "client_id", "access_token", "timestamp", "data_type", "version", "sign"})
TIMESTAMP_WINDOW = timedelta(minutes=10)
RETRYABLE_CODES = frozenset({"52101", "52102", "52103", "70031"})
RESPONSE_KEYS = {
    "pdd.order.number.list.increment.get": "order_sn_increment_get_response",
    "pdd.order.information.get": "order_info_get_response",
    "pdd.order.list.get": "order_list_get_response",
    "pdd.logistics.online.send": "logistics_online_send_response",
    "pdd.goods.quantity.update": "goods_quantity_update_response",
    "pdd.refund.list.increment.get": "refund_increment_get_response",
    "pdd.open.decrypt.batch": "open_decrypt_batch_response",
}
TOPIC_KINDS = {
    "pdd_trade_TradeConfirmed": "paid",  # 交易确认 (成交)
    "pdd_trade_TradeSellerShip": "shipped",
    "pdd_trade_TradeSuccess": "completed",
    "pdd_trade_TradeLogisticsAddressChanged": "address_changed",
}
ORDER_TOPIC_PREFIXES = ("pdd_trade_", "pdd_refund_")


class PddAdapter:
    channel = "pdd"
    calls_per_second = 50.0
    max_list_window = timedelta(minutes=30)

    # client side

    def sign(self, creds: Credentials, call: Call, *, base_url: str, now: datetime) -> SignedRequest:
        params = {key: _param_text(value) for key, value in call.params.items() if value is not None}
        params.update(type=call.method, client_id=creds.app_key, timestamp=str(to_epoch(now)), data_type="JSON",
                      version="V1")
        if creds.access_token:
            params["access_token"] = creds.access_token
        params["sign"] = signing.sign_params(params, creds.app_secret)
        return SignedRequest("POST", base_url.rstrip("/") + PATH, headers={"content-type": FORM},
                             body=urlencode(params).encode())

    def read_response(self, call: Call, status: int, body: bytes) -> dict[str, Any]:
        try:
            doc = json.loads(body)
        except ValueError:
            raise PlatformError(f"PDD answered HTTP {status} without JSON", retryable=status >= 500 or status == 429,
                                details={"status": status}) from None
        if not isinstance(doc, dict):
            raise PlatformError(f"PDD answered HTTP {status} with no JSON object", details={"status": status})
        if "error_response" in doc:
            error = doc["error_response"] or {}
            code, sub_code = str(error.get("error_code", "")), error.get("sub_code")
            detail = f": {sub_code} {error.get('sub_msg', '')}" if sub_code else ""
            raise PlatformError(
                f"PDD error {code} {error.get('error_msg', '')}{detail}",
                platform_code=code, retryable=code in RETRYABLE_CODES or status >= 500,
                details={"error_code": code, "sub_code": sub_code, "request_id": error.get("request_id")},
            )
        key = response_key(call.method)
        if not isinstance(doc.get(key), dict):
            raise PlatformError(f"PDD answer has no {key}", retryable=status >= 500, details={"status": status})
        return doc[key]

    def order_list_call(self, creds: Credentials, *, updated_from: datetime, updated_to: datetime,
                        page: int, page_size: int) -> Call:
        if not timedelta(0) < updated_to - updated_from <= self.max_list_window:
            raise Invalid("the update-time window must be positive and at most 30 minutes", code="channel.bad_window")
        if not 1 <= page_size <= 100:
            raise Invalid(f"PDD page_size is 1–100, not {page_size}", code="channel.bad_page_size")
        return Call("pdd.order.number.list.increment.get", {
            "start_updated_at": to_epoch(updated_from),
            "end_updated_at": to_epoch(updated_to),
            "order_status": 5,
            "refund_status": 5,
            "page": page,
            "page_size": page_size,
        })

    def parse_order_list(self, data: dict[str, Any]) -> OrderPage:
        orders = pick(data, "order_sn_list", [])
        if not isinstance(orders, list):
            raise MappingError("order_sn_list is not a list", details={"field": "order_sn_list"})
        total = pick(data, "total_count", None)
        return OrderPage(orders=orders, has_more=bool(data.get("has_next")),
                         total=int(total) if total is not None else None)

    def order_detail_call(self, creds: Credentials, platform_order_id: str) -> Call:
        return Call("pdd.order.information.get", {"order_sn": platform_order_id})

    def parse_order_detail(self, data: dict[str, Any]) -> dict[str, Any]:
        order = pick(data, "order_info")
        if not isinstance(order, dict):
            raise MappingError("order_info is not an object", details={"field": "order_info"})
        return order

    def ship_call(self, creds: Credentials, *, platform_order_id: str, waybill_no: str, carrier_code: str,
                  lines: list[dict[str, Any]]) -> Call:
        if not carrier_code.isdigit():
            raise Invalid(f"PDD names carriers by numeric logistics_id, not {carrier_code!r}",
                          code="channel.bad_carrier_code")
        return Call("pdd.logistics.online.send", {"order_sn": platform_order_id, "logistics_id": int(carrier_code),
                                                  "tracking_number": waybill_no})

    def stock_call(self, creds: Credentials, *, platform_sku_id: str, quantity: int,
                   platform_product_id: str | None = None) -> Call:
        if not platform_product_id:
            raise Invalid("PDD stock updates need the goods id", code="channel.missing_product_id")
        if quantity < 0:
            raise Invalid("a full stock update cannot be negative", code="channel.negative_stock")
        return Call("pdd.goods.quantity.update", {"goods_id": platform_product_id, "sku_id": platform_sku_id,
                                                  "quantity": quantity, "update_type": 1})

    # push side (the PMC relay)

    def verify_push(self, creds: Credentials, request: Incoming) -> None:
        if request.query.get("client_id") != creds.app_key:
            raise BadSignature("PMC relay names another client_id")
        signing.check_message_sign(creds.app_key, request.query.get("timestamp", ""), request.query.get("sign", ""),
                                   creds.app_secret, body=request.body)

    def parse_push(self, request: Incoming) -> list[PushNotice]:
        try:
            doc = json.loads(request.body)
        except ValueError:
            raise MappingError("PMC relay body is not JSON", details={"field": "body"}) from None
        frames = doc if isinstance(doc, list) else [doc]
        return [notice for frame in frames if (notice := _notice(frame)) is not None]

    def push_answer(self, ok: bool) -> PushAnswer:
        return PushAnswer(200, b'{"success":true}') if ok else PushAnswer(500, b'{"success":false}')

    # mapping

    def to_canonical(self, order: dict[str, Any], *, shop_code: str) -> dict[str, Any]:
        return mapping.to_canonical(order, shop_code=shop_code)

    # server side (the simulator)

    def check_request(self, creds: Credentials, request: Incoming, *, now: datetime) -> Call:
        params = dict(request.query)
        if request.body:
            params.update(parse_qsl(request.body.decode(), keep_blank_values=True))
        if params.get("client_id") != creds.app_key:
            raise BadSignature("unknown client_id", details={"client_id": params.get("client_id")})
        if creds.access_token and params.get("access_token", creds.access_token) != creds.access_token:
            raise BadSignature("access_token is not this shop's")
        signing.check_sign(params, creds.app_secret)
        _check_timestamp(params.get("timestamp", ""), now)
        if not params.get("type"):
            raise BadSignature("no type named")
        return Call(params["type"], {key: _param_value(value) for key, value in params.items()
                                     if key not in SYSTEM_PARAMS})

    def sign_push(self, creds: Credentials, notices: list[dict[str, Any]], *, now: datetime) -> SignedRequest:
        sent_ms = to_epoch(now, ms=True)
        frames = [_frame(notice, sent_ms * 100 + i) for i, notice in enumerate(notices)]
        body = compact_json(frames[0] if len(frames) == 1 else frames).encode()
        query = {"client_id": creds.app_key, "timestamp": str(sent_ms)}
        query["sign"] = signing.message_sign(creds.app_key, query["timestamp"], creds.app_secret, body=body)
        return SignedRequest("POST", creds.extra.get("push_url", "/webhooks/pdd"), query=query,
                             headers={"content-type": "application/json"}, body=body)

    def envelope(self, call: Call, data: dict[str, Any] | None, *, error: tuple[str, str] | None = None) -> bytes:
        if error is not None:
            code, message = error
            return compact_json({"error_response": {"error_code": int(code) if code.isdigit() else code,
                                                    "error_msg": message}}).encode()
        return compact_json({response_key(call.method): data or {}}).encode()

    def from_canonical(self, order: dict[str, Any], creds: Credentials) -> dict[str, Any]:
        return mapping.from_canonical(order)


def response_key(method: str) -> str:
    return RESPONSE_KEYS.get(method) or method.removeprefix("pdd.").replace(".", "_") + "_response"


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return compact_json(value)
    return str(value)


def _param_value(value: str) -> Any:
    if value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _check_timestamp(value: str, now: datetime) -> None:
    if not value.isdigit():
        raise BadSignature(f"timestamp {value!r} is not unix seconds")
    number = int(value)
    seconds = number / 1000 if number > 10**11 else number
    if abs(now.timestamp() - seconds) > TIMESTAMP_WINDOW.total_seconds():
        raise BadSignature("timestamp is more than 10 minutes from the gateway's clock", details={"timestamp": value})


def _frame(notice: dict[str, Any], frame_id: int) -> dict[str, Any]:
    """A PMC Common frame around a message ({type, mallID, content}); a whole frame is kept as it is."""
    if "message" in notice:
        return notice
    content = notice.get("content")
    message = {**notice, "content": compact_json(content) if isinstance(content, dict) else content}
    return {"id": frame_id, "commandType": "Common", "sendTime": frame_id // 100, "message": message}


def _notice(frame: Any) -> PushNotice | None:
    if not isinstance(frame, dict):
        raise MappingError("PMC frame is not an object", details={"field": "frame"})
    if frame.get("commandType") != "Common":
        return None  # HeartBeat / Ack
    message = pick(frame, "message")
    topic = str(message.get("type", ""))
    if not topic.startswith(ORDER_TOPIC_PREFIXES):
        return None
    content = message.get("content")
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            raise MappingError(f"PMC {topic} content is not JSON", details={"field": "message.content"}) from None
    if not isinstance(content, dict):
        raise MappingError(f"PMC {topic} carries no content", details={"field": "message.content"})
    mall_id = message.get("mallID")
    if mall_id is not None and content.get("mall_id") is not None and str(mall_id) != str(content["mall_id"]):
        raise MappingError("PMC frame's mallID differs from its content's mall_id", details={"field": "mallID"})
    sent = pick(content, "modified", None) or pick(frame, "sendTime", None)
    return PushNotice(
        platform_order_id=text(content, "tid"),
        kind="refund" if topic.startswith("pdd_refund_") else TOPIC_KINDS.get(topic, "other"),
        platform_shop_id=str(mall_id) if mall_id is not None else None,
        occurred_at=from_epoch(sent, "sendTime", ms=True) if sent else None,
        raw={**frame, "message": {**message, "content": content}},
    )
