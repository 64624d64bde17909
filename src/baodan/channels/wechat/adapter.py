"""微信小店 / 视频号小店 (channels/ec) adapter: access-token calls, SHA1-signed (and AES-encrypted) pushes,
orders ↔ canonical.

Credentials: `app_key` = appid, `app_secret` = secret, `access_token`, and in `extra`: `token` (the push
Token) and `encoding_aes_key` (43 characters, for 安全模式 pushes).

Readings chosen where ../shared/specs/douyin_kuaishou_wechat.md is uncertain ([inf] or conflicting), kept
here in one place so they are easy to correct against a real sandbox:

- Rate limit: none is documented; `calls_per_second = 5` is a conservative guess.
- Calls: no request signature. `Call.method` is the API path (`/channels/ec/order/get`); `sign()` POSTs the
  JSON body with `?access_token=`. `check_request()` only checks that token (the platform's own check).
- Errors: `errcode` 0 (or absent) is success and the rest of the answer is the data. Retryable: HTTP
  429/5xx, errcode -1 (系统繁忙) and 45011 (minute quota) — standard WeChat codes, not re-verified here.
- Order list: `/order/list/get` by `update_time_range` (the SKIT model, not the flat doc-copy form), window
  ≤ 7 days (else ValueError), `page_size` capped at 50 (the lower of the two documented maxima). It pages by
  `next_key`: `page <= 1` starts, later pages need the keyword `cursor=` (else ValueError). It returns ids
  only, so `OrderPage.orders` are stubs `{"order_id": …}` that need `order_detail_call`.
- Order object: `product_infos`, `price_info`, `pay_info`, `delivery_info` and `ext_info` are read inside
  `order_detail`. Lines have no ids (`platform_line_id` None); `sale_price` is the unit price and
  `real_price` what the line paid, the difference being the line discount; the order-level discount is
  what remains: Σ lines + freight − order_price (never below 0). `sku_code` is the merchant code.
- Status: 12 礼物待收下 and 13 凑单买凑团中 are `paid` (the buyer has paid); 21 部分发货 is `paid`;
  190/250 are `cancelled`; 200 (全部商品售后之后订单取消) is `refunded`.
- Receiver: as given (masked); `county_name` is the district; WeChat has no town. The live room is
  `ext_info.live_id` when not empty.
- Push: GET is the URL check (`signature` over Token, timestamp, nonce). A POST with `msg_signature` is
  安全模式 (JSON `{ToUserName, Encrypt}`, `msg_signature` over Token, timestamp, nonce, Encrypt, and the
  decrypted appid must be ours); without it, plaintext mode checked by `signature`. `parse_push(request)`
  gets no credentials, so an encrypted push must first go through `open_push(creds, request)`, which
  verifies and returns the request with the plaintext body. The URL check's answer is `echo_answer()`.
  Reply `success` (text/plain, standard WeChat; unverified); failure answers HTTP 500 `fail`.
  `sign_push()` sends one event per POST, encrypted when `encoding_aes_key` is set; its nonce and the
  16-byte random prefix are derived from the content and `now` so it stays pure.
- Ship: `/order/delivery/send` with `deliver_type` 1 (自寄快递); `product_infos` come from the lines
  (`platform_product_id`, `platform_sku_id`, `quantity`) and are omitted when no lines are given.
- Stock: `/product/stock/update` with `diff_type` 3 (设置, an absolute level); it needs the product id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from baodan.channels import _common
from baodan.channels._common import CursorPage, compact_json, from_epoch, to_epoch
from baodan.channels.base import (
    BadSignature,
    Call,
    Credentials,
    Incoming,
    MappingError,
    PlatformError,
    PushAnswer,
    PushNotice,
    SignedRequest,
)
from baodan.channels.wechat import mapping, signing

API_HOST = "https://api.weixin.qq.com"
RETRYABLE_ERRCODES = frozenset({"-1", "45011"})
MAX_PAGE_SIZE = 50
MAX_WINDOW = timedelta(days=7)

PUSH_KINDS = {
    "channels_ec_order_new": "created",
    "channels_ec_order_pay": "paid",
    "channels_ec_order_cancel": "cancelled",
    "channels_ec_order_deliver": "shipped",
    "channels_ec_order_confirm": "completed",
    "channels_ec_order_settle": "other",
    "channels_ec_order_ext_info_update": "other",
    "channels_ec_aftersale_update": "refund",
}


class WechatAdapter:
    channel = "wechat"
    calls_per_second = 5.0

    # client side

    def sign(self, creds: Credentials, call: Call, *, base_url: str, now: datetime) -> SignedRequest:
        if not creds.access_token:
            raise ValueError(f"wechat {call.method} needs an access_token")
        return SignedRequest("POST", base_url.rstrip("/") + call.method, {"access_token": creds.access_token},
                             {"content-type": "application/json"}, compact_json(call.params).encode())

    def read_response(self, call: Call, status: int, body: bytes) -> dict[str, Any]:
        if status == 429 or status >= 500:
            raise PlatformError(f"wechat {call.method}: HTTP {status}", platform_code=str(status), retryable=True)
        try:
            answer = json.loads(body)
        except ValueError:
            raise PlatformError(f"wechat {call.method}: HTTP {status}, not JSON", platform_code=str(status)) from None
        if not isinstance(answer, dict):
            raise PlatformError(f"wechat {call.method}: unexpected answer", platform_code=str(status))
        code = str(answer.get("errcode", 0))
        if code != "0":
            raise PlatformError(f"wechat {call.method}: {answer.get('errmsg') or ''} ({code})", platform_code=code,
                                retryable=code in RETRYABLE_ERRCODES)
        return {k: v for k, v in answer.items() if k not in ("errcode", "errmsg")}

    def order_list_call(self, creds: Credentials, *, updated_from: datetime, updated_to: datetime,
                        page: int, page_size: int, cursor: str | None = None) -> Call:
        if updated_to - updated_from > MAX_WINDOW:
            raise ValueError("wechat lists orders over at most 7 days of update time")
        if cursor is None and page > 1:
            raise ValueError("wechat pages by next_key: pass cursor= from the previous CursorPage")
        params: dict[str, Any] = {
            "update_time_range": {"start_time": to_epoch(updated_from), "end_time": to_epoch(updated_to)},
            "page_size": min(page_size, MAX_PAGE_SIZE),
        }
        if cursor:
            params["next_key"] = cursor
        return Call("/channels/ec/order/list/get", params)

    def parse_order_list(self, data: dict[str, Any]) -> CursorPage:
        ids = data.get("order_id_list") or []
        return CursorPage(orders=[{"order_id": str(i)} for i in ids], has_more=bool(data.get("has_more")),
                          cursor=data.get("next_key") or None)

    def order_detail_call(self, creds: Credentials, platform_order_id: str) -> Call:
        return Call("/channels/ec/order/get", {"order_id": platform_order_id})

    def parse_order_detail(self, data: dict[str, Any]) -> dict[str, Any]:
        return _common.pick(data, "order")

    def ship_call(self, creds: Credentials, *, platform_order_id: str, waybill_no: str, carrier_code: str,
                  lines: list[dict[str, Any]]) -> Call:
        delivery: dict[str, Any] = {"delivery_id": carrier_code, "waybill_id": waybill_no, "deliver_type": 1}
        if lines:
            delivery["product_infos"] = [{"product_id": str(line.get("platform_product_id") or ""),
                                          "sku_id": str(line["platform_sku_id"]), "product_cnt": line["quantity"]}
                                         for line in lines]
        return Call("/channels/ec/order/delivery/send", {"order_id": platform_order_id, "delivery_list": [delivery]})

    def stock_call(self, creds: Credentials, *, platform_sku_id: str, quantity: int,
                   platform_product_id: str | None = None) -> Call:
        if not platform_product_id:
            raise ValueError("wechat stock updates need the product id")
        return Call("/channels/ec/product/stock/update", {"product_id": platform_product_id,
                                                          "sku_id": platform_sku_id, "diff_type": 3, "num": quantity})

    # push side

    def open_push(self, creds: Credentials, request: Incoming) -> Incoming:
        """The push verified and, in 安全模式, with its body decrypted; BadSignature when it is not ours."""
        query, token = request.query, _secret(creds, "token")
        timestamp, nonce = query.get("timestamp") or "", query.get("nonce") or ""
        if request.http_method.upper() == "GET" or "msg_signature" not in query:
            if not signing.signature_matches(signing.signature(token, timestamp, nonce), query.get("signature")):
                raise BadSignature("wechat push signature does not match")
            return request
        try:
            encrypted = json.loads(request.body)["Encrypt"]
        except (ValueError, KeyError, TypeError):
            raise BadSignature("wechat 安全模式 push without Encrypt") from None
        if not signing.signature_matches(signing.signature(token, timestamp, nonce, encrypted),
                                         query.get("msg_signature")):
            raise BadSignature("wechat push msg_signature does not match")
        try:
            message, appid = signing.decrypt(encrypted, _secret(creds, "encoding_aes_key"))
        except ValueError as exc:
            raise BadSignature("wechat push does not decrypt", details=str(exc)) from None
        if appid != creds.app_key:
            raise BadSignature("wechat push for another appid", details={"appid": appid})
        return replace(request, body=message)

    def verify_push(self, creds: Credentials, request: Incoming) -> None:
        self.open_push(creds, request)

    def parse_push(self, request: Incoming) -> list[PushNotice]:
        """Reads a plaintext (or opened) push; the GET URL check carries no notice."""
        if request.http_method.upper() == "GET":
            return []
        try:
            event = json.loads(request.body)
        except ValueError:
            raise MappingError("wechat push body is not JSON (XML format is not served)",
                               details={"field": "body"}) from None
        if "Encrypt" in event and "Event" not in event:
            raise ValueError("wechat push is still encrypted: parse the request open_push(creds, request) returns")
        name = _common.pick(event, "Event")
        info = event.get("order_info") or event.get("finder_shop_aftersale_status_update") or {}
        order_id = info.get("order_id")
        if name not in PUSH_KINDS or not order_id:
            return []  # stock and other events name no order
        created = event.get("CreateTime")
        return [PushNotice(platform_order_id=str(order_id), kind=PUSH_KINDS[name],
                           platform_shop_id=event.get("ToUserName") or None,
                           occurred_at=from_epoch(created, "CreateTime") if created else None, raw=event)]

    def push_answer(self, ok: bool) -> PushAnswer:
        return PushAnswer(200, b"success", "text/plain") if ok else PushAnswer(500, b"fail", "text/plain")

    def echo_answer(self, request: Incoming) -> PushAnswer:
        """The answer to the GET URL check (after verify_push): the `echostr` sent."""
        return PushAnswer(200, (request.query.get("echostr") or "").encode(), "text/plain")

    # mapping

    def to_canonical(self, order: dict[str, Any], *, shop_code: str) -> dict[str, Any]:
        return mapping.to_canonical(order, shop_code=shop_code)

    # server side (the simulator)

    def check_request(self, creds: Credentials, request: Incoming, *, now: datetime) -> Call:
        token = request.query.get("access_token") or ""
        if not token or not creds.access_token or not hmac.compare_digest(token, creds.access_token):
            raise BadSignature("invalid access_token", details={"errcode": 40001})
        try:
            params = json.loads(request.body) if request.body.strip() else {}
        except ValueError:
            raise BadSignature("body is not JSON", details={"errcode": 47001}) from None
        return Call("/" + request.path.strip("/"), params if isinstance(params, dict) else {})

    def sign_push(self, creds: Credentials, notices: list[dict[str, Any]], *, now: datetime) -> SignedRequest:
        """`notices` holds one event (`Event`, `order_info` …); the envelope fields are filled in."""
        if len(notices) != 1:
            raise ValueError("wechat pushes one event per request")
        stamp = str(to_epoch(now))
        event = {"ToUserName": creds.extra.get("original_id", ""), "FromUserName": "", "CreateTime": int(stamp),
                 "MsgType": "event"} | notices[0]
        plaintext = compact_json(event)
        digest = hashlib.sha256(f"{plaintext}:{stamp}".encode()).digest()
        nonce = str(int.from_bytes(digest[:4], "big"))
        token = _secret(creds, "token")
        query = {"signature": signing.signature(token, stamp, nonce), "timestamp": stamp, "nonce": nonce}
        url, headers = creds.extra.get("push_url", "/"), {"content-type": "application/json"}
        aes_key = creds.extra.get("encoding_aes_key")
        if not aes_key:
            return SignedRequest("POST", url, query, headers, plaintext.encode())
        encrypted = signing.encrypt(plaintext.encode(), aes_key, creds.app_key, digest[16:32])
        query |= {"encrypt_type": "aes", "msg_signature": signing.signature(token, stamp, nonce, encrypted)}
        body = compact_json({"ToUserName": event["ToUserName"], "Encrypt": encrypted}).encode()
        return SignedRequest("POST", url, query, headers, body)

    def envelope(self, call: Call, data: dict[str, Any] | None, *, error: tuple[str, str] | None = None) -> bytes:
        if error is None:
            return compact_json({"errcode": 0, "errmsg": "ok"} | (data or {})).encode()
        code, message = error
        if not code.lstrip("-").isdigit():
            raise ValueError(f"wechat errcodes are numbers, not {code!r}")
        return compact_json({"errcode": int(code), "errmsg": message}).encode()

    def from_canonical(self, order: dict[str, Any], creds: Credentials) -> dict[str, Any]:
        return mapping.from_canonical(order)


def _secret(creds: Credentials, name: str) -> str:
    try:
        return creds.extra[name]
    except KeyError:
        raise ValueError(f"wechat credentials need extra[{name!r}]") from None
