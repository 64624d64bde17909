"""京东 through JOS (the JD open platform router), for POP/SOP merchants.

Readings chosen where the spec (shared/specs/taobao_pdd_jd.md §3, §4) is [inf] or open — the one place
to correct against a sandbox:

- Requests: POST to `<base_url>/routerjson`, form-encoded: method, app_key, access_token, timestamp
  (`yyyy-MM-dd HH:mm:ss` Asia/Shanghai), v=2.0, format=json, `360buy_param_json` (every business parameter as
  one compact JSON object) and sign. check_request also reads parameters from the query string (GET).
- check_request refuses (BadSignature) a wrong app_key, an access_token other than the shop's, a wrong
  sign, a timestamp more than 10 minutes from `now` (window [inf]) and a `360buy_param_json` that is not a
  JSON object; it returns that object as the call's parameters.
- Answers: `{"<method, dots → underscores>_responce": {"code": "0", ...}}` (sic), except the stock write
  whose key ends in `_response`; read_response takes either spelling. Errors `{"error_response": {code,
  zh_desc, en_desc}}`, and an inner `apiResult` with success=false is an error too (numberCode). JOS error
  codes for throttling are not in the sources: an error is retryable when HTTP is 5xx/429 or its description
  says busy / too frequent / over the limit / timeout (系统繁忙, 频繁, 超限, 超时, 稍后; busy, limit,
  timeout, unavailable) [inf].
- Lists: `jingdong.pop.order.enSearch` by modified time (dateType 0), every enSearch state, sortType 0
  (ascending), window ≤ 30 days (the spec's "1 month"), page_size ≤ 100. JD returns only orderTotal, and
  parse_order_list does not know the page it reads, so `has_more` is "this page was not empty" (the pull
  stops on the first empty page, or earlier from `total`).
- Status: see mapping.STATUS. Paused/locked orders stay paid (stock held, not to ship); TRADE_CANCELED is
  cancelled whether or not it was paid (JD has no refunded state, both release stock), so a canonical
  refunded order renders as TRADE_CANCELED and comes back cancelled. NOT_PAY (seen only in another order
  API) maps to unpaid.
- Mapping: lines are `itemInfoList[]` without line ids or line discounts; `platform_sku_id` is skuId,
  `sku_code` outerSkuId ("not guaranteed"). Paid total = orderPayment + balanceUsed (balance is a way of
  paying, not a discount); the order discount is what lies between goods + freight and that. Receiver from
  consigneeInfo: plain/masked fields first, the TDE ciphertext (`encrypt_*`) when those are empty, each
  kept only if it fits the canonical field (phone ≤ 32). `0001-01-01 …`/`1970-01-01 …` times are "not yet".
  buyer_nick is open_id_buyer; buyer_message orderRemark; seller_memo venderRemark.
- Ship: `jingdong.pop.order.shipment` for the whole order (orderId, logiCoprId = JD's carrier id,
  logiNo); `lines` are not sent.
- Stock: `jingdong.stock.write.updateSkuStock` (skuId, stockNum absolute); its successor
  `jingdong.ware.stock.sku.set` is not checked.
- Push: none is documented in public code (JD's JMQ/云鼎 messages are unverified), so `has_push` is False:
  verify_push refuses every request, parse_push reads nothing, sign_push raises NotImplementedError. Orders
  come by the incremental pull only.
- Limits: not in the sources; `calls_per_second` = 10 is a conservative guess.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from baodan.channels._common import compact_json, pick
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
from baodan.channels.jd import mapping, signing
from baodan.core.errors import Invalid

PATH = "/routerjson"
FORM = "application/x-www-form-urlencoded;charset=utf-8"
PARAM_JSON = "360buy_param_json"
TIMESTAMP_WINDOW = timedelta(minutes=10)
RESPONSE_SPELLED_RIGHT = frozenset({"jingdong.stock.write.updateSkuStock"})
BUSY_WORDS = ("繁忙", "频繁", "超限", "超时", "稍后", "busy", "limit", "timeout", "unavailable")
SEARCH_STATES = ",".join(state for state in mapping.STATUS if state != "NOT_PAY")
OPTIONAL_FIELDS = ",".join((
    "orderId", "venderId", "orderType", "payType", "orderState", "orderStateRemark", "orderTotalPrice",
    "orderSellerPrice", "orderPayment", "freightPrice", "sellerDiscount", "balanceUsed", "orderStartTime",
    "orderEndTime", "paymentConfirmTime", "modified", "orderRemark", "venderRemark", "consigneeInfo",
    "itemInfoList", "couponDetailList", "waybill", "logisticsId", "open_id_buyer", "parentOrderId",
))


class JdAdapter:
    channel = "jd"
    calls_per_second = 10.0
    max_list_window = timedelta(days=30)
    has_push = False

    # client side

    def sign(self, creds: Credentials, call: Call, *, base_url: str, now: datetime) -> SignedRequest:
        params = {
            "method": call.method,
            "app_key": creds.app_key,
            "timestamp": mapping.time_text(now),
            "v": "2.0",
            "format": "json",
            PARAM_JSON: compact_json({key: value for key, value in call.params.items() if value is not None}),
        }
        if creds.access_token:
            params["access_token"] = creds.access_token
        params["sign"] = signing.sign_params(params, creds.app_secret)
        return SignedRequest("POST", base_url.rstrip("/") + PATH, headers={"content-type": FORM},
                             body=urlencode(params).encode())

    def read_response(self, call: Call, status: int, body: bytes) -> dict[str, Any]:
        try:
            doc = json.loads(body)
        except ValueError:
            raise PlatformError(f"JOS answered HTTP {status} without JSON", retryable=status >= 500 or status == 429,
                                details={"status": status}) from None
        if not isinstance(doc, dict):
            raise PlatformError(f"JOS answered HTTP {status} with no JSON object", details={"status": status})
        if "error_response" in doc:
            error = doc["error_response"] or {}
            _raise(str(error.get("code", "")), error.get("zh_desc") or "", error.get("en_desc") or "", status)
        stem = call.method.replace(".", "_")
        data = doc.get(stem + "_responce", doc.get(stem + "_response"))
        if not isinstance(data, dict):
            raise PlatformError(f"JOS answer has no {response_key(call.method)}", retryable=status >= 500,
                                details={"status": status})
        if str(data.get("code", "0")) != "0":
            _raise(str(data["code"]), str(data.get("zh_desc", "")), str(data.get("en_desc", "")), status)
        for value in data.values():
            result = value.get("apiResult") if isinstance(value, dict) else None
            if isinstance(result, dict) and result.get("success") is False:
                _raise(str(result.get("numberCode", "")), str(result.get("chineseErrCode", "")),
                       str(result.get("englishErrCode", "")), status)
        return data

    def order_list_call(self, creds: Credentials, *, updated_from: datetime, updated_to: datetime,
                        page: int, page_size: int) -> Call:
        if not timedelta(0) < updated_to - updated_from <= self.max_list_window:
            raise Invalid("the update-time window must be positive and at most 30 days", code="channel.bad_window")
        if not 1 <= page_size <= 100:
            raise Invalid(f"JOS page_size is 1–100, not {page_size}", code="channel.bad_page_size")
        return Call("jingdong.pop.order.enSearch", {
            "start_date": mapping.time_text(updated_from),
            "end_date": mapping.time_text(updated_to),
            "order_state": SEARCH_STATES,
            "optional_fields": OPTIONAL_FIELDS,
            "page": str(page),
            "page_size": str(page_size),
            "sortType": 0,
            "dateType": 0,
        })

    def parse_order_list(self, data: dict[str, Any]) -> OrderPage:
        orders = pick(data, "searchorderinfo_result.orderInfoList", [])
        if not isinstance(orders, list):
            raise MappingError("searchorderinfo_result.orderInfoList is not a list",
                               details={"field": "searchorderinfo_result.orderInfoList"})
        total = pick(data, "searchorderinfo_result.orderTotal", None)
        return OrderPage(orders=orders, has_more=bool(orders), total=int(total) if total is not None else None)

    def order_detail_call(self, creds: Credentials, platform_order_id: str) -> Call:
        return Call("jingdong.pop.order.enGet", {"order_id": platform_order_id, "optional_fields": OPTIONAL_FIELDS})

    def parse_order_detail(self, data: dict[str, Any]) -> dict[str, Any]:
        order = pick(data, "orderDetailInfo.orderInfo")
        if not isinstance(order, dict):
            raise MappingError("orderDetailInfo.orderInfo is not an object", details={"field": "orderDetailInfo"})
        return order

    def ship_call(self, creds: Credentials, *, platform_order_id: str, waybill_no: str, carrier_code: str,
                  lines: list[dict[str, Any]]) -> Call:
        return Call("jingdong.pop.order.shipment", {"orderId": _long(platform_order_id), "logiCoprId": carrier_code,
                                                    "logiNo": waybill_no})

    def stock_call(self, creds: Credentials, *, platform_sku_id: str, quantity: int,
                   platform_product_id: str | None = None) -> Call:
        if quantity < 0:
            raise Invalid("an absolute stock number cannot be negative", code="channel.negative_stock")
        return Call("jingdong.stock.write.updateSkuStock", {"skuId": _long(platform_sku_id), "stockNum": quantity})

    # push side: JD documents none

    def verify_push(self, creds: Credentials, request: Incoming) -> None:
        raise BadSignature("JD pushes nothing BaoDan can verify; its orders come by the incremental pull")

    def parse_push(self, request: Incoming) -> list[PushNotice]:
        return []

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
        if params.get("app_key") != creds.app_key:
            raise BadSignature("unknown app_key", details={"app_key": params.get("app_key")})
        if creds.access_token and params.get("access_token", creds.access_token) != creds.access_token:
            raise BadSignature("access_token is not this shop's")
        signing.check_sign(params, creds.app_secret)
        try:
            at = mapping.parse_time(params.get("timestamp", ""), "timestamp")
        except MappingError:
            raise BadSignature(f"timestamp {params.get('timestamp')!r} is not a JOS time") from None
        if abs(now - at) > TIMESTAMP_WINDOW:
            raise BadSignature("timestamp is more than 10 minutes from the gateway's clock")
        try:
            business = json.loads(params.get(PARAM_JSON) or "{}")
        except ValueError:
            business = None
        if not isinstance(business, dict):
            raise BadSignature(f"{PARAM_JSON} is not a JSON object")
        if not params.get("method"):
            raise BadSignature("no method named")
        return Call(params["method"], business)

    def sign_push(self, creds: Credentials, notices: list[dict[str, Any]], *, now: datetime) -> SignedRequest:
        raise NotImplementedError("JD documents no push; its orders come by the incremental pull")

    def envelope(self, call: Call, data: dict[str, Any] | None, *, error: tuple[str, str] | None = None) -> bytes:
        if error is not None:
            code, message = error
            return compact_json({"error_response": {"code": code, "zh_desc": message, "en_desc": message}}).encode()
        return compact_json({response_key(call.method): {"code": "0", **(data or {})}}).encode()

    def from_canonical(self, order: dict[str, Any], creds: Credentials) -> dict[str, Any]:
        return mapping.from_canonical(order, vender_id=creds.shop_id)


def response_key(method: str) -> str:
    """`jingdong.pop.order.enSearch` → `jingdong_pop_order_enSearch_responce` (sic)."""
    suffix = "_response" if method in RESPONSE_SPELLED_RIGHT else "_responce"
    return method.replace(".", "_") + suffix


def _raise(code: str, zh_desc: str, en_desc: str, status: int) -> None:
    text = f"{zh_desc} {en_desc}".lower()
    raise PlatformError(f"JOS error {code} {zh_desc or en_desc}".strip(), platform_code=code,
                        retryable=status >= 500 or status == 429 or any(word in text for word in BUSY_WORDS),
                        details={"code": code, "zh_desc": zh_desc, "en_desc": en_desc})


def _long(value: str) -> int | str:
    return int(value) if value.isdigit() else value
