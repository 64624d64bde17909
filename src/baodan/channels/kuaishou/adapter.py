"""快手电商 (open.kwaixiaodian.com) adapter: signSecret-signed calls, AES-encrypted pushes, orders ↔ canonical.

Credentials: `app_key` (ks…), `app_secret`, `access_token`, and in `extra`: `sign_secret` (signs calls) and
`message_secret` (Base64 AES key of pushes).

Readings chosen where ../shared/specs/douyin_kuaishou_wechat.md is uncertain ([inf] or conflicting), kept
here in one place so they are easy to correct against a real sandbox:

- Rate limit: none is documented; `calls_per_second = 5` is a conservative guess.
- Signing: `sign()` uses `HMAC_SHA256` (both SDKs support it), version 1, timestamp in milliseconds. For
  `MD5`, `check_request()` accepts both SDK readings (`…&version=1&signSecret=<s>` and the secret appended
  bare); a missing `signMethod` is read as `MD5` (the SDK default). Timestamps more than 10 minutes from
  `now` are refused. `check_request()` reads the parameters from the query and, for POST, the form body.
- HTTP verb: GET for list/detail, POST (form) for the writes, as in the TypeScript SDK's verb table.
- Sign-in (server side): `/oauth2/access_token` (`grant_type=code`, `code`) and `/oauth2/refresh_token`
  (`grant_type=refresh_token`, `refresh_token`) are served, from the query or a form body, with `app_id` and
  `app_secret` checked (the names both SDKs in the spec send; kwaixiaodian 1.0.3 sends OAuth's `client_id`/
  `client_secret` and `grant_type=authorization_code` instead and is refused). The answer is flat:
  `{"result":1, access_token, refresh_token, expires_in, refresh_token_expires_in, open_id, scopes}` (the
  spec's lifetimes: 172800 s and 15552000 s); a refusal `{"result":0, "error", "error_msg"}`.
- Paging: 快手 pages by cursor only. `order_list_call` without `cursor` starts with cursor ""; a later page
  (`page > 1`) without the `cursor` from the previous `OrderPage.next_cursor` raises ValueError. An answer
  cursor of "nomore" ends the list (`next_cursor` None). The update-time window (`max_list_window`) is 7
  days (else Invalid). `read_call` reports a cursor call as page 1 (the cursor says where it is).
- Push: the body is Base64 AES-CBC ciphertext, so `open_push` can only check that it decrypts to a JSON
  message whose `appKey` is ours (AES-CBC has no MAC: this is the platform's only proof). Nothing in the
  request is readable without the message secret, so `push_route` returns an empty PushRoute: the push URL
  must name the app (or the runtime tries each 快手 app's secret). The message's times are not a signature,
  and the platform redelivers old messages, so there is no staleness check. Heartbeat/test messages
  (`test: true`) give no notice; there is no URL check (`handshake` is None). Reply `{"result":1}`
  (unverified); failure answers HTTP 500. `sign_push()` sends one message per POST (more than one notice
  raises ValueError): the event by kind (created addOrder, paid paySuccess, shipped delivering, completed
  orderSuccess, cancelled orderFail, address_changed addressUpdateAudit, refund aftersales_addRefund) unless
  the notice's `raw` names an `event`, `bizId`/`info.oid` (`info.orderId` for after-sales) the order,
  `userId`/`info.sellerId` the shop, `updateTime` the notice's time (else `now`). 快手 pushes never carry
  the order.
- Status: 50 已签收 and 70 订单成功 are both `completed`; 0 (未知) is unknown. A non-unpaid order whose
  successful refunds (status 60) add up to at least totalFee − expressFee is `refunded`.
- Amounts: `totalFee`/`expressFee` are read as fen like `price`/`discountFee`; `price` is the unit price;
  `discountFee` is order-level (no line discount); `paid_total_fen = totalFee`.
- Times: every order time is unix milliseconds (0 = not set).
- Line: the one item is one line with `platform_line_id` = the order id; `skuNick` is the merchant code
  (sku_code), `skuId` the platform SKU id. No live room id and no seller memo (orderNote undocumented).
- Receiver: 快手 gives masked (`desensitise*`) and encrypted values; the masked ones fill name/phone/address
  and the ciphertexts (`encrypted*`, for open.order.decrypt.batch) go to `receiver.platform_cipher`.
- Ship: `open.seller.order.goods.deliver` for the whole order (`expressCode` must be 快手's numeric code);
  lines are ignored (one item per order).
- Stock: 快手 only changes stock by a delta (`open.item.sku.stock.update`), and needs the item id, so
  `stock_mode` is "delta": `stock_call(quantity=…)` needs `platform_product_id` and `current` (the
  platform's stock now) to send the difference; without them it raises ValueError. An unchanged level also
  raises (快手 takes no change of 0). The current level is read by `open.item.get` (GET, `kwaiItemId`; the
  SDK examples call it) [inf: its answer is read as `data.skuList[]{kwaiSkuId (or skuId), skuStock}`]; it
  names the item only, so `read_call` gives a stock_query without a SKU id.
- Envelope: success is `{"result":1,"code":"0","msg":"success",…,"data":…}`; an error puts a numeric code in
  `result`/`code` (else `result` 0 and the code in `code` and `sub_code`). Retryable: HTTP 429/5xx and codes or
  messages that speak of a limit or a busy system (no code list is documented).
- Access token (client side): `token_refresh_call` POSTs `/oauth2/refresh_token` as a form with `app_id`,
  `app_secret` (added by `sign()`, which needs no access token for it), `grant_type=refresh_token` and the
  refresh token; None without a refresh token. The flat answer's `expires_in` and `refresh_token_expires_in`
  give both lifetimes; a refusal (`result` ≠ 1) carries `error`/`error_msg`. The spec names no "token
  expired" code: `result` 28 is read as one [inf].
- Decrypt: `open.order.decrypt.batch` (POST) takes ≤ 100 `batchDecryptList` items ({bizId = order id,
  encryptedData}), up to three per order, so `decrypt_batch_size` is 33 orders; answer items are matched
  back by bizId and encryptedData, `errorCode` 1 meaning decrypted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from baodan.channels import _common
from baodan.channels._common import compact_json, from_epoch, id_value, to_epoch
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
from baodan.channels.kuaishou import mapping, signing

HOST = "https://openapi.kwaixiaodian.com"
POST_METHODS = frozenset({"open.seller.order.goods.deliver", "open.item.sku.stock.update",
                          "open.order.decrypt.batch", "open.seller.order.goods.logistics.append",
                          "open.seller.order.logistics.update", "open.order.goods.split.deliver"})
VERSION = "1"
END_CURSOR = "nomore"
OAUTH_GRANTS = {"/oauth2/access_token": ("code", "code"), "/oauth2/refresh_token": ("refresh_token", "refresh_token")}
REFRESH_PATH = "/oauth2/refresh_token"
TOKEN_EXPIRED_CODES = frozenset({"28"})
MAX_PAGE_SIZE = 50
DECRYPT_METHOD = "open.order.decrypt.batch"
MAX_CIPHERS = 100
DECRYPTED = 1  # a batchDecryptResultList item's errorCode when it decrypted

PUSH_KINDS = {
    "kwaishop_order_addOrder": "created",
    "kwaishop_order_paySuccess": "paid",
    "kwaishop_order_delivering": "shipped",
    "kwaishop_order_deliverySuccess": "completed",
    "kwaishop_order_orderSuccess": "completed",
    "kwaishop_order_orderFail": "cancelled",
    "kwaishop_order_addressUpdateAudit": "address_changed",
}
KIND_EVENTS = {"created": "kwaishop_order_addOrder", "paid": "kwaishop_order_paySuccess",
               "shipped": "kwaishop_order_delivering", "completed": "kwaishop_order_orderSuccess",
               "cancelled": "kwaishop_order_orderFail", "address_changed": "kwaishop_order_addressUpdateAudit",
               "refund": "kwaishop_aftersales_addRefund"}


class KuaishouAdapter(_common.AdapterDefaults):
    channel = "kuaishou"
    calls_per_second = 5.0
    has_push = True
    max_list_window = timedelta(days=7)
    stock_mode = "delta"
    decrypt_batch_size = MAX_CIPHERS // len(_common.CIPHER_FIELDS)
    mapping = mapping

    # client side

    def sign(self, creds: Credentials, call: Call, *, base_url: str, now: datetime) -> SignedRequest:
        if call.method in OAUTH_GRANTS:  # sign-in and refresh: the app's id and secret, no access token
            fields = {"app_id": creds.app_key, "app_secret": creds.app_secret,
                      **{k: str(v) for k, v in call.params.items()}}
            return SignedRequest("POST", base_url.rstrip("/") + call.method,
                                 headers={"content-type": "application/x-www-form-urlencoded"},
                                 body=urlencode(fields).encode())
        if not creds.access_token:
            raise ValueError(f"kuaishou {call.method} needs the shop's access_token")
        system = {"access_token": creds.access_token, "app_key": creds.app_key, "method": call.method,
                  "param": signing.param_string(call.params), "timestamp": str(to_epoch(now, ms=True)),
                  "version": VERSION}
        sign = signing.request_sign(sign_secret=_secret(creds, "sign_secret"), **system)
        fields = {"appkey": creds.app_key, "method": call.method, "access_token": creds.access_token,
                  "version": VERSION, "signMethod": "HMAC_SHA256", "timestamp": system["timestamp"],
                  "param": system["param"], "sign": sign}
        url = base_url.rstrip("/") + _common.dotted_path(call.method)
        if call.method in POST_METHODS:
            return SignedRequest("POST", url, headers={"content-type": "application/x-www-form-urlencoded"},
                                 body=urlencode(fields).encode())
        return SignedRequest("GET", url, query=fields)

    def read_response(self, call: Call, status: int, body: bytes) -> dict[str, Any]:
        answer = _common.answer_object("kuaishou", call, status, body)
        if str(answer.get("result")) == "1":
            if call.method in OAUTH_GRANTS:  # the token answer is flat
                return {k: v for k, v in answer.items() if k != "result"}
            data = answer.get("data")
            return data if isinstance(data, dict) else {}
        code = str(answer.get("sub_code") or answer.get("code") or answer.get("error") or answer.get("result"))
        message = answer.get("sub_msg") or answer.get("error_msg") or answer.get("msg") or ""
        raise PlatformError(f"kuaishou {call.method}: {message} ({code})", platform_code=code,
                            retryable=_common.sounds_retryable(code, message),
                            token_expired=code in TOKEN_EXPIRED_CODES)

    def order_list_call(self, creds: Credentials, *, updated_from: datetime, updated_to: datetime,
                        page: int = 1, cursor: str | None = None, page_size: int = 50) -> Call:
        _common.check_window(updated_from, updated_to, self.max_list_window, self.channel)
        if cursor is None and page > 1:
            raise ValueError("kuaishou pages by cursor: pass cursor= from the previous OrderPage.next_cursor")
        return Call("open.order.cursor.list", {
            "orderViewStatus": 1, "queryType": 2, "sort": 2, "pageSize": min(page_size, MAX_PAGE_SIZE),
            "beginTime": to_epoch(updated_from, ms=True), "endTime": to_epoch(updated_to, ms=True),
            "cursor": cursor or "",
        })

    def parse_order_list(self, data: dict[str, Any], *, page: int, page_size: int) -> OrderPage:
        cursor = data.get("cursor") or END_CURSOR
        more = cursor != END_CURSOR
        return OrderPage(orders=data.get("orderList") or [], has_more=more, next_cursor=cursor if more else None)

    def order_detail_call(self, creds: Credentials, platform_order_id: str) -> Call:
        return Call("open.order.detail", {"oid": id_value(platform_order_id)})

    def parse_order_detail(self, data: dict[str, Any]) -> dict[str, Any]:
        _common.pick(data, "orderBaseInfo.oid")
        return data

    def ship_call(self, creds: Credentials, *, platform_order_id: str, waybill_no: str, carrier_code: str,
                  lines: list[dict[str, Any]]) -> Call:
        if not carrier_code.isdigit():
            raise ValueError(f"kuaishou expressCode is numeric, not {carrier_code!r}")
        return Call("open.seller.order.goods.deliver", {"orderId": id_value(platform_order_id),
                                                        "expressNo": waybill_no, "expressCode": int(carrier_code)})

    def stock_call(self, creds: Credentials, *, platform_sku_id: str, quantity: int,
                   platform_product_id: str | None = None, current: int | None = None) -> Call:
        if platform_product_id is None or current is None:
            raise ValueError("kuaishou changes stock by a delta: pass platform_product_id and current=")
        change = quantity - current
        if change == 0:
            raise ValueError("kuaishou stock is already at that level")
        return Call("open.item.sku.stock.update", {"kwaiItemId": id_value(platform_product_id),
                                                   "skuId": id_value(platform_sku_id),
                                                   "skuChangeStock": abs(change), "changeType": 1 if change > 0 else 2})

    def stock_query_call(self, creds: Credentials, *, platform_sku_id: str,
                         platform_product_id: str | None = None) -> Call | None:
        if platform_product_id is None:
            raise ValueError("kuaishou reads stock by item: pass platform_product_id")
        return Call("open.item.get", {"kwaiItemId": id_value(platform_product_id)})

    def parse_stock_query(self, data: dict[str, Any], *, platform_sku_id: str) -> int:
        for i, sku in enumerate(_common.pick(data, "skuList")):
            if str(sku.get("kwaiSkuId") or sku.get("skuId")) == platform_sku_id:
                stock = _common.pick(sku, "skuStock")
                if isinstance(stock, bool) or not str(stock).isdigit():
                    raise MappingError(f"skuList.{i}.skuStock is not a stock level: {stock!r}",
                                       details={"field": f"skuList.{i}.skuStock"})
                return int(stock)
        raise MappingError(f"kuaishou item has no sku {platform_sku_id}", details={"field": "skuList"})

    def token_refresh_call(self, creds: Credentials) -> Call | None:
        if not creds.refresh_token:
            return None
        return Call(REFRESH_PATH, {"grant_type": "refresh_token", "refresh_token": creds.refresh_token})

    def parse_token(self, data: dict[str, Any], *, now: datetime) -> Token:
        return _common.lifetime_token(self.channel, data, now=now, refresh_expires_in="refresh_token_expires_in")

    def decrypt_call(self, creds: Credentials, items: list[tuple[str, Mapping[str, str]]]) -> Call | None:
        return _common.cipher_call(DECRYPT_METHOD, items, limit=MAX_CIPHERS, channel=self.channel,
                                   list_key="batchDecryptList", order_key="bizId", cipher_key="encryptedData",
                                   order_id=id_value)

    def parse_decrypt(self, data: dict[str, Any], *,
                      items: list[tuple[str, Mapping[str, str]]]) -> dict[str, dict[str, str]]:
        return _common.decrypted_by_cipher(
            items, data.get("batchDecryptResultList") or [], order_key="bizId", cipher_key="encryptedData",
            clear=lambda r: r.get("decryptedData") if str(r.get("errorCode")) == str(DECRYPTED) else None,
            code_key="errorCode", message_key="errorMsg")

    # push side

    def push_route(self, request: Incoming) -> PushRoute:
        return PushRoute()  # the body is ciphertext: nothing is readable before the secret is chosen

    def open_push(self, creds: Credentials, request: Incoming, *, now: datetime) -> list[PushNotice]:
        try:
            message = json.loads(signing.decrypt_message(request.body, _secret(creds, "message_secret")))
        except ValueError as exc:
            raise BadSignature("kuaishou push does not decrypt with our message secret", details=str(exc)) from None
        if not isinstance(message, dict) or message.get("appKey") != creds.app_key:
            raise BadSignature("kuaishou push for another app")
        if message.get("test"):
            return []
        event = _common.pick(message, "event")
        info = message.get("info")
        info = json.loads(info) if isinstance(info, str) and info else (info or {})
        if not isinstance(info, dict):
            raise MappingError("kuaishou push info is not an object", details={"field": "info"})
        order_id = info.get("oid") or info.get("orderId") or (message.get("bizId") if "order" in event else None)
        if not order_id:
            return []  # item and other non-order events
        when = message.get("updateTime") or message.get("createTime")
        return [PushNotice(
            platform_order_id=str(order_id),
            kind="refund" if event.startswith("kwaishop_aftersales") else PUSH_KINDS.get(event, "other"),
            platform_shop_id=str(info.get("sellerId") or message.get("userId") or "") or None,
            occurred_at=from_epoch(when, "updateTime", ms=True) if when else None,
            raw=message | {"info": info},
        )]

    def push_answer(self, ok: bool) -> PushAnswer:
        return PushAnswer(200, b'{"result":1}') if ok else PushAnswer(500, b'{"result":0}')

    # server side (the simulator)

    def check_request(self, creds: Credentials, request: Incoming, *, now: datetime) -> Call:
        fields = _common.request_params(request)
        path = "/" + request.path.strip("/")
        if path in OAUTH_GRANTS:
            return _common.oauth_call(creds, path, fields, app_field="app_id", grant=OAUTH_GRANTS[path])
        method = fields.get("method") or ""
        if fields.get("appkey") != creds.app_key:
            raise BadSignature("unknown appkey", details={"appkey": fields.get("appkey")})
        if not method or _common.dotted_path(method) != "/" + request.path.strip("/"):
            raise BadSignature("method does not match the path", details={"method": method, "path": request.path})
        token = fields.get("access_token") or ""
        if not token or (creds.access_token and not _common.sign_matches(token, creds.access_token,
                                                                         hex_digest=False)):
            raise BadSignature("missing or unknown access_token")
        timestamp = fields.get("timestamp") or ""
        _common.check_fresh(from_epoch(timestamp, "timestamp", ms=True) if timestamp.isdigit() else None, now,
                            timestamp)
        sign_method = fields.get("signMethod") or "MD5"
        if sign_method not in signing.SIGN_METHODS:
            raise BadSignature("unknown signMethod", details={"signMethod": sign_method})
        system = {"access_token": token, "app_key": fields["appkey"], "method": method,
                  "param": fields.get("param") or "{}", "timestamp": timestamp,
                  "version": fields.get("version") or VERSION}
        secret = _secret(creds, "sign_secret")
        expected = [signing.request_sign(sign_secret=secret, sign_method=sign_method, **system)]
        if sign_method == "MD5":
            expected.append(signing.md5_sign_secret_appended(sign_secret=secret, **system))
        if not _common.sign_matches(fields.get("sign"), *expected, hex_digest=False):
            raise BadSignature("sign does not match")
        try:
            params = json.loads(system["param"])
        except ValueError:
            raise BadSignature("param is not JSON") from None
        return Call(method, params if isinstance(params, dict) else {}, access_token=token)

    def read_call(self, call: Call) -> ServedCall:
        p = call.params
        if call.method == "/oauth2/access_token":
            return ServedCall("token")
        if call.method == REFRESH_PATH:
            return ServedCall("token_refresh", refresh_token=str(p.get("refresh_token") or ""))
        if call.method == DECRYPT_METHOD:
            return ServedCall("decrypt", decrypt_items=tuple((str(i["bizId"]), str(i["encryptedData"]))
                                                             for i in p["batchDecryptList"]))
        if call.method == "open.order.cursor.list":
            return ServedCall("order_list", updated_from=from_epoch(p["beginTime"], "beginTime", ms=True),
                              updated_to=from_epoch(p["endTime"], "endTime", ms=True),
                              page_size=int(p.get("pageSize", 10)), cursor=p.get("cursor") or None)
        if call.method == "open.order.detail":
            return ServedCall("order_detail", platform_order_id=str(p["oid"]))
        if call.method == "open.seller.order.goods.deliver":
            return ServedCall("ship", platform_order_id=str(p["orderId"]), waybill_no=str(p["expressNo"]),
                              carrier_code=str(p["expressCode"]))
        if call.method == "open.item.sku.stock.update":
            change = int(p["skuChangeStock"])
            return ServedCall("stock", platform_sku_id=str(p["skuId"]), platform_product_id=str(p["kwaiItemId"]),
                              quantity=change if int(p.get("changeType", 1)) == 1 else -change)
        if call.method == "open.item.get":
            return ServedCall("stock_query", platform_product_id=str(p["kwaiItemId"]))
        return ServedCall("other")

    def order_list_data(self, orders: list[dict[str, Any]], *, page: int, page_size: int, total: int,
                        next_cursor: str | None) -> dict[str, Any]:
        return {"cursor": next_cursor or END_CURSOR, "pageSize": page_size, "orderList": orders}

    def order_detail_data(self, order: dict[str, Any]) -> dict[str, Any]:
        return order

    def stock_query_data(self, *, platform_sku_id: str, quantity: int) -> dict[str, Any]:
        return {"skuList": [{"kwaiSkuId": id_value(platform_sku_id), "skuStock": quantity}]}

    def token_data(self, token: Token, *, now: datetime) -> dict[str, Any]:
        return {"access_token": token.access_token, "refresh_token": token.refresh_token or "",
                "expires_in": _common.seconds_left(token.expires_at, now),
                "refresh_token_expires_in": _common.seconds_left(token.refresh_expires_at, now), "open_id": "",
                "scopes": []}

    def decrypt_data(self, results: list[Decrypted]) -> dict[str, Any]:
        return {"batchDecryptResultList": [{
            "bizId": id_value(r.platform_order_id), "encryptedData": r.ciphertext or "",
            "decryptedData": _common.one_field(r), "errorCode": DECRYPTED if r.error is None else id_value(r.error[0]),
            "errorMsg": "" if r.error is None else r.error[1]} for r in results]}

    def envelope(self, call: Call, data: dict[str, Any] | None, *, error: tuple[str, str] | None = None) -> bytes:
        if call.method in OAUTH_GRANTS:
            return compact_json(_oauth_answer(data, error)).encode()
        if error is None:
            answer = {"result": 1, "code": "0", "msg": "success", "sub_code": "", "sub_msg": "", "error_msg": "",
                      "data": data or {}}
        else:
            code, message = error
            numeric = code.lstrip("-").isdigit()
            answer = {"result": int(code) if numeric else 0, "code": code, "msg": message,
                      "sub_code": "" if numeric else code, "sub_msg": message, "error_msg": message, "data": data}
        return compact_json(answer).encode()

    def sign_push(self, creds: Credentials, notices: list[PushNotice], *, url: str, now: datetime) -> SignedRequest:
        """One 快手 message (the platform pushes one per request), encrypted with the message secret."""
        if len(notices) != 1:
            raise ValueError("kuaishou pushes one message per request")
        notice = notices[0]
        event = notice.raw.get("event") or _common.push_name(KIND_EVENTS, notice.kind, self.channel)
        order_id, shop_id = id_value(notice.platform_order_id), id_value(notice.platform_shop_id or "0")
        info = notice.raw.get("info") or {}
        info = (json.loads(info) if isinstance(info, str) else dict(info)) | {
            "orderId" if event.startswith("kwaishop_aftersales") else "oid": order_id, "sellerId": shop_id}
        stamp = to_epoch(notice.occurred_at or now, ms=True)
        info_text = compact_json(info)
        digest = hashlib.sha1(f"{event}:{info_text}:{stamp}".encode()).hexdigest()
        message = {"eventId": digest[:20], "msgId": digest[20:40], "bizId": order_id, "userId": shop_id,
                   "openId": "", "appKey": creds.app_key, "event": event, "info": info_text, "status": 2,
                   "createTime": stamp, "updateTime": stamp, "operator": None, "test": bool(notice.raw.get("test"))}
        body = signing.encrypt_message(compact_json(message).encode(), _secret(creds, "message_secret"))
        return SignedRequest("POST", url, headers={"content-type": "text/plain; charset=utf-8"}, body=body)

    def from_canonical(self, order: dict[str, Any], creds: Credentials) -> dict[str, Any]:
        return mapping.from_canonical(order, seller_id=creds.shop_id)


def _secret(creds: Credentials, name: str) -> str:
    return _common.extra_secret(creds, name, "kuaishou")


def _oauth_answer(data: dict[str, Any] | None, error: tuple[str, str] | None) -> dict[str, Any]:
    """The flat OAuth answer: `result` 1 and the token_data, or `result` 0 with `error` and `error_msg`."""
    if error is not None:
        return {"result": 0, "error": error[0], "error_msg": error[1]}
    return {"result": 1, **(data or {})}
