"""拼多多 through its open platform router (POP) and its message service PMC.

Readings chosen where the spec (shared/specs/taobao_pdd_jd.md §2, §4) is [inf] or open — the one place
to correct against a sandbox:

- Requests: every parameter (type, client_id, access_token, timestamp in unix seconds, data_type=JSON,
  version=V1, the business parameters, sign) form-encoded in a POST to `<base_url>/api/router`; objects and
  lists are sent as compact JSON text, booleans as true/false. BaoDan never sends empty values, so the open
  question whether empty values are signed does not arise for its calls; check_request accepts either
  reading (the node SDK signs them, a PHP SDK does not).
- check_request refuses (BadSignature) a wrong client_id, a missing access_token (but on a sign-in call, a
  `type` naming a token; pdd-sdk 1.0.8 sends its token as TOP's `session`, not a PDD parameter [inf]) or
  another shop's, a wrong
  sign and a timestamp more than 10 minutes from `now` (window [inf]; a millisecond timestamp is read as
  such). Business parameters come back as text, JSON text (`[`/`{`) parsed; `read_call` reads numbers and
  times back from that text.
- Answers: `{"<resp_key>": {...}}` with the keys the SDK names (RESPONSE_KEYS; other types get
  `<type without "pdd.", dots → underscores>_response` [inf]); errors `{"error_response": {error_code,
  error_msg, sub_code, sub_msg, request_id}}`. Retryable: 52101 (throttled), 52102/52103 (unavailable), 70031
  (too frequent), HTTP 5xx/429 (whatever the body). 10019 (token expired) is not: it needs a token refresh.
- Lists: `pdd.order.number.list.increment.get` with order_status=5 and refund_status=5 (all), window ≤ 30
  minutes (`max_list_window`), page_size ≤ 100, without use_has_next so total_count comes back and the pull
  may page backwards; the pull should keep end_updated_at ≤ now − 3 min. List items are full orders.
  `has_more` is `has_next` when the answer carries it, else worked out from total_count, page and page_size.
- Status: PDD shows only confirmed (成交) orders, so the status is read from confirm_status (0 未成交 →
  unpaid, 2 已取消 → cancelled) and otherwise from order_status/refund_status: refund_status 4 (退款成功) →
  refunded whatever the shipping state [inf: taken as a full refund]; 2/3 (售后处理中/退款中) keep the shipping
  state. group_status and risk_control_status are not statuses (a 风控 order must not ship: the ship step's
  concern).
- Mapping: `item_list[]` are the lines, with no line ids (platform_line_id None) and no line discounts;
  `platform_sku_id` is `sku_id` (else goods_id), `sku_code` `outer_id` (else outer_goods_id). `gift_list[]`
  items become zero-price lines [inf]. The order discount is what lies between goods + postage and pay_amount.
  Receiver: name/phone/address are the `*_mask` values; the ciphertexts (`receiver_name`, `receiver_phone`,
  `receiver_address`, given only while 待发货) go to `receiver.platform_cipher` for `pdd.open.decrypt.batch`
  (data_tag = order_sn). from_canonical writes them back the same way. PDD's `town` is the district [inf].
  paid_at is pay_time, else confirm_time. buyer_memo/remark are read if present [inf: not in the spec's
  field list]. Times `yyyy-MM-dd HH:mm:ss` Beijing [inf].
- Ship: `pdd.logistics.online.send` for the whole order (PDD ships per order; `lines` are not sent);
  `carrier_code` must be PDD's numeric logistics_id.
- Stock: `pdd.goods.quantity.update`, update_type=1 (full), goods_id required; being absolute, BaoDan reads
  no level (`stock_query_call` None, `parse_stock_query`/`stock_query_data` NotImplementedError).
- Push: PMC is a WebSocket (`wss://message-api.pinduoduo.com/message/{client_id}/{timestamp_ms}/{sign}`);
  frames are not signed one by one. BaoDan's PMC client relays frames as an HTTP POST: body the frame JSON
  `{"id", "commandType": "Common", "sendTime", "message": {"type", "mallID", "content": "<json>"}}` (or an array
  of frames), query `client_id`, `timestamp` (ms) and `sign` = the PMC path sign with the body inserted before
  the secret; `open_push` refuses a relay whose timestamp is more than 10 minutes from `now`. `push_route`
  reads `client_id` and the first frame's mallID. Only a 2xx answer lets the relay send the Ack frame;
  anything else leaves the frame to PMC's redelivery. Frames lost while nothing is connected are caught up
  by the incremental pull. HeartBeat/Ack frames and topics other than pdd_trade_*/pdd_refund_* give no
  notice; a frame whose mallID differs from its content's mall_id is refused (MappingError); there is no
  URL check (`handshake` None). `sign_push` relays all notices in one POST (one frame, or an array), the
  topic by kind (paid TradeConfirmed, shipped TradeSellerShip, completed TradeSuccess, address_changed
  TradeLogisticsAddressChanged, refund pdd_refund_RefundCreated; PMC has no topic for created, cancelled or
  other: ValueError) unless the notice's `raw` names a `type`, mallID the notice's shop, sendTime its time
  (else `now`); PMC frames never carry the order.
- Limits: `calls_per_second` = 50, the per-shop limit of the increment list (3000 per 60 s), the tightest
  of the calls BaoDan makes but decrypt, which is 1 per 10 s per app (`call_rates`).
- Access token: `pdd.pop.auth.token.refresh` (the spec marks the name [inf]) with `refresh_token`, through
  the router like other calls but without `access_token`; the answer `pop_auth_token_refresh_response`
  gives `expires_in` and `refresh_token_expires_in` (seconds; the `*_expires_at` times are not read).
  10019 (access_token 已过期) marks an expired token.
- Decrypt: `pdd.open.decrypt.batch` takes ≤ 100 `data_list` items {data_tag = order_sn, encrypted_data}, up
  to three per order, so `decrypt_batch_size` is 33 orders. Answer items are matched back by data_tag and
  encrypted_data (`data_type` 5 name, 6 phone, 8 detail address; 7, the full address, is not asked for);
  `error_code` 0 means decrypted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any
from urllib.parse import urlencode

from baodan.channels import _common
from baodan.channels._common import compact_json, from_epoch, id_value, param_text, pick, text, to_epoch
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
from baodan.channels.pdd import mapping, signing
from baodan.core.errors import Invalid

PATH = "/api/router"
FORM = "application/x-www-form-urlencoded;charset=utf-8"
SYSTEM_PARAMS = frozenset({"type", "client_id", "access_token", "timestamp", "data_type", "version", "sign"})
RETRYABLE_CODES = frozenset({"52101", "52102", "52103", "70031"})
RESPONSE_KEYS = {
    "pdd.order.number.list.increment.get": "order_sn_increment_get_response",
    "pdd.order.information.get": "order_info_get_response",
    "pdd.order.list.get": "order_list_get_response",
    "pdd.logistics.online.send": "logistics_online_send_response",
    "pdd.goods.quantity.update": "goods_quantity_update_response",
    "pdd.refund.list.increment.get": "refund_increment_get_response",
    "pdd.open.decrypt.batch": "open_decrypt_batch_response",
    "pdd.pop.auth.token.create": "pop_auth_token_create_response",
    "pdd.pop.auth.token.refresh": "pop_auth_token_refresh_response",
    "pdd.waybill.get": "pdd_waybill_get_response",  # the e-waybill calls (baodan.waybills.pdd)
    "pdd.waybill.cancel": "pdd_waybill_cancel_response",
}
TOPIC_KINDS = {
    "pdd_trade_TradeConfirmed": "paid",  # 交易确认 (成交)
    "pdd_trade_TradeSellerShip": "shipped",
    "pdd_trade_TradeSuccess": "completed",
    "pdd_trade_TradeLogisticsAddressChanged": "address_changed",
}
ORDER_TOPIC_PREFIXES = ("pdd_trade_", "pdd_refund_")
KIND_TOPICS = {"paid": "pdd_trade_TradeConfirmed", "shipped": "pdd_trade_TradeSellerShip",
               "completed": "pdd_trade_TradeSuccess", "address_changed": "pdd_trade_TradeLogisticsAddressChanged",
               "refund": "pdd_refund_RefundCreated"}
LIST_METHOD = "pdd.order.number.list.increment.get"
DETAIL_METHOD = "pdd.order.information.get"
SHIP_METHOD = "pdd.logistics.online.send"
STOCK_METHOD = "pdd.goods.quantity.update"
TOKEN_METHOD = "pdd.pop.auth.token.create"
REFRESH_METHOD = "pdd.pop.auth.token.refresh"
TOKEN_EXPIRED = "10019"
DECRYPT_METHOD = "pdd.open.decrypt.batch"
MAX_CIPHERS = 100
DATA_TYPES = {"name": 5, "phone": 6, "address": 8}  # data_type of each receiver field's decrypted_data


class PddAdapter(_common.AdapterDefaults, _common.AbsoluteStock):
    channel = "pdd"
    calls_per_second = 50.0
    has_push = True
    max_list_window = timedelta(minutes=30)
    stock_mode = "absolute"
    call_rates = MappingProxyType({DECRYPT_METHOD: 0.1})
    decrypt_batch_size = MAX_CIPHERS // len(_common.CIPHER_FIELDS)
    no_stock_level = "PDD stock is set in full: BaoDan reads no stock level"
    mapping = mapping

    # client side

    def sign(self, creds: Credentials, call: Call, *, base_url: str, now: datetime) -> SignedRequest:
        params = {key: param_text(value) for key, value in call.params.items() if value is not None}
        params.update(type=call.method, client_id=creds.app_key, timestamp=str(to_epoch(now)), data_type="JSON",
                      version="V1")
        if creds.access_token and call.method not in (TOKEN_METHOD, REFRESH_METHOD):
            params["access_token"] = creds.access_token
        params["sign"] = signing.sign_params(params, creds.app_secret)
        return SignedRequest("POST", base_url.rstrip("/") + PATH, headers={"content-type": FORM},
                             body=urlencode(params).encode())

    def read_response(self, call: Call, status: int, body: bytes) -> dict[str, Any]:
        doc = _common.answer_object("pdd", call, status, body)
        if "error_response" in doc:
            error = doc["error_response"] or {}
            code, sub_code = str(error.get("error_code", "")), error.get("sub_code")
            detail = f": {sub_code} {error.get('sub_msg', '')}" if sub_code else ""
            raise PlatformError(
                f"PDD error {code} {error.get('error_msg', '')}{detail}",
                platform_code=code, retryable=code in RETRYABLE_CODES, token_expired=code == TOKEN_EXPIRED,
                details={"error_code": code, "sub_code": sub_code, "request_id": error.get("request_id")},
            )
        return _common.keyed_answer(doc, response_key(call.method), "PDD")

    def order_list_call(self, creds: Credentials, *, updated_from: datetime, updated_to: datetime,
                        page: int = 1, cursor: str | None = None, page_size: int = 50) -> Call:
        _common.check_window(updated_from, updated_to, self.max_list_window, self.channel)
        _common.check_page_size(page_size, 100, "PDD")
        return Call(LIST_METHOD, {
            "start_updated_at": to_epoch(updated_from),
            "end_updated_at": to_epoch(updated_to),
            "order_status": 5,
            "refund_status": 5,
            "page": page,
            "page_size": page_size,
        })

    def parse_order_list(self, data: dict[str, Any], *, page: int, page_size: int) -> OrderPage:
        orders, total = _common.listed_orders(data, "order_sn_list", "total_count")
        more = bool(data["has_next"]) if "has_next" in data else _common.has_more(total, page, page_size)
        return OrderPage(orders=orders, has_more=more, total=total)

    def order_detail_call(self, creds: Credentials, platform_order_id: str) -> Call:
        return Call(DETAIL_METHOD, {"order_sn": platform_order_id})

    def parse_order_detail(self, data: dict[str, Any]) -> dict[str, Any]:
        return _common.order_object(data, "order_info")

    def ship_call(self, creds: Credentials, *, platform_order_id: str, waybill_no: str, carrier_code: str,
                  lines: list[dict[str, Any]]) -> Call:
        if not carrier_code.isdigit():
            raise Invalid(f"PDD names carriers by numeric logistics_id, not {carrier_code!r}",
                          code="channel.bad_carrier_code")
        return Call(SHIP_METHOD, {"order_sn": platform_order_id, "logistics_id": int(carrier_code),
                                  "tracking_number": waybill_no})

    def stock_call(self, creds: Credentials, *, platform_sku_id: str, quantity: int,
                   platform_product_id: str | None = None, current: int | None = None) -> Call:
        if not platform_product_id:
            raise Invalid("PDD stock updates need the goods id", code="channel.missing_product_id")
        if quantity < 0:
            raise Invalid("a full stock update cannot be negative", code="channel.negative_stock")
        return Call(STOCK_METHOD, {"goods_id": platform_product_id, "sku_id": platform_sku_id, "quantity": quantity,
                                   "update_type": 1})

    def token_refresh_call(self, creds: Credentials) -> Call | None:
        return Call(REFRESH_METHOD, {"refresh_token": creds.refresh_token}) if creds.refresh_token else None

    def parse_token(self, data: dict[str, Any], *, now: datetime) -> Token:
        return _common.lifetime_token(self.channel, data, now=now, refresh_expires_in="refresh_token_expires_in")

    def decrypt_call(self, creds: Credentials, items: list[tuple[str, Mapping[str, str]]]) -> Call | None:
        return _common.cipher_call(DECRYPT_METHOD, items, limit=MAX_CIPHERS, channel=self.channel,
                                   list_key="data_list", order_key="data_tag", cipher_key="encrypted_data")

    def parse_decrypt(self, data: dict[str, Any], *,
                      items: list[tuple[str, Mapping[str, str]]]) -> dict[str, dict[str, str]]:
        return _common.decrypted_by_cipher(
            items, data.get("data_decrypt_list") or [], order_key="data_tag", cipher_key="encrypted_data",
            clear=lambda d: d.get("decrypted_data") if str(d.get("error_code") or 0) == "0" else None,
            code_key="error_code", message_key="error_msg")

    # push side (the PMC relay)

    def push_route(self, request: Incoming) -> PushRoute:
        try:
            mall = _common.json_messages(request.body, "PMC relay")[0]["message"].get("mallID")
        except (BadSignature, LookupError, TypeError, AttributeError):
            mall = None
        return PushRoute(app_key=request.query.get("client_id") or None,
                         platform_shop_id=str(mall) if mall is not None else None)

    def open_push(self, creds: Credentials, request: Incoming, *, now: datetime) -> list[PushNotice]:
        query = request.query
        return _common.open_relay(
            creds, request, now, relay="PMC relay", app_field="client_id",
            check_sign=lambda: signing.check_message_sign(creds.app_key, query.get("timestamp", ""),
                                                          query.get("sign", ""), creds.app_secret, body=request.body),
            check_timestamp=_check_timestamp, notice=_notice)

    # server side (the simulator)

    def check_request(self, creds: Credentials, request: Incoming, *, now: datetime) -> Call:
        params = _common.check_top_request(creds, request, now, app_field="client_id", token_field="access_token",
                                           method_field="type", check_sign=signing.check_sign,
                                           check_timestamp=_check_timestamp)
        return Call(_common.named_method(params, "type"),
                    {key: _param_value(value) for key, value in params.items() if key not in SYSTEM_PARAMS},
                    access_token=params.get("access_token"))

    def read_call(self, call: Call) -> ServedCall:
        p = call.params
        if call.method == TOKEN_METHOD:
            return ServedCall("token")
        if call.method == REFRESH_METHOD:
            return ServedCall("token_refresh", refresh_token=str(p.get("refresh_token") or ""))
        if call.method == DECRYPT_METHOD:
            return ServedCall("decrypt", decrypt_items=tuple((str(d["data_tag"]), str(d["encrypted_data"]))
                                                             for d in p["data_list"]))
        if call.method == LIST_METHOD:
            return ServedCall("order_list", updated_from=from_epoch(p["start_updated_at"], "start_updated_at"),
                              updated_to=from_epoch(p["end_updated_at"], "end_updated_at"),
                              page=int(p.get("page", 1)), page_size=int(p.get("page_size", 100)))
        if call.method == DETAIL_METHOD:
            return ServedCall("order_detail", platform_order_id=str(p["order_sn"]))
        if call.method == SHIP_METHOD:
            return ServedCall("ship", platform_order_id=str(p["order_sn"]), waybill_no=str(p["tracking_number"]),
                              carrier_code=str(p["logistics_id"]))
        if call.method == STOCK_METHOD and str(p.get("update_type", "1")) == "1":
            return ServedCall("stock", platform_sku_id=str(p["sku_id"]) if p.get("sku_id") else None,
                              platform_product_id=str(p["goods_id"]), quantity=int(p["quantity"]))
        return ServedCall("other")

    def order_list_data(self, orders: list[dict[str, Any]], *, page: int, page_size: int, total: int,
                        next_cursor: str | None) -> dict[str, Any]:
        return {"total_count": total, "has_next": _common.has_more(total, page, page_size), "order_sn_list": orders}

    def order_detail_data(self, order: dict[str, Any]) -> dict[str, Any]:
        return {"order_info": order}

    def token_data(self, token: Token, *, now: datetime) -> dict[str, Any]:
        refresh_at = token.refresh_expires_at
        return {"access_token": token.access_token, "expires_at": to_epoch(token.expires_at),
                "expires_in": _common.seconds_left(token.expires_at, now), "refresh_token": token.refresh_token or "",
                "refresh_token_expires_at": to_epoch(refresh_at) if refresh_at else 0,
                "refresh_token_expires_in": _common.seconds_left(refresh_at, now), "owner_id": "", "owner_name": "",
                "scope": []}

    def decrypt_data(self, results: list[Decrypted]) -> dict[str, Any]:
        return {"data_decrypt_list": [{
            "data_tag": r.platform_order_id, "encrypted_data": r.ciphertext or "",
            "data_type": DATA_TYPES.get(next(iter(r.fields), ""), 0), "decrypted_data": _common.one_field(r),
            "error_code": 0 if r.error is None else id_value(r.error[0]),
            "error_msg": "" if r.error is None else r.error[1], "virtual_number_type": 0} for r in results]}

    def sign_push(self, creds: Credentials, notices: list[PushNotice], *, url: str, now: datetime) -> SignedRequest:
        """The PMC frames of `notices` relayed in one POST (one frame, or an array of them)."""
        sent_ms = to_epoch(now, ms=True)
        frames = []
        for i, notice in enumerate(notices):
            topic = notice.raw.get("type") or _common.push_name(KIND_TOPICS, notice.kind, self.channel)
            mall = id_value(notice.platform_shop_id) if notice.platform_shop_id else None
            content = {"mall_id": mall, "tid": notice.platform_order_id} if mall is not None else {
                "tid": notice.platform_order_id}
            message = {"type": topic, "mallID": mall, "content": compact_json(content)}
            sent = to_epoch(notice.occurred_at, ms=True) if notice.occurred_at else sent_ms
            frames.append({"id": sent_ms * 100 + i, "commandType": "Common", "sendTime": sent, "message": message})
        body = compact_json(frames[0] if len(frames) == 1 else frames).encode()
        query = {"client_id": creds.app_key, "timestamp": str(sent_ms)}
        query["sign"] = signing.message_sign(creds.app_key, query["timestamp"], creds.app_secret, body=body)
        return SignedRequest("POST", url, query=query, headers={"content-type": "application/json"}, body=body)

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


def _param_value(value: str) -> Any:
    if value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _check_timestamp(value: str, now: datetime) -> None:
    """Unix seconds (or milliseconds), within 10 minutes of `now`."""
    try:
        at = from_epoch(value, "timestamp", ms=value.isdigit() and int(value) > 10**11)
    except MappingError:  # not digits, zero, or absurdly large
        at = None
    _common.check_fresh(at, now, value)


def _notice(frame: Any) -> PushNotice | None:
    if not isinstance(frame, dict):
        raise MappingError("PMC frame is not an object", details={"field": "frame"})
    if frame.get("commandType") != "Common":
        return None  # HeartBeat / Ack
    message = pick(frame, "message")
    topic = str(message.get("type", ""))
    if not topic.startswith(ORDER_TOPIC_PREFIXES):
        return None
    content = _common.message_content(message.get("content"), f"PMC {topic}", "message.content")
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
