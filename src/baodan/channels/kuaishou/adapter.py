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
- Paging: 快手 pages by cursor only. `order_list_call(page=1)` (or `page<=1`) starts with cursor ""; later
  pages need the keyword `cursor=` from the previous `CursorPage.cursor` (a later page without it raises
  ValueError). `cursor == "nomore"` ends the list. The update-time window must be ≤ 7 days (else ValueError).
- Push: the body is Base64 AES-CBC ciphertext, so `verify_push` can only check that it decrypts to a JSON
  message whose `appKey` is ours (AES-CBC has no MAC: this is the platform's only proof). Because
  `parse_push(request)` receives no credentials, it reads a plaintext request: call `open_push(creds,
  request)` first, which verifies and returns the request with the decrypted body. Heartbeat/test messages
  (`test: true`) give no notice. Reply `{"result":1}` (unverified); failure answers HTTP 500.
  `sign_push()` sends one message per POST (more than one notice raises ValueError).
- Status: 50 已签收 and 70 订单成功 are both `completed`; 0 (未知) is unknown. A non-unpaid order whose
  successful refunds (status 60) add up to at least totalFee − expressFee is `refunded`.
- Amounts: `totalFee`/`expressFee` are read as fen like `price`/`discountFee`; `price` is the unit price;
  `discountFee` is order-level (no line discount); `paid_total_fen = totalFee`.
- Times: every order time is unix milliseconds (0 = not set).
- Line: the one item is one line with `platform_line_id` = the order id; `skuNick` is the merchant code
  (sku_code), `skuId` the platform SKU id. No live room id and no seller memo (orderNote undocumented).
- Receiver: 快手 gives masked (`desensitise*`) and encrypted values; masked ones are kept, else the
  ciphertext when it fits the canonical field length (phone ≤ 32, name ≤ 100, address ≤ 300).
- Ship: `open.seller.order.goods.deliver` for the whole order (`expressCode` must be 快手's numeric code);
  lines are ignored (one item per order).
- Stock: 快手 only changes stock by a delta (`open.item.sku.stock.update`), and needs the item id. So
  `stock_call(quantity=…)` needs `platform_product_id` and the keyword `current=` (the platform's stock now)
  to send the difference; without them it raises ValueError. An unchanged level also raises.
- Envelope: success is `{"result":1,"code":"0","msg":"success",…,"data":…}`; an error puts a numeric code in
  `result`/`code` (else `result` 0 and the code in `code` and `sub_code`). Retryable: HTTP 429/5xx and codes or
  messages that speak of a limit or a busy system (no code list is documented).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

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
from baodan.channels.kuaishou import mapping, signing

HOST = "https://openapi.kwaixiaodian.com"
POST_METHODS = frozenset({"open.seller.order.goods.deliver", "open.item.sku.stock.update",
                          "open.order.decrypt.batch", "open.seller.order.goods.logistics.append",
                          "open.seller.order.logistics.update", "open.order.goods.split.deliver"})
VERSION = "1"
END_CURSOR = "nomore"
MAX_PAGE_SIZE = 50
MAX_WINDOW = timedelta(days=7)
TIMESTAMP_TOLERANCE = timedelta(minutes=10)

PUSH_KINDS = {
    "kwaishop_order_addOrder": "created",
    "kwaishop_order_paySuccess": "paid",
    "kwaishop_order_delivering": "shipped",
    "kwaishop_order_deliverySuccess": "completed",
    "kwaishop_order_orderSuccess": "completed",
    "kwaishop_order_orderFail": "cancelled",
    "kwaishop_order_addressUpdateAudit": "address_changed",
}


class KuaishouAdapter:
    channel = "kuaishou"
    calls_per_second = 5.0

    # client side

    def sign(self, creds: Credentials, call: Call, *, base_url: str, now: datetime) -> SignedRequest:
        if not creds.access_token:
            raise ValueError(f"kuaishou {call.method} needs the shop's access_token")
        system = {"access_token": creds.access_token, "app_key": creds.app_key, "method": call.method,
                  "param": signing.param_string(call.params), "timestamp": str(to_epoch(now, ms=True)),
                  "version": VERSION}
        sign = signing.request_sign(sign_secret=_secret(creds, "sign_secret"), **system)
        fields = {"appkey": creds.app_key, "method": call.method, "access_token": creds.access_token,
                  "version": VERSION, "signMethod": "HMAC_SHA256", "timestamp": system["timestamp"],
                  "param": system["param"], "sign": sign}
        url = base_url.rstrip("/") + method_path(call.method)
        if call.method in POST_METHODS:
            return SignedRequest("POST", url, headers={"content-type": "application/x-www-form-urlencoded"},
                                 body=urlencode(fields).encode())
        return SignedRequest("GET", url, query=fields)

    def read_response(self, call: Call, status: int, body: bytes) -> dict[str, Any]:
        if status == 429 or status >= 500:
            raise PlatformError(f"kuaishou {call.method}: HTTP {status}", platform_code=str(status), retryable=True)
        try:
            answer = json.loads(body)
        except ValueError:
            raise PlatformError(f"kuaishou {call.method}: HTTP {status}, not JSON",
                                platform_code=str(status)) from None
        if not isinstance(answer, dict):
            raise PlatformError(f"kuaishou {call.method}: unexpected answer", platform_code=str(status))
        if str(answer.get("result")) == "1":
            data = answer.get("data")
            return data if isinstance(data, dict) else {}
        code = str(answer.get("sub_code") or answer.get("code") or answer.get("result"))
        message = answer.get("sub_msg") or answer.get("error_msg") or answer.get("msg") or ""
        raise PlatformError(f"kuaishou {call.method}: {message} ({code})", platform_code=code,
                            retryable=_common.sounds_retryable(code, message))

    def order_list_call(self, creds: Credentials, *, updated_from: datetime, updated_to: datetime,
                        page: int, page_size: int, cursor: str | None = None) -> Call:
        if updated_to - updated_from > MAX_WINDOW:
            raise ValueError("kuaishou lists orders over at most 7 days of update time")
        if cursor is None and page > 1:
            raise ValueError("kuaishou pages by cursor: pass cursor= from the previous CursorPage")
        return Call("open.order.cursor.list", {
            "orderViewStatus": 1, "queryType": 2, "sort": 2, "pageSize": min(page_size, MAX_PAGE_SIZE),
            "beginTime": to_epoch(updated_from, ms=True), "endTime": to_epoch(updated_to, ms=True),
            "cursor": cursor or "",
        })

    def parse_order_list(self, data: dict[str, Any]) -> CursorPage:
        cursor = data.get("cursor") or END_CURSOR
        return CursorPage(orders=data.get("orderList") or [], has_more=cursor != END_CURSOR, cursor=cursor)

    def order_detail_call(self, creds: Credentials, platform_order_id: str) -> Call:
        return Call("open.order.detail", {"oid": _number(platform_order_id)})

    def parse_order_detail(self, data: dict[str, Any]) -> dict[str, Any]:
        _common.pick(data, "orderBaseInfo.oid")
        return data

    def ship_call(self, creds: Credentials, *, platform_order_id: str, waybill_no: str, carrier_code: str,
                  lines: list[dict[str, Any]]) -> Call:
        if not carrier_code.isdigit():
            raise ValueError(f"kuaishou expressCode is numeric, not {carrier_code!r}")
        return Call("open.seller.order.goods.deliver", {"orderId": _number(platform_order_id),
                                                        "expressNo": waybill_no, "expressCode": int(carrier_code)})

    def stock_call(self, creds: Credentials, *, platform_sku_id: str, quantity: int,
                   platform_product_id: str | None = None, current: int | None = None) -> Call:
        if platform_product_id is None or current is None:
            raise ValueError("kuaishou changes stock by a delta: pass platform_product_id and current=")
        change = quantity - current
        if change == 0:
            raise ValueError("kuaishou stock is already at that level")
        return Call("open.item.sku.stock.update", {"kwaiItemId": _number(platform_product_id),
                                                   "skuId": _number(platform_sku_id),
                                                   "skuChangeStock": abs(change), "changeType": 1 if change > 0 else 2})

    # push side

    def open_push(self, creds: Credentials, request: Incoming) -> Incoming:
        """The push with its body decrypted, after checking it is ours; BadSignature when it is not."""
        try:
            plaintext = signing.decrypt_message(request.body, _secret(creds, "message_secret"))
            message = json.loads(plaintext)
        except ValueError as exc:
            raise BadSignature("kuaishou push does not decrypt with our message secret", details=str(exc)) from None
        if not isinstance(message, dict) or message.get("appKey") != creds.app_key:
            raise BadSignature("kuaishou push for another app")
        return replace(request, body=plaintext)

    def verify_push(self, creds: Credentials, request: Incoming) -> None:
        self.open_push(creds, request)

    def parse_push(self, request: Incoming) -> list[PushNotice]:
        """Reads an opened (plaintext) push; see open_push."""
        if not request.body.lstrip().startswith(b"{"):
            raise ValueError("kuaishou push is still encrypted: parse the request open_push(creds, request) returns")
        message = json.loads(request.body)
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

    # mapping

    def to_canonical(self, order: dict[str, Any], *, shop_code: str) -> dict[str, Any]:
        return mapping.to_canonical(order, shop_code=shop_code)

    # server side (the simulator)

    def check_request(self, creds: Credentials, request: Incoming, *, now: datetime) -> Call:
        fields = dict(request.query)
        if request.http_method.upper() == "POST" and request.body:
            fields |= dict(parse_qsl(request.body.decode(), keep_blank_values=True))
        method = fields.get("method") or ""
        if fields.get("appkey") != creds.app_key:
            raise BadSignature("unknown appkey", details={"appkey": fields.get("appkey")})
        if not method or method_path(method) != "/" + request.path.strip("/"):
            raise BadSignature("method does not match the path", details={"method": method, "path": request.path})
        token = fields.get("access_token") or ""
        if not token or (creds.access_token and not hmac.compare_digest(token, creds.access_token)):
            raise BadSignature("missing or unknown access_token")
        timestamp = fields.get("timestamp") or ""
        if not timestamp.isdigit() or abs(from_epoch(timestamp, "timestamp", ms=True) - now) > TIMESTAMP_TOLERANCE:
            raise BadSignature("timestamp missing, malformed or too far from now", details={"timestamp": timestamp})
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
        sign = fields.get("sign") or ""
        if not any(hmac.compare_digest(sign, e) for e in expected):
            raise BadSignature("sign does not match")
        try:
            params = json.loads(system["param"])
        except ValueError:
            raise BadSignature("param is not JSON") from None
        return Call(method, params if isinstance(params, dict) else {})

    def sign_push(self, creds: Credentials, notices: list[dict[str, Any]], *, now: datetime) -> SignedRequest:
        """`notices` holds one 快手 message (`event`, `bizId`, `info` …); missing envelope fields are filled
        in, an `info` object is JSON-encoded, and the message is encrypted with the message secret."""
        if len(notices) != 1:
            raise ValueError("kuaishou pushes one message per request")
        notice = dict(notices[0])
        info = notice.get("info") or {}
        info_text = info if isinstance(info, str) else compact_json(info)
        stamp = to_epoch(now, ms=True)
        digest = hashlib.sha1(f"{notice.get('event')}:{info_text}:{stamp}".encode()).hexdigest()
        message = {"eventId": digest[:20], "msgId": digest[20:40], "bizId": 0, "userId": 0, "openId": "",
                   "appKey": creds.app_key, "event": "", "status": 2, "createTime": stamp, "updateTime": stamp,
                   "operator": None, "test": False} | notice | {"info": info_text}
        body = signing.encrypt_message(compact_json(message).encode(), _secret(creds, "message_secret"))
        return SignedRequest("POST", creds.extra.get("push_url", "/"),
                             headers={"content-type": "text/plain; charset=utf-8"}, body=body)

    def envelope(self, call: Call, data: dict[str, Any] | None, *, error: tuple[str, str] | None = None) -> bytes:
        if error is None:
            answer = {"result": 1, "code": "0", "msg": "success", "sub_code": "", "sub_msg": "", "error_msg": "",
                      "data": data or {}}
        else:
            code, message = error
            numeric = code.lstrip("-").isdigit()
            answer = {"result": int(code) if numeric else 0, "code": code, "msg": message,
                      "sub_code": "" if numeric else code, "sub_msg": message, "error_msg": message, "data": data}
        return compact_json(answer).encode()

    def from_canonical(self, order: dict[str, Any], creds: Credentials) -> dict[str, Any]:
        return mapping.from_canonical(order, seller_id=creds.shop_id)


def method_path(method: str) -> str:
    """`open.order.cursor.list` → `/open/order/cursor/list`."""
    return "/" + method.replace(".", "/")


def _secret(creds: Credentials, name: str) -> str:
    try:
        return creds.extra[name]
    except KeyError:
        raise ValueError(f"kuaishou credentials need extra[{name!r}]") from None


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.isdigit() else value
