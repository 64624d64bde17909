"""抖店 (op.jinritemai.com) adapter: signed v2 gateway calls, `event-sign` pushes, shop orders ↔ canonical.

Readings chosen where ../shared/specs/douyin_kuaishou_wechat.md is uncertain ([inf] or conflicting), kept
here in one place so they are easy to correct against a real sandbox:

- Rate limit: none is documented; `calls_per_second = 5` is a conservative guess. No update-time window is
  documented for /order/searchList either; `max_list_window` = 1 day is a conservative guess.
- Request timestamp: `sign()` sends unix seconds (the Go SDK); `check_request()` also accepts the older
  "YYYY-MM-DD HH:MM:SS" form (Asia/Shanghai) and refuses a timestamp more than 10 minutes from `now`.
- `sign_method`: `sign()` sends `hmac-sha256`; `check_request()` checks `md5` when asked for it and, when the
  parameter is absent (older SDKs sign with HMAC but do not send it), accepts either digest.
- Business parameters are signed as received: `check_request()` takes the raw body as `param_json` (an SDK's
  own serialisation, escaped or not), falling back to a `param_json` query parameter, then to `{}`.
- Push: only the MD5 `event-sign` is verified (no `sign-method`/HMAC variant was found); `app-id` must be
  the app key. The push signs no time, so `open_push` has no staleness check (a redelivered message is
  accepted again: intake is idempotent). `push_route` reads `app-id` and the first message's `shop_id`. The
  registration message (tag "0") parses to no notice (there is no separate URL check: `handshake` is None).
  Messages without an order (product tags 400/417) are skipped. `push_answer(False)` answers HTTP 500 with
  the documented fail body so the platform retries whichever of the two it looks at. `sign_push` sends one
  message per notice, tagged by kind (created 100, paid 101, shipped 102, completed 103, address_changed
  105, cancelled 106, refund 200, other 113 卖家备注) unless the notice's `raw` names a `tag`; the
  notice's time goes to `update_time`; 抖店 pushes never carry the order.
- Status: 101 部分发货 maps to `paid` (lines remain to ship); a non-unpaid order whose every sku order has
  `after_sale_info.refund_status` 3 (退款成功) is `refunded` (抖店 has no order status for it).
- Amounts: a sku order's `pay_amount` is its share after promotions, so line discount = origin × num −
  pay_amount; the order-level discount is what remains: Σ lines + post_amount − pay_amount (never below 0).
- Receiver: plain fields if given, else the masked ones (`mask_*`); the ciphertexts (`encrypt_post_receiver`,
  `encrypt_post_tel`, `post_addr.encrypt_detail`, for a later /order/batchDecrypt) go to
  `receiver.platform_cipher` (name, phone, address). `post_addr.town` is the district (区县) and
  `post_addr.street` the town (街道).
- Contract reading: `page` is 1-based (抖店's own is 0-based); `ship_call` with no lines ships the whole
  order (/order/logisticsAdd), with lines it ships those lines (/order/logisticsAddMultiPack);
  `stock_call` sets the absolute stock (`incremental` false), so there is no stock query
  (`stock_query_call` is None; `parse_stock_query`/`stock_query_data` raise NotImplementedError).
- Server side: `read_call` reads a multi-pack ship by its first pack.
- Error envelope: success carries both generations' keys (`code` 10000/`msg` and `err_no` 0/`message`).
  An error code that is not a number goes to `sub_code` under `code` 50000 (业务处理失败). Retryable: HTTP
  429/5xx, code 20000 (服务不可用), sub codes starting `isp.` or mentioning a limit/busy.
- Access token: `token.refresh` (`grant_type=refresh_token`, `refresh_token`), signed like other calls but
  without `access_token`. The answer's `data` gives `expires_in`; it gives no lifetime for the refresh token,
  so `parse_token` takes the spec's 14 days. `token_refresh_call` is None without a refresh token. The spec
  names no "token expired" code: codes 30001 (access_token 不存在/无效) and 30002 (access_token 已过期), and
  the sub codes `isv.access-token-no-exist`/`isv.access-token-expired`, are read as such [inf].
- Decrypt: `/order/batchDecrypt` takes ≤ 50 `cipher_infos` ({auth_id = order id, cipher_text}); an order
  carries up to three (name, phone, address), so `decrypt_batch_size` is 16 orders. Each answer item is
  matched back by its order id and ciphertext; one with `err_no` ≠ 0 is that field's error. A virtual phone
  (`is_virtual_tel`) is read as `phone_no_a-phone_no_b` when `decrypt_text` is empty.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from baodan.channels import _common
from baodan.channels._common import compact_json, from_epoch, id_value, parse_time, text, to_epoch
from baodan.channels.base import (
    BadSignature,
    Call,
    Credentials,
    Decrypted,
    Incoming,
    MappingError,
    OrderPage,
    PlatformError,
    PushAnswer,
    PushNotice,
    PushRoute,
    ServedCall,
    SignedRequest,
    Token,
)
from baodan.channels.douyin import mapping, signing

GATEWAY = "https://openapi-fxg.jinritemai.com"
SANDBOX_GATEWAY = "https://openapi-sandbox.jinritemai.com"
TOKEN_METHODS = frozenset({"token.create", "token.refresh"})
SUCCESS_CODE = 10000
BUSINESS_FAILURE_CODE = 50000
RETRYABLE_CODES = frozenset({"20000"})
TOKEN_EXPIRED_CODES = frozenset({"30001", "30002", "isv.access-token-no-exist", "isv.access-token-expired"})
REFRESH_LIFETIME = timedelta(days=14)
MAX_PAGE_SIZE = 100
DECRYPT_METHOD = "order.batchDecrypt"
MAX_CIPHERS = 50

PUSH_KINDS = {
    "100": "created", "101": "paid", "102": "shipped", "103": "completed", "104": "shipped",
    "105": "address_changed", "106": "cancelled", "108": "shipped",
}
# what sign_push tags each kind with
KIND_TAGS = {"created": "100", "paid": "101", "shipped": "102", "completed": "103", "address_changed": "105",
             "cancelled": "106", "refund": "200", "other": "113"}
# when each tag's data says the event happened, first present wins
_PUSH_TIME_FIELDS = ("update_time", "cancel_time", "complete_time", "pay_time", "success_time", "close_time",
                     "apply_time", "create_time")


class DouyinAdapter(_common.AdapterDefaults, _common.AbsoluteStock):
    channel = "douyin"
    calls_per_second = 5.0
    has_push = True
    max_list_window = timedelta(days=1)
    stock_mode = "absolute"
    decrypt_batch_size = MAX_CIPHERS // len(_common.CIPHER_FIELDS)
    no_stock_level = "douyin sets stock absolutely: BaoDan reads no stock level"
    mapping = mapping

    # client side

    def sign(self, creds: Credentials, call: Call, *, base_url: str, now: datetime) -> SignedRequest:
        param_json = signing.param_json(call.params)
        timestamp = str(to_epoch(now))
        query = {"app_key": creds.app_key, "method": call.method}
        if call.method not in TOKEN_METHODS:
            if not creds.access_token:
                raise ValueError(f"douyin {call.method} needs the shop's access_token")
            query["access_token"] = creds.access_token
        query |= {"timestamp": timestamp, "v": "2", "sign_method": "hmac-sha256"}
        query["sign"] = signing.request_sign(app_key=creds.app_key, app_secret=creds.app_secret,
                                             method=call.method, param_json=param_json, timestamp=timestamp)
        return SignedRequest("POST", base_url.rstrip("/") + _common.dotted_path(call.method), query,
                             {"content-type": "application/json"}, param_json.encode())

    def read_response(self, call: Call, status: int, body: bytes) -> dict[str, Any]:
        answer = _common.answer_object("douyin", call, status, body)
        if "code" in answer:
            code, message = str(answer["code"]), answer.get("sub_msg") or answer.get("msg") or ""
            ok = code == str(SUCCESS_CODE)
        else:
            code, message = str(answer.get("err_no")), answer.get("message") or ""
            ok = code == "0"
        if ok:
            data = answer.get("data")
            return data if isinstance(data, dict) else {}
        sub_code = str(answer.get("sub_code") or "")
        raise PlatformError(f"douyin {call.method}: {message} ({sub_code or code})", platform_code=sub_code or code,
                            retryable=_retryable(code, sub_code),
                            token_expired=bool({code, sub_code} & TOKEN_EXPIRED_CODES))

    def order_list_call(self, creds: Credentials, *, updated_from: datetime, updated_to: datetime,
                        page: int = 1, cursor: str | None = None, page_size: int = 50) -> Call:
        _common.check_window(updated_from, updated_to, self.max_list_window, self.channel)
        return Call("order.searchList", {
            "update_time_start": to_epoch(updated_from), "update_time_end": to_epoch(updated_to),
            "order_by": "update_time", "order_asc": True,
            "page": max(page, 1) - 1, "size": min(page_size, MAX_PAGE_SIZE),
        })

    def parse_order_list(self, data: dict[str, Any], *, page: int, page_size: int) -> OrderPage:
        orders = data.get("shop_order_list") or []
        total = int(data["total"]) if data.get("total") is not None else None
        # the answer's own page (0-based) and size are the truth; the request's stand in when absent
        page = int(data["page"]) + 1 if data.get("page") is not None else page
        size = int(data.get("size") or page_size)
        return OrderPage(orders=orders, has_more=bool(orders) and _common.has_more(total, page, size), total=total)

    def order_detail_call(self, creds: Credentials, platform_order_id: str) -> Call:
        return Call("order.orderDetail", {"shop_order_id": platform_order_id})

    def parse_order_detail(self, data: dict[str, Any]) -> dict[str, Any]:
        return _common.pick(data, "shop_order_detail")

    def ship_call(self, creds: Credentials, *, platform_order_id: str, waybill_no: str, carrier_code: str,
                  lines: list[dict[str, Any]]) -> Call:
        if not lines:
            return Call("order.logisticsAdd", {"order_id": platform_order_id, "company_code": carrier_code,
                                               "logistics_code": waybill_no})
        shipped = [{"shipped_order_id": line["platform_line_id"], "shipped_num": line["quantity"]} for line in lines]
        request_id = hashlib.sha1(f"{platform_order_id}:{waybill_no}".encode()).hexdigest()[:32]
        return Call("order.logisticsAddMultiPack", {
            "order_id": platform_order_id, "request_id": request_id,
            "pack_list": [{"shipped_order_info": shipped, "logistics_code": waybill_no, "company_code": carrier_code}],
        })

    def stock_call(self, creds: Credentials, *, platform_sku_id: str, quantity: int,
                   platform_product_id: str | None = None, current: int | None = None) -> Call:
        params: dict[str, Any] = {"sku_id": platform_sku_id, "stock_num": quantity, "incremental": False}
        if platform_product_id:
            params["product_id"] = platform_product_id
        return Call("sku.syncStock", params)

    def token_refresh_call(self, creds: Credentials) -> Call | None:
        if not creds.refresh_token:
            return None
        return Call("token.refresh", {"grant_type": "refresh_token", "refresh_token": creds.refresh_token})

    def parse_token(self, data: dict[str, Any], *, now: datetime) -> Token:
        return _common.lifetime_token(self.channel, data, now=now, refresh_lifetime=REFRESH_LIFETIME)

    def decrypt_call(self, creds: Credentials, items: list[tuple[str, Mapping[str, str]]]) -> Call | None:
        return _common.cipher_call(DECRYPT_METHOD, items, limit=MAX_CIPHERS, channel=self.channel,
                                   list_key="cipher_infos", order_key="auth_id", cipher_key="cipher_text")

    def parse_decrypt(self, data: dict[str, Any], *,
                      items: list[tuple[str, Mapping[str, str]]]) -> dict[str, dict[str, str]]:
        return _common.decrypted_by_cipher(items, data.get("decrypt_infos") or [], order_key="auth_id",
                                           cipher_key="cipher_text", clear=_clear_text, code_key="err_no",
                                           message_key="err_msg")

    # push side

    def push_route(self, request: Incoming) -> PushRoute:
        try:
            first = json.loads(request.body)[0]
            data = first["data"] if isinstance(first["data"], dict) else json.loads(first["data"])
            shop = text(data, "shop_id", None)
        except (ValueError, TypeError, LookupError, AttributeError, MappingError):
            shop = None
        return PushRoute(app_key=request.headers.get("app-id") or None, platform_shop_id=shop)

    def open_push(self, creds: Credentials, request: Incoming, *, now: datetime) -> list[PushNotice]:
        if request.headers.get("app-id") != creds.app_key:
            raise BadSignature("douyin push for another app", details={"app-id": request.headers.get("app-id")})
        expected = signing.push_sign(app_key=creds.app_key, app_secret=creds.app_secret, body=request.body)
        if not _common.sign_matches(request.headers.get("event-sign"), expected):
            raise BadSignature("douyin push event-sign does not match")
        try:
            messages = json.loads(request.body)
        except ValueError:
            raise MappingError("douyin push body is not JSON", details={"field": "body"}) from None
        if not isinstance(messages, list):
            raise MappingError("douyin push body is not a JSON array", details={"field": "body"})
        return [notice for i, message in enumerate(messages) if (notice := _notice(message, i)) is not None]

    def push_answer(self, ok: bool) -> PushAnswer:
        if ok:
            return PushAnswer(200, b'{"code":0,"msg":"success"}')
        return PushAnswer(500, b'{"code":1,"msg":"fail"}')

    # server side (the simulator)

    def check_request(self, creds: Credentials, request: Incoming, *, now: datetime) -> Call:
        query = request.query
        method = query.get("method") or ""
        if query.get("app_key") != creds.app_key:
            raise BadSignature("unknown app_key", details={"app_key": query.get("app_key")})
        if not method or _common.dotted_path(method) != "/" + request.path.strip("/"):
            raise BadSignature("method does not match the path", details={"method": method, "path": request.path})
        if query.get("v") != "2":
            raise BadSignature("only v=2 is served", details={"v": query.get("v")})
        if method not in TOKEN_METHODS and (not query.get("access_token") or (
                creds.access_token and not _common.sign_matches(query["access_token"], creds.access_token,
                                                                hex_digest=False))):
            raise BadSignature("missing or unknown access_token")
        timestamp = query.get("timestamp") or ""
        _common.check_fresh(_parse_timestamp(timestamp), now, timestamp)
        param_json = request.body.decode() if request.body.strip() else (query.get("param_json") or "{}")
        sign_method = query.get("sign_method")
        methods = [sign_method] if sign_method else ["hmac-sha256", "md5"]
        if sign_method not in (None, "hmac-sha256", "md5"):
            raise BadSignature("unknown sign_method", details={"sign_method": sign_method})
        expected = [signing.request_sign(app_key=creds.app_key, app_secret=creds.app_secret, method=method,
                                         param_json=param_json, timestamp=timestamp, sign_method=m) for m in methods]
        if not _common.sign_matches(query.get("sign"), *expected):
            raise BadSignature("sign does not match")
        try:
            params = json.loads(param_json)
        except ValueError:
            raise BadSignature("param_json is not JSON") from None
        return Call(method, params if isinstance(params, dict) else {},
                    access_token=None if method in TOKEN_METHODS else query.get("access_token"))

    def read_call(self, call: Call) -> ServedCall:
        p = call.params
        if call.method == "token.create":
            return ServedCall("token")
        if call.method == "token.refresh":
            return ServedCall("token_refresh", refresh_token=str(p.get("refresh_token") or ""))
        if call.method == DECRYPT_METHOD:
            return ServedCall("decrypt", decrypt_items=tuple((str(i["auth_id"]), str(i["cipher_text"]))
                                                             for i in p["cipher_infos"]))
        if call.method == "order.searchList":
            return ServedCall("order_list", updated_from=from_epoch(p["update_time_start"], "update_time_start"),
                              updated_to=from_epoch(p["update_time_end"], "update_time_end"),
                              page=int(p.get("page", 0)) + 1, page_size=int(p.get("size", 10)))
        if call.method == "order.orderDetail":
            return ServedCall("order_detail", platform_order_id=str(p["shop_order_id"]))
        if call.method in ("order.logisticsAdd", "order.logisticsAddMultiPack"):
            pack = p["pack_list"][0] if call.method == "order.logisticsAddMultiPack" else p
            return ServedCall("ship", platform_order_id=str(p["order_id"]), waybill_no=str(pack["logistics_code"]),
                              carrier_code=str(pack["company_code"]),
                              lines=tuple(str(i["shipped_order_id"]) for i in pack.get("shipped_order_info") or ()))
        if call.method == "sku.syncStock":
            return ServedCall("stock", platform_sku_id=str(p["sku_id"]), quantity=int(p["stock_num"]),
                              platform_product_id=str(p["product_id"]) if p.get("product_id") else None)
        return ServedCall("other")

    def order_list_data(self, orders: list[dict[str, Any]], *, page: int, page_size: int, total: int,
                        next_cursor: str | None) -> dict[str, Any]:
        return {"page": page - 1, "size": page_size, "total": total, "shop_order_list": orders}

    def order_detail_data(self, order: dict[str, Any]) -> dict[str, Any]:
        return {"shop_order_detail": order}

    def token_data(self, token: Token, *, now: datetime) -> dict[str, Any]:
        return {"access_token": token.access_token, "expires_in": _common.seconds_left(token.expires_at, now),
                "refresh_token": token.refresh_token or "", "scope": "SCOPE"}

    def decrypt_data(self, results: list[Decrypted]) -> dict[str, Any]:
        return {"decrypt_infos": [{
            "auth_id": r.platform_order_id, "cipher_text": r.ciphertext or "", "decrypt_text": _common.one_field(r),
            "err_no": 0 if r.error is None else id_value(r.error[0]), "err_msg": "" if r.error is None else r.error[1],
            "is_virtual_tel": False, "phone_no_a": "", "phone_no_b": "", "expire_time": 0} for r in results],
            "custom_err": {"err_code": 0, "err_msg": ""}}

    def envelope(self, call: Call, data: dict[str, Any] | None, *, error: tuple[str, str] | None = None) -> bytes:
        if error is None:
            answer = {"code": SUCCESS_CODE, "msg": "success", "sub_code": "", "sub_msg": "", "log_id": "",
                      "data": data or {}, "err_no": 0, "message": "success"}
        else:
            code, message = error
            numeric = code.isdigit()
            number = int(code) if numeric else BUSINESS_FAILURE_CODE
            answer = {"code": number, "msg": message, "sub_code": "" if numeric else code,
                      "sub_msg": "" if numeric else message, "log_id": "", "data": data,
                      "err_no": number, "message": message}
        return compact_json(answer).encode()

    def sign_push(self, creds: Credentials, notices: list[PushNotice], *, url: str, now: datetime) -> SignedRequest:
        """One 抖店 message per notice; `data` is JSON-encoded as the platform sends it (a string inside the
        JSON array)."""
        messages = []
        for notice in notices:
            tag = str(notice.raw.get("tag") or _common.push_name(KIND_TAGS, notice.kind, self.channel))
            data = dict(notice.raw.get("data") or {}) | {"p_id": id_value(notice.platform_order_id)}
            if notice.platform_shop_id:
                data["shop_id"] = id_value(notice.platform_shop_id)
            if notice.occurred_at:
                data["update_time"] = to_epoch(notice.occurred_at)
            data_text = compact_json(data)
            msg_id = notice.raw.get("msg_id") or hashlib.sha1(
                f"{tag}:{data_text}:{to_epoch(now)}".encode()).hexdigest()[:19]
            messages.append({"tag": tag, "msg_id": str(msg_id), "data": data_text})
        body = compact_json(messages).encode()
        headers = {"content-type": "application/json", "app-id": creds.app_key,
                   "event-sign": signing.push_sign(app_key=creds.app_key, app_secret=creds.app_secret, body=body)}
        return SignedRequest("POST", url, headers=headers, body=body)

    def from_canonical(self, order: dict[str, Any], creds: Credentials) -> dict[str, Any]:
        return mapping.from_canonical(order, shop_id=creds.shop_id)


def _notice(message: Any, i: int) -> PushNotice | None:
    tag = str(_common.pick(message, "tag"))
    if tag == "0" or not (tag.startswith("1") or tag.startswith("2")) or len(tag) != 3:
        return None  # URL verification, product and other non-order messages
    data = message.get("data")
    data = json.loads(data) if isinstance(data, str) else data
    if not isinstance(data, dict):
        raise MappingError(f"douyin push [{i}].data is not an object", details={"field": f"[{i}].data"})
    return PushNotice(
        platform_order_id=text(data, "p_id"),
        kind="refund" if tag.startswith("2") else PUSH_KINDS.get(tag, "other"),
        platform_shop_id=text(data, "shop_id", None),
        occurred_at=next((from_epoch(data[f], f) for f in _PUSH_TIME_FIELDS if data.get(f)), None),
        raw={"tag": tag, "msg_id": message.get("msg_id"), "data": data},
    )


def _clear_text(info: Mapping[str, Any]) -> str | None:
    if str(info.get("err_no") or 0) != "0":
        return None
    if info.get("decrypt_text"):
        return str(info["decrypt_text"])
    if info.get("is_virtual_tel") and info.get("phone_no_a"):
        return f"{info['phone_no_a']}-{info.get('phone_no_b') or ''}".rstrip("-")
    return None


def _retryable(code: str, sub_code: str) -> bool:
    sub = sub_code.lower()
    return code in RETRYABLE_CODES or sub.startswith("isp.") or _common.sounds_retryable(sub)


def _parse_timestamp(value: str) -> datetime | None:
    try:
        return from_epoch(value, "timestamp") if value.isdigit() else parse_time(value, "timestamp")
    except MappingError:  # malformed, zero or absurdly large: no readable time
        return None
