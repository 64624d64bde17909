"""京东 through JOS (the JD open platform router), for POP/SOP merchants.

Readings chosen where the spec (shared/specs/taobao_pdd_jd.md §3, §4) is [inf] or open — the one place
to correct against a sandbox:

- Requests: POST to `<base_url>/routerjson`, form-encoded: method, app_key, access_token, timestamp
  (`yyyy-MM-dd HH:mm:ss` Asia/Shanghai), v=2.0, format=json, `360buy_param_json` (every business parameter as
  one compact JSON object) and sign. check_request also reads parameters from the query string (GET, or a
  POST with them all in the URL and no body, as JD's Python SDK jd-sdk 1.1.1 sends), and also takes the
  timestamp form that SDK sends, `yyyy-MM-dd HH:mm:ss.SSS+HHMM` (`%Y-%m-%d %H:%M:%S.000%z`, local time
  with its offset), read at that offset.
- check_request refuses (BadSignature) a wrong app_key, a missing access_token (but on a sign-in call, a method naming a
  token) or another shop's, a wrong
  sign, a timestamp more than 10 minutes from `now` (window [inf]) and a `360buy_param_json` that is not a
  JSON object; it returns that object as the call's parameters (`read_call` reads page numbers and times
  back from the text JD's own SDKs send).
- Answers: `{"<method, dots → underscores>_responce": {"code": "0", ...}}` (sic), except the stock write
  whose key ends in `_response`; read_response takes either spelling. Errors `{"error_response": {code,
  zh_desc, en_desc}}`, and an inner `apiResult` with success=false is an error too (numberCode). JOS error
  codes for throttling are not in the sources: an error is retryable when HTTP is 5xx/429 or its description
  says busy / too frequent / over the limit / timeout (系统繁忙, 频繁, 超限, 超时, 稍后; busy, limit,
  timeout, unavailable) [inf].
- Lists: `jingdong.pop.order.enSearch` by modified time (dateType 0), every enSearch state, sortType 0
  (ascending), window ≤ 30 days (the spec's "1 month", `max_list_window`), page_size ≤ 100. JD returns only
  orderTotal, so `has_more` is page × page_size < orderTotal (without a total: "this page was not empty").
- Status: see mapping.STATUS. Paused/locked orders stay paid (stock held, not to ship); TRADE_CANCELED is
  cancelled whether or not it was paid (JD has no refunded state, both release stock), so a canonical
  refunded order renders as TRADE_CANCELED and comes back cancelled. NOT_PAY (seen only in another order
  API) maps to unpaid.
- Mapping: lines are `itemInfoList[]` without line ids or line discounts; `platform_sku_id` is skuId,
  `sku_code` outerSkuId ("not guaranteed"). Paid total = orderPayment + balanceUsed (balance is a way of
  paying, not a discount); the order discount is what lies between goods + freight and that. Receiver from
  consigneeInfo: the plain/masked fields (each kept only if it fits the canonical field, phone ≤ 32); the
  TDE ciphertexts (`encrypt_fullname`, `encrypt_mobile` else `encrypt_telephone`, `encrypt_fullAddress`) go
  to `receiver.platform_cipher` for a later TDE decrypt. `0001-01-01 …`/`1970-01-01 …` times are "not yet".
  buyer_nick is open_id_buyer; buyer_message orderRemark; seller_memo venderRemark.
- Ship: `jingdong.pop.order.shipment` for the whole order (orderId, logiCoprId = JD's carrier id,
  logiNo); `lines` are not sent.
- Stock: `jingdong.stock.write.updateSkuStock` (skuId, stockNum absolute); its successor
  `jingdong.ware.stock.sku.set` is not checked. Being absolute, BaoDan reads no level (`stock_query_call`
  None, `parse_stock_query`/`stock_query_data` NotImplementedError).
- Push: none is documented in public code (JD's JMQ/云鼎 messages are unverified), so `has_push` is False:
  `open_push` refuses every request (BadSignature, code `webhook.no_push`), `push_route` names nothing,
  `handshake` is None and `sign_push` raises NotImplementedError. Orders come by the incremental pull only.
- Limits: not in the sources; `calls_per_second` = 10 is a conservative guess.
- Access token (the spec gives only the authorization-code URL of the old oauth.jd.com; the rest is the
  most plausible reading of JD's newer OAuth [inf]): `GET /oauth2/refresh_token?app_key=&app_secret=
  &grant_type=refresh_token&refresh_token=` on `https://open-oauth.jd.com` when `base_url` is a jd.com
  gateway, else on `base_url` itself (a sandbox or the simulator). The answer is flat JSON, `code` 0 with
  `access_token`, `expires_in` (seconds), `refresh_token`, `scope`, `open_id`, `uid`, `time` (ms); a
  refusal is `code` ≠ 0 with `msg`. It gives no refresh-token lifetime, so `refresh_expires_at` stays
  unknown. JOS error code 19 (token 已过期或者不存在) marks an expired or unknown token [inf].
- Decrypt: JD decrypts receivers locally (TDE: AES with keys from `jingdong.jos.master.key.get` and a
  voucher, usage reported to `jingdong.jos.secret.api.report.get`). That is NOT built: `decrypt_call`
  is None (`decrypt_batch_size` 0), so JD receivers stay as the platform shows them (masked), and their
  `encrypt_*` ciphertexts stay sealed in `platform_cipher` for when it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from baodan.channels import _common
from baodan.channels._common import compact_json, id_value, parse_time, pick, time_text
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
from baodan.channels.jd import mapping, signing
from baodan.core.errors import Invalid

PATH = "/routerjson"
FORM = "application/x-www-form-urlencoded;charset=utf-8"
PARAM_JSON = "360buy_param_json"
LIST_METHOD = "jingdong.pop.order.enSearch"
DETAIL_METHOD = "jingdong.pop.order.enGet"
SHIP_METHOD = "jingdong.pop.order.shipment"
STOCK_METHOD = "jingdong.stock.write.updateSkuStock"
OAUTH_HOST = "https://open-oauth.jd.com"
OAUTH_GRANTS = {"/oauth2/access_token": ("authorization_code", "code"),
                "/oauth2/refresh_token": ("refresh_token", "refresh_token")}
REFRESH_PATH = "/oauth2/refresh_token"
TOKEN_EXPIRED = "19"
NO_DECRYPT = ("JD decrypts receivers locally (TDE, keys from jingdong.jos.master.key.get): not built in BaoDan, "
              "so there is no decrypt call")
API_RESULT = {"success": True, "numberCode": 0, "chineseErrCode": "成功", "englishErrCode": "success"}
RESPONSE_SPELLED_RIGHT = frozenset({"jingdong.stock.write.updateSkuStock"})
BUSY_WORDS = ("繁忙", "频繁", "超限", "超时", "稍后", "busy", "limit", "timeout", "unavailable")
SEARCH_STATES = ",".join(state for state in mapping.STATUS if state != "NOT_PAY")
OPTIONAL_FIELDS = ",".join((
    "orderId", "venderId", "orderType", "payType", "orderState", "orderStateRemark", "orderTotalPrice",
    "orderSellerPrice", "orderPayment", "freightPrice", "sellerDiscount", "balanceUsed", "orderStartTime",
    "orderEndTime", "paymentConfirmTime", "modified", "orderRemark", "venderRemark", "consigneeInfo",
    "itemInfoList", "couponDetailList", "waybill", "logisticsId", "open_id_buyer", "parentOrderId",
))


class JdAdapter(_common.AdapterDefaults, _common.AbsoluteStock):
    channel = "jd"
    calls_per_second = 10.0
    has_push = False
    max_list_window = timedelta(days=30)
    stock_mode = "absolute"
    decrypt_batch_size = 0
    no_stock_level = "JD stock is set absolutely: BaoDan reads no stock level"
    mapping = mapping

    # client side

    def sign(self, creds: Credentials, call: Call, *, base_url: str, now: datetime) -> SignedRequest:
        if call.method in OAUTH_GRANTS:  # OAuth: the app key and secret in the query, no access token
            query = {"app_key": creds.app_key, "app_secret": creds.app_secret,
                     **{k: str(v) for k, v in call.params.items()}}
            return SignedRequest("GET", _oauth_root(base_url) + call.method, query)
        params = {
            "method": call.method,
            "app_key": creds.app_key,
            "timestamp": time_text(now),
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
        doc = _common.answer_object("jd", call, status, body)
        if call.method in OAUTH_GRANTS:  # a flat answer: code 0 and the token, or code and msg
            if str(doc.get("code", "0")) != "0":
                raise PlatformError(f"JD OAuth {call.method}: {doc.get('msg') or ''} ({doc.get('code')})",
                                    platform_code=str(doc.get("code")), details={"code": doc.get("code")})
            return {k: v for k, v in doc.items() if k != "code"}
        if "error_response" in doc:
            error = doc["error_response"] or {}
            _raise(str(error.get("code", "")), error.get("zh_desc") or "", error.get("en_desc") or "")
        stem = call.method.replace(".", "_")
        key = stem + "_responce" if stem + "_responce" in doc else stem + "_response"
        data = _common.keyed_answer(doc, key, "JOS")
        if str(data.get("code", "0")) != "0":
            _raise(str(data["code"]), str(data.get("zh_desc", "")), str(data.get("en_desc", "")))
        for value in data.values():
            result = value.get("apiResult") if isinstance(value, dict) else None
            if isinstance(result, dict) and result.get("success") is False:
                _raise(str(result.get("numberCode", "")), str(result.get("chineseErrCode", "")),
                       str(result.get("englishErrCode", "")))
        return data

    def order_list_call(self, creds: Credentials, *, updated_from: datetime, updated_to: datetime,
                        page: int = 1, cursor: str | None = None, page_size: int = 50) -> Call:
        _common.check_window(updated_from, updated_to, self.max_list_window, self.channel)
        _common.check_page_size(page_size, 100, "JOS")
        return Call(LIST_METHOD, {
            "start_date": time_text(updated_from),
            "end_date": time_text(updated_to),
            "order_state": SEARCH_STATES,
            "optional_fields": OPTIONAL_FIELDS,
            "page": str(page),
            "page_size": str(page_size),
            "sortType": 0,
            "dateType": 0,
        })

    def parse_order_list(self, data: dict[str, Any], *, page: int, page_size: int) -> OrderPage:
        orders, total = _common.listed_orders(data, "searchorderinfo_result.orderInfoList",
                                              "searchorderinfo_result.orderTotal")
        more = _common.has_more(total, page, page_size) if total is not None else bool(orders)
        return OrderPage(orders=orders, has_more=more, total=total)

    def order_detail_call(self, creds: Credentials, platform_order_id: str) -> Call:
        return Call(DETAIL_METHOD, {"order_id": platform_order_id, "optional_fields": OPTIONAL_FIELDS})

    def parse_order_detail(self, data: dict[str, Any]) -> dict[str, Any]:
        order = pick(data, "orderDetailInfo.orderInfo")
        if not isinstance(order, dict):
            raise MappingError("orderDetailInfo.orderInfo is not an object", details={"field": "orderDetailInfo"})
        return order

    def ship_call(self, creds: Credentials, *, platform_order_id: str, waybill_no: str, carrier_code: str,
                  lines: list[dict[str, Any]]) -> Call:
        return Call(SHIP_METHOD, {"orderId": id_value(platform_order_id), "logiCoprId": carrier_code,
                                  "logiNo": waybill_no})

    def stock_call(self, creds: Credentials, *, platform_sku_id: str, quantity: int,
                   platform_product_id: str | None = None, current: int | None = None) -> Call:
        if quantity < 0:
            raise Invalid("an absolute stock number cannot be negative", code="channel.negative_stock")
        return Call(STOCK_METHOD, {"skuId": id_value(platform_sku_id), "stockNum": quantity})

    def token_refresh_call(self, creds: Credentials) -> Call | None:
        if not creds.refresh_token:
            return None
        return Call(REFRESH_PATH, {"grant_type": "refresh_token", "refresh_token": creds.refresh_token})

    def parse_token(self, data: dict[str, Any], *, now: datetime) -> Token:
        return _common.lifetime_token(self.channel, data, now=now)

    def decrypt_call(self, creds: Credentials, items: list[tuple[str, Mapping[str, str]]]) -> Call | None:
        return None

    def parse_decrypt(self, data: dict[str, Any], *,
                      items: list[tuple[str, Mapping[str, str]]]) -> dict[str, dict[str, str]]:
        raise NotImplementedError(NO_DECRYPT)

    # push side: JD documents none

    def push_route(self, request: Incoming) -> PushRoute:
        return PushRoute()

    def open_push(self, creds: Credentials, request: Incoming, *, now: datetime) -> list[PushNotice]:
        raise BadSignature("JD pushes nothing BaoDan can verify; its orders come by the incremental pull",
                           code="webhook.no_push")

    # server side (the simulator)

    def check_request(self, creds: Credentials, request: Incoming, *, now: datetime) -> Call:
        path = "/" + request.path.strip("/")
        if path in OAUTH_GRANTS:
            return _common.oauth_call(creds, path, _common.request_params(request), app_field="app_key",
                                      grant=OAUTH_GRANTS[path])
        params = _common.check_top_request(creds, request, now, app_field="app_key", token_field="access_token",
                                           method_field="method", check_sign=signing.check_sign,
                                           check_timestamp=_check_timestamp)
        try:
            business = json.loads(params.get(PARAM_JSON) or "{}")
        except ValueError:
            business = None
        if not isinstance(business, dict):
            raise BadSignature(f"{PARAM_JSON} is not a JSON object")
        return Call(_common.named_method(params, "method"), business, access_token=params.get("access_token"))

    def read_call(self, call: Call) -> ServedCall:
        p = call.params
        if call.method == REFRESH_PATH:
            return ServedCall("token_refresh", refresh_token=str(p.get("refresh_token") or ""))
        if call.method in OAUTH_GRANTS:
            return ServedCall("token")
        if call.method == LIST_METHOD:
            return ServedCall("order_list", updated_from=parse_time(p["start_date"], "start_date"),
                              updated_to=parse_time(p["end_date"], "end_date"), page=int(p.get("page", 1)),
                              page_size=int(p.get("page_size", 20)))
        if call.method == DETAIL_METHOD:
            return ServedCall("order_detail", platform_order_id=str(p["order_id"]))
        if call.method == SHIP_METHOD:
            return ServedCall("ship", platform_order_id=str(p["orderId"]), waybill_no=str(p["logiNo"]),
                              carrier_code=str(p["logiCoprId"]))
        if call.method == STOCK_METHOD:
            return ServedCall("stock", platform_sku_id=str(p["skuId"]), quantity=int(p["stockNum"]))
        return ServedCall("other")

    def order_list_data(self, orders: list[dict[str, Any]], *, page: int, page_size: int, total: int,
                        next_cursor: str | None) -> dict[str, Any]:
        return {"searchorderinfo_result": {"orderInfoList": orders, "orderTotal": total, "apiResult": API_RESULT}}

    def order_detail_data(self, order: dict[str, Any]) -> dict[str, Any]:
        return {"orderDetailInfo": {"orderInfo": order, "apiResult": API_RESULT}}

    def token_data(self, token: Token, *, now: datetime) -> dict[str, Any]:
        return {"access_token": token.access_token, "expires_in": _common.seconds_left(token.expires_at, now),
                "refresh_token": token.refresh_token or "", "scope": "snsapi_base", "open_id": "", "uid": "",
                "time": _common.to_epoch(now, ms=True), "token_type": "bearer"}

    def decrypt_data(self, results: list[Decrypted]) -> dict[str, Any]:
        raise NotImplementedError(NO_DECRYPT)

    def sign_push(self, creds: Credentials, notices: list[PushNotice], *, url: str, now: datetime) -> SignedRequest:
        raise NotImplementedError("JD documents no push; its orders come by the incremental pull")

    def envelope(self, call: Call, data: dict[str, Any] | None, *, error: tuple[str, str] | None = None) -> bytes:
        if call.method in OAUTH_GRANTS:
            if error is not None:
                code, message = error
                return compact_json({"code": int(code) if code.isdigit() else code, "msg": message}).encode()
            return compact_json({"code": 0, **(data or {})}).encode()
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


def _raise(code: str, zh_desc: str, en_desc: str) -> None:
    text = f"{zh_desc} {en_desc}".lower()
    raise PlatformError(f"JOS error {code} {zh_desc or en_desc}".strip(), platform_code=code,
                        retryable=any(word in text for word in BUSY_WORDS), token_expired=code == TOKEN_EXPIRED,
                        details={"code": code, "zh_desc": zh_desc, "en_desc": en_desc})


def _oauth_root(base_url: str) -> str:
    """JD's OAuth host for a jd.com gateway; any other gateway root (a sandbox, the simulator) serves it."""
    host = urlsplit(base_url).hostname or ""
    return OAUTH_HOST if host == "jd.com" or host.endswith(".jd.com") else base_url.rstrip("/")


def _check_timestamp(value: str, now: datetime) -> None:
    """One of the two timestamp forms below, within 10 minutes of `now`."""
    _common.check_fresh(_parse_timestamp(value), now, value)


def _parse_timestamp(value: str) -> datetime | None:
    """A request timestamp: `yyyy-MM-dd HH:mm:ss` (Beijing), or jd-sdk's `yyyy-MM-dd HH:mm:ss.SSS+HHMM`."""
    try:
        return parse_time(value, "timestamp")
    except MappingError:
        pass
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S.%f%z")
    except ValueError:
        return None
