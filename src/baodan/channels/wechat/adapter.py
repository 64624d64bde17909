"""微信小店 / 视频号小店 (channels/ec) adapter: access-token calls, SHA1-signed (and AES-encrypted) pushes,
orders ↔ canonical.

Credentials: `app_key` = appid, `app_secret` = secret, `access_token`, and in `extra`: `token` (the push
Token) and `encoding_aes_key` (43 characters, for 安全模式 pushes).

Readings chosen where ../shared/specs/douyin_kuaishou_wechat.md is uncertain ([inf] or conflicting), kept
here in one place so they are easy to correct against a real sandbox:

- Rate limit: none is documented; `calls_per_second = 5` is a conservative guess.
- Calls: no request signature. `Call.method` is the API path (`/channels/ec/order/get`); `sign()` POSTs the
  JSON body with `?access_token=`. `check_request()` only checks that token (the platform's own check): a
  call without one is errcode 41001, another token 40001.
- Access token: WeChat has no refresh token; the app id and secret mint a new token, so
  `token_refresh_call` is always `GET /cgi-bin/token?grant_type=client_credential&appid=` (`sign()` adds
  `secret`). Each such call issues a new token (the previous one stops working: WeChat keeps it 5 more
  minutes, the simulator's `token_grace_s`); `parse_token` reads `expires_in` (7200 s). Expired or invalid
  token: errcodes 40001, 40014 and 42001 (standard WeChat codes).
- Decrypt: `/channels/ec/order/sensitiveinfo/decode` opens one order by its id (there is no ciphertext to
  send), so `decrypt_batch_size` is 1 and every item can be decrypted. Its `address_info` gives the whole
  receiver: `user_name`, `tel_number` (else `virtual_order_tel_number`), `detail_info` (with `house_number`
  appended when given), province, city and `county_name` (the district). A refusal is the call's errcode.
- Sign-in (server side): the token calls are served as WeChat's: `GET /cgi-bin/token?grant_type=
  client_credential&appid=&secret=` (what wechatpy 1.8.18's `fetch_access_token` sends) and `POST
  /cgi-bin/stable_token` with the same three as JSON. They need no access_token; the answer is
  `{"access_token", "expires_in": 7200}` without errcode. A wrong grant_type is errcode 40002, a wrong appid
  40013, a wrong secret 40125 (WeChat's codes; not re-verified here).
- Errors: `errcode` 0 (or absent) is success and the rest of the answer is the data. Retryable: HTTP
  429/5xx, errcode -1 (系统繁忙) and 45011 (minute quota) — standard WeChat codes, not re-verified here.
- Order list: `/order/list/get` by `update_time_range` (the SKIT model, not the flat doc-copy form), window
  ≤ 7 days (`max_list_window`, else Invalid), `page_size` capped at 50 (the lower of the two documented
  maxima). It pages by `next_key`: no `cursor` starts, a later page (`page > 1`) needs the `cursor` from the
  previous `OrderPage.next_cursor` (else ValueError). It returns ids only, so the page is `ids_only` and its
  `orders` are stubs `{"order_id": …}` that need `order_detail_call`. `order_list_data` says `has_more`
  exactly when it is given a `next_cursor`; `read_call` reports a cursor call as page 1.
- Order object: `product_infos`, `price_info`, `pay_info`, `delivery_info` and `ext_info` are read inside
  `order_detail`. Lines have no ids (`platform_line_id` None); `sale_price` is the unit price and
  `real_price` what the line paid, the difference being the line discount; the order-level discount is
  what remains: Σ lines + freight − order_price (never below 0). `sku_code` is the merchant code.
- Status: 12 礼物待收下 and 13 凑单买凑团中 are `paid` (the buyer has paid); 21 部分发货 is `paid`;
  190/250 are `cancelled`; 200 (全部商品售后之后订单取消) is `refunded`.
- Receiver: as given (masked); `county_name` is the district; WeChat has no town. The order carries no
  receiver ciphertext (/order/sensitiveinfo/decode opens it by order id), so there is no `platform_cipher`.
  The live room is `ext_info.live_id` when not empty.
- Push: GET is the URL check (`signature` over Token, timestamp, nonce): `handshake` verifies it and echoes
  `echostr` (it gets no `now`, so it checks no staleness). A POST with `msg_signature` is 安全模式 (JSON
  `{ToUserName, Encrypt}`, `msg_signature` over Token, timestamp, nonce, Encrypt, and the decrypted appid
  must be ours); without it, plaintext mode checked by `signature` (which covers no body: only 安全模式
  protects the content). `open_push` verifies, refuses a signed
  timestamp more than 10 minutes from `now` [inf: WeChat documents no window], decrypts and reads the
  event; a GET gives no notice. `push_route` reads `ToUserName` (the shop's original id, in clear in both
  modes); the appid is only inside the ciphertext. Reply `success` (text/plain, standard WeChat;
  unverified); failure answers HTTP 500 `fail`. `sign_push()` sends one event per POST (more than one
  notice raises ValueError), named by kind (created order_new, paid order_pay, cancelled order_cancel,
  shipped order_deliver, completed order_confirm, other order_ext_info_update, refund aftersale_update)
  unless the notice's `raw` names an `Event`, `CreateTime` the notice's time (else `now`), `ToUserName`
  the notice's shop (else `extra["original_id"]`); encrypted when `encoding_aes_key` is set. Its nonce and
  the 16-byte random prefix are derived from the content and `now` so it stays pure. Events never carry
  the order.
- Ship: `/order/delivery/send` with `deliver_type` 1 (自寄快递); `product_infos` come from the lines
  (`platform_product_id`, `platform_sku_id`, `quantity`) and are omitted when no lines are given.
- Stock: `/product/stock/update` with `diff_type` 3 (设置, an absolute level); it needs the product id. As
  the level is set, BaoDan reads none (`stock_query_call` is None; /product/stock/get's answer shape is not
  in the sources, so `parse_stock_query`/`stock_query_data` raise NotImplementedError).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from baodan.channels import _common
from baodan.channels._common import compact_json, from_epoch, to_epoch
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
from baodan.channels.wechat import mapping, signing

API_HOST = "https://api.weixin.qq.com"
RETRYABLE_ERRCODES = frozenset({"-1", "45011"})
MAX_PAGE_SIZE = 50
LIST_PATH = "/channels/ec/order/list/get"
DETAIL_PATH = "/channels/ec/order/get"
SHIP_PATH = "/channels/ec/order/delivery/send"
STOCK_PATH = "/channels/ec/product/stock/update"
TOKEN_PATH = "/cgi-bin/token"
TOKEN_PATHS = frozenset({TOKEN_PATH, "/cgi-bin/stable_token"})
TOKEN_EXPIRED_CODES = frozenset({"40001", "40014", "42001"})
DECODE_PATH = "/channels/ec/order/sensitiveinfo/decode"

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
KIND_EVENTS = {"created": "channels_ec_order_new", "paid": "channels_ec_order_pay",
               "cancelled": "channels_ec_order_cancel", "shipped": "channels_ec_order_deliver",
               "completed": "channels_ec_order_confirm", "other": "channels_ec_order_ext_info_update",
               "refund": "channels_ec_aftersale_update"}
AFTERSALE_INFO = "finder_shop_aftersale_status_update"


class WechatAdapter(_common.AdapterDefaults, _common.AbsoluteStock):
    channel = "wechat"
    calls_per_second = 5.0
    has_push = True
    max_list_window = timedelta(days=7)
    stock_mode = "absolute"
    decrypt_batch_size = 1
    no_stock_level = "wechat stock is set absolutely: BaoDan reads no stock level"
    mapping = mapping

    # client side

    def sign(self, creds: Credentials, call: Call, *, base_url: str, now: datetime) -> SignedRequest:
        if call.method == TOKEN_PATH:  # minted from the app id and secret: no access token
            return SignedRequest("GET", base_url.rstrip("/") + call.method,
                                 {**{k: str(v) for k, v in call.params.items()}, "secret": creds.app_secret})
        if not creds.access_token:
            raise ValueError(f"wechat {call.method} needs an access_token")
        return SignedRequest("POST", base_url.rstrip("/") + call.method, {"access_token": creds.access_token},
                             {"content-type": "application/json"}, compact_json(call.params).encode())

    def read_response(self, call: Call, status: int, body: bytes) -> dict[str, Any]:
        answer = _common.answer_object("wechat", call, status, body)
        code = str(answer.get("errcode", 0))
        if code != "0":
            raise PlatformError(f"wechat {call.method}: {answer.get('errmsg') or ''} ({code})", platform_code=code,
                                retryable=code in RETRYABLE_ERRCODES, token_expired=code in TOKEN_EXPIRED_CODES)
        return {k: v for k, v in answer.items() if k not in ("errcode", "errmsg")}

    def order_list_call(self, creds: Credentials, *, updated_from: datetime, updated_to: datetime,
                        page: int = 1, cursor: str | None = None, page_size: int = 50) -> Call:
        _common.check_window(updated_from, updated_to, self.max_list_window, self.channel)
        if cursor is None and page > 1:
            raise ValueError("wechat pages by next_key: pass cursor= from the previous OrderPage.next_cursor")
        params: dict[str, Any] = {
            "update_time_range": {"start_time": to_epoch(updated_from), "end_time": to_epoch(updated_to)},
            "page_size": min(page_size, MAX_PAGE_SIZE),
        }
        if cursor:
            params["next_key"] = cursor
        return Call(LIST_PATH, params)

    def parse_order_list(self, data: dict[str, Any], *, page: int, page_size: int) -> OrderPage:
        ids = data.get("order_id_list") or []
        return OrderPage(orders=[{"order_id": str(i)} for i in ids], has_more=bool(data.get("has_more")),
                         next_cursor=data.get("next_key") or None, ids_only=True)

    def order_detail_call(self, creds: Credentials, platform_order_id: str) -> Call:
        return Call(DETAIL_PATH, {"order_id": platform_order_id})

    def parse_order_detail(self, data: dict[str, Any]) -> dict[str, Any]:
        return _common.pick(data, "order")

    def ship_call(self, creds: Credentials, *, platform_order_id: str, waybill_no: str, carrier_code: str,
                  lines: list[dict[str, Any]]) -> Call:
        delivery: dict[str, Any] = {"delivery_id": carrier_code, "waybill_id": waybill_no, "deliver_type": 1}
        if lines:
            delivery["product_infos"] = [{"product_id": str(line.get("platform_product_id") or ""),
                                          "sku_id": str(line["platform_sku_id"]), "product_cnt": line["quantity"]}
                                         for line in lines]
        return Call(SHIP_PATH, {"order_id": platform_order_id, "delivery_list": [delivery]})

    def stock_call(self, creds: Credentials, *, platform_sku_id: str, quantity: int,
                   platform_product_id: str | None = None, current: int | None = None) -> Call:
        if not platform_product_id:
            raise ValueError("wechat stock updates need the product id")
        return Call(STOCK_PATH, {"product_id": platform_product_id, "sku_id": platform_sku_id, "diff_type": 3,
                                 "num": quantity})

    def token_refresh_call(self, creds: Credentials) -> Call | None:
        return Call(TOKEN_PATH, {"grant_type": "client_credential", "appid": creds.app_key})

    def parse_token(self, data: dict[str, Any], *, now: datetime) -> Token:
        return _common.lifetime_token(self.channel, data, now=now)

    def decrypt_call(self, creds: Credentials, items: list[tuple[str, Mapping[str, str]]]) -> Call | None:
        _common.check_decrypt_batch(items, self.decrypt_batch_size, self.channel)
        return Call(DECODE_PATH, {"order_id": items[0][0]}) if items else None

    def parse_decrypt(self, data: dict[str, Any], *,
                      items: list[tuple[str, Mapping[str, str]]]) -> dict[str, dict[str, str]]:
        info = data.get("address_info")
        if not isinstance(info, dict) or not info.get("user_name"):
            return {order_id: {"error": "wechat answered no address_info"} for order_id, _ in items}
        address = " ".join(str(v) for v in (info.get("detail_info"), info.get("house_number")) if v)
        fields = {"name": info.get("user_name"),
                  "phone": info.get("tel_number") or info.get("virtual_order_tel_number"), "address": address,
                  "province": info.get("province_name"), "city": info.get("city_name"),
                  "district": info.get("county_name")}
        return {order_id: {k: str(v) for k, v in fields.items() if v} for order_id, _ in items}

    # push side

    def push_route(self, request: Incoming) -> PushRoute:
        try:
            event = json.loads(request.body)
            shop = event.get("ToUserName") if isinstance(event, dict) else None
        except ValueError:
            shop = None
        return PushRoute(platform_shop_id=shop or None)

    def open_push(self, creds: Credentials, request: Incoming, *, now: datetime) -> list[PushNotice]:
        body = self._verified_body(creds, request)
        timestamp = request.query.get("timestamp") or ""
        _common.check_fresh(from_epoch(timestamp, "timestamp") if timestamp.isdigit() else None, now, timestamp)
        if request.http_method.upper() == "GET":
            return []  # the URL check carries no notice
        try:
            event = json.loads(body)
        except ValueError:
            raise MappingError("wechat push body is not JSON (XML format is not served)",
                               details={"field": "body"}) from None
        name = _common.pick(event, "Event")
        info = event.get("order_info") or event.get(AFTERSALE_INFO) or {}
        order_id = info.get("order_id")
        if name not in PUSH_KINDS or not order_id:
            return []  # stock and other events name no order
        created = event.get("CreateTime")
        return [PushNotice(platform_order_id=str(order_id), kind=PUSH_KINDS[name],
                           platform_shop_id=event.get("ToUserName") or None,
                           occurred_at=from_epoch(created, "CreateTime") if created else None, raw=event)]

    def push_answer(self, ok: bool) -> PushAnswer:
        return PushAnswer(200, b"success", "text/plain") if ok else PushAnswer(500, b"fail", "text/plain")

    def handshake(self, creds: Credentials, request: Incoming) -> PushAnswer | None:
        """The GET URL check: verified, then its `echostr` echoed."""
        if request.http_method.upper() != "GET" or "echostr" not in request.query:
            return None
        self._verified_body(creds, request)
        return PushAnswer(200, request.query["echostr"].encode(), "text/plain")

    def _verified_body(self, creds: Credentials, request: Incoming) -> bytes:
        """The push body (decrypted in 安全模式) once its signature is checked; BadSignature when it is not ours."""
        query, token = request.query, _secret(creds, "token")
        timestamp, nonce = query.get("timestamp") or "", query.get("nonce") or ""
        if request.http_method.upper() == "GET" or "msg_signature" not in query:
            if not _common.sign_matches(query.get("signature"), signing.signature(token, timestamp, nonce)):
                raise BadSignature("wechat push signature does not match")
            return request.body
        try:
            encrypted = json.loads(request.body)["Encrypt"]
        except (ValueError, KeyError, TypeError):
            raise BadSignature("wechat 安全模式 push without Encrypt") from None
        if not _common.sign_matches(query.get("msg_signature"), signing.signature(token, timestamp, nonce, encrypted)):
            raise BadSignature("wechat push msg_signature does not match")
        try:
            message, appid = signing.decrypt(encrypted, _secret(creds, "encoding_aes_key"))
        except ValueError as exc:
            raise BadSignature("wechat push does not decrypt", details=str(exc)) from None
        if appid != creds.app_key:
            raise BadSignature("wechat push for another appid", details={"appid": appid})
        return message

    # server side (the simulator)

    def check_request(self, creds: Credentials, request: Incoming, *, now: datetime) -> Call:
        path = "/" + request.path.strip("/")
        if path in TOKEN_PATHS:
            return _token_call(creds, path, request)
        token = request.query.get("access_token") or ""
        if not token:
            raise BadSignature("access_token missing", details={"errcode": 41001})
        if creds.access_token and not _common.sign_matches(token, creds.access_token, hex_digest=False):
            raise BadSignature("invalid access_token", details={"errcode": 40001})
        try:
            params = json.loads(request.body) if request.body.strip() else {}
        except ValueError:
            raise BadSignature("body is not JSON", details={"errcode": 47001}) from None
        return Call("/" + request.path.strip("/"), params if isinstance(params, dict) else {}, access_token=token)

    def read_call(self, call: Call) -> ServedCall:
        p = call.params
        if call.method == TOKEN_PATH:
            return ServedCall("token_refresh")
        if call.method in TOKEN_PATHS:  # stable_token: the current token while it is valid
            return ServedCall("token")
        if call.method == DECODE_PATH:
            return ServedCall("decrypt", decrypt_items=((str(p["order_id"]), None),))
        if call.method == LIST_PATH:
            window = p["update_time_range"]
            return ServedCall("order_list", updated_from=from_epoch(window["start_time"], "start_time"),
                              updated_to=from_epoch(window["end_time"], "end_time"),
                              page_size=int(p.get("page_size", 10)), cursor=p.get("next_key") or None)
        if call.method == DETAIL_PATH:
            return ServedCall("order_detail", platform_order_id=str(p["order_id"]))
        if call.method == SHIP_PATH:
            delivery = p["delivery_list"][0]
            return ServedCall("ship", platform_order_id=str(p["order_id"]), waybill_no=str(delivery["waybill_id"]),
                              carrier_code=str(delivery["delivery_id"]),
                              lines=tuple(str(i["sku_id"]) for i in delivery.get("product_infos") or ()))
        if call.method == STOCK_PATH and int(p.get("diff_type", 3)) == 3:
            return ServedCall("stock", platform_sku_id=str(p["sku_id"]), platform_product_id=str(p["product_id"]),
                              quantity=int(p["num"]))
        return ServedCall("other")

    def order_list_data(self, orders: list[dict[str, Any]], *, page: int, page_size: int, total: int,
                        next_cursor: str | None) -> dict[str, Any]:
        return {"order_id_list": [str(order["order_id"]) for order in orders], "next_key": next_cursor or "",
                "has_more": next_cursor is not None}

    def order_detail_data(self, order: dict[str, Any]) -> dict[str, Any]:
        return {"order": order}

    def token_data(self, token: Token, *, now: datetime) -> dict[str, Any]:
        return {"access_token": token.access_token, "expires_in": _common.seconds_left(token.expires_at, now)}

    def decrypt_data(self, results: list[Decrypted]) -> dict[str, Any]:
        """One order's `address_info` (a failed one is answered as the call's errcode, by the caller)."""
        fields = results[0].fields if results else {}
        return {"address_info": {"user_name": fields.get("name", ""), "tel_number": fields.get("phone", ""),
                                 "province_name": fields.get("province", ""), "city_name": fields.get("city", ""),
                                 "county_name": fields.get("district", ""), "detail_info": fields.get("address", ""),
                                 "postal_code": "", "house_number": "", "virtual_order_tel_number": ""}}

    def envelope(self, call: Call, data: dict[str, Any] | None, *, error: tuple[str, str] | None = None) -> bytes:
        if error is None and call.method in TOKEN_PATHS:  # the token answer carries no errcode
            return compact_json(data or {}).encode()
        if error is None:
            return compact_json({"errcode": 0, "errmsg": "ok"} | (data or {})).encode()
        code, message = error
        if not code.lstrip("-").isdigit():
            raise ValueError(f"wechat errcodes are numbers, not {code!r}")
        return compact_json({"errcode": int(code), "errmsg": message}).encode()

    def sign_push(self, creds: Credentials, notices: list[PushNotice], *, url: str, now: datetime) -> SignedRequest:
        """One event (WeChat pushes one per request), encrypted when `encoding_aes_key` is set."""
        if len(notices) != 1:
            raise ValueError("wechat pushes one event per request")
        notice = notices[0]
        name = notice.raw.get("Event") or _common.push_name(KIND_EVENTS, notice.kind, self.channel)
        info_key = AFTERSALE_INFO if name == "channels_ec_aftersale_update" else "order_info"
        event = {"ToUserName": notice.platform_shop_id or creds.extra.get("original_id", ""), "FromUserName": "",
                 "CreateTime": to_epoch(notice.occurred_at or now), "MsgType": "event", "Event": name,
                 info_key: dict(notice.raw.get(info_key) or {}) | {"order_id": notice.platform_order_id}}
        stamp = str(to_epoch(now))
        plaintext = compact_json(event)
        digest = hashlib.sha256(f"{plaintext}:{stamp}".encode()).digest()
        nonce = str(int.from_bytes(digest[:4], "big"))
        token = _secret(creds, "token")
        query = {"signature": signing.signature(token, stamp, nonce), "timestamp": stamp, "nonce": nonce}
        headers = {"content-type": "application/json"}
        aes_key = creds.extra.get("encoding_aes_key")
        if not aes_key:
            return SignedRequest("POST", url, query, headers, plaintext.encode())
        encrypted = signing.encrypt(plaintext.encode(), aes_key, creds.app_key, digest[16:32])
        query |= {"encrypt_type": "aes", "msg_signature": signing.signature(token, stamp, nonce, encrypted)}
        body = compact_json({"ToUserName": event["ToUserName"], "Encrypt": encrypted}).encode()
        return SignedRequest("POST", url, query, headers, body)

    def from_canonical(self, order: dict[str, Any], creds: Credentials) -> dict[str, Any]:
        return mapping.from_canonical(order)


def _secret(creds: Credentials, name: str) -> str:
    return _common.extra_secret(creds, name, "wechat")


def _token_call(creds: Credentials, path: str, request: Incoming) -> Call:
    """A /cgi-bin/token (query) or /cgi-bin/stable_token (JSON body) call, its appid and secret checked."""
    params: dict[str, Any] = dict(request.query)
    if request.body.strip():
        try:
            body = json.loads(request.body)
        except ValueError:
            raise BadSignature("body is not JSON", details={"errcode": 47001}) from None
        if isinstance(body, dict):
            params |= body
    if params.get("grant_type") != "client_credential":
        raise BadSignature("invalid grant_type", details={"errcode": 40002})
    if params.get("appid") != creds.app_key:
        raise BadSignature("invalid appid", details={"errcode": 40013})
    if not _common.sign_matches(str(params.get("secret") or ""), creds.app_secret, hex_digest=False):
        raise BadSignature("invalid appsecret", details={"errcode": 40125})
    return Call(path, {k: v for k, v in params.items() if k != "secret"})
